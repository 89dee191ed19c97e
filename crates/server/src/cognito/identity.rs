//! Cognito Identity (awsJson1.1): identity pools, identities and their logins, OpenID
//! tokens, developer-authenticated identities, roles, principal tags and tags (every
//! operation but `GetCredentialsForIdentity`).
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
use reservoir_domain::cognito::{
    self, AmbiguousRoleResolution, CognitoError, CognitoProvider, Identity, IdentityPool, MappingRule, MatchType,
    PoolConfig, RoleMapping, RoleMappingType,
};
use reservoir_domain::ids::OsRandom;
use reservoir_domain::pagination;
use reservoir_store::{ReadTx, ReadTxExt, Tx, TxExt};
use reservoir_wire::cognito_identity::{self as api, Request};
use reservoir_wire::route::Service;

use super::openid;
use super::{datasets, missing_authentication, not_implemented, page_of_pools, serialization_error, validation_error};
use crate::context::{Cx, Trace};
use crate::error::{ApiError, ApiResult, cognito_token_error};
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
        Request::GetOpenIdToken(input) => {
            let (scope, out) = get_open_id_token(&cx, input).await?;
            trace.account = Some(scope.account.to_string());
            trace.region = Some(scope.region);
            reservoir_wire::json::to_body(&out)
        }
        Request::UnlinkIdentity(input) => {
            let scope = unlink_identity(&cx, input).await?;
            trace.account = Some(scope.account.to_string());
            trace.region = Some(scope.region);
            b"{}".to_vec()
        }
        Request::DescribeIdentity(input) => reservoir_wire::json::to_body(&describe_identity(&cx, input).await?),
        Request::ListIdentities(input) => reservoir_wire::json::to_body(&list_identities(&cx, input).await?),
        Request::DeleteIdentities(input) => reservoir_wire::json::to_body(&delete_identities(&cx, input).await?),
        Request::GetOpenIdTokenForDeveloperIdentity(input) => {
            reservoir_wire::json::to_body(&get_open_id_token_for_developer_identity(&cx, input).await?)
        }
        Request::LookupDeveloperIdentity(input) => {
            reservoir_wire::json::to_body(&lookup_developer_identity(&cx, input).await?)
        }
        Request::MergeDeveloperIdentities(input) => {
            reservoir_wire::json::to_body(&merge_developer_identities(&cx, input).await?)
        }
        Request::UnlinkDeveloperIdentity(input) => {
            unlink_developer_identity(&cx, input).await?;
            b"{}".to_vec()
        }
        Request::SetIdentityPoolRoles(input) => {
            set_identity_pool_roles(&cx, input).await?;
            b"{}".to_vec()
        }
        Request::GetIdentityPoolRoles(input) => {
            reservoir_wire::json::to_body(&get_identity_pool_roles(&cx, input).await?)
        }
        Request::SetPrincipalTagAttributeMap(input) => {
            reservoir_wire::json::to_body(&set_principal_tag_attribute_map(&cx, input).await?)
        }
        Request::GetPrincipalTagAttributeMap(input) => {
            reservoir_wire::json::to_body(&get_principal_tag_attribute_map(&cx, input).await?)
        }
        Request::TagResource(input) => reservoir_wire::json::to_body(&tag_resource(&cx, input).await?),
        Request::UntagResource(input) => reservoir_wire::json::to_body(&untag_resource(&cx, input).await?),
        Request::ListTagsForResource(input) => {
            reservoir_wire::json::to_body(&list_tags_for_resource(&cx, input).await?)
        }
        Request::GetCredentialsForIdentity(input) => {
            let (scope, out) = super::credentials::get_credentials_for_identity(&cx, input).await?;
            trace.account = Some(scope.account.to_string());
            trace.region = Some(scope.region);
            reservoir_wire::json::to_body(&out)
        }
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
    let now = cx.now;
    cx.write(false, move |tx| {
        load(tx, &scope, &id)?;
        // The identities' sync data goes with them, in this transaction.
        datasets::forget_pool(tx, &scope, &id, now)?;
        tx.delete_children(&scope, reservoir_domain::ids::ResourceKind::Identity.storage_name(), &id)?;
        tx.delete_alias_namespace(&scope, &login_namespace(&id))?;
        tx.remove::<IdentityPool>(&scope, &id)?;
        Ok(())
    })
    .await
}

