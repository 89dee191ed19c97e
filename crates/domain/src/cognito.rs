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
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub id: String,
    pub pool_id: String,
    /// `provider|user` keys of the logins linked to this identity.
    pub logins: Vec<String>,
    pub created: Timestamp,
    pub last_modified: Timestamp,
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
    Identity { id: new_cognito_id(region, rng), pool_id: pool.id.clone(), logins, created: now, last_modified: now }
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

    #[test]
    fn usage_hides_sessions_until_the_first() {
        let mut p = pool(PoolConfig::default());
        assert_eq!(usage(&p).sync_sessions, None);
        p.sync_sessions = 2;
        assert_eq!(usage(&p).sync_sessions, Some(2));
    }
}
