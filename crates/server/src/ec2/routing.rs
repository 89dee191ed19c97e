//! Route tables, routes, internet gateways, network ACLs and DHCP options.
//!
//! Storage: route tables and network ACLs are children of their VPC; internet gateways
//! keep their attachment in their body. Uniqueness that matters is an alias, checked and
//! put in the same write transaction:
//! * `rtb-main`: VPC id → its main route table;
//! * `rtb-assoc`: association id (main, subnet or gateway) → route table;
//! * `rtb-subnet` / `rtb-gateway`: subnet or edge gateway id → its one association;
//! * `igw-vpc`: VPC id → the one internet gateway attached to it;
//! * `acl-default`: VPC id → its default network ACL.
//!
//! A VPC names its DHCP options set; the VPC is recorded as a reference to the set
//! (`refs`), so `DeleteDhcpOptions` asks one indexed question.

use std::collections::HashMap;

use reservoir_domain::account::Scope;
use reservoir_domain::cidr::ipv4_text;
use reservoir_domain::dhcp::{self, DhcpOptionSet, DhcpView};
use reservoir_domain::filter::{FilterSet, Filterable};
use reservoir_domain::ids::{OsRandom, ResourceKind};
use reservoir_domain::network::{NetError, NetKind, NetLimit, check_id};
use reservoir_domain::route::{
    self, Associated, Association, Destination, InternetGateway, NetworkAcl, NetworkAclView, Origin, Route, RouteState,
    RouteTable, RouteTableView, RouteView, Target,
};
use reservoir_domain::tags::Tag;
use reservoir_domain::time::Timestamp;
use reservoir_domain::vpc::{self, Vpc, VpcError};
use reservoir_store::{Entity, ReadTx, ReadTxExt, Reference, Tx, TxExt};
use reservoir_wire::ec2::codes;
use reservoir_wire::ec2_api as api;

use super::shared::{
    Call, Encoded, Page, filter_set, idempotent, page_size, put_tags, tag_specifications, tags_by_id, wire_tags,
};
use crate::error::{ApiError, ApiResult};

const MAIN: &str = "rtb-main";
const ASSOC: &str = "rtb-assoc";
const SUBNET: &str = "rtb-subnet";
const GATEWAY: &str = "rtb-gateway";
pub const IGW_OF_VPC: &str = "igw-vpc";
const DEFAULT_ACL: &str = "acl-default";

// ----- Functions other families call -------------------------------------------------

/// A new VPC's main route table (its local routes are derived from the VPC when
/// answered) and default network ACL; the VPC is recorded as a user of its DHCP options.
pub fn create_vpc_routing(tx: &mut dyn Tx, scope: &Scope, vpc: &Vpc, now: Timestamp) -> ApiResult<()> {
    let main = ResourceKind::RouteTableAssociation.new_id(&mut OsRandom);
    let table = RouteTable {
        id: ResourceKind::RouteTable.new_id(&mut OsRandom),
        vpc_id: vpc.id.clone(),
        owner: vpc.owner.clone(),
        main_association: Some(main.clone()),
        associations: Vec::new(),
        routes: Vec::new(),
        created: now,
    };
    tx.create(scope, &table)?;
    tx.put_alias(scope, MAIN, &vpc.id, &table.id)?;
    tx.put_alias(scope, ASSOC, &main, &table.id)?;
    let acl = NetworkAcl {
        id: ResourceKind::NetworkAcl.new_id(&mut OsRandom),
        vpc_id: vpc.id.clone(),
        owner: vpc.owner.clone(),
        is_default: true,
        created: now,
    };
    tx.create(scope, &acl)?;
    tx.put_alias(scope, DEFAULT_ACL, &vpc.id, &acl.id)?;
    if vpc.dhcp_options_id != dhcp::NO_OPTIONS {
        tx.put_reference(scope, &dhcp_reference(&vpc.dhcp_options_id, &vpc.id))?;
    }
    Ok(())
}

/// Whether the VPC has its main route table (VPCs stored by earlier versions may not).
pub fn has_main_table(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str) -> ApiResult<bool> {
    Ok(tx.get_alias(scope, MAIN, vpc_id)?.is_some())
}

/// The default VPC's internet gateway, attached, and `0.0.0.0/0` to it in the main table.
pub fn create_default_vpc_gateway(tx: &mut dyn Tx, scope: &Scope, vpc: &Vpc, now: Timestamp) -> ApiResult<()> {
    let igw = InternetGateway {
        id: ResourceKind::InternetGateway.new_id(&mut OsRandom),
        owner: vpc.owner.clone(),
        vpc_id: Some(vpc.id.clone()),
        created: now,
    };
    tx.create(scope, &igw)?;
    tx.put_alias(scope, IGW_OF_VPC, &vpc.id, &igw.id)?;
    let mut main = main_table(tx, scope, &vpc.id)?;
    let route = Route {
        destination: Destination::Ipv4("0.0.0.0/0".parse().expect("valid")),
        target: Target::Gateway(igw.id.clone()),
        origin: Origin::CreateRoute,
    };
    route::add_route(&mut main, &route::local_routes(vpc), route, None)?;
    tx.save(scope, &main)?;
    Ok(())
}

/// What keeps a VPC from being deleted, in this family: route tables other than the
/// main one, an attached internet gateway, network ACLs other than the default one.
pub fn vpc_routing_dependents(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str) -> ApiResult<u64> {
    let tables = tx.count_children(scope, ResourceKind::RouteTable.storage_name(), vpc_id)?;
    let main = u64::from(tx.get_alias(scope, MAIN, vpc_id)?.is_some());
    let acls = tx.count_children(scope, ResourceKind::NetworkAcl.storage_name(), vpc_id)?;
    let default_acl = u64::from(tx.get_alias(scope, DEFAULT_ACL, vpc_id)?.is_some());
    let igw = u64::from(tx.get_alias(scope, IGW_OF_VPC, vpc_id)?.is_some());
    Ok(tables.saturating_sub(main) + acls.saturating_sub(default_acl) + igw)
}

/// `DeleteVpc`: the main route table and the default network ACL go with the VPC, and
/// the VPC no longer uses its DHCP options.
pub fn remove_vpc_routing(tx: &mut dyn Tx, scope: &Scope, vpc_id: &str) -> ApiResult<()> {
    if let Some(table_id) = tx.get_alias(scope, MAIN, vpc_id)? {
        if let Some(table) = tx.load::<RouteTable>(scope, &table_id)? {
            for a in table.all_associations() {
                tx.delete_alias(scope, ASSOC, a.id)?;
                if let Some(s) = a.subnet_id {
                    tx.delete_alias(scope, SUBNET, s)?;
                }
                if let Some(g) = a.gateway_id {
                    tx.delete_alias(scope, GATEWAY, g)?;
                }
            }
            tx.remove::<RouteTable>(scope, &table_id)?;
        }
        tx.delete_alias(scope, MAIN, vpc_id)?;
    }
    if let Some(acl_id) = tx.get_alias(scope, DEFAULT_ACL, vpc_id)? {
        tx.remove::<NetworkAcl>(scope, &acl_id)?;
        tx.delete_alias(scope, DEFAULT_ACL, vpc_id)?;
    }
    match tx.load::<Vpc>(scope, vpc_id)? {
        Some(v) => {
            tx.delete_reference(scope, &v.dhcp_options_id, vpc_id)?;
        }
        None => {
            tx.delete_references_from(scope, vpc_id)?;
        }
    }
    Ok(())
}

