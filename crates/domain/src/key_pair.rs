//! EC2 key pairs: names, the keys `CreateKeyPair` makes, the public keys `ImportKeyPair`
//! reads, and fingerprints computed as AWS computes them ("Verify the fingerprint of your
//! key pair", EC2 User Guide):
//!
//! * a created RSA key: the SHA-1 of the private key's PKCS#8 DER, hex with colons;
//! * an imported RSA key: the MD5 of the public key's DER (SubjectPublicKeyInfo), hex
//!   with colons;
//! * an ED25519 key, created or imported: the SHA-256 of the OpenSSH public key blob,
//!   standard base64 *with* its padding and without OpenSSH's `SHA256:` prefix (what real
//!   EC2 answers, e.g. `odzmoB4gyxi1jn9vGD4c+bOpt1XUX1JUyaHaWHHCO2w=`).
//!
//! Created RSA keys are 2048 bits and answered as PKCS#1 PEM (`BEGIN RSA PRIVATE KEY`),
//! ED25519 keys in OpenSSH's private key format, as EC2 answers them. Reservoir keeps only
//! the public half, as EC2 does. Randomness is the caller's ([`Random`]).

use std::convert::Infallible;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use md5::Md5;
use rsa::pkcs1::{DecodeRsaPublicKey, EncodeRsaPrivateKey, LineEnding};
use rsa::pkcs8::{DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use rsa::sha2::Sha256;
use rsa::traits::PublicKeyParts;
use rsa::{BoxedUint, PrivateKey, PublicKey};
use serde::{Deserialize, Serialize};
use sha1::{Digest, Sha1};

use crate::filter::{FilterSchema, Filterable};
use crate::ids::{Random, ResourceKind};
use crate::time::Timestamp;

/// The longest key pair name (EC2: up to 255 ASCII characters).
pub const MAX_NAME_LEN: usize = 255;
/// The size of the RSA keys `CreateKeyPair` makes (EC2 makes 2048-bit keys).
pub const CREATED_RSA_BITS: usize = 2048;
/// The RSA modulus sizes `ImportKeyPair` accepts (EC2: 1024, 2048 and 4096 bits).
pub const IMPORTED_RSA_BITS: std::ops::RangeInclusive<usize> = 1024..=4096;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyType {
    Rsa,
    Ed25519,
}

impl KeyType {
    pub const fn as_str(self) -> &'static str {
        match self {
            KeyType::Rsa => "rsa",
            KeyType::Ed25519 => "ed25519",
        }
    }

    /// The OpenSSH key type name.
    const fn ssh_name(self) -> &'static str {
        match self {
            KeyType::Rsa => "ssh-rsa",
            KeyType::Ed25519 => "ssh-ed25519",
        }
    }
}

/// A stored key pair: its public half only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPair {
    pub id: String,
    pub name: String,
    pub key_type: KeyType,
    pub fingerprint: String,
    /// The OpenSSH public key blob, base64 (the middle word of an `authorized_keys` line).
    pub public_key: String,
    pub created: Timestamp,
}

