//! Amazon Cognito: identity pools and identities (Cognito Identity), and the usage
//! counters Cognito Sync reports on them.
//!
//! * An identity pool is regional: its id is `<region>:<uuid>`, and it is seen only in
//!   the account and region that created it. Cognito Sync sees the same pools.
//! * `UpdateIdentityPool` replaces the pool's configuration (every member not given is
//!   cleared), except its tags, which only `TagResource`/`UntagResource` change, and its
//!   developer provider name, which "cannot be changed once set" (AWS documentation).
//! * `GetId` without logins makes a new unauthenticated identity per call, if the pool
//!   allows them. With logins, each (provider, user) maps to one identity: the user is the
//!   `sub` claim when the token is a JWT, else the token itself. Reservoir does not
//!   verify identity-provider tokens (it cannot reach the providers); it checks that the
//!   provider is one the pool trusts.
//! * Usage: `DataStorage` (bytes of live records) and `SyncSessionsCount` are counters
//!   kept on the pool and changed in the same transaction as the data they count, so
//!   reading usage costs one row whatever the pool holds.
//! * Logins of one call are linked to one identity (an "implicit link"): a later call
//!   with any of them finds it; logins already linked to two different identities are a
//!   conflict. An identity has at most [`MAX_LOGINS`] logins ("The number of linked
//!   logins is limited to 20"). A developer user is the login `<developer provider>|<user
//!   identifier>`. An identity that loses its last login ("Removing the last linked
//!   login will make this identity inaccessible") is *disabled*: it is still listed
//!   (`ListIdentities` hides it with `HideDisabled`) but no token is issued for it.
//! * Cognito's own OpenID tokens (`GetOpenIdToken…`) may be presented as the login
//!   `cognito-identity.amazonaws.com`; their subject names the identity.
//! * Roles, role mappings and principal-tag maps are stored on the pool
//!   ([`set_roles`], [`set_principal_tags`]).

use std::collections::BTreeMap;

use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::ids::{Random, new_cognito_id};
use crate::time::Timestamp;

/// AWS's default quota of identity pools per account and region (enforced only when
/// configured: see `Quotas` in the server).
pub const AWS_POOLS_PER_REGION: u32 = 1000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CognitoProvider {
    pub provider_name: String,
    pub client_id: String,
    pub server_side_token_check: Option<bool>,
}

/// The configurable part of a pool (what Create and Update take).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PoolConfig {
    pub name: String,
    pub allow_unauthenticated: bool,
    pub allow_classic_flow: Option<bool>,
    pub supported_login_providers: BTreeMap<String, String>,
    pub developer_provider_name: Option<String>,
    pub open_id_connect_provider_arns: Vec<String>,
    pub cognito_identity_providers: Vec<CognitoProvider>,
    pub saml_provider_arns: Vec<String>,
}

/// How a role mapping picks a role (`RoleMappingType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoleMappingType {
    Token,
    Rules,
}

/// What happens when no rule (or no single token role) applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AmbiguousRoleResolution {
    AuthenticatedRole,
    Deny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchType {
    Equals,
    Contains,
    StartsWith,
    NotEqual,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingRule {
    pub claim: String,
    pub match_type: MatchType,
    pub value: String,
    pub role_arn: String,
}

/// How users of one identity provider are mapped to roles (`SetIdentityPoolRoles`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMapping {
    pub kind: RoleMappingType,
    pub ambiguous_role_resolution: Option<AmbiguousRoleResolution>,
    /// `RulesConfiguration.Rules`, in evaluation order.
    pub rules: Option<Vec<MappingRule>>,
}