/// `DeleteSubnet`: the subnet's explicit route-table association goes with it (its
/// network-ACL association is derived from the VPC's subnets, so it goes by itself).
pub fn forget_subnet(tx: &mut dyn Tx, scope: &Scope, subnet_id: &str) -> ApiResult<()> {
    let Some(assoc) = tx.get_alias(scope, SUBNET, subnet_id)? else { return Ok(()) };
    if let Some(table_id) = tx.get_alias(scope, ASSOC, &assoc)?
        && let Some(mut table) = tx.load::<RouteTable>(scope, &table_id)?
    {
        table.associations.retain(|a| a.id != assoc);
        tx.save(scope, &table)?;
    }
    tx.delete_alias(scope, ASSOC, &assoc)?;
    tx.delete_alias(scope, SUBNET, subnet_id)?;
    Ok(())
}

/// A gateway endpoint's route: `prefix_list_id` → `vpc_endpoint_id` in the table.
/// `RouteAlreadyExists` if the table has a route to that prefix list.
pub fn add_endpoint_route(
    tx: &mut dyn Tx,
    scope: &Scope,
    route_table_id: &str,
    prefix_list_id: &str,
    vpc_endpoint_id: &str,
) -> ApiResult<()> {
    let mut table = load_table(tx, scope, route_table_id)?;
    let route = Route {
        destination: Destination::PrefixList(prefix_list_id.to_string()),
        target: Target::Gateway(vpc_endpoint_id.to_string()),
        origin: Origin::CreateRoute,
    };
    route::add_route(&mut table, &[], route, None)?;
    tx.save(scope, &table)?;
    Ok(())
}

/// Removes a gateway endpoint's routes from the table (none left, or no table: nothing).
pub fn remove_endpoint_route(
    tx: &mut dyn Tx,
    scope: &Scope,
    route_table_id: &str,
    vpc_endpoint_id: &str,
) -> ApiResult<()> {
    if let Some(mut table) = tx.load::<RouteTable>(scope, route_table_id)? {
        let before = table.routes.len();
        table.routes.retain(|r| r.target != Target::Gateway(vpc_endpoint_id.to_string()));
        if table.routes.len() != before {
            tx.save(scope, &table)?;
        }
    }
    Ok(())
}

// ----- Loading -------------------------------------------------------------------------

fn dhcp_reference(dhcp_id: &str, vpc_id: &str) -> Reference {
    Reference { target: dhcp_id.to_string(), source: vpc_id.to_string(), kind: "vpc".into() }
}