impl KeyPair {
    /// The public key as `DescribeKeyPairs` shows it: an OpenSSH public key line, with the
    /// key pair's name as its comment.
    pub fn openssh_public_key(&self) -> String {
        format!("{} {} {}", self.key_type.ssh_name(), self.public_key, self.name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyPairError {
    /// `MissingParameter`.
    #[error("The request must contain the parameter {0}")]
    Missing(&'static str),
    /// `InvalidParameterValue`: a name that is empty, too long or not ASCII.
    #[error("Value ({0}) for parameter keyName is invalid. The key name must be 1 to 255 ASCII characters.")]
    InvalidName(String),
    /// `InvalidParameterValue`: another bad value (an unknown key type).
    #[error("{0}")]
    InvalidValue(String),
    /// `InvalidParameterCombination`.
    #[error("{0}")]
    Combination(String),
    /// `InvalidKeyPair.Duplicate`.
    #[error("The keypair '{0}' already exists.")]
    Duplicate(String),
    /// `InvalidKeyPair.NotFound`, naming the first key pair missing.
    #[error("The key pair '{}' does not exist", .0.first().map(String::as_str).unwrap_or_default())]
    NotFound(Vec<String>),
    /// `InvalidKey.Format`: public key material EC2 cannot read.
    #[error("Key is not in valid OpenSSH public key format")]
    Format,
    /// `InvalidKey.Format`: an RSA key of a size EC2 does not accept.
    #[error("Invalid RSA key length {0}: the supported lengths are 1024 to 4096 bits.")]
    RsaLength(usize),
    /// A key could not be made or encoded (a bug, answered as an internal error).
    #[error("{0}")]
    Internal(String),
}

/// Checks a key pair name: 1 to 255 ASCII characters.
pub fn check_name(name: &str) -> Result<(), KeyPairError> {
    if name.is_empty() || name.len() > MAX_NAME_LEN || !name.is_ascii() {
        return Err(KeyPairError::InvalidName(name.to_string()));
    }
    Ok(())
}

/// Checks the form of a key pair id (`key-` and 17 or 8 hex digits); an id of another
/// form names no key pair.
pub fn check_id(id: &str) -> Result<(), KeyPairError> {
    if ResourceKind::KeyPair.is_well_formed(id) { Ok(()) } else { Err(KeyPairError::NotFound(vec![id.to_string()])) }
}

/// A key pair `CreateKeyPair` made: the private key for the caller, the rest to keep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Made {
    /// The private key as the caller receives it (`KeyMaterial`).
    pub material: String,
    pub fingerprint: String,
    /// The OpenSSH public key blob, base64.
    pub public_key: String,
}

/// A public key `ImportKeyPair` read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub key_type: KeyType,
    pub fingerprint: String,
    /// The OpenSSH public key blob, base64.
    pub public_key: String,
}

/// The caller's randomness as the `rsa` crate takes it.
struct Rng<'a>(&'a mut dyn Random);

impl rsa::rand_core::TryRng for Rng<'_> {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        let mut b = [0u8; 4];
        self.0.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        let mut b = [0u8; 8];
        self.0.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        self.0.fill(dst);
        Ok(())
    }
}

impl rsa::rand_core::TryCryptoRng for Rng<'_> {}

fn internal(e: impl std::fmt::Display) -> KeyPairError {
    KeyPairError::Internal(format!("key pair encoding: {e}"))
}

/// A new key pair of `key_type`. An RSA key takes tens of milliseconds to a second to
/// make: callers run this outside any transaction.
pub fn make(key_type: KeyType, rng: &mut dyn Random) -> Result<Made, KeyPairError> {
    match key_type {
        KeyType::Rsa => {
            let key = PrivateKey::new(&mut Rng(rng), CREATED_RSA_BITS).map_err(internal)?;
            created_rsa(&key)
        }
        KeyType::Ed25519 => {
            let mut seed = [0u8; 32];
            rng.fill(&mut seed);
            let mut check = [0u8; 4];
            rng.fill(&mut check);
            Ok(created_ed25519(&seed, u32::from_be_bytes(check)))
        }
    }
}

/// What `CreateKeyPair` answers for an RSA private key.
pub fn created_rsa(key: &PrivateKey) -> Result<Made, KeyPairError> {
    let pem = key.to_pkcs1_pem(LineEnding::LF).map_err(internal)?;
    let pkcs8 = key.to_pkcs8_der().map_err(internal)?;
    Ok(Made {
        // EC2's key material ends at the END line, without a newline.
        material: pem.trim_end().to_string(),
        fingerprint: hex_colons(&Sha1::digest(pkcs8.as_bytes())),
        public_key: STANDARD.encode(rsa_blob(&key.to_public_key())),
    })
}

