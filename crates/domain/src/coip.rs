//! Outposts' local gateways, local gateway route tables and customer-owned IP (CoIP)
//! pools.
//!
//! AWS behaviour modelled (EC2 API reference for `DescribeLocalGateways`,
//! `CreateLocalGatewayRouteTable`, `CreateCoipPool`, `CreateCoipCidr`, `GetCoipPoolUsage`;
//! Outposts user guide, "Customer-owned IP addresses"):
//! * Local gateways exist only where an Outpost is installed. Reservoir keeps a catalogue
//!   of Outposts, computed and never stored: by default one Outpost with one local
//!   gateway in every region, owned by the calling account, with ids derived from
//!   (account, region) — `op-` and `lgw-` + 17 hex of a SHA-256 — so they are the same on
//!   every server. `[[outposts]]` entries of the config file replace it ([`OutpostSpec`]).
//! * A local gateway route table belongs to one local gateway, in mode `coip` or
//!   `direct-vpc-routing`; only a `coip` table takes CoIP pools.
//! * A CoIP pool belongs to one route table. Its CIDRs are the roots of an address space
//!   (`coip:<pool id>`, in the pool owner's scope) run by `space`. CIDRs of one pool never
//!   overlap, nor do the CIDRs of two pools of one route table (the local gateway routes
//!   each address to one place; AWS documents no error for it, so the refusal is
//!   `InvalidParameterValue`); pools of different route tables may overlap (different
//!   customer networks).
//! * Every address of a CIDR is handed out, network and broadcast addresses included:
//!   CoIP ranges are the customer's own addresses routed on the customer's network, not a
//!   subnet of a VPC, so no address of the block is reserved. The next address is the
//!   lowest free one of the pool (the engine's rule, docs/DECISIONS.md item 6).

use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::filter::{FilterSchema, Filterable};
use crate::ids::ResourceKind;

/// The state every catalogued local gateway and every live route table is in.
pub const AVAILABLE: &str = "available";
/// The state a deleted route table is answered in.
pub const DELETED: &str = "deleted";
/// Most CIDRs one pool takes (Reservoir's limit; AWS documents none).
pub const MAX_CIDRS_PER_POOL: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CoipError {
    #[error("Invalid id: \"{id}\" (expecting \"{prefix}...\")")]
    Malformed { kind: ResourceKind, prefix: &'static str, id: String },
    #[error("The {what} ID '{ids}' does not exist", what = kind_words(*.0), ids = .1.join(", "))]
    NotFound(ResourceKind, Vec<String>),
    #[error("The request must contain the parameter {0}")]
    Missing(&'static str),
    #[error("{0}")]
    InvalidValue(String),
    /// Still used by something (DependencyViolation).
    #[error("{0}")]
    InUse(String),
    /// The requested address is held already.
    #[error("The address {0} is already in use in the pool {1}.")]
    AddressInUse(Ipv4Addr, String),
    #[error("The pool {0} has no free address.")]
    Exhausted(String),
}

fn kind_words(kind: ResourceKind) -> &'static str {
    match kind {
        ResourceKind::LocalGateway => "local gateway",
        ResourceKind::LocalGatewayRouteTable => "local gateway route table",
        _ => "pool",
    }
}

/// An id checked for its kind's form (prefix + 17 lowercase hex digits; 8 for old ids).
pub fn check_id(kind: ResourceKind, id: &str) -> Result<(), CoipError> {
    if kind.is_well_formed(id) {
        Ok(())
    } else {
        Err(CoipError::Malformed { kind, prefix: kind.prefix(), id: id.to_string() })
    }
}

fn digest_hex17(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let d: [u8; 32] = h.finalize().into();
    let hex: String = d[..9].iter().map(|b| format!("{b:02x}")).collect();
    format!("0{}", &hex[..16])
}

// ----- catalogue ------------------------------------------------------------------------

/// An `[[outposts]]` entry of the config file: one Outpost and its local gateway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OutpostSpec {
    /// The region it is installed in.
    pub region: String,
    /// `op-` + 17 hex digits.
    pub outpost_id: String,
    /// `lgw-` + 17 hex digits.
    pub local_gateway_id: String,
    /// The owner's account id. Default: every account sees it as its own.
    #[serde(default)]
    pub owner: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutpostConfigError {
    #[error("outpost id '{0}' must be op- and 17 hex digits")]
    OutpostId(String),
    #[error("local gateway id '{0}' must be lgw- and 17 hex digits")]
    LocalGatewayId(String),
    #[error("owner '{0}' must be a 12-digit account id")]
    Owner(String),
    #[error("local gateway id '{0}' appears twice")]
    Duplicate(String),
}

/// A local gateway of the catalogue, as one account sees it in one region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalGateway {
    pub id: String,
    pub outpost_id: String,
    pub owner: String,
    pub region: String,
}

