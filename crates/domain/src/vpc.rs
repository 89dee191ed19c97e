//! VPCs.
//!
//! What Reservoir models (Amazon VPC User Guide, EC2 API reference `CreateVpc`,
//! `DescribeVpcs`, `DeleteVpc`):
//! * an IPv4 CIDR block between /16 and /28 (else `InvalidVpc.Range`), in canonical
//!   form: host bits are cleared, as the API reference says (`crate::cidr`);
//! * the CIDR associations are a list from the start (later: secondary CIDRs and
//!   CIDRs allocated from IPAM pools), the first one is the VPC's `CidrBlock`;
//! * tenancy `default` or `dedicated` (`host` is for instances, not VPCs);
//! * every account has a *default VPC* in each region, `172.31.0.0/16`, made the first
//!   time the account uses the region; it can be deleted like any other;
//! * a quota of VPCs per region (AWS's default: 5, default VPC included), enforced only
//!   when configured, so that test suites can make as many VPCs as they need;
//! * `CreateVpc` answers `pending`; the VPC is `available` from then on.

use ipnet::{Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::cidr::ipv4_text;
use crate::filter::{FilterSchema, Filterable};
use crate::ids::{Random, ResourceKind};
use crate::time::Timestamp;

/// AWS's default "VPCs per Region" quota (enforced only when configured: see `Quotas`
/// in the server).
pub const AWS_VPC_QUOTA: u32 = 5;
/// The CIDR of every default VPC.
pub const DEFAULT_VPC_CIDR: &str = "172.31.0.0/16";
pub const MIN_PREFIX: u8 = 16;
pub const MAX_PREFIX: u8 = 28;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Tenancy {
    Default,
    Dedicated,
}

impl Tenancy {
    pub fn as_str(self) -> &'static str {
        match self {
            Tenancy::Default => "default",
            Tenancy::Dedicated => "dedicated",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum VpcState {
    Pending,
    Available,
}

impl VpcState {
    pub fn as_str(self) -> &'static str {
        match self {
            VpcState::Pending => "pending",
            VpcState::Available => "available",
        }
    }
}

/// The state of a CIDR block association.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AssociationState {
    Associating,
    Associated,
    Disassociating,
    Disassociated,
    Failing,
    Failed,
}

impl AssociationState {
    pub fn as_str(self) -> &'static str {
        match self {
            AssociationState::Associating => "associating",
            AssociationState::Associated => "associated",
            AssociationState::Disassociating => "disassociating",
            AssociationState::Disassociated => "disassociated",
            AssociationState::Failing => "failing",
            AssociationState::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CidrAssociation {
    pub association_id: String,
    pub cidr: Ipv4Net,
    /// `associated` once settled.
    pub state: AssociationState,
    /// The IPAM pool allocation holding the CIDR, when it came from a pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipam: Option<PoolHold>,
}

/// An IPv6 CIDR block association (from an IPAM pool, or given outright).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipv6Association {
    pub association_id: String,
    pub cidr: Ipv6Net,
    pub state: AssociationState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipam: Option<PoolHold>,
    /// From Amazon's pool of IPv6 addresses (`AmazonProvidedIpv6CidrBlock`): a /56 of
    /// [`AMAZON_IPV6_ROOT`], held in the one Amazon space every account shares.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub amazon: bool,
}

/// Which IPAM pool allocation holds a VPC's CIDR: freed when the CIDR goes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PoolHold {
    pub pool_id: String,
    pub allocation_id: String,
    /// The pool's home region (where its space is kept).
    pub pool_region: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vpc {
    pub id: String,
    pub owner: AccountId,
    /// IPv4 associations; the first is the primary CIDR.
    pub cidr_associations: Vec<CidrAssociation>,
    /// IPv6 associations (none unless asked for).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipv6_associations: Vec<Ipv6Association>,
    pub dhcp_options_id: String,
    pub tenancy: Tenancy,
    pub is_default: bool,
    pub state: VpcState,
    pub created: Timestamp,
    /// `enableDnsSupport` (true unless turned off); `None` in documents stored before
    /// the attribute existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_support: Option<bool>,
    /// `enableDnsHostnames` (true for a default VPC, false otherwise, until modified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_hostnames: Option<bool>,
    /// `enableNetworkAddressUsageMetrics` (false until modified).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_usage_metrics: Option<bool>,
}

impl Vpc {
    /// The primary IPv4 CIDR block.
    pub fn cidr_block(&self) -> Ipv4Net {
        self.cidr_associations[0].cidr
    }

    pub fn attribute(&self, a: Attribute) -> bool {
        match a {
            Attribute::DnsSupport => self.dns_support.unwrap_or(true),
            Attribute::DnsHostnames => self.dns_hostnames.unwrap_or(self.is_default),
            Attribute::AddressUsageMetrics => self.address_usage_metrics.unwrap_or(false),
        }
    }

    /// Sets one attribute, with AWS's rule that DNS hostnames need DNS support.
    pub fn set_attribute(&mut self, a: Attribute, value: bool) -> Result<(), VpcError> {
        let (support, hostnames) = match a {
            Attribute::DnsSupport => (value, self.attribute(Attribute::DnsHostnames)),
            Attribute::DnsHostnames => (self.attribute(Attribute::DnsSupport), value),
            Attribute::AddressUsageMetrics => (true, false),
        };
        if hostnames && !support {
            return Err(VpcError::InvalidValue(
                "DNS hostnames can only be enabled in a VPC that has DNS support enabled.".into(),
            ));
        }
        match a {
            Attribute::DnsSupport => self.dns_support = Some(value),
            Attribute::DnsHostnames => self.dns_hostnames = Some(value),
            Attribute::AddressUsageMetrics => self.address_usage_metrics = Some(value),
        }
        Ok(())
    }
}

/// The attributes of `DescribeVpcAttribute` / `ModifyVpcAttribute`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attribute {
    DnsSupport,
    DnsHostnames,
    AddressUsageMetrics,
}

/// Amazon's IPv6 space: every `AmazonProvidedIpv6CidrBlock` is a /56 of it, taken from
/// one space shared by all accounts and regions, so no /56 is handed out twice.
pub const AMAZON_IPV6_ROOT: &str = "2600:1f00::/24";
/// The prefix length of an Amazon-provided VPC block.
pub const AMAZON_IPV6_PREFIX: u8 = 56;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VpcError {
    #[error("Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.")]
    MissingCidr,
    #[error("Value ({0}) for parameter cidrBlock is invalid. This is not a valid CIDR block.")]
    InvalidCidr(String),
    #[error("The CIDR '{0}' is invalid. A VPC's IPv4 CIDR block must be between a /16 and a /28 netmask.")]
    InvalidRange(String),
    #[error("The tenancy value {0} is not supported for a VPC; use default or dedicated.")]
    UnsupportedTenancy(String),
    #[error("The maximum number of VPCs has been reached.")]
    LimitExceeded,
    #[error("The vpc ID '{0}' is malformed")]
    Malformed(String),
    #[error("{}", not_found_message(.0))]
    NotFound(Vec<String>),
    #[error("The vpc '{0}' has dependencies and cannot be deleted.")]
    DependencyViolation(String),
    #[error("{0}")]
    InvalidValue(String),
}

fn not_found_message(ids: &[String]) -> String {
    match ids {
        [one] => format!("The vpc ID '{one}' does not exist"),
        many => format!("The vpc IDs '{}' do not exist", many.join(", ")),
    }
}

/// Parses a VPC IPv4 CIDR with a /16–/28 prefix, in canonical form.
pub fn parse_cidr(text: &str) -> Result<Ipv4Net, VpcError> {
    let net = crate::cidr::parse_ipv4(text).map_err(|_| VpcError::InvalidCidr(text.to_string()))?;
    if !(MIN_PREFIX..=MAX_PREFIX).contains(&net.prefix_len()) {
        return Err(VpcError::InvalidRange(text.to_string()));
    }
    Ok(net)
}

pub fn parse_tenancy(text: &str) -> Result<Tenancy, VpcError> {
    match text {
        "default" => Ok(Tenancy::Default),
        "dedicated" => Ok(Tenancy::Dedicated),
        other => Err(VpcError::UnsupportedTenancy(other.to_string())),
    }
}

/// Checks the form of a VPC id (`vpc-` and 8 or 17 hex digits).
pub fn check_id(id: &str) -> Result<(), VpcError> {
    if ResourceKind::Vpc.is_well_formed(id) { Ok(()) } else { Err(VpcError::Malformed(id.to_string())) }
}

/// A validated `CreateVpc`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewVpc {
    pub cidr: Ipv4Net,
    pub tenancy: Tenancy,
}

