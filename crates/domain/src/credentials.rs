//! Temporary credentials of a Cognito identity (`GetCredentialsForIdentity`), which
//! Reservoir itself recognises when a request is signed with them.
//!
//! * The access key id is `ASIA` and 16 characters of base32 (AWS's form for temporary
//!   keys); the secret key is derived from it with the server's key, so nothing need be
//!   stored to check a signature later; the session token is sealed by the server's key
//!   and carries who the credentials are: account, region, pool, identity, access key
//!   id and expiry (one hour on the server clock, as AWS's).
//! * A request with `X-Amz-Security-Token` in Reservoir's form acts as that identity. A
//!   token in that form that does not open (forged, another server's) is refused; one
//!   past its expiry is refused as expired. Any other session token (a developer's own
//!   STS credentials pointed at Reservoir) is ignored, as before: the account comes from
//!   the access key.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::account::{AccountId, Scope};
use crate::ids::Random;
use crate::pagination::TokenCodec;
use crate::time::Timestamp;

/// Credentials last an hour.
pub const LIFETIME_MILLIS: i64 = 60 * 60 * 1000;
/// Session tokens Reservoir issues start with this.
pub const TOKEN_PREFIX: &str = "RsvCognitoIdentity1.";
const PURPOSE: &str = "cognito-identity-credentials";

/// Who a set of credentials is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdentityClaims {
    pub scope: Scope,
    pub pool_id: String,
    pub identity_id: String,
    pub access_key: String,
    pub expires: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub access_key: String,
    pub secret_key: String,
    pub session_token: String,
    pub expires: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("The security token included in the request is invalid.")]
    Invalid,
    #[error("The security token included in the request is expired")]
    Expired,
}

/// New credentials for an identity, valid for [`LIFETIME_MILLIS`] from `now`.
pub fn issue(
    codec: &TokenCodec,
    scope: &Scope,
    pool_id: &str,
    identity_id: &str,
    now: Timestamp,
    rng: &mut dyn Random,
) -> Credentials {
    const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    let access_key: String = std::iter::once("ASIA".to_string())
        .chain(bytes.iter().map(|b| char::from(BASE32[usize::from(b % 32)]).to_string()))
        .collect();
    let expires = Timestamp(now.0 + LIFETIME_MILLIS);
    let payload =
        [scope.account.as_str(), &scope.region, pool_id, identity_id, &access_key, &expires.0.to_string()].join("|");
    Credentials {
        secret_key: secret_key(codec, &access_key),
        session_token: format!("{TOKEN_PREFIX}{}", codec.seal(PURPOSE, &payload)),
        access_key,
        expires,
    }
}

/// The secret key of an access key id issued by [`issue`].
pub fn secret_key(codec: &TokenCodec, access_key: &str) -> String {
    STANDARD.encode(&codec.derive(PURPOSE, access_key)[..30])
}

/// Who signed a request that carried `session_token`: `Ok(None)` when the token is not
/// one of Reservoir's (the request is a developer's, as without a token).
pub fn recognise(
    codec: &TokenCodec,
    access_key: &str,
    session_token: &str,
    now: Timestamp,
) -> Result<Option<IdentityClaims>, CredentialError> {
    let Some(sealed) = session_token.strip_prefix(TOKEN_PREFIX) else {
        return Ok(None);
    };
    let payload = codec.open(PURPOSE, sealed).map_err(|_| CredentialError::Invalid)?;
    let parts: Vec<&str> = payload.split('|').collect();
    let [account, region, pool_id, identity_id, key, expires] = parts.as_slice() else {
        return Err(CredentialError::Invalid);
    };
    let account = AccountId::parse(account).ok_or(CredentialError::Invalid)?;
    let expires = Timestamp(expires.parse().map_err(|_| CredentialError::Invalid)?);
    if *key != access_key {
        return Err(CredentialError::Invalid);
    }
    if now.0 >= expires.0 {
        return Err(CredentialError::Expired);
    }
    Ok(Some(IdentityClaims {
        scope: Scope::new(account, region.to_string()),
        pool_id: pool_id.to_string(),
        identity_id: identity_id.to_string(),
        access_key: access_key.to_string(),
        expires,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::SeededRandom;

    #[test]
    fn issued_credentials_are_recognised_until_they_expire() {
        let codec = TokenCodec::new([9; 32]);
        let scope = Scope::new(AccountId::default_account(), "us-east-1");
        let c = issue(&codec, &scope, "us-east-1:p", "us-east-1:i", Timestamp(1_000), &mut SeededRandom::new(1));
        assert!(c.access_key.starts_with("ASIA") && c.access_key.len() == 20, "{}", c.access_key);
        assert!(c.access_key[4..].bytes().all(|b| b.is_ascii_uppercase() || (b'2'..=b'7').contains(&b)));
        assert_eq!(c.secret_key.len(), 40);
        assert_eq!(c.expires, Timestamp(1_000 + LIFETIME_MILLIS));
        let claims = recognise(&codec, &c.access_key, &c.session_token, Timestamp(2_000)).unwrap().unwrap();
        assert_eq!(claims.scope, scope);
        assert_eq!((claims.pool_id.as_str(), claims.identity_id.as_str()), ("us-east-1:p", "us-east-1:i"));
        assert_eq!(recognise(&codec, &c.access_key, &c.session_token, c.expires), Err(CredentialError::Expired));
        // Another key id with this token, another server's token, a forged one.
        assert_eq!(
            recognise(&codec, "ASIAAAAAAAAAAAAAAAAA", &c.session_token, Timestamp(2_000)),
            Err(CredentialError::Invalid)
        );
        let other = TokenCodec::new([8; 32]);
        assert_eq!(recognise(&other, &c.access_key, &c.session_token, Timestamp(2_000)), Err(CredentialError::Invalid));
        assert_eq!(
            recognise(&codec, &c.access_key, &format!("{TOKEN_PREFIX}x.y"), Timestamp(2_000)),
            Err(CredentialError::Invalid)
        );
        // Not ours at all: a developer's own session token.
        assert_eq!(recognise(&codec, "ASIAXYZ", "IQoJb3JpZ2luX2VjEPr", Timestamp(2_000)), Ok(None));
        assert_eq!(secret_key(&codec, &c.access_key), c.secret_key);
    }
}