impl LocalGateway {
    pub fn outpost_arn(&self) -> String {
        format!("arn:aws:outposts:{}:{}:outpost/{}", self.region, self.owner, self.outpost_id)
    }
}

pub const LOCAL_GATEWAY_FILTERS: FilterSchema =
    FilterSchema { names: &["local-gateway-id", "outpost-arn", "owner-id", "state"], aliases: &[], tags: true };

impl Filterable for LocalGateway {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "local-gateway-id" => m(&self.id),
            "outpost-arn" => m(&self.outpost_arn()),
            "owner-id" => m(&self.owner),
            "state" => m(AVAILABLE),
            _ => false,
        }
    }
}

fn is_hex17(s: &str) -> bool {
    s.len() == 17 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The Outposts every account sees: built in, or the config file's.
#[derive(Debug, Clone, Default)]
pub struct OutpostCatalogue {
    configured: Option<Vec<OutpostSpec>>,
}

impl OutpostCatalogue {
    /// One Outpost with one local gateway per (account, region).
    pub fn builtin() -> OutpostCatalogue {
        OutpostCatalogue { configured: None }
    }

    /// The config file's entries, checked.
    pub fn configured(specs: Vec<OutpostSpec>) -> Result<OutpostCatalogue, OutpostConfigError> {
        let mut seen: Vec<&str> = Vec::new();
        for s in &specs {
            if !s.outpost_id.strip_prefix("op-").is_some_and(is_hex17) {
                return Err(OutpostConfigError::OutpostId(s.outpost_id.clone()));
            }
            if !s.local_gateway_id.strip_prefix("lgw-").is_some_and(is_hex17) {
                return Err(OutpostConfigError::LocalGatewayId(s.local_gateway_id.clone()));
            }
            if let Some(o) = &s.owner
                && !(o.len() == 12 && o.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(OutpostConfigError::Owner(o.clone()));
            }
            if seen.contains(&s.local_gateway_id.as_str()) {
                return Err(OutpostConfigError::Duplicate(s.local_gateway_id.clone()));
            }
            seen.push(&s.local_gateway_id);
        }
        Ok(OutpostCatalogue { configured: Some(specs) })
    }

    /// The local gateways `account` owns in `region`, in catalogue order.
    pub fn local_gateways(&self, account: &str, region: &str) -> Vec<LocalGateway> {
        match &self.configured {
            None => vec![LocalGateway {
                id: format!("lgw-{}", digest_hex17(&["lgw", account, region])),
                outpost_id: format!("op-{}", digest_hex17(&["op", account, region])),
                owner: account.to_string(),
                region: region.to_string(),
            }],
            Some(specs) => specs
                .iter()
                .filter(|s| s.region == region && s.owner.as_deref().is_none_or(|o| o == account))
                .map(|s| LocalGateway {
                    id: s.local_gateway_id.clone(),
                    outpost_id: s.outpost_id.clone(),
                    owner: account.to_string(),
                    region: region.to_string(),
                })
                .collect(),
        }
    }

    pub fn local_gateway(&self, account: &str, region: &str, id: &str) -> Option<LocalGateway> {
        self.local_gateways(account, region).into_iter().find(|g| g.id == id)
    }
}

// ----- route tables ---------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mode {
    Coip,
    DirectVpcRouting,
}

impl Mode {
    pub fn parse(s: &str) -> Result<Mode, CoipError> {
        match s {
            "coip" => Ok(Mode::Coip),
            "direct-vpc-routing" => Ok(Mode::DirectVpcRouting),
            other => Err(CoipError::InvalidValue(format!(
                "Value ({other}) for parameter mode is invalid. Valid values are: coip, direct-vpc-routing."
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Coip => "coip",
            Mode::DirectVpcRouting => "direct-vpc-routing",
        }
    }
}

/// A local gateway route table (stored, in its owner's scope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalGatewayRouteTable {
    pub id: String,
    pub local_gateway_id: String,
    pub outpost_arn: String,
    pub owner: String,
    pub region: String,
    pub mode: Mode,
}

impl LocalGatewayRouteTable {
    pub fn arn(&self) -> String {
        format!("arn:aws:ec2:{}:{}:local-gateway-route-table/{}", self.region, self.owner, self.id)
    }
}

pub const ROUTE_TABLE_FILTERS: FilterSchema = FilterSchema {
    names: &[
        "local-gateway-id",
        "local-gateway-route-table-arn",
        "local-gateway-route-table-id",
        "outpost-arn",
        "owner-id",
        "state",
    ],
    aliases: &[],
    tags: true,
};

impl Filterable for LocalGatewayRouteTable {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "local-gateway-id" => m(&self.local_gateway_id),
            "local-gateway-route-table-arn" => m(&self.arn()),
            "local-gateway-route-table-id" => m(&self.id),
            "outpost-arn" => m(&self.outpost_arn),
            "owner-id" => m(&self.owner),
            "state" => m(AVAILABLE),
            _ => false,
        }
    }
}