/// What `CreateKeyPair` answers for an ED25519 key of `seed` (OpenSSH's private key
/// format, unencrypted, with `check` as its check integer and an empty comment).
pub fn created_ed25519(seed: &[u8; 32], check: u32) -> Made {
    let public = ed25519_dalek::SigningKey::from_bytes(seed).verifying_key().to_bytes();
    let blob = ed25519_blob(&public);
    let mut private = Vec::new();
    private.extend_from_slice(&check.to_be_bytes());
    private.extend_from_slice(&check.to_be_bytes());
    put_string(&mut private, b"ssh-ed25519");
    put_string(&mut private, &public);
    let mut secret = seed.to_vec();
    secret.extend_from_slice(&public);
    put_string(&mut private, &secret);
    put_string(&mut private, b"");
    let mut pad = 1u8;
    while !private.len().is_multiple_of(8) {
        private.push(pad);
        pad += 1;
    }
    let mut out = b"openssh-key-v1\0".to_vec();
    put_string(&mut out, b"none");
    put_string(&mut out, b"none");
    put_string(&mut out, b"");
    out.extend_from_slice(&1u32.to_be_bytes());
    put_string(&mut out, &blob);
    put_string(&mut out, &private);
    let body = STANDARD.encode(&out);
    let mut material = String::from("-----BEGIN OPENSSH PRIVATE KEY-----\n");
    for line in body.as_bytes().chunks(70) {
        material.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        material.push('\n');
    }
    material.push_str("-----END OPENSSH PRIVATE KEY-----\n");
    Made { material, fingerprint: ed25519_fingerprint(&blob), public_key: STANDARD.encode(&blob) }
}

/// Reads `ImportKeyPair`'s public key material: an OpenSSH public key line (`ssh-rsa …`,
/// `ssh-ed25519 …`), an RFC 4716 block (`---- BEGIN SSH2 PUBLIC KEY ----`), or an RSA
/// public key as PEM (`BEGIN PUBLIC KEY`, `BEGIN RSA PUBLIC KEY`), as base64 DER, or as
/// DER. RSA keys must be 1024–4096 bits.
pub fn import(material: &[u8]) -> Result<Imported, KeyPairError> {
    if let Ok(text) = std::str::from_utf8(material) {
        let text = text.trim();
        if text.starts_with("---- BEGIN SSH2 PUBLIC KEY ----") {
            return import_blob(&decode_b64(&rfc4716_body(text)?)?);
        }
        if text.starts_with("-----BEGIN PUBLIC KEY-----") {
            return import_rsa(PublicKey::from_public_key_pem(text).map_err(|_| KeyPairError::Format)?);
        }
        if text.starts_with("-----BEGIN RSA PUBLIC KEY-----") {
            return import_rsa(PublicKey::from_pkcs1_pem(text).map_err(|_| KeyPairError::Format)?);
        }
        let mut words = text.split_ascii_whitespace();
        if let (Some(kind), Some(b64)) = (words.next(), words.next())
            && (kind == "ssh-rsa" || kind == "ssh-ed25519")
        {
            let blob = decode_b64(b64)?;
            let imported = import_blob(&blob)?;
            if imported.key_type.ssh_name() != kind {
                return Err(KeyPairError::Format);
            }
            return Ok(imported);
        }
        if !text.is_empty()
            && !text.contains(char::is_whitespace)
            && let Ok(der) = STANDARD.decode(text)
        {
            return import_rsa(PublicKey::from_public_key_der(&der).map_err(|_| KeyPairError::Format)?);
        }
    }
    import_rsa(PublicKey::from_public_key_der(material).map_err(|_| KeyPairError::Format)?)
}

fn decode_b64(text: &str) -> Result<Vec<u8>, KeyPairError> {
    STANDARD.decode(text).map_err(|_| KeyPairError::Format)
}