/// `GetId` (unsigned): a new identity per call without logins; with logins, the identity
/// of those logins, made on first use, with every login of the call linked to it.
/// Errors: `ValidationException`, `ResourceNotFoundException`, `NotAuthorizedException`
/// (unauthenticated identities not allowed; a provider the pool does not trust),
/// `ResourceConflictException` (logins linked to different identities),
/// `LimitExceededException` (more than 20 logins on one identity).
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
            let identity = find_or_create(tx, &scope, &pool, &keys, now)?;
            Ok((scope, identity.id))
        })
        .await?;
    Ok((scope, api::GetIdResponse { identity_id: Some(identity) }))
}

// ----- identities and their logins -----------------------------------------------------

/// The identity a login is linked to in `pool_id`. The alias (login → identity) is a
/// pointer checked against the identity, which is the truth: an alias left behind by an
/// unlink, a merge or a deletion counts as none (the store removes aliases by namespace
/// only, with the pool).
fn owner_of(tx: &mut dyn ReadTx, scope: &Scope, pool_id: &str, key: &str) -> ApiResult<Option<Identity>> {
    let Some(id) = tx.get_alias(scope, &login_namespace(pool_id), key)? else { return Ok(None) };
    Ok(tx.load::<Identity>(scope, &id)?.filter(|i| i.pool_id == pool_id && i.logins.iter().any(|k| k == key)))
}

/// The owners of `keys`, in order.
fn owners_of(tx: &mut dyn ReadTx, scope: &Scope, pool_id: &str, keys: &[String]) -> ApiResult<Vec<Option<Identity>>> {
    keys.iter().map(|k| owner_of(tx, scope, pool_id, k)).collect()
}

/// Saves `after` (an identity changed from `before`, `None` when new), points the
/// aliases of its new logins at it and drops those of the logins it lost.
fn store_identity(tx: &mut dyn Tx, scope: &Scope, before: Option<&Identity>, after: &Identity) -> ApiResult<()> {
    match before {
        Some(b) if b == after => return Ok(()),
        Some(_) => tx.save(scope, after)?,
        None => tx.create(scope, after)?,
    }
    let namespace = login_namespace(&after.pool_id);
    for key in &after.logins {
        if before.is_none_or(|b| !b.logins.contains(key)) {
            tx.put_alias(scope, &namespace, key, &after.id)?;
        }
    }
    for key in before.iter().flat_map(|b| b.logins.iter()) {
        if !after.logins.contains(key) {
            drop_alias(tx, scope, &namespace, key, &after.id)?;
        }
    }
    Ok(())
}

/// Removes the alias of `key` if it still points at `identity_id` (a login moved to
/// another identity points there now).
fn drop_alias(tx: &mut dyn Tx, scope: &Scope, namespace: &str, key: &str, identity_id: &str) -> ApiResult<()> {
    if tx.get_alias(scope, namespace, key)?.as_deref() == Some(identity_id) {
        tx.delete_alias(scope, namespace, key)?;
    }
    Ok(())
}

/// Removes the aliases of an identity being deleted.
fn forget_logins(tx: &mut dyn Tx, scope: &Scope, identity: &Identity) -> ApiResult<()> {
    let namespace = login_namespace(&identity.pool_id);
    for key in &identity.logins {
        drop_alias(tx, scope, &namespace, key, &identity.id)?;
    }
    Ok(())
}

/// The identity the logins `keys` are linked to, with all of them linked (an implicit
/// link); a new identity when none is linked yet (an unauthenticated one when `keys` is
/// empty); `ResourceConflictException` when they are linked to different identities.
fn find_or_create(
    tx: &mut dyn Tx,
    scope: &Scope,
    pool: &IdentityPool,
    keys: &[String],
    now: reservoir_domain::time::Timestamp,
) -> ApiResult<Identity> {
    let owners = owners_of(tx, scope, &pool.id, keys)?;
    let owner = cognito::single_owner(owners.iter().map(|o| o.as_ref().map(|i| i.id.as_str())))?.map(str::to_string);
    match owner.and_then(|id| owners.into_iter().flatten().find(|i| i.id == id)) {
        Some(identity) => {
            let linked = cognito::link_logins(&identity, keys, now)?;
            store_identity(tx, scope, Some(&identity), &linked)?;
            Ok(linked)
        }
        None => {
            let identity = cognito::new_identity(pool, &scope.region, keys.to_vec(), now, &mut OsRandom);
            store_identity(tx, scope, None, &identity)?;
            Ok(identity)
        }
    }
}

