//! Route tables, routes, internet gateways and network ACLs.
//!
//! What Reservoir models (Amazon VPC User Guide, "Route tables", "Internet gateways",
//! "Control subnet traffic with network ACLs"; EC2 API reference `CreateRoute`,
//! `AssociateRouteTable`, `ReplaceRouteTableAssociation`, `AttachInternetGateway`,
//! `DescribeNetworkAcls`):
//! * every VPC has a *main* route table, whose association (`association.main`) names no
//!   subnet; `ReplaceRouteTableAssociation` moves it to another table of the VPC with a
//!   new association id. A subnet without an explicit association uses the main table;
//!   a subnet has at most one explicit association, an edge gateway at most one too;
//! * the *local* routes (one per CIDR block of the VPC, IPv4 and IPv6) are not stored:
//!   they are derived from the VPC when a table is answered, so they follow the VPC's
//!   CIDR associations. They cannot be deleted or replaced, and another route to the
//!   same destination already exists;
//! * the other routes are stored with their target (an internet gateway attached to the
//!   VPC, a network interface of the VPC, or a gateway endpoint's `vpce-`); a route
//!   whose gateway is no longer attached to the VPC, or whose interface is gone, is
//!   `blackhole`;
//! * an internet gateway is attached to at most one VPC, and a VPC has at most one;
//! * the default network ACL of a VPC allows all traffic in both directions (rule 100)
//!   before the catch-all deny (`*`, rule number 32767), with IPv6 rules 101 and 32768
//!   when the VPC has an IPv6 block; it is associated with every subnet of the VPC.

use ipnet::{Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::cidr::{ipv4_text, parse_ipv4, parse_ipv6};
use crate::filter::{FilterSchema, Filterable};
use crate::network::{NetError, NetKind, NetLimit};
use crate::time::Timestamp;
use crate::vpc::{AssociationState, Vpc};

/// The target id of local routes.
pub const LOCAL: &str = "local";

/// The rule number of the catch-all deny (`*` in the console), and of its IPv6 twin.
pub const CATCH_ALL_RULE: i32 = 32767;
pub const CATCH_ALL_RULE_IPV6: i32 = 32768;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteTable {
    pub id: String,
    pub vpc_id: String,
    pub owner: AccountId,
    /// The VPC's main association, when this is the VPC's main table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub main_association: Option<String>,
    /// Explicit associations with subnets and edge gateways.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub associations: Vec<Association>,
    /// Routes other than the local ones, in the order they were made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    pub created: Timestamp,
}

/// An explicit association of a route table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Association {
    pub id: String,
    pub with: Associated,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Associated {
    Subnet(String),
    Gateway(String),
}

/// Where a route sends traffic to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Destination {
    Ipv4(Ipv4Net),
    Ipv6(Ipv6Net),
    PrefixList(String),
}

impl Destination {
    /// How `InvalidRoute.NotFound` names the destination.
    pub fn describe(&self) -> String {
        match self {
            Destination::Ipv4(n) => format!("destination-cidr-block {}", ipv4_text(n)),
            Destination::Ipv6(n) => format!("destination-ipv6-cidr-block {n}"),
            Destination::PrefixList(p) => format!("destination-prefix-list-id {p}"),
        }
    }

    /// The destination as `RouteAlreadyExists` names it.
    pub fn text(&self) -> String {
        match self {
            Destination::Ipv4(n) => ipv4_text(n),
            Destination::Ipv6(n) => n.to_string(),
            Destination::PrefixList(p) => p.clone(),
        }
    }
}