/// The principal tags of one identity provider (`SetPrincipalTagAttributeMap`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PrincipalTagMap {
    pub use_defaults: bool,
    /// Tag name → claim of the provider's token.
    pub tags: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityPool {
    pub id: String,
    pub owner: AccountId,
    pub config: PoolConfig,
    pub tags: BTreeMap<String, String>,
    pub created: Timestamp,
    /// Last change to the pool or to data synced in it.
    pub last_modified: Timestamp,
    /// Bytes of live records in all datasets of the pool (Cognito Sync `DataStorage`).
    #[serde(default)]
    pub data_storage: u64,
    /// Sync sessions started in the pool (Cognito Sync `SyncSessionsCount`).
    #[serde(default)]
    pub sync_sessions: u64,
    /// `SetIdentityPoolRoles`: `authenticated`/`unauthenticated` → role ARN.
    #[serde(default)]
    pub roles: BTreeMap<String, String>,
    /// `SetIdentityPoolRoles`: identity provider → role mapping.
    #[serde(default)]
    pub role_mappings: BTreeMap<String, RoleMapping>,
    /// `SetPrincipalTagAttributeMap`: identity provider → its principal tags.
    #[serde(default)]
    pub principal_tag_maps: BTreeMap<String, PrincipalTagMap>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub id: String,
    pub pool_id: String,
    /// `provider|user` keys of the logins linked to this identity.
    pub logins: Vec<String>,
    pub created: Timestamp,
    pub last_modified: Timestamp,
    /// Its last login was unlinked: listed, but no token is issued for it.
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CognitoError {
    #[error("IdentityPool '{0}' not found.")]
    PoolNotFound(String),
    #[error("The maximum number of identity pools for this account and region has been reached.")]
    PoolLimitExceeded,
    #[error("The developer provider name cannot be changed once set (it is '{0}').")]
    DeveloperProviderImmutable(String),
    #[error("Unauthenticated access is not supported for this identity pool.")]
    UnauthenticatedNotAllowed,
    #[error("Invalid login token. The provider '{0}' is not configured for this identity pool.")]
    ProviderNotConfigured(String),
    #[error("Invalid login token for provider '{0}': the token is empty.")]
    EmptyToken(String),
    #[error("Identity '{0}' not found.")]
    IdentityNotFound(String),
    #[error("Logins belong to different identities.")]
    LoginsOfDifferentIdentities,
    #[error("The login of provider '{0}' is already linked to another identity.")]
    LoginLinkedElsewhere(String),
    #[error("The developer user identifier '{0}' is already registered with a different identity.")]
    DeveloperUserAlreadyRegistered(String),
    #[error("An identity can have at most {MAX_LOGINS} linked logins.")]
    TooManyLogins,
    #[error("Invalid login token. The logins do not belong to identity '{0}'.")]
    LoginsDoNotMatch(String),
    #[error("Identity '{0}' is disabled.")]
    IdentityDisabled(String),
    #[error("Identity pool '{0}' has no developer provider name.")]
    NoDeveloperProvider(String),
    #[error("The logins must include the developer provider '{0}'.")]
    DeveloperLoginMissing(String),
    #[error("Developer provider name '{0}' is not the identity pool's ('{1}').")]
    DeveloperProviderMismatch(String, String),
    #[error("Developer user '{0}' not found.")]
    DeveloperUserNotFound(String),
    #[error("Developer user '{0}' is not linked to identity '{1}'.")]
    DeveloperUserNotLinked(String, String),
    #[error("Either IdentityId or DeveloperUserIdentifier must be given.")]
    LookupWithoutKey,
    #[error("Developer user '{0}' is linked to identity '{1}', not to '{2}'.")]
    LookupMismatch(String, String, String),
    #[error("Identity '{0}' has no developer user identifier.")]
    NoDeveloperUsers(String),
    #[error("Access to Role '{0}' is forbidden.")]
    RoleForbidden(String),
    #[error("{0} is not a valid RoleMapping ProviderName or is not a configured provider.")]
    RoleMappingProvider(String),
    #[error("Invalid role mapping for '{0}': {1}")]
    InvalidRoleMapping(String, &'static str),
    #[error("Identity provider '{0}' is not configured for this identity pool.")]
    ProviderNotInPool(String),
    #[error("Invalid identity pool ARN: '{0}'.")]
    InvalidArn(String),
    #[error("An identity pool can have at most {MAX_TAGS} tags.")]
    TooManyTags,
}

/// A new pool in `region`, enforcing the per-region `quota` if one is set (`existing`
/// pools now).
#[allow(clippy::too_many_arguments)]
pub fn create_pool(
    region: &str,
    owner: &AccountId,
    config: PoolConfig,
    tags: BTreeMap<String, String>,
    existing: u64,
    quota: Option<u32>,
    now: Timestamp,
    rng: &mut dyn Random,
) -> Result<IdentityPool, CognitoError> {
    if quota.is_some_and(|q| existing >= u64::from(q)) {
        return Err(CognitoError::PoolLimitExceeded);
    }
    Ok(IdentityPool {
        id: new_cognito_id(region, rng),
        owner: owner.clone(),
        config,
        tags,
        created: now,
        last_modified: now,
        data_storage: 0,
        sync_sessions: 0,
        roles: BTreeMap::new(),
        role_mappings: BTreeMap::new(),
        principal_tag_maps: BTreeMap::new(),
    })
}

/// `UpdateIdentityPool`: the new configuration replaces the old; `tags`, when given,
/// replace the pool's tags.
pub fn update_pool(
    pool: &IdentityPool,
    config: PoolConfig,
    tags: Option<BTreeMap<String, String>>,
    now: Timestamp,
) -> Result<IdentityPool, CognitoError> {
    if let Some(old) = &pool.config.developer_provider_name
        && config.developer_provider_name.as_ref() != Some(old)
    {
        return Err(CognitoError::DeveloperProviderImmutable(old.clone()));
    }
    let mut updated = pool.clone();
    updated.config = config;
    if let Some(tags) = tags {
        updated.tags = tags;
    }
    updated.last_modified = now;
    Ok(updated)
}

/// The provider names a pool trusts for `GetId` logins.
pub fn trusted_providers(config: &PoolConfig) -> Vec<String> {
    let mut out: Vec<String> = config.supported_login_providers.keys().cloned().collect();
    out.extend(config.cognito_identity_providers.iter().map(|p| p.provider_name.clone()));
    // arn:aws:iam::123456789012:oidc-provider/accounts.example.com → accounts.example.com
    out.extend(
        config
            .open_id_connect_provider_arns
            .iter()
            .filter_map(|arn| arn.split_once(":oidc-provider/").map(|(_, host)| host.to_string())),
    );
    out.extend(config.saml_provider_arns.iter().cloned());
    out
}

/// The `provider|user` keys for `GetId` logins, after checking the pool trusts each
/// provider. Empty logins mean an unauthenticated identity, which the pool must allow.
pub fn login_keys(config: &PoolConfig, logins: &BTreeMap<String, String>) -> Result<Vec<String>, CognitoError> {
    if logins.is_empty() {
        if !config.allow_unauthenticated {
            return Err(CognitoError::UnauthenticatedNotAllowed);
        }
        return Ok(Vec::new());
    }
    let trusted = trusted_providers(config);
    let mut keys = Vec::with_capacity(logins.len());
    for (provider, token) in logins {
        if !trusted.iter().any(|t| t == provider) {
            return Err(CognitoError::ProviderNotConfigured(provider.clone()));
        }
        if token.is_empty() {
            return Err(CognitoError::EmptyToken(provider.clone()));
        }
        keys.push(format!("{provider}|{}", token_subject(token)));
    }
    Ok(keys)
}

/// The user a login token names: a JWT's `sub` claim (unverified), else the token.
fn token_subject(token: &str) -> String {
    let mut parts = token.split('.');
    if let (Some(_), Some(payload), Some(_), None) = (parts.next(), parts.next(), parts.next(), parts.next())
        && let Ok(bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload.trim_end_matches('='))
        && let Ok(claims) = serde_json::from_slice::<serde_json::Value>(&bytes)
        && let Some(sub) = claims.get("sub").and_then(|s| s.as_str())
    {
        return sub.to_string();
    }
    token.to_string()
}

/// A new identity in `pool`.
pub fn new_identity(
    pool: &IdentityPool,
    region: &str,
    logins: Vec<String>,
    now: Timestamp,
    rng: &mut dyn Random,
) -> Identity {
    Identity {
        id: new_cognito_id(region, rng),
        pool_id: pool.id.clone(),
        logins,
        created: now,
        last_modified: now,
        disabled: false,
    }
}

// ----- identities and their logins ---------------------------------------------------

/// The most logins one identity can have linked (AWS: "The number of linked logins is
/// limited to 20").
pub const MAX_LOGINS: usize = 20;
/// The issuer (`iss`) of Cognito Identity's OpenID tokens.
pub const OPENID_ISSUER: &str = "https://cognito-identity.amazonaws.com";
/// The login provider name under which those tokens are presented back.
pub const OPENID_PROVIDER: &str = "cognito-identity.amazonaws.com";
/// `GetOpenIdToken`: "The OpenID token is valid for 10 minutes."
pub const OPEN_ID_TOKEN_SECONDS: i64 = 600;
/// `GetOpenIdTokenForDeveloperIdentity` without `TokenDuration`: 15 minutes.
pub const DEVELOPER_TOKEN_SECONDS: i64 = 900;
/// "An identity pool can have as many as 50 tags."
pub const MAX_TAGS: usize = 50;
/// "You can specify up to 25 rules per identity provider."
pub const MAX_RULES: usize = 25;

/// The provider of a login key (`provider|user` → `provider`).
pub fn login_provider(key: &str) -> &str {
    key.split_once('|').map_or(key, |(p, _)| p)
}

/// The login key of a developer user.
pub fn developer_key(provider: &str, user: &str) -> String {
    format!("{provider}|{user}")
}

impl Identity {
    /// The provider names of its logins, each once, in name order (`DescribeIdentity`).
    pub fn providers(&self) -> Vec<String> {
        let set: std::collections::BTreeSet<&str> = self.logins.iter().map(|k| login_provider(k)).collect();
        set.into_iter().map(str::to_string).collect()
    }

    /// The user identifiers it has of developer provider `provider`, in order.
    pub fn developer_users(&self, provider: &str) -> Vec<String> {
        let mut users: Vec<String> = self
            .logins
            .iter()
            .filter_map(|k| k.split_once('|'))
            .filter(|(p, _)| *p == provider)
            .map(|(_, u)| u.to_string())
            .collect();
        users.sort();
        users
    }
}

/// Logins presented for an existing identity (`GetOpenIdToken`, `UnlinkIdentity`,
/// `GetCredentialsForIdentity`): the provider logins, as keys, and the identities named
/// by Cognito's own OpenID tokens (login `cognito-identity.amazonaws.com`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Presented {
    pub keys: Vec<String>,
    pub openid_subjects: Vec<String>,
}

/// Reads presented logins: each provider must be one the pool trusts (or
/// `cognito-identity.amazonaws.com`), each token non-empty.
pub fn presented_logins(config: &PoolConfig, logins: &BTreeMap<String, String>) -> Result<Presented, CognitoError> {
    let mut out = Presented::default();
    let mut others = BTreeMap::new();
    for (provider, token) in logins {
        if provider == OPENID_PROVIDER {
            if token.is_empty() {
                return Err(CognitoError::EmptyToken(provider.clone()));
            }
            out.openid_subjects.push(token_subject(token));
        } else {
            others.insert(provider.clone(), token.clone());
        }
    }
    if !others.is_empty() {
        out.keys = login_keys(config, &others)?;
    }
    Ok(out)
}

/// Whether presented logins may act for `identity`: a disabled identity never; one with
/// logins needs at least one of them presented (or an OpenID token naming it), and no
/// OpenID token may name another identity; one without logins (unauthenticated) needs
/// none, if the pool allows unauthenticated identities.
pub fn authorize(config: &PoolConfig, identity: &Identity, presented: &Presented) -> Result<(), CognitoError> {
    if identity.disabled {
        return Err(CognitoError::IdentityDisabled(identity.id.clone()));
    }
    let mismatch = || CognitoError::LoginsDoNotMatch(identity.id.clone());
    if presented.openid_subjects.iter().any(|s| *s != identity.id) {
        return Err(mismatch());
    }
    let proven = !presented.openid_subjects.is_empty() || presented.keys.iter().any(|k| identity.logins.contains(k));
    if identity.logins.is_empty() {
        if !proven && presented.keys.is_empty() && !config.allow_unauthenticated {
            return Err(CognitoError::UnauthenticatedNotAllowed);
        }
        return Ok(());
    }
    if proven { Ok(()) } else { Err(mismatch()) }
}

/// The one identity that logins of a call are linked to: `owners` has, for each login,
/// the identity it is linked to, if any. `None` when none is linked yet.
pub fn single_owner<'a>(owners: impl IntoIterator<Item = Option<&'a str>>) -> Result<Option<&'a str>, CognitoError> {
    let mut found: Option<&str> = None;
    for owner in owners.into_iter().flatten() {
        match found {
            Some(f) if f != owner => return Err(CognitoError::LoginsOfDifferentIdentities),
            _ => found = Some(owner),
        }
    }
    Ok(found)
}