fn load_vpc(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<Vpc> {
    vpc::check_id(id)?;
    Ok(tx.load::<Vpc>(scope, id)?.ok_or_else(|| VpcError::NotFound(vec![id.to_string()]))?)
}

fn load_table(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<RouteTable> {
    check_id(NetKind::RouteTable, id)?;
    Ok(tx.load::<RouteTable>(scope, id)?.ok_or_else(|| NetError::NotFound(NetKind::RouteTable, vec![id.into()]))?)
}

fn load_igw(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<InternetGateway> {
    check_id(NetKind::InternetGateway, id)?;
    Ok(tx
        .load::<InternetGateway>(scope, id)?
        .ok_or_else(|| NetError::NotFound(NetKind::InternetGateway, vec![id.into()]))?)
}

fn main_table(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str) -> ApiResult<RouteTable> {
    let id = tx
        .get_alias(scope, MAIN, vpc_id)?
        .ok_or_else(|| ApiError::Internal(format!("VPC {vpc_id} has no main route table")))?;
    tx.load::<RouteTable>(scope, &id)?.ok_or_else(|| ApiError::Internal(format!("main route table {id} is missing")))
}

/// The VPC of another family's resource (a subnet, a network interface), read from its
/// stored document: `None` if there is no such resource.
fn vpc_of(tx: &mut dyn ReadTx, scope: &Scope, kind: ResourceKind, id: &str) -> ApiResult<Option<String>> {
    let Some(rec) = tx.get(scope, kind.storage_name(), id)? else { return Ok(None) };
    let body: serde_json::Value = serde_json::from_str(&rec.body)
        .map_err(|e| ApiError::Internal(format!("{} {id}: {e}", kind.storage_name())))?;
    Ok(body.get("vpc_id").and_then(|v| v.as_str()).map(str::to_string))
}

fn different_networks(table: &RouteTable, what: &str, id: &str) -> ApiError {
    NetError::InvalidValue(format!("route table {} and {what} {id} belong to different networks", table.id)).into()
}

// ----- Views ---------------------------------------------------------------------------

/// A table with the VPC's local routes and the state of every route.
fn view_table(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    table: RouteTable,
    vpcs: &mut HashMap<String, Option<Vpc>>,
) -> ApiResult<RouteTableView> {
    if !vpcs.contains_key(&table.vpc_id) {
        let v = tx.load::<Vpc>(scope, &table.vpc_id)?;
        vpcs.insert(table.vpc_id.clone(), v);
    }
    let local = vpcs[&table.vpc_id].as_ref().map(route::local_routes).unwrap_or_default();
    let mut routes: Vec<RouteView> =
        local.into_iter().map(|route| RouteView { route, state: RouteState::Active }).collect();
    for r in &table.routes {
        let state = route_state(tx, scope, &table.vpc_id, &r.target)?;
        routes.push(RouteView { route: r.clone(), state });
    }
    Ok(RouteTableView { table, routes })
}

/// `blackhole` when the target is gone: a gateway no longer attached to the VPC, an
/// interface or endpoint deleted.
fn route_state(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str, target: &Target) -> ApiResult<RouteState> {
    let alive = match target {
        Target::Gateway(g) if g == route::LOCAL => true,
        Target::Gateway(g) if g.starts_with(ResourceKind::InternetGateway.prefix()) => {
            tx.load::<InternetGateway>(scope, g)?.is_some_and(|igw| igw.vpc_id.as_deref() == Some(vpc_id))
        }
        Target::Gateway(g) if g.starts_with(ResourceKind::VpcEndpoint.prefix()) => {
            tx.get(scope, ResourceKind::VpcEndpoint.storage_name(), g)?.is_some()
        }
        Target::Gateway(_) => true,
        Target::NetworkInterface(e) => tx.get(scope, ResourceKind::NetworkInterface.storage_name(), e)?.is_some(),
    };
    Ok(if alive { RouteState::Active } else { RouteState::Blackhole })
}

fn route_to_wire(r: RouteView) -> api::Route {
    let mut w = api::Route {
        origin: Some(match r.route.origin {
            Origin::CreateRouteTable => api::RouteOrigin::CreateRouteTable,
            Origin::CreateRoute => api::RouteOrigin::CreateRoute,
            Origin::EnableVgwRoutePropagation => api::RouteOrigin::EnableVgwRoutePropagation,
        }),
        state: Some(match r.state {
            RouteState::Active => api::RouteState::Active,
            RouteState::Blackhole => api::RouteState::Blackhole,
        }),
        ..Default::default()
    };
    match r.route.destination {
        Destination::Ipv4(n) => w.destination_cidr_block = Some(ipv4_text(&n)),
        Destination::Ipv6(n) => w.destination_ipv6_cidr_block = Some(n.to_string()),
        Destination::PrefixList(p) => w.destination_prefix_list_id = Some(p),
    }
    match r.route.target {
        Target::Gateway(g) => w.gateway_id = Some(g),
        Target::NetworkInterface(e) => w.network_interface_id = Some(e),
    }
    w
}

fn association_state() -> Option<api::RouteTableAssociationState> {
    Some(api::RouteTableAssociationState {
        state: Some(api::RouteTableAssociationStateCode::Associated),
        status_message: None,
    })
}

fn table_to_wire(v: RouteTableView, tags: Vec<Tag>) -> api::RouteTable {
    let t = &v.table;
    let associations = t
        .all_associations()
        .into_iter()
        .map(|a| api::RouteTableAssociation {
            main: Some(a.main),
            route_table_association_id: Some(a.id.to_string()),
            route_table_id: Some(t.id.clone()),
            subnet_id: a.subnet_id.map(str::to_string),
            gateway_id: a.gateway_id.map(str::to_string),
            public_ipv4_pool: None,
            association_state: association_state(),
        })
        .collect();
    api::RouteTable {
        associations: Some(associations),
        propagating_vgws: Some(Vec::new()),
        route_table_id: Some(t.id.clone()),
        tags: wire_tags(tags),
        vpc_id: Some(t.vpc_id.clone()),
        owner_id: Some(t.owner.as_str().to_string()),
        routes: Some(v.routes.into_iter().map(route_to_wire).collect()),
    }
}

fn igw_to_wire(g: InternetGateway, tags: Vec<Tag>) -> api::InternetGateway {
    api::InternetGateway {
        attachments: Some(
            g.vpc_id
                .map(|v| api::InternetGatewayAttachment {
                    state: Some(api::AttachmentStatus::Unknown(route::ATTACHED.into())),
                    vpc_id: Some(v),
                })
                .into_iter()
                .collect(),
        ),
        internet_gateway_id: Some(g.id),
        owner_id: Some(g.owner.into_string()),
        tags: wire_tags(tags),
    }
}

fn acl_to_wire(v: NetworkAclView, tags: Vec<Tag>) -> api::NetworkAcl {
    let a = v.acl;
    api::NetworkAcl {
        associations: Some(
            v.associations
                .into_iter()
                .map(|(id, subnet)| api::NetworkAclAssociation {
                    network_acl_association_id: Some(id),
                    network_acl_id: Some(a.id.clone()),
                    subnet_id: Some(subnet),
                })
                .collect(),
        ),
        entries: Some(
            v.entries
                .into_iter()
                .map(|e| api::NetworkAclEntry {
                    cidr_block: e.cidr.map(str::to_string),
                    egress: Some(e.egress),
                    icmp_type_code: None,
                    ipv6_cidr_block: e.ipv6_cidr.map(str::to_string),
                    port_range: None,
                    protocol: Some(e.protocol.to_string()),
                    rule_action: Some(match e.action {
                        route::RuleAction::Allow => api::RuleAction::Allow,
                        route::RuleAction::Deny => api::RuleAction::Deny,
                    }),
                    rule_number: Some(e.rule_number),
                })
                .collect(),
        ),
        is_default: Some(a.is_default),
        network_acl_id: Some(a.id),
        tags: wire_tags(tags),
        vpc_id: Some(a.vpc_id),
        owner_id: Some(a.owner.into_string()),
    }
}

fn dhcp_to_wire(v: DhcpView, tags: Vec<Tag>) -> api::DhcpOptions {
    api::DhcpOptions {
        owner_id: Some(v.owner),
        tags: wire_tags(tags),
        dhcp_options_id: Some(v.id),
        dhcp_configurations: Some(
            v.configurations
                .into_iter()
                .map(|c| api::DhcpConfiguration {
                    key: Some(c.key),
                    values: Some(c.values.into_iter().map(|v| api::AttributeValue { value: Some(v) }).collect()),
                })
                .collect(),
        ),
    }
}

fn view_dhcp(scope: &Scope, d: DhcpOptionSet) -> DhcpView {
    DhcpView { configurations: d.effective(&scope.region), id: d.id, owner: scope.account.as_str().to_string() }
}

/// A network ACL with its rules (IPv6 ones when the VPC has an IPv6 block) and one
/// association per subnet of the VPC (the default ACL's; other ACLs are not served).
fn view_acl(tx: &mut dyn ReadTx, scope: &Scope, acl: NetworkAcl) -> ApiResult<NetworkAclView> {
    let ipv6 = tx.load::<Vpc>(scope, &acl.vpc_id)?.is_some_and(|v| !v.ipv6_associations.is_empty());
    let mut associations = Vec::new();
    if acl.is_default {
        let mut after = 0;
        loop {
            let page = tx.list_children(scope, ResourceKind::Subnet.storage_name(), &acl.vpc_id, after, 500)?;
            let done = page.len() < 500;
            for rec in page {
                after = rec.seq;
                associations.push((route::acl_association_id(&rec.id), rec.id));
            }
            if done {
                break;
            }
        }
    }
    Ok(NetworkAclView { entries: route::default_entries(ipv6), acl, associations })
}

// ----- Describe machinery ------------------------------------------------------------

/// A page of entities of `T` seen as `V` (computed in the transaction) that pass the
/// filters: all of the scope's in insertion order, or only `ids` (each must exist).
#[allow(clippy::too_many_arguments)]
fn describe_page<T, V>(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    ids: &[String],
    missing: impl Fn(Vec<String>) -> ApiError,
    filters: &FilterSet,
    after: i64,
    limit: usize,
    mut view: impl FnMut(&mut dyn ReadTx, T) -> ApiResult<V>,
) -> ApiResult<Page<V>>
where
    T: Entity,
    V: Filterable,
{
    let mut items: Vec<(i64, V, Vec<Tag>)> = Vec::new();
    if ids.is_empty() {
        let chunk = if filters.is_empty() { limit + 1 } else { (limit + 1).max(64) }.min(1000);
        let mut cursor = after;
        'scan: loop {
            let rows = tx.page_tagged::<T>(scope, cursor, chunk)?;
            let exhausted = rows.len() < chunk;
            for (seq, row, tag_rows) in rows {
                cursor = seq;
                let tags: Vec<Tag> = tag_rows.into_iter().map(|t| Tag { key: t.key, value: t.value }).collect();
                let v = view(tx, row)?;
                if filters.matches(&v, &tags) {
                    items.push((seq, v, tags));
                    if items.len() > limit {
                        break 'scan;
                    }
                }
            }
            if exhausted {
                break;
            }
        }
        return Ok(Page::of(items, limit));
    }
    let mut found = Vec::with_capacity(ids.len());
    let mut absent = Vec::new();
    for id in ids {
        match tx.get(scope, T::KIND.storage_name(), id)? {
            Some(rec) => found.push(rec),
            None => absent.push(id.clone()),
        }
    }
    if !absent.is_empty() {
        return Err(missing(absent));
    }
    found.sort_by_key(|r| r.seq);
    let mut tags = tags_by_id(tx, scope, found.iter().map(|r| r.id.as_str()))?;
    for rec in found.into_iter().filter(|r| r.seq > after) {
        let row: T = reservoir_store::typed::decode(&rec)?;
        let t = tags.remove(&rec.id).unwrap_or_default();
        let v = view(tx, row)?;
        if filters.matches(&v, &t) {
            items.push((rec.seq, v, t));
        }
    }
    Ok(Page::of(items, limit))
}

/// Checks the form of every id and drops repeats.
fn checked_ids(ids: Option<Vec<String>>, kind: NetKind) -> ApiResult<Vec<String>> {
    let mut ids = ids.unwrap_or_default();
    for id in &ids {
        check_id(kind, id)?;
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

fn not_found(kind: NetKind) -> impl Fn(Vec<String>) -> ApiError {
    move |ids| NetError::NotFound(kind, ids).into()
}

// ----- Route tables ------------------------------------------------------------------

/// EC2 `CreateRouteTable`: a table with the VPC's local routes. `ClientToken`,
/// `TagSpecifications` (`route-table`), `DryRun`; quota `route_tables_per_vpc`.
pub async fn create_route_table(call: &Call, input: api::CreateRouteTableRequest) -> ApiResult<Encoded> {
    use api::CreateRouteTableRequestMember as M;
    call.supported(&input, &[M::VpcId, M::TagSpecifications, M::ClientToken, M::DryRun])?;
    let vpc_id = input.vpc_id.unwrap_or_default();
    vpc::check_id(&vpc_id)?;
    let tags = tag_specifications(input.tag_specifications, ResourceKind::RouteTable)?;
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    let quota = call.cx.state.quotas.route_tables_per_vpc;
    let token = input.client_token.clone();
    idempotent(call, input.client_token, input.dry_run.unwrap_or(false), move |tx| {
        let v = load_vpc(tx, &scope, &vpc_id)?;
        if let Some(q) = quota
            && tx.count_children(&scope, ResourceKind::RouteTable.storage_name(), &v.id)? >= u64::from(q)
        {
            return Err(NetError::LimitExceeded(
                NetLimit::RouteTables,
                format!("The maximum number of route tables has been reached for {}.", v.id),
            )
            .into());
        }
        let table = RouteTable {
            id: ResourceKind::RouteTable.new_id(&mut OsRandom),
            vpc_id: v.id.clone(),
            owner: v.owner.clone(),
            main_association: None,
            associations: Vec::new(),
            routes: Vec::new(),
            created: now,
        };
        tx.create(&scope, &table)?;
        put_tags(tx, &scope, &table.id, ResourceKind::RouteTable, &tags)?;
        let mut vpcs = HashMap::from([(v.id.clone(), Some(v))]);
        let view = view_table(tx, &scope, table, &mut vpcs)?;
        Ok(Encoded::of(&api::CreateRouteTableResult {
            route_table: Some(table_to_wire(view, tags.clone())),
            client_token: token.clone(),
        }))
    })
    .await
}

/// EC2 `DescribeRouteTables`: by `RouteTableId.N` and/or filters, `MaxResults` 5–100.
pub async fn describe_route_tables(
    call: &Call,
    input: api::DescribeRouteTablesRequest,
) -> ApiResult<api::DescribeRouteTablesResult> {
    use api::DescribeRouteTablesRequestMember as M;
    call.supported(&input, &[M::Filters, M::RouteTableIds, M::NextToken, M::MaxResults, M::DryRun])?;
    let filters = filter_set(input.filters, &route::ROUTE_TABLE_FILTERS)?;
    let ids = checked_ids(input.route_table_ids, NetKind::RouteTable)?;
    let limit = page_size(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    let scope = call.cx.scope.clone();
    let page = call
        .read(move |tx| {
            let mut vpcs = HashMap::new();
            describe_page::<RouteTable, _>(
                tx,
                &scope,
                &ids,
                not_found(NetKind::RouteTable),
                &filters,
                after,
                limit,
                |tx, t| view_table(tx, &scope, t, &mut vpcs),
            )
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(api::DescribeRouteTablesResult {
        next_token: page.next.map(|seq| call.next_token(&seq.to_string())),
        route_tables: Some(page.items.into_iter().map(|(_, v, t)| table_to_wire(v, t)).collect()),
    })
}

/// EC2 `DeleteRouteTable`: refused for the main table and while associated.
pub async fn delete_route_table(call: &Call, input: api::DeleteRouteTableRequest) -> ApiResult<()> {
    use api::DeleteRouteTableRequestMember as M;
    call.supported(&input, &[M::RouteTableId, M::DryRun])?;
    let id = input.route_table_id.unwrap_or_default();
    check_id(NetKind::RouteTable, &id)?;
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let table = load_table(tx, &scope, &id)?;
        table.check_deletable()?;
        tx.remove::<RouteTable>(&scope, &id)?;
        Ok(())
    })
    .await
}

/// EC2 `AssociateRouteTable`: a subnet (one association per subnet) or an edge gateway
/// (an internet gateway attached to the table's VPC) of the table's VPC.
pub async fn associate_route_table(
    call: &Call,
    input: api::AssociateRouteTableRequest,
) -> ApiResult<api::AssociateRouteTableResult> {
    use api::AssociateRouteTableRequestMember as M;
    call.supported(&input, &[M::RouteTableId, M::SubnetId, M::GatewayId, M::DryRun])?;
    let rtb = input.route_table_id.unwrap_or_default();
    check_id(NetKind::RouteTable, &rtb)?;
    let with = match (input.subnet_id, input.gateway_id) {
        (Some(s), None) => {
            check_id(NetKind::Subnet, &s)?;
            Associated::Subnet(s)
        }
        (None, Some(g)) => Associated::Gateway(g),
        (None, None) => {
            return Err(NetError::Missing("The request must contain the parameter subnetId or gatewayId".into()).into());
        }
        (Some(_), Some(_)) => {
            return Err(NetError::Combination("Only one of subnetId and gatewayId may be specified".into()).into());
        }
    };
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let mut table = load_table(tx, &scope, &rtb)?;
        let (namespace, key) = match &with {
            Associated::Subnet(s) => {
                let vpc = vpc_of(tx, &scope, ResourceKind::Subnet, s)?
                    .ok_or_else(|| NetError::NotFound(NetKind::Subnet, vec![s.clone()]))?;
                if vpc != table.vpc_id {
                    return Err(different_networks(&table, "subnet", s));
                }
                (SUBNET, s.clone())
            }
            Associated::Gateway(g) => {
                if !ResourceKind::InternetGateway.is_well_formed(g) {
                    return Err(NetError::NotFound(NetKind::Gateway, vec![g.clone()]).into());
                }
                let igw = tx
                    .load::<InternetGateway>(&scope, g)?
                    .ok_or_else(|| NetError::NotFound(NetKind::Gateway, vec![g.clone()]))?;
                if igw.vpc_id.as_deref() != Some(table.vpc_id.as_str()) {
                    return Err(different_networks(&table, "gateway", g));
                }
                (GATEWAY, g.clone())
            }
        };
        if tx.get_alias(&scope, namespace, &key)?.is_some() {
            return Err(NetError::AlreadyAssociated(format!(
                "the specified association for route table {} conflicts with an existing association",
                table.id
            ))
            .into());
        }
        let id = ResourceKind::RouteTableAssociation.new_id(&mut OsRandom);
        table.associations.push(Association { id: id.clone(), with: with.clone() });
        tx.save(&scope, &table)?;
        tx.put_alias(&scope, namespace, &key, &id)?;
        tx.put_alias(&scope, ASSOC, &id, &table.id)?;
        Ok(api::AssociateRouteTableResult { association_id: Some(id), association_state: association_state() })
    })
    .await
}

/// Finds the table holding association `id`: `InvalidAssociationID.NotFound` otherwise.
fn table_of_association(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<RouteTable> {
    let missing = || NetError::NotFound(NetKind::Association, vec![id.to_string()]);
    if !ResourceKind::RouteTableAssociation.is_well_formed(id) {
        return Err(missing().into());
    }
    let table_id = tx.get_alias(scope, ASSOC, id)?.ok_or_else(missing)?;
    Ok(tx.load::<RouteTable>(scope, &table_id)?.ok_or_else(missing)?)
}

/// EC2 `DisassociateRouteTable`: a subnet or gateway association (never the main one).
pub async fn disassociate_route_table(call: &Call, input: api::DisassociateRouteTableRequest) -> ApiResult<()> {
    use api::DisassociateRouteTableRequestMember as M;
    call.supported(&input, &[M::AssociationId, M::DryRun])?;
    let id = input.association_id.unwrap_or_default();
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let mut table = table_of_association(tx, &scope, &id)?;
        if table.main_association.as_deref() == Some(id.as_str()) {
            return Err(
                NetError::InvalidValue(format!("cannot disassociate the main route table association {id}")).into()
            );
        }
        let i = table
            .associations
            .iter()
            .position(|a| a.id == id)
            .ok_or_else(|| NetError::NotFound(NetKind::Association, vec![id.clone()]))?;
        let a = table.associations.remove(i);
        match &a.with {
            Associated::Subnet(s) => tx.delete_alias(&scope, SUBNET, s)?,
            Associated::Gateway(g) => tx.delete_alias(&scope, GATEWAY, g)?,
        };
        tx.delete_alias(&scope, ASSOC, &id)?;
        tx.save(&scope, &table)?;
        Ok(())
    })
    .await
}

/// EC2 `ReplaceRouteTableAssociation`: moves an association (the main one included) to
/// another table of the same VPC, under a new association id.
pub async fn replace_route_table_association(
    call: &Call,
    input: api::ReplaceRouteTableAssociationRequest,
) -> ApiResult<api::ReplaceRouteTableAssociationResult> {
    use api::ReplaceRouteTableAssociationRequestMember as M;
    call.supported(&input, &[M::AssociationId, M::RouteTableId, M::DryRun])?;
    let id = input.association_id.unwrap_or_default();
    let rtb = input.route_table_id.unwrap_or_default();
    check_id(NetKind::RouteTable, &rtb)?;
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let mut new_table = load_table(tx, &scope, &rtb)?;
        let old = table_of_association(tx, &scope, &id)?;
        if old.vpc_id != new_table.vpc_id {
            return Err(NetError::InvalidValue(format!(
                "route table {} and association {id} belong to different networks",
                new_table.id
            ))
            .into());
        }
        let new_id = ResourceKind::RouteTableAssociation.new_id(&mut OsRandom);
        let same = old.id == new_table.id;
        let mut old = if same { new_table.clone() } else { old };
        let moved: Option<Associated> = if old.main_association.as_deref() == Some(id.as_str()) {
            old.main_association = None;
            None
        } else {
            let i = old
                .associations
                .iter()
                .position(|a| a.id == id)
                .ok_or_else(|| NetError::NotFound(NetKind::Association, vec![id.clone()]))?;
            Some(old.associations.remove(i).with)
        };
        if same {
            new_table = old.clone();
        } else {
            tx.save(&scope, &old)?;
        }
        match &moved {
            None => {
                new_table.main_association = Some(new_id.clone());
                tx.put_alias(&scope, MAIN, &new_table.vpc_id, &new_table.id)?;
            }
            Some(with) => {
                new_table.associations.push(Association { id: new_id.clone(), with: with.clone() });
                match with {
                    Associated::Subnet(s) => tx.put_alias(&scope, SUBNET, s, &new_id)?,
                    Associated::Gateway(g) => tx.put_alias(&scope, GATEWAY, g, &new_id)?,
                }
            }
        }
        tx.save(&scope, &new_table)?;
        tx.delete_alias(&scope, ASSOC, &id)?;
        tx.put_alias(&scope, ASSOC, &new_id, &new_table.id)?;
        Ok(api::ReplaceRouteTableAssociationResult {
            new_association_id: Some(new_id),
            association_state: association_state(),
        })
    })
    .await
}