// ----- pools ----------------------------------------------------------------------------

/// A CoIP pool (stored, in its owner's scope).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CoipPool {
    pub id: String,
    pub route_table_id: String,
    pub owner: String,
    pub region: String,
    /// In the order they were added.
    pub cidrs: Vec<Ipv4Net>,
}

impl CoipPool {
    pub fn arn(&self) -> String {
        format!("arn:aws:ec2:{}:{}:coip-pool/{}", self.region, self.owner, self.id)
    }

    /// The name of the pool's address space.
    pub fn space(&self) -> String {
        space_of(&self.id)
    }

    /// The CIDR holding `addr`, if any.
    pub fn cidr_of(&self, addr: Ipv4Addr) -> Option<Ipv4Net> {
        self.cidrs.iter().copied().find(|c| c.contains(&addr))
    }

    /// The largest CIDR's prefix length (the engine's search starts there).
    pub fn largest_root(&self) -> u8 {
        self.cidrs.iter().map(|c| c.prefix_len()).min().unwrap_or(32)
    }
}

pub fn space_of(pool_id: &str) -> String {
    format!("coip:{pool_id}")
}

/// The address space of a route table's pools: its roots are the CIDRs of every pool of
/// the table, so two pools of one table never overlap (the local gateway could not tell
/// where to route an address of both).
pub fn table_space_of(route_table_id: &str) -> String {
    format!("coip-rtb:{route_table_id}")
}

pub const POOL_FILTERS: FilterSchema =
    FilterSchema { names: &["coip-pool.pool-id", "coip-pool.local-gateway-route-table-id"], aliases: &[], tags: true };

impl Filterable for CoipPool {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "coip-pool.pool-id" => m(&self.id),
            "coip-pool.local-gateway-route-table-id" => m(&self.route_table_id),
            _ => false,
        }
    }
}

/// A CIDR for a pool: an IPv4 block, in canonical form.
pub fn parse_cidr(text: &str) -> Result<Ipv4Net, CoipError> {
    crate::cidr::parse_ipv4(text)
        .map_err(|_| CoipError::InvalidValue(format!("Value ({text}) for parameter cidr is invalid. Invalid CIDR.")))
}

/// A CIDR added to `pool`: refused when it overlaps one of the pool's.
pub fn check_new_cidr(pool: &CoipPool, cidr: Ipv4Net) -> Result<(), CoipError> {
    if pool.cidrs.len() >= MAX_CIDRS_PER_POOL {
        return Err(CoipError::InvalidValue(format!(
            "The pool {} has the maximum number of CIDRs ({MAX_CIDRS_PER_POOL}).",
            pool.id
        )));
    }
    if let Some(c) = pool.cidrs.iter().find(|c| c.contains(&cidr.network()) || cidr.contains(&c.network())) {
        return Err(CoipError::InvalidValue(format!(
            "The CIDR {} overlaps the CIDR {} of the pool {}.",
            crate::cidr::ipv4_text(&cidr),
            crate::cidr::ipv4_text(c),
            pool.id
        )));
    }
    Ok(())
}

// ----- usage ----------------------------------------------------------------------------

/// One allocated address of a pool, as `GetCoipPoolUsage` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Usage {
    pub allocation_id: String,
    pub account: String,
    pub service: Option<String>,
    pub address: Ipv4Addr,
}

pub const USAGE_FILTERS: FilterSchema = FilterSchema {
    names: &[
        "coip-address-usage.allocation-id",
        "coip-address-usage.aws-account-id",
        "coip-address-usage.aws-service",
        "coip-address-usage.co-ip",
    ],
    aliases: &[],
    tags: false,
};

impl Filterable for Usage {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "coip-address-usage.allocation-id" => m(&self.allocation_id),
            "coip-address-usage.aws-account-id" => m(&self.account),
            "coip-address-usage.aws-service" => self.service.as_deref().is_some_and(m),
            "coip-address-usage.co-ip" => m(&self.address.to_string()),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{Filter, FilterSet};

    #[test]
    fn builtin_catalogue_is_deterministic_per_account_and_region() {
        let c = OutpostCatalogue::builtin();
        let a = c.local_gateways("123456789012", "us-east-1");
        assert_eq!(a.len(), 1);
        assert_eq!(a, c.local_gateways("123456789012", "us-east-1"));
        assert_ne!(a[0].id, c.local_gateways("123456789012", "us-west-2")[0].id);
        assert_ne!(a[0].id, c.local_gateways("210987654321", "us-east-1")[0].id);
        assert!(ResourceKind::LocalGateway.is_well_formed(&a[0].id), "{}", a[0].id);
        assert!(a[0].outpost_id.strip_prefix("op-").is_some_and(is_hex17));
        assert_eq!(a[0].outpost_arn(), format!("arn:aws:outposts:us-east-1:123456789012:outpost/{}", a[0].outpost_id));
    }

