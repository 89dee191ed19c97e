//! Elastic IP addresses.
//!
//! What Reservoir models (EC2 API reference `AllocateAddress`, `ReleaseAddress`,
//! `DescribeAddresses`, `AssociateAddress`, `DisassociateAddress`,
//! `DescribeAddressesAttribute`, `ModifyAddressAttribute`; Amazon EC2 User Guide,
//! "Elastic IP addresses"):
//! * an Elastic IP is an allocation (`eipalloc-` + 17 hex) in the allocating account's
//!   scope, of domain `vpc` (EC2-Classic, domain `standard`, is retired and refused);
//! * it holds either a public IPv4 address from Amazon's pool (`publicIpv4Pool` =
//!   `amazon`) or a customer-owned address from a CoIP pool of an Outpost
//!   (`customerOwnedIp`, `customerOwnedIpv4Pool`, and no `publicIp`);
//! * its network border group is the Region's own (the default; Local Zone and
//!   Wavelength groups are not served);
//! * it is associated with at most one private IPv4 address of one network interface
//!   (`eipassoc-` + 17 hex); a private address carries at most one Elastic IP;
//! * its `domain-name` attribute is the PTR record of its reverse DNS.
//!
//! Amazon's public addresses (decision, AWS does not say which addresses come next):
//! each Region has one /16 of Amazon's `3.0.0.0/8` ([`amazon_block`]), shared by every
//! account; `AllocateAddress` takes the lowest free address of it, and the /16's first
//! and last addresses are never handed out.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::filter::{FilterSchema, Filterable};
use crate::ids::ResourceKind;
use crate::time::Timestamp;

/// The pool name AWS shows for Amazon's own addresses.
pub const AMAZON_POOL: &str = "amazon";
/// The one domain served.
pub const DOMAIN_VPC: &str = "vpc";
/// The longest domain name of a PTR record (DNS: 255 octets).
pub const MAX_DOMAIN_NAME: usize = 255;

/// Where an associated address points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Association {
    pub id: String,
    pub network_interface_id: String,
    pub network_interface_owner: AccountId,
    pub private_ip: Ipv4Addr,
    pub subnet_id: String,
    /// The instance the interface is attached to, as last seen (`DescribeAddresses`
    /// reads it again from the interface).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance_id: Option<String>,
}

/// The PTR record of an address (`ModifyAddressAttribute domain-name`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PtrRecord {
    pub domain_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    pub allocation_id: String,
    pub owner: AccountId,
    pub region: String,
    /// Amazon's addresses: the public address, from the pool `amazon`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<Ipv4Addr>,
    /// Customer-owned addresses: the address and its CoIP pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_owned_ip: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_owned_pool: Option<String>,
    pub network_border_group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association: Option<Association>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ptr: Option<PtrRecord>,
    pub created: Timestamp,
}

impl Address {
    /// The address itself, public or customer-owned.
    pub fn ip(&self) -> Ipv4Addr {
        self.public_ip.or(self.customer_owned_ip).unwrap_or(Ipv4Addr::UNSPECIFIED)
    }

    pub fn public_ipv4_pool(&self) -> Option<&str> {
        self.public_ip.map(|_| AMAZON_POOL)
    }

    /// The PTR record AWS shows by default: the address's public DNS name.
    pub fn default_ptr(&self) -> Option<String> {
        self.public_ip.map(|ip| public_dns_name(&self.region, ip))
    }
}

/// `ec2-3-16-0-1.compute-1.amazonaws.com` in us-east-1,
/// `ec2-3-16-0-1.<region>.compute.amazonaws.com` elsewhere (Amazon VPC User Guide, "DNS
/// attributes for your VPC").
pub fn public_dns_name(region: &str, ip: Ipv4Addr) -> String {
    let dashed = ip.to_string().replace('.', "-");
    if region == "us-east-1" {
        format!("ec2-{dashed}.compute-1.amazonaws.com")
    } else {
        format!("ec2-{dashed}.{region}.compute.amazonaws.com")
    }
}

/// Regions with a fixed /16 of `3.0.0.0/8`: the region at index `i` has `3.(16+i).0.0/16`.
const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "af-south-1",
    "ap-east-1",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-7",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "eu-south-1",
    "eu-south-2",
    "eu-north-1",
    "il-central-1",
    "me-south-1",
    "me-central-1",
    "mx-central-1",
    "sa-east-1",
];

