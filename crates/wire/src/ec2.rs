//! EC2 query protocol envelopes and error codes.
//!
//! Success: `<OpResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">` with a
//! `<requestId>` child and the output members. Errors:
//! `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`
//! at a 4xx/5xx status, never 200 (botocore only looks for an error at ≥ 301).
//!
//! The EC2 model lists no errors, so [`codes`] is the hand-kept table of every code
//! Reservoir sends, with its HTTP status, taken from AWS's "Error codes for the Amazon EC2
//! API" page and public traces of real EC2 responses (412 for `DryRunOperation`, 403 for
//! `UnauthorizedOperation`, 401 for `AuthFailure`).

use crate::query::QueryError;
use crate::validate::{Constraint, Violation};
use crate::xml::{XmlEncode, XmlWriter};

/// The namespace EC2 puts on every response root.
pub const XMLNS: &str = "http://ec2.amazonaws.com/doc/2016-11-15/";
/// The only API version of the EC2 query protocol.
pub const API_VERSION: &str = "2016-11-15";
/// The content type EC2 answers with.
pub const CONTENT_TYPE: &str = "text/xml;charset=UTF-8";

pub use crate::codes::Code;

/// Every EC2 error code Reservoir sends. Client errors are 400 unless AWS is known to
/// use another status for the code; server errors are 5xx.
pub mod codes {
    crate::codes::code_table! {
        // Common client errors (AWS's "Common client error codes").
        AUTH_FAILURE = ("AuthFailure", 401);
        DRY_RUN_OPERATION = ("DryRunOperation", 412);
        IDEMPOTENT_PARAMETER_MISMATCH = ("IdempotentParameterMismatch", 400);
        INCOMPLETE_SIGNATURE = ("IncompleteSignature", 400);
        INVALID_ACTION = ("InvalidAction", 400);
        INVALID_PAGINATION_TOKEN = ("InvalidPaginationToken", 400);
        INVALID_PARAMETER = ("InvalidParameter", 400);
        INVALID_PARAMETER_COMBINATION = ("InvalidParameterCombination", 400);
        INVALID_PARAMETER_VALUE = ("InvalidParameterValue", 400);
        INVALID_QUERY_PARAMETER = ("InvalidQueryParameter", 400);
        MALFORMED_QUERY_STRING = ("MalformedQueryString", 400);
        MISSING_ACTION = ("MissingAction", 400);
        MISSING_PARAMETER = ("MissingParameter", 400);
        UNAUTHORIZED_OPERATION = ("UnauthorizedOperation", 403);
        /// Temporary credentials past their expiry (what EC2 answers to expired STS keys).
        REQUEST_EXPIRED = ("RequestExpired", 400);
        UNKNOWN_PARAMETER = ("UnknownParameter", 400);
        UNSUPPORTED_OPERATION = ("UnsupportedOperation", 400);
        NO_SUCH_VERSION = ("NoSuchVersion", 400);
        MISSING_AUTHENTICATION_TOKEN = ("MissingAuthenticationToken", 401);
        OPT_IN_REQUIRED = ("OptInRequired", 403);

        // Client errors for specific actions.
        DEPENDENCY_VIOLATION = ("DependencyViolation", 400);
        FILTER_LIMIT_EXCEEDED = ("FilterLimitExceeded", 400);
        INVALID_FILTER = ("InvalidFilter", 400);
        INVALID_ID = ("InvalidID", 400);
        INVALID_NEXT_TOKEN = ("InvalidNextToken", 400);
        TAG_LIMIT_EXCEEDED = ("TagLimitExceeded", 400);
        INVALID_VPC_ID_MALFORMED = ("InvalidVpcID.Malformed", 400);
        INVALID_VPC_ID_NOT_FOUND = ("InvalidVpcID.NotFound", 400);
        /// A VPC CIDR block outside /16–/28 (AWS's error-code table).
        INVALID_VPC_RANGE = ("InvalidVpc.Range", 400);
        VPC_LIMIT_EXCEEDED = ("VpcLimitExceeded", 400);
        /// A key pair name already used in the Region (`CreateKeyPair`, `ImportKeyPair`).
        INVALID_KEY_PAIR_DUPLICATE = ("InvalidKeyPair.Duplicate", 400);
        INVALID_KEY_PAIR_NOT_FOUND = ("InvalidKeyPair.NotFound", 400);
        /// `ImportKeyPair`'s public key material is not a public key AWS reads.
        INVALID_KEY_FORMAT = ("InvalidKey.Format", 400);
        INVALID_CAPACITY_RESERVATION_ID_NOT_FOUND = ("InvalidCapacityReservationId.NotFound", 400);
        INVALID_CAPACITY_RESERVATION_ID_MALFORMED = ("InvalidCapacityReservationId.Malformed", 400);
        /// A launch that names a capacity reservation without room for it.
        RESERVATION_CAPACITY_EXCEEDED = ("ReservationCapacityExceeded", 400);
        INVALID_INSTANCE_ID_NOT_FOUND = ("InvalidInstanceID.NotFound", 400);
        /// An instance whose state does not allow the request (stop a terminated one, …).
        INCORRECT_INSTANCE_STATE = ("IncorrectInstanceState", 400);
        /// `StopInstances` with `Hibernate` on an instance launched without hibernation.
        UNSUPPORTED_HIBERNATION_CONFIGURATION = ("UnsupportedHibernationConfiguration", 400);
        /// `RunInstances` without a subnet when the default VPC has no default subnet.
        MISSING_INPUT = ("MissingInput", 400);
        INVALID_SUBNET_ID_NOT_FOUND = ("InvalidSubnetID.NotFound", 400);
        INVALID_ALLOCATION_ID_NOT_FOUND = ("InvalidAllocationID.NotFound", 400);
        INVALID_ALLOCATION_ID_MALFORMED = ("InvalidAllocationID.Malformed", 400);
        /// A public address that is not one of the caller's Elastic IPs.
        INVALID_ADDRESS_NOT_FOUND = ("InvalidAddress.NotFound", 400);
        INVALID_ASSOCIATION_ID_MALFORMED = ("InvalidAssociationID.Malformed", 400);
        /// No Elastic IP left to allocate.
        ADDRESS_LIMIT_EXCEEDED = ("AddressLimitExceeded", 400);
        INVALID_IPAM_ID_NOT_FOUND = ("InvalidIpamId.NotFound", 400);
        INVALID_IPAM_SCOPE_ID_NOT_FOUND = ("InvalidIpamScopeId.NotFound", 400);
        INVALID_IPAM_POOL_ID_NOT_FOUND = ("InvalidIpamPoolId.NotFound", 400);
        INVALID_IPAM_POOL_ALLOCATION_ID_NOT_FOUND = ("InvalidIpamPoolAllocationId.NotFound", 400);
        INVALID_VPC_CIDR_BLOCK_ASSOCIATION_ID_NOT_FOUND = ("InvalidVpcCidrBlockAssociationID.NotFound", 400);
        CIDR_LIMIT_EXCEEDED = ("CidrLimitExceeded", 400);
        INVALID_POOL_ID_NOT_FOUND = ("InvalidPoolID.NotFound", 400);
        INVALID_POOL_ID_MALFORMED = ("InvalidPoolID.Malformed", 400);
        /// A CoIP pool without a free address: AWS's code, answered 400 (the caller's own
        /// pool is full; retrying cannot help, so not a server error here).
        INSUFFICIENT_ADDRESS_CAPACITY = ("InsufficientAddressCapacity", 400);
        INVALID_LOCAL_GATEWAY_ID_NOT_FOUND = ("InvalidLocalGatewayID.NotFound", 400);
        INVALID_LOCAL_GATEWAY_ROUTE_TABLE_ID_NOT_FOUND = ("InvalidLocalGatewayRouteTableID.NotFound", 400);
        INVALID_DHCP_OPTIONS_ID_NOT_FOUND = ("InvalidDhcpOptionID.NotFound", 400);
        INVALID_GROUP_NOT_FOUND = ("InvalidGroup.NotFound", 400);

        // VPC networking: subnets, groups, interfaces, routing, gateways, endpoints.
        INVALID_SUBNET_ID_MALFORMED = ("InvalidSubnetID.Malformed", 400);
        INVALID_SUBNET_CONFLICT = ("InvalidSubnet.Conflict", 400);
        INVALID_SUBNET_RANGE = ("InvalidSubnet.Range", 400);
        INSUFFICIENT_FREE_ADDRESSES_IN_SUBNET = ("InsufficientFreeAddressesInSubnet", 400);
        INVALID_IP_ADDRESS_IN_USE = ("InvalidIPAddress.InUse", 400);
        INVALID_GROUP_DUPLICATE = ("InvalidGroup.Duplicate", 400);
        INVALID_GROUP_RESERVED = ("InvalidGroup.Reserved", 400);
        INVALID_GROUP_ID_MALFORMED = ("InvalidGroupId.Malformed", 400);
        INVALID_PERMISSION_DUPLICATE = ("InvalidPermission.Duplicate", 400);
        INVALID_PERMISSION_NOT_FOUND = ("InvalidPermission.NotFound", 400);
        INVALID_PERMISSION_MALFORMED = ("InvalidPermission.Malformed", 400);
        INVALID_SECURITY_GROUP_RULE_ID_NOT_FOUND = ("InvalidSecurityGroupRuleId.NotFound", 400);
        INVALID_SECURITY_GROUP_RULE_ID_MALFORMED = ("InvalidSecurityGroupRuleId.Malformed", 400);
        CANNOT_DELETE = ("CannotDelete", 400);
        ROUTE_ALREADY_EXISTS = ("RouteAlreadyExists", 400);
        INVALID_ROUTE_NOT_FOUND = ("InvalidRoute.NotFound", 400);
        RESOURCE_ALREADY_ASSOCIATED = ("Resource.AlreadyAssociated", 400);
        GATEWAY_NOT_ATTACHED = ("Gateway.NotAttached", 400);
        INVALID_NETWORK_INTERFACE_ID_NOT_FOUND = ("InvalidNetworkInterfaceID.NotFound", 400);
        INVALID_NETWORK_INTERFACE_ID_MALFORMED = ("InvalidNetworkInterfaceID.Malformed", 400);
        INVALID_NETWORK_INTERFACE_IN_USE = ("InvalidNetworkInterface.InUse", 400);
        INVALID_ATTACHMENT_ID_NOT_FOUND = ("InvalidAttachmentID.NotFound", 400);
        INVALID_ATTACHMENT_ID_MALFORMED = ("InvalidAttachmentID.Malformed", 400);
        INVALID_ROUTE_TABLE_ID_NOT_FOUND = ("InvalidRouteTableID.NotFound", 400);
        INVALID_ROUTE_TABLE_ID_MALFORMED = ("InvalidRouteTableId.Malformed", 400);
        INVALID_INTERNET_GATEWAY_ID_NOT_FOUND = ("InvalidInternetGatewayID.NotFound", 400);
        INVALID_INTERNET_GATEWAY_ID_MALFORMED = ("InvalidInternetGatewayId.Malformed", 400);
        INVALID_GATEWAY_ID_NOT_FOUND = ("InvalidGatewayID.NotFound", 400);
        /// Route targets of kinds Reservoir does not serve (CreateRoute / ReplaceRoute).
        INVALID_NAT_GATEWAY_ID_NOT_FOUND = ("InvalidNatGatewayID.NotFound", 400);
        INVALID_TRANSIT_GATEWAY_ID_NOT_FOUND = ("InvalidTransitGatewayID.NotFound", 400);
        INVALID_VPC_PEERING_CONNECTION_ID_NOT_FOUND = ("InvalidVpcPeeringConnectionID.NotFound", 400);
        INVALID_CARRIER_GATEWAY_ID_NOT_FOUND = ("InvalidCarrierGatewayID.NotFound", 400);
        INVALID_ASSOCIATION_ID_NOT_FOUND = ("InvalidAssociationID.NotFound", 400);
        INVALID_DHCP_OPTIONS_ID_MALFORMED = ("InvalidDhcpOptionsId.Malformed", 400);
        INVALID_NETWORK_ACL_ID_NOT_FOUND = ("InvalidNetworkAclID.NotFound", 400);
        INVALID_NETWORK_ACL_ID_MALFORMED = ("InvalidNetworkAclId.Malformed", 400);
        INVALID_VPC_ENDPOINT_ID_NOT_FOUND = ("InvalidVpcEndpointId.NotFound", 400);
        INVALID_VPC_ENDPOINT_ID_MALFORMED = ("InvalidVpcEndpointId.Malformed", 400);
        /// `DeleteVpcEndpoints`' code for an unknown endpoint, in its `Unsuccessful` items.
        INVALID_VPC_ENDPOINT_NOT_FOUND = ("InvalidVpcEndpoint.NotFound", 400);
        INVALID_SERVICE_NAME = ("InvalidServiceName", 400);
        INVALID_POLICY_DOCUMENT = ("InvalidPolicyDocument", 400);
        DUPLICATE_SUBNETS_IN_SAME_ZONE = ("DuplicateSubnetsInSameZone", 400);
        INVALID_PREFIX_LIST_ID_NOT_FOUND = ("InvalidPrefixListId.NotFound", 400);
        INVALID_PREFIX_LIST_ID_MALFORMED = ("InvalidPrefixListID.Malformed", 400);
        INVALID_INSTANCE_ID_MALFORMED = ("InvalidInstanceID.Malformed", 400);
        INVALID_AMI_ID_NOT_FOUND = ("InvalidAMIID.NotFound", 400);
        INVALID_AMI_ID_MALFORMED = ("InvalidAMIID.Malformed", 400);
        /// `DescribeImages`: an `Owner.N` or `ExecutableBy.N` that is neither a keyword nor an account id.
        INVALID_USER_ID_MALFORMED = ("InvalidUserID.Malformed", 400);
        DEFAULT_VPC_ALREADY_EXISTS = ("DefaultVpcAlreadyExists", 400);
        DEFAULT_SUBNET_ALREADY_EXISTS_IN_AVAILABILITY_ZONE = ("DefaultSubnetAlreadyExistsInAvailabilityZone", 400);
        DEFAULT_VPC_NOT_FOUND = ("DefaultVpcNotFound", 400);
        INCORRECT_STATE = ("IncorrectState", 400);
        OPERATION_NOT_PERMITTED = ("OperationNotPermitted", 400);
        SUBNET_LIMIT_EXCEEDED = ("SubnetLimitExceeded", 400);
        SECURITY_GROUP_LIMIT_EXCEEDED = ("SecurityGroupLimitExceeded", 400);
        RULES_PER_SECURITY_GROUP_LIMIT_EXCEEDED = ("RulesPerSecurityGroupLimitExceeded", 400);
        SECURITY_GROUPS_PER_INTERFACE_LIMIT_EXCEEDED = ("SecurityGroupsPerInterfaceLimitExceeded", 400);
        PRIVATE_IP_ADDRESS_LIMIT_EXCEEDED = ("PrivateIpAddressLimitExceeded", 400);
        NETWORK_INTERFACE_LIMIT_EXCEEDED = ("NetworkInterfaceLimitExceeded", 400);
        ROUTE_TABLE_LIMIT_EXCEEDED = ("RouteTableLimitExceeded", 400);
        ROUTE_LIMIT_EXCEEDED = ("RouteLimitExceeded", 400);
        INTERNET_GATEWAY_LIMIT_EXCEEDED = ("InternetGatewayLimitExceeded", 400);
        VPC_ENDPOINT_LIMIT_EXCEEDED = ("VpcEndpointLimitExceeded", 400);
        /// `CreateSecurityGroup` without `VpcId` in a Region with no default VPC.
        VPC_ID_NOT_SPECIFIED = ("VPCIdNotSpecified", 400);
        /// A request EC2 refuses as a whole (`ModifySubnetAttribute` with two attributes).
        INVALID_REQUEST = ("InvalidRequest", 400);

        // Requests Reservoir cannot route or read, answered in EC2's format when the
        // request looks like an EC2 call (a form post).
        /// A body over `--max-body-bytes`.
        REQUEST_ENTITY_TOO_LARGE = ("RequestEntityTooLarge", 413);
        /// Signed for a service Reservoir does not serve.
        UNSUPPORTED_SERVICE = ("UnsupportedService", 400);
        /// No signature, target or path says which service the request is for.
        UNKNOWN_SERVICE = ("UnknownService", 400);

        /// Reservoir: a real EC2 operation or parameter that Reservoir does not implement
        /// yet. 501 is not retried by botocore or aws-sdk-rust, and says plainly what happened.
        NOT_IMPLEMENTED = ("NotImplemented", 501);

        // Server errors.
        INTERNAL_ERROR = ("InternalError", 500);
        UNAVAILABLE = ("Unavailable", 503);
        REQUEST_LIMIT_EXCEEDED = ("RequestLimitExceeded", 503);
    }
}