/// Links `keys` to `identity` after checking none is another identity's (`developer`:
/// the pool's developer provider, whose users get `DeveloperUserAlreadyRegistered`).
fn link_to(
    tx: &mut dyn Tx,
    scope: &Scope,
    identity: &Identity,
    keys: &[String],
    developer: Option<&str>,
    now: reservoir_domain::time::Timestamp,
) -> ApiResult<Identity> {
    let owners = owners_of(tx, scope, &identity.pool_id, keys)?;
    let owned: Vec<(String, Option<String>)> =
        keys.iter().cloned().zip(owners.into_iter().map(|o| o.map(|i| i.id))).collect();
    cognito::check_not_elsewhere(&identity.id, &owned, developer)?;
    let linked = cognito::link_logins(identity, keys, now)?;
    store_identity(tx, scope, Some(identity), &linked)?;
    Ok(linked)
}

fn identity_not_found(id: &str) -> ApiError {
    CognitoError::IdentityNotFound(id.to_string()).into()
}

/// An identity of the caller's scope.
fn load_identity(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<Identity> {
    tx.load::<Identity>(scope, id)?.ok_or_else(|| identity_not_found(id))
}

/// An identity of the caller's scope in pool `pool_id`.
fn load_identity_in(tx: &mut dyn ReadTx, scope: &Scope, pool_id: &str, id: &str) -> ApiResult<Identity> {
    Some(load_identity(tx, scope, id)?).filter(|i| i.pool_id == pool_id).ok_or_else(|| identity_not_found(id))
}

/// An identity found by id alone (the unsigned operations), with its scope and pool.
fn load_identity_anywhere(tx: &mut dyn ReadTx, id: &str) -> ApiResult<(Scope, Identity, IdentityPool)> {
    let (scope, identity) = tx.load_any_scope::<Identity>(id)?.ok_or_else(|| identity_not_found(id))?;
    let pool = load(tx, &scope, &identity.pool_id)?;
    Ok((scope, identity, pool))
}

fn wire_time(t: reservoir_domain::time::Timestamp) -> reservoir_wire::DateTime {
    reservoir_wire::DateTime::from_unix_millis(t.millis())
}

fn describe(identity: &Identity) -> api::IdentityDescription {
    let providers = identity.providers();
    api::IdentityDescription {
        identity_id: Some(identity.id.clone()),
        logins: (!providers.is_empty()).then_some(providers),
        creation_date: Some(wire_time(identity.created)),
        last_modified_date: Some(wire_time(identity.last_modified)),
    }
}

/// `GetOpenIdToken` (unsigned): a token for an identity, valid 10 minutes. An
/// authenticated identity must present one of its logins; other logins presented are
/// linked to it. Errors: `ResourceNotFoundException`, `NotAuthorizedException` (logins
/// not the identity's, a disabled identity, an unauthenticated one where the pool allows
/// none), `ResourceConflictException` (a login linked to another identity).
pub async fn get_open_id_token(
    cx: &Cx,
    input: api::GetOpenIdTokenInput,
) -> ApiResult<(Scope, api::GetOpenIdTokenResponse)> {
    let identity_id = input.identity_id.unwrap_or_default();
    let logins = input.logins.unwrap_or_default();
    let now = cx.now;
    let key = openid::signing_key(&cx.state).await?;
    let (scope, claims) = cx
        .write(false, move |tx| {
            let (scope, identity, pool) = load_identity_anywhere(tx, &identity_id)?;
            let presented = cognito::presented_logins(&pool.config, &logins)?;
            cognito::authorize(&pool.config, &identity, &presented)?;
            let developer = pool.config.developer_provider_name.as_deref();
            let identity = link_to(tx, &scope, &identity, &presented.keys, developer, now)?;
            let claims = cognito::open_id_claims(&identity, now, cognito::OPEN_ID_TOKEN_SECONDS, &BTreeMap::new());
            Ok((scope, claims))
        })
        .await?;
    let identity_id = claims.sub.clone();
    let token = openid::sign_blocking(key, claims).await?;
    Ok((scope, api::GetOpenIdTokenResponse { identity_id: Some(identity_id), token: Some(token) }))
}

/// `UnlinkIdentity` (unsigned): removes the logins of `LoginsToRemove` after checking
/// that every presented login is the identity's. Errors: `ResourceNotFoundException`,
/// `NotAuthorizedException`.
pub async fn unlink_identity(cx: &Cx, input: api::UnlinkIdentityInput) -> ApiResult<Scope> {
    let identity_id = input.identity_id.unwrap_or_default();
    let logins = input.logins.unwrap_or_default();
    let remove = input.logins_to_remove.unwrap_or_default();
    let now = cx.now;
    cx.write(false, move |tx| {
        let (scope, identity, pool) = load_identity_anywhere(tx, &identity_id)?;
        let presented = cognito::presented_logins(&pool.config, &logins)?;
        let updated = cognito::unlink_providers(&identity, &presented, &remove, now)?;
        store_identity(tx, &scope, Some(&identity), &updated)?;
        Ok(scope)
    })
    .await
}

/// `DescribeIdentity`. Errors: `ResourceNotFoundException` (also for another account's
/// or region's identity).
pub async fn describe_identity(cx: &Cx, input: api::DescribeIdentityInput) -> ApiResult<api::IdentityDescription> {
    let id = input.identity_id.unwrap_or_default();
    let scope = cx.scope.clone();
    let identity = cx.read(move |tx| load_identity(tx, &scope, &id)).await?;
    Ok(describe(&identity))
}

/// `ListIdentities`, in creation order. Errors: `ResourceNotFoundException`,
/// `InvalidParameterException` (a NextToken not from this listing).
pub async fn list_identities(cx: &Cx, input: api::ListIdentitiesInput) -> ApiResult<api::ListIdentitiesResponse> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let limit = input.max_results.unwrap_or(60).max(1) as usize;
    let hide_disabled = input.hide_disabled.unwrap_or(false);
    let fingerprint = format!("{pool_id}|{hide_disabled}");
    let binding = pagination::Binding { operation: "ListIdentities", scope: &cx.scope, fingerprint: &fingerprint };
    let after = match input.next_token.as_deref() {
        Some(t) => {
            let cursor = cx.state.tokens.decode(&binding, t).map_err(cognito_token_error)?;
            pagination::parse_seq_cursor(&cursor).map_err(cognito_token_error)?
        }
        None => 0,
    };
    let scope = cx.scope.clone();
    let id = pool_id.clone();
    let (rows, more) = cx
        .read(move |tx| {
            load(tx, &scope, &id)?;
            let mut out: Vec<(i64, Identity)> = Vec::new();
            let mut cursor = after;
            loop {
                let page = tx.page_children::<Identity>(&scope, &id, cursor, limit + 1)?;
                let exhausted = page.len() <= limit;
                if let Some((seq, _)) = page.last() {
                    cursor = *seq;
                }
                out.extend(page.into_iter().filter(|(_, i)| !(hide_disabled && i.disabled)));
                if out.len() > limit {
                    out.truncate(limit);
                    return Ok((out, true));
                }
                if exhausted {
                    return Ok((out, false));
                }
            }
        })
        .await?;
    let next_token =
        if more { rows.last().map(|(seq, _)| cx.state.tokens.encode(&binding, &seq.to_string())) } else { None };
    Ok(api::ListIdentitiesResponse {
        identity_pool_id: Some(pool_id),
        identities: Some(rows.iter().map(|(_, i)| describe(i)).collect()),
        next_token,
    })
}

