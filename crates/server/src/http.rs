//! The HTTP side of every AWS request: routing to a service, the request context,
//! response envelopes, and the one log line per request.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use http::request::Parts;
use http::{HeaderValue, StatusCode, header};

use reservoir_domain::account::{AccountId, Scope};
use reservoir_domain::ids::{OsRandom, new_request_id};
use reservoir_domain::time::Timestamp;
use reservoir_store::{ReadTx, Tx};
use reservoir_wire::ec2::codes;
use reservoir_wire::route::{self, RequestHead, Service};
use reservoir_wire::sigv4::{self, Signature, SignatureError};

use crate::error::{ApiError, ApiResult};
use crate::{AppState, admin, cognito, ec2, ram};

/// All routes: admin endpoints by path, every other request is an AWS call.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/_reservoir/health", get(admin::health))
        .route("/_reservoir/reset", post(admin::reset))
        .route("/moto-api/reset", post(admin::moto_reset))
        .route("/_localstack/health", get(admin::localstack_health))
        .route("/_localstack/state/reset", post(admin::reset))
        .fallback(aws)
        // The AWS handler enforces its own limit, so that it can answer in the
        // service's error format.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// The context of one AWS request.
#[derive(Clone)]
pub struct Cx {
    pub state: Arc<AppState>,
    pub request_id: String,
    /// The caller's account and the region the request is for.
    pub scope: Scope,
    /// Whether the request carried a SigV4 signature.
    pub signed: bool,
    pub now: Timestamp,
}

impl Cx {
    /// Runs `f` in one read-write transaction on a blocking thread. With `dry_run`, the
    /// whole operation runs — every check, every lookup — and then rolls back and
    /// answers `DryRunOperation`, so a dry run fails exactly when the real call would.
    pub async fn write<T, F>(&self, dry_run: bool, mut f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx) -> ApiResult<T> + Send + 'static,
    {
        let store = self.state.store.clone();
        tokio::task::spawn_blocking(move || {
            reservoir_store::write(&*store, |tx| {
                let value = f(tx)?;
                if dry_run { Err(ApiError::dry_run()) } else { Ok(value) }
            })
        })
        .await
        .map_err(|e| ApiError::Internal(format!("transaction task: {e}")))?
    }

    /// Runs `f` in a read-only snapshot on a blocking thread.
    pub async fn read<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn ReadTx) -> ApiResult<T> + Send + 'static,
    {
        let store = self.state.store.clone();
        tokio::task::spawn_blocking(move || reservoir_store::read(&*store, f))
            .await
            .map_err(|e| ApiError::Internal(format!("transaction task: {e}")))?
    }
}

/// What the request log line says.
#[derive(Debug, Default)]
pub struct Trace {
    pub service: Option<String>,
    pub operation: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub error: Option<String>,
}

/// How errors of a service look on the wire.
#[derive(Debug, Clone, Copy)]
pub enum Flavor {
    /// `<Response><Errors>…` XML.
    Ec2,
    /// `{"__type", "message"}` with `x-amzn-ErrorType`.
    Json {
        content_type: &'static str,
        /// The code of the service's internal error.
        internal: &'static str,
        /// The code for "try again later".
        unavailable: &'static str,
    },
}

impl Flavor {
    pub fn of(service: &Service) -> Flavor {
        match service {
            Service::Ec2 => Flavor::Ec2,
            Service::CognitoIdentity => Flavor::Json {
                content_type: reservoir_wire::cognito_identity::CONTENT_TYPE,
                internal: "InternalErrorException",
                unavailable: "TooManyRequestsException",
            },
            Service::CognitoSync => Flavor::Json {
                content_type: reservoir_wire::cognito_sync::CONTENT_TYPE,
                internal: "InternalErrorException",
                unavailable: "TooManyRequestsException",
            },
            Service::Ram => Flavor::Json {
                content_type: "application/json",
                internal: "ServerInternalException",
                unavailable: "ServiceUnavailableException",
            },
            Service::Other(_) => Flavor::Json {
                content_type: "application/json",
                internal: "InternalFailure",
                unavailable: "ServiceUnavailable",
            },
        }
    }