/// Makes a VPC, enforcing the per-region `quota` if one is set (`existing` VPCs in the
/// scope now).
pub fn create(
    owner: &AccountId,
    req: &NewVpc,
    dhcp_options_id: &str,
    existing: u64,
    quota: Option<u32>,
    now: Timestamp,
    rng: &mut dyn Random,
) -> Result<Vpc, VpcError> {
    if quota.is_some_and(|q| existing >= u64::from(q)) {
        return Err(VpcError::LimitExceeded);
    }
    Ok(build(owner, req, dhcp_options_id, false, now, rng))
}

/// The default VPC of a new (account, region).
pub fn default_vpc(owner: &AccountId, dhcp_options_id: &str, now: Timestamp, rng: &mut dyn Random) -> Vpc {
    let req = NewVpc { cidr: DEFAULT_VPC_CIDR.parse().expect("valid"), tenancy: Tenancy::Default };
    build(owner, &req, dhcp_options_id, true, now, rng)
}

fn build(owner: &AccountId, req: &NewVpc, dhcp: &str, is_default: bool, now: Timestamp, rng: &mut dyn Random) -> Vpc {
    Vpc {
        id: ResourceKind::Vpc.new_id(rng),
        owner: owner.clone(),
        cidr_associations: vec![CidrAssociation {
            association_id: ResourceKind::VpcCidrBlockAssociation.new_id(rng),
            cidr: req.cidr,
            state: AssociationState::Associated,
            ipam: None,
        }],
        ipv6_associations: Vec::new(),
        dhcp_options_id: dhcp.to_string(),
        tenancy: req.tenancy,
        is_default,
        state: VpcState::Available,
        created: now,
        dns_support: None,
        dns_hostnames: None,
        address_usage_metrics: None,
    }
}

