//! Errors answered to clients, and the one place domain errors become AWS error codes.
//!
//! Handlers return [`ApiError`]. Domain errors convert into it here, each family with a
//! `match` that has no wildcard arm, so a new domain error does not compile until it is
//! given its AWS code. Rendering (XML for EC2, JSON for the others) happens in
//! [`crate::respond`], which knows the service.

use reservoir_domain::address::AddressError;
use reservoir_domain::capacity::CapacityError;
use reservoir_domain::cognito::CognitoError;
use reservoir_domain::cognito_sync::SyncError;
use reservoir_domain::coip::CoipError;
use reservoir_domain::filter::FilterError;
use reservoir_domain::idempotency::IdempotencyError;
use reservoir_domain::ids::ResourceKind;
use reservoir_domain::image::ImageError;
use reservoir_domain::instance::InstanceError;
use reservoir_domain::ipam::IpamError;
use reservoir_domain::key_pair::KeyPairError;
use reservoir_domain::network::{NetError, NetKind, NetLimit};
use reservoir_domain::pagination::TokenError;
use reservoir_domain::ram::RamError;
use reservoir_domain::space::SpaceError;
use reservoir_domain::tags::TagError;
use reservoir_domain::vpc::VpcError;
use reservoir_store::StoreError;
use reservoir_wire::Code;
use reservoir_wire::cognito_identity::codes as identity_codes;
use reservoir_wire::cognito_sync::codes as sync_codes;
use reservoir_wire::ec2::codes;
use reservoir_wire::ram::codes as ram_codes;