/// The base64 body of an RFC 4716 block, without its headers.
fn rfc4716_body(text: &str) -> Result<String, KeyPairError> {
    let mut lines = text.lines().map(str::trim);
    lines.next();
    let mut body = String::new();
    let mut continued = false;
    for line in lines {
        if line.starts_with("---- END SSH2 PUBLIC KEY ----") {
            return Ok(body);
        }
        if continued || line.contains(':') {
            continued = line.ends_with('\\');
            continue;
        }
        body.push_str(line);
    }
    Err(KeyPairError::Format)
}

/// An OpenSSH public key blob: `string type`, then `mpint e, mpint n` or `string key`.
fn import_blob(blob: &[u8]) -> Result<Imported, KeyPairError> {
    let mut r = Reader(blob);
    let kind = r.string()?;
    match kind {
        b"ssh-rsa" => {
            let e = r.string()?;
            let n = r.string()?;
            r.end()?;
            let key = PublicKey::new(
                BoxedUint::from_be_slice_vartime(n.strip_prefix(&[0]).unwrap_or(n)),
                BoxedUint::from_be_slice_vartime(e),
            )
            .map_err(|_| KeyPairError::Format)?;
            import_rsa(key)
        }
        b"ssh-ed25519" => {
            let key: [u8; 32] = r.string()?.try_into().map_err(|_| KeyPairError::Format)?;
            r.end()?;
            ed25519_dalek::VerifyingKey::from_bytes(&key).map_err(|_| KeyPairError::Format)?;
            let blob = ed25519_blob(&key);
            Ok(Imported {
                key_type: KeyType::Ed25519,
                fingerprint: ed25519_fingerprint(&blob),
                public_key: STANDARD.encode(&blob),
            })
        }
        _ => Err(KeyPairError::Format),
    }
}

fn import_rsa(key: PublicKey) -> Result<Imported, KeyPairError> {
    let bits = key.n().bit_width() as usize;
    if !IMPORTED_RSA_BITS.contains(&bits) {
        return Err(KeyPairError::RsaLength(bits));
    }
    Ok(Imported {
        key_type: KeyType::Rsa,
        fingerprint: imported_rsa_fingerprint(&key)?,
        public_key: STANDARD.encode(rsa_blob(&key)),
    })
}

/// The MD5 of the public key's SubjectPublicKeyInfo DER, hex with colons.
pub fn imported_rsa_fingerprint(key: &PublicKey) -> Result<String, KeyPairError> {
    let der = key.to_public_key_der().map_err(internal)?;
    Ok(hex_colons(&Md5::digest(der.as_bytes())))
}

/// The SHA-256 of an OpenSSH public key blob, padded standard base64.
pub fn ed25519_fingerprint(blob: &[u8]) -> String {
    STANDARD.encode(Sha256::digest(blob))
}

fn hex_colons(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
}

fn put_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u32).to_be_bytes());
    out.extend_from_slice(s);
}

/// An unsigned SSH `mpint`: big-endian, a leading zero when the top bit is set.
fn put_mpint(out: &mut Vec<u8>, be: &[u8]) {
    let trimmed: &[u8] = {
        let start = be.iter().position(|&b| b != 0).unwrap_or(be.len());
        &be[start..]
    };
    if trimmed.first().is_some_and(|b| b & 0x80 != 0) {
        out.extend_from_slice(&(trimmed.len() as u32 + 1).to_be_bytes());
        out.push(0);
        out.extend_from_slice(trimmed);
    } else {
        put_string(out, trimmed);
    }
}

fn rsa_blob(key: &PublicKey) -> Vec<u8> {
    let mut out = Vec::new();
    put_string(&mut out, b"ssh-rsa");
    put_mpint(&mut out, &key.e_bytes());
    put_mpint(&mut out, &key.n_bytes());
    out
}

fn ed25519_blob(public: &[u8; 32]) -> Vec<u8> {
    let mut out = Vec::new();
    put_string(&mut out, b"ssh-ed25519");
    put_string(&mut out, public);
    out
}