/// The /16 of Amazon's public addresses that a Region hands out (decision): a Region of
/// [`REGIONS`] at index `i` has `3.(16+i).0.0/16`; any other (configured) Region has
/// `3.(128 + h).0.0/16` with `h` the FNV-1a hash of its name modulo 128 (two configured
/// Regions may then share a /16, each with its own space).
pub fn amazon_block(region: &str) -> (Ipv4Addr, u8) {
    let second = match REGIONS.iter().position(|r| *r == region) {
        Some(i) => 16 + i as u8,
        None => {
            let mut h: u32 = 0x811c_9dc5;
            for b in region.bytes() {
                h ^= u32::from(b);
                h = h.wrapping_mul(0x0100_0193);
            }
            128 + (h % 128) as u8
        }
    };
    (Ipv4Addr::new(3, second, 0, 0), 16)
}

/// Errors of the Elastic IP family (the server gives each its AWS code).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    /// `MissingParameter`.
    #[error("{0}")]
    Missing(String),
    /// `InvalidParameterValue`.
    #[error("{0}")]
    InvalidValue(String),
    /// `InvalidParameterCombination`.
    #[error("{0}")]
    Combination(String),
    /// `InvalidAllocationID.Malformed`.
    #[error("Invalid id: \"{0}\" (expecting \"eipalloc-...\")")]
    MalformedAllocation(String),
    /// `InvalidAllocationID.NotFound`.
    #[error("The allocation IDs '{}' do not exist", .0.join(", "))]
    AllocationNotFound(Vec<String>),
    /// `InvalidAddress.NotFound`: a public address that is not one of the caller's.
    #[error("Address '{}' not found.", .0.join(", "))]
    AddressNotFound(Vec<String>),
    /// `InvalidAssociationID.Malformed`.
    #[error("Invalid id: \"{0}\" (expecting \"eipassoc-...\")")]
    MalformedAssociation(String),
    /// `InvalidAssociationID.NotFound`.
    #[error("The association ID '{0}' does not exist")]
    AssociationNotFound(String),
    /// `InvalidIPAddress.InUse`: releasing an associated address.
    #[error("Address {0} is in use.")]
    InUse(String),
    /// `Resource.AlreadyAssociated`.
    #[error("resource {0} is already associated with associate-id {1}")]
    AlreadyAssociated(String, String),
    /// `AddressLimitExceeded`: Amazon's block for the Region has no free address left.
    #[error("The maximum number of addresses has been reached.")]
    Exhausted,
}

pub fn check_allocation_id(id: &str) -> Result<(), AddressError> {
    if ResourceKind::ElasticIp.is_well_formed(id) {
        Ok(())
    } else {
        Err(AddressError::MalformedAllocation(id.to_string()))
    }
}

pub fn check_association_id(id: &str) -> Result<(), AddressError> {
    if ResourceKind::ElasticIpAssociation.is_well_formed(id) {
        Ok(())
    } else {
        Err(AddressError::MalformedAssociation(id.to_string()))
    }
}

/// A dotted-quad IPv4 address given as `parameter`.
pub fn parse_ip(text: &str, parameter: &str) -> Result<Ipv4Addr, AddressError> {
    text.parse::<Ipv4Addr>().map_err(|_| {
        AddressError::InvalidValue(format!("Invalid value '{text}' for {parameter}. Not a valid IPv4 address"))
    })
}

/// The network border group of a new address: the Region's own (the default); any
/// other is refused as AWS refuses a group that does not exist.
pub fn check_border_group(given: Option<&str>, region: &str) -> Result<String, AddressError> {
    match given {
        None => Ok(region.to_string()),
        Some(g) if g == region => Ok(g.to_string()),
        Some(g) => Err(AddressError::InvalidValue(format!(
            "Invalid value '{g}' for NetworkBorderGroup. The Region's own group '{region}' is the only one here."
        ))),
    }
}