// ----- Routes --------------------------------------------------------------------------

/// The one target a `CreateRoute` / `ReplaceRoute` names.
#[derive(Debug, Clone)]
enum Asked {
    Gateway(String),
    Interface(String),
    Nat(String),
    Transit(String),
    Peering(String),
    LocalGateway(String),
    Carrier(String),
    EgressOnly,
    Instance(String),
    CoreNetwork,
    Endpoint(String),
}

#[allow(clippy::too_many_arguments)]
fn asked_target(
    gateway: Option<String>,
    interface: Option<String>,
    nat: Option<String>,
    transit: Option<String>,
    peering: Option<String>,
    local_gateway: Option<String>,
    carrier: Option<String>,
    egress_only: Option<String>,
    instance: Option<String>,
    core_network: Option<String>,
    endpoint: Option<String>,
) -> ApiResult<Asked> {
    let all: Vec<Asked> = [
        gateway.map(Asked::Gateway),
        interface.map(Asked::Interface),
        nat.map(Asked::Nat),
        transit.map(Asked::Transit),
        peering.map(Asked::Peering),
        local_gateway.map(Asked::LocalGateway),
        carrier.map(Asked::Carrier),
        egress_only.map(|_| Asked::EgressOnly),
        instance.map(Asked::Instance),
        core_network.map(|_| Asked::CoreNetwork),
        endpoint.map(Asked::Endpoint),
    ]
    .into_iter()
    .flatten()
    .collect();
    match all.len() {
        1 => Ok(all.into_iter().next().expect("one")),
        0 => Err(NetError::Missing(
            "The request must contain exactly one route target: gatewayId, natGatewayId, networkInterfaceId, \
             vpcPeeringConnectionId, transitGatewayId, localGatewayId, carrierGatewayId, \
             egressOnlyInternetGatewayId, instanceId, vpcEndpointId or coreNetworkArn"
                .into(),
        )
        .into()),
        _ => Err(NetError::Combination("More than one route target was specified; give exactly one.".into()).into()),
    }
}

