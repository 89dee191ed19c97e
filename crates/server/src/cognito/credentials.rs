//! Cognito Identity `GetCredentialsForIdentity`: temporary credentials that Reservoir
//! itself recognises as the identity's (`domain::credentials`; `http` turns a request
//! signed with them into `Principal::Identity`).
//!
//! Like `GetId`, the operation needs no signature: the identity is found by id alone and
//! the credentials belong to its pool's account and region. The logins presented must
//! be the identity's as `GetOpenIdToken` checks them (`cognito::authorize`: one of its
//! own logins, or an OpenID token naming it, as the developer flow presents; an
//! unauthenticated identity needs a pool that allows them). As in AWS, a role must apply: the pool's `authenticated` or `unauthenticated`
//! role, a role of a role mapping of the login's provider, or the `CustomRoleArn` when it
//! is one of those; otherwise `InvalidIdentityPoolConfigurationException`.

use std::collections::BTreeMap;

use reservoir_domain::account::Scope;
use reservoir_domain::cognito::{self, Identity, IdentityPool};
use reservoir_domain::credentials;
use reservoir_domain::ids::OsRandom;
use reservoir_store::ReadTxExt;
use reservoir_wire::DateTime;
use reservoir_wire::cognito_identity::{self as api, codes};

use crate::context::Cx;
use crate::error::{ApiError, ApiResult};

/// The roles that may apply to a caller with these login providers.
fn roles_of(pool: &IdentityPool, providers: &[String], authenticated: bool) -> Vec<String> {
    let mut out = Vec::new();
    let kind = if authenticated { "authenticated" } else { "unauthenticated" };
    out.extend(pool.roles.get(kind).cloned());
    for provider in providers {
        if let Some(mapping) = pool.role_mappings.get(provider) {
            out.extend(mapping.rules.iter().flatten().map(|r| r.role_arn.clone()));
        }
    }
    out
}

/// `GetCredentialsForIdentity`: answers the identity's scope (for the request log) and
/// the credentials.
pub async fn get_credentials_for_identity(
    cx: &Cx,
    input: api::GetCredentialsForIdentityInput,
) -> ApiResult<(Scope, api::GetCredentialsForIdentityResponse)> {
    let identity_id = input.identity_id.unwrap_or_default();
    let logins: BTreeMap<String, String> = input.logins.unwrap_or_default();
    let custom_role = input.custom_role_arn;
    let id = identity_id.clone();
    let (scope, pool) = cx
        .read(move |tx| {
            let not_found =
                || ApiError::new(codes::RESOURCE_NOT_FOUND_EXCEPTION, format!("Identity '{id}' not found."));
            let (scope, identity) = tx.load_any_scope::<Identity>(&id)?.ok_or_else(not_found)?;
            let pool = tx.load::<IdentityPool>(&scope, &identity.pool_id)?.ok_or_else(not_found)?;
            let presented = cognito::presented_logins(&pool.config, &logins)?;
            cognito::authorize(&pool.config, &identity, &presented)?;
            let authenticated = !identity.logins.is_empty() || !presented.openid_subjects.is_empty();
            let providers: Vec<String> = logins.keys().cloned().collect();
            let roles = roles_of(&pool, &providers, authenticated);
            let applies = match &custom_role {
                Some(r) => roles.contains(r),
                None => !roles.is_empty(),
            };
            if !applies {
                return Err(ApiError::new(
                    codes::INVALID_IDENTITY_POOL_CONFIGURATION_EXCEPTION,
                    "Invalid identity pool configuration. Check assigned IAM roles for this pool.",
                ));
            }
            Ok((scope, pool))
        })
        .await?;
    let c = credentials::issue(&cx.state.tokens, &scope, &pool.id, &identity_id, cx.now, &mut OsRandom);
    Ok((
        scope,
        api::GetCredentialsForIdentityResponse {
            identity_id: Some(identity_id),
            credentials: Some(api::Credentials {
                access_key_id: Some(c.access_key),
                secret_key: Some(c.secret_key),
                session_token: Some(c.session_token),
                expiration: Some(DateTime::from_unix_millis(c.expires.millis())),
            }),
        },
    ))
}
