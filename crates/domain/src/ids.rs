//! AWS-format identifiers.
//!
//! EC2 ids are a kind prefix and 17 lower-case hex digits (`vpc-0c9decaa541d89aa9`);
//! accounts created long ago still have 8-digit ids, which AWS accepts as input, so
//! [`ResourceKind::is_well_formed`] does too. Reservoir generates `0` followed by 16
//! random hex digits (64 bits), the shape of current AWS ids. Cognito ids are
//! `<region>:<UUID v4>`.
//!
//! Randomness comes from a [`Random`] the caller passes in: the operating system's in
//! the server, a seeded generator in tests.

use serde::{Deserialize, Serialize};

/// A source of random bytes.
pub trait Random {
    fn fill(&mut self, buf: &mut [u8]);
}

/// The operating system's generator.
#[derive(Debug, Default, Clone, Copy)]
pub struct OsRandom;

impl Random for OsRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        getrandom::fill(buf).expect("the operating system's random source is available");
    }
}

/// A small deterministic generator (xorshift64*) for tests and benchmarks.
#[derive(Debug, Clone)]
pub struct SeededRandom(u64);

impl SeededRandom {
    pub fn new(seed: u64) -> Self {
        SeededRandom(seed.max(1))
    }
}

impl Random for SeededRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        for b in buf {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            *b = (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8;
        }
    }
}

/// The kinds of resources Reservoir knows ids of. EC2 kinds Reservoir does not serve yet
/// are listed too, so that `CreateTags` on `i-…` says the instance does not exist (as
/// AWS would for an unknown instance) rather than that the id is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResourceKind {
    Vpc,
    VpcCidrBlockAssociation,
    DhcpOptions,
    Subnet,
    SecurityGroup,
    Instance,
    CapacityReservation,
    Ipam,
    IpamScope,
    IpamPool,
    /// IPAM pool allocations: not an entity of their own (a held slot of a pool's space),
    /// but taggable. Not in [`ResourceKind::EC2`]: their ids have 33 hex digits.
    IpamPoolAllocation,
    ElasticIp,
    CoipPool,
    LocalGateway,
    LocalGatewayRouteTable,
    NetworkInterface,
    NetworkInterfaceAttachment,
    RouteTable,
    RouteTableAssociation,
    InternetGateway,
    NetworkAcl,
    NetworkAclAssociation,
    SecurityGroupRule,
    SubnetCidrBlockAssociation,
    VpcEndpoint,
    PrefixList,
    ElasticIpAssociation,
    KeyPair,
    /// `RunInstances` reservations (`r-`): a group of instances, not an entity.
    Reservation,
    IdentityPool,
    Identity,
    /// RAM resource shares, invitations and memberships (`domain::ram`): no EC2 id.
    RamResourceShare,
    RamInvitation,
    RamMembership,
}