/// A PTR record's domain name: 1–255 characters of labels of letters, digits and
/// hyphens (1–63 each, not starting or ending with a hyphen), a trailing dot allowed.
pub fn check_domain_name(name: &str) -> Result<(), AddressError> {
    let bad = || AddressError::InvalidValue(format!("Invalid value '{name}' for DomainName."));
    let trimmed = name.strip_suffix('.').unwrap_or(name);
    if trimmed.is_empty() || name.len() > MAX_DOMAIN_NAME {
        return Err(bad());
    }
    for label in trimmed.split('.') {
        let ok = !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !ok {
            return Err(bad());
        }
    }
    Ok(())
}

/// Whether the address may be associated now: an address already associated is
/// `Resource.AlreadyAssociated` unless reassociation is allowed.
pub fn check_associable(a: &Address, allow_reassociation: bool) -> Result<(), AddressError> {
    match &a.association {
        Some(assoc) if !allow_reassociation => {
            Err(AddressError::AlreadyAssociated(a.allocation_id.clone(), assoc.id.clone()))
        }
        _ => Ok(()),
    }
}

/// Whether the address may be released: not while associated.
pub fn check_releasable(a: &Address) -> Result<(), AddressError> {
    match &a.association {
        Some(_) => Err(AddressError::InUse(a.ip().to_string())),
        None => Ok(()),
    }
}

/// The filters `DescribeAddresses` documents (`domain` from earlier versions of the
/// reference, which AWS still accepts); a public-ip filter matches Amazon's addresses.
pub const FILTERS: FilterSchema = FilterSchema {
    names: &[
        "allocation-id",
        "association-id",
        "domain",
        "instance-id",
        "network-border-group",
        "network-interface-id",
        "network-interface-owner-id",
        "private-ip-address",
        "public-ip",
    ],
    aliases: &[],
    tags: true,
};