/// What a stored route sends traffic to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    /// An internet gateway (`igw-`), a gateway VPC endpoint (`vpce-`) or `local`.
    Gateway(String),
    NetworkInterface(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Origin {
    CreateRouteTable,
    CreateRoute,
    EnableVgwRoutePropagation,
}

impl Origin {
    pub fn as_str(self) -> &'static str {
        match self {
            Origin::CreateRouteTable => "CreateRouteTable",
            Origin::CreateRoute => "CreateRoute",
            Origin::EnableVgwRoutePropagation => "EnableVgwRoutePropagation",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteState {
    Active,
    Blackhole,
}

impl RouteState {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteState::Active => "active",
            RouteState::Blackhole => "blackhole",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Route {
    pub destination: Destination,
    pub target: Target,
    pub origin: Origin,
}

/// A route as answered: with its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteView {
    pub route: Route,
    pub state: RouteState,
}

/// The local routes of a VPC: one per associated CIDR block, IPv4 first.
pub fn local_routes(vpc: &Vpc) -> Vec<Route> {
    let local =
        |destination| Route { destination, target: Target::Gateway(LOCAL.into()), origin: Origin::CreateRouteTable };
    let v4 = vpc
        .cidr_associations
        .iter()
        .filter(|a| a.state == AssociationState::Associated)
        .map(|a| local(Destination::Ipv4(a.cidr)));
    let v6 = vpc
        .ipv6_associations
        .iter()
        .filter(|a| a.state == AssociationState::Associated)
        .map(|a| local(Destination::Ipv6(a.cidr)));
    v4.chain(v6).collect()
}

/// The destination of `CreateRoute` / `ReplaceRoute` / `DeleteRoute`: exactly one of the
/// three, a CIDR in canonical form.
pub fn parse_destination(
    cidr: Option<&str>,
    ipv6: Option<&str>,
    prefix_list: Option<&str>,
) -> Result<Destination, NetError> {
    match (cidr, ipv6, prefix_list) {
        (Some(c), None, None) => parse_ipv4(c).map(Destination::Ipv4).map_err(|_| {
            NetError::InvalidValue(format!(
                "Value ({c}) for parameter destinationCidrBlock is invalid. This is not a valid CIDR block."
            ))
        }),
        (None, Some(c), None) => parse_ipv6(c).map(Destination::Ipv6).map_err(|_| {
            NetError::InvalidValue(format!(
                "Value ({c}) for parameter destinationIpv6CidrBlock is invalid. This is not a valid IPv6 CIDR block."
            ))
        }),
        (None, None, Some(p)) => {
            crate::network::check_id(NetKind::PrefixList, p)?;
            Ok(Destination::PrefixList(p.to_string()))
        }
        (None, None, None) => Err(NetError::Missing(
            "The request must contain the parameter destinationCidrBlock, destinationIpv6CidrBlock or destinationPrefixListId"
                .into(),
        )),
        _ => Err(NetError::Combination(
            "Only one of destinationCidrBlock, destinationIpv6CidrBlock and destinationPrefixListId may be specified"
                .into(),
        )),
    }
}

fn local_error(table: &RouteTable, d: &Destination) -> NetError {
    NetError::InvalidValue(format!("cannot remove local route {} in route table {}", d.text(), table.id))
}

/// Adds a route: refused when a route to the destination exists (a local one included),
/// or when the table holds `quota` routes already.
pub fn add_route(table: &mut RouteTable, local: &[Route], route: Route, quota: Option<u32>) -> Result<(), NetError> {
    if local.iter().chain(&table.routes).any(|r| r.destination == route.destination) {
        return Err(NetError::RouteExists(format!(
            "The route identified by {} already exists.",
            route.destination.text()
        )));
    }
    if quota.is_some_and(|q| table.routes.len() >= q as usize) {
        return Err(NetError::LimitExceeded(
            NetLimit::Routes,
            format!("The maximum number of routes has been reached for route table {}.", table.id),
        ));
    }
    table.routes.push(route);
    Ok(())
}

fn not_found(table: &RouteTable, d: &Destination) -> NetError {
    NetError::RouteNotFound(format!("no route with {} in route table {}", d.describe(), table.id))
}

/// Replaces the target of the route to `destination` (a local route cannot be replaced).
pub fn replace_route(
    table: &mut RouteTable,
    local: &[Route],
    destination: &Destination,
    target: Target,
) -> Result<(), NetError> {
    if local.iter().any(|r| &r.destination == destination) {
        return Err(NetError::InvalidValue(format!(
            "cannot replace local route {} in route table {}",
            destination.text(),
            table.id
        )));
    }
    let table_id = table.id.clone();
    let route = table.routes.iter_mut().find(|r| &r.destination == destination).ok_or_else(|| {
        NetError::RouteNotFound(format!("no route with {} in route table {table_id}", destination.describe()))
    })?;
    route.target = target;
    route.origin = Origin::CreateRoute;
    Ok(())
}

/// Removes the route to `destination` (a local route cannot be removed).
pub fn delete_route(table: &mut RouteTable, local: &[Route], destination: &Destination) -> Result<Route, NetError> {
    if local.iter().any(|r| &r.destination == destination) {
        return Err(local_error(table, destination));
    }
    match table.routes.iter().position(|r| &r.destination == destination) {
        Some(i) => Ok(table.routes.remove(i)),
        None => Err(not_found(table, destination)),
    }
}

/// A route table with the VPC's local routes and every route's state: what
/// `DescribeRouteTables` answers and filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteTableView {
    pub table: RouteTable,
    pub routes: Vec<RouteView>,
}

/// One association as answered (the main one included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociationView<'a> {
    pub id: &'a str,
    pub main: bool,
    pub subnet_id: Option<&'a str>,
    pub gateway_id: Option<&'a str>,
}

impl RouteTable {
    /// Every association, the main one first.
    pub fn all_associations(&self) -> Vec<AssociationView<'_>> {
        let main = self.main_association.as_deref().map(|id| AssociationView {
            id,
            main: true,
            subnet_id: None,
            gateway_id: None,
        });
        let explicit = self.associations.iter().map(|a| AssociationView {
            id: &a.id,
            main: false,
            subnet_id: match &a.with {
                Associated::Subnet(s) => Some(s.as_str()),
                Associated::Gateway(_) => None,
            },
            gateway_id: match &a.with {
                Associated::Gateway(g) => Some(g.as_str()),
                Associated::Subnet(_) => None,
            },
        });
        main.into_iter().chain(explicit).collect()
    }

    /// Whether the table can be deleted: not the main table, no associations.
    pub fn check_deletable(&self) -> Result<(), NetError> {
        if self.main_association.is_some() || !self.associations.is_empty() {
            return Err(NetError::Dependency(format!(
                "The routeTable '{}' has dependencies and cannot be deleted.",
                self.id
            )));
        }
        Ok(())
    }
}

