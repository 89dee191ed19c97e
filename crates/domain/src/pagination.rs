//! `NextToken`s: opaque, tamper-proof, and bound to the request that produced them.
//!
//! A token carries a *cursor* — the position after the last item of the page, in the
//! listing's stable order (for stored resources: their insertion sequence) — and a MAC
//! over the cursor, the operation, the scope (account and region) and a fingerprint of
//! the request's selection (filters, ids; not `MaxResults`, which may change between
//! pages). So:
//! * pages stay correct while others write: the next page starts *after* the cursor, so
//!   an item created meanwhile appears at most once and deleted items simply vanish;
//! * a forged or altered token, or one from another operation, request, account or
//!   region, fails the MAC and is refused (EC2: `InvalidNextToken`);
//! * tokens survive restarts: the key is kept in the store.
//!
//! Format: `base64url(cursor) "." base64url(mac[..16])`; tokens never repeat for
//! distinct pages (botocore aborts when the same token comes back twice).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use crate::account::Scope;

type HmacSha256 = Hmac<Sha256>;

/// The default page size when the caller gives no `MaxResults`: everything, in pages
/// large enough that no AWS client notices (EC2 returns all results when MaxResults is
/// absent; Reservoir caps a page at this many and paginates beyond it).
pub const UNBOUNDED_PAGE: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("The specified NextToken is not valid.")]
    Invalid,
}

/// Makes and checks tokens with one secret key.
#[derive(Clone)]
pub struct TokenCodec {
    key: [u8; 32],
}

impl std::fmt::Debug for TokenCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenCodec { key: <secret> }")
    }
}

/// What a token is bound to.
#[derive(Debug, Clone, Copy)]
pub struct Binding<'a> {
    pub operation: &'a str,
    pub scope: &'a Scope,
    /// [`fingerprint`] of the request's selection.
    pub fingerprint: &'a str,
}

impl TokenCodec {
    pub fn new(key: [u8; 32]) -> TokenCodec {
        TokenCodec { key }
    }

    /// The key as hex, for storage.
    pub fn key_hex(&self) -> String {
        hex(&self.key)
    }

    pub fn from_key_hex(hex: &str) -> Option<TokenCodec> {
        if hex.len() != 64 {
            return None;
        }
        let mut key = [0u8; 32];
        for (i, chunk) in hex.as_bytes().chunks(2).enumerate() {
            key[i] = u8::from_str_radix(std::str::from_utf8(chunk).ok()?, 16).ok()?;
        }
        Some(TokenCodec { key })
    }

    fn mac(&self, binding: &Binding<'_>, cursor: &str) -> [u8; 16] {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length works");
        for part in [
            "reservoir-next-token-v1",
            binding.operation,
            binding.scope.account.as_str(),
            binding.scope.region.as_str(),
            binding.fingerprint,
            cursor,
        ] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 16];
        out.copy_from_slice(&full[..16]);
        out
    }

    pub fn encode(&self, binding: &Binding<'_>, cursor: &str) -> String {
        format!("{}.{}", URL_SAFE_NO_PAD.encode(cursor), URL_SAFE_NO_PAD.encode(self.mac(binding, cursor)))
    }

    /// The cursor of a token made by [`TokenCodec::encode`] with the same binding.
    pub fn decode(&self, binding: &Binding<'_>, token: &str) -> Result<String, TokenError> {
        let (cursor, mac) = token.split_once('.').ok_or(TokenError::Invalid)?;
        let cursor = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| TokenError::Invalid)?;
        let cursor = String::from_utf8(cursor).map_err(|_| TokenError::Invalid)?;
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| TokenError::Invalid)?;
        let want = self.mac(binding, &cursor);
        // Constant-time comparison.
        if mac.len() != want.len() || mac.iter().zip(want.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) != 0 {
            return Err(TokenError::Invalid);
        }
        Ok(cursor)
    }
}

impl TokenCodec {
    /// A tamper-proof token for `purpose` carrying `payload` in the clear (the other
    /// opaque values Reservoir hands out: sync session tokens, Cognito session tokens).
    pub fn seal(&self, purpose: &str, payload: &str) -> String {
        format!("{}.{}", URL_SAFE_NO_PAD.encode(payload), URL_SAFE_NO_PAD.encode(self.purpose_mac(purpose, payload)))
    }

    /// The payload of a token made by [`TokenCodec::seal`] for the same purpose.
    pub fn open(&self, purpose: &str, token: &str) -> Result<String, TokenError> {
        let (payload, mac) = token.split_once('.').ok_or(TokenError::Invalid)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| TokenError::Invalid)?;
        let payload = String::from_utf8(payload).map_err(|_| TokenError::Invalid)?;
        let mac = URL_SAFE_NO_PAD.decode(mac).map_err(|_| TokenError::Invalid)?;
        let want = self.purpose_mac(purpose, &payload);
        if mac.len() != want.len() || mac.iter().zip(want.iter()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) != 0 {
            return Err(TokenError::Invalid);
        }
        Ok(payload)
    }

    /// A secret derived from the key for `purpose` and `input` (e.g. the secret access
    /// key of issued credentials, derived from their access key id).
    pub fn derive(&self, purpose: &str, input: &str) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length works");
        for part in ["reservoir-derive-v1", purpose, input] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }

    fn purpose_mac(&self, purpose: &str, payload: &str) -> [u8; 20] {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length works");
        for part in ["reservoir-sealed-v1", purpose, payload] {
            mac.update(&(part.len() as u64).to_be_bytes());
            mac.update(part.as_bytes());
        }
        let full = mac.finalize().into_bytes();
        let mut out = [0u8; 20];
        out.copy_from_slice(&full[..20]);
        out
    }
}

