//! The HTTP side of every request: the routes, the AWS request's way to its service
//! (which service, which region, which account), the body limit, and the one log line
//! per request. Nothing here is imported back by the modules it routes to.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;
use http::header;
use http::request::Parts;

use reservoir_domain::account::{AccountId, Scope};
use reservoir_domain::credentials::{self, CredentialError, IdentityClaims};
use reservoir_domain::ids::{OsRandom, new_request_id};
use reservoir_domain::time::Timestamp;
use reservoir_wire::cognito_identity;
use reservoir_wire::ec2::codes as ec2_codes;
use reservoir_wire::json::codes as json_codes;
use reservoir_wire::route::{self, RequestHead, Service};
use reservoir_wire::sigv4::{self, Signature, SignatureError};

use crate::context::{self, Cx, Principal, Trace};
use crate::error::{ApiError, ApiResult};
use crate::respond::{Flavor, error_response};
use crate::{AppState, admin, cognito, ec2, ram};

/// All routes: admin endpoints by path, every other request is an AWS call.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/_reservoir/health", get(admin::health))
        .route("/_reservoir/reset", post(admin::reset))
        .route("/_reservoir/clock", get(admin::clock).post(admin::advance_clock))
        .route("/_reservoir/cognito/jwks", get(admin::cognito_jwks))
        .route("/moto-api/reset", post(admin::moto_reset))
        .route("/_localstack/health", get(admin::localstack_health))
        .route("/_localstack/state/reset", post(admin::reset))
        .fallback(aws)
        // The AWS handler enforces its own limit, so that it can answer in the
        // service's error format.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
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
            let flavor = Flavor::guess(&parts);
            let code = flavor.pick(ec2_codes::REQUEST_ENTITY_TOO_LARGE, json_codes::REQUEST_ENTITY_TOO_LARGE);
            let err = ApiError::new(code, format!("The request body exceeds {} bytes.", state.max_body_bytes));
            error_response(flavor, &request_id, &err, &mut trace)
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
        error = trace.error.unwrap_or(""),
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
            let code = flavor.pick(ec2_codes::INCOMPLETE_SIGNATURE, json_codes::INCOMPLETE_SIGNATURE);
            return error_response(flavor, request_id, &ApiError::new(code, e.to_string()), trace);
        }
        None => None,
    };
    let service = match service {
        Some(Service::Other(name)) => {
            let flavor = Flavor::guess(parts);
            let code = flavor.pick(ec2_codes::UNSUPPORTED_SERVICE, json_codes::UNSUPPORTED_SERVICE);
            let message =
                format!("Reservoir does not serve the AWS service '{name}'. It serves: {}.", route::SERVED.join(", "));
            return error_response(flavor, request_id, &ApiError::new(code, message), trace);
        }
        Some(s) => s,
        None => {
            let code = flavor.pick(ec2_codes::UNKNOWN_SERVICE, json_codes::UNKNOWN_SERVICE);
            let message = format!(
                "Reservoir could not tell which AWS service this request is for. Sign it with Signature Version 4 \
                 for one of: {}.",
                route::SERVED.join(", ")
            );
            return error_response(flavor, request_id, &ApiError::new(code, message), trace);
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
    let mut account = signature
        .as_ref()
        .map(|s| AccountId::from_access_key(&s.credential.access_key))
        .unwrap_or_else(AccountId::default_account);
    let now = match context::clock_now(state).await {
        Ok(now) => now,
        Err(err) => return error_response(flavor, request_id, &err, trace),
    };
    let principal = match identity_principal(state, parts, signature.as_ref(), &service, now) {
        Ok(Some(claims)) => {
            account = claims.scope.account;
            Principal::Identity { pool_id: claims.pool_id, identity_id: claims.identity_id }
        }
        Ok(None) => Principal::Developer,
        Err(e) => {
            trace.region = Some(region);
            return error_response(flavor, request_id, &e, trace);
        }
    };
    trace.account = Some(account.to_string());
    trace.region = Some(region.clone());
    let cx = Cx {
        state: state.clone(),
        request_id: request_id.to_string(),
        scope: Scope::new(account, region),
        signed: signature.is_some(),
        principal,
        now,
    };
    match service {
        Service::Ec2 => ec2::handle(cx, parts, body, trace).await,
        Service::CognitoIdentity => cognito::identity::handle(cx, parts, body, trace).await,
        Service::CognitoSync => cognito::sync::handle(cx, parts, body, trace).await,
        Service::Ram => ram::handle(cx, parts, body, trace).await,
        Service::Other(_) => unreachable!("handled above"),
    }
}

/// The Cognito identity whose temporary credentials signed the request, if they are
/// Reservoir's (`domain::credentials`). Such credentials may call Cognito Sync (which
/// checks, per operation, what an identity may do) and the Cognito Identity operations
/// that need no signature; every other request signed with them is refused.
fn identity_principal(
    state: &AppState,
    parts: &Parts,
    signature: Option<&Signature>,
    service: &Service,
    now: Timestamp,
) -> ApiResult<Option<IdentityClaims>> {
    let Some(signature) = signature else { return Ok(None) };
    let token =
        parts.headers.get("x-amz-security-token").and_then(|v| v.to_str().ok()).map(str::to_string).or_else(|| {
            reservoir_wire::json::parse_query(parts.uri.query())
                .into_iter()
                .find(|(k, _)| k == "X-Amz-Security-Token")
                .map(|(_, v)| v)
        });
    let Some(token) = token else { return Ok(None) };
    let flavor = Flavor::of(service);
    let claims = match credentials::recognise(&state.tokens, &signature.credential.access_key, &token, now) {
        Ok(Some(claims)) => claims,
        Ok(None) => return Ok(None),
        Err(e @ CredentialError::Invalid) => {
            return Err(ApiError::new(
                flavor.pick(ec2_codes::AUTH_FAILURE, json_codes::UNRECOGNIZED_CLIENT),
                e.to_string(),
            ));
        }
        Err(e @ CredentialError::Expired) => {
            return Err(ApiError::new(
                flavor.pick(ec2_codes::REQUEST_EXPIRED, json_codes::EXPIRED_TOKEN),
                e.to_string(),
            ));
        }
    };
    let allowed = match service {
        Service::CognitoSync => true,
        Service::CognitoIdentity => header_str(parts, "x-amz-target")
            .and_then(|t| t.strip_prefix(cognito_identity::TARGET_PREFIX))
            .and_then(|t| t.strip_prefix('.'))
            .is_some_and(cognito_identity::allows_unsigned),
        Service::Ec2 | Service::Ram | Service::Other(_) => false,
    };
    if !allowed {
        let message = format!(
            "The temporary credentials of the Cognito identity {} may only call Cognito Sync for that identity's own \
             data.",
            claims.identity_id
        );
        let code = match service {
            Service::CognitoIdentity => cognito_identity::codes::NOT_AUTHORIZED_EXCEPTION,
            _ => flavor.pick(ec2_codes::UNAUTHORIZED_OPERATION, json_codes::ACCESS_DENIED),
        };
        return Err(ApiError::new(code, message));
    }
    Ok(Some(claims))
}

fn check_region(state: &AppState, region: &str, flavor: Flavor) -> ApiResult<()> {
    match state.catalogue.region(region) {
        Some(r) if r.enabled() => Ok(()),
        Some(_) => {
            let code = flavor.pick(ec2_codes::OPT_IN_REQUIRED, json_codes::UNRECOGNIZED_CLIENT);
            Err(ApiError::new(
                code,
                format!(
                    "The region '{region}' is not enabled for this account (opt-in-status not-opted-in). Opt in with \
                     `reservoir serve --opt-in-region {region}` (RESERVOIR_OPT_IN_REGIONS, or opt-in-regions in the \
                     config file)."
                ),
            ))
        }
        None => {
            let code = flavor.pick(ec2_codes::AUTH_FAILURE, json_codes::INVALID_SIGNATURE);
            Err(ApiError::new(
                code,
                format!(
                    "Credential should be scoped to a valid region, not '{region}'. Reservoir's regions are listed \
                     by DescribeRegions; add more with [[regions]] in the config file."
                ),
            ))
        }
    }
}