/// `DescribeRouteTables` filters (EC2 API reference).
pub const ROUTE_TABLE_FILTERS: FilterSchema = FilterSchema {
    names: &[
        "association.gateway-id",
        "association.route-table-association-id",
        "association.route-table-id",
        "association.subnet-id",
        "association.main",
        "owner-id",
        "route-table-id",
        "route.destination-cidr-block",
        "route.destination-ipv6-cidr-block",
        "route.destination-prefix-list-id",
        "route.egress-only-internet-gateway-id",
        "route.gateway-id",
        "route.instance-id",
        "route.nat-gateway-id",
        "route.transit-gateway-id",
        "route.origin",
        "route.state",
        "route.vpc-peering-connection-id",
        "vpc-id",
    ],
    aliases: &[],
    tags: true,
};

impl Filterable for RouteTableView {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        let t = &self.table;
        let assocs = || t.all_associations();
        let routes = || self.routes.iter().map(|r| &r.route);
        match name {
            "association.gateway-id" => assocs().iter().any(|a| a.gateway_id.is_some_and(&mut *m)),
            "association.route-table-association-id" => assocs().iter().any(|a| m(a.id)),
            "association.route-table-id" => !assocs().is_empty() && m(&t.id),
            "association.subnet-id" => assocs().iter().any(|a| a.subnet_id.is_some_and(&mut *m)),
            "association.main" => assocs().iter().any(|a| m(if a.main { "true" } else { "false" })),
            "owner-id" => m(t.owner.as_str()),
            "route-table-id" => m(&t.id),
            "vpc-id" => m(&t.vpc_id),
            "route.destination-cidr-block" => routes().any(|r| match &r.destination {
                Destination::Ipv4(n) => m(&ipv4_text(n)),
                _ => false,
            }),
            "route.destination-ipv6-cidr-block" => routes().any(|r| match &r.destination {
                Destination::Ipv6(n) => m(&n.to_string()),
                _ => false,
            }),
            "route.destination-prefix-list-id" => routes().any(|r| match &r.destination {
                Destination::PrefixList(p) => m(p),
                _ => false,
            }),
            "route.gateway-id" => routes().any(|r| match &r.target {
                Target::Gateway(g) => m(g),
                Target::NetworkInterface(_) => false,
            }),
            "route.origin" => routes().any(|r| m(r.origin.as_str())),
            "route.state" => self.routes.iter().any(|r| m(r.state.as_str())),
            // Targets Reservoir does not serve yet (NAT and transit gateways, peering
            // connections, egress-only gateways, instances): no route has one.
            _ => false,
        }
    }
}