/// A success response body.
pub fn response_body(operation: &str, request_id: &str, output: Option<&dyn XmlEncodeDyn>) -> String {
    let mut w = XmlWriter::new();
    w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<");
    w.raw(operation);
    w.raw("Response xmlns=\"");
    w.raw(XMLNS);
    w.raw("\">");
    w.string("requestId", request_id);
    match output {
        Some(out) => out.encode_dyn(&mut w),
        // Operations without an output shape: EC2 still says `<return>true</return>`.
        None => w.boolean("return", true),
    }
    w.raw("</");
    w.raw(operation);
    w.raw("Response>");
    w.into_string()
}

/// Object-safe view of [`XmlEncode`], so handlers' outputs can be passed as `&dyn`.
pub trait XmlEncodeDyn {
    fn encode_dyn(&self, w: &mut XmlWriter);
}

impl<T: XmlEncode> XmlEncodeDyn for T {
    fn encode_dyn(&self, w: &mut XmlWriter) {
        self.encode_xml(w);
    }
}

/// An error response body.
pub fn error_body(code: &str, message: &str, request_id: &str) -> String {
    let mut w = XmlWriter::new();
    w.raw("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>");
    w.string("Code", code);
    w.string("Message", message);
    w.raw("</Error></Errors>");
    w.string("RequestID", request_id);
    w.raw("</Response>");
    w.into_string()
}

