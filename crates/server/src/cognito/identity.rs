//! Cognito Identity (awsJson1.1): identity pools and `GetId`.
//!
//! Requests are `POST /` with `X-Amz-Target: AWSCognitoIdentityService.<Operation>`.
//! `GetId` (like the model's other `authtype: none` operations) needs no signature: it is
//! what an app calls before it has credentials, so its pool is found by id alone and the
//! identity lives in the pool's own account and region.

use std::collections::BTreeMap;

use axum::response::Response;
use bytes::Bytes;
use http::Method;
use http::request::Parts;

use reservoir_domain::account::Scope;
use reservoir_domain::cognito::{self, CognitoError, CognitoProvider, Identity, IdentityPool, PoolConfig};
use reservoir_domain::ids::OsRandom;
use reservoir_store::{ReadTxExt, TxExt};
use reservoir_wire::cognito_identity::{self as api, Request};
use reservoir_wire::route::Service;

use super::{missing_authentication, not_implemented, page_of_pools, serialization_error, validation_error};
use crate::context::{Cx, Trace};
use crate::error::{ApiError, ApiResult};
use crate::respond::{Flavor, error_response, json_response};

pub async fn handle(cx: Cx, parts: &Parts, body: Bytes, trace: &mut Trace) -> Response {
    let request_id = cx.request_id.clone();
    match run(cx, parts, &body, trace).await {
        Ok(out) => json_response(api::CONTENT_TYPE, &request_id, out),
        Err(e) => error_response(Flavor::of(&Service::CognitoIdentity), &request_id, &e, trace),
    }
}

fn unknown_operation(message: String) -> ApiError {
    ApiError::new(reservoir_wire::json::codes::UNKNOWN_OPERATION, message)
}

async fn run(cx: Cx, parts: &Parts, body: &[u8], trace: &mut Trace) -> ApiResult<Vec<u8>> {
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok()).unwrap_or_default();
    let operation =
        target.strip_prefix(api::TARGET_PREFIX).and_then(|rest| rest.strip_prefix('.')).ok_or_else(|| {
            unknown_operation(format!("Expected X-Amz-Target: {}.<Operation>, got '{target}'.", api::TARGET_PREFIX))
        })?;
    trace.operation = Some(operation.to_string());
    if parts.method != Method::POST || parts.uri.path() != "/" {
        return Err(unknown_operation(format!(
            "Cognito Identity operations are POST /, not {} {}.",
            parts.method,
            parts.uri.path()
        )));
    }
    match api::operation_status(operation) {
        None => {
            return Err(unknown_operation(format!("The operation {operation} is not known to Cognito Identity.")));
        }
        Some(false) => return Err(not_implemented("cognito-identity", operation)),
        Some(true) => {}
    }
    if !cx.signed && !api::allows_unsigned(operation) {
        return Err(missing_authentication());
    }
    let request = api::decode(operation, body).expect("served operations decode").map_err(serialization_error)?;
    let violations = request.violations();
    if !violations.is_empty() {
        return Err(validation_error(&violations));
    }
    let out = match request {
        Request::CreateIdentityPool(input) => reservoir_wire::json::to_body(&create_identity_pool(&cx, input).await?),
        Request::DescribeIdentityPool(input) => {
            reservoir_wire::json::to_body(&describe_identity_pool(&cx, input).await?)
        }
        Request::ListIdentityPools(input) => reservoir_wire::json::to_body(&list_identity_pools(&cx, input).await?),
        Request::UpdateIdentityPool(input) => reservoir_wire::json::to_body(&update_identity_pool(&cx, input).await?),
        Request::DeleteIdentityPool(input) => {
            delete_identity_pool(&cx, input).await?;
            b"{}".to_vec()
        }
        Request::GetId(input) => {
            let (scope, out) = get_id(&cx, input).await?;
            trace.account = Some(scope.account.to_string());
            trace.region = Some(scope.region);
            reservoir_wire::json::to_body(&out)
        }
        other => return Err(not_implemented("cognito-identity", other.operation())),
    };
    Ok(out)
}

/// The pool configuration in a `CreateIdentityPoolInput` or an `IdentityPool` (the
/// input of `UpdateIdentityPool`): two generated types with the same members.
macro_rules! pool_config {
    ($input:ident) => {
        config(
            $input.identity_pool_name,
            $input.allow_unauthenticated_identities,
            $input.allow_classic_flow,
            $input.supported_login_providers,
            $input.developer_provider_name,
            $input.open_id_connect_provider_arns,
            $input.cognito_identity_providers,
            $input.saml_provider_arns,
        )
    };
}