impl ResourceKind {
    /// Every kind with an EC2-style `prefix-hex` id.
    pub const EC2: &'static [ResourceKind] = &[
        ResourceKind::Vpc,
        ResourceKind::VpcCidrBlockAssociation,
        ResourceKind::DhcpOptions,
        ResourceKind::Subnet,
        ResourceKind::SecurityGroup,
        ResourceKind::Instance,
        ResourceKind::CapacityReservation,
        ResourceKind::Ipam,
        ResourceKind::IpamScope,
        ResourceKind::IpamPool,
        ResourceKind::ElasticIp,
        ResourceKind::CoipPool,
        ResourceKind::LocalGateway,
        ResourceKind::LocalGatewayRouteTable,
        ResourceKind::NetworkInterface,
        ResourceKind::NetworkInterfaceAttachment,
        ResourceKind::RouteTable,
        ResourceKind::RouteTableAssociation,
        ResourceKind::InternetGateway,
        ResourceKind::NetworkAcl,
        ResourceKind::NetworkAclAssociation,
        ResourceKind::SecurityGroupRule,
        ResourceKind::SubnetCidrBlockAssociation,
        ResourceKind::VpcEndpoint,
        ResourceKind::PrefixList,
        ResourceKind::ElasticIpAssociation,
        ResourceKind::KeyPair,
    ];

    /// The id prefix, dash included.
    pub const fn prefix(self) -> &'static str {
        match self {
            ResourceKind::Vpc => "vpc-",
            ResourceKind::VpcCidrBlockAssociation => "vpc-cidr-assoc-",
            ResourceKind::DhcpOptions => "dopt-",
            ResourceKind::Subnet => "subnet-",
            ResourceKind::SecurityGroup => "sg-",
            ResourceKind::Instance => "i-",
            ResourceKind::CapacityReservation => "cr-",
            ResourceKind::Ipam => "ipam-",
            ResourceKind::IpamScope => "ipam-scope-",
            ResourceKind::IpamPool => "ipam-pool-",
            ResourceKind::IpamPoolAllocation => "ipam-pool-alloc-",
            ResourceKind::ElasticIp => "eipalloc-",
            ResourceKind::CoipPool => "ipv4pool-coip-",
            ResourceKind::LocalGateway => "lgw-",
            ResourceKind::LocalGatewayRouteTable => "lgw-rtb-",
            ResourceKind::NetworkInterface => "eni-",
            ResourceKind::NetworkInterfaceAttachment => "eni-attach-",
            ResourceKind::RouteTable => "rtb-",
            ResourceKind::RouteTableAssociation => "rtbassoc-",
            ResourceKind::InternetGateway => "igw-",
            ResourceKind::NetworkAcl => "acl-",
            ResourceKind::NetworkAclAssociation => "aclassoc-",
            ResourceKind::SecurityGroupRule => "sgr-",
            ResourceKind::SubnetCidrBlockAssociation => "subnet-cidr-assoc-",
            ResourceKind::VpcEndpoint => "vpce-",
            ResourceKind::PrefixList => "pl-",
            ResourceKind::ElasticIpAssociation => "eipassoc-",
            ResourceKind::KeyPair => "key-",
            ResourceKind::Reservation => "r-",
            ResourceKind::IdentityPool
            | ResourceKind::Identity
            | ResourceKind::RamResourceShare
            | ResourceKind::RamInvitation
            | ResourceKind::RamMembership => "",
        }
    }

    /// The storage name of the kind; stable, never shown to clients.
    pub const fn storage_name(self) -> &'static str {
        match self {
            ResourceKind::Vpc => "vpc",
            ResourceKind::VpcCidrBlockAssociation => "vpc-cidr-assoc",
            ResourceKind::DhcpOptions => "dhcp-options",
            ResourceKind::Subnet => "subnet",
            ResourceKind::SecurityGroup => "security-group",
            ResourceKind::Instance => "instance",
            ResourceKind::CapacityReservation => "capacity-reservation",
            ResourceKind::Ipam => "ipam",
            ResourceKind::IpamScope => "ipam-scope",
            ResourceKind::IpamPool => "ipam-pool",
            ResourceKind::IpamPoolAllocation => "ipam-pool-allocation",
            ResourceKind::ElasticIp => "elastic-ip",
            ResourceKind::CoipPool => "coip-pool",
            ResourceKind::LocalGateway => "local-gateway",
            ResourceKind::LocalGatewayRouteTable => "local-gateway-route-table",
            ResourceKind::NetworkInterface => "network-interface",
            ResourceKind::NetworkInterfaceAttachment => "network-interface-attachment",
            ResourceKind::RouteTable => "route-table",
            ResourceKind::RouteTableAssociation => "route-table-association",
            ResourceKind::InternetGateway => "internet-gateway",
            ResourceKind::NetworkAcl => "network-acl",
            ResourceKind::NetworkAclAssociation => "network-acl-association",
            ResourceKind::SecurityGroupRule => "security-group-rule",
            ResourceKind::SubnetCidrBlockAssociation => "subnet-cidr-assoc",
            ResourceKind::VpcEndpoint => "vpc-endpoint",
            ResourceKind::PrefixList => "prefix-list",
            ResourceKind::ElasticIpAssociation => "elastic-ip-association",
            ResourceKind::KeyPair => "key-pair",
            ResourceKind::Reservation => "reservation",
            ResourceKind::IdentityPool => "cognito-identity-pool",
            ResourceKind::Identity => "cognito-identity",
            ResourceKind::RamResourceShare => "ram-resource-share",
            ResourceKind::RamInvitation => "ram-invitation",
            ResourceKind::RamMembership => "ram-membership",
        }
    }

    /// The EC2 `ResourceType` value tags of this kind carry (`DescribeTags`'
    /// `resource-type`, `TagSpecification.N.ResourceType`); `None` if EC2 cannot tag it.
    pub const fn tag_resource_type(self) -> Option<&'static str> {
        match self {
            ResourceKind::Vpc => Some("vpc"),
            ResourceKind::DhcpOptions => Some("dhcp-options"),
            ResourceKind::Subnet => Some("subnet"),
            ResourceKind::SecurityGroup => Some("security-group"),
            ResourceKind::Instance => Some("instance"),
            ResourceKind::CapacityReservation => Some("capacity-reservation"),
            ResourceKind::Ipam => Some("ipam"),
            ResourceKind::IpamScope => Some("ipam-scope"),
            ResourceKind::IpamPool => Some("ipam-pool"),
            ResourceKind::IpamPoolAllocation => Some("ipam-pool-allocation"),
            ResourceKind::ElasticIp => Some("elastic-ip"),
            ResourceKind::CoipPool => Some("coip-pool"),
            ResourceKind::LocalGateway => Some("local-gateway"),
            ResourceKind::LocalGatewayRouteTable => Some("local-gateway-route-table"),
            ResourceKind::NetworkInterface => Some("network-interface"),
            ResourceKind::RouteTable => Some("route-table"),
            ResourceKind::InternetGateway => Some("internet-gateway"),
            ResourceKind::NetworkAcl => Some("network-acl"),
            ResourceKind::SecurityGroupRule => Some("security-group-rule"),
            ResourceKind::VpcEndpoint => Some("vpc-endpoint"),
            ResourceKind::PrefixList => Some("prefix-list"),
            ResourceKind::KeyPair => Some("key-pair"),
            ResourceKind::NetworkInterfaceAttachment
            | ResourceKind::RouteTableAssociation
            | ResourceKind::NetworkAclAssociation
            | ResourceKind::SubnetCidrBlockAssociation
            | ResourceKind::ElasticIpAssociation
            | ResourceKind::VpcCidrBlockAssociation
            | ResourceKind::Reservation
            | ResourceKind::IdentityPool
            | ResourceKind::Identity
            | ResourceKind::RamResourceShare
            | ResourceKind::RamInvitation
            | ResourceKind::RamMembership => None,
        }
    }

    /// A human name for messages ("vpc", "ipam-pool").
    pub const fn display_name(self) -> &'static str {
        self.storage_name()
    }

    /// The kind an EC2 id names, by its prefix (the longest that fits, so
    /// `ipam-pool-…` is a pool, not an IPAM). `None` for an unknown prefix.
    pub fn of_ec2_id(id: &str) -> Option<ResourceKind> {
        ResourceKind::EC2.iter().copied().filter(|k| id.starts_with(k.prefix())).max_by_key(|k| k.prefix().len())
    }

    /// Prefix plus 8 or 17 lower-case hex digits.
    pub fn is_well_formed(self, id: &str) -> bool {
        let Some(hex) = id.strip_prefix(self.prefix()) else {
            return false;
        };
        (hex.len() == 17 || hex.len() == 8) && hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    }

    /// A new id of this kind: prefix, `0`, 16 random hex digits.
    pub fn new_id(self, rng: &mut dyn Random) -> String {
        let mut bytes = [0u8; 8];
        rng.fill(&mut bytes);
        let mut id = String::with_capacity(self.prefix().len() + 17);
        id.push_str(self.prefix());
        id.push('0');
        for b in bytes {
            id.push_str(&format!("{b:02x}"));
        }
        id
    }
}