/// Reads SSH wire strings.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn string(&mut self) -> Result<&'a [u8], KeyPairError> {
        let (len, rest) = self.0.split_first_chunk::<4>().ok_or(KeyPairError::Format)?;
        let len = u32::from_be_bytes(*len) as usize;
        if rest.len() < len {
            return Err(KeyPairError::Format);
        }
        let (s, rest) = rest.split_at(len);
        self.0 = rest;
        Ok(s)
    }

    fn end(&self) -> Result<(), KeyPairError> {
        if self.0.is_empty() { Ok(()) } else { Err(KeyPairError::Format) }
    }
}

/// `DescribeKeyPairs` filters (EC2 API reference).
pub const FILTERS: FilterSchema =
    FilterSchema { names: &["key-pair-id", "fingerprint", "key-name", "key-type"], aliases: &[], tags: true };

impl Filterable for KeyPair {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "key-pair-id" => m(&self.id),
            "fingerprint" => m(&self.fingerprint),
            "key-name" => m(&self.name),
            "key-type" => m(self.key_type.as_str()),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use rsa::pkcs1::DecodeRsaPrivateKey;

    use super::*;
    use crate::ids::SeededRandom;

    // Made with `ssh-keygen -t rsa -b 1024 -m PEM -f k -N '' -C ''` (OpenSSH 9, OpenSSL 3.0).
    const RSA_PRIVATE: &str = "-----BEGIN RSA PRIVATE KEY-----
MIICWwIBAAKBgQC360lIAILJmX5rJNV2VNGO49Qe2KwH5uIIsr4W1AaYN+tJdbbY
Y/8MI+SEF9Ug4DWytzk+hEQD9x3zOjhqS/bH3SwFoSGrjMWTnm0VCgK/OEwfgEm3
IIWRYeJspu30BIlMmXGX/YMUtWRlACbshGSSi/aUYuXTeNC5NDr5Bo9IEwIDAQAB
AoGABTP0yMKq8IUVHHbYSxavLvmnAJBknXycnF5iHkc1QI0kbNmVqJ17k55YUpxR
/TIaksm4JtqbCfmtsTnOasNnYce+Dl0f50H/BqTDS/kzeE+n8tP1VMsQDscBHtYb
XEWlDB5G5RMrPOfhl4e6truUE7C2zI2Hdmin1aqW8sl+ODECQQDtpuU7eBsuxVTM
lBQIdcumMlFIuPNHYghT72XECtMZjVHVNZY8isW8t3vymQq8LowU8rFDVBEcsMjo
d8LC3a1fAkEAxh5haGMXJaANsUThdIKGVQid5uemzAqz/R4hOmcUoMqUZ5S+XK5J
keAUx6by3RZeLKkhxCiNC3PYw4fseAZtzQJAM70uEvBnGpujhpaGdgEPQTObNrXt
YREatwtboH6qztlRg5WTC8M6oYdg2MQw7h9EKBteNEZNI23pj5LjOAGDCQJAFGlM
39RVriqvPnQ6RiascFZS7lcveBYiNRHFmp7EIUy9vW41rpbGPaE4gtlQbDbBvRgv
wmXrIiLtUjfOxQ7kgQJATHLscGAAhLMD4vzpe+IR5MS5DIQ/dBQ5q2CTntE91Giq
ZwygaXDiQJ/2m5JzN8Qo8318WofB5HcLWHsy5tt0yw==
-----END RSA PRIVATE KEY-----";
    /// `openssl pkcs8 -in k -inform PEM -outform DER -topk8 -nocrypt | openssl sha1 -c`
    const RSA_CREATED_FINGERPRINT: &str = "50:27:db:11:16:22:1f:da:30:1a:04:bc:46:99:be:42:a8:56:45:08";
    /// `openssl rsa -in k -pubout -outform DER | openssl md5 -c`
    const RSA_IMPORTED_FINGERPRINT: &str = "a0:4e:fb:08:ef:ea:d5:2d:f0:0b:25:bc:9b:17:72:5f";
    /// `k.pub`
    const RSA_PUBLIC: &str = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQC360lIAILJmX5rJNV2VNGO49Qe2KwH5uIIsr4W1AaYN+tJdbbYY/8MI+SEF9Ug4DWytzk+hEQD9x3zOjhqS/bH3SwFoSGrjMWTnm0VCgK/OEwfgEm3IIWRYeJspu30BIlMmXGX/YMUtWRlACbshGSSi/aUYuXTeNC5NDr5Bo9IEw== ";
    /// `openssl rsa -in k -pubout`
    const RSA_PUBLIC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQC360lIAILJmX5rJNV2VNGO49Qe
2KwH5uIIsr4W1AaYN+tJdbbYY/8MI+SEF9Ug4DWytzk+hEQD9x3zOjhqS/bH3SwF
oSGrjMWTnm0VCgK/OEwfgEm3IIWRYeJspu30BIlMmXGX/YMUtWRlACbshGSSi/aU
YuXTeNC5NDr5Bo9IEwIDAQAB
-----END PUBLIC KEY-----";