    /// For requests whose service is unknown: XML for form posts, JSON otherwise.
    fn guess(parts: &Parts) -> Flavor {
        let form = parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
        if form { Flavor::Ec2 } else { Flavor::of(&Service::Other(String::new())) }
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
    let (code, status, message): (&str, u16, String) = match (err, flavor) {
        (ApiError::Aws { code, status, message }, _) => (code, *status, message.clone()),
        (ApiError::Internal(cause), f) => {
            tracing::error!(request_id, "internal error: {cause}");
            let code = match f {
                Flavor::Ec2 => codes::INTERNAL_ERROR.code,
                Flavor::Json { internal, .. } => internal,
            };
            (code, 500, "An internal error has occurred.".to_string())
        }
        (ApiError::Unavailable(cause), f) => {
            tracing::warn!(request_id, "storage unavailable: {cause}");
            let code = match f {
                Flavor::Ec2 => codes::UNAVAILABLE.code,
                Flavor::Json { unavailable, .. } => unavailable,
            };
            (code, 503, "The service is temporarily unavailable; retry.".to_string())
        }
    };
    trace.error = Some(code.to_string());
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let r = match flavor {
        Flavor::Ec2 => (
            status,
            [(header::CONTENT_TYPE, reservoir_wire::ec2::CONTENT_TYPE)],
            reservoir_wire::ec2::error_body(code, &message, request_id),
        )
            .into_response(),
        Flavor::Json { content_type, .. } => {
            let mut r =
                (status, [(header::CONTENT_TYPE, content_type)], reservoir_wire::json::error_body(code, &message))
                    .into_response();
            if let Ok(v) = HeaderValue::from_str(code) {
                r.headers_mut().insert("x-amzn-ErrorType", v);
            }
            r
        }
    };
    with_request_id(r, request_id)
}

/// Every AWS request.
pub async fn aws(State(state): State<Arc<AppState>>, req: axum::extract::Request) -> Response {
    let started = Instant::now();
    let request_id = new_request_id(&mut OsRandom);
    let (parts, body) = req.into_parts();
    let mut trace = Trace::default();
    let response = match axum::body::to_bytes(body, state.max_body_bytes).await {
        Ok(body) => dispatch(&state, &parts, body, &request_id, &mut trace).await,
        Err(_) => {
            let err = ApiError::json(
                "RequestEntityTooLarge",
                413,
                format!("The request body exceeds {} bytes.", state.max_body_bytes),
            );
            error_response(Flavor::guess(&parts), &request_id, &err, &mut trace)
        }
    };
    let status = response.status().as_u16();
    tracing::info!(
        target: "reservoir::request",
        request_id = %request_id,
        service = trace.service.as_deref().unwrap_or("-"),
        operation = trace.operation.as_deref().unwrap_or("-"),
        account = trace.account.as_deref().unwrap_or("-"),
        region = trace.region.as_deref().unwrap_or("-"),
        status,
        error = trace.error.as_deref().unwrap_or(""),
        duration_ms = (started.elapsed().as_secs_f64() * 1e6).round() / 1e3,
        "{} {}",
        parts.method,
        parts.uri.path(),
    );
    response
}

fn header_str<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}

/// Whether a form (body or query string) has an `Action` parameter.
fn has_action(body: &[u8], query: Option<&str>) -> bool {
    let starts = |s: &[u8]| s.split(|&b| b == b'&').any(|pair| pair.starts_with(b"Action="));
    starts(body) || query.is_some_and(|q| starts(q.as_bytes()))
}

/// The signature, from the `Authorization` header or a presigned query.
fn signature(parts: &Parts) -> Option<Result<Signature, SignatureError>> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        return Some(match value.to_str() {
            Ok(v) => sigv4::parse_authorization(v),
            Err(_) => Err(SignatureError::Malformed("the Authorization header is not ASCII".into())),
        });
    }
    let query = parts.uri.query()?;
    if !query.contains("X-Amz-Algorithm") {
        return None;
    }
    sigv4::parse_presigned(&reservoir_wire::json::parse_query(Some(query)))
}

