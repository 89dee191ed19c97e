//! VPC IP Address Manager: IPAMs, scopes, pools, provisioned CIDRs and allocations.
//!
//! What Reservoir models (EC2 API reference for the IPAM operations, the IPAM user guide,
//! `docs/DECISIONS.md` items 3 and 6):
//! * an IPAM lives in its *home region* (the region of `CreateIpam`), which is always one
//!   of its operating regions; it is made with two default scopes, public and private;
//! * scopes hold pools; a pool has one address family, an optional *locale* (one of the
//!   IPAM's operating regions, where its space may be used), and may be nested in a
//!   *source pool* of the same scope and family;
//! * a pool's space is an address space of [`crate::space`] named by the pool id: its
//!   provisioned CIDRs are the roots, allocations (custom, VPCs, nested pools' CIDRs) are
//!   held slots. The CIDRs of a scope's top-level pools never overlap: each scope has a
//!   space covering all addresses of each family, in which a top-level pool's CIDR is
//!   held by that pool;
//! * IPAMs, scopes and pools are managed in the home region; allocations are made,
//!   listed and released in the pool's locale or the home region;
//! * AWS moves these resources through `*-in-progress` states; Reservoir answers the
//!   settled state (`create-complete`, `provisioned`…) at once.

use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::arn::Arn;
use crate::filter::{FilterSchema, Filterable};
use crate::ids::{Random, ResourceKind};
use crate::space::{Block, Family};
use crate::tags::Tag;
use crate::time::Timestamp;

/// AWS's limit of CIDRs provisioned to one pool.
pub const MAX_CIDRS_PER_POOL: usize = 50;
/// AWS's limit of nesting (a top-level pool is depth 1).
pub const MAX_POOL_DEPTH: u32 = 10;
/// `OperatingRegions` entries AWS accepts in one request.
pub const MAX_OPERATING_REGIONS: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ScopeType {
    Public,
    Private,
}

impl ScopeType {
    pub fn as_str(self) -> &'static str {
        match self {
            ScopeType::Public => "public",
            ScopeType::Private => "private",
        }
    }
}

/// The settled states Reservoir answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    CreateComplete,
    ModifyComplete,
    DeleteComplete,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::CreateComplete => "create-complete",
            State::ModifyComplete => "modify-complete",
            State::DeleteComplete => "delete-complete",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipam {
    pub id: String,
    pub owner: AccountId,
    pub home_region: String,
    pub description: Option<String>,
    /// The home region first, then the others in the order they were added.
    pub operating_regions: Vec<String>,
    pub tier: String,
    /// Whether pools of the private scopes may hold IPv6 GUA ranges (ULA ranges
    /// always may). Off unless asked, as in AWS.
    #[serde(default)]
    pub enable_private_gua: bool,
    /// Who pays for the IPAM's monitoring: `ipam-owner` or `resource-owner`.
    #[serde(default = "ipam_owner")]
    pub metered_account: String,
    pub public_scope: String,
    pub private_scope: String,
    pub state: State,
    pub created: Timestamp,
}

fn ipam_owner() -> String {
    "ipam-owner".into()
}

impl Ipam {
    pub fn arn(&self) -> String {
        Arn::new("ec2", "", &self.owner, format!("ipam/{}", self.id)).to_string()
    }