    // Made with `ssh-keygen -t ed25519 -f e -N '' -C ''`.
    const ED25519_PRIVATE: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACBF6gxqdW5YzTrtnZVY190Cremh5qrT0oeWPJvq0JtmnQAAAIhuNMywbjTM
sAAAAAtzc2gtZWQyNTUxOQAAACBF6gxqdW5YzTrtnZVY190Cremh5qrT0oeWPJvq0JtmnQ
AAAEBTgPqUyUgzZz/4WF731KkFjZhDUWgL2fzk+hCO/54W7kXqDGp1bljNOu2dlVjX3QKt
6aHmqtPSh5Y8m+rQm2adAAAAAAECAwQF
-----END OPENSSH PRIVATE KEY-----
";
    const ED25519_PUBLIC: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEXqDGp1bljNOu2dlVjX3QKt6aHmqtPSh5Y8m+rQm2ad ";
    /// `ssh-keygen -l -f e.pub`: `SHA256:+znQBCXU97GD6jDxQ9I0jZGl9jivQEfyOzmdpeGNu9Q`, padded.
    const ED25519_FINGERPRINT: &str = "+znQBCXU97GD6jDxQ9I0jZGl9jivQEfyOzmdpeGNu9Q=";
    /// The seed and check integer inside `ED25519_PRIVATE`.
    const ED25519_SEED: &str = "5380fa94c94833673ff8585ef7d4a9058d984351680bd9fce4fa108eff9e16ee";
    const ED25519_CHECK: u32 = 0x6e34_ccb0;

    fn seed() -> [u8; 32] {
        let mut s = [0u8; 32];
        for (i, b) in s.iter_mut().enumerate() {
            *b = u8::from_str_radix(&ED25519_SEED[2 * i..2 * i + 2], 16).unwrap();
        }
        s
    }

    #[test]
    fn created_rsa_keys_have_the_sha1_of_their_pkcs8_der_and_pkcs1_pem() {
        let key = PrivateKey::from_pkcs1_pem(RSA_PRIVATE).unwrap();
        let made = created_rsa(&key).unwrap();
        assert_eq!(made.fingerprint, RSA_CREATED_FINGERPRINT);
        assert_eq!(made.material, RSA_PRIVATE, "PKCS#1 PEM, as ssh-keygen -m PEM writes it");
        assert_eq!(format!("ssh-rsa {} ", made.public_key), RSA_PUBLIC);
    }