/// `DeleteIdentities`: each identity with its sync data, in one transaction. An id that
/// is not an identity of the caller's account and region is answered in
/// `UnprocessedIdentityIds` with `AccessDenied`.
pub async fn delete_identities(cx: &Cx, input: api::DeleteIdentitiesInput) -> ApiResult<api::DeleteIdentitiesResponse> {
    let mut ids = input.identity_ids_to_delete.unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    let scope = cx.scope.clone();
    let now = cx.now;
    let unprocessed = cx
        .write(false, move |tx| {
            let mut unprocessed = Vec::new();
            for id in &ids {
                match tx.load::<Identity>(&scope, id)? {
                    Some(identity) => {
                        datasets::forget_identity(tx, &scope, &identity.id, now)?;
                        forget_logins(tx, &scope, &identity)?;
                        tx.remove::<Identity>(&scope, id)?;
                    }
                    None => unprocessed.push(api::UnprocessedIdentityId {
                        identity_id: Some(id.clone()),
                        error_code: Some(api::ErrorCode::AccessDenied),
                    }),
                }
            }
            Ok(unprocessed)
        })
        .await?;
    Ok(api::DeleteIdentitiesResponse { unprocessed_identity_ids: Some(unprocessed) })
}

// ----- developer-authenticated identities ---------------------------------------------