    pub fn operates_in(&self, region: &str) -> bool {
        self.operating_regions.iter().any(|r| r == region)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpamScope {
    pub id: String,
    pub owner: AccountId,
    pub ipam_id: String,
    pub home_region: String,
    pub scope_type: ScopeType,
    pub is_default: bool,
    pub description: Option<String>,
    pub state: State,
}

impl IpamScope {
    pub fn arn(&self) -> String {
        Arn::new("ec2", "", &self.owner, format!("ipam-scope/{}", self.id)).to_string()
    }

    /// The scope's address space of a family, where its top-level pools' CIDRs are held.
    pub fn space(&self, family: Family) -> String {
        format!("{}/{}", self.id, family.as_str())
    }
}

/// A CIDR provisioned to a pool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolCidr {
    pub id: String,
    pub cidr: ipnet::IpNet,
    /// The allocation holding it in the source pool (nested pools), or in the scope's
    /// space (top-level pools).
    pub allocation_id: String,
}

impl PoolCidr {
    pub fn block(&self) -> Block {
        Block::of_net(self.cidr)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpamPool {
    pub id: String,
    pub owner: AccountId,
    pub ipam_id: String,
    pub scope_id: String,
    pub scope_type: ScopeType,
    pub home_region: String,
    pub locale: Option<String>,
    pub source_pool: Option<String>,
    pub depth: u32,
    pub family: Family,
    pub description: Option<String>,
    pub auto_import: bool,
    pub publicly_advertisable: Option<bool>,
    pub min_netmask: Option<u8>,
    pub max_netmask: Option<u8>,
    pub default_netmask: Option<u8>,
    pub allocation_resource_tags: Vec<Tag>,
    pub cidrs: Vec<PoolCidr>,
    /// Pools whose source this pool is.
    pub child_pools: u32,
    pub state: State,
    pub created: Timestamp,
}

impl IpamPool {
    pub fn ipam_arn(&self) -> String {
        Arn::new("ec2", "", &self.owner, format!("ipam/{}", self.ipam_id)).to_string()
    }

    pub fn scope_arn(&self) -> String {
        Arn::new("ec2", "", &self.owner, format!("ipam-scope/{}", self.scope_id)).to_string()
    }

    pub fn arn(&self) -> String {
        Arn::new("ec2", "", &self.owner, format!("ipam-pool/{}", self.id)).to_string()
    }

    /// The pool's address space.
    pub fn space(&self) -> &str {
        &self.id
    }

    /// The smallest prefix length among the provisioned CIDRs (for searches).
    pub fn largest_root(&self) -> u8 {
        self.cidrs.iter().map(|c| c.cidr.prefix_len()).min().unwrap_or(self.family.bits())
    }

    /// Whether the pool may be used by a call made in `region`.
    pub fn usable_in(&self, region: &str) -> bool {
        region == self.home_region || self.locale.as_deref().is_none_or(|l| l == region)
    }

    /// Whether a resource in `region` may take addresses from this pool (its locale, or
    /// any region when the pool has none).
    pub fn serves_region(&self, region: &str) -> bool {
        self.locale.as_deref().is_none_or(|l| l == region)
    }

    pub fn effective_min(&self) -> u8 {
        self.min_netmask.unwrap_or(0)
    }

    pub fn effective_max(&self) -> u8 {
        self.max_netmask.unwrap_or(self.family.bits())
    }
}

/// A CIDR a resource holds, as IPAM monitoring sees it (VPC blocks today).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceCidr {
    pub block: Block,
    pub resource_id: String,
    /// `vpc` (later `subnet`, `eip`…).
    pub resource_type: String,
    pub vpc_id: String,
    /// The pool the CIDR was allocated from, if any.
    pub pool_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpamError {
    #[error("{}", not_found("ipam", .0))]
    IpamNotFound(Vec<String>),
    #[error("{}", not_found("ipam-scope", .0))]
    ScopeNotFound(Vec<String>),
    #[error("{}", not_found("ipam-pool", .0))]
    PoolNotFound(Vec<String>),
    #[error("The IPAM pool allocation ({0}) does not exist.")]
    AllocationNotFound(String),
    #[error("The {kind} ID '{id}' is malformed")]
    Malformed { kind: &'static str, id: String },
    #[error("{0}")]
    InvalidValue(String),
    #[error("{0}")]
    InvalidCombination(String),
    #[error("The request must contain the parameter {0}")]
    Missing(&'static str),
    #[error("{0}")]
    Dependency(String),
    #[error("The allocation size is too big for the pool.")]
    TooBig,
    #[error("The allocation size is too small for the pool.")]
    TooSmall,
    #[error("The resource is missing one or more of the resource tags required by the IPAM pool.")]
    MissingResourceTags,
}

fn not_found(kind: &str, ids: &[String]) -> String {
    match ids {
        [one] => format!("The {kind} ID '{one}' does not exist"),
        many => format!("The {kind} IDs '{}' do not exist", many.join(", ")),
    }
}

/// Checks an id's form (prefix and 17 hex digits; 8 for old ids).
pub fn check_id(kind: ResourceKind, id: &str) -> Result<(), IpamError> {
    if kind.is_well_formed(id) {
        Ok(())
    } else {
        Err(IpamError::Malformed { kind: kind.display_name(), id: id.to_string() })
    }
}

/// Allocation ids: `ipam-pool-alloc-` and 33 hex digits, the first `0`.
pub const ALLOCATION_PREFIX: &str = "ipam-pool-alloc-";
/// Pool CIDR ids: `ipam-pool-cidr-` and 33 hex digits, the first `0`.
pub const POOL_CIDR_PREFIX: &str = "ipam-pool-cidr-";

pub fn new_long_id(prefix: &str, rng: &mut dyn Random) -> String {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    let mut id = String::with_capacity(prefix.len() + 33);
    id.push_str(prefix);
    id.push('0');
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

/// `ipam-pool-alloc-` with 32 or 33 hex digits (both appear in AWS's documents).
pub fn check_allocation_id(id: &str) -> Result<(), IpamError> {
    let ok = id
        .strip_prefix(ALLOCATION_PREFIX)
        .is_some_and(|hex| (hex.len() == 32 || hex.len() == 33) && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if ok { Ok(()) } else { Err(IpamError::Malformed { kind: "ipam-pool-alloc", id: id.to_string() }) }
}

/// Parses a CIDR of the pool's family, in canonical form.
pub fn parse_cidr(text: &str, family: Family) -> Result<Block, IpamError> {
    let net: ipnet::IpNet = match family {
        Family::Ipv4 => crate::cidr::parse_ipv4(text).map(Into::into),
        Family::Ipv6 => crate::cidr::parse_ipv6(text).map(Into::into),
    }
    .map_err(|_| {
        let other = match family {
            Family::Ipv4 => crate::cidr::parse_ipv6(text).is_ok(),
            Family::Ipv6 => crate::cidr::parse_ipv4(text).is_ok(),
        };
        if other {
            IpamError::InvalidValue(format!(
                "The CIDR {text} is not an {} CIDR; the pool's address family is {}.",
                family.as_str().to_uppercase().replace("IPV", "IPv"),
                family.as_str()
            ))
        } else {
            IpamError::InvalidValue(format!("The CIDR '{text}' is invalid."))
        }
    })?;
    Ok(Block::of_net(net))
}

/// IPv6 unique local space (RFC 4193), `fc00::/7`.
pub fn ula_space() -> Block {
    Block::new(Family::Ipv6, 0xfc00_u128 << 112, 7).expect("fc00::/7")
}

/// A CIDR provisioned to a top-level pool of a private scope: IPv4 and IPv6 ULA
/// always, an IPv6 GUA range only when the IPAM has `EnablePrivateGua`.
pub fn check_private_space(ipam: &Ipam, scope_type: ScopeType, b: Block) -> Result<(), IpamError> {
    if scope_type != ScopeType::Private
        || b.family != Family::Ipv6
        || ula_space().contains(b)
        || ipam.enable_private_gua
    {
        return Ok(());
    }
    Err(IpamError::InvalidValue(format!(
        "The CIDR {} is IPv6 GUA space: a pool in a private scope can hold it only when private GUA is enabled on the IPAM {} (EnablePrivateGua).",
        b.text(),
        ipam.id
    )))
}

/// A netmask length parameter of the family.
pub fn check_netmask(name: &str, value: i32, family: Family) -> Result<u8, IpamError> {
    if value < 0 || value > i32::from(family.bits()) {
        return Err(IpamError::InvalidValue(format!(
            "The value {value} for {name} is invalid: it must be between 0 and {} for an {} pool.",
            family.bits(),
            family.as_str()
        )));
    }
    Ok(value as u8)
}

/// The allocation bounds of a pool: min ≤ default ≤ max where given.
pub fn check_bounds(min: Option<u8>, max: Option<u8>, default: Option<u8>) -> Result<(), IpamError> {
    if let (Some(lo), Some(hi)) = (min, max)
        && lo > hi
    {
        return Err(IpamError::InvalidValue(format!(
            "The allocation minimum netmask length ({lo}) must be less than or equal to the allocation maximum netmask length ({hi})."
        )));
    }
    if let Some(d) = default
        && (min.is_some_and(|lo| d < lo) || max.is_some_and(|hi| d > hi))
    {
        return Err(IpamError::InvalidValue(format!(
            "The allocation default netmask length ({d}) must be between the allocation minimum and maximum netmask lengths."
        )));
    }
    Ok(())
}

/// Checks an allocation's size against the pool's bounds.
pub fn check_allocation_size(pool: &IpamPool, prefix: u8) -> Result<(), IpamError> {
    if prefix < pool.effective_min() {
        return Err(IpamError::TooBig);
    }
    if prefix > pool.effective_max() {
        return Err(IpamError::TooSmall);
    }
    Ok(())
}

/// What an allocation asks for: a given block, or the lowest free block of a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    Cidr(Block),
    Length(u8),
}

/// Decides between `Cidr`, `NetmaskLength` and the pool's default (AWS's rules for
/// `AllocateIpamPoolCidr`, `CreateVpc` and `AssociateVpcCidrBlock`).
pub fn ask(pool: &IpamPool, cidr: Option<&str>, netmask: Option<i32>, netmask_name: &str) -> Result<Ask, IpamError> {
    match (cidr, netmask) {
        (Some(_), Some(_)) => Err(IpamError::InvalidCombination(
            "The request can only contain a CIDR or a Netmask Length, not both.".into(),
        )),
        (Some(c), None) => {
            let b = parse_cidr(c, pool.family)?;
            check_allocation_size(pool, b.prefix)?;
            Ok(Ask::Cidr(b))
        }
        (None, Some(n)) => {
            let n = check_netmask(netmask_name, n, pool.family)?;
            check_allocation_size(pool, n)?;
            Ok(Ask::Length(n))
        }
        (None, None) => match pool.default_netmask {
            Some(n) => {
                check_allocation_size(pool, n)?;
                Ok(Ask::Length(n))
            }
            None => Err(IpamError::InvalidCombination(
                "The request cannot contain empty CIDR and Netmask Length for a pool with no default allocation netmask length set. Exactly one of them should be provided.".into(),
            )),
        },
    }
}

/// A resource taking space from a pool carries every tag the pool requires.
pub fn check_resource_tags(pool: &IpamPool, tags: &[Tag]) -> Result<(), IpamError> {
    let ok = pool
        .allocation_resource_tags
        .iter()
        .all(|want| tags.iter().any(|t| t.key == want.key && t.value == want.value));
    if ok { Ok(()) } else { Err(IpamError::MissingResourceTags) }
}

/// `OperatingRegions` of a new IPAM: the home region first, then the others once each.
pub fn operating_regions(home: &str, asked: &[String]) -> Vec<String> {
    let mut out = vec![home.to_string()];
    for r in asked {
        if !out.contains(r) {
            out.push(r.clone());
        }
    }
    out
}

pub fn new_ipam(
    owner: &AccountId,
    home: &str,
    description: Option<String>,
    regions: Vec<String>,
    tier: Option<String>,
    now: Timestamp,
    rng: &mut dyn Random,
) -> (Ipam, IpamScope, IpamScope) {
    let id = ResourceKind::Ipam.new_id(rng);
    let scope = |t: ScopeType, rng: &mut dyn Random| IpamScope {
        id: ResourceKind::IpamScope.new_id(rng),
        owner: owner.clone(),
        ipam_id: id.clone(),
        home_region: home.to_string(),
        scope_type: t,
        is_default: true,
        description: None,
        state: State::CreateComplete,
    };
    let public = scope(ScopeType::Public, rng);
    let private = scope(ScopeType::Private, rng);
    let ipam = Ipam {
        id: id.clone(),
        owner: owner.clone(),
        home_region: home.to_string(),
        description,
        operating_regions: regions,
        tier: tier.unwrap_or_else(|| "advanced".into()),
        enable_private_gua: false,
        metered_account: ipam_owner(),
        public_scope: public.id.clone(),
        private_scope: private.id.clone(),
        state: State::CreateComplete,
        created: now,
    };
    (ipam, public, private)
}

/// `DescribeIpams` filters (the API reference names none; these are the answer's
/// fields, in EC2's kebab-case convention).
pub const IPAM_FILTERS: FilterSchema = FilterSchema {
    names: &["ipam-id", "ipam-region", "owner-id", "state", "description", "tier", "operating-region", "ipam-arn"],
    aliases: &[("operating-region.region-name", "operating-region")],
    tags: true,
};

impl Filterable for Ipam {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "ipam-id" => m(&self.id),
            "ipam-region" => m(&self.home_region),
            "owner-id" => m(self.owner.as_str()),
            "state" => m(self.state.as_str()),
            "description" => self.description.as_deref().is_some_and(m),
            "tier" => m(&self.tier),
            "operating-region" => self.operating_regions.iter().any(|r| m(r)),
            "ipam-arn" => m(&self.arn()),
            _ => false,
        }
    }
}

pub const SCOPE_FILTERS: FilterSchema = FilterSchema {
    names: &[
        "ipam-scope-id",
        "ipam-id",
        "ipam-arn",
        "ipam-region",
        "ipam-scope-type",
        "is-default",
        "description",
        "owner-id",
        "state",
    ],
    aliases: &[],
    tags: true,
};

impl IpamScope {
    /// The ARN of the scope's IPAM.
    pub fn ipam_arn(&self) -> String {
        Arn::new("ec2", "", &self.owner, format!("ipam/{}", self.ipam_id)).to_string()
    }
}

impl Filterable for IpamScope {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "ipam-scope-id" => m(&self.id),
            "ipam-id" => m(&self.ipam_id),
            "ipam-arn" => m(&self.ipam_arn()),
            "ipam-region" => m(&self.home_region),
            "ipam-scope-type" => m(self.scope_type.as_str()),
            "is-default" => m(if self.is_default { "true" } else { "false" }),
            "description" => self.description.as_deref().is_some_and(m),
            "owner-id" => m(self.owner.as_str()),
            "state" => m(self.state.as_str()),
            _ => false,
        }
    }
}

pub const POOL_FILTERS: FilterSchema = FilterSchema {
    names: &[
        "ipam-pool-id",
        "ipam-scope-id",
        "ipam-scope-type",
        "ipam-id",
        "ipam-region",
        "address-family",
        "locale",
        "state",
        "description",
        "pool-depth",
        "source-ipam-pool-id",
        "owner-id",
        "auto-import",
        "publicly-advertisable",
        "allocation-min-netmask-length",
        "allocation-max-netmask-length",
        "allocation-default-netmask-length",
    ],
    aliases: &[],
    tags: true,
};

impl Filterable for IpamPool {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        let num = |n: Option<u8>, m: &mut dyn FnMut(&str) -> bool| n.is_some_and(|n| m(&n.to_string()));
        match name {
            "ipam-pool-id" => m(&self.id),
            "ipam-scope-id" => m(&self.scope_id),
            "ipam-scope-type" => m(self.scope_type.as_str()),
            "ipam-id" => m(&self.ipam_id),
            "ipam-region" => m(&self.home_region),
            "address-family" => m(self.family.as_str()),
            "locale" => m(self.locale.as_deref().unwrap_or("None")),
            "state" => m(self.state.as_str()),
            "description" => self.description.as_deref().is_some_and(m),
            "pool-depth" => m(&self.depth.to_string()),
            "source-ipam-pool-id" => self.source_pool.as_deref().is_some_and(m),
            "owner-id" => m(self.owner.as_str()),
            "auto-import" => m(if self.auto_import { "true" } else { "false" }),
            "publicly-advertisable" => self.publicly_advertisable.is_some_and(|p| m(if p { "true" } else { "false" })),
            "allocation-min-netmask-length" => num(self.min_netmask, m),
            "allocation-max-netmask-length" => num(self.max_netmask, m),
            "allocation-default-netmask-length" => num(self.default_netmask, m),
            _ => false,
        }
    }
}

pub const POOL_CIDR_FILTERS: FilterSchema =
    FilterSchema { names: &["cidr", "state", "ipam-pool-cidr-id", "netmask-length"], aliases: &[], tags: false };

impl Filterable for PoolCidr {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "cidr" => m(&self.block().text()),
            "state" => m("provisioned"),
            "ipam-pool-cidr-id" => m(&self.id),
            "netmask-length" => m(&self.cidr.prefix_len().to_string()),
            _ => false,
        }
    }
}

