//! Cognito Sync (restJson1): routing by method and path, and the usage reads.
//!
//! Identity pools are Cognito Identity's; Cognito Sync sees the same pools (in the same
//! account and region) and reports the usage counters the pool carries. Reservoir serves
//! the usage reads so far; the other Cognito Sync operations answer 501 `NotImplemented`.

use axum::response::Response;
use bytes::Bytes;
use http::request::Parts;

use reservoir_domain::cognito::{self, CognitoError, IdentityPool};
use reservoir_store::ReadTxExt;
use reservoir_wire::DateTime;
use reservoir_wire::cognito_sync::{self as api, Request};
use reservoir_wire::json::{RestRequest, RouteMatch, codes, match_route, parse_query};
use reservoir_wire::route::Service;

use super::{missing_authentication, not_implemented, page_of_pools, serialization_error, validation_error};
use crate::context::{Cx, Trace};
use crate::error::{ApiError, ApiResult, sync_error};
use crate::respond::{Flavor, error_response, json_response};

/// `ListIdentityPoolUsage` page size: the model gives no bounds; Reservoir takes 1–60
/// (Cognito's usual page bound) and answers 60 when none is asked for.
const MAX_PAGE: i32 = 60;

pub async fn handle(cx: Cx, parts: &Parts, body: Bytes, trace: &mut Trace) -> Response {
    let request_id = cx.request_id.clone();
    match run(cx, parts, &body, trace).await {
        Ok(out) => json_response(api::CONTENT_TYPE, &request_id, out),
        Err(e) => error_response(Flavor::of(&Service::CognitoSync), &request_id, &e, trace),
    }
}

async fn run(cx: Cx, parts: &Parts, body: &[u8], trace: &mut Trace) -> ApiResult<Vec<u8>> {
    let (route, labels) = match match_route(api::ROUTES, parts.method.as_str(), parts.uri.path()) {
        RouteMatch::Found { route, labels } => (route, labels),
        RouteMatch::MethodNotAllowed => {
            return Err(ApiError::new(
                codes::UNKNOWN_OPERATION_METHOD,
                format!("Cognito Sync has no operation for {} {}.", parts.method, parts.uri.path()),
            ));
        }
        RouteMatch::NotFound => {
            return Err(ApiError::new(
                codes::UNKNOWN_OPERATION_PATH,
                format!("Cognito Sync has no operation at {}.", parts.uri.path()),
            ));
        }
    };
    trace.operation = Some(route.operation.to_string());
    if !route.served {
        return Err(not_implemented("cognito-sync", route.operation));
    }
    if !cx.signed {
        return Err(missing_authentication());
    }
    let rest = RestRequest { labels, query: parse_query(parts.uri.query()), headers: &parts.headers, body };
    let request =
        api::decode(route.operation, &rest).expect("served operations decode").map_err(serialization_error)?;
    let violations = request.violations();
    if !violations.is_empty() {
        return Err(validation_error(&violations));
    }
    Ok(match request {
        Request::DescribeIdentityPoolUsage(input) => {
            reservoir_wire::json::to_body(&describe_identity_pool_usage(&cx, input).await?)
        }
        Request::ListIdentityPoolUsage(input) => {
            reservoir_wire::json::to_body(&list_identity_pool_usage(&cx, input).await?)
        }
        other => return Err(not_implemented("cognito-sync", other.operation())),
    })
}

fn to_wire(pool: &IdentityPool) -> api::IdentityPoolUsage {
    let u = cognito::usage(pool);
    api::IdentityPoolUsage {
        identity_pool_id: Some(u.pool_id),
        sync_sessions_count: u.sync_sessions.map(|n| n as i64),
        data_storage: Some(u.data_storage as i64),
        last_modified_date: Some(DateTime::from_unix_millis(u.last_modified.millis())),
    }
}

/// `DescribeIdentityPoolUsage`. Errors: `ValidationException`, `ResourceNotFoundException` (404).
pub async fn describe_identity_pool_usage(
    cx: &Cx,
    input: api::DescribeIdentityPoolUsageRequest,
) -> ApiResult<api::DescribeIdentityPoolUsageResponse> {
    let id = input.identity_pool_id.unwrap_or_default();
    let scope = cx.scope.clone();
    let pool = cx
        .read(move |tx| {
            tx.load::<IdentityPool>(&scope, &id)?.ok_or_else(|| sync_error(CognitoError::PoolNotFound(id.clone())))
        })
        .await?;
    Ok(api::DescribeIdentityPoolUsageResponse { identity_pool_usage: Some(to_wire(&pool)) })
}

/// `ListIdentityPoolUsage`, in creation order. Errors: `InvalidParameterException`
/// (maxResults outside 1–60, a foreign nextToken).
pub async fn list_identity_pool_usage(
    cx: &Cx,
    input: api::ListIdentityPoolUsageRequest,
) -> ApiResult<api::ListIdentityPoolUsageResponse> {
    let max = input.max_results.unwrap_or(MAX_PAGE);
    if !(1..=MAX_PAGE).contains(&max) {
        return Err(ApiError::new(
            api::codes::INVALID_PARAMETER_EXCEPTION,
            format!("maxResults must be between 1 and {MAX_PAGE}, not {max}."),
        ));
    }
    let (pools, next_token) =
        page_of_pools(cx, "ListIdentityPoolUsage", input.next_token.as_deref(), max as usize).await?;
    Ok(api::ListIdentityPoolUsageResponse {
        count: Some(pools.len() as i32),
        identity_pool_usages: Some(pools.iter().map(to_wire).collect()),
        max_results: Some(max),
        next_token,
    })
}
