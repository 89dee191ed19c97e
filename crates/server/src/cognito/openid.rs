//! Cognito Identity's OpenID tokens: JWTs signed RS512 (RSASSA-PKCS1-v1_5 with SHA-512,
//! the algorithm AWS's tokens carry) with one RSA key per store.
//!
//! The key (3072 bits, the `rsa` crate's default size) is made the first time a token is
//! asked for, not at start-up, and kept in the store's `meta` table as base64 PKCS#8 DER,
//! so tokens verify across restarts and every process on one database signs with the
//! same key (the first to store one wins; the others read it back). It is made outside
//! any transaction: making one takes 0.05–0.35 s in a debug build (dependencies are built
//! at `opt-level = 1`), a few milliseconds in a release build. Its public half is served
//! as a JWKS by `GET /_reservoir/cognito/jwks` ([`crate::admin::cognito_jwks`]); the key id
//! (`kid`) is the base64url SHA-256 of the public key's DER.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use rsa::sha2::{Digest, Sha256, Sha512};
use rsa::signature::{SignatureEncoding, Signer};
use rsa::traits::PublicKeyParts;
use rsa::{Generate, PrivateKey};
use serde_json::json;

use reservoir_domain::cognito::OpenIdClaims;

use crate::AppState;
use crate::context;
use crate::error::{ApiError, ApiResult};

/// The `meta` key of the signing key.
pub const KEY_META: &str = "cognito-identity.openid-signing-key";
/// The JWT `alg`.
pub const ALGORITHM: &str = "RS512";

/// The signing key, as stored (base64 PKCS#8 DER).
#[derive(Clone)]
pub struct StoredKey(String);

/// The store's signing key, made and stored on first use.
pub async fn signing_key(state: &Arc<AppState>) -> ApiResult<StoredKey> {
    if let Some(key) = context::read(state, |tx| Ok(tx.get_meta(KEY_META)?)).await? {
        return Ok(StoredKey(key));
    }
    let made = tokio::task::spawn_blocking(generate)
        .await
        .map_err(|e| ApiError::Internal(format!("key generation task: {e}")))??;
    let key = context::write(state, move |tx| {
        tx.put_meta_if_absent(KEY_META, &made)?;
        tx.get_meta(KEY_META)?.ok_or_else(|| ApiError::Internal("the OpenID signing key vanished".into()))
    })
    .await?;
    Ok(StoredKey(key))
}

fn generate() -> ApiResult<String> {
    let started = std::time::Instant::now();
    let key = PrivateKey::try_generate().map_err(|e| ApiError::Internal(format!("RSA key generation: {e}")))?;
    let der = key.to_pkcs8_der().map_err(|e| ApiError::Internal(format!("encoding the RSA key: {e}")))?;
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "made the Cognito OpenID signing key");
    Ok(STANDARD.encode(der.as_bytes()))
}

fn private_key(key: &StoredKey) -> ApiResult<PrivateKey> {
    let corrupt = |e: String| ApiError::Internal(format!("the stored OpenID signing key: {e}"));
    let der = STANDARD.decode(&key.0).map_err(|e| corrupt(e.to_string()))?;
    PrivateKey::from_pkcs8_der(&der).map_err(|e| corrupt(e.to_string()))
}

fn key_id(key: &PrivateKey) -> ApiResult<String> {
    let der = key
        .to_public_key()
        .to_public_key_der()
        .map_err(|e| ApiError::Internal(format!("encoding the public key: {e}")))?;
    Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(der.as_bytes())))
}

/// `claims` as a signed JWT (`header.payload.signature`, base64url without padding).
pub fn sign(key: &StoredKey, claims: &OpenIdClaims) -> ApiResult<String> {
    let private = private_key(key)?;
    let header = json!({ "kid": key_id(&private)?, "typ": "JWT", "alg": ALGORITHM });
    let encode = |v: &serde_json::Value| URL_SAFE_NO_PAD.encode(v.to_string());
    let claims = serde_json::to_value(claims).map_err(|e| ApiError::Internal(format!("encoding claims: {e}")))?;
    let input = format!("{}.{}", encode(&header), encode(&claims));
    let signer = SigningKey::<Sha512>::new(private);
    let signature = signer.try_sign(input.as_bytes()).map_err(|e| ApiError::Internal(format!("signing: {e}")))?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes())))
}

/// [`sign`] on a blocking thread (an RSA signature takes milliseconds).
pub async fn sign_blocking(key: StoredKey, claims: OpenIdClaims) -> ApiResult<String> {
    tokio::task::spawn_blocking(move || sign(&key, &claims))
        .await
        .map_err(|e| ApiError::Internal(format!("signing task: {e}")))?
}

/// The public key as a JSON Web Key Set (RFC 7517).
pub fn jwks(key: &StoredKey) -> ApiResult<serde_json::Value> {
    let private = private_key(key)?;
    Ok(json!({
        "keys": [{
            "kty": "RSA",
            "alg": ALGORITHM,
            "use": "sig",
            "kid": key_id(&private)?,
            "n": URL_SAFE_NO_PAD.encode(private.n_bytes()),
            "e": URL_SAFE_NO_PAD.encode(private.e_bytes()),
        }]
    }))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use rsa::pkcs1v15::{Signature, VerifyingKey};
    use rsa::signature::Verifier;

    use reservoir_domain::cognito::{Identity, OPEN_ID_TOKEN_SECONDS, open_id_claims};
    use reservoir_domain::time::Timestamp;

    use super::*;
    use crate::Config;

    fn identity() -> Identity {
        Identity {
            id: "us-east-1:i".into(),
            pool_id: "us-east-1:p".into(),
            logins: vec![],
            created: Timestamp(0),
            last_modified: Timestamp(0),
            disabled: false,
        }
    }

    #[tokio::test]
    async fn tokens_are_signed_with_the_stored_key_and_verify() {
        let state = Arc::new(AppState::open(Config::ephemeral()).unwrap());
        let key = signing_key(&state).await.unwrap();
        // Made once: a second call reads the same key back.
        assert_eq!(signing_key(&state).await.unwrap().0, key.0);
        let claims = open_id_claims(&identity(), Timestamp(1_000_000), OPEN_ID_TOKEN_SECONDS, &BTreeMap::new());
        let token = sign_blocking(key.clone(), claims.clone()).await.unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS512");
        assert_eq!(header["typ"], "JWT");
        let set = jwks(&key).unwrap();
        assert_eq!(header["kid"], set["keys"][0]["kid"]);
        let decoded: OpenIdClaims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(decoded, claims);
        // The signature verifies with the public key of the JWKS.
        let n = rsa::BoxedUint::from_be_slice_vartime(
            &URL_SAFE_NO_PAD.decode(set["keys"][0]["n"].as_str().unwrap()).unwrap(),
        );
        let e = rsa::BoxedUint::from_be_slice_vartime(
            &URL_SAFE_NO_PAD.decode(set["keys"][0]["e"].as_str().unwrap()).unwrap(),
        );
        let public = rsa::PublicKey::new(n, e).unwrap();
        let verifier = VerifyingKey::<Sha512>::new(public);
        let signature = Signature::try_from(URL_SAFE_NO_PAD.decode(parts[2]).unwrap().as_slice()).unwrap();
        let input = format!("{}.{}", parts[0], parts[1]);
        verifier.verify(input.as_bytes(), &signature).unwrap();
        assert!(verifier.verify(b"tampered", &signature).is_err());
    }
}