/// A VPC's IPv4 blocks at most (AWS's default quota of CIDR blocks per VPC, which is
/// adjustable; enforced so that a runaway loop is caught).
pub const MAX_IPV4_CIDRS: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssociateError {
    #[error("The CIDR '{0}' overlaps a CIDR block of the VPC.")]
    Overlaps(String),
    #[error("The VPC has reached the maximum number of CIDR blocks.")]
    TooMany,
    #[error("The association ID '{0}' does not exist")]
    NotFound(String),
    #[error("The vpc-cidr-assoc ID '{0}' is malformed")]
    Malformed(String),
    #[error("The CIDR block {0} is the primary CIDR block of the VPC and cannot be disassociated.")]
    Primary(String),
}

/// Adds a secondary IPv4 block: it must not overlap the VPC's other blocks.
pub fn associate_ipv4(
    vpc: &mut Vpc,
    cidr: Ipv4Net,
    ipam: Option<PoolHold>,
    rng: &mut dyn Random,
) -> Result<CidrAssociation, AssociateError> {
    let live = || vpc.cidr_associations.iter().filter(|a| a.state == AssociationState::Associated);
    if live().any(|a| a.cidr.contains(&cidr.network()) || cidr.contains(&a.cidr.network())) {
        return Err(AssociateError::Overlaps(ipv4_text(&cidr)));
    }
    if live().count() >= MAX_IPV4_CIDRS {
        return Err(AssociateError::TooMany);
    }
    let a = CidrAssociation {
        association_id: ResourceKind::VpcCidrBlockAssociation.new_id(rng),
        cidr,
        state: AssociationState::Associated,
        ipam,
    };
    vpc.cidr_associations.push(a.clone());
    Ok(a)
}