/// A random UUID v4, lower-case.
pub fn new_uuid(rng: &mut dyn Random) -> String {
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    uuid::Builder::from_random_bytes(bytes).into_uuid().hyphenated().to_string()
}

/// A Cognito id: `<region>:<uuid v4>` (identity pools and identities).
pub fn new_cognito_id(region: &str, rng: &mut dyn Random) -> String {
    format!("{region}:{}", new_uuid(rng))
}

/// A request id for `x-amzn-RequestId` / `<requestId>`.
pub fn new_request_id(rng: &mut dyn Random) -> String {
    new_uuid(rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_well_formed_and_distinct() {
        let mut rng = SeededRandom::new(7);
        let a = ResourceKind::Vpc.new_id(&mut rng);
        let b = ResourceKind::Vpc.new_id(&mut rng);
        assert_ne!(a, b);
        assert!(a.starts_with("vpc-0") && a.len() == 21, "{a}");
        assert!(ResourceKind::Vpc.is_well_formed(&a));
        let u = new_cognito_id("us-east-1", &mut rng);
        assert!(u.starts_with("us-east-1:") && u.len() == 46, "{u}");
        assert_eq!(&u[24..25], "4", "uuid v4: {u}");
    }

    #[test]
    fn longest_prefix_wins() {
        assert_eq!(ResourceKind::of_ec2_id("ipam-pool-0533048da7d823723"), Some(ResourceKind::IpamPool));
        assert_eq!(ResourceKind::of_ec2_id("ipam-08440e7a3acde3908"), Some(ResourceKind::Ipam));
        assert_eq!(ResourceKind::of_ec2_id("lgw-rtb-059615ef7d0000000"), Some(ResourceKind::LocalGatewayRouteTable));
        assert_eq!(
            ResourceKind::of_ec2_id("vpc-cidr-assoc-0123456789abcdef0"),
            Some(ResourceKind::VpcCidrBlockAssociation)
        );
        assert_eq!(ResourceKind::of_ec2_id("nope-123"), None);
    }

    proptest::proptest! {
        /// Every generated id is well-formed for its kind and names that kind.
        #[test]
        fn generated_ids_name_their_kind(seed in 1u64.., k in 0usize..ResourceKind::EC2.len()) {
            let kind = ResourceKind::EC2[k];
            let id = kind.new_id(&mut SeededRandom::new(seed));
            proptest::prop_assert!(kind.is_well_formed(&id), "{}", id);
            proptest::prop_assert_eq!(ResourceKind::of_ec2_id(&id), Some(kind));
        }
    }

    #[test]
    fn well_formedness() {
        assert!(ResourceKind::Vpc.is_well_formed("vpc-0123456789abcdef0"));
        assert!(ResourceKind::Vpc.is_well_formed("vpc-1a2b3c4d"));
        assert!(!ResourceKind::Vpc.is_well_formed("vpc-0123456789ABCDEF0"));
        assert!(!ResourceKind::Vpc.is_well_formed("vpc-123"));
        assert!(!ResourceKind::Vpc.is_well_formed("subnet-0123456789abcdef0"));
    }
}
