//! What the VPC networking families share (subnets, security groups, network
//! interfaces, route tables, gateways, network ACLs, DHCP options, endpoints): their
//! error, which the server turns into AWS's codes in one place, and the kinds of
//! resource those errors name.
//!
//! The rules of each family live in its own module (`subnet`, `security_group`,
//! `interface`, `route`, `endpoint`); this one holds only what they have in common.

use crate::ids::ResourceKind;

/// The resource an error names: it decides the `.NotFound` / `.Malformed` code and the
/// noun in AWS's message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetKind {
    Subnet,
    SecurityGroup,
    SecurityGroupRule,
    NetworkInterface,
    /// A network interface attachment (`eni-attach-`).
    Attachment,
    RouteTable,
    /// A route table, subnet CIDR or network ACL association.
    Association,
    InternetGateway,
    /// A route target of any kind (`CreateRoute`'s `GatewayId` that names nothing).
    Gateway,
    NetworkAcl,
    DhcpOptions,
    VpcEndpoint,
    PrefixList,
    Instance,
}

impl NetKind {
    /// AWS's noun for the kind in "The … ID '…' does not exist".
    pub const fn noun(self) -> &'static str {
        match self {
            NetKind::Subnet => "subnet ID",
            NetKind::SecurityGroup => "security group",
            NetKind::SecurityGroupRule => "security group rule ID",
            NetKind::NetworkInterface => "networkInterface ID",
            NetKind::Attachment => "attachment ID",
            NetKind::RouteTable => "routeTable ID",
            NetKind::Association => "association ID",
            NetKind::InternetGateway => "internetGateway ID",
            NetKind::Gateway => "gateway ID",
            NetKind::NetworkAcl => "networkAcl ID",
            NetKind::DhcpOptions => "dhcpOption ID",
            NetKind::VpcEndpoint => "VPC endpoint ID",
            NetKind::PrefixList => "prefix list ID",
            NetKind::Instance => "instance ID",
        }
    }

    /// The id kind, for the form check of [`check_id`].
    pub const fn resource_kind(self) -> Option<ResourceKind> {
        Some(match self {
            NetKind::Subnet => ResourceKind::Subnet,
            NetKind::SecurityGroup => ResourceKind::SecurityGroup,
            NetKind::SecurityGroupRule => ResourceKind::SecurityGroupRule,
            NetKind::NetworkInterface => ResourceKind::NetworkInterface,
            NetKind::Attachment => ResourceKind::NetworkInterfaceAttachment,
            NetKind::RouteTable => ResourceKind::RouteTable,
            NetKind::InternetGateway => ResourceKind::InternetGateway,
            NetKind::NetworkAcl => ResourceKind::NetworkAcl,
            NetKind::DhcpOptions => ResourceKind::DhcpOptions,
            NetKind::VpcEndpoint => ResourceKind::VpcEndpoint,
            NetKind::PrefixList => ResourceKind::PrefixList,
            NetKind::Instance => ResourceKind::Instance,
            NetKind::Association | NetKind::Gateway => return None,
        })
    }
}

