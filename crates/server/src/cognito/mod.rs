//! Amazon Cognito: Cognito Identity (awsJson1.1, [`identity`]) and Cognito Sync
//! (restJson1, [`sync`]), with what both JSON services share.

use reservoir_domain::cognito::IdentityPool;
use reservoir_domain::pagination::{self, Binding};
use reservoir_store::ReadTxExt;
use reservoir_wire::json::{JsonError, codes};
use reservoir_wire::validate::Violation;

use crate::context::Cx;
use crate::error::{ApiError, ApiResult, cognito_token_error};

pub mod credentials;
pub mod datasets;
pub mod identity;
pub mod openid;
pub mod sync;

/// Model-constraint violations, answered as AWS's JSON services answer them:
/// `ValidationException`, "2 validation errors detected: Value 'x' at 'identityPoolName'
/// failed to satisfy constraint: …; …".
pub fn validation_error(violations: &[Violation]) -> ApiError {
    ApiError::new(codes::VALIDATION_EXCEPTION, validation_message(violations))
}

/// "2 validation errors detected: …; …".
pub fn validation_message(violations: &[Violation]) -> String {
    let n = violations.len();
    let head =
        if n == 1 { "1 validation error detected: ".to_string() } else { format!("{n} validation errors detected: ") };
    let detail: Vec<String> = violations.iter().map(ToString::to_string).collect();
    head + &detail.join("; ")
}

/// A body or bound parameter that cannot be read as the operation's input.
pub fn serialization_error(e: JsonError) -> ApiError {
    ApiError::new(codes::SERIALIZATION_EXCEPTION, e.to_string())
}

/// A signed-only operation called without a signature.
pub fn missing_authentication() -> ApiError {
    ApiError::new(codes::MISSING_AUTHENTICATION_TOKEN, "Missing Authentication Token")
}

/// A real operation of the service that Reservoir does not implement yet.
pub fn not_implemented(service: &str, operation: &str) -> ApiError {
    ApiError::new(codes::NOT_IMPLEMENTED, format!("Reservoir does not implement {service}:{operation} yet."))
}

/// One page of the caller's identity pools, in creation order, for the listing
/// `operation`: the pools and the `NextToken` of the next page, if any.
pub async fn page_of_pools(
    cx: &Cx,
    operation: &'static str,
    next_token: Option<&str>,
    limit: usize,
) -> ApiResult<(Vec<IdentityPool>, Option<String>)> {
    let binding = Binding { operation, scope: &cx.scope, fingerprint: "" };
    let after = match next_token {
        Some(t) => {
            let cursor = cx.state.tokens.decode(&binding, t).map_err(cognito_token_error)?;
            pagination::parse_seq_cursor(&cursor).map_err(cognito_token_error)?
        }
        None => 0,
    };
    let scope = cx.scope.clone();
    let mut rows = cx.read(move |tx| Ok(tx.page::<IdentityPool>(&scope, after, limit + 1)?)).await?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = if more { rows.last().map(|(seq, _)| cx.state.tokens.encode(&binding, &seq.to_string())) } else { None };
    Ok((rows.into_iter().map(|(_, p)| p).collect(), next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reservoir_wire::validate::Validator;

    #[test]
    fn validation_messages_count_and_join() {
        let mut v = Validator::default();
        v.member("IdentityPoolName", "IdentityPoolName", |v| v.missing());
        v.member("MaxResults", "MaxResults", |v| v.range(0, Some(1), Some(60)));
        let err = validation_error(&v.violations);
        let ApiError::Aws { code, message } = err else { panic!() };
        assert_eq!((code.code(), code.status()), ("ValidationException", 400));
        assert_eq!(
            message,
            "2 validation errors detected: Value null at 'identityPoolName' failed to satisfy constraint: Member must \
             not be null; Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than \
             or equal to 1"
        );
    }
}
