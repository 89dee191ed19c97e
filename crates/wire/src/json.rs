//! The JSON protocols: awsJson1.1 (Cognito Identity) and restJson1 (Cognito Sync, RAM).
//!
//! Bodies are (de)serialized with serde through generated structs whose field names are
//! the model's member names. awsJson1.1 routes on `X-Amz-Target`; restJson1 on method and
//! path template ([`match_route`]), with members bound to path labels, query parameters
//! and headers filled in by generated code from a [`RestRequest`].
//!
//! Errors are `{"__type": "<Code>", "message": "…"}` with the same code in the
//! `x-amzn-ErrorType` header, at the status the model gives the error shape (or 400 for
//! a client error the model leaves without one). botocore reads the header first, then
//! the body; aws-sdk-rust reads both.

use serde::de::DeserializeOwned;

/// Codes the JSON protocols send whatever the service: routing, authentication,
/// validation and framework errors. Each service's modeled errors are generated from its
/// model (`generated::<service>::codes`).
pub mod codes {
    crate::codes::code_table! {
        /// Model constraints violated (all of them listed in the message).
        VALIDATION_EXCEPTION = ("ValidationException", 400);
        /// A body or bound parameter that cannot be read as the operation's input.
        SERIALIZATION_EXCEPTION = ("SerializationException", 400);
        /// awsJson1.1: an `X-Amz-Target` that names no operation of the service.
        UNKNOWN_OPERATION = ("UnknownOperationException", 400);
        /// restJson1: a path that is no operation of the service.
        UNKNOWN_OPERATION_PATH = ("UnknownOperationException", 404);
        /// restJson1: an operation's path with another method.
        UNKNOWN_OPERATION_METHOD = ("UnknownOperationException", 405);
        /// An unsigned call to an operation that needs a signature.
        MISSING_AUTHENTICATION_TOKEN = ("MissingAuthenticationTokenException", 403);
        /// An `Authorization` header that cannot be parsed.
        INCOMPLETE_SIGNATURE = ("IncompleteSignatureException", 400);
        /// A credential scoped to a region that does not exist (and, later, a bad signature).
        INVALID_SIGNATURE = ("InvalidSignatureException", 403);
        /// A credential scoped to a region that is not enabled.
        UNRECOGNIZED_CLIENT = ("UnrecognizedClientException", 403);
        /// Temporary credentials past their expiry.
        EXPIRED_TOKEN = ("ExpiredTokenException", 400);
        /// Credentials that may not call the operation (an identity's, for another service).
        ACCESS_DENIED = ("AccessDeniedException", 400);
        /// A body over `--max-body-bytes`.
        REQUEST_ENTITY_TOO_LARGE = ("RequestEntityTooLarge", 413);
        /// Signed for a service Reservoir does not serve.
        UNSUPPORTED_SERVICE = ("UnsupportedService", 400);
        /// No signature, target or path says which service the request is for.
        UNKNOWN_SERVICE = ("UnknownService", 400);
        /// Reservoir: a real operation of the service that it does not implement yet.
        NOT_IMPLEMENTED = ("NotImplemented", 501);
        /// The internal error of a service Reservoir does not serve (its own is modeled).
        INTERNAL_FAILURE = ("InternalFailure", 500);
        /// "Try again later" of a service Reservoir does not serve.
        SERVICE_UNAVAILABLE = ("ServiceUnavailable", 503);
    }
}

/// A request that cannot be read as the operation's input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JsonError {
    /// The body is not JSON of the right shape, or a bound parameter has the wrong type.
    #[error("{0}")]
    Serialization(String),
}

/// Reads a JSON body into an input structure. An empty body is an empty object (GET and
/// DELETE requests, and some SDKs for operations without body members, send none).
pub fn from_body<T: DeserializeOwned + Default>(body: &[u8]) -> Result<T, JsonError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| JsonError::Serialization(format!("The request body is not valid JSON: {e}")))?;
    if !value.is_object() {
        return Err(JsonError::Serialization("The request body must be a JSON object.".into()));
    }
    serde_json::from_value(value).map_err(|e| JsonError::Serialization(describe_serde_error(&e)))
}

fn describe_serde_error(e: &serde_json::Error) -> String {
    // serde's messages ("invalid type: string \"x\", expected a boolean") are clear enough;
    // drop its line/column suffix, meaningless for a value-level error.
    let text = e.to_string();
    match text.find(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Encodes an output structure; operations without output answer `{}`.
pub fn to_body<T: serde::Serialize>(output: &T) -> Vec<u8> {
    serde_json::to_vec(output).expect("generated output structures always serialize")
}

/// The JSON error body: `{"__type": code, "message": message}`.
pub fn error_body(code: &str, message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "__type": code, "message": message })).expect("json")
}

/// What restJson1 decoding needs from an HTTP request, after routing.
#[derive(Debug)]
pub struct RestRequest<'a> {
    /// Path label values in template order, percent-decoded.
    pub labels: Vec<String>,
    /// Decoded query parameters in request order.
    pub query: Vec<(String, String)>,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
}