// ----- Internet gateways -------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InternetGateway {
    pub id: String,
    pub owner: AccountId,
    /// The VPC it is attached to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_id: Option<String>,
    pub created: Timestamp,
}

impl InternetGateway {
    /// Attaches the gateway to `vpc_id`; `vpc_gateway` is the gateway the VPC has now.
    pub fn attach(&mut self, vpc_id: &str, vpc_gateway: Option<&str>) -> Result<(), NetError> {
        if let Some(other) = &self.vpc_id {
            return Err(NetError::AlreadyAssociated(format!(
                "resource {} is already attached to network {other}",
                self.id
            )));
        }
        if vpc_gateway.is_some() {
            return Err(NetError::InvalidValue(format!("Network {vpc_id} already has an internet gateway attached")));
        }
        self.vpc_id = Some(vpc_id.to_string());
        Ok(())
    }

    pub fn detach(&mut self, vpc_id: &str) -> Result<(), NetError> {
        if self.vpc_id.as_deref() != Some(vpc_id) {
            return Err(NetError::NotAttached(format!("resource {} is not attached to network {vpc_id}", self.id)));
        }
        self.vpc_id = None;
        Ok(())
    }

    pub fn check_deletable(&self) -> Result<(), NetError> {
        if self.vpc_id.is_some() {
            return Err(NetError::Dependency(format!(
                "The internetGateway '{}' has dependencies and cannot be deleted.",
                self.id
            )));
        }
        Ok(())
    }
}

/// `DescribeInternetGateways` filters (EC2 API reference).
pub const INTERNET_GATEWAY_FILTERS: FilterSchema = FilterSchema {
    names: &["attachment.state", "attachment.vpc-id", "internet-gateway-id", "owner-id"],
    aliases: &[],
    tags: true,
};

/// The state an attached gateway's attachment shows (`DescribeInternetGateways`).
pub const ATTACHED: &str = "available";

impl Filterable for InternetGateway {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "attachment.state" => self.vpc_id.is_some() && m(ATTACHED),
            "attachment.vpc-id" => self.vpc_id.as_deref().is_some_and(&mut *m),
            "internet-gateway-id" => m(&self.id),
            "owner-id" => m(self.owner.as_str()),
            _ => false,
        }
    }
}

// ----- Network ACLs ------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkAcl {
    pub id: String,
    pub vpc_id: String,
    pub owner: AccountId,
    pub is_default: bool,
    pub created: Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    Allow,
    Deny,
}

impl RuleAction {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleAction::Allow => "allow",
            RuleAction::Deny => "deny",
        }
    }
}

/// A network ACL rule (all protocols, `-1`, in the default ACL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AclEntry {
    pub rule_number: i32,
    pub protocol: &'static str,
    pub action: RuleAction,
    pub egress: bool,
    pub cidr: Option<&'static str>,
    pub ipv6_cidr: Option<&'static str>,
}

/// The default ACL's rules, in AWS's order: egress then ingress, by rule number.
pub fn default_entries(ipv6: bool) -> Vec<AclEntry> {
    let mut out = Vec::new();
    for egress in [true, false] {
        let rule = |rule_number, action, v6: bool| AclEntry {
            rule_number,
            protocol: "-1",
            action,
            egress,
            cidr: (!v6).then_some("0.0.0.0/0"),
            ipv6_cidr: v6.then_some("::/0"),
        };
        out.push(rule(100, RuleAction::Allow, false));
        if ipv6 {
            out.push(rule(101, RuleAction::Allow, true));
        }
        out.push(rule(CATCH_ALL_RULE, RuleAction::Deny, false));
        if ipv6 {
            out.push(rule(CATCH_ALL_RULE_IPV6, RuleAction::Deny, true));
        }
    }
    out
}

