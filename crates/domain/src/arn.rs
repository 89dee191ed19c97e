//! Amazon Resource Names: `arn:<partition>:<service>:<region>:<account>:<resource>`.
//!
//! Some ARNs have no region (IPAM's: `arn:aws:ec2::123456789012:ipam-pool/ipam-pool-…`),
//! some no account; both are empty fields, never omitted ones.

use std::fmt;

use crate::account::AccountId;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    /// Empty for global resources.
    pub region: String,
    /// Empty for resources without an owner account.
    pub account: String,
    /// `ipam-pool/ipam-pool-0533048da7d823723`, `resource-share/<uuid>`, …
    pub resource: String,
}

impl Arn {
    /// An ARN in the `aws` partition.
    pub fn new(service: &str, region: &str, account: &AccountId, resource: impl Into<String>) -> Arn {
        Arn {
            partition: "aws".into(),
            service: service.into(),
            region: region.into(),
            account: account.to_string(),
            resource: resource.into(),
        }
    }

    /// Parses an ARN; the resource part may itself contain `:` and `/`.
    pub fn parse(text: &str) -> Option<Arn> {
        let mut parts = text.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let partition = parts.next()?;
        let service = parts.next()?;
        let region = parts.next()?;
        let account = parts.next()?;
        let resource = parts.next()?;
        if partition.is_empty() || service.is_empty() || resource.is_empty() {
            return None;
        }
        if !account.is_empty() && AccountId::parse(account).is_none() {
            return None;
        }
        Some(Arn {
            partition: partition.into(),
            service: service.into(),
            region: region.into(),
            account: account.into(),
            resource: resource.into(),
        })
    }
}

impl fmt::Display for Arn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "arn:{}:{}:{}:{}:{}", self.partition, self.service, self.region, self.account, self.resource)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn formats_and_parses() {
        let acct = AccountId::parse("123456789012").unwrap();
        let ipam = Arn::new("ec2", "", &acct, "ipam-pool/ipam-pool-0533048da7d823723");
        assert_eq!(ipam.to_string(), "arn:aws:ec2::123456789012:ipam-pool/ipam-pool-0533048da7d823723");
        let cr = Arn::new("ec2", "us-east-1", &acct, "capacity-reservation/cr-0123456789abcdef0");
        assert_eq!(Arn::parse(&cr.to_string()), Some(cr));
        let oidc = Arn::parse("arn:aws:iam::123456789012:oidc-provider/id.example.com/x:y").unwrap();
        assert_eq!(oidc.resource, "oidc-provider/id.example.com/x:y");
        for bad in
            ["", "arn:aws", "nope:aws:ec2::123456789012:x", "arn:aws:ec2::12:x", "arn:aws:ec2:us-east-1:123456789012:"]
        {
            assert_eq!(Arn::parse(bad), None, "{bad}");
        }
    }

    proptest! {
        #[test]
        fn display_then_parse_round_trips(
            service in "[a-z0-9-]{1,12}",
            region in "([a-z]{2}-[a-z]+-[0-9])?",
            resource in "[a-zA-Z0-9/:._-]{1,40}",
        ) {
            let arn = Arn::new(&service, &region, &AccountId::parse("111122223333").unwrap(), resource);
            prop_assert_eq!(Arn::parse(&arn.to_string()), Some(arn));
        }
    }
}
