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

/// An EC2 error code and the HTTP status it travels with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Code {
    pub code: &'static str,
    pub status: u16,
}

/// Every EC2 error code Reservoir sends. Client errors are 400 unless AWS is known to
/// use another status for the code; server errors are 5xx.
pub mod codes {
    use super::Code;

    const fn c(code: &'static str, status: u16) -> Code {
        Code { code, status }
    }

    // Common client errors (AWS's "Common client error codes").
    pub const AUTH_FAILURE: Code = c("AuthFailure", 401);
    pub const DRY_RUN_OPERATION: Code = c("DryRunOperation", 412);
    pub const IDEMPOTENT_PARAMETER_MISMATCH: Code = c("IdempotentParameterMismatch", 400);
    pub const INCOMPLETE_SIGNATURE: Code = c("IncompleteSignature", 400);
    pub const INVALID_ACTION: Code = c("InvalidAction", 400);
    pub const INVALID_PAGINATION_TOKEN: Code = c("InvalidPaginationToken", 400);
    pub const INVALID_PARAMETER: Code = c("InvalidParameter", 400);
    pub const INVALID_PARAMETER_COMBINATION: Code = c("InvalidParameterCombination", 400);
    pub const INVALID_PARAMETER_VALUE: Code = c("InvalidParameterValue", 400);
    pub const INVALID_QUERY_PARAMETER: Code = c("InvalidQueryParameter", 400);
    pub const MALFORMED_QUERY_STRING: Code = c("MalformedQueryString", 400);
    pub const MISSING_ACTION: Code = c("MissingAction", 400);
    pub const MISSING_PARAMETER: Code = c("MissingParameter", 400);
    pub const UNAUTHORIZED_OPERATION: Code = c("UnauthorizedOperation", 403);
    pub const UNKNOWN_PARAMETER: Code = c("UnknownParameter", 400);
    pub const UNSUPPORTED_OPERATION: Code = c("UnsupportedOperation", 400);
    pub const NO_SUCH_VERSION: Code = c("NoSuchVersion", 400);
    pub const MISSING_AUTHENTICATION_TOKEN: Code = c("MissingAuthenticationToken", 401);
    pub const OPT_IN_REQUIRED: Code = c("OptInRequired", 403);

    // Client errors for specific actions.
    pub const DEPENDENCY_VIOLATION: Code = c("DependencyViolation", 400);
    pub const FILTER_LIMIT_EXCEEDED: Code = c("FilterLimitExceeded", 400);
    pub const INVALID_FILTER: Code = c("InvalidFilter", 400);
    pub const INVALID_ID: Code = c("InvalidID", 400);
    pub const INVALID_NEXT_TOKEN: Code = c("InvalidNextToken", 400);
    pub const TAG_LIMIT_EXCEEDED: Code = c("TagLimitExceeded", 400);
    pub const INVALID_VPC_ID_MALFORMED: Code = c("InvalidVpcID.Malformed", 400);
    pub const INVALID_VPC_ID_NOT_FOUND: Code = c("InvalidVpcID.NotFound", 400);
    pub const INVALID_VPC_RANGE: Code = c("InvalidVpcRange", 400);
    pub const VPC_LIMIT_EXCEEDED: Code = c("VpcLimitExceeded", 400);
    pub const INVALID_CAPACITY_RESERVATION_ID_NOT_FOUND: Code = c("InvalidCapacityReservationId.NotFound", 400);
    pub const INVALID_INSTANCE_ID_NOT_FOUND: Code = c("InvalidInstanceID.NotFound", 400);
    pub const INVALID_SUBNET_ID_NOT_FOUND: Code = c("InvalidSubnetID.NotFound", 400);
    pub const INVALID_ALLOCATION_ID_NOT_FOUND: Code = c("InvalidAllocationID.NotFound", 400);
    pub const INVALID_IPAM_ID_NOT_FOUND: Code = c("InvalidIpamId.NotFound", 400);
    pub const INVALID_IPAM_SCOPE_ID_NOT_FOUND: Code = c("InvalidIpamScopeId.NotFound", 400);
    pub const INVALID_IPAM_POOL_ID_NOT_FOUND: Code = c("InvalidIpamPoolId.NotFound", 400);
    pub const INVALID_POOL_ID_NOT_FOUND: Code = c("InvalidPoolID.NotFound", 400);
    pub const INVALID_LOCAL_GATEWAY_ID_NOT_FOUND: Code = c("InvalidLocalGatewayID.NotFound", 400);
    pub const INVALID_LOCAL_GATEWAY_ROUTE_TABLE_ID_NOT_FOUND: Code = c("InvalidLocalGatewayRouteTableID.NotFound", 400);
    pub const INVALID_DHCP_OPTIONS_ID_NOT_FOUND: Code = c("InvalidDhcpOptionID.NotFound", 400);
    pub const INVALID_GROUP_NOT_FOUND: Code = c("InvalidGroup.NotFound", 400);

    // Reservoir: a real EC2 operation or parameter that Reservoir does not implement yet.
    // 501 is not retried by botocore or aws-sdk-rust, and says plainly what happened.
    pub const NOT_IMPLEMENTED: Code = c("NotImplemented", 501);

    // Server errors.
    pub const INTERNAL_ERROR: Code = c("InternalError", 500);
    pub const UNAVAILABLE: Code = c("Unavailable", 503);
    pub const REQUEST_LIMIT_EXCEEDED: Code = c("RequestLimitExceeded", 503);
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
    fn every_code_is_4xx_or_5xx() {
        use codes::*;
        for c in [
            AUTH_FAILURE,
            DRY_RUN_OPERATION,
            IDEMPOTENT_PARAMETER_MISMATCH,
            INCOMPLETE_SIGNATURE,
            INVALID_ACTION,
            INVALID_PAGINATION_TOKEN,
            INVALID_PARAMETER,
            INVALID_PARAMETER_COMBINATION,
            INVALID_PARAMETER_VALUE,
            INVALID_QUERY_PARAMETER,
            MALFORMED_QUERY_STRING,
            MISSING_ACTION,
            MISSING_PARAMETER,
            UNAUTHORIZED_OPERATION,
            UNKNOWN_PARAMETER,
            UNSUPPORTED_OPERATION,
            NO_SUCH_VERSION,
            DEPENDENCY_VIOLATION,
            FILTER_LIMIT_EXCEEDED,
            INVALID_FILTER,
            INVALID_ID,
            INVALID_NEXT_TOKEN,
            TAG_LIMIT_EXCEEDED,
            INVALID_VPC_ID_MALFORMED,
            INVALID_VPC_ID_NOT_FOUND,
            INVALID_VPC_RANGE,
            VPC_LIMIT_EXCEEDED,
            NOT_IMPLEMENTED,
            INTERNAL_ERROR,
            UNAVAILABLE,
            REQUEST_LIMIT_EXCEEDED,
        ] {
            assert!((400..600).contains(&c.status), "{c:?}");
        }
        assert_eq!(DRY_RUN_OPERATION.status, 412);
        assert_eq!(UNAUTHORIZED_OPERATION.status, 403);
    }
}