/// Adds an IPv6 block (AWS allows several, each /44–/64 from a pool, /56 from Amazon).
pub fn associate_ipv6(
    vpc: &mut Vpc,
    cidr: Ipv6Net,
    ipam: Option<PoolHold>,
    rng: &mut dyn Random,
) -> Result<Ipv6Association, AssociateError> {
    check_ipv6(vpc, cidr)?;
    let a = Ipv6Association {
        association_id: ResourceKind::VpcCidrBlockAssociation.new_id(rng),
        cidr,
        state: AssociationState::Associated,
        ipam,
        amazon: false,
    };
    vpc.ipv6_associations.push(a.clone());
    Ok(a)
}

/// Whether an IPv6 block can join the VPC: no overlap, at most five.
pub fn check_ipv6(vpc: &Vpc, cidr: Ipv6Net) -> Result<(), AssociateError> {
    if vpc.ipv6_associations.iter().any(|a| a.cidr.contains(&cidr.network()) || cidr.contains(&a.cidr.network())) {
        return Err(AssociateError::Overlaps(cidr.to_string()));
    }
    if vpc.ipv6_associations.len() >= 5 {
        return Err(AssociateError::TooMany);
    }
    Ok(())
}

/// Adds an Amazon-provided /56, already taken from Amazon's space under `association_id`
/// (the allocation's id there).
pub fn associate_amazon_ipv6(
    vpc: &mut Vpc,
    cidr: Ipv6Net,
    association_id: String,
) -> Result<Ipv6Association, AssociateError> {
    check_ipv6(vpc, cidr)?;
    let a = Ipv6Association { association_id, cidr, state: AssociationState::Associated, ipam: None, amazon: true };
    vpc.ipv6_associations.push(a.clone());
    Ok(a)
}

/// What a disassociation removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removed {
    Ipv4(CidrAssociation),
    Ipv6(Ipv6Association),
}

/// Removes a secondary block (IPv4 or IPv6) by association id; the primary IPv4 block
/// cannot be removed.
pub fn disassociate(vpc: &mut Vpc, association_id: &str) -> Result<Removed, AssociateError> {
    if let Some(i) = vpc.cidr_associations.iter().position(|a| a.association_id == association_id) {
        if i == 0 {
            return Err(AssociateError::Primary(ipv4_text(&vpc.cidr_associations[0].cidr)));
        }
        let mut a = vpc.cidr_associations.remove(i);
        a.state = AssociationState::Disassociated;
        return Ok(Removed::Ipv4(a));
    }
    if let Some(i) = vpc.ipv6_associations.iter().position(|a| a.association_id == association_id) {
        let mut a = vpc.ipv6_associations.remove(i);
        a.state = AssociationState::Disassociated;
        return Ok(Removed::Ipv6(a));
    }
    Err(AssociateError::NotFound(association_id.to_string()))
}

/// Every pool allocation the VPC holds (freed when it is deleted).
pub fn pool_holds(vpc: &Vpc) -> Vec<(PoolHold, ipnet::IpNet)> {
    let v4 = vpc.cidr_associations.iter().filter_map(|a| a.ipam.clone().map(|h| (h, ipnet::IpNet::V4(a.cidr))));
    let v6 = vpc.ipv6_associations.iter().filter_map(|a| a.ipam.clone().map(|h| (h, ipnet::IpNet::V6(a.cidr))));
    v4.chain(v6).collect()
}

/// What else lives in a VPC; a VPC with any of it cannot be deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Dependents {
    pub count: usize,
}

pub fn check_deletable(vpc: &Vpc, dependents: &Dependents) -> Result<(), VpcError> {
    if dependents.count > 0 {
        return Err(VpcError::DependencyViolation(vpc.id.clone()));
    }
    Ok(())
}