/// `GetOpenIdTokenForDeveloperIdentity`: the identity of the developer user (and of the
/// other logins given), made on first use, or the given `IdentityId` with them linked;
/// and a token valid `TokenDuration` seconds (15 minutes by default). Errors:
/// `ResourceNotFoundException`, `InvalidParameterException` (no developer provider, or
/// not in `Logins`), `NotAuthorizedException` (a provider the pool does not trust),
/// `DeveloperUserAlreadyRegisteredException`, `ResourceConflictException`.
pub async fn get_open_id_token_for_developer_identity(
    cx: &Cx,
    input: api::GetOpenIdTokenForDeveloperIdentityInput,
) -> ApiResult<api::GetOpenIdTokenForDeveloperIdentityResponse> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let identity_id = input.identity_id;
    let logins = input.logins.unwrap_or_default();
    let tags = input.principal_tags.unwrap_or_default();
    let seconds = input.token_duration.unwrap_or(cognito::DEVELOPER_TOKEN_SECONDS);
    let scope = cx.scope.clone();
    let now = cx.now;
    let key = openid::signing_key(&cx.state).await?;
    let claims = cx
        .write(false, move |tx| {
            let pool = load(tx, &scope, &pool_id)?;
            let keys = cognito::developer_login_keys(&pool, &logins)?;
            let identity = match &identity_id {
                Some(id) => {
                    let identity = load_identity_in(tx, &scope, &pool.id, id)?;
                    link_to(tx, &scope, &identity, &keys, pool.config.developer_provider_name.as_deref(), now)?
                }
                None => find_or_create(tx, &scope, &pool, &keys, now)?,
            };
            Ok(cognito::open_id_claims(&identity, now, seconds, &tags))
        })
        .await?;
    let identity_id = claims.sub.clone();
    let token = openid::sign_blocking(key, claims).await?;
    Ok(api::GetOpenIdTokenForDeveloperIdentityResponse { identity_id: Some(identity_id), token: Some(token) })
}

/// `LookupDeveloperIdentity`: the identity of a developer user, or the developer users
/// of an identity (paged, in order), or — both given — both, if they belong together
/// (`ResourceConflictException` otherwise). Errors: `ResourceNotFoundException` (nothing
/// matches), `InvalidParameterException` (neither given; no developer provider).
pub async fn lookup_developer_identity(
    cx: &Cx,
    input: api::LookupDeveloperIdentityInput,
) -> ApiResult<api::LookupDeveloperIdentityResponse> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let identity_id = input.identity_id;
    let user = input.developer_user_identifier;
    let limit = input.max_results.unwrap_or(60).max(1) as usize;
    let fingerprint = format!("{pool_id}|{}", identity_id.as_deref().unwrap_or_default());
    let binding =
        pagination::Binding { operation: "LookupDeveloperIdentity", scope: &cx.scope, fingerprint: &fingerprint };
    let after = match input.next_token.as_deref() {
        Some(t) => Some(cx.state.tokens.decode(&binding, t).map_err(cognito_token_error)?),
        None => None,
    };
    let scope = cx.scope.clone();
    let (identity, mut users) = cx
        .read(move |tx| {
            let pool = load(tx, &scope, &pool_id)?;
            if identity_id.is_none() && user.is_none() {
                return Err(CognitoError::LookupWithoutKey.into());
            }
            let developer = pool
                .config
                .developer_provider_name
                .clone()
                .ok_or_else(|| CognitoError::NoDeveloperProvider(pool.id.clone()))?;
            if let Some(user) = &user {
                let owner = owner_of(tx, &scope, &pool.id, &cognito::developer_key(&developer, user))?
                    .ok_or_else(|| CognitoError::DeveloperUserNotFound(user.clone()))?;
                if let Some(id) = identity_id.as_ref().filter(|id| **id != owner.id) {
                    return Err(CognitoError::LookupMismatch(user.clone(), owner.id, id.clone()).into());
                }
                return Ok((owner.id, vec![user.clone()]));
            }
            let id = identity_id.clone().unwrap_or_default();
            let identity = load_identity_in(tx, &scope, &pool.id, &id)?;
            let users = identity.developer_users(&developer);
            if users.is_empty() {
                return Err(CognitoError::NoDeveloperUsers(id).into());
            }
            Ok((identity.id, users))
        })
        .await?;
    if let Some(after) = &after {
        users.retain(|u| u > after);
    }
    let next_token = (users.len() > limit).then(|| cx.state.tokens.encode(&binding, &users[limit - 1]));
    users.truncate(limit);
    Ok(api::LookupDeveloperIdentityResponse {
        identity_id: Some(identity),
        developer_user_identifier_list: Some(users),
        next_token,
    })
}