    #[test]
    fn configured_catalogue_replaces_the_builtin_one() {
        let spec = |region: &str, lgw: &str, owner: Option<&str>| OutpostSpec {
            region: region.into(),
            outpost_id: "op-0123456789abcdef0".into(),
            local_gateway_id: lgw.into(),
            owner: owner.map(Into::into),
        };
        let c = OutpostCatalogue::configured(vec![
            spec("us-east-1", "lgw-0123456789abcdef0", None),
            spec("us-east-1", "lgw-0123456789abcdef1", Some("111111111111")),
        ])
        .unwrap();
        assert_eq!(c.local_gateways("222222222222", "us-east-1").len(), 1);
        assert_eq!(c.local_gateways("111111111111", "us-east-1").len(), 2);
        assert!(c.local_gateways("111111111111", "eu-west-1").is_empty());
        assert!(OutpostCatalogue::configured(vec![spec("us-east-1", "lgw-1", None)]).is_err());
        assert!(
            OutpostCatalogue::configured(vec![
                spec("us-east-1", "lgw-0123456789abcdef0", None),
                spec("us-west-2", "lgw-0123456789abcdef0", None)
            ])
            .is_err()
        );
        assert!(OutpostCatalogue::configured(vec![spec("us-east-1", "lgw-0123456789abcdef0", Some("12"))]).is_err());
    }

    fn pool(cidrs: &[&str]) -> CoipPool {
        CoipPool {
            id: "ipv4pool-coip-0123456789abcdef0".into(),
            route_table_id: "lgw-rtb-0123456789abcdef0".into(),
            owner: "123456789012".into(),
            region: "us-east-1".into(),
            cidrs: cidrs.iter().map(|c| c.parse().unwrap()).collect(),
        }
    }

    #[test]
    fn cidrs_of_one_pool_never_overlap() {
        let p = pool(&["10.0.0.0/24"]);
        assert!(check_new_cidr(&p, "10.0.0.128/25".parse().unwrap()).is_err());
        assert!(check_new_cidr(&p, "10.0.0.0/16".parse().unwrap()).is_err());
        assert!(check_new_cidr(&p, "10.0.1.0/24".parse().unwrap()).is_ok());
        assert_eq!(parse_cidr("10.0.0.5/24").unwrap().to_string(), "10.0.0.0/24");
        assert!(parse_cidr("10.0.0.0/33").is_err());
        assert!(parse_cidr("fd00::/64").is_err());
        assert_eq!(p.cidr_of("10.0.0.255".parse().unwrap()).unwrap().to_string(), "10.0.0.0/24");
        assert!(p.cidr_of("10.0.1.0".parse().unwrap()).is_none());
        assert_eq!(p.arn(), "arn:aws:ec2:us-east-1:123456789012:coip-pool/ipv4pool-coip-0123456789abcdef0");
    }

    #[test]
    fn usage_filters_take_wildcards() {
        let u = Usage {
            allocation_id: "eipalloc-0123456789abcdef0".into(),
            account: "123456789012".into(),
            service: None,
            address: "10.0.0.7".parse().unwrap(),
        };
        let f = |name: &str, v: &str| FilterSet::compile(&[Filter::new(name, &[v])], &USAGE_FILTERS).unwrap();
        assert!(f("coip-address-usage.co-ip", "10.0.0.?").matches_untagged(&u));
        assert!(f("coip-address-usage.allocation-id", "eipalloc-*").matches_untagged(&u));
        assert!(!f("coip-address-usage.aws-service", "*").matches_untagged(&u));
        assert!(!f("coip-address-usage.aws-account-id", "2*").matches_untagged(&u));
    }

    #[test]
    fn pools_are_shareable_through_ram() {
        let owner = crate::account::AccountId::parse("123456789012").unwrap();
        let p = pool(&[]);
        let r = crate::ram::resource_ref(&p.arn(), &owner, "us-east-1").unwrap();
        assert_eq!((r.kind.kind, r.kind.name, r.id.as_str()), (ResourceKind::CoipPool, "ec2:CoipPool", p.id.as_str()));
        assert!(crate::ram::resource_ref(&p.arn(), &owner, "us-west-2").is_err());
    }

    #[test]
    fn ids_and_modes() {
        assert!(check_id(ResourceKind::CoipPool, "ipv4pool-coip-0123456789abcdef0").is_ok());
        assert!(check_id(ResourceKind::CoipPool, "ipv4pool-coip-xyz").is_err());
        assert_eq!(Mode::parse("coip").unwrap(), Mode::Coip);
        assert!(Mode::parse("other").is_err());
    }
}