/// Resolves the asked target against the table's VPC: what the route stores.
fn resolve_target(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    table: &RouteTable,
    asked: &Asked,
    op: &str,
) -> ApiResult<Target> {
    let unknown = |code, message: String| Err(ApiError::new(code, message));
    match asked {
        Asked::Gateway(g) => {
            if g == route::LOCAL {
                return Err(NetError::InvalidValue(format!(
                    "The route target 'local' is only valid for the local routes of route table {}",
                    table.id
                ))
                .into());
            }
            if ResourceKind::InternetGateway.is_well_formed(g)
                && let Some(igw) = tx.load::<InternetGateway>(scope, g)?
            {
                if igw.vpc_id.as_deref() != Some(table.vpc_id.as_str()) {
                    return Err(different_networks(table, "network gateway", g));
                }
                return Ok(Target::Gateway(g.clone()));
            }
            if ResourceKind::VpcEndpoint.is_well_formed(g)
                && tx.get(scope, ResourceKind::VpcEndpoint.storage_name(), g)?.is_some()
            {
                return Err(NetError::InvalidValue(format!(
                    "The routes of gateway endpoint {g} are managed through the endpoint (ModifyVpcEndpoint)"
                ))
                .into());
            }
            Err(NetError::NotFound(NetKind::Gateway, vec![g.clone()]).into())
        }
        Asked::Interface(e) => {
            check_id(NetKind::NetworkInterface, e)?;
            let vpc = vpc_of(tx, scope, ResourceKind::NetworkInterface, e)?
                .ok_or_else(|| NetError::NotFound(NetKind::NetworkInterface, vec![e.clone()]))?;
            if vpc != table.vpc_id {
                return Err(different_networks(table, "interface", e));
            }
            Ok(Target::NetworkInterface(e.clone()))
        }
        Asked::Instance(i) => {
            check_id(NetKind::Instance, i)?;
            Err(NetError::NotFound(NetKind::Instance, vec![i.clone()]).into())
        }
        Asked::Endpoint(e) => {
            check_id(NetKind::VpcEndpoint, e)?;
            if tx.get(scope, ResourceKind::VpcEndpoint.storage_name(), e)?.is_some() {
                return Err(NetError::InvalidValue(format!(
                    "The VPC endpoint {e} is not a Gateway Load Balancer endpoint"
                ))
                .into());
            }
            Err(NetError::NotFound(NetKind::VpcEndpoint, vec![e.clone()]).into())
        }
        Asked::LocalGateway(l) => {
            if tx.get(scope, ResourceKind::LocalGateway.storage_name(), l)?.is_some() {
                return Err(ApiError::ec2_unsupported_parameter(op, "LocalGatewayId"));
            }
            unknown(codes::INVALID_LOCAL_GATEWAY_ID_NOT_FOUND, format!("The local gateway ID '{l}' does not exist"))
        }
        Asked::Nat(n) => {
            unknown(codes::INVALID_NAT_GATEWAY_ID_NOT_FOUND, format!("The natGateway ID '{n}' does not exist"))
        }
        Asked::Transit(t) => unknown(
            codes::INVALID_TRANSIT_GATEWAY_ID_NOT_FOUND,
            format!("Transit Gateway {t} was deleted or does not exist."),
        ),
        Asked::Peering(p) => unknown(
            codes::INVALID_VPC_PEERING_CONNECTION_ID_NOT_FOUND,
            format!("The vpcPeeringConnection ID '{p}' does not exist"),
        ),
        Asked::Carrier(c) => {
            unknown(codes::INVALID_CARRIER_GATEWAY_ID_NOT_FOUND, format!("The carrierGateway ID '{c}' does not exist"))
        }
        Asked::EgressOnly => Err(ApiError::ec2_unsupported_parameter(op, "EgressOnlyInternetGatewayId")),
        Asked::CoreNetwork => Err(ApiError::ec2_unsupported_parameter(op, "CoreNetworkArn")),
    }
}