/// `MergeDeveloperIdentities`: the source developer user moves to the destination's
/// identity; a source identity left without logins is merged into it (its sync data
/// too) and removed. Errors: `ResourceNotFoundException` (pool, either user),
/// `InvalidParameterException` (not the pool's developer provider).
pub async fn merge_developer_identities(
    cx: &Cx,
    input: api::MergeDeveloperIdentitiesInput,
) -> ApiResult<api::MergeDeveloperIdentitiesResponse> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let provider = input.developer_provider_name.unwrap_or_default();
    let source_user = input.source_user_identifier.unwrap_or_default();
    let destination_user = input.destination_user_identifier.unwrap_or_default();
    let scope = cx.scope.clone();
    let now = cx.now;
    let id = cx
        .write(false, move |tx| {
            let pool = load(tx, &scope, &pool_id)?;
            let developer = cognito::check_developer_provider(&pool, &provider)?;
            let source_key = cognito::developer_key(developer, &source_user);
            let source = owner_of(tx, &scope, &pool.id, &source_key)?
                .ok_or_else(|| CognitoError::DeveloperUserNotFound(source_user.clone()))?;
            let destination = owner_of(tx, &scope, &pool.id, &cognito::developer_key(developer, &destination_user))?
                .ok_or_else(|| CognitoError::DeveloperUserNotFound(destination_user.clone()))?;
            if source.id == destination.id {
                return Ok(destination.id);
            }
            let merge = cognito::merge_developer_user(&source, &destination, &source_key, now)?;
            store_identity(tx, &scope, Some(&destination), &merge.destination)?;
            if merge.source_emptied {
                datasets::merge_identity(tx, &scope, &source.id, &destination.id, now)?;
                tx.remove::<Identity>(&scope, &source.id)?;
            } else {
                tx.save(&scope, &merge.source)?;
            }
            Ok(merge.destination.id)
        })
        .await?;
    Ok(api::MergeDeveloperIdentitiesResponse { identity_id: Some(id) })
}

/// `UnlinkDeveloperIdentity`. Errors: `ResourceNotFoundException` (pool, identity, or a
/// developer user not linked to it), `InvalidParameterException` (not the pool's
/// developer provider).
pub async fn unlink_developer_identity(cx: &Cx, input: api::UnlinkDeveloperIdentityInput) -> ApiResult<()> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let identity_id = input.identity_id.unwrap_or_default();
    let provider = input.developer_provider_name.unwrap_or_default();
    let user = input.developer_user_identifier.unwrap_or_default();
    let scope = cx.scope.clone();
    let now = cx.now;
    cx.write(false, move |tx| {
        let pool = load(tx, &scope, &pool_id)?;
        let identity = load_identity_in(tx, &scope, &pool.id, &identity_id)?;
        let updated = cognito::unlink_developer_user(&pool, &identity, &provider, &user, now)?;
        store_identity(tx, &scope, Some(&identity), &updated)
    })
    .await
}

// ----- roles and principal tags --------------------------------------------------------

fn role_mapping_from_wire(m: api::RoleMapping) -> ApiResult<RoleMapping> {
    // Generated validation has refused unknown enum values and a missing type.
    let unexpected = |what: &str| ApiError::Internal(format!("{what} passed validation"));
    let kind = match m.r#type {
        Some(api::RoleMappingType::Token) => RoleMappingType::Token,
        Some(api::RoleMappingType::Rules) => RoleMappingType::Rules,
        _ => return Err(unexpected("a role mapping type")),
    };
    let ambiguous_role_resolution = match m.ambiguous_role_resolution {
        None => None,
        Some(api::AmbiguousRoleResolutionType::AuthenticatedRole) => Some(AmbiguousRoleResolution::AuthenticatedRole),
        Some(api::AmbiguousRoleResolutionType::Deny) => Some(AmbiguousRoleResolution::Deny),
        Some(api::AmbiguousRoleResolutionType::Unknown(_)) => return Err(unexpected("an ambiguous role resolution")),
    };
    let rules = match m.rules_configuration {
        None => None,
        Some(c) => Some(
            c.rules
                .unwrap_or_default()
                .into_iter()
                .map(|r| {
                    let match_type = match r.match_type {
                        Some(api::MappingRuleMatchType::Equals) => MatchType::Equals,
                        Some(api::MappingRuleMatchType::Contains) => MatchType::Contains,
                        Some(api::MappingRuleMatchType::StartsWith) => MatchType::StartsWith,
                        Some(api::MappingRuleMatchType::NotEqual) => MatchType::NotEqual,
                        _ => return Err(unexpected("a rule match type")),
                    };
                    Ok(MappingRule {
                        claim: r.claim.unwrap_or_default(),
                        match_type,
                        value: r.value.unwrap_or_default(),
                        role_arn: r.role_arn.unwrap_or_default(),
                    })
                })
                .collect::<ApiResult<Vec<_>>>()?,
        ),
    };
    Ok(RoleMapping { kind, ambiguous_role_resolution, rules })
}

