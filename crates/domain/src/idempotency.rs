//! Idempotent retries with `ClientToken`.
//!
//! EC2 ("Ensuring idempotency"): a request that repeats a client token with the same
//! parameters returns the first request's result and changes nothing; the same token
//! with different parameters fails with `IdempotentParameterMismatch`. Tokens are
//! scoped to the account, the region and the operation, and are at most 64 ASCII
//! characters. A dry run neither consumes nor checks a token's result.
//!
//! The server stores, in the same transaction as the mutation, the token, a fingerprint
//! of the request's parameters (all but `ClientToken` and `DryRun`) and the encoded
//! result; [`decide`] is the rule applied on the next request with that token.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// AWS: "up to 64 ASCII characters".
pub const MAX_TOKEN_LEN: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdempotencyError {
    #[error("The client token must be 1 to {MAX_TOKEN_LEN} ASCII characters.")]
    InvalidToken,
    #[error("The client token '{0}' was used with different parameters before.")]
    ParameterMismatch(String),
}

/// What was stored for a token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyRecord {
    pub fingerprint: String,
    /// The first result, encoded by the protocol layer (opaque here).
    pub result: String,
    pub created: Timestamp,
}

/// What to do with a request carrying a client token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// First use: perform the operation and record its result.
    Perform,
    /// A retry of the same request: answer the recorded result.
    Replay(String),
}

pub fn check_token(token: &str) -> Result<(), IdempotencyError> {
    if token.is_empty() || token.len() > MAX_TOKEN_LEN || !token.is_ascii() {
        return Err(IdempotencyError::InvalidToken);
    }
    Ok(())
}

pub fn decide(
    token: &str,
    fingerprint: &str,
    existing: Option<&IdempotencyRecord>,
) -> Result<Decision, IdempotencyError> {
    check_token(token)?;
    match existing {
        None => Ok(Decision::Perform),
        Some(r) if r.fingerprint == fingerprint => Ok(Decision::Replay(r.result.clone())),
        Some(_) => Err(IdempotencyError::ParameterMismatch(token.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules() {
        let rec = IdempotencyRecord { fingerprint: "f1".into(), result: "<r/>".into(), created: Timestamp(0) };
        assert_eq!(decide("t", "f1", None), Ok(Decision::Perform));
        assert_eq!(decide("t", "f1", Some(&rec)), Ok(Decision::Replay("<r/>".into())));
        assert_eq!(decide("t", "f2", Some(&rec)), Err(IdempotencyError::ParameterMismatch("t".into())));
        assert_eq!(decide(&"x".repeat(65), "f1", None), Err(IdempotencyError::InvalidToken));
        assert_eq!(decide("", "f1", None), Err(IdempotencyError::InvalidToken));
        assert_eq!(decide("é", "f1", None), Err(IdempotencyError::InvalidToken));
    }
}