impl RestRequest<'_> {
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    pub fn query_all(&self, name: &str) -> Vec<String> {
        self.query.iter().filter(|(k, _)| k == name).map(|(_, v)| v.clone()).collect()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Parses a query-string or header value bound to a numeric or boolean member.
pub fn parse_bound<T: std::str::FromStr>(name: &str, value: &str) -> Result<T, JsonError> {
    value
        .trim()
        .parse()
        .map_err(|_| JsonError::Serialization(format!("Value '{value}' for '{name}' is not of the expected type.")))
}

/// One segment of a restJson1 path template.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    Literal(&'static str),
    Label(&'static str),
}

/// One operation's HTTP binding, from the service's full operation index.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    pub operation: &'static str,
    pub method: &'static str,
    pub segments: &'static [Segment],
    /// Whether Reservoir serves it (else: 501 NotImplemented).
    pub served: bool,
}

#[derive(Debug)]
pub enum RouteMatch<'r> {
    Found {
        route: &'r Route,
        labels: Vec<String>,
    },
    /// The path exists, with another method.
    MethodNotAllowed,
    NotFound,
}

/// Finds the operation for `method` and the raw (still percent-encoded) `path`. Each
/// segment is decoded on its own, so an encoded `/` inside a label stays in the label.
/// Literal segments win over labels when both fit (`…/datasets/x` vs `…/{Label}/x`).
pub fn match_route<'r>(routes: &'r [Route], method: &str, raw_path: &str) -> RouteMatch<'r> {
    let segments: Vec<String> = raw_path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned())
        .collect();
    let mut best: Option<(&Route, Vec<String>, usize)> = None;
    let mut path_seen = false;
    for route in routes {
        if route.segments.len() != segments.len() {
            continue;
        }
        let mut labels = Vec::new();
        let mut literals = 0;
        let fits = route.segments.iter().zip(&segments).all(|(t, s)| match t {
            Segment::Literal(l) => {
                literals += 1;
                l == s
            }
            Segment::Label(_) => {
                labels.push(s.clone());
                !s.is_empty()
            }
        });
        if !fits {
            continue;
        }
        path_seen = true;
        if !route.method.eq_ignore_ascii_case(method) {
            continue;
        }
        if best.as_ref().is_none_or(|(_, _, l)| literals > *l) {
            best = Some((route, labels, literals));
        }
    }
    match best {
        Some((route, labels, _)) => RouteMatch::Found { route, labels },
        None if path_seen => RouteMatch::MethodNotAllowed,
        None => RouteMatch::NotFound,
    }
}

/// Splits a raw query string into decoded pairs.
pub fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| form_urlencoded::parse(q.as_bytes()).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    static ROUTES: &[Route] = &[
        Route {
            operation: "DescribeIdentityPoolUsage",
            method: "GET",
            segments: &[Segment::Literal("identitypools"), Segment::Label("IdentityPoolId")],
            served: true,
        },
        Route {
            operation: "ListIdentityPoolUsage",
            method: "GET",
            segments: &[Segment::Literal("identitypools")],
            served: true,
        },
        Route {
            operation: "BulkPublish",
            method: "POST",
            segments: &[
                Segment::Literal("identitypools"),
                Segment::Label("IdentityPoolId"),
                Segment::Literal("bulkpublish"),
            ],
            served: false,
        },
        Route {
            operation: "GetCognitoEvents",
            method: "GET",
            segments: &[
                Segment::Literal("identitypools"),
                Segment::Label("IdentityPoolId"),
                Segment::Literal("events"),
            ],
            served: false,
        },
    ];

    #[test]
    fn routes_by_method_and_template_and_decodes_labels() {
        match match_route(ROUTES, "GET", "/identitypools/us-east-1%3Aabc") {
            RouteMatch::Found { route, labels } => {
                assert_eq!(route.operation, "DescribeIdentityPoolUsage");
                assert_eq!(labels, vec!["us-east-1:abc"]);
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(match_route(ROUTES, "GET", "/identitypools"), RouteMatch::Found { route, .. } if route.operation == "ListIdentityPoolUsage")
        );
        assert!(
            matches!(match_route(ROUTES, "GET", "/identitypools/x/events"), RouteMatch::Found { route, .. } if route.operation == "GetCognitoEvents")
        );
        assert!(matches!(match_route(ROUTES, "DELETE", "/identitypools/x"), RouteMatch::MethodNotAllowed));
        assert!(matches!(match_route(ROUTES, "GET", "/nothing"), RouteMatch::NotFound));
    }

    #[test]
    fn bodies() {
        #[derive(serde::Deserialize, Default, Debug)]
        struct In {
            #[serde(rename = "A", default)]
            a: Option<bool>,
        }
        assert!(from_body::<In>(b"").unwrap().a.is_none());
        assert_eq!(from_body::<In>(br#"{"A": true, "Other": 1}"#).unwrap().a, Some(true));
        assert!(matches!(from_body::<In>(br#"{"A": "yes"}"#), Err(JsonError::Serialization(_))));
        assert!(matches!(from_body::<In>(b"[1]"), Err(JsonError::Serialization(_))));
        assert!(matches!(from_body::<In>(b"{"), Err(JsonError::Serialization(_))));
    }
}