/// A route to a prefix list needs a customer-managed list, which Reservoir does not
/// serve: an AWS-managed list (a gateway endpoint service's) gets its routes from the
/// endpoint, any other id names nothing.
fn check_route_prefix_list(region: &str, destination: &Destination) -> ApiResult<()> {
    let Destination::PrefixList(id) = destination else { return Ok(()) };
    if reservoir_domain::endpoint::prefix_list(region, id).is_some() {
        return Err(NetError::InvalidValue(format!(
            "The prefix list {id} is an AWS-managed prefix list: its routes are added by gateway endpoints."
        ))
        .into());
    }
    Err(NetError::NotFound(NetKind::PrefixList, vec![id.clone()]).into())
}

fn table_and_vpc(tx: &mut dyn ReadTx, scope: &Scope, rtb: &str) -> ApiResult<(RouteTable, Vec<Route>)> {
    let table = load_table(tx, scope, rtb)?;
    let local = tx.load::<Vpc>(scope, &table.vpc_id)?.as_ref().map(route::local_routes).unwrap_or_default();
    Ok((table, local))
}

/// EC2 `CreateRoute`. Quota `routes_per_route_table`.
pub async fn create_route(call: &Call, input: api::CreateRouteRequest) -> ApiResult<api::CreateRouteResult> {
    use api::CreateRouteRequestMember as M;
    call.supported(
        &input,
        &[
            M::RouteTableId,
            M::DestinationCidrBlock,
            M::DestinationIpv6CidrBlock,
            M::DestinationPrefixListId,
            M::GatewayId,
            M::NetworkInterfaceId,
            M::NatGatewayId,
            M::TransitGatewayId,
            M::VpcPeeringConnectionId,
            M::LocalGatewayId,
            M::CarrierGatewayId,
            M::EgressOnlyInternetGatewayId,
            M::InstanceId,
            M::CoreNetworkArn,
            M::VpcEndpointId,
            M::DryRun,
        ],
    )?;
    let rtb = input.route_table_id.unwrap_or_default();
    check_id(NetKind::RouteTable, &rtb)?;
    let destination = route::parse_destination(
        input.destination_cidr_block.as_deref(),
        input.destination_ipv6_cidr_block.as_deref(),
        input.destination_prefix_list_id.as_deref(),
    )?;
    let asked = asked_target(
        input.gateway_id,
        input.network_interface_id,
        input.nat_gateway_id,
        input.transit_gateway_id,
        input.vpc_peering_connection_id,
        input.local_gateway_id,
        input.carrier_gateway_id,
        input.egress_only_internet_gateway_id,
        input.instance_id,
        input.core_network_arn,
        input.vpc_endpoint_id,
    )?;
    let scope = call.cx.scope.clone();
    let quota = call.cx.state.quotas.routes_per_route_table;
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let (mut table, local) = table_and_vpc(tx, &scope, &rtb)?;
        check_route_prefix_list(&scope.region, &destination)?;
        let target = resolve_target(tx, &scope, &table, &asked, "CreateRoute")?;
        let r = Route { destination: destination.clone(), target, origin: Origin::CreateRoute };
        route::add_route(&mut table, &local, r, quota)?;
        tx.save(&scope, &table)?;
        Ok(api::CreateRouteResult { r#return: Some(true) })
    })
    .await
}

/// EC2 `ReplaceRoute`: a new target for an existing route (not a local one).
pub async fn replace_route(call: &Call, input: api::ReplaceRouteRequest) -> ApiResult<()> {
    use api::ReplaceRouteRequestMember as M;
    call.supported(
        &input,
        &[
            M::RouteTableId,
            M::DestinationCidrBlock,
            M::DestinationIpv6CidrBlock,
            M::DestinationPrefixListId,
            M::GatewayId,
            M::NetworkInterfaceId,
            M::NatGatewayId,
            M::TransitGatewayId,
            M::VpcPeeringConnectionId,
            M::LocalGatewayId,
            M::CarrierGatewayId,
            M::EgressOnlyInternetGatewayId,
            M::InstanceId,
            M::CoreNetworkArn,
            M::VpcEndpointId,
            M::LocalTarget,
            M::DryRun,
        ],
    )?;
    let rtb = input.route_table_id.unwrap_or_default();
    check_id(NetKind::RouteTable, &rtb)?;
    let destination = route::parse_destination(
        input.destination_cidr_block.as_deref(),
        input.destination_ipv6_cidr_block.as_deref(),
        input.destination_prefix_list_id.as_deref(),
    )?;
    let local_target = input.local_target == Some(true);
    let gateway = if local_target {
        if input.gateway_id.is_some() {
            return Err(NetError::Combination("LocalTarget cannot be combined with another route target".into()).into());
        }
        Some(route::LOCAL.to_string())
    } else {
        input.gateway_id
    };
    let asked = asked_target(
        gateway,
        input.network_interface_id,
        input.nat_gateway_id,
        input.transit_gateway_id,
        input.vpc_peering_connection_id,
        input.local_gateway_id,
        input.carrier_gateway_id,
        input.egress_only_internet_gateway_id,
        input.instance_id,
        input.core_network_arn,
        input.vpc_endpoint_id,
    )?;
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let (mut table, local) = table_and_vpc(tx, &scope, &rtb)?;
        if matches!(&asked, Asked::Gateway(g) if g == route::LOCAL) {
            // Restoring the local target of a local route changes nothing; any other
            // route cannot target `local`.
            if local.iter().any(|r| r.destination == destination) {
                return Ok(());
            }
            return Err(NetError::InvalidValue(format!(
                "The route target 'local' is only valid for the local routes of route table {}",
                table.id
            ))
            .into());
        }
        check_route_prefix_list(&scope.region, &destination)?;
        let target = resolve_target(tx, &scope, &table, &asked, "ReplaceRoute")?;
        route::replace_route(&mut table, &local, &destination, target)?;
        tx.save(&scope, &table)?;
        Ok(())
    })
    .await
}