fn role_mapping_to_wire(m: &RoleMapping) -> api::RoleMapping {
    api::RoleMapping {
        r#type: Some(match m.kind {
            RoleMappingType::Token => api::RoleMappingType::Token,
            RoleMappingType::Rules => api::RoleMappingType::Rules,
        }),
        ambiguous_role_resolution: m.ambiguous_role_resolution.map(|a| match a {
            AmbiguousRoleResolution::AuthenticatedRole => api::AmbiguousRoleResolutionType::AuthenticatedRole,
            AmbiguousRoleResolution::Deny => api::AmbiguousRoleResolutionType::Deny,
        }),
        rules_configuration: m.rules.as_ref().map(|rules| api::RulesConfigurationType {
            rules: Some(
                rules
                    .iter()
                    .map(|r| api::MappingRule {
                        claim: Some(r.claim.clone()),
                        match_type: Some(match r.match_type {
                            MatchType::Equals => api::MappingRuleMatchType::Equals,
                            MatchType::Contains => api::MappingRuleMatchType::Contains,
                            MatchType::StartsWith => api::MappingRuleMatchType::StartsWith,
                            MatchType::NotEqual => api::MappingRuleMatchType::NotEqual,
                        }),
                        value: Some(r.value.clone()),
                        role_arn: Some(r.role_arn.clone()),
                    })
                    .collect(),
            ),
        }),
    }
}

/// `SetIdentityPoolRoles`: replaces the pool's roles and role mappings (mappings not
/// given are cleared). Errors: `ResourceNotFoundException`, `NotAuthorizedException` (a
/// role ARN that is no IAM role's), `InvalidParameterException` (a mapping keyed by a
/// provider the pool does not trust, or incomplete).
pub async fn set_identity_pool_roles(cx: &Cx, input: api::SetIdentityPoolRolesInput) -> ApiResult<()> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let roles = input.roles.unwrap_or_default();
    let mappings = input
        .role_mappings
        .unwrap_or_default()
        .into_iter()
        .map(|(k, m)| Ok((k, role_mapping_from_wire(m)?)))
        .collect::<ApiResult<BTreeMap<_, _>>>()?;
    let scope = cx.scope.clone();
    let now = cx.now;
    cx.write(false, move |tx| {
        let pool = load(tx, &scope, &pool_id)?;
        let updated = cognito::set_roles(&pool, roles.clone(), mappings.clone(), now)?;
        tx.save(&scope, &updated)?;
        Ok(())
    })
    .await
}

/// `GetIdentityPoolRoles`. Errors: `ResourceNotFoundException`.
pub async fn get_identity_pool_roles(
    cx: &Cx,
    input: api::GetIdentityPoolRolesInput,
) -> ApiResult<api::GetIdentityPoolRolesResponse> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let scope = cx.scope.clone();
    let pool = cx.read(move |tx| load(tx, &scope, &pool_id)).await?;
    Ok(api::GetIdentityPoolRolesResponse {
        identity_pool_id: Some(pool.id.clone()),
        roles: (!pool.roles.is_empty()).then(|| pool.roles.clone()),
        role_mappings: (!pool.role_mappings.is_empty())
            .then(|| pool.role_mappings.iter().map(|(k, m)| (k.clone(), role_mapping_to_wire(m))).collect()),
    })
}