/// A stable fingerprint of a request's selection: `parts` are (name, value) pairs in any
/// order; equal sets give equal fingerprints.
pub fn fingerprint<'a>(parts: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut parts: Vec<(&str, &str)> = parts.into_iter().collect();
    parts.sort();
    let mut h = Sha256::new();
    for (k, v) in parts {
        h.update((k.len() as u64).to_be_bytes());
        h.update(k.as_bytes());
        h.update((v.len() as u64).to_be_bytes());
        h.update(v.as_bytes());
    }
    hex(&h.finalize()[..12])
}

/// Lower-case hex, without the formatting machinery (every request makes two
/// fingerprints).
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// A sequence-number cursor (the insertion order of stored resources).
pub fn seq_cursor(seq: i64) -> String {
    seq.to_string()
}

pub fn parse_seq_cursor(cursor: &str) -> Result<i64, TokenError> {
    cursor.parse().map_err(|_| TokenError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::AccountId;
    use proptest::prelude::*;

    fn scope(a: &str, r: &str) -> Scope {
        Scope::new(AccountId::parse(a).unwrap(), r)
    }

    #[test]
    fn round_trip_and_binding() {
        let codec = TokenCodec::new([7; 32]);
        let s = scope("123456789012", "us-east-1");
        let fp = fingerprint([("Filter.1.Name", "state")]);
        let b = Binding { operation: "DescribeVpcs", scope: &s, fingerprint: &fp };
        let token = codec.encode(&b, "42");
        assert_eq!(codec.decode(&b, &token).unwrap(), "42");

        let other_op = Binding { operation: "DescribeTags", ..b };
        assert_eq!(codec.decode(&other_op, &token), Err(TokenError::Invalid));
        let s2 = scope("210987654321", "us-east-1");
        let other_account = Binding { scope: &s2, ..b };
        assert_eq!(codec.decode(&other_account, &token), Err(TokenError::Invalid));
        let fp2 = fingerprint([("Filter.1.Name", "cidr")]);
        let other_request = Binding { fingerprint: &fp2, ..b };
        assert_eq!(codec.decode(&other_request, &token), Err(TokenError::Invalid));
        let other_key = TokenCodec::new([8; 32]);
        assert_eq!(other_key.decode(&b, &token), Err(TokenError::Invalid));

        let forged = format!("{}.{}", URL_SAFE_NO_PAD.encode("43"), token.split_once('.').unwrap().1);
        assert_eq!(codec.decode(&b, &forged), Err(TokenError::Invalid));
        for garbage in ["", ".", "abc", "!!!.???", "NDI"] {
            assert_eq!(codec.decode(&b, garbage), Err(TokenError::Invalid), "{garbage}");
        }
    }

    #[test]
    fn fingerprints_ignore_order() {
        assert_eq!(fingerprint([("a", "1"), ("b", "2")]), fingerprint([("b", "2"), ("a", "1")]));
        assert_ne!(fingerprint([("a", "1"), ("b", "2")]), fingerprint([("a", "12")]));
    }

    #[test]
    fn hex_is_lower_case_two_digits_per_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa0, 0xff]), "000fa0ff");
        assert_eq!(fingerprint([("Filter.1.Name", "state")]).len(), 24);
    }

    #[test]
    fn sealed_tokens_open_only_for_their_purpose() {
        let c = TokenCodec::new([3; 32]);
        let t = c.seal("a", "payload|1");
        assert_eq!(c.open("a", &t).unwrap(), "payload|1");
        assert_eq!(c.open("b", &t), Err(TokenError::Invalid));
        assert_eq!(TokenCodec::new([4; 32]).open("a", &t), Err(TokenError::Invalid));
        let forged = format!("{}.{}", URL_SAFE_NO_PAD.encode("payload|2"), t.split_once('.').unwrap().1);
        assert_eq!(c.open("a", &forged), Err(TokenError::Invalid));
        assert_ne!(c.derive("x", "k"), c.derive("x", "l"));
        assert_eq!(c.derive("x", "k"), c.derive("x", "k"));
    }

    #[test]
    fn key_hex_round_trips() {
        let c = TokenCodec::new([0xab; 32]);
        assert_eq!(TokenCodec::from_key_hex(&c.key_hex()).unwrap().key, c.key);
        assert!(TokenCodec::from_key_hex("xyz").is_none());
    }

    proptest! {
        #[test]
        fn any_cursor_round_trips(cursor in ".{0,40}") {
            let codec = TokenCodec::new([1; 32]);
            let s = scope("123456789012", "eu-west-1");
            let b = Binding { operation: "Op", scope: &s, fingerprint: "f" };
            prop_assert_eq!(codec.decode(&b, &codec.encode(&b, &cursor)).unwrap(), cursor);
        }

        #[test]
        fn tampered_tokens_are_refused(cursor in "[0-9]{1,6}", flip in 0usize..64) {
            let codec = TokenCodec::new([1; 32]);
            let s = scope("123456789012", "eu-west-1");
            let b = Binding { operation: "Op", scope: &s, fingerprint: "f" };
            let token = codec.encode(&b, &cursor);
            let mut bytes = token.into_bytes();
            let i = flip % bytes.len();
            bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
            let tampered = String::from_utf8(bytes).unwrap();
            if let Ok(c) = codec.decode(&b, &tampered) {
                // Only an edit that decodes to the same bytes can pass (base64 padding bits).
                prop_assert_eq!(c, cursor);
            }
        }
    }
}
