//! Which AWS service a request is for, and in which region.
//!
//! All services share one endpoint (clients set `endpoint_url`), so the service is read
//! off the request, in this order:
//! 1. `X-Amz-Target: AWSCognitoIdentityService.*` → Cognito Identity (this covers its
//!    unsigned operations such as `GetId`);
//! 2. the SigV4 credential scope's service (`…/us-east-1/ec2/aws4_request`);
//! 3. the host name, when the server is addressed as `ec2.<region>.amazonaws.com`;
//! 4. for unsigned requests: an `Action=` form → EC2, a path under `/identitypools` →
//!    Cognito Sync, a path that is one of RAM's operation paths → RAM.

use crate::sigv4::Signature;

/// The services Reservoir speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Service {
    Ec2,
    CognitoIdentity,
    CognitoSync,
    Ram,
    /// A signing name Reservoir does not serve.
    Other(String),
}

impl Service {
    /// The SigV4 signing name.
    pub fn signing_name(&self) -> &str {
        match self {
            Service::Ec2 => "ec2",
            Service::CognitoIdentity => "cognito-identity",
            Service::CognitoSync => "cognito-sync",
            Service::Ram => "ram",
            Service::Other(name) => name,
        }
    }

    pub fn from_signing_name(name: &str) -> Service {
        match name {
            "ec2" => Service::Ec2,
            "cognito-identity" => Service::CognitoIdentity,
            "cognito-sync" => Service::CognitoSync,
            "ram" => Service::Ram,
            other => Service::Other(other.to_string()),
        }
    }

    /// Whether errors for this service are JSON (else EC2 XML).
    pub fn is_json(&self) -> bool {
        matches!(self, Service::CognitoIdentity | Service::CognitoSync | Service::Ram)
    }
}

/// The signing names Reservoir serves, for messages and the health endpoint.
pub const SERVED: &[&str] = &["ec2", "cognito-identity", "cognito-sync", "ram"];

/// The parts of a request that routing looks at.
#[derive(Debug, Default)]
pub struct RequestHead<'a> {
    pub path: &'a str,
    pub host: Option<&'a str>,
    pub target: Option<&'a str>,
    pub content_type: Option<&'a str>,
    pub signature: Option<&'a Signature>,
    /// Whether the form body or query string has an `Action` parameter.
    pub has_action_param: bool,
    /// RAM's operation paths (`/createresourceshare`, …), from the generated route table.
    pub ram_paths: &'a [String],
}

/// Picks the service (see the module docs for the order).
pub fn identify(head: &RequestHead<'_>) -> Option<Service> {
    if head.target.is_some_and(|t| t.starts_with("AWSCognitoIdentityService.")) {
        return Some(Service::CognitoIdentity);
    }
    if let Some(sig) = head.signature {
        return Some(Service::from_signing_name(&sig.credential.service));
    }
    if let Some((service, _)) = head.host.and_then(host_service_region) {
        return Some(service);
    }
    if head.has_action_param {
        return Some(Service::Ec2);
    }
    let path = head.path.trim_end_matches('/');
    if path == "/identitypools" || path.starts_with("/identitypools/") {
        return Some(Service::CognitoSync);
    }
    if head.ram_paths.iter().any(|p| p == path) {
        return Some(Service::Ram);
    }
    if head.content_type.is_some_and(|c| c.starts_with("application/x-www-form-urlencoded")) {
        return Some(Service::Ec2);
    }
    None
}

/// `ec2.us-east-1.amazonaws.com[:port]` → (EC2, `us-east-1`).
pub fn host_service_region(host: &str) -> Option<(Service, String)> {
    let host = host.split(':').next()?;
    let rest = host.strip_suffix(".amazonaws.com").or_else(|| host.strip_suffix(".amazonaws.com.cn"))?;
    let (service, region) = rest.split_once('.')?;
    let service = Service::from_signing_name(service);
    if matches!(service, Service::Other(_)) || region.is_empty() || region.contains('.') {
        return None;
    }
    Some((service, region.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigv4::parse_authorization;

    #[test]
    fn order_of_evidence() {
        let sig = parse_authorization(&format!(
            "AWS4-HMAC-SHA256 Credential=AKID/20261122/us-east-1/cognito-sync/aws4_request, SignedHeaders=host, Signature={}",
            "0".repeat(64)
        ))
        .unwrap();
        let head = RequestHead { target: Some("AWSCognitoIdentityService.GetId"), ..Default::default() };
        assert_eq!(identify(&head), Some(Service::CognitoIdentity));
        let head = RequestHead { signature: Some(&sig), path: "/identitypools", ..Default::default() };
        assert_eq!(identify(&head), Some(Service::CognitoSync));
        let head = RequestHead { has_action_param: true, ..Default::default() };
        assert_eq!(identify(&head), Some(Service::Ec2));
        let head = RequestHead { path: "/identitypools/us-east-1%3Aabc", ..Default::default() };
        assert_eq!(identify(&head), Some(Service::CognitoSync));
        let ram = ["/createresourceshare".to_string()];
        let head = RequestHead { path: "/createresourceshare", ram_paths: &ram, ..Default::default() };
        assert_eq!(identify(&head), Some(Service::Ram));
        let head = RequestHead { host: Some("ec2.eu-west-1.amazonaws.com"), ..Default::default() };
        assert_eq!(identify(&head), Some(Service::Ec2));
        assert_eq!(identify(&RequestHead::default()), None);
    }

    #[test]
    fn hosts() {
        assert_eq!(host_service_region("ec2.us-west-2.amazonaws.com:443"), Some((Service::Ec2, "us-west-2".into())));
        assert_eq!(host_service_region("localhost:4566"), None);
        assert_eq!(host_service_region("s3.us-west-2.amazonaws.com"), None);
    }
}