/// Checks that logins about to be linked to `identity_id` are not another identity's:
/// `owned` pairs each login key with the identity it is linked to, if any. A developer
/// user (`developer` is the pool's developer provider) of another identity is
/// `DeveloperUserAlreadyRegistered`; any other login, a conflict.
pub fn check_not_elsewhere(
    identity_id: &str,
    owned: &[(String, Option<String>)],
    developer: Option<&str>,
) -> Result<(), CognitoError> {
    for (key, owner) in owned {
        if owner.as_deref().is_some_and(|o| o != identity_id) {
            let provider = login_provider(key);
            return Err(if Some(provider) == developer {
                CognitoError::DeveloperUserAlreadyRegistered(key[provider.len() + 1..].to_string())
            } else {
                CognitoError::LoginLinkedElsewhere(provider.to_string())
            });
        }
    }
    Ok(())
}

/// `identity` with `keys` linked (those it has not yet), enabled again; unchanged (same
/// modification time) when it has them all. At most [`MAX_LOGINS`].
pub fn link_logins(identity: &Identity, keys: &[String], now: Timestamp) -> Result<Identity, CognitoError> {
    let mut out = identity.clone();
    for key in keys {
        if !out.logins.contains(key) {
            out.logins.push(key.clone());
        }
    }
    if out.logins.len() == identity.logins.len() {
        return Ok(out);
    }
    if out.logins.len() > MAX_LOGINS {
        return Err(CognitoError::TooManyLogins);
    }
    out.disabled = false;
    out.last_modified = now;
    Ok(out)
}

/// `identity` without the logins whose keys `remove` returns true for; one left with
/// none (that had some) is disabled.
fn unlink(identity: &Identity, remove: impl Fn(&str) -> bool, now: Timestamp) -> Identity {
    let mut out = identity.clone();
    out.logins.retain(|k| !remove(k));
    if out.logins.len() != identity.logins.len() {
        out.last_modified = now;
        out.disabled = out.logins.is_empty();
    }
    out
}

/// `UnlinkIdentity`: every presented login must be linked to `identity` (the caller
/// proves it holds them); the logins of `providers` are then removed (a provider not
/// linked is ignored).
pub fn unlink_providers(
    identity: &Identity,
    presented: &Presented,
    providers: &[String],
    now: Timestamp,
) -> Result<Identity, CognitoError> {
    let mismatch = || CognitoError::LoginsDoNotMatch(identity.id.clone());
    if identity.disabled {
        return Err(CognitoError::IdentityDisabled(identity.id.clone()));
    }
    if (presented.keys.is_empty() && presented.openid_subjects.is_empty())
        || presented.keys.iter().any(|k| !identity.logins.contains(k))
        || presented.openid_subjects.iter().any(|s| *s != identity.id)
    {
        return Err(mismatch());
    }
    Ok(unlink(identity, |k| providers.iter().any(|p| p == login_provider(k)), now))
}