async fn dispatch(state: &Arc<AppState>, parts: &Parts, body: Bytes, request_id: &str, trace: &mut Trace) -> Response {
    let sig = signature(parts);
    let query = parts.uri.query();
    let head = RequestHead {
        path: parts.uri.path(),
        host: header_str(parts, "host"),
        target: header_str(parts, "x-amz-target"),
        content_type: header_str(parts, "content-type"),
        signature: sig.as_ref().and_then(|s| s.as_ref().ok()),
        has_action_param: has_action(&body, query),
        ram_paths: &ram::PATHS,
    };
    let service = route::identify(&head);
    let flavor = service.as_ref().map(Flavor::of).unwrap_or_else(|| Flavor::guess(parts));
    trace.service = service.as_ref().map(|s| s.signing_name().to_string());

    let host = header_str(parts, "host");
    let signature = match sig {
        Some(Ok(s)) => Some(s),
        Some(Err(e)) => {
            let err = match flavor {
                Flavor::Ec2 => ApiError::ec2(codes::INCOMPLETE_SIGNATURE, e.to_string()),
                Flavor::Json { .. } => ApiError::json("IncompleteSignatureException", 400, e.to_string()),
            };
            return error_response(flavor, request_id, &err, trace);
        }
        None => None,
    };
    let service = match service {
        Some(Service::Other(name)) => {
            let err = ApiError::json(
                "UnsupportedService",
                400,
                format!("Reservoir does not serve the AWS service '{name}'. It serves: {}.", route::SERVED.join(", ")),
            );
            return error_response(Flavor::guess(parts), request_id, &err, trace);
        }
        Some(s) => s,
        None => {
            let err = ApiError::json(
                "UnknownService",
                400,
                format!(
                    "Reservoir could not tell which AWS service this request is for. Sign it with Signature \
                     Version 4 for one of: {}.",
                    route::SERVED.join(", ")
                ),
            );
            return error_response(flavor, request_id, &err, trace);
        }
    };

    // Region: the credential scope's, else the host name's, else the default.
    let region = signature
        .as_ref()
        .map(|s| s.credential.region.clone())
        .or_else(|| host.and_then(route::host_service_region).map(|(_, r)| r))
        .unwrap_or_else(|| state.default_region.clone());
    if let Err(err) = check_region(state, &region, flavor) {
        trace.region = Some(region);
        return error_response(flavor, request_id, &err, trace);
    }
    let account = signature
        .as_ref()
        .map(|s| AccountId::from_access_key(&s.credential.access_key))
        .unwrap_or_else(AccountId::default_account);
    trace.account = Some(account.to_string());
    trace.region = Some(region.clone());
    let cx = Cx {
        state: state.clone(),
        request_id: request_id.to_string(),
        scope: Scope::new(account, region),
        signed: signature.is_some(),
        now: Timestamp::now(),
    };
    match service {
        Service::Ec2 => ec2::handle(cx, parts, body, trace).await,
        Service::CognitoIdentity => cognito::identity::handle(cx, parts, body, trace).await,
        Service::CognitoSync => cognito::sync::handle(cx, parts, body, trace).await,
        Service::Ram => ram::handle(cx, parts, trace),
        Service::Other(_) => unreachable!("handled above"),
    }
}

fn check_region(state: &AppState, region: &str, flavor: Flavor) -> ApiResult<()> {
    match state.catalogue.region(region) {
        Some(r) if r.enabled() => Ok(()),
        Some(_) => Err(match flavor {
            Flavor::Ec2 => ApiError::ec2(
                codes::OPT_IN_REQUIRED,
                format!("The region '{region}' is not enabled (opt-in-status not-opted-in)."),
            ),
            Flavor::Json { .. } => {
                ApiError::json("UnrecognizedClientException", 403, format!("The region '{region}' is not enabled."))
            }
        }),
        None => {
            let message = format!(
                "Credential should be scoped to a valid region, not '{region}'. Reservoir's regions are listed by \
                 DescribeRegions; add more with [[regions]] in the config file."
            );
            Err(match flavor {
                Flavor::Ec2 => ApiError::ec2(codes::AUTH_FAILURE, message),
                Flavor::Json { .. } => ApiError::json("InvalidSignatureException", 403, message),
            })
        }
    }
}

/// A body for responses outside the AWS protocols (admin endpoints).
pub fn plain_json(value: serde_json::Value) -> Response {
    let mut r = Response::new(Body::from(serde_json::to_vec(&value).unwrap_or_default()));
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    r
}