/// EC2 `DeleteRoute` (not a local route).
pub async fn delete_route(call: &Call, input: api::DeleteRouteRequest) -> ApiResult<()> {
    use api::DeleteRouteRequestMember as M;
    call.supported(
        &input,
        &[M::RouteTableId, M::DestinationCidrBlock, M::DestinationIpv6CidrBlock, M::DestinationPrefixListId, M::DryRun],
    )?;
    let rtb = input.route_table_id.unwrap_or_default();
    check_id(NetKind::RouteTable, &rtb)?;
    let destination = route::parse_destination(
        input.destination_cidr_block.as_deref(),
        input.destination_ipv6_cidr_block.as_deref(),
        input.destination_prefix_list_id.as_deref(),
    )?;
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let (mut table, local) = table_and_vpc(tx, &scope, &rtb)?;
        let removed = route::delete_route(&mut table, &local, &destination)?;
        if let Target::Gateway(g) = &removed.target
            && g.starts_with(ResourceKind::VpcEndpoint.prefix())
        {
            // A gateway endpoint's route goes with the endpoint (or ModifyVpcEndpoint).
            return Err(NetError::InvalidValue(format!(
                "The route to {} is managed by the gateway endpoint {g}",
                destination.text()
            ))
            .into());
        }
        tx.save(&scope, &table)?;
        Ok(())
    })
    .await
}

// ----- Internet gateways -------------------------------------------------------------

/// EC2 `CreateInternetGateway`. Quota `internet_gateways_per_region`.
pub async fn create_internet_gateway(
    call: &Call,
    input: api::CreateInternetGatewayRequest,
) -> ApiResult<api::CreateInternetGatewayResult> {
    use api::CreateInternetGatewayRequestMember as M;
    call.supported(&input, &[M::TagSpecifications, M::DryRun])?;
    let tags = tag_specifications(input.tag_specifications, ResourceKind::InternetGateway)?;
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    let quota = call.cx.state.quotas.internet_gateways_per_region;
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        if let Some(q) = quota
            && tx.count_of::<InternetGateway>(&scope)? >= u64::from(q)
        {
            return Err(NetError::LimitExceeded(
                NetLimit::InternetGateways,
                "The maximum number of internet gateways has been reached.".into(),
            )
            .into());
        }
        let igw = InternetGateway {
            id: ResourceKind::InternetGateway.new_id(&mut OsRandom),
            owner: scope.account.clone(),
            vpc_id: None,
            created: now,
        };
        tx.create(&scope, &igw)?;
        put_tags(tx, &scope, &igw.id, ResourceKind::InternetGateway, &tags)?;
        Ok(api::CreateInternetGatewayResult { internet_gateway: Some(igw_to_wire(igw, tags.clone())) })
    })
    .await
}

/// EC2 `AttachInternetGateway`: a gateway is attached to one VPC, a VPC has one gateway.
pub async fn attach_internet_gateway(call: &Call, input: api::AttachInternetGatewayRequest) -> ApiResult<()> {
    use api::AttachInternetGatewayRequestMember as M;
    call.supported(&input, &[M::InternetGatewayId, M::VpcId, M::DryRun])?;
    let igw_id = input.internet_gateway_id.unwrap_or_default();
    check_id(NetKind::InternetGateway, &igw_id)?;
    let vpc_id = input.vpc_id.unwrap_or_default();
    vpc::check_id(&vpc_id)?;
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let mut igw = load_igw(tx, &scope, &igw_id)?;
        let v = load_vpc(tx, &scope, &vpc_id)?;
        let current = tx.get_alias(&scope, IGW_OF_VPC, &v.id)?;
        igw.attach(&v.id, current.as_deref())?;
        tx.save(&scope, &igw)?;
        tx.put_alias(&scope, IGW_OF_VPC, &v.id, &igw.id)?;
        Ok(())
    })
    .await
}

/// EC2 `DetachInternetGateway`: routes to it become `blackhole`.
pub async fn detach_internet_gateway(call: &Call, input: api::DetachInternetGatewayRequest) -> ApiResult<()> {
    use api::DetachInternetGatewayRequestMember as M;
    call.supported(&input, &[M::InternetGatewayId, M::VpcId, M::DryRun])?;
    let igw_id = input.internet_gateway_id.unwrap_or_default();
    check_id(NetKind::InternetGateway, &igw_id)?;
    let vpc_id = input.vpc_id.unwrap_or_default();
    vpc::check_id(&vpc_id)?;
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let mut igw = load_igw(tx, &scope, &igw_id)?;
        let v = load_vpc(tx, &scope, &vpc_id)?;
        igw.detach(&v.id)?;
        if tx.get_alias(&scope, GATEWAY, &igw.id)?.is_some() {
            // An edge association needs the gateway attached to the table's VPC.
            return Err(NetError::Dependency(format!(
                "The internetGateway '{}' has dependencies and cannot be detached: it is associated with a route table.",
                igw.id
            ))
            .into());
        }
        tx.save(&scope, &igw)?;
        tx.delete_alias(&scope, IGW_OF_VPC, &v.id)?;
        Ok(())
    })
    .await
}

/// EC2 `DeleteInternetGateway`: refused while attached.
pub async fn delete_internet_gateway(call: &Call, input: api::DeleteInternetGatewayRequest) -> ApiResult<()> {
    use api::DeleteInternetGatewayRequestMember as M;
    call.supported(&input, &[M::InternetGatewayId, M::DryRun])?;
    let igw_id = input.internet_gateway_id.unwrap_or_default();
    check_id(NetKind::InternetGateway, &igw_id)?;
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let igw = load_igw(tx, &scope, &igw_id)?;
        igw.check_deletable()?;
        tx.remove::<InternetGateway>(&scope, &igw.id)?;
        Ok(())
    })
    .await
}