/// `UnlinkDeveloperIdentity`: removes the developer user `user` of `provider` (the pool's
/// developer provider) from `identity`.
pub fn unlink_developer_user(
    pool: &IdentityPool,
    identity: &Identity,
    provider: &str,
    user: &str,
    now: Timestamp,
) -> Result<Identity, CognitoError> {
    check_developer_provider(pool, provider)?;
    let key = developer_key(provider, user);
    if !identity.logins.contains(&key) {
        return Err(CognitoError::DeveloperUserNotLinked(user.to_string(), identity.id.clone()));
    }
    Ok(unlink(identity, |k| k == key, now))
}

/// The pool's developer provider, which `provider` must be.
pub fn check_developer_provider<'a>(pool: &'a IdentityPool, provider: &str) -> Result<&'a str, CognitoError> {
    let Some(own) = pool.config.developer_provider_name.as_deref() else {
        return Err(CognitoError::NoDeveloperProvider(pool.id.clone()));
    };
    if own != provider {
        return Err(CognitoError::DeveloperProviderMismatch(provider.to_string(), own.to_string()));
    }
    Ok(own)
}

/// `GetOpenIdTokenForDeveloperIdentity`'s logins as keys: the developer user's first
/// (the pool's developer provider must be among them), then those of public providers
/// the pool trusts.
pub fn developer_login_keys(
    pool: &IdentityPool,
    logins: &BTreeMap<String, String>,
) -> Result<Vec<String>, CognitoError> {
    let Some(developer) = pool.config.developer_provider_name.as_deref() else {
        return Err(CognitoError::NoDeveloperProvider(pool.id.clone()));
    };
    let Some(user) = logins.get(developer) else {
        return Err(CognitoError::DeveloperLoginMissing(developer.to_string()));
    };
    let mut keys = vec![developer_key(developer, user)];
    let others: BTreeMap<String, String> =
        logins.iter().filter(|(p, _)| p.as_str() != developer).map(|(p, t)| (p.clone(), t.clone())).collect();
    if !others.is_empty() {
        keys.extend(login_keys(&pool.config, &others)?);
    }
    Ok(keys)
}

/// What `MergeDeveloperIdentities` leaves: the source identity without the developer
/// user, the destination with it, and whether the source has no login left (it is then
/// merged into the destination and removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merge {
    pub source: Identity,
    pub destination: Identity,
    pub source_emptied: bool,
}

/// `MergeDeveloperIdentities`: moves the developer user `key` from `source` to
/// `destination`.
pub fn merge_developer_user(
    source: &Identity,
    destination: &Identity,
    key: &str,
    now: Timestamp,
) -> Result<Merge, CognitoError> {
    let destination = link_logins(destination, &[key.to_string()], now)?;
    let mut source = source.clone();
    source.logins.retain(|k| k != key);
    source.last_modified = now;
    let source_emptied = source.logins.is_empty();
    Ok(Merge { source, destination, source_emptied })
}

// ----- OpenID tokens ---------------------------------------------------------------------

/// The claims of an OpenID token Cognito Identity issues for an identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIdClaims {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub amr: Vec<String>,
    /// `PrincipalTags` of `GetOpenIdTokenForDeveloperIdentity`, as AWS carries session
    /// tags: `{"principal_tags": {"key": ["value"]}}`.
    #[serde(rename = "https://aws.amazon.com/tags", default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, BTreeMap<String, Vec<String>>>>,
    pub iat: i64,
    pub exp: i64,
}

/// The claims of a token for `identity`, issued at `now` and valid for `seconds`: `amr`
/// is `["unauthenticated"]`, or `["authenticated", <its providers>…]`.
pub fn open_id_claims(
    identity: &Identity,
    now: Timestamp,
    seconds: i64,
    principal_tags: &BTreeMap<String, String>,
) -> OpenIdClaims {
    let amr = if identity.logins.is_empty() {
        vec!["unauthenticated".to_string()]
    } else {
        std::iter::once("authenticated".to_string()).chain(identity.providers()).collect()
    };
    let tags = (!principal_tags.is_empty()).then(|| {
        let tags = principal_tags.iter().map(|(k, v)| (k.clone(), vec![v.clone()])).collect();
        BTreeMap::from([("principal_tags".to_string(), tags)])
    });
    let iat = now.millis().div_euclid(1000);
    OpenIdClaims {
        iss: OPENID_ISSUER.to_string(),
        sub: identity.id.clone(),
        aud: identity.pool_id.clone(),
        amr,
        tags,
        iat,
        exp: iat + seconds,
    }
}

// ----- roles, principal tags, tags ----------------------------------------------------------

/// Whether `arn` names an IAM role: `arn:<partition>:iam::<account>:role/<path/name>`.
pub fn is_role_arn(arn: &str) -> bool {
    crate::arn::Arn::parse(arn).is_some_and(|a| {
        a.service == "iam"
            && a.region.is_empty()
            && !a.account.is_empty()
            && a.resource.strip_prefix("role/").is_some_and(|name| !name.is_empty() && !name.ends_with('/'))
    })
}

/// The names a role mapping may be keyed by: the providers the pool trusts, and for a
/// Cognito user pool also `<provider name>:<app client id>` (AWS's documented form).
fn role_mapping_keys(config: &PoolConfig) -> Vec<String> {
    let mut keys = trusted_providers(config);
    keys.extend(config.cognito_identity_providers.iter().map(|p| format!("{}:{}", p.provider_name, p.client_id)));
    keys
}

