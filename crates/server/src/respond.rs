//! Response envelopes: how a success or an error of each service looks on the wire.
//!
//! Handlers never build responses themselves; the service modules turn a handler's
//! output or [`ApiError`] into a response here. Internal errors are logged here with
//! their cause and answered without it.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

use reservoir_wire::Code;
use reservoir_wire::ec2::codes;
use reservoir_wire::route::Service;

use crate::context::Trace;
use crate::error::ApiError;

/// How errors of a service look on the wire.
#[derive(Debug, Clone, Copy)]
pub enum Flavor {
    /// `<Response><Errors>…` XML.
    Ec2,
    /// `{"__type", "message"}` with `x-amzn-ErrorType`.
    Json {
        content_type: &'static str,
        /// The code of the service's internal error.
        internal: Code,
        /// The code for "try again later".
        unavailable: Code,
    },
}

impl Flavor {
    pub fn of(service: &Service) -> Flavor {
        use reservoir_wire::{cognito_identity, cognito_sync, json, ram};
        match service {
            Service::Ec2 => Flavor::Ec2,
            Service::CognitoIdentity => Flavor::Json {
                content_type: cognito_identity::CONTENT_TYPE,
                internal: cognito_identity::codes::INTERNAL_ERROR_EXCEPTION,
                unavailable: cognito_identity::codes::TOO_MANY_REQUESTS_EXCEPTION,
            },
            Service::CognitoSync => Flavor::Json {
                content_type: cognito_sync::CONTENT_TYPE,
                internal: cognito_sync::codes::INTERNAL_ERROR_EXCEPTION,
                unavailable: cognito_sync::codes::TOO_MANY_REQUESTS_EXCEPTION,
            },
            Service::Ram => Flavor::Json {
                content_type: ram::CONTENT_TYPE,
                internal: ram::codes::SERVER_INTERNAL_EXCEPTION,
                unavailable: ram::codes::SERVICE_UNAVAILABLE_EXCEPTION,
            },
            Service::Other(_) => Flavor::Json {
                content_type: "application/json",
                internal: json::codes::INTERNAL_FAILURE,
                unavailable: json::codes::SERVICE_UNAVAILABLE,
            },
        }
    }

    /// For requests whose service is unknown: XML for form posts, JSON otherwise.
    pub fn guess(parts: &http::request::Parts) -> Flavor {
        let form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        if form { Flavor::Ec2 } else { Flavor::of(&Service::Other(String::new())) }
    }

    /// Picks the code of a protocol-level error from the table of this flavor's format:
    /// EC2's for XML, the JSON protocols' otherwise.
    pub fn pick(self, ec2: Code, json: Code) -> Code {
        match self {
            Flavor::Ec2 => ec2,
            Flavor::Json { .. } => json,
        }
    }
}

fn with_request_id(mut response: Response, request_id: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-RequestId", v);
    }
    response
}

/// A 200 EC2 response.
pub fn xml_response(request_id: &str, body: String) -> Response {
    let r = (StatusCode::OK, [(header::CONTENT_TYPE, reservoir_wire::ec2::CONTENT_TYPE)], body).into_response();
    with_request_id(r, request_id)
}

/// A 200 JSON response.
pub fn json_response(content_type: &'static str, request_id: &str, body: Vec<u8>) -> Response {
    let r = (StatusCode::OK, [(header::CONTENT_TYPE, content_type)], body).into_response();
    with_request_id(r, request_id)
}

/// An error response in the service's format. Internal errors are logged here, with
/// their cause, and answered without it.
pub fn error_response(flavor: Flavor, request_id: &str, err: &ApiError, trace: &mut Trace) -> Response {
    let (code, message): (Code, String) = match (err, flavor) {
        (ApiError::Aws { code, message }, _) => (*code, message.clone()),
        (ApiError::Internal(cause), f) => {
            tracing::error!(request_id, "internal error: {cause}");
            let code = match f {
                Flavor::Ec2 => codes::INTERNAL_ERROR,
                Flavor::Json { internal, .. } => internal,
            };
            (code, "An internal error has occurred.".to_string())
        }
        (ApiError::Unavailable(cause), f) => {
            tracing::warn!(request_id, "storage unavailable: {cause}");
            let code = match f {
                Flavor::Ec2 => codes::UNAVAILABLE,
                Flavor::Json { unavailable, .. } => unavailable,
            };
            (code, "The service is temporarily unavailable; retry.".to_string())
        }
    };
    trace.error = Some(code.code());
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let r = match flavor {
        Flavor::Ec2 => (
            status,
            [(header::CONTENT_TYPE, reservoir_wire::ec2::CONTENT_TYPE)],
            reservoir_wire::ec2::error_body(code.code(), &message, request_id),
        )
            .into_response(),
        Flavor::Json { content_type, .. } => {
            let mut r = (
                status,
                [(header::CONTENT_TYPE, content_type)],
                reservoir_wire::json::error_body(code.code(), &message),
            )
                .into_response();
            r.headers_mut().insert("x-amzn-ErrorType", HeaderValue::from_static(code.code()));
            r
        }
    };
    with_request_id(r, request_id)
}

/// A body for responses outside the AWS protocols (admin endpoints).
pub fn plain_json(value: serde_json::Value) -> Response {
    plain_json_status(StatusCode::OK, value)
}

/// [`plain_json`] with another status (an admin endpoint's 400).
pub fn plain_json_status(status: StatusCode, value: serde_json::Value) -> Response {
    let mut r = Response::new(Body::from(serde_json::to_vec(&value).unwrap_or_default()));
    *r.status_mut() = status;
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}