/// EC2 `DescribeInternetGateways`: `MaxResults` 5–1000.
pub async fn describe_internet_gateways(
    call: &Call,
    input: api::DescribeInternetGatewaysRequest,
) -> ApiResult<api::DescribeInternetGatewaysResult> {
    use api::DescribeInternetGatewaysRequestMember as M;
    call.supported(&input, &[M::Filters, M::InternetGatewayIds, M::NextToken, M::MaxResults, M::DryRun])?;
    let filters = filter_set(input.filters, &route::INTERNET_GATEWAY_FILTERS)?;
    let ids = checked_ids(input.internet_gateway_ids, NetKind::InternetGateway)?;
    let limit = page_size(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    let scope = call.cx.scope.clone();
    let page = call
        .read(move |tx| {
            describe_page::<InternetGateway, _>(
                tx,
                &scope,
                &ids,
                not_found(NetKind::InternetGateway),
                &filters,
                after,
                limit,
                |_, g| Ok(g),
            )
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(api::DescribeInternetGatewaysResult {
        next_token: page.next.map(|seq| call.next_token(&seq.to_string())),
        internet_gateways: Some(page.items.into_iter().map(|(_, g, t)| igw_to_wire(g, t)).collect()),
    })
}

// ----- Network ACLs ------------------------------------------------------------------

/// EC2 `DescribeNetworkAcls`: `MaxResults` 5–1000 (the model's range).
pub async fn describe_network_acls(
    call: &Call,
    input: api::DescribeNetworkAclsRequest,
) -> ApiResult<api::DescribeNetworkAclsResult> {
    use api::DescribeNetworkAclsRequestMember as M;
    call.supported(&input, &[M::Filters, M::NetworkAclIds, M::NextToken, M::MaxResults, M::DryRun])?;
    let filters = filter_set(input.filters, &route::NETWORK_ACL_FILTERS)?;
    let ids = checked_ids(input.network_acl_ids, NetKind::NetworkAcl)?;
    let limit = page_size(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    let scope = call.cx.scope.clone();
    let page = call
        .read(move |tx| {
            describe_page::<NetworkAcl, _>(
                tx,
                &scope,
                &ids,
                not_found(NetKind::NetworkAcl),
                &filters,
                after,
                limit,
                |tx, a| view_acl(tx, &scope, a),
            )
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(api::DescribeNetworkAclsResult {
        next_token: page.next.map(|seq| call.next_token(&seq.to_string())),
        network_acls: Some(page.items.into_iter().map(|(_, a, t)| acl_to_wire(a, t)).collect()),
    })
}

// ----- DHCP options ------------------------------------------------------------------

/// EC2 `CreateDhcpOptions`.
pub async fn create_dhcp_options(
    call: &Call,
    input: api::CreateDhcpOptionsRequest,
) -> ApiResult<api::CreateDhcpOptionsResult> {
    use api::CreateDhcpOptionsRequestMember as M;
    call.supported(&input, &[M::DhcpConfigurations, M::TagSpecifications, M::DryRun])?;
    let configs: Vec<(Option<String>, Vec<String>)> = input
        .dhcp_configurations
        .unwrap_or_default()
        .into_iter()
        .map(|c| (c.key, c.values.unwrap_or_default()))
        .collect();
    let configurations = dhcp::validate(&configs)?;
    let tags = tag_specifications(input.tag_specifications, ResourceKind::DhcpOptions)?;
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let set = DhcpOptionSet {
            id: ResourceKind::DhcpOptions.new_id(&mut OsRandom),
            is_default: false,
            configurations: configurations.clone(),
        };
        tx.create(&scope, &set)?;
        put_tags(tx, &scope, &set.id, ResourceKind::DhcpOptions, &tags)?;
        Ok(api::CreateDhcpOptionsResult { dhcp_options: Some(dhcp_to_wire(view_dhcp(&scope, set), tags.clone())) })
    })
    .await
}

/// EC2 `AssociateDhcpOptions`: a set (or `default`: none) for a VPC.
pub async fn associate_dhcp_options(call: &Call, input: api::AssociateDhcpOptionsRequest) -> ApiResult<()> {
    use api::AssociateDhcpOptionsRequestMember as M;
    call.supported(&input, &[M::DhcpOptionsId, M::VpcId, M::DryRun])?;
    let dhcp_id = input.dhcp_options_id.unwrap_or_default();
    if dhcp_id != dhcp::NO_OPTIONS {
        check_id(NetKind::DhcpOptions, &dhcp_id)?;
    }
    let vpc_id = input.vpc_id.unwrap_or_default();
    vpc::check_id(&vpc_id)?;
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        if dhcp_id != dhcp::NO_OPTIONS && tx.load::<DhcpOptionSet>(&scope, &dhcp_id)?.is_none() {
            return Err(NetError::NotFound(NetKind::DhcpOptions, vec![dhcp_id.clone()]).into());
        }
        let mut v = load_vpc(tx, &scope, &vpc_id)?;
        if v.dhcp_options_id != dhcp::NO_OPTIONS {
            tx.delete_reference(&scope, &v.dhcp_options_id, &v.id)?;
        }
        if dhcp_id != dhcp::NO_OPTIONS {
            tx.put_reference(&scope, &dhcp_reference(&dhcp_id, &v.id))?;
        }
        v.dhcp_options_id = dhcp_id.clone();
        tx.save(&scope, &v)?;
        Ok(())
    })
    .await
}

/// EC2 `DeleteDhcpOptions`: refused while a VPC uses the set.
pub async fn delete_dhcp_options(call: &Call, input: api::DeleteDhcpOptionsRequest) -> ApiResult<()> {
    use api::DeleteDhcpOptionsRequestMember as M;
    call.supported(&input, &[M::DhcpOptionsId, M::DryRun])?;
    let id = input.dhcp_options_id.unwrap_or_default();
    check_id(NetKind::DhcpOptions, &id)?;
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        if tx.load::<DhcpOptionSet>(&scope, &id)?.is_none() {
            return Err(NetError::NotFound(NetKind::DhcpOptions, vec![id.clone()]).into());
        }
        if tx.first_reference(&scope, &id)?.is_some() {
            return Err(NetError::Dependency(format!(
                "The dhcpOptions '{id}' has dependencies and cannot be deleted."
            ))
            .into());
        }
        tx.remove::<DhcpOptionSet>(&scope, &id)?;
        Ok(())
    })
    .await
}

/// EC2 `DescribeDhcpOptions`: `MaxResults` 5–1000.
pub async fn describe_dhcp_options(
    call: &Call,
    input: api::DescribeDhcpOptionsRequest,
) -> ApiResult<api::DescribeDhcpOptionsResult> {
    use api::DescribeDhcpOptionsRequestMember as M;
    call.supported(&input, &[M::Filters, M::DhcpOptionsIds, M::NextToken, M::MaxResults, M::DryRun])?;
    let filters = filter_set(input.filters, &dhcp::FILTERS)?;
    let ids = checked_ids(input.dhcp_options_ids, NetKind::DhcpOptions)?;
    let limit = page_size(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    let scope = call.cx.scope.clone();
    let page = call
        .read(move |tx| {
            describe_page::<DhcpOptionSet, _>(
                tx,
                &scope,
                &ids,
                not_found(NetKind::DhcpOptions),
                &filters,
                after,
                limit,
                |_, d| Ok(view_dhcp(&scope, d)),
            )
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(api::DescribeDhcpOptionsResult {
        next_token: page.next.map(|seq| call.next_token(&seq.to_string())),
        dhcp_options: Some(page.items.into_iter().map(|(_, d, t)| dhcp_to_wire(d, t)).collect()),
    })
}