/// Quotas of the networking families (off unless configured; AWS's defaults when on).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetLimit {
    Subnets,
    SecurityGroups,
    RulesPerSecurityGroup,
    SecurityGroupsPerInterface,
    PrivateAddressesPerInterface,
    NetworkInterfaces,
    RouteTables,
    Routes,
    InternetGateways,
    VpcEndpoints,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error("{}", not_found_message(*.0, .1))]
    NotFound(NetKind, Vec<String>),
    #[error("Invalid id: \"{1}\"")]
    Malformed(NetKind, String),
    /// `InvalidParameterValue`, with AWS's message.
    #[error("{0}")]
    InvalidValue(String),
    /// `InvalidParameterCombination`.
    #[error("{0}")]
    Combination(String),
    /// `MissingParameter`.
    #[error("{0}")]
    Missing(String),
    /// `InvalidParameter`.
    #[error("{0}")]
    InvalidParameter(String),
    /// `InvalidRequest` (e.g. two attributes in one `ModifySubnetAttribute`).
    #[error("{0}")]
    InvalidRequest(String),
    /// `InvalidSubnet.Conflict`: a block overlapping a sibling subnet.
    #[error("The CIDR '{0}' conflicts with another subnet")]
    SubnetConflict(String),
    /// `InvalidSubnet.Range`: outside the VPC, or of a size AWS refuses.
    #[error("The CIDR '{0}' is invalid.")]
    SubnetRange(String),
    /// `InsufficientFreeAddressesInSubnet`.
    #[error("{0}")]
    AddressesExhausted(String),
    /// `InvalidIPAddress.InUse`.
    #[error("{0}")]
    AddressInUse(String),
    /// `InvalidGroup.Duplicate`.
    #[error("{0}")]
    GroupDuplicate(String),
    /// `InvalidGroup.Reserved`: the name `default`.
    #[error("{0}")]
    GroupReserved(String),
    /// `InvalidPermission.Duplicate`.
    #[error("{0}")]
    PermissionDuplicate(String),
    /// `InvalidPermission.NotFound`.
    #[error("{0}")]
    PermissionNotFound(String),
    /// `InvalidPermission.Malformed`.
    #[error("{0}")]
    PermissionMalformed(String),
    /// `CannotDelete`: a default security group.
    #[error("{0}")]
    CannotDelete(String),
    /// `RouteAlreadyExists`.
    #[error("{0}")]
    RouteExists(String),
    /// `InvalidRoute.NotFound`.
    #[error("{0}")]
    RouteNotFound(String),
    /// `Resource.AlreadyAssociated`.
    #[error("{0}")]
    AlreadyAssociated(String),
    /// `Gateway.NotAttached`.
    #[error("{0}")]
    NotAttached(String),
    /// `InvalidNetworkInterface.InUse`.
    #[error("{0}")]
    InterfaceInUse(String),
    /// `DependencyViolation`.
    #[error("{0}")]
    Dependency(String),
    /// `DefaultVpcAlreadyExists`.
    #[error("{0}")]
    DefaultVpcExists(String),
    /// `DefaultSubnetAlreadyExistsInAvailabilityZone`.
    #[error("{0}")]
    DefaultSubnetExists(String),
    /// `DefaultVpcNotFound`: `CreateDefaultSubnet` without a default VPC.
    #[error("{0}")]
    NoDefaultVpc(String),
    /// `IncorrectState`.
    #[error("{0}")]
    IncorrectState(String),
    /// `OperationNotPermitted`.
    #[error("{0}")]
    NotPermitted(String),
    /// `InvalidServiceName`.
    #[error("{0}")]
    InvalidServiceName(String),
    /// `InvalidPolicyDocument`: a VPC endpoint policy that is not a JSON document.
    #[error("{0}")]
    PolicyDocument(String),
    /// `DuplicateSubnetsInSameZone`: two subnets of one interface endpoint in one zone.
    #[error("{0}")]
    DuplicateSubnetsInSameZone(String),
    /// A configured quota reached.
    #[error("{1}")]
    LimitExceeded(NetLimit, String),
}

fn not_found_message(kind: NetKind, ids: &[String]) -> String {
    match ids {
        [one] => format!("The {} '{one}' does not exist", kind.noun()),
        many => format!("The {}s '{}' do not exist", kind.noun(), many.join(", ")),
    }
}

/// Checks the form of an id of `kind` (prefix and 8 or 17 hex digits).
pub fn check_id(kind: NetKind, id: &str) -> Result<(), NetError> {
    match kind.resource_kind() {
        Some(k) if !k.is_well_formed(id) => Err(NetError::Malformed(kind, id.to_string())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_and_forms() {
        assert_eq!(
            NetError::NotFound(NetKind::Subnet, vec!["subnet-1".into()]).to_string(),
            "The subnet ID 'subnet-1' does not exist"
        );
        assert!(check_id(NetKind::Subnet, "subnet-0123456789abcdef0").is_ok());
        assert!(check_id(NetKind::Subnet, "subnet-12345678").is_ok());
        assert_eq!(
            check_id(NetKind::Subnet, "subnet-xyz"),
            Err(NetError::Malformed(NetKind::Subnet, "subnet-xyz".into()))
        );
        assert!(check_id(NetKind::NetworkInterface, "eni-0123456789abcdef0").is_ok());
        assert!(check_id(NetKind::Attachment, "eni-attach-0123456789abcdef0").is_ok());
        assert!(check_id(NetKind::NetworkInterface, "eni-attach-0123456789abcdef0").is_err());
    }
}