#[allow(clippy::too_many_arguments)]
fn config(
    name: Option<String>,
    allow_unauthenticated: Option<bool>,
    allow_classic_flow: Option<bool>,
    supported_login_providers: Option<BTreeMap<String, String>>,
    developer_provider_name: Option<String>,
    open_id_connect_provider_arns: Option<Vec<String>>,
    cognito_identity_providers: Option<Vec<api::CognitoIdentityProvider>>,
    saml_provider_arns: Option<Vec<String>>,
) -> PoolConfig {
    PoolConfig {
        name: name.unwrap_or_default(),
        allow_unauthenticated: allow_unauthenticated.unwrap_or(false),
        allow_classic_flow,
        supported_login_providers: supported_login_providers.unwrap_or_default(),
        developer_provider_name,
        open_id_connect_provider_arns: open_id_connect_provider_arns.unwrap_or_default(),
        cognito_identity_providers: cognito_identity_providers
            .unwrap_or_default()
            .into_iter()
            .map(|p| CognitoProvider {
                provider_name: p.provider_name.unwrap_or_default(),
                client_id: p.client_id.unwrap_or_default(),
                server_side_token_check: p.server_side_token_check,
            })
            .collect(),
        saml_provider_arns: saml_provider_arns.unwrap_or_default(),
    }
}

fn to_wire(p: &IdentityPool) -> api::IdentityPool {
    let c = &p.config;
    let non_empty_vec = |v: &Vec<String>| (!v.is_empty()).then(|| v.clone());
    api::IdentityPool {
        identity_pool_id: Some(p.id.clone()),
        identity_pool_name: Some(c.name.clone()),
        allow_unauthenticated_identities: Some(c.allow_unauthenticated),
        allow_classic_flow: c.allow_classic_flow,
        supported_login_providers: (!c.supported_login_providers.is_empty())
            .then(|| c.supported_login_providers.clone()),
        developer_provider_name: c.developer_provider_name.clone(),
        open_id_connect_provider_arns: non_empty_vec(&c.open_id_connect_provider_arns),
        cognito_identity_providers: (!c.cognito_identity_providers.is_empty()).then(|| {
            c.cognito_identity_providers
                .iter()
                .map(|p| api::CognitoIdentityProvider {
                    provider_name: Some(p.provider_name.clone()),
                    client_id: Some(p.client_id.clone()),
                    server_side_token_check: p.server_side_token_check,
                })
                .collect()
        }),
        saml_provider_arns: non_empty_vec(&c.saml_provider_arns),
        identity_pool_tags: (!p.tags.is_empty()).then(|| p.tags.clone()),
    }
}

/// `CreateIdentityPool`. Errors: `ValidationException`, `LimitExceededException`.
pub async fn create_identity_pool(cx: &Cx, input: api::CreateIdentityPoolInput) -> ApiResult<api::IdentityPool> {
    let cfg = pool_config!(input);
    let tags = input.identity_pool_tags.unwrap_or_default();
    let scope = cx.scope.clone();
    let now = cx.now;
    let quota = cx.state.quotas.identity_pools_per_region;
    let pool = cx
        .write(false, move |tx| {
            // Counted only when a quota is set: nothing proportional to the state otherwise.
            let existing = if quota.is_some() { tx.count_of::<IdentityPool>(&scope)? } else { 0 };
            let pool = cognito::create_pool(
                &scope.region,
                &scope.account,
                cfg.clone(),
                tags.clone(),
                existing,
                quota,
                now,
                &mut OsRandom,
            )?;
            tx.create(&scope, &pool)?;
            Ok(pool)
        })
        .await?;
    Ok(to_wire(&pool))
}

fn load(tx: &mut dyn reservoir_store::ReadTx, scope: &Scope, id: &str) -> ApiResult<IdentityPool> {
    tx.load::<IdentityPool>(scope, id)?.ok_or_else(|| CognitoError::PoolNotFound(id.to_string()).into())
}

/// `DescribeIdentityPool`. Errors: `ValidationException`, `ResourceNotFoundException`.
pub async fn describe_identity_pool(cx: &Cx, input: api::DescribeIdentityPoolInput) -> ApiResult<api::IdentityPool> {
    let id = input.identity_pool_id.unwrap_or_default();
    let scope = cx.scope.clone();
    let pool = cx.read(move |tx| load(tx, &scope, &id)).await?;
    Ok(to_wire(&pool))
}