/// `SetIdentityPoolRoles`: replaces the pool's roles and role mappings. Role ARNs must be
/// IAM role ARNs ("Access to Role … is forbidden" otherwise, as AWS answers); a mapping
/// must be keyed by a provider the pool trusts, have `AmbiguousRoleResolution`, and — for
/// type `Rules` — 1 to 25 rules.
pub fn set_roles(
    pool: &IdentityPool,
    roles: BTreeMap<String, String>,
    mappings: BTreeMap<String, RoleMapping>,
    now: Timestamp,
) -> Result<IdentityPool, CognitoError> {
    for arn in roles.values() {
        if !is_role_arn(arn) {
            return Err(CognitoError::RoleForbidden(arn.clone()));
        }
    }
    let allowed = role_mapping_keys(&pool.config);
    for (provider, mapping) in &mappings {
        if !allowed.contains(provider) {
            return Err(CognitoError::RoleMappingProvider(provider.clone()));
        }
        let invalid = |why| CognitoError::InvalidRoleMapping(provider.clone(), why);
        if mapping.ambiguous_role_resolution.is_none() {
            return Err(invalid("AmbiguousRoleResolution is required for types Token and Rules."));
        }
        match (mapping.kind, &mapping.rules) {
            (RoleMappingType::Rules, None) => {
                return Err(invalid("RulesConfiguration is required for type Rules."));
            }
            (RoleMappingType::Token, Some(_)) => {
                return Err(invalid("RulesConfiguration is only for type Rules."));
            }
            (_, Some(rules)) if rules.len() > MAX_RULES => {
                return Err(invalid("at most 25 rules per identity provider."));
            }
            _ => {}
        }
        for rule in mapping.rules.iter().flatten() {
            if !is_role_arn(&rule.role_arn) {
                return Err(CognitoError::RoleForbidden(rule.role_arn.clone()));
            }
        }
    }
    let mut out = pool.clone();
    out.roles = roles;
    out.role_mappings = mappings;
    out.last_modified = now;
    Ok(out)
}

/// `UseDefaults`' mapping: "default (username and clientID) attribute mappings".
pub fn default_principal_tags() -> BTreeMap<String, String> {
    BTreeMap::from([("client".to_string(), "aud".to_string()), ("username".to_string(), "sub".to_string())])
}

fn check_provider_in_pool(pool: &IdentityPool, provider: &str) -> Result<(), CognitoError> {
    if trusted_providers(&pool.config).iter().any(|p| p == provider) {
        Ok(())
    } else {
        Err(CognitoError::ProviderNotInPool(provider.to_string()))
    }
}

/// `SetPrincipalTagAttributeMap` for a provider the pool trusts: the tags given, else the
/// defaults with `UseDefaults`, else none.
pub fn set_principal_tags(
    pool: &IdentityPool,
    provider: &str,
    use_defaults: bool,
    tags: Option<BTreeMap<String, String>>,
    now: Timestamp,
) -> Result<(IdentityPool, PrincipalTagMap), CognitoError> {
    check_provider_in_pool(pool, provider)?;
    let tags = match tags {
        Some(t) => t,
        None if use_defaults => default_principal_tags(),
        None => BTreeMap::new(),
    };
    let map = PrincipalTagMap { use_defaults, tags };
    let mut out = pool.clone();
    out.principal_tag_maps.insert(provider.to_string(), map.clone());
    out.last_modified = now;
    Ok((out, map))
}

/// `GetPrincipalTagAttributeMap`: a provider's map (empty, without defaults, until set).
pub fn principal_tags(pool: &IdentityPool, provider: &str) -> Result<PrincipalTagMap, CognitoError> {
    check_provider_in_pool(pool, provider)?;
    Ok(pool.principal_tag_maps.get(provider).cloned().unwrap_or_default())
}

/// A pool's ARN: `arn:aws:cognito-identity:<region>:<account>:identitypool/<pool id>`.
pub fn pool_arn(region: &str, account: &AccountId, pool_id: &str) -> String {
    crate::arn::Arn::new("cognito-identity", region, account, format!("identitypool/{pool_id}")).to_string()
}

/// The (region, account, pool id) an identity pool ARN names.
pub fn parse_pool_arn(arn: &str) -> Result<(String, String, String), CognitoError> {
    let invalid = || CognitoError::InvalidArn(arn.to_string());
    let parsed = crate::arn::Arn::parse(arn).ok_or_else(invalid)?;
    let pool_id = parsed.resource.strip_prefix("identitypool/").ok_or_else(invalid)?;
    if parsed.service != "cognito-identity" || parsed.region.is_empty() || parsed.account.is_empty() {
        return Err(invalid());
    }
    if pool_region(pool_id) != Some(parsed.region.as_str()) {
        return Err(invalid());
    }
    Ok((parsed.region, parsed.account, pool_id.to_string()))
}

/// `TagResource`: adds or overwrites tags, at most [`MAX_TAGS`] in all.
pub fn tag_pool(pool: &IdentityPool, tags: &BTreeMap<String, String>) -> Result<IdentityPool, CognitoError> {
    let mut out = pool.clone();
    out.tags.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    if out.tags.len() > MAX_TAGS {
        return Err(CognitoError::TooManyTags);
    }
    Ok(out)
}

/// `UntagResource`: removes the keys (absent ones are ignored).
pub fn untag_pool(pool: &IdentityPool, keys: &[String]) -> IdentityPool {
    let mut out = pool.clone();
    for k in keys {
        out.tags.remove(k);
    }
    out
}

/// Cognito Sync's view of a pool.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUsage {
    pub pool_id: String,
    pub data_storage: u64,
    /// `None` until the first sync session: AWS returns null for a pool never synced.
    pub sync_sessions: Option<u64>,
    pub last_modified: Timestamp,
}

pub fn usage(pool: &IdentityPool) -> PoolUsage {
    PoolUsage {
        pool_id: pool.id.clone(),
        data_storage: pool.data_storage,
        sync_sessions: (pool.sync_sessions > 0).then_some(pool.sync_sessions),
        last_modified: pool.last_modified,
    }
}