    #[test]
    fn imported_rsa_keys_have_the_md5_of_their_public_der() {
        for material in [RSA_PUBLIC, RSA_PUBLIC.trim(), RSA_PUBLIC_PEM] {
            let i = import(material.as_bytes()).unwrap();
            assert_eq!((i.key_type, i.fingerprint.as_str()), (KeyType::Rsa, RSA_IMPORTED_FINGERPRINT), "{material}");
            assert_eq!(format!("ssh-rsa {} ", i.public_key), RSA_PUBLIC);
        }
        let pem_body: String = RSA_PUBLIC_PEM.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD.decode(&pem_body).unwrap();
        assert_eq!(import(&der).unwrap().fingerprint, RSA_IMPORTED_FINGERPRINT, "DER");
        assert_eq!(import(pem_body.as_bytes()).unwrap().fingerprint, RSA_IMPORTED_FINGERPRINT, "base64 DER");
        let rfc4716 = format!(
            "---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"a \\\n  b\"\n{}\n---- END SSH2 PUBLIC KEY ----\n",
            RSA_PUBLIC.split(' ').nth(1).unwrap()
        );
        assert_eq!(import(rfc4716.as_bytes()).unwrap().fingerprint, RSA_IMPORTED_FINGERPRINT, "RFC 4716");
    }

    #[test]
    fn created_ed25519_keys_are_openssh_private_keys() {
        let made = created_ed25519(&seed(), ED25519_CHECK);
        assert_eq!(made.material, ED25519_PRIVATE, "byte for byte what ssh-keygen writes");
        assert_eq!(made.fingerprint, ED25519_FINGERPRINT);
        assert_eq!(format!("ssh-ed25519 {} ", made.public_key), ED25519_PUBLIC);
    }

    #[test]
    fn imported_ed25519_keys_have_the_sha256_of_their_blob() {
        let i = import(format!("{ED25519_PUBLIC}me@host\n").as_bytes()).unwrap();
        assert_eq!((i.key_type, i.fingerprint.as_str()), (KeyType::Ed25519, ED25519_FINGERPRINT));
    }

    #[test]
    fn made_keys_are_of_their_type() {
        let mut rng = SeededRandom::new(3);
        let rsa = make(KeyType::Rsa, &mut rng).unwrap();
        assert!(rsa.material.starts_with("-----BEGIN RSA PRIVATE KEY-----\n"));
        let key = PrivateKey::from_pkcs1_pem(&rsa.material).unwrap();
        assert_eq!(key.n().bit_width() as usize, CREATED_RSA_BITS);
        assert_eq!(rsa.fingerprint.len(), 59);
        let ed = make(KeyType::Ed25519, &mut rng).unwrap();
        assert!(ed.material.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----\n"));
        assert_eq!(ed.fingerprint.len(), 44);
    }

    #[test]
    fn malformed_or_unsupported_public_keys_are_refused() {
        let short = ED25519_PUBLIC.replace("AAAAIEXq", "AAAAHEXq");
        let ecdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBC4gXA5naQtjcKu90NJ7A4jQ1UgxYGdnndJyr4PSZJ59qJUzkoH3VgdTlseXbIZHwO4k2gNcFpaMq5gqVRobAwU=";
        let mislabelled = ED25519_PUBLIC.replace("ssh-ed25519", "ssh-rsa");
        for bad in ["", "hello", "ssh-rsa !!!", short.as_str(), ecdsa, mislabelled.as_str()] {
            assert_eq!(import(bad.as_bytes()), Err(KeyPairError::Format), "{bad}");
        }
        // An RSA key of 512 bits: refused for its size.
        let mut blob = Vec::new();
        put_string(&mut blob, b"ssh-rsa");
        put_mpint(&mut blob, &[1, 0, 1]);
        put_mpint(&mut blob, &[0xc1; 64]);
        let line = format!("ssh-rsa {}", STANDARD.encode(&blob));
        assert!(matches!(import(line.as_bytes()), Err(KeyPairError::Format | KeyPairError::RsaLength(_))));
    }

    #[test]
    fn names_are_1_to_255_ascii_characters() {
        assert!(check_name("my-key pair_1.@").is_ok());
        assert!(check_name(&"k".repeat(255)).is_ok());
        for bad in [String::new(), "k".repeat(256), "clé".to_string()] {
            assert_eq!(check_name(&bad), Err(KeyPairError::InvalidName(bad.clone())));
        }
        assert!(check_id("key-0123456789abcdef0").is_ok());
        assert!(check_id("key-nope").is_err());
    }
}
