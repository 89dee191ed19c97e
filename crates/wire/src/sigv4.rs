//! AWS Signature Version 4: reading who signed a request, and for which region and service.
//!
//! Reservoir routes on the credential scope (`AKID/20261122/us-east-1/ec2/aws4_request`):
//! its service picks the protocol, its region the state, its access key the account.
//! Verifying the signature itself is a separate layer; this module only parses, and
//! refuses an `Authorization` header that is not well-formed SigV4 (AWS answers
//! `IncompleteSignature` for those).

/// The credential scope of a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credential {
    pub access_key: String,
    /// `YYYYMMDD`
    pub date: String,
    pub region: String,
    pub service: String,
}

/// A parsed `Authorization: AWS4-HMAC-SHA256 …` header or presigned query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub credential: Credential,
    /// Lower-case header names, in the order the client listed them.
    pub signed_headers: Vec<String>,
    /// 64 lower-case hex digits.
    pub signature: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("Unsupported signature algorithm '{0}'. Reservoir accepts AWS4-HMAC-SHA256 (Signature Version 4).")]
    UnsupportedAlgorithm(String),
    #[error("Authorization header requires '{0}' parameter. Authorization={1}")]
    MissingComponent(&'static str, String),
    #[error(
        "Credential should be scoped to a valid region, service and date: '{0}' is not of the form ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request."
    )]
    MalformedCredential(String),
    #[error("The request signature is not well-formed: {0}")]
    Malformed(String),
}

pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// Parses an `Authorization` header value.
pub fn parse_authorization(header: &str) -> Result<Signature, SignatureError> {
    let header = header.trim();
    let (algorithm, rest) = header.split_once(' ').unwrap_or((header, ""));
    if algorithm != ALGORITHM {
        return Err(SignatureError::UnsupportedAlgorithm(algorithm.to_string()));
    }
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (k, v) =
            part.split_once('=').ok_or_else(|| SignatureError::Malformed(format!("'{part}' is not key=value")))?;
        match k.trim() {
            "Credential" => credential = Some(v.trim()),
            "SignedHeaders" => signed_headers = Some(v.trim()),
            "Signature" => signature = Some(v.trim()),
            _ => {}
        }
    }
    let credential = credential.ok_or_else(|| SignatureError::MissingComponent("Credential", header.to_string()))?;
    let signed_headers =
        signed_headers.ok_or_else(|| SignatureError::MissingComponent("SignedHeaders", header.to_string()))?;
    let signature = signature.ok_or_else(|| SignatureError::MissingComponent("Signature", header.to_string()))?;
    build(credential, signed_headers, signature)
}

/// Parses a presigned request's query parameters (`X-Amz-Algorithm`, `X-Amz-Credential`,
/// `X-Amz-SignedHeaders`, `X-Amz-Signature`); `None` when the request is not presigned.
pub fn parse_presigned(query: &[(String, String)]) -> Option<Result<Signature, SignatureError>> {
    let get = |name: &str| query.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let algorithm = get("X-Amz-Algorithm")?;
    if algorithm != ALGORITHM {
        return Some(Err(SignatureError::UnsupportedAlgorithm(algorithm.to_string())));
    }
    let missing = |name: &'static str| SignatureError::MissingComponent(name, "(presigned query)".to_string());
    let result = (|| {
        let credential = get("X-Amz-Credential").ok_or_else(|| missing("X-Amz-Credential"))?;
        let signed = get("X-Amz-SignedHeaders").ok_or_else(|| missing("X-Amz-SignedHeaders"))?;
        let signature = get("X-Amz-Signature").ok_or_else(|| missing("X-Amz-Signature"))?;
        build(credential, signed, signature)
    })();
    Some(result)
}

fn build(credential: &str, signed_headers: &str, signature: &str) -> Result<Signature, SignatureError> {
    let parts: Vec<&str> = credential.split('/').collect();
    let well_formed = parts.len() == 5
        && !parts[0].is_empty()
        && parts[1].len() == 8
        && parts[1].bytes().all(|b| b.is_ascii_digit())
        && !parts[2].is_empty()
        && !parts[3].is_empty()
        && parts[4] == "aws4_request";
    if !well_formed {
        return Err(SignatureError::MalformedCredential(credential.to_string()));
    }
    if signature.len() != 64 || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(SignatureError::Malformed("the signature must be 64 hexadecimal digits".into()));
    }
    let signed_headers: Vec<String> = signed_headers.split(';').map(|h| h.trim().to_ascii_lowercase()).collect();
    if signed_headers.iter().any(String::is_empty) {
        return Err(SignatureError::Malformed("SignedHeaders has an empty entry".into()));
    }
    Ok(Signature {
        credential: Credential {
            access_key: parts[0].to_string(),
            date: parts[1].to_string(),
            region: parts[2].to_string(),
            service: parts[3].to_string(),
        },
        signed_headers,
        signature: signature.to_ascii_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_botocore_header() {
        // The header boto3 1.43 sends for GetCoipPoolUsage.
        let h = "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=69d96258331fb0d53457fe8d9e98fc5e4edba2bf0a29128470650e01c6fa52cb";
        let s = parse_authorization(h).unwrap();
        assert_eq!(s.credential.access_key, "AKIDEXAMPLE");
        assert_eq!(s.credential.date, "20261122");
        assert_eq!(s.credential.region, "us-east-1");
        assert_eq!(s.credential.service, "ec2");
        assert_eq!(s.signed_headers, vec!["content-type", "host", "x-amz-date"]);
    }

    #[test]
    fn refuses_malformed_headers() {
        assert!(matches!(parse_authorization("AWS AKID:sig"), Err(SignatureError::UnsupportedAlgorithm(_))));
        assert!(matches!(
            parse_authorization("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00"),
            Err(SignatureError::MissingComponent("Credential", _))
        ));
        let sig = "0".repeat(64);
        assert!(matches!(
            parse_authorization(&format!(
                "AWS4-HMAC-SHA256 Credential=AKID/2026/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature={sig}"
            )),
            Err(SignatureError::MalformedCredential(_))
        ));
        assert!(matches!(
            parse_authorization(
                "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=xyz"
            ),
            Err(SignatureError::Malformed(_))
        ));
    }

    #[test]
    fn presigned() {
        let q = vec![
            ("X-Amz-Algorithm".to_string(), ALGORITHM.to_string()),
            ("X-Amz-Credential".to_string(), "123456789012/20261122/eu-west-1/ec2/aws4_request".to_string()),
            ("X-Amz-SignedHeaders".to_string(), "host".to_string()),
            ("X-Amz-Signature".to_string(), "a".repeat(64)),
        ];
        let s = parse_presigned(&q).unwrap().unwrap();
        assert_eq!(s.credential.region, "eu-west-1");
        assert!(parse_presigned(&[]).is_none());
    }
}