/// `DescribeVpcs` filters (EC2 API reference), and the older spellings EC2 accepts that
/// widely used clients send: `isDefault` (the Terraform AWS provider's `aws_vpc` and
/// `aws_default_vpc`, Ansible's `ec2_instance`; the documented name until 2021),
/// `cidr-block` (Ansible's `ec2_vpc_net`) and `cidrBlock`, both the primary CIDR.
pub const FILTERS: FilterSchema = FilterSchema {
    names: &[
        "cidr",
        "cidr-block-association.cidr-block",
        "cidr-block-association.association-id",
        "cidr-block-association.state",
        "dhcp-options-id",
        "ipv6-cidr-block-association.ipv6-cidr-block",
        "ipv6-cidr-block-association.ipv6-pool",
        "ipv6-cidr-block-association.association-id",
        "ipv6-cidr-block-association.state",
        "is-default",
        "owner-id",
        "state",
        "vpc-id",
    ],
    aliases: &[("isDefault", "is-default"), ("cidr-block", "cidr"), ("cidrBlock", "cidr")],
    tags: true,
};

impl Filterable for Vpc {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "cidr" => m(&ipv4_text(&self.cidr_block())),
            "cidr-block-association.cidr-block" => self.cidr_associations.iter().any(|a| m(&ipv4_text(&a.cidr))),
            "cidr-block-association.association-id" => self.cidr_associations.iter().any(|a| m(&a.association_id)),
            "cidr-block-association.state" => self.cidr_associations.iter().any(|a| m(a.state.as_str())),
            "dhcp-options-id" => m(&self.dhcp_options_id),
            "is-default" => m(if self.is_default { "true" } else { "false" }),
            "owner-id" => m(self.owner.as_str()),
            "state" => m(self.state.as_str()),
            "vpc-id" => m(&self.id),
            "ipv6-cidr-block-association.ipv6-cidr-block" => {
                self.ipv6_associations.iter().any(|a| m(&a.cidr.to_string()))
            }
            "ipv6-cidr-block-association.association-id" => self.ipv6_associations.iter().any(|a| m(&a.association_id)),
            "ipv6-cidr-block-association.state" => self.ipv6_associations.iter().any(|a| m(a.state.as_str())),
            // Amazon-provided and BYOIP IPv6 pools (`ipv6-pool`) are not served.
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{Filter, FilterSet};
    use crate::ids::SeededRandom;

    #[test]
    fn cidr_rules() {
        assert_eq!(parse_cidr("10.0.0.0/16").unwrap().to_string(), "10.0.0.0/16");
        assert_eq!(parse_cidr("10.0.0.0/28").unwrap().prefix_len(), 28);
        assert!(matches!(parse_cidr("10.0.0.0/15"), Err(VpcError::InvalidRange(_))));
        assert!(matches!(parse_cidr("10.0.0.0/29"), Err(VpcError::InvalidRange(_))));
        // Canonical form, as the API reference documents.
        assert_eq!(parse_cidr("100.68.0.18/18").unwrap().to_string(), "100.68.0.0/18");
        assert_eq!(parse_cidr("10.0.0.1/16").unwrap().to_string(), "10.0.0.0/16");
        assert!(matches!(parse_cidr("10.0.0.0"), Err(VpcError::InvalidCidr(_))));
        assert!(matches!(parse_cidr("2001:db8::/56"), Err(VpcError::InvalidCidr(_))));
        assert!(matches!(parse_cidr("banana"), Err(VpcError::InvalidCidr(_))));
    }

    #[test]
    fn quota() {
        let mut rng = SeededRandom::new(1);
        let owner = AccountId::default_account();
        let req = NewVpc { cidr: "10.0.0.0/16".parse().unwrap(), tenancy: Tenancy::Default };
        assert!(create(&owner, &req, "dopt-1", 4, Some(5), Timestamp(0), &mut rng).is_ok());
        assert_eq!(create(&owner, &req, "dopt-1", 5, Some(5), Timestamp(0), &mut rng), Err(VpcError::LimitExceeded));
        assert!(create(&owner, &req, "dopt-1", 5000, None, Timestamp(0), &mut rng).is_ok(), "no quota by default");
    }