/// `GetIpamPoolAllocations` filters (the AWS CLI's example uses
/// `ipam-pool-allocation-id`; the others are the answer's fields).
pub const ALLOCATION_FILTERS: FilterSchema = FilterSchema {
    names: &[
        "ipam-pool-allocation-id",
        "cidr",
        "resource-id",
        "resource-type",
        "resource-owner",
        "resource-region",
        "description",
    ],
    aliases: &[],
    tags: false,
};

/// An allocation with its block, for filters.
pub struct AllocationView<'a> {
    pub block: Block,
    pub allocation: &'a crate::space::Allocation,
}

impl Filterable for AllocationView<'_> {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        let a = self.allocation;
        match name {
            "ipam-pool-allocation-id" => m(&a.id),
            "cidr" => m(&self.block.text()),
            "resource-id" => a.resource_id.as_deref().is_some_and(m),
            "resource-type" => m(&a.resource_type),
            "resource-owner" => m(&a.resource_owner),
            "resource-region" => a.resource_region.as_deref().is_some_and(m),
            "description" => a.description.as_deref().is_some_and(m),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SeededRandom;

    #[test]
    fn private_scopes_take_gua_only_when_enabled() {
        let mut rng = SeededRandom::new(5);
        let (mut ipam, _, _) = new_ipam(
            &AccountId::default_account(),
            "us-east-1",
            None,
            vec!["us-east-1".into()],
            None,
            Timestamp(0),
            &mut rng,
        );
        let v6 = |t: &str| parse_cidr(t, Family::Ipv6).unwrap();
        let v4 = parse_cidr("10.0.0.0/8", Family::Ipv4).unwrap();
        assert!(!ipam.enable_private_gua);
        for ula in ["fd00:1::/48", "fc00::/7", "fdff:ffff::/32"] {
            assert!(check_private_space(&ipam, ScopeType::Private, v6(ula)).is_ok(), "{ula}");
        }
        assert!(check_private_space(&ipam, ScopeType::Private, v4).is_ok());
        for gua in ["2001:db8::/32", "fe00::/8", "::/0", "fc00::/6"] {
            assert!(check_private_space(&ipam, ScopeType::Private, v6(gua)).is_err(), "{gua}");
            assert!(check_private_space(&ipam, ScopeType::Public, v6(gua)).is_ok(), "{gua}");
        }
        ipam.enable_private_gua = true;
        assert!(check_private_space(&ipam, ScopeType::Private, v6("2001:db8::/32")).is_ok());
    }

    fn pool(family: Family) -> IpamPool {
        let mut rng = SeededRandom::new(3);
        IpamPool {
            id: ResourceKind::IpamPool.new_id(&mut rng),
            owner: AccountId::default_account(),
            ipam_id: "ipam-0123456789abcdef0".into(),
            scope_id: "ipam-scope-0123456789abcdef0".into(),
            scope_type: ScopeType::Private,
            home_region: "us-east-1".into(),
            locale: Some("us-east-1".into()),
            source_pool: None,
            depth: 1,
            family,
            description: None,
            auto_import: false,
            publicly_advertisable: None,
            min_netmask: Some(16),
            max_netmask: Some(28),
            default_netmask: None,
            allocation_resource_tags: vec![],
            cidrs: vec![],
            child_pools: 0,
            state: State::CreateComplete,
            created: Timestamp(0),
        }
    }

    #[test]
    fn asks_follow_the_netmask_rules() {
        let mut p = pool(Family::Ipv4);
        assert_eq!(ask(&p, None, Some(24), "NetmaskLength"), Ok(Ask::Length(24)));
        assert_eq!(ask(&p, None, Some(8), "NetmaskLength"), Err(IpamError::TooBig));
        assert_eq!(ask(&p, None, Some(30), "NetmaskLength"), Err(IpamError::TooSmall));
        assert!(matches!(ask(&p, None, Some(33), "NetmaskLength"), Err(IpamError::InvalidValue(_))));
        assert!(matches!(ask(&p, None, None, "NetmaskLength"), Err(IpamError::InvalidCombination(_))));
        assert!(matches!(ask(&p, Some("10.0.0.0/24"), Some(24), "x"), Err(IpamError::InvalidCombination(_))));
        p.default_netmask = Some(20);
        assert_eq!(ask(&p, None, None, "NetmaskLength"), Ok(Ask::Length(20)));
        assert_eq!(
            ask(&p, Some("10.0.0.5/24"), None, "x").map(|a| match a {
                Ask::Cidr(b) => b.text(),
                Ask::Length(_) => String::new(),
            }),
            Ok("10.0.0.0/24".to_string())
        );
        let err = ask(&p, Some("fd00::/56"), None, "x").unwrap_err();
        assert!(err.to_string().contains("not an IPv4 CIDR"), "{err}");
        let p6 = pool(Family::Ipv6);
        assert!(matches!(ask(&p6, Some("10.0.0.0/24"), None, "x"), Err(IpamError::InvalidValue(_))));
    }

    #[test]
    fn ids_and_bounds() {
        let id = new_long_id(ALLOCATION_PREFIX, &mut SeededRandom::new(1));
        assert_eq!(id.len(), ALLOCATION_PREFIX.len() + 33);
        assert!(check_allocation_id(&id).is_ok());
        assert!(check_allocation_id("ipam-pool-alloc-fbd525f6c2bf4e77a75690fc2d93479a").is_ok());
        assert!(check_allocation_id("ipam-pool-alloc-123").is_err());
        assert!(check_id(ResourceKind::IpamPool, "ipam-pool-0533048da7d823723").is_ok());
        assert!(check_id(ResourceKind::IpamPool, "ipam-0533048da7d823723").is_err());
        assert!(check_bounds(Some(16), Some(28), Some(20)).is_ok());
        assert!(check_bounds(Some(28), Some(16), None).is_err());
        assert!(check_bounds(Some(16), Some(28), Some(29)).is_err());
        assert_eq!(
            operating_regions("us-east-1", &["us-west-2".into(), "us-east-1".into()]),
            ["us-east-1", "us-west-2"]
        );
    }

    #[test]
    fn resource_tags() {
        let mut p = pool(Family::Ipv4);
        p.allocation_resource_tags = vec![Tag { key: "env".into(), value: "prod".into() }];
        assert_eq!(check_resource_tags(&p, &[]), Err(IpamError::MissingResourceTags));
        assert!(check_resource_tags(&p, &[Tag { key: "env".into(), value: "prod".into() }]).is_ok());
    }
}