/// `ListIdentityPools`, in creation order. Errors: `ValidationException` (MaxResults
/// outside 1–60), `InvalidParameterException` (a NextToken not from this listing).
pub async fn list_identity_pools(
    cx: &Cx,
    input: api::ListIdentityPoolsInput,
) -> ApiResult<api::ListIdentityPoolsResponse> {
    let limit = input.max_results.unwrap_or(60).max(1) as usize;
    let (pools, next_token) = page_of_pools(cx, "ListIdentityPools", input.next_token.as_deref(), limit).await?;
    Ok(api::ListIdentityPoolsResponse {
        identity_pools: Some(
            pools
                .into_iter()
                .map(|p| api::IdentityPoolShortDescription {
                    identity_pool_id: Some(p.id),
                    identity_pool_name: Some(p.config.name),
                })
                .collect(),
        ),
        next_token,
    })
}

/// `UpdateIdentityPool`: the configuration given replaces the pool's. Errors:
/// `ValidationException`, `ResourceNotFoundException`, `InvalidParameterException`
/// (changing the developer provider name).
pub async fn update_identity_pool(cx: &Cx, input: api::IdentityPool) -> ApiResult<api::IdentityPool> {
    let id = input.identity_pool_id.clone().unwrap_or_default();
    let cfg = pool_config!(input);
    let tags = input.identity_pool_tags;
    let scope = cx.scope.clone();
    let now = cx.now;
    let pool = cx
        .write(false, move |tx| {
            let pool = load(tx, &scope, &id)?;
            let updated = cognito::update_pool(&pool, cfg.clone(), tags.clone(), now)?;
            tx.save(&scope, &updated)?;
            Ok(updated)
        })
        .await?;
    Ok(to_wire(&pool))
}

/// The alias namespace of a pool's logins (login key → identity id).
fn login_namespace(pool_id: &str) -> String {
    format!("cognito-login:{pool_id}")
}

/// `DeleteIdentityPool`, with its identities. Errors: `ValidationException`,
/// `ResourceNotFoundException`.
pub async fn delete_identity_pool(cx: &Cx, input: api::DeleteIdentityPoolInput) -> ApiResult<()> {
    let id = input.identity_pool_id.unwrap_or_default();
    let scope = cx.scope.clone();
    cx.write(false, move |tx| {
        load(tx, &scope, &id)?;
        tx.delete_children(&scope, reservoir_domain::ids::ResourceKind::Identity.storage_name(), &id)?;
        tx.delete_alias_namespace(&scope, &login_namespace(&id))?;
        tx.remove::<IdentityPool>(&scope, &id)?;
        Ok(())
    })
    .await
}

/// `GetId` (unsigned): a new identity per call without logins; with logins, the identity
/// of those logins, made on first use. Errors: `ValidationException`,
/// `ResourceNotFoundException`, `NotAuthorizedException` (unauthenticated identities
/// not allowed; a provider the pool does not trust).
pub async fn get_id(cx: &Cx, input: api::GetIdInput) -> ApiResult<(Scope, api::GetIdResponse)> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let account = input.account_id;
    let logins = input.logins.unwrap_or_default();
    let now = cx.now;
    let (scope, identity) = cx
        .write(false, move |tx| {
            let not_found = || ApiError::from(CognitoError::PoolNotFound(pool_id.clone()));
            let (scope, pool) = tx.load_any_scope::<IdentityPool>(&pool_id)?.ok_or_else(not_found)?;
            if account.as_deref().is_some_and(|a| a != scope.account.as_str()) {
                return Err(not_found());
            }
            let keys = cognito::login_keys(&pool.config, &logins)?;
            let namespace = login_namespace(&pool.id);
            for key in &keys {
                if let Some(id) = tx.get_alias(&scope, &namespace, key)? {
                    return Ok((scope, id));
                }
            }
            let identity: Identity = cognito::new_identity(&pool, &scope.region, keys.clone(), now, &mut OsRandom);
            tx.create(&scope, &identity)?;
            for key in &keys {
                tx.put_alias(&scope, &namespace, key, &identity.id)?;
            }
            Ok((scope, identity.id))
        })
        .await?;
    Ok((scope, api::GetIdResponse { identity_id: Some(identity) }))
}
