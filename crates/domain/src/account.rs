//! Accounts, regions, and the scope that keys all state.
//!
//! **Open mode** (the default, and the only mode so far): any credentials are accepted.
//! The account is the access key id when that is exactly 12 digits (so tests can act as
//! several accounts by choosing keys such as `111111111111`), otherwise `000000000000`.
//! The region is the one the request was signed for.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A 12-digit AWS account id.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct AccountId(String);

impl AccountId {
    /// The account of requests whose access key is not an account id.
    pub const DEFAULT: &'static str = "000000000000";

    pub fn parse(s: &str) -> Option<AccountId> {
        (s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())).then(|| AccountId(s.to_string()))
    }

    pub fn default_account() -> AccountId {
        AccountId(Self::DEFAULT.to_string())
    }

    /// Open mode's rule: a 12-digit access key *is* the account, anything else maps to
    /// the default account.
    pub fn from_access_key(access_key: &str) -> AccountId {
        AccountId::parse(access_key).unwrap_or_else(AccountId::default_account)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The (account, region) pair every resource lives in. Isolation between accounts and
/// regions is a property of storage keys: every key starts with a scope.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Scope {
    pub account: AccountId,
    pub region: String,
}

impl Scope {
    pub fn new(account: AccountId, region: impl Into<String>) -> Scope {
        Scope { account, region: region.into() }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.account, self.region)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twelve_digit_keys_are_accounts() {
        assert_eq!(AccountId::from_access_key("123456789012").as_str(), "123456789012");
        assert_eq!(AccountId::from_access_key("AKIDEXAMPLE").as_str(), "000000000000");
        assert_eq!(AccountId::from_access_key("12345678901").as_str(), "000000000000");
        assert_eq!(AccountId::from_access_key("1234567890123").as_str(), "000000000000");
    }
}