#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// An AWS error code (with its HTTP status) and a message for the caller.
    Aws { code: Code, message: String },
    /// A bug or an unexpected storage failure: logged with its cause, answered as the
    /// service's internal error (500) without details.
    Internal(String),
    /// Storage cannot be reached or stays busy: 503, which clients retry.
    Unavailable(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error from one of the code tables (`wire::ec2::codes`, `wire::json::codes`, a
    /// JSON service's generated `codes`).
    pub fn new(code: Code, message: impl Into<String>) -> ApiError {
        ApiError::Aws { code, message: message.into() }
    }

    /// EC2's answer to a request that would have succeeded with `DryRun=true`.
    pub fn dry_run() -> ApiError {
        ApiError::new(codes::DRY_RUN_OPERATION, "Request would have succeeded, but DryRun flag is set.")
    }

    /// A real EC2 operation parameter Reservoir does not implement yet.
    pub fn ec2_unsupported_parameter(operation: &str, member: &str) -> ApiError {
        ApiError::new(
            codes::NOT_IMPLEMENTED,
            format!("Reservoir does not implement the parameter {member} of {operation} yet."),
        )
    }

    /// A served EC2 operation whose handler has not landed yet.
    pub fn ec2_unimplemented_operation(operation: &str) -> ApiError {
        ApiError::new(codes::NOT_IMPLEMENTED, format!("Reservoir does not implement {operation} yet."))
    }

    pub fn invalid_parameter_value(message: impl Into<String>) -> ApiError {
        ApiError::new(codes::INVALID_PARAMETER_VALUE, message)
    }

    pub fn code(&self) -> &str {
        match self {
            ApiError::Aws { code, .. } => code.code(),
            ApiError::Internal(_) => "InternalError",
            ApiError::Unavailable(_) => "Unavailable",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Unavailable(m) => ApiError::Unavailable(m),
            StoreError::Conflict(m) | StoreError::Corrupt(m) | StoreError::Other(m) => ApiError::Internal(m),
            // Never answered: a quick read that gives up is run again as an ordinary read.
            StoreError::WouldBlock => ApiError::Internal(e.to_string()),
        }
    }
}

// ----- EC2 ------------------------------------------------------------------------

impl From<VpcError> for ApiError {
    fn from(e: VpcError) -> ApiError {
        let code = match &e {
            VpcError::MissingCidr => codes::MISSING_PARAMETER,
            VpcError::InvalidCidr(_) | VpcError::UnsupportedTenancy(_) | VpcError::InvalidValue(_) => {
                codes::INVALID_PARAMETER_VALUE
            }
            VpcError::InvalidRange(_) => codes::INVALID_VPC_RANGE,
            VpcError::LimitExceeded => codes::VPC_LIMIT_EXCEEDED,
            VpcError::Malformed(_) => codes::INVALID_VPC_ID_MALFORMED,
            VpcError::NotFound(_) => codes::INVALID_VPC_ID_NOT_FOUND,
            VpcError::DependencyViolation(_) => codes::DEPENDENCY_VIOLATION,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<NetError> for ApiError {
    fn from(e: NetError) -> ApiError {
        let code = match &e {
            NetError::NotFound(kind, _) => match kind {
                NetKind::Subnet => codes::INVALID_SUBNET_ID_NOT_FOUND,
                NetKind::SecurityGroup => codes::INVALID_GROUP_NOT_FOUND,
                NetKind::SecurityGroupRule => codes::INVALID_SECURITY_GROUP_RULE_ID_NOT_FOUND,
                NetKind::NetworkInterface => codes::INVALID_NETWORK_INTERFACE_ID_NOT_FOUND,
                NetKind::Attachment => codes::INVALID_ATTACHMENT_ID_NOT_FOUND,
                NetKind::RouteTable => codes::INVALID_ROUTE_TABLE_ID_NOT_FOUND,
                NetKind::Association => codes::INVALID_ASSOCIATION_ID_NOT_FOUND,
                NetKind::InternetGateway => codes::INVALID_INTERNET_GATEWAY_ID_NOT_FOUND,
                NetKind::Gateway => codes::INVALID_GATEWAY_ID_NOT_FOUND,
                NetKind::NetworkAcl => codes::INVALID_NETWORK_ACL_ID_NOT_FOUND,
                NetKind::DhcpOptions => codes::INVALID_DHCP_OPTIONS_ID_NOT_FOUND,
                NetKind::VpcEndpoint => codes::INVALID_VPC_ENDPOINT_ID_NOT_FOUND,
                NetKind::PrefixList => codes::INVALID_PREFIX_LIST_ID_NOT_FOUND,
                NetKind::Instance => codes::INVALID_INSTANCE_ID_NOT_FOUND,
            },
            NetError::Malformed(kind, _) => match kind {
                NetKind::Subnet => codes::INVALID_SUBNET_ID_MALFORMED,
                NetKind::SecurityGroup => codes::INVALID_GROUP_ID_MALFORMED,
                NetKind::SecurityGroupRule => codes::INVALID_SECURITY_GROUP_RULE_ID_MALFORMED,
                NetKind::NetworkInterface => codes::INVALID_NETWORK_INTERFACE_ID_MALFORMED,
                NetKind::Attachment => codes::INVALID_ATTACHMENT_ID_MALFORMED,
                NetKind::RouteTable => codes::INVALID_ROUTE_TABLE_ID_MALFORMED,
                NetKind::InternetGateway => codes::INVALID_INTERNET_GATEWAY_ID_MALFORMED,
                NetKind::NetworkAcl => codes::INVALID_NETWORK_ACL_ID_MALFORMED,
                NetKind::DhcpOptions => codes::INVALID_DHCP_OPTIONS_ID_MALFORMED,
                NetKind::VpcEndpoint => codes::INVALID_VPC_ENDPOINT_ID_MALFORMED,
                NetKind::PrefixList => codes::INVALID_PREFIX_LIST_ID_MALFORMED,
                NetKind::Instance => codes::INVALID_INSTANCE_ID_MALFORMED,
                NetKind::Association | NetKind::Gateway => codes::INVALID_PARAMETER_VALUE,
            },
            NetError::InvalidValue(_) => codes::INVALID_PARAMETER_VALUE,
            NetError::Combination(_) => codes::INVALID_PARAMETER_COMBINATION,
            NetError::Missing(_) => codes::MISSING_PARAMETER,
            NetError::InvalidParameter(_) => codes::INVALID_PARAMETER,
            NetError::InvalidRequest(_) => codes::INVALID_REQUEST,
            NetError::SubnetConflict(_) => codes::INVALID_SUBNET_CONFLICT,
            NetError::SubnetRange(_) => codes::INVALID_SUBNET_RANGE,
            NetError::AddressesExhausted(_) => codes::INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET,
            NetError::AddressInUse(_) => codes::INVALID_IP_ADDRESS_IN_USE,
            NetError::GroupDuplicate(_) => codes::INVALID_GROUP_DUPLICATE,
            NetError::GroupReserved(_) => codes::INVALID_GROUP_RESERVED,
            NetError::PermissionDuplicate(_) => codes::INVALID_PERMISSION_DUPLICATE,
            NetError::PermissionNotFound(_) => codes::INVALID_PERMISSION_NOT_FOUND,
            NetError::PermissionMalformed(_) => codes::INVALID_PERMISSION_MALFORMED,
            NetError::CannotDelete(_) => codes::CANNOT_DELETE,
            NetError::RouteExists(_) => codes::ROUTE_ALREADY_EXISTS,
            NetError::RouteNotFound(_) => codes::INVALID_ROUTE_NOT_FOUND,
            NetError::AlreadyAssociated(_) => codes::RESOURCE_ALREADY_ASSOCIATED,
            NetError::NotAttached(_) => codes::GATEWAY_NOT_ATTACHED,
            NetError::InterfaceInUse(_) => codes::INVALID_NETWORK_INTERFACE_IN_USE,
            NetError::Dependency(_) => codes::DEPENDENCY_VIOLATION,
            NetError::DefaultVpcExists(_) => codes::DEFAULT_VPC_ALREADY_EXISTS,
            NetError::DefaultSubnetExists(_) => codes::DEFAULT_SUBNET_ALREADY_EXISTS_IN_AVAILABILITY_ZONE,
            NetError::NoDefaultVpc(_) => codes::DEFAULT_VPC_NOT_FOUND,
            NetError::IncorrectState(_) => codes::INCORRECT_STATE,
            NetError::NotPermitted(_) => codes::OPERATION_NOT_PERMITTED,
            NetError::InvalidServiceName(_) => codes::INVALID_SERVICE_NAME,
            NetError::PolicyDocument(_) => codes::INVALID_POLICY_DOCUMENT,
            NetError::DuplicateSubnetsInSameZone(_) => codes::DUPLICATE_SUBNETS_IN_SAME_ZONE,
            NetError::LimitExceeded(limit, _) => match limit {
                NetLimit::Subnets => codes::SUBNET_LIMIT_EXCEEDED,
                NetLimit::SecurityGroups => codes::SECURITY_GROUP_LIMIT_EXCEEDED,
                NetLimit::RulesPerSecurityGroup => codes::RULES_PER_SECURITY_GROUP_LIMIT_EXCEEDED,
                NetLimit::SecurityGroupsPerInterface => codes::SECURITY_GROUPS_PER_INTERFACE_LIMIT_EXCEEDED,
                NetLimit::PrivateAddressesPerInterface => codes::PRIVATE_IP_ADDRESS_LIMIT_EXCEEDED,
                NetLimit::NetworkInterfaces => codes::NETWORK_INTERFACE_LIMIT_EXCEEDED,
                NetLimit::RouteTables => codes::ROUTE_TABLE_LIMIT_EXCEEDED,
                NetLimit::Routes => codes::ROUTE_LIMIT_EXCEEDED,
                NetLimit::InternetGateways => codes::INTERNET_GATEWAY_LIMIT_EXCEEDED,
                NetLimit::VpcEndpoints => codes::VPC_ENDPOINT_LIMIT_EXCEEDED,
            },
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<ImageError> for ApiError {
    fn from(e: ImageError) -> ApiError {
        let code = match &e {
            ImageError::Malformed(_) => codes::INVALID_AMI_ID_MALFORMED,
            ImageError::NotFound(_) => codes::INVALID_AMI_ID_NOT_FOUND,
            ImageError::InvalidUser(_) => codes::INVALID_USER_ID_MALFORMED,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<CapacityError> for ApiError {
    fn from(e: CapacityError) -> ApiError {
        let code = match &e {
            CapacityError::Malformed(_) => codes::INVALID_CAPACITY_RESERVATION_ID_MALFORMED,
            CapacityError::NotFound(_) => codes::INVALID_CAPACITY_RESERVATION_ID_NOT_FOUND,
            CapacityError::Missing(_) => codes::MISSING_PARAMETER,
            CapacityError::InvalidValue(_) => codes::INVALID_PARAMETER_VALUE,
            CapacityError::Combination(_) => codes::INVALID_PARAMETER_COMBINATION,
            CapacityError::IncorrectState(_) => codes::INCORRECT_STATE,
            CapacityError::CapacityExceeded | CapacityError::NoMatchingCapacity => codes::RESERVATION_CAPACITY_EXCEEDED,
            CapacityError::NotOwner(_) => codes::UNAUTHORIZED_OPERATION,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<InstanceError> for ApiError {
    fn from(e: InstanceError) -> ApiError {
        let code = match &e {
            InstanceError::InvalidValue(_) => codes::INVALID_PARAMETER_VALUE,
            InstanceError::Combination(_) => codes::INVALID_PARAMETER_COMBINATION,
            InstanceError::Missing(_) => codes::MISSING_PARAMETER,
            InstanceError::IncorrectState(_) => codes::INCORRECT_INSTANCE_STATE,
            InstanceError::NotPermitted(_) => codes::OPERATION_NOT_PERMITTED,
            InstanceError::Unsupported(_) => codes::UNSUPPORTED_OPERATION,
            InstanceError::Hibernation(_) => codes::UNSUPPORTED_HIBERNATION_CONFIGURATION,
            InstanceError::NoDefaultVpc(_) => codes::VPC_ID_NOT_SPECIFIED,
            InstanceError::NoDefaultSubnet(_) => codes::MISSING_INPUT,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<CoipError> for ApiError {
    fn from(e: CoipError) -> ApiError {
        let code = match &e {
            CoipError::Malformed { kind: ResourceKind::CoipPool, .. } => codes::INVALID_POOL_ID_MALFORMED,
            CoipError::Malformed { .. } | CoipError::InvalidValue(_) => codes::INVALID_PARAMETER_VALUE,
            CoipError::NotFound(kind, ids) => return ec2_not_found(*kind, &ids.join(", ")),
            CoipError::Missing(_) => codes::MISSING_PARAMETER,
            CoipError::InUse(_) => codes::DEPENDENCY_VIOLATION,
            CoipError::AddressInUse(..) => codes::INVALID_IP_ADDRESS_IN_USE,
            CoipError::Exhausted(_) => codes::INSUFFICIENT_ADDRESS_CAPACITY,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<AddressError> for ApiError {
    fn from(e: AddressError) -> ApiError {
        let code = match &e {
            AddressError::Missing(_) => codes::MISSING_PARAMETER,
            AddressError::InvalidValue(_) => codes::INVALID_PARAMETER_VALUE,
            AddressError::Combination(_) => codes::INVALID_PARAMETER_COMBINATION,
            AddressError::MalformedAllocation(_) => codes::INVALID_ALLOCATION_ID_MALFORMED,
            AddressError::AllocationNotFound(_) => codes::INVALID_ALLOCATION_ID_NOT_FOUND,
            AddressError::AddressNotFound(_) => codes::INVALID_ADDRESS_NOT_FOUND,
            AddressError::MalformedAssociation(_) => codes::INVALID_ASSOCIATION_ID_MALFORMED,
            AddressError::AssociationNotFound(_) => codes::INVALID_ASSOCIATION_ID_NOT_FOUND,
            AddressError::InUse(_) => codes::INVALID_IP_ADDRESS_IN_USE,
            AddressError::AlreadyAssociated(_, _) => codes::RESOURCE_ALREADY_ASSOCIATED,
            AddressError::Exhausted => codes::ADDRESS_LIMIT_EXCEEDED,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<KeyPairError> for ApiError {
    fn from(e: KeyPairError) -> ApiError {
        let code = match &e {
            KeyPairError::Missing(_) => codes::MISSING_PARAMETER,
            KeyPairError::InvalidName(_) | KeyPairError::InvalidValue(_) => codes::INVALID_PARAMETER_VALUE,
            KeyPairError::Combination(_) => codes::INVALID_PARAMETER_COMBINATION,
            KeyPairError::Duplicate(_) => codes::INVALID_KEY_PAIR_DUPLICATE,
            KeyPairError::NotFound(_) => codes::INVALID_KEY_PAIR_NOT_FOUND,
            KeyPairError::Format | KeyPairError::RsaLength(_) => codes::INVALID_KEY_FORMAT,
            KeyPairError::Internal(m) => return ApiError::Internal(m.clone()),
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<IpamError> for ApiError {
    fn from(e: IpamError) -> ApiError {
        let code = match &e {
            IpamError::IpamNotFound(_) => codes::INVALID_IPAM_ID_NOT_FOUND,
            IpamError::ScopeNotFound(_) => codes::INVALID_IPAM_SCOPE_ID_NOT_FOUND,
            IpamError::PoolNotFound(_) => codes::INVALID_IPAM_POOL_ID_NOT_FOUND,
            IpamError::AllocationNotFound(_) => codes::INVALID_IPAM_POOL_ALLOCATION_ID_NOT_FOUND,
            // No public trace of dedicated `.Malformed` codes for IPAM ids (DECISIONS.md, 3).
            IpamError::Malformed { .. }
            | IpamError::InvalidValue(_)
            | IpamError::TooBig
            | IpamError::TooSmall
            | IpamError::MissingResourceTags => codes::INVALID_PARAMETER_VALUE,
            IpamError::InvalidCombination(_) => codes::INVALID_PARAMETER_COMBINATION,
            IpamError::Missing(_) => codes::MISSING_PARAMETER,
            IpamError::Dependency(_) => codes::DEPENDENCY_VIOLATION,
        };
        ApiError::new(code, e.to_string())
    }
}

/// The address-space engine's refusals, in the words of an IPAM pool (the only family
/// using it so far).
impl From<SpaceError> for ApiError {
    fn from(e: SpaceError) -> ApiError {
        let message = match &e {
            SpaceError::RootOverlaps { new, existing } => {
                format!("The CIDR {new} overlaps the CIDR {existing}, already provisioned in this scope.")
            }
            SpaceError::Outside(c) => format!("The CIDR {c} is not within the pool's provisioned CIDRs."),
            SpaceError::Unavailable(c) => format!("The CIDR {c} is not available: it overlaps an existing allocation."),
            SpaceError::Exhausted(n) => format!("The pool has no free /{n} CIDR that satisfies the request."),
            SpaceError::RootInUse(c) => format!("The CIDR {c} has one or more allocations."),
            SpaceError::NotARoot(c) => format!("The CIDR {c} is not provisioned in the pool."),
            SpaceError::NotHeld(c) => format!("The CIDR {c} is not allocated."),
            SpaceError::Inconsistent(m) => return ApiError::Internal(m.clone()),
        };
        ApiError::invalid_parameter_value(message)
    }
}

impl From<TagError> for ApiError {
    fn from(e: TagError) -> ApiError {
        let code = match &e {
            TagError::MissingKey => codes::MISSING_PARAMETER,
            TagError::KeyTooLong(_)
            | TagError::ValueTooLong(_)
            | TagError::ReservedKey(_)
            | TagError::DuplicateKey(_) => codes::INVALID_PARAMETER_VALUE,
            TagError::TooMany { .. } => codes::TAG_LIMIT_EXCEEDED,
        };
        ApiError::new(code, e.to_string())
    }
}

impl From<FilterError> for ApiError {
    fn from(e: FilterError) -> ApiError {
        let code = match &e {
            FilterError::UnknownName(_) | FilterError::NoValues(_) => codes::INVALID_PARAMETER_VALUE,
            FilterError::MissingName(_) => codes::MISSING_PARAMETER,
            FilterError::TooManyFilters(_) | FilterError::TooManyValues(..) => codes::FILTER_LIMIT_EXCEEDED,
        };
        let message = match &e {
            FilterError::MissingName(i) => {
                format!("The request must contain the parameter Filter.{i}.Name")
            }
            _ => e.to_string(),
        };
        ApiError::new(code, message)
    }
}

impl From<IdempotencyError> for ApiError {
    fn from(e: IdempotencyError) -> ApiError {
        let code = match &e {
            IdempotencyError::InvalidToken => codes::INVALID_PARAMETER_VALUE,
            IdempotencyError::ParameterMismatch(_) => codes::IDEMPOTENT_PARAMETER_MISMATCH,
        };
        ApiError::new(code, e.to_string())
    }
}

/// EC2's "does not exist" for an id of `kind` (`CreateTags` on a missing resource).
pub fn ec2_not_found(kind: ResourceKind, id: &str) -> ApiError {
    let (code, what) = match kind {
        ResourceKind::Vpc => (codes::INVALID_VPC_ID_NOT_FOUND, "vpc ID"),
        ResourceKind::DhcpOptions => (codes::INVALID_DHCP_OPTIONS_ID_NOT_FOUND, "dhcp options ID"),
        ResourceKind::Subnet => (codes::INVALID_SUBNET_ID_NOT_FOUND, "subnet ID"),
        ResourceKind::SecurityGroup => (codes::INVALID_GROUP_NOT_FOUND, "security group"),
        ResourceKind::Instance => (codes::INVALID_INSTANCE_ID_NOT_FOUND, "instance ID"),
        ResourceKind::CapacityReservation => {
            (codes::INVALID_CAPACITY_RESERVATION_ID_NOT_FOUND, "Capacity Reservation ID")
        }
        ResourceKind::Ipam => (codes::INVALID_IPAM_ID_NOT_FOUND, "ipam ID"),
        ResourceKind::IpamScope => (codes::INVALID_IPAM_SCOPE_ID_NOT_FOUND, "ipam-scope ID"),
        ResourceKind::IpamPool => (codes::INVALID_IPAM_POOL_ID_NOT_FOUND, "ipam-pool ID"),
        ResourceKind::IpamPoolAllocation => {
            return IpamError::AllocationNotFound(id.to_string()).into();
        }
        ResourceKind::ElasticIp => (codes::INVALID_ALLOCATION_ID_NOT_FOUND, "allocation ID"),
        ResourceKind::CoipPool => (codes::INVALID_POOL_ID_NOT_FOUND, "pool ID"),
        ResourceKind::LocalGateway => (codes::INVALID_LOCAL_GATEWAY_ID_NOT_FOUND, "local gateway ID"),
        ResourceKind::LocalGatewayRouteTable => {
            (codes::INVALID_LOCAL_GATEWAY_ROUTE_TABLE_ID_NOT_FOUND, "local gateway route table ID")
        }
        ResourceKind::NetworkInterface => return NetError::NotFound(NetKind::NetworkInterface, vec![id.into()]).into(),
        ResourceKind::RouteTable => return NetError::NotFound(NetKind::RouteTable, vec![id.into()]).into(),
        ResourceKind::InternetGateway => return NetError::NotFound(NetKind::InternetGateway, vec![id.into()]).into(),
        ResourceKind::NetworkAcl => return NetError::NotFound(NetKind::NetworkAcl, vec![id.into()]).into(),
        ResourceKind::SecurityGroupRule => {
            return NetError::NotFound(NetKind::SecurityGroupRule, vec![id.into()]).into();
        }
        ResourceKind::VpcEndpoint => return NetError::NotFound(NetKind::VpcEndpoint, vec![id.into()]).into(),
        ResourceKind::PrefixList => return NetError::NotFound(NetKind::PrefixList, vec![id.into()]).into(),
        ResourceKind::KeyPair => return KeyPairError::NotFound(vec![id.into()]).into(),
        ResourceKind::VpcCidrBlockAssociation
        | ResourceKind::NetworkInterfaceAttachment
        | ResourceKind::RouteTableAssociation
        | ResourceKind::NetworkAclAssociation
        | ResourceKind::SubnetCidrBlockAssociation
        | ResourceKind::ElasticIpAssociation
        | ResourceKind::Reservation
        | ResourceKind::IdentityPool
        | ResourceKind::Identity
        | ResourceKind::RamResourceShare
        | ResourceKind::RamInvitation
        | ResourceKind::RamMembership => {
            return ApiError::new(codes::INVALID_ID, format!("The ID '{id}' is not valid"));
        }
    };
    ApiError::new(code, format!("The {what} '{id}' does not exist"))
}

/// EC2's answer to a bad `NextToken`.
pub fn ec2_token_error(e: TokenError) -> ApiError {
    match e {
        TokenError::Invalid => ApiError::new(codes::INVALID_NEXT_TOKEN, e.to_string()),
    }
}

// ----- Cognito --------------------------------------------------------------------

/// Cognito errors as Cognito Identity answers them (its model's codes and statuses).
impl From<CognitoError> for ApiError {
    fn from(e: CognitoError) -> ApiError {
        use identity_codes as c;
        cognito_error(
            e,
            [
                c::RESOURCE_NOT_FOUND_EXCEPTION,
                c::LIMIT_EXCEEDED_EXCEPTION,
                c::INVALID_PARAMETER_EXCEPTION,
                c::NOT_AUTHORIZED_EXCEPTION,
                c::RESOURCE_CONFLICT_EXCEPTION,
                c::DEVELOPER_USER_ALREADY_REGISTERED_EXCEPTION,
            ],
        )
    }
}

/// Cognito errors as Cognito Sync answers them (its model's codes and statuses:
/// `ResourceNotFoundException` is 404 there).
impl From<SyncError> for ApiError {
    fn from(e: SyncError) -> ApiError {
        use sync_codes as c;
        let code = match &e {
            SyncError::Conflict { .. } => c::RESOURCE_CONFLICT_EXCEPTION,
            SyncError::DatasetTooLarge(_) | SyncError::TooManyRecords(_) | SyncError::TooManyDatasets(_) => {
                c::LIMIT_EXCEEDED_EXCEPTION
            }
            SyncError::InvalidPatch(_) | SyncError::InvalidSession(_) | SyncError::InvalidParameter(_) => {
                c::INVALID_PARAMETER_EXCEPTION
            }
            SyncError::IdentityNotFound(_) | SyncError::DatasetNotFound(_) | SyncError::DeviceNotFound(_) => {
                c::RESOURCE_NOT_FOUND_EXCEPTION
            }
            SyncError::NotAuthorized(_) => c::NOT_AUTHORIZED_EXCEPTION,
            SyncError::InvalidConfiguration(_) => c::INVALID_CONFIGURATION_EXCEPTION,
            SyncError::AlreadyStreamed(_) => c::ALREADY_STREAMED_EXCEPTION,
        };
        ApiError::new(code, e.to_string())
    }
}

pub fn sync_error(e: CognitoError) -> ApiError {
    use sync_codes as c;
    cognito_error(
        e,
        [
            c::RESOURCE_NOT_FOUND_EXCEPTION,
            c::LIMIT_EXCEEDED_EXCEPTION,
            c::INVALID_PARAMETER_EXCEPTION,
            c::NOT_AUTHORIZED_EXCEPTION,
            c::RESOURCE_CONFLICT_EXCEPTION,
            // Cognito Sync has no such code; it never links developer users.
            c::INVALID_PARAMETER_EXCEPTION,
        ],
    )
}

/// `codes`: the service's not-found, limit-exceeded, invalid-parameter, not-authorized,
/// resource-conflict and developer-user-already-registered codes (both Cognito services
/// use these names, with statuses of their own).
fn cognito_error(e: CognitoError, codes: [Code; 6]) -> ApiError {
    let [not_found, limit, invalid, not_authorized, conflict, developer_registered] = codes;
    let code = match &e {
        CognitoError::PoolNotFound(_)
        | CognitoError::IdentityNotFound(_)
        | CognitoError::DeveloperUserNotFound(_)
        | CognitoError::DeveloperUserNotLinked(..)
        | CognitoError::NoDeveloperUsers(_) => not_found,
        CognitoError::PoolLimitExceeded | CognitoError::TooManyLogins => limit,
        CognitoError::DeveloperProviderImmutable(_)
        | CognitoError::NoDeveloperProvider(_)
        | CognitoError::DeveloperLoginMissing(_)
        | CognitoError::DeveloperProviderMismatch(..)
        | CognitoError::LookupWithoutKey
        | CognitoError::RoleMappingProvider(_)
        | CognitoError::InvalidRoleMapping(..)
        | CognitoError::ProviderNotInPool(_)
        | CognitoError::InvalidArn(_)
        | CognitoError::TooManyTags => invalid,
        CognitoError::UnauthenticatedNotAllowed
        | CognitoError::ProviderNotConfigured(_)
        | CognitoError::EmptyToken(_)
        | CognitoError::LoginsDoNotMatch(_)
        | CognitoError::IdentityDisabled(_)
        | CognitoError::RoleForbidden(_) => not_authorized,
        CognitoError::LoginsOfDifferentIdentities
        | CognitoError::LoginLinkedElsewhere(_)
        | CognitoError::LookupMismatch(..) => conflict,
        CognitoError::DeveloperUserAlreadyRegistered(_) => developer_registered,
    };
    ApiError::new(code, e.to_string())
}

/// Cognito's answer to a bad `NextToken` (both services model `InvalidParameterException`
/// with status 400).
pub fn cognito_token_error(e: TokenError) -> ApiError {
    match e {
        TokenError::Invalid => {
            ApiError::new(identity_codes::INVALID_PARAMETER_EXCEPTION, "The pagination token is not valid.")
        }
    }
}

// ----- RAM ------------------------------------------------------------------------

/// RAM errors at the codes (and statuses) of RAM's model.
impl From<RamError> for ApiError {
    fn from(e: RamError) -> ApiError {
        use ram_codes as c;
        let code = match &e {
            RamError::MalformedArn(_) | RamError::UnshareableType(_) => c::MALFORMED_ARN_EXCEPTION,
            RamError::ShareNotFound(_)
            | RamError::ResourceNotFound(_)
            | RamError::OrganizationNotFound(_)
            | RamError::OrganizationalUnitNotFound(_)
            | RamError::NotAssociated { .. } => c::UNKNOWN_RESOURCE_EXCEPTION,
            RamError::MalformedPrincipal(_)
            | RamError::UnsupportedPrincipal(_)
            | RamError::OwnerAsPrincipal(_)
            | RamError::InvalidParameter(_) => c::INVALID_PARAMETER_EXCEPTION,
            RamError::ExternalNotAllowed(_) | RamError::NotOwner(_) => c::OPERATION_NOT_PERMITTED_EXCEPTION,
            RamError::ShareDeleted(_) => c::INVALID_STATE_TRANSITION_EXCEPTION,
            RamError::InvitationNotFound(_) => c::RESOURCE_SHARE_INVITATION_ARN_NOT_FOUND_EXCEPTION,
            RamError::MalformedInvitationArn(_) => c::MALFORMED_ARN_EXCEPTION,
            RamError::InvitationAccepted(_) => c::RESOURCE_SHARE_INVITATION_ALREADY_ACCEPTED_EXCEPTION,
            RamError::InvitationRejected(_) => c::RESOURCE_SHARE_INVITATION_ALREADY_REJECTED_EXCEPTION,
            RamError::InvitationExpired(_) => c::RESOURCE_SHARE_INVITATION_EXPIRED_EXCEPTION,
            RamError::InvalidResourceType(_) => c::INVALID_RESOURCE_TYPE_EXCEPTION,
            RamError::MissingParameter(_) => c::MISSING_REQUIRED_PARAMETER_EXCEPTION,
        };
        ApiError::new(code, e.to_string())
    }
}

/// RAM's answer to a bad `clientToken` or one reused with other parameters.
pub fn ram_idempotency_error(e: IdempotencyError) -> ApiError {
    let code = match &e {
        IdempotencyError::InvalidToken => ram_codes::INVALID_CLIENT_TOKEN_EXCEPTION,
        IdempotencyError::ParameterMismatch(_) => ram_codes::IDEMPOTENT_PARAMETER_MISMATCH_EXCEPTION,
    };
    ApiError::new(code, e.to_string())
}

/// RAM's answer to a bad `nextToken`.
pub fn ram_token_error(e: TokenError) -> ApiError {
    match e {
        TokenError::Invalid => {
            ApiError::new(ram_codes::INVALID_NEXT_TOKEN_EXCEPTION, "The specified value for NextToken is not valid.")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domain_errors_get_aws_codes() {
        assert_eq!(ApiError::from(VpcError::NotFound(vec!["vpc-1".into()])).code(), "InvalidVpcID.NotFound");
        assert_eq!(ApiError::from(VpcError::InvalidRange("10.0.0.0/8".into())).code(), "InvalidVpc.Range");
        assert_eq!(ApiError::from(TagError::TooMany { resource: "vpc-1".into() }).code(), "TagLimitExceeded");
        assert_eq!(ApiError::from(FilterError::TooManyFilters(51)).code(), "FilterLimitExceeded");
        assert_eq!(ApiError::from(KeyPairError::Duplicate("k".into())).code(), "InvalidKeyPair.Duplicate");
        assert_eq!(ApiError::from(KeyPairError::NotFound(vec!["k".into()])).code(), "InvalidKeyPair.NotFound");
        assert_eq!(ApiError::from(KeyPairError::Format).code(), "InvalidKey.Format");
        assert_eq!(ec2_not_found(ResourceKind::KeyPair, "key-1").code(), "InvalidKeyPair.NotFound");
        assert_eq!(
            ApiError::from(IdempotencyError::ParameterMismatch("t".into())).code(),
            "IdempotentParameterMismatch"
        );
        assert_eq!(ApiError::from(CognitoError::PoolNotFound("x".into())).code(), "ResourceNotFoundException");
        assert_eq!(ec2_token_error(TokenError::Invalid).code(), "InvalidNextToken");
        assert!(matches!(ApiError::dry_run(), ApiError::Aws { code, .. } if code.status() == 412));
        assert_eq!(
            sync_error(CognitoError::PoolNotFound("x".into())),
            ApiError::new(sync_codes::RESOURCE_NOT_FOUND_EXCEPTION, "IdentityPool 'x' not found.")
        );
        assert!(matches!(ApiError::from(StoreError::Unavailable("x".into())), ApiError::Unavailable(_)));
    }

    #[test]
    fn cognito_identity_errors_get_its_codes() {
        let code = |e: CognitoError| ApiError::from(e).code().to_string();
        assert_eq!(code(CognitoError::IdentityNotFound("i".into())), "ResourceNotFoundException");
        assert_eq!(code(CognitoError::LoginsOfDifferentIdentities), "ResourceConflictException");
        assert_eq!(
            code(CognitoError::DeveloperUserAlreadyRegistered("u".into())),
            "DeveloperUserAlreadyRegisteredException"
        );
        assert_eq!(code(CognitoError::RoleForbidden("arn".into())), "NotAuthorizedException");
        assert_eq!(code(CognitoError::TooManyTags), "InvalidParameterException");
        assert_eq!(code(CognitoError::TooManyLogins), "LimitExceededException");
        // Cognito Sync's statuses for the codes it shares.
        let ApiError::Aws { code, .. } = sync_error(CognitoError::LoginsOfDifferentIdentities) else { panic!() };
        assert_eq!((code.code(), code.status()), ("ResourceConflictException", 409));
    }
}