/// The region an identity pool id names (`us-east-1:…` → `us-east-1`).
pub fn pool_region(pool_id: &str) -> Option<&str> {
    pool_id.split_once(':').map(|(r, _)| r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SeededRandom;

    fn pool(config: PoolConfig) -> IdentityPool {
        create_pool(
            "us-east-1",
            &AccountId::default_account(),
            config,
            BTreeMap::new(),
            0,
            None,
            Timestamp(1),
            &mut SeededRandom::new(3),
        )
        .unwrap()
    }

    #[test]
    fn create_and_quota() {
        let p = pool(PoolConfig { name: "p".into(), ..Default::default() });
        assert!(p.id.starts_with("us-east-1:"));
        assert_eq!(pool_region(&p.id), Some("us-east-1"));
        let err = create_pool(
            "us-east-1",
            &p.owner,
            PoolConfig::default(),
            BTreeMap::new(),
            1000,
            Some(AWS_POOLS_PER_REGION),
            Timestamp(1),
            &mut SeededRandom::new(1),
        );
        assert_eq!(err, Err(CognitoError::PoolLimitExceeded));
        let unlimited = create_pool(
            "us-east-1",
            &p.owner,
            PoolConfig::default(),
            BTreeMap::new(),
            5000,
            None,
            Timestamp(1),
            &mut SeededRandom::new(1),
        );
        assert!(unlimited.is_ok(), "no quota unless one is configured");
    }

    #[test]
    fn update_replaces_config_but_not_developer_provider() {
        let p = pool(PoolConfig {
            name: "p".into(),
            developer_provider_name: Some("login.dev".into()),
            ..Default::default()
        });
        let same =
            PoolConfig { name: "q".into(), developer_provider_name: Some("login.dev".into()), ..Default::default() };
        let u = update_pool(&p, same, None, Timestamp(5)).unwrap();
        assert_eq!(u.config.name, "q");
        assert_eq!(u.last_modified, Timestamp(5));
        let changed = PoolConfig { name: "q".into(), developer_provider_name: None, ..Default::default() };
        assert!(matches!(
            update_pool(&p, changed, None, Timestamp(5)),
            Err(CognitoError::DeveloperProviderImmutable(_))
        ));
    }

    #[test]
    fn logins() {
        let mut config = PoolConfig { name: "p".into(), ..Default::default() };
        assert_eq!(login_keys(&config, &BTreeMap::new()), Err(CognitoError::UnauthenticatedNotAllowed));
        config.allow_unauthenticated = true;
        assert_eq!(login_keys(&config, &BTreeMap::new()), Ok(vec![]));
        config.supported_login_providers.insert("graph.facebook.com".into(), "app".into());
        config.open_id_connect_provider_arns.push("arn:aws:iam::123456789012:oidc-provider/id.example.com".into());
        let mut logins = BTreeMap::new();
        logins.insert("graph.facebook.com".to_string(), "opaque-token".to_string());
        assert_eq!(login_keys(&config, &logins).unwrap(), vec!["graph.facebook.com|opaque-token"]);
        // A JWT: header.payload.signature with payload {"sub":"user-1"}.
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"user-1","iat":1}"#);
        let mut logins = BTreeMap::new();
        logins.insert("id.example.com".to_string(), format!("eyJhbGciOiJIUzI1NiJ9.{payload}.sig"));
        assert_eq!(login_keys(&config, &logins).unwrap(), vec!["id.example.com|user-1"]);
        let mut logins = BTreeMap::new();
        logins.insert("accounts.google.com".to_string(), "t".to_string());
        assert!(matches!(login_keys(&config, &logins), Err(CognitoError::ProviderNotConfigured(_))));
    }

    fn identity(id: &str, logins: &[&str]) -> Identity {
        Identity {
            id: id.into(),
            pool_id: "us-east-1:p".into(),
            logins: logins.iter().map(|s| s.to_string()).collect(),
            created: Timestamp(1),
            last_modified: Timestamp(1),
            disabled: false,
        }
    }

    fn fb_pool() -> IdentityPool {
        let mut config = PoolConfig { name: "p".into(), ..Default::default() };
        config.supported_login_providers.insert("graph.facebook.com".into(), "app".into());
        config.supported_login_providers.insert("accounts.google.com".into(), "g".into());
        config.developer_provider_name = Some("login.dev".into());
        config.cognito_identity_providers.push(CognitoProvider {
            provider_name: "cognito-idp.us-east-1.amazonaws.com/us-east-1_abc".into(),
            client_id: "client1".into(),
            server_side_token_check: None,
        });
        pool(config)
    }

    fn login_map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn logins_of_one_call_have_one_owner() {
        assert_eq!(single_owner([None, None]), Ok(None));
        assert_eq!(single_owner([None, Some("a"), Some("a")]), Ok(Some("a")));
        assert_eq!(single_owner([Some("a"), Some("b")]), Err(CognitoError::LoginsOfDifferentIdentities));
        let owned = vec![("login.dev|u1".to_string(), Some("b".to_string()))];
        assert_eq!(
            check_not_elsewhere("a", &owned, Some("login.dev")),
            Err(CognitoError::DeveloperUserAlreadyRegistered("u1".into()))
        );
        let owned = vec![("graph.facebook.com|t".to_string(), Some("b".to_string()))];
        assert_eq!(
            check_not_elsewhere("a", &owned, Some("login.dev")),
            Err(CognitoError::LoginLinkedElsewhere("graph.facebook.com".into()))
        );
        assert_eq!(check_not_elsewhere("b", &owned, None), Ok(()));
    }

    #[test]
    fn linking_adds_new_logins_up_to_the_limit() {
        let id = identity("a", &["graph.facebook.com|t"]);
        let same = link_logins(&id, &["graph.facebook.com|t".into()], Timestamp(9)).unwrap();
        assert_eq!(same, id, "nothing new: unchanged, same modification time");
        let more = link_logins(&id, &["accounts.google.com|u".into()], Timestamp(9)).unwrap();
        assert_eq!(more.logins.len(), 2);
        assert_eq!(more.last_modified, Timestamp(9));
        assert_eq!(more.providers(), vec!["accounts.google.com", "graph.facebook.com"]);
        let full = identity("b", &[]);
        let keys: Vec<String> = (0..MAX_LOGINS).map(|i| format!("p|{i}")).collect();
        let full = link_logins(&full, &keys, Timestamp(2)).unwrap();
        assert_eq!(link_logins(&full, &["p|x".into()], Timestamp(3)), Err(CognitoError::TooManyLogins));
    }

    #[test]
    fn presented_logins_must_prove_an_authenticated_identity() {
        let p = fb_pool();
        let id = identity("us-east-1:a", &["graph.facebook.com|t1"]);
        let ok = presented_logins(&p.config, &login_map(&[("graph.facebook.com", "t1")])).unwrap();
        assert_eq!(authorize(&p.config, &id, &ok), Ok(()));
        // One known login proves it; a new one rides along (to be linked).
        let both =
            presented_logins(&p.config, &login_map(&[("graph.facebook.com", "t1"), ("accounts.google.com", "g")]))
                .unwrap();
        assert_eq!(authorize(&p.config, &id, &both), Ok(()));
        let wrong = presented_logins(&p.config, &login_map(&[("graph.facebook.com", "t2")])).unwrap();
        assert!(matches!(authorize(&p.config, &id, &wrong), Err(CognitoError::LoginsDoNotMatch(_))));
        assert!(matches!(authorize(&p.config, &id, &Presented::default()), Err(CognitoError::LoginsDoNotMatch(_))));
        // Cognito's own token naming the identity proves it; naming another does not.
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(br#"{"sub":"us-east-1:a"}"#);
        let own = presented_logins(&p.config, &login_map(&[(OPENID_PROVIDER, &format!("h.{payload}.s"))])).unwrap();
        assert_eq!(own.openid_subjects, vec!["us-east-1:a"]);
        assert_eq!(authorize(&p.config, &id, &own), Ok(()));
        let other = identity("us-east-1:b", &["graph.facebook.com|t9"]);
        assert!(authorize(&p.config, &other, &own).is_err());
        // Unauthenticated identities need nothing, if the pool allows them.
        let unauth = identity("us-east-1:u", &[]);
        assert_eq!(authorize(&p.config, &unauth, &Presented::default()), Err(CognitoError::UnauthenticatedNotAllowed));
        let mut open = p.config.clone();
        open.allow_unauthenticated = true;
        assert_eq!(authorize(&open, &unauth, &Presented::default()), Ok(()));
        assert_eq!(authorize(&p.config, &unauth, &ok), Ok(()), "linking a login to an unauthenticated identity");
        let mut disabled = id.clone();
        disabled.disabled = true;
        assert!(matches!(authorize(&p.config, &disabled, &ok), Err(CognitoError::IdentityDisabled(_))));
        assert!(matches!(
            presented_logins(&p.config, &login_map(&[("www.amazon.com", "t")])),
            Err(CognitoError::ProviderNotConfigured(_))
        ));
    }

    #[test]
    fn unlinking_the_last_login_disables() {
        let p = fb_pool();
        let id = identity("us-east-1:a", &["graph.facebook.com|t1", "accounts.google.com|g1"]);
        let presented = presented_logins(&p.config, &login_map(&[("graph.facebook.com", "t1")])).unwrap();
        let one = unlink_providers(&id, &presented, &["accounts.google.com".into()], Timestamp(5)).unwrap();
        assert_eq!(one.logins, vec!["graph.facebook.com|t1"]);
        assert!(!one.disabled);
        let none = unlink_providers(&one, &presented, &["graph.facebook.com".into()], Timestamp(6)).unwrap();
        assert!(none.logins.is_empty() && none.disabled);
        let foreign = presented_logins(&p.config, &login_map(&[("graph.facebook.com", "other")])).unwrap();
        assert!(matches!(
            unlink_providers(&id, &foreign, &["graph.facebook.com".into()], Timestamp(5)),
            Err(CognitoError::LoginsDoNotMatch(_))
        ));
        // Linking again enables it.
        let back = link_logins(&none, &["graph.facebook.com|t1".into()], Timestamp(7)).unwrap();
        assert!(!back.disabled);
    }

    #[test]
    fn developer_users() {
        let p = fb_pool();
        let keys =
            developer_login_keys(&p, &login_map(&[("login.dev", "alice"), ("graph.facebook.com", "t")])).unwrap();
        assert_eq!(keys, vec!["login.dev|alice", "graph.facebook.com|t"]);
        assert_eq!(
            developer_login_keys(&p, &login_map(&[("graph.facebook.com", "t")])),
            Err(CognitoError::DeveloperLoginMissing("login.dev".into()))
        );
        let plain = pool(PoolConfig::default());
        assert!(matches!(
            developer_login_keys(&plain, &login_map(&[("login.dev", "a")])),
            Err(CognitoError::NoDeveloperProvider(_))
        ));
        assert!(matches!(check_developer_provider(&p, "other"), Err(CognitoError::DeveloperProviderMismatch(..))));
        let id = identity("a", &["login.dev|bob", "login.dev|alice", "graph.facebook.com|t"]);
        assert_eq!(id.developer_users("login.dev"), vec!["alice", "bob"]);
        let after = unlink_developer_user(&p, &id, "login.dev", "bob", Timestamp(3)).unwrap();
        assert_eq!(after.developer_users("login.dev"), vec!["alice"]);
        assert!(matches!(
            unlink_developer_user(&p, &id, "login.dev", "carol", Timestamp(3)),
            Err(CognitoError::DeveloperUserNotLinked(..))
        ));
    }

    #[test]
    fn merging_moves_the_developer_user() {
        let source = identity("s", &["login.dev|a"]);
        let destination = identity("d", &["login.dev|b"]);
        let m = merge_developer_user(&source, &destination, "login.dev|a", Timestamp(4)).unwrap();
        assert!(m.source_emptied);
        assert_eq!(m.destination.developer_users("login.dev"), vec!["a", "b"]);
        let source = identity("s", &["login.dev|a", "graph.facebook.com|t"]);
        let m = merge_developer_user(&source, &destination, "login.dev|a", Timestamp(4)).unwrap();
        assert!(!m.source_emptied);
        assert_eq!(m.source.logins, vec!["graph.facebook.com|t"]);
    }

    #[test]
    fn open_id_claims_say_how_the_identity_authenticated() {
        let unauth = identity("us-east-1:u", &[]);
        let c = open_id_claims(&unauth, Timestamp(1_700_000_000_500), OPEN_ID_TOKEN_SECONDS, &BTreeMap::new());
        assert_eq!(c.amr, vec!["unauthenticated"]);
        assert_eq!((c.iat, c.exp), (1_700_000_000, 1_700_000_600));
        assert_eq!((c.iss.as_str(), c.sub.as_str(), c.aud.as_str()), (OPENID_ISSUER, "us-east-1:u", "us-east-1:p"));
        let auth = identity("us-east-1:a", &["login.dev|x", "graph.facebook.com|t"]);
        let tags = BTreeMap::from([("team".to_string(), "red".to_string())]);
        let c = open_id_claims(&auth, Timestamp(0), DEVELOPER_TOKEN_SECONDS, &tags);
        assert_eq!(c.amr, vec!["authenticated", "graph.facebook.com", "login.dev"]);
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["https://aws.amazon.com/tags"]["principal_tags"]["team"], serde_json::json!(["red"]));
        assert_eq!(json["exp"], 900);
    }

    #[test]
    fn roles_and_role_mappings() {
        let p = fb_pool();
        let role = "arn:aws:iam::123456789012:role/Cognito_Auth";
        assert!(is_role_arn(role));
        assert!(is_role_arn("arn:aws-cn:iam::123456789012:role/path/name"));
        assert!(!is_role_arn("arn:aws:iam::123456789012:user/bob"));
        assert!(!is_role_arn("arn:aws:iam::180971085012ole/x"));
        let roles = BTreeMap::from([("authenticated".to_string(), role.to_string())]);
        let token = RoleMapping {
            kind: RoleMappingType::Token,
            ambiguous_role_resolution: Some(AmbiguousRoleResolution::AuthenticatedRole),
            rules: None,
        };
        let rule = MappingRule {
            claim: "isAdmin".into(),
            match_type: MatchType::Equals,
            value: "yes".into(),
            role_arn: role.into(),
        };
        let rules = RoleMapping {
            kind: RoleMappingType::Rules,
            ambiguous_role_resolution: Some(AmbiguousRoleResolution::Deny),
            rules: Some(vec![rule.clone()]),
        };
        let mappings = BTreeMap::from([
            ("graph.facebook.com".to_string(), rules.clone()),
            ("cognito-idp.us-east-1.amazonaws.com/us-east-1_abc:client1".to_string(), token.clone()),
        ]);
        let set = set_roles(&p, roles.clone(), mappings, Timestamp(8)).unwrap();
        assert_eq!(set.roles, roles);
        assert_eq!(set.role_mappings.len(), 2);
        let bad = BTreeMap::from([("authenticated".to_string(), "arn:aws:s3:::bucket".to_string())]);
        assert!(matches!(set_roles(&p, bad, BTreeMap::new(), Timestamp(8)), Err(CognitoError::RoleForbidden(_))));
        let one = |k: &str, m: &RoleMapping| BTreeMap::from([(k.to_string(), m.clone())]);
        assert!(matches!(
            set_roles(&p, roles.clone(), one("www.amazon.com", &token), Timestamp(8)),
            Err(CognitoError::RoleMappingProvider(_))
        ));
        let no_rules = RoleMapping { rules: None, ..rules.clone() };
        assert!(matches!(
            set_roles(&p, roles.clone(), one("graph.facebook.com", &no_rules), Timestamp(8)),
            Err(CognitoError::InvalidRoleMapping(..))
        ));
        let no_resolution = RoleMapping { ambiguous_role_resolution: None, ..token.clone() };
        assert!(set_roles(&p, roles.clone(), one("graph.facebook.com", &no_resolution), Timestamp(8)).is_err());
        let too_many = RoleMapping { rules: Some(vec![rule.clone(); MAX_RULES + 1]), ..rules.clone() };
        assert!(set_roles(&p, roles.clone(), one("graph.facebook.com", &too_many), Timestamp(8)).is_err());
        let bad_rule = RoleMapping { rules: Some(vec![MappingRule { role_arn: "nope".into(), ..rule }]), ..rules };
        assert!(matches!(
            set_roles(&p, roles, one("graph.facebook.com", &bad_rule), Timestamp(8)),
            Err(CognitoError::RoleForbidden(_))
        ));
    }

    #[test]
    fn principal_tag_maps() {
        let p = fb_pool();
        let idp = "cognito-idp.us-east-1.amazonaws.com/us-east-1_abc";
        assert_eq!(principal_tags(&p, idp).unwrap(), PrincipalTagMap::default());
        let (p2, map) = set_principal_tags(&p, idp, true, None, Timestamp(2)).unwrap();
        assert_eq!(map.tags, default_principal_tags());
        assert_eq!(principal_tags(&p2, idp).unwrap(), map);
        let custom = BTreeMap::from([("dept".to_string(), "custom:dept".to_string())]);
        let (_, map) = set_principal_tags(&p, idp, false, Some(custom.clone()), Timestamp(2)).unwrap();
        assert_eq!(map, PrincipalTagMap { use_defaults: false, tags: custom });
        assert!(matches!(principal_tags(&p, "www.amazon.com"), Err(CognitoError::ProviderNotInPool(_))));
    }

    #[test]
    fn tags_and_arns() {
        let p = fb_pool();
        let arn = pool_arn("us-east-1", &p.owner, &p.id);
        assert_eq!(arn, format!("arn:aws:cognito-identity:us-east-1:000000000000:identitypool/{}", p.id));
        assert_eq!(parse_pool_arn(&arn).unwrap(), ("us-east-1".into(), "000000000000".into(), p.id.clone()));
        for bad in [
            "arn:aws:cognito-identity:us-east-1:000000000000:userpool/x",
            "arn:aws:cognito-idp:us-east-1:000000000000:identitypool/us-east-1:1",
            "arn:aws:cognito-identity:eu-west-1:000000000000:identitypool/us-east-1:1",
            "not an arn at all",
        ] {
            assert!(matches!(parse_pool_arn(bad), Err(CognitoError::InvalidArn(_))), "{bad}");
        }
        let tags: BTreeMap<String, String> = (0..MAX_TAGS).map(|i| (format!("k{i}"), String::new())).collect();
        let full = tag_pool(&p, &tags).unwrap();
        assert_eq!(full.tags.len(), MAX_TAGS);
        assert_eq!(tag_pool(&full, &BTreeMap::from([("k0".to_string(), "v".to_string())])).unwrap().tags["k0"], "v");
        assert_eq!(
            tag_pool(&full, &BTreeMap::from([("x".to_string(), "v".to_string())])),
            Err(CognitoError::TooManyTags)
        );
        assert_eq!(untag_pool(&full, &["k0".into(), "absent".into()]).tags.len(), MAX_TAGS - 1);
    }

    #[test]
    fn stored_pools_and_identities_of_before_still_load() {
        let p: IdentityPool = serde_json::from_str(
            r#"{"id":"us-east-1:x","owner":"000000000000","config":{"name":"p","allow_unauthenticated":true,
            "allow_classic_flow":null,"supported_login_providers":{},"developer_provider_name":null,
            "open_id_connect_provider_arns":[],"cognito_identity_providers":[],"saml_provider_arns":[]},
            "tags":{},"created":1,"last_modified":1}"#,
        )
        .unwrap();
        assert!(p.roles.is_empty() && p.role_mappings.is_empty() && p.principal_tag_maps.is_empty());
        let i: Identity = serde_json::from_str(
            r#"{"id":"us-east-1:i","pool_id":"us-east-1:x","logins":[],"created":1,"last_modified":1}"#,
        )
        .unwrap();
        assert!(!i.disabled);
    }

    #[test]
    fn usage_hides_sessions_until_the_first() {
        let mut p = pool(PoolConfig::default());
        assert_eq!(usage(&p).sync_sessions, None);
        p.sync_sessions = 2;
        assert_eq!(usage(&p).sync_sessions, Some(2));
    }
}