/// The id of a subnet's association with its VPC's default ACL: derived from the subnet
/// id (FNV-1a), so it is the same every time the ACL is answered.
pub fn acl_association_id(subnet_id: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in subnet_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("aclassoc-0{h:016x}")
}

/// A network ACL with its rules and subnet associations: what `DescribeNetworkAcls`
/// answers and filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkAclView {
    pub acl: NetworkAcl,
    pub entries: Vec<AclEntry>,
    /// (association id, subnet id).
    pub associations: Vec<(String, String)>,
}

/// `DescribeNetworkAcls` filters (EC2 API reference).
pub const NETWORK_ACL_FILTERS: FilterSchema = FilterSchema {
    names: &[
        "association.association-id",
        "association.network-acl-id",
        "association.subnet-id",
        "default",
        "entry.cidr",
        "entry.icmp.code",
        "entry.icmp.type",
        "entry.ipv6-cidr",
        "entry.port-range.from",
        "entry.port-range.to",
        "entry.protocol",
        "entry.rule-action",
        "entry.rule-number",
        "entry.egress",
        "network-acl-id",
        "owner-id",
        "vpc-id",
    ],
    aliases: &[],
    tags: true,
};

impl Filterable for NetworkAclView {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        let a = &self.acl;
        let bool_text = |b: bool| if b { "true" } else { "false" };
        match name {
            "association.association-id" => self.associations.iter().any(|(id, _)| m(id)),
            "association.network-acl-id" => !self.associations.is_empty() && m(&a.id),
            "association.subnet-id" => self.associations.iter().any(|(_, s)| m(s)),
            "default" => m(bool_text(a.is_default)),
            "entry.cidr" => self.entries.iter().any(|e| e.cidr.is_some_and(&mut *m)),
            "entry.ipv6-cidr" => self.entries.iter().any(|e| e.ipv6_cidr.is_some_and(&mut *m)),
            "entry.protocol" => self.entries.iter().any(|e| m(e.protocol)),
            "entry.rule-action" => self.entries.iter().any(|e| m(e.action.as_str())),
            "entry.rule-number" => self.entries.iter().any(|e| m(&e.rule_number.to_string())),
            "entry.egress" => self.entries.iter().any(|e| m(bool_text(e.egress))),
            "network-acl-id" => m(&a.id),
            "owner-id" => m(a.owner.as_str()),
            "vpc-id" => m(&a.vpc_id),
            // ICMP codes and port ranges: the default ACL's rules cover all protocols
            // and carry neither.
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{Filter, FilterSet};
    use crate::ids::{ResourceKind, SeededRandom};
    use crate::vpc::{self, NewVpc, Tenancy};

    fn vpc() -> Vpc {
        let mut rng = SeededRandom::new(3);
        let req = NewVpc { cidr: "10.0.0.0/16".parse().unwrap(), tenancy: Tenancy::Default };
        let mut v =
            vpc::create(&AccountId::default_account(), &req, "dopt-1", 0, None, Timestamp(0), &mut rng).unwrap();
        vpc::associate_ipv4(&mut v, "10.1.0.0/16".parse().unwrap(), None, &mut rng).unwrap();
        vpc::associate_ipv6(&mut v, "fd00::/56".parse().unwrap(), None, &mut rng).unwrap();
        v
    }

    fn table(v: &Vpc) -> RouteTable {
        RouteTable {
            id: "rtb-0123456789abcdef0".into(),
            vpc_id: v.id.clone(),
            owner: v.owner.clone(),
            main_association: Some("rtbassoc-0123456789abcdef0".into()),
            associations: vec![],
            routes: vec![],
            created: Timestamp(0),
        }
    }

    fn to(d: &str, igw: &str) -> Route {
        Route {
            destination: parse_destination(Some(d), None, None).unwrap(),
            target: Target::Gateway(igw.into()),
            origin: Origin::CreateRoute,
        }
    }

    #[test]
    fn local_routes_follow_the_vpc() {
        let v = vpc();
        let local = local_routes(&v);
        let texts: Vec<String> = local.iter().map(|r| r.destination.text()).collect();
        assert_eq!(texts, ["10.0.0.0/16", "10.1.0.0/16", "fd00::/56"]);
        assert!(local.iter().all(|r| r.target == Target::Gateway(LOCAL.into())));
    }

    #[test]
    fn routes_are_unique_by_destination_and_local_ones_are_fixed() {
        let v = vpc();
        let local = local_routes(&v);
        let mut t = table(&v);
        add_route(&mut t, &local, to("0.0.0.0/0", "igw-1"), None).unwrap();
        assert!(matches!(add_route(&mut t, &local, to("0.0.0.0/0", "igw-2"), None), Err(NetError::RouteExists(_))));
        assert!(matches!(add_route(&mut t, &local, to("10.0.0.0/16", "igw-2"), None), Err(NetError::RouteExists(_))));
        // Host bits are cleared: 10.1.2.3/16 is the local 10.1.0.0/16.
        assert!(matches!(add_route(&mut t, &local, to("10.1.2.3/16", "igw-2"), None), Err(NetError::RouteExists(_))));
        let d = parse_destination(Some("10.0.0.0/16"), None, None).unwrap();
        assert!(matches!(delete_route(&mut t, &local, &d), Err(NetError::InvalidValue(_))));
        assert!(matches!(
            replace_route(&mut t, &local, &d, Target::Gateway("igw-3".into())),
            Err(NetError::InvalidValue(_))
        ));
        let other = parse_destination(Some("192.168.0.0/16"), None, None).unwrap();
        assert!(matches!(delete_route(&mut t, &local, &other), Err(NetError::RouteNotFound(_))));
        let dflt = parse_destination(Some("0.0.0.0/0"), None, None).unwrap();
        replace_route(&mut t, &local, &dflt, Target::NetworkInterface("eni-1".into())).unwrap();
        assert_eq!(t.routes[0].target, Target::NetworkInterface("eni-1".into()));
        delete_route(&mut t, &local, &dflt).unwrap();
        assert!(t.routes.is_empty());
    }

    #[test]
    fn route_quota() {
        let v = vpc();
        let mut t = table(&v);
        add_route(&mut t, &[], to("1.0.0.0/8", "igw-1"), Some(1)).unwrap();
        assert!(matches!(
            add_route(&mut t, &[], to("2.0.0.0/8", "igw-1"), Some(1)),
            Err(NetError::LimitExceeded(NetLimit::Routes, _))
        ));
        add_route(&mut t, &[], to("2.0.0.0/8", "igw-1"), None).unwrap();
    }

    #[test]
    fn destinations() {
        assert!(matches!(parse_destination(None, None, None), Err(NetError::Missing(_))));
        assert!(matches!(parse_destination(Some("0.0.0.0/0"), Some("::/0"), None), Err(NetError::Combination(_))));
        assert!(matches!(parse_destination(Some("banana"), None, None), Err(NetError::InvalidValue(_))));
        assert!(matches!(parse_destination(None, Some("10.0.0.0/8"), None), Err(NetError::InvalidValue(_))));
        assert!(matches!(parse_destination(None, None, Some("pl-zz")), Err(NetError::Malformed(..))));
        assert_eq!(
            parse_destination(None, Some("2001:db8::1/32"), None).unwrap(),
            Destination::Ipv6("2001:db8::/32".parse().unwrap())
        );
    }

    #[test]
    fn gateways_attach_once() {
        let mut g = InternetGateway {
            id: "igw-1".into(),
            owner: AccountId::default_account(),
            vpc_id: None,
            created: Timestamp(0),
        };
        assert!(matches!(g.attach("vpc-1", Some("igw-2")), Err(NetError::InvalidValue(_))));
        g.attach("vpc-1", None).unwrap();
        assert!(matches!(g.attach("vpc-2", None), Err(NetError::AlreadyAssociated(_))));
        assert!(matches!(g.check_deletable(), Err(NetError::Dependency(_))));
        assert!(matches!(g.detach("vpc-2"), Err(NetError::NotAttached(_))));
        g.detach("vpc-1").unwrap();
        g.check_deletable().unwrap();
    }

    #[test]
    fn default_acl_rules() {
        let e = default_entries(false);
        let numbers: Vec<(bool, i32)> = e.iter().map(|e| (e.egress, e.rule_number)).collect();
        assert_eq!(numbers, [(true, 100), (true, 32767), (false, 100), (false, 32767)]);
        assert_eq!(default_entries(true).len(), 8);
        let id = acl_association_id("subnet-0123456789abcdef0");
        assert!(ResourceKind::NetworkAclAssociation.is_well_formed(&id), "{id}");
        assert_eq!(id, acl_association_id("subnet-0123456789abcdef0"));
        assert_ne!(id, acl_association_id("subnet-0123456789abcdef1"));
    }

    #[test]
    fn table_filters() {
        let v = vpc();
        let mut t = table(&v);
        t.associations.push(Association { id: "rtbassoc-1".into(), with: Associated::Subnet("subnet-1".into()) });
        add_route(&mut t, &[], to("0.0.0.0/0", "igw-1"), None).unwrap();
        let mut routes: Vec<RouteView> =
            local_routes(&v).into_iter().map(|route| RouteView { route, state: RouteState::Active }).collect();
        routes.push(RouteView { route: t.routes[0].clone(), state: RouteState::Blackhole });
        let view = RouteTableView { table: t, routes };
        let set = |name: &str, v: &str| FilterSet::compile(&[Filter::new(name, &[v])], &ROUTE_TABLE_FILTERS).unwrap();
        assert!(set("association.main", "true").matches_untagged(&view));
        assert!(set("association.main", "false").matches_untagged(&view));
        assert!(set("association.subnet-id", "subnet-1").matches_untagged(&view));
        assert!(set("route.gateway-id", "local").matches_untagged(&view));
        assert!(set("route.destination-ipv6-cidr-block", "fd00::/56").matches_untagged(&view));
        assert!(set("route.state", "blackhole").matches_untagged(&view));
        assert!(set("route.origin", "CreateRouteTable").matches_untagged(&view));
        assert!(!set("route.nat-gateway-id", "*").matches_untagged(&view));
    }

    proptest::proptest! {
        /// Whatever sequence of creates, replaces and deletes runs, a table holds at
        /// most one route per destination, never one to a local destination, and
        /// exactly the routes a simple model predicts.
        #[test]
        fn one_route_per_destination(ops in proptest::collection::vec((0u8..3, 0usize..6, 0usize..3), 0..60)) {
            let v = vpc();
            let local = local_routes(&v);
            let dests = ["0.0.0.0/0", "10.0.0.0/16", "192.168.0.0/16", "10.1.0.0/16", "172.16.0.0/12", "10.0.0.0/24"];
            let mut t = table(&v);
            let mut model: std::collections::BTreeMap<usize, usize> = Default::default();
            for (op, d, g) in ops {
                let dest = parse_destination(Some(dests[d]), None, None).unwrap();
                let is_local = local.iter().any(|r| r.destination == dest);
                let target = Target::Gateway(format!("igw-{g}"));
                match op {
                    0 => {
                        let r = add_route(&mut t, &local, Route { destination: dest, target, origin: Origin::CreateRoute }, None);
                        proptest::prop_assert_eq!(r.is_ok(), !is_local && !model.contains_key(&d));
                        if r.is_ok() { model.insert(d, g); }
                    }
                    1 => {
                        let r = replace_route(&mut t, &local, &dest, target);
                        proptest::prop_assert_eq!(r.is_ok(), model.contains_key(&d));
                        if r.is_ok() { model.insert(d, g); }
                    }
                    _ => {
                        let r = delete_route(&mut t, &local, &dest);
                        proptest::prop_assert_eq!(r.is_ok(), model.remove(&d).is_some());
                    }
                }
                let mut seen = std::collections::HashSet::new();
                for r in &t.routes {
                    proptest::prop_assert!(seen.insert(r.destination.clone()), "duplicate destination");
                    proptest::prop_assert!(!local.iter().any(|l| l.destination == r.destination));
                }
                proptest::prop_assert_eq!(t.routes.len(), model.len());
            }
        }
    }
}