impl Filterable for Address {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        let a = self.association.as_ref();
        match name {
            "allocation-id" => m(&self.allocation_id),
            "association-id" => a.is_some_and(|a| m(&a.id)),
            "domain" => m(DOMAIN_VPC),
            "instance-id" => matches!(a.and_then(|a| a.instance_id.as_deref()), Some(i) if m(i)),
            "network-border-group" => m(&self.network_border_group),
            "network-interface-id" => a.is_some_and(|a| m(&a.network_interface_id)),
            "network-interface-owner-id" => a.is_some_and(|a| m(a.network_interface_owner.as_str())),
            "private-ip-address" => a.is_some_and(|a| m(&a.private_ip.to_string())),
            "public-ip" => self.public_ip.is_some_and(|ip| m(&ip.to_string())),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{Filter, FilterSet};

    fn address() -> Address {
        Address {
            allocation_id: "eipalloc-0123456789abcdef0".into(),
            owner: AccountId::default_account(),
            region: "us-east-1".into(),
            public_ip: Some(Ipv4Addr::new(3, 16, 0, 1)),
            customer_owned_ip: None,
            customer_owned_pool: None,
            network_border_group: "us-east-1".into(),
            association: None,
            ptr: None,
            created: Timestamp(0),
        }
    }

    #[test]
    fn ids_and_values() {
        assert!(check_allocation_id("eipalloc-0123456789abcdef0").is_ok());
        assert!(check_allocation_id("eipalloc-01234567").is_ok());
        assert!(matches!(check_allocation_id("eipassoc-0123456789abcdef0"), Err(AddressError::MalformedAllocation(_))));
        assert!(matches!(check_allocation_id("eipalloc-xyz"), Err(AddressError::MalformedAllocation(_))));
        assert!(check_association_id("eipassoc-0123456789abcdef0").is_ok());
        assert!(matches!(
            check_association_id("eipalloc-0123456789abcdef0"),
            Err(AddressError::MalformedAssociation(_))
        ));
        assert_eq!(parse_ip("3.16.0.1", "PublicIp").unwrap(), Ipv4Addr::new(3, 16, 0, 1));
        assert!(matches!(parse_ip("3.16.0", "PublicIp"), Err(AddressError::InvalidValue(_))));
        assert_eq!(check_border_group(None, "eu-west-1").unwrap(), "eu-west-1");
        assert_eq!(check_border_group(Some("eu-west-1"), "eu-west-1").unwrap(), "eu-west-1");
        assert!(check_border_group(Some("eu-west-1-lax-1"), "eu-west-1").is_err());
        assert!(check_domain_name("mail.example.com").is_ok());
        assert!(check_domain_name("mail.example.com.").is_ok());
        assert!(check_domain_name("").is_err());
        assert!(check_domain_name("-bad.example.com").is_err());
        assert!(check_domain_name("bad..example.com").is_err());
        assert!(check_domain_name(&format!("{}.com", "a".repeat(64))).is_err());
        assert!(check_domain_name(&"a.".repeat(128)).is_err());
    }

    #[test]
    fn amazon_blocks_are_deterministic_and_distinct() {
        assert_eq!(amazon_block("us-east-1"), (Ipv4Addr::new(3, 16, 0, 0), 16));
        assert_eq!(amazon_block("us-west-2"), (Ipv4Addr::new(3, 19, 0, 0), 16));
        let mut seen: Vec<Ipv4Addr> = REGIONS.iter().map(|r| amazon_block(r).0).collect();
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), REGIONS.len());
        let other = amazon_block("xx-test-1").0;
        assert_eq!(other, amazon_block("xx-test-1").0);
        assert!(other.octets()[1] >= 128);
    }

    #[test]
    fn association_rules() {
        let mut a = address();
        assert!(check_releasable(&a).is_ok());
        assert!(check_associable(&a, false).is_ok());
        a.association = Some(Association {
            id: "eipassoc-0123456789abcdef0".into(),
            network_interface_id: "eni-0123456789abcdef0".into(),
            network_interface_owner: AccountId::default_account(),
            private_ip: Ipv4Addr::new(172, 31, 0, 10),
            subnet_id: "subnet-0123456789abcdef0".into(),
            instance_id: Some("i-0123456789abcdef0".into()),
        });
        assert_eq!(check_releasable(&a), Err(AddressError::InUse("3.16.0.1".into())));
        assert!(matches!(check_associable(&a, false), Err(AddressError::AlreadyAssociated(_, _))));
        assert!(check_associable(&a, true).is_ok());
        assert_eq!(a.default_ptr().unwrap(), "ec2-3-16-0-1.compute-1.amazonaws.com");
        assert_eq!(public_dns_name("eu-west-1", a.ip()), "ec2-3-16-0-1.eu-west-1.compute.amazonaws.com");
    }

    /// Interfaces stored before Elastic IPs existed still read; an association shows in
    /// the interface's filters.
    #[test]
    fn interfaces_carry_associations() {
        use crate::interface::{PrivateAddress, PublicAssociation};
        let old: PrivateAddress = serde_json::from_str(r#"{"address":"10.0.1.5","primary":true}"#).unwrap();
        assert_eq!(old, PrivateAddress::new(Ipv4Addr::new(10, 0, 1, 5), true));
        let mut p = old;
        p.association = Some(PublicAssociation {
            allocation_id: "eipalloc-0123456789abcdef0".into(),
            association_id: "eipassoc-0123456789abcdef0".into(),
            public_ip: Some(Ipv4Addr::new(3, 16, 0, 1)),
            customer_owned_ip: None,
            ip_owner: AccountId::default_account(),
        });
        let back: PrivateAddress = serde_json::from_str(&serde_json::to_string(&p).unwrap()).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn filters() {
        let mut a = address();
        let set = |name: &str, v: &str| FilterSet::compile(&[Filter::new(name, &[v])], &FILTERS).unwrap();
        assert!(set("public-ip", "3.16.0.1").matches_untagged(&a));
        assert!(set("domain", "vpc").matches_untagged(&a));
        assert!(!set("association-id", "*").matches_untagged(&a));
        a.association = Some(Association {
            id: "eipassoc-0123456789abcdef0".into(),
            network_interface_id: "eni-0123456789abcdef0".into(),
            network_interface_owner: AccountId::default_account(),
            private_ip: Ipv4Addr::new(172, 31, 0, 10),
            subnet_id: "subnet-0123456789abcdef0".into(),
            instance_id: None,
        });
        assert!(set("association-id", "eipassoc-*").matches_untagged(&a));
        assert!(set("private-ip-address", "172.31.0.10").matches_untagged(&a));
        assert!(!set("instance-id", "*").matches_untagged(&a));
        assert!(FilterSet::compile(&[Filter::new("nope", &["x"])], &FILTERS).is_err());
    }
}