/// The EC2 error for a request that could not be decoded.
pub fn query_error(e: &QueryError) -> (Code, String) {
    let code = match e {
        QueryError::Malformed(_) => codes::MALFORMED_QUERY_STRING,
        QueryError::Duplicate(_) => codes::INVALID_QUERY_PARAMETER,
        QueryError::UnknownParameter(_) => codes::UNKNOWN_PARAMETER,
        QueryError::InvalidValue { .. } => codes::INVALID_PARAMETER_VALUE,
    };
    (code, e.to_string())
}

/// The EC2 error for the first constraint violation: `MissingParameter` for a missing
/// required member, else `InvalidParameterValue` naming the form key.
pub fn violation_error(v: &Violation) -> (Code, String) {
    let key = v.query_key();
    let value = v.value.as_deref().unwrap_or_default();
    let message = match &v.constraint {
        Constraint::Required => {
            return (codes::MISSING_PARAMETER, format!("The request must contain the parameter {key}"));
        }
        Constraint::Min(n) => {
            format!("Value ( {value} ) for parameter {key} is invalid. Expecting a value greater than or equal to {n}.")
        }
        Constraint::Max(n) => {
            format!("Value ( {value} ) for parameter {key} is invalid. Expecting a value less than or equal to {n}.")
        }
        Constraint::MinLength(n) => format!(
            "Value ({value}) for parameter {key} is invalid. It must be at least {n} characters (or entries) long."
        ),
        Constraint::MaxLength(n) => format!(
            "Value ({value}) for parameter {key} is invalid. It must be at most {n} characters (or entries) long."
        ),
        Constraint::Pattern(p) => {
            format!("Value ({value}) for parameter {key} is invalid. It must match the pattern {p}.")
        }
        Constraint::Enum(values) => {
            format!("Value ({value}) for parameter {key} is invalid. Valid values are: {}.", values.join(", "))
        }
    };
    (codes::INVALID_PARAMETER_VALUE, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        let body = response_body("DeleteVpc", "req-1", None);
        assert_eq!(
            body,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DeleteVpcResponse xmlns=\"http://ec2.amazonaws.com/doc/2016-11-15/\"><requestId>req-1</requestId><return>true</return></DeleteVpcResponse>"
        );
        let body = error_body("InvalidVpcID.NotFound", "The vpc ID 'vpc-1' does not exist", "req-2");
        assert!(body.ends_with("<Response><Errors><Error><Code>InvalidVpcID.NotFound</Code><Message>The vpc ID &apos;vpc-1&apos; does not exist</Message></Error></Errors><RequestID>req-2</RequestID></Response>"));
    }

    #[test]
    fn every_code_is_4xx_or_5xx_and_listed_once() {
        let mut seen = std::collections::HashSet::new();
        for c in codes::ALL {
            assert!((400..600).contains(&c.status()), "{c:?}");
            assert!(seen.insert(c.code()), "{} twice", c.code());
        }
        assert_eq!(codes::DRY_RUN_OPERATION.status(), 412);
        assert_eq!(codes::UNAUTHORIZED_OPERATION.status(), 403);
        assert_eq!(codes::INVALID_VPC_RANGE.code(), "InvalidVpc.Range");
    }
}