    #[test]
    fn default_vpc_and_filters() {
        let mut rng = SeededRandom::new(1);
        let vpc = default_vpc(&AccountId::default_account(), "dopt-1", Timestamp(0), &mut rng);
        assert!(vpc.is_default);
        assert_eq!(vpc.cidr_block().to_string(), "172.31.0.0/16");
        let set = |name: &str, v: &str| FilterSet::compile(&[Filter::new(name, &[v])], &FILTERS).unwrap();
        assert!(set("is-default", "true").matches_untagged(&vpc));
        assert!(set("isDefault", "true").matches_untagged(&vpc));
        assert!(!set("isDefault", "false").matches_untagged(&vpc));
        assert!(set("cidr", "172.31.*").matches_untagged(&vpc));
        assert!(set("cidr-block", "172.31.0.0/16").matches_untagged(&vpc));
        assert!(set("cidrBlock", "172.31.0.0/16").matches_untagged(&vpc));
        assert!(set("cidr-block-association.cidr-block", "172.31.0.0/16").matches_untagged(&vpc));
        assert!(!set("cidr", "172.31.0.0/17").matches_untagged(&vpc));
        assert!(set("owner-id", "000000000000").matches_untagged(&vpc));
        assert!(set("state", "available").matches_untagged(&vpc));
        assert!(!set("ipv6-cidr-block-association.state", "*").matches_untagged(&vpc));
    }

    #[test]
    fn documents_stored_by_earlier_versions_still_read() {
        // Before 0.2 each association also carried `"source":{"type":"manual"}`.
        let stored = r#"{"id":"vpc-0d1ed161b5f68da2b","owner":"000000000000","cidr_associations":[{"association_id":"vpc-cidr-assoc-05dcaadbaa6e62055","cidr":"172.31.0.0/16","state":"associated","source":{"type":"manual"}}],"dhcp_options_id":"dopt-0123456789abcdef0","tenancy":"default","is_default":true,"state":"available","created":0}"#;
        let v: Vpc = serde_json::from_str(stored).unwrap();
        assert_eq!(v.cidr_block().to_string(), "172.31.0.0/16");
    }

    #[test]
    fn secondary_blocks() {
        let mut rng = SeededRandom::new(2);
        let req = NewVpc { cidr: "10.0.0.0/16".parse().unwrap(), tenancy: Tenancy::Default };
        let mut v = create(&AccountId::default_account(), &req, "dopt-1", 0, None, Timestamp(0), &mut rng).unwrap();
        let overlap = associate_ipv4(&mut v, "10.0.128.0/17".parse().unwrap(), None, &mut rng);
        assert_eq!(overlap, Err(AssociateError::Overlaps("10.0.128.0/17".into())));
        let a = associate_ipv4(&mut v, "10.1.0.0/16".parse().unwrap(), None, &mut rng).unwrap();
        let six = associate_ipv6(&mut v, "fd00::/56".parse().unwrap(), None, &mut rng).unwrap();
        assert!(associate_ipv6(&mut v, "fd00::/60".parse().unwrap(), None, &mut rng).is_err());
        let primary = v.cidr_associations[0].association_id.clone();
        assert!(matches!(disassociate(&mut v, &primary), Err(AssociateError::Primary(_))));
        assert!(matches!(disassociate(&mut v, &a.association_id), Ok(Removed::Ipv4(_))));
        assert!(matches!(disassociate(&mut v, &six.association_id), Ok(Removed::Ipv6(_))));
        assert!(matches!(disassociate(&mut v, &a.association_id), Err(AssociateError::NotFound(_))));
        assert_eq!(v.cidr_associations.len(), 1);
        assert!(v.ipv6_associations.is_empty());
    }

    #[test]
    fn messages() {
        assert_eq!(VpcError::NotFound(vec!["vpc-1".into()]).to_string(), "The vpc ID 'vpc-1' does not exist");
        assert_eq!(
            VpcError::NotFound(vec!["vpc-1".into(), "vpc-2".into()]).to_string(),
            "The vpc IDs 'vpc-1, vpc-2' do not exist"
        );
    }
}