/// `SetPrincipalTagAttributeMap`. Errors: `ResourceNotFoundException`,
/// `InvalidParameterException` (a provider the pool does not trust).
pub async fn set_principal_tag_attribute_map(
    cx: &Cx,
    input: api::SetPrincipalTagAttributeMapInput,
) -> ApiResult<api::SetPrincipalTagAttributeMapResponse> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let provider = input.identity_provider_name.unwrap_or_default();
    let use_defaults = input.use_defaults.unwrap_or(false);
    let tags = input.principal_tags;
    let scope = cx.scope.clone();
    let now = cx.now;
    let (pool_id, provider, map) = cx
        .write(false, move |tx| {
            let pool = load(tx, &scope, &pool_id)?;
            let (updated, map) = cognito::set_principal_tags(&pool, &provider, use_defaults, tags.clone(), now)?;
            tx.save(&scope, &updated)?;
            Ok((pool.id, provider.clone(), map))
        })
        .await?;
    Ok(api::SetPrincipalTagAttributeMapResponse {
        identity_pool_id: Some(pool_id),
        identity_provider_name: Some(provider),
        use_defaults: Some(map.use_defaults),
        principal_tags: (!map.tags.is_empty()).then_some(map.tags),
    })
}

/// `GetPrincipalTagAttributeMap`. Errors: `ResourceNotFoundException`,
/// `InvalidParameterException` (a provider the pool does not trust).
pub async fn get_principal_tag_attribute_map(
    cx: &Cx,
    input: api::GetPrincipalTagAttributeMapInput,
) -> ApiResult<api::GetPrincipalTagAttributeMapResponse> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let provider = input.identity_provider_name.unwrap_or_default();
    let scope = cx.scope.clone();
    let name = provider.clone();
    let (pool_id, map) = cx
        .read(move |tx| {
            let pool = load(tx, &scope, &pool_id)?;
            Ok((pool.id.clone(), cognito::principal_tags(&pool, &name)?))
        })
        .await?;
    Ok(api::GetPrincipalTagAttributeMapResponse {
        identity_pool_id: Some(pool_id),
        identity_provider_name: Some(provider),
        use_defaults: Some(map.use_defaults),
        principal_tags: (!map.tags.is_empty()).then_some(map.tags),
    })
}

// ----- tags ----------------------------------------------------------------------------

/// The pool an identity pool ARN names, in the caller's account and region (another
/// account's or region's is not found).
fn pool_of_arn(tx: &mut dyn ReadTx, scope: &Scope, arn: &str) -> ApiResult<IdentityPool> {
    let (region, account, pool_id) = cognito::parse_pool_arn(arn)?;
    if region != scope.region || account != scope.account.as_str() {
        return Err(CognitoError::PoolNotFound(pool_id).into());
    }
    load(tx, scope, &pool_id)
}

/// `TagResource`. Errors: `InvalidParameterException` (not an identity pool ARN; more
/// than 50 tags), `ResourceNotFoundException`.
pub async fn tag_resource(cx: &Cx, input: api::TagResourceInput) -> ApiResult<api::TagResourceResponse> {
    let arn = input.resource_arn.unwrap_or_default();
    let tags = input.tags.unwrap_or_default();
    let scope = cx.scope.clone();
    cx.write(false, move |tx| {
        let pool = pool_of_arn(tx, &scope, &arn)?;
        let updated = cognito::tag_pool(&pool, &tags)?;
        tx.save(&scope, &updated)?;
        Ok(())
    })
    .await?;
    Ok(api::TagResourceResponse {})
}

/// `UntagResource`. Errors: `InvalidParameterException`, `ResourceNotFoundException`.
pub async fn untag_resource(cx: &Cx, input: api::UntagResourceInput) -> ApiResult<api::UntagResourceResponse> {
    let arn = input.resource_arn.unwrap_or_default();
    let keys = input.tag_keys.unwrap_or_default();
    let scope = cx.scope.clone();
    cx.write(false, move |tx| {
        let pool = pool_of_arn(tx, &scope, &arn)?;
        tx.save(&scope, &cognito::untag_pool(&pool, &keys))?;
        Ok(())
    })
    .await?;
    Ok(api::UntagResourceResponse {})
}

/// `ListTagsForResource`. Errors: `InvalidParameterException`, `ResourceNotFoundException`.
pub async fn list_tags_for_resource(
    cx: &Cx,
    input: api::ListTagsForResourceInput,
) -> ApiResult<api::ListTagsForResourceResponse> {
    let arn = input.resource_arn.unwrap_or_default();
    let scope = cx.scope.clone();
    let pool = cx.read(move |tx| pool_of_arn(tx, &scope, &arn)).await?;
    Ok(api::ListTagsForResourceResponse { tags: Some(pool.tags) })
}
