//! DHCP options sets.
//!
//! Every (account, region) has a default set, which every VPC names until another set is
//! associated with it (Amazon VPC User Guide, "DHCP option sets"). User sets, their
//! rules and filters are below.

use serde::{Deserialize, Serialize};

use crate::ids::{Random, ResourceKind};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpOptions {
    pub id: String,
    pub is_default: bool,
}

impl DhcpOptions {
    /// The default set of a new (account, region).
    pub fn default_set(rng: &mut dyn Random) -> DhcpOptions {
        DhcpOptions { id: ResourceKind::DhcpOptions.new_id(rng), is_default: true }
    }
}

// ----- User DHCP option sets ---------------------------------------------------------
//
// `CreateDhcpOptions` / `DescribeDhcpOptions` / `AssociateDhcpOptions` /
// `DeleteDhcpOptions` (EC2 API reference, Amazon VPC User Guide "DHCP option sets"):
// * keys `domain-name` (one value, space-separated names allowed), `domain-name-servers`
//   (up to four IPv4 addresses, or `AmazonProvidedDNS`), `ntp-servers` (up to four IPv4
//   or IPv6 addresses), `netbios-name-servers` (up to four IPv4 addresses),
//   `netbios-node-type` (1, 2, 4 or 8) and `ipv6-address-preferred-lease-time` (140 to
//   2147483647 seconds); a key appears once;
// * a set is immutable; a VPC names one set (or `default`: none); a set in use by a VPC
//   cannot be deleted;
// * the scope's default set is `domain-name` `ec2.internal` in us-east-1 and
//   `<region>.compute.internal` elsewhere, with `AmazonProvidedDNS`.
//
// [`DhcpOptions`] above is the view the VPC family needs (id, default or not);
// [`DhcpOptionSet`] reads the same stored documents with their configurations.

use std::net::{IpAddr, Ipv4Addr};

use crate::filter::{FilterSchema, Filterable};
use crate::network::NetError;

/// The `DhcpOptionsId` that associates no options with a VPC.
pub const NO_OPTIONS: &str = "default";
pub const AMAZON_PROVIDED_DNS: &str = "AmazonProvidedDNS";
pub const MAX_SERVERS: usize = 4;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpConfiguration {
    pub key: String,
    pub values: Vec<String>,
}

/// A DHCP option set with its configurations (the same stored document as [`DhcpOptions`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DhcpOptionSet {
    pub id: String,
    pub is_default: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configurations: Vec<DhcpConfiguration>,
}

impl DhcpOptionSet {
    /// The configurations as answered: a default set's are derived from its region.
    pub fn effective(&self, region: &str) -> Vec<DhcpConfiguration> {
        if self.is_default && self.configurations.is_empty() {
            return default_configurations(region);
        }
        self.configurations.clone()
    }
}

/// The default set's options in `region`.
pub fn default_configurations(region: &str) -> Vec<DhcpConfiguration> {
    let domain = if region == "us-east-1" { "ec2.internal".to_string() } else { format!("{region}.compute.internal") };
    vec![
        DhcpConfiguration { key: "domain-name".into(), values: vec![domain] },
        DhcpConfiguration { key: "domain-name-servers".into(), values: vec![AMAZON_PROVIDED_DNS.into()] },
    ]
}

fn invalid(key: &str, value: &str) -> NetError {
    NetError::InvalidValue(format!("Value ({value}) for parameter {key} is invalid."))
}

/// Validates `CreateDhcpOptions`' configurations: (key, values) pairs as sent.
pub fn validate(configs: &[(Option<String>, Vec<String>)]) -> Result<Vec<DhcpConfiguration>, NetError> {
    if configs.is_empty() {
        return Err(NetError::Missing("The request must contain the parameter dhcpConfiguration".into()));
    }
    let mut out: Vec<DhcpConfiguration> = Vec::new();
    for (i, (key, values)) in configs.iter().enumerate() {
        let key = key.as_deref().ok_or_else(|| {
            NetError::Missing(format!("The request must contain the parameter DhcpConfiguration.{}.Key", i + 1))
        })?;
        if out.iter().any(|c| c.key == key) {
            return Err(NetError::InvalidValue(format!("The DHCP option '{key}' is specified more than once.")));
        }
        if values.is_empty() {
            return Err(NetError::InvalidValue(format!("The DHCP option '{key}' requires at least one value.")));
        }
        let single = || {
            if values.len() > 1 {
                Err(NetError::InvalidValue(format!("The DHCP option '{key}' takes one value.")))
            } else {
                Ok(())
            }
        };
        let at_most_four = || {
            if values.len() > MAX_SERVERS {
                Err(NetError::InvalidValue(format!(
                    "The DHCP option '{key}' takes at most {MAX_SERVERS} values; {} were given.",
                    values.len()
                )))
            } else {
                Ok(())
            }
        };
        match key {
            "domain-name" => {
                single()?;
                let v = &values[0];
                let ok = !v.trim().is_empty()
                    && v.len() <= 255
                    && v.split(' ').filter(|s| !s.is_empty()).all(|name| {
                        name.len() <= 255
                            && name.split('.').all(|label| {
                                !label.is_empty()
                                    && label.len() <= 63
                                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
                            })
                    });
                if !ok {
                    return Err(invalid(key, v));
                }
            }
            "domain-name-servers" => {
                at_most_four()?;
                for v in values {
                    if v != AMAZON_PROVIDED_DNS && v.parse::<Ipv4Addr>().is_err() {
                        return Err(invalid(key, v));
                    }
                }
            }
            "ntp-servers" => {
                at_most_four()?;
                for v in values {
                    if v.parse::<IpAddr>().is_err() {
                        return Err(invalid(key, v));
                    }
                }
            }
            "netbios-name-servers" => {
                at_most_four()?;
                for v in values {
                    if v.parse::<Ipv4Addr>().is_err() {
                        return Err(invalid(key, v));
                    }
                }
            }
            "netbios-node-type" => {
                single()?;
                if !["1", "2", "4", "8"].contains(&values[0].as_str()) {
                    return Err(invalid(key, &values[0]));
                }
            }
            "ipv6-address-preferred-lease-time" => {
                single()?;
                let ok = values[0].bytes().all(|b| b.is_ascii_digit())
                    && values[0].parse::<u64>().is_ok_and(|n| (140..=2_147_483_647).contains(&n));
                if !ok {
                    return Err(invalid(key, &values[0]));
                }
            }
            other => {
                return Err(NetError::InvalidValue(format!("The DHCP option '{other}' is not supported.")));
            }
        }
        let mut unique: Vec<String> = Vec::with_capacity(values.len());
        for v in values {
            if unique.contains(v) {
                return Err(NetError::InvalidValue(format!(
                    "The value '{v}' is given twice for the DHCP option '{key}'."
                )));
            }
            unique.push(v.clone());
        }
        out.push(DhcpConfiguration { key: key.to_string(), values: unique });
    }
    Ok(out)
}

/// A DHCP option set as `DescribeDhcpOptions` answers and filters it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DhcpView {
    pub id: String,
    pub owner: String,
    pub configurations: Vec<DhcpConfiguration>,
}

/// `DescribeDhcpOptions` filters (EC2 API reference).
pub const FILTERS: FilterSchema =
    FilterSchema { names: &["dhcp-options-id", "key", "value", "owner-id"], aliases: &[], tags: true };

impl Filterable for DhcpView {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "dhcp-options-id" => m(&self.id),
            "key" => self.configurations.iter().any(|c| m(&c.key)),
            "value" => self.configurations.iter().any(|c| c.values.iter().any(|v| m(v))),
            "owner-id" => m(&self.owner),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(key: &str, values: &[&str]) -> Result<Vec<DhcpConfiguration>, NetError> {
        validate(&[(Some(key.to_string()), values.iter().map(|v| v.to_string()).collect())])
    }

    #[test]
    fn option_rules() {
        assert!(one("domain-name", &["example.com"]).is_ok());
        assert!(one("domain-name", &["example.com corp.example.com"]).is_ok());
        assert!(one("domain-name", &["a", "b"]).is_err());
        assert!(one("domain-name", &["bad..name"]).is_err());
        assert!(one("domain-name-servers", &["AmazonProvidedDNS", "10.0.0.2"]).is_ok());
        assert!(one("domain-name-servers", &["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5"]).is_err());
        assert!(one("domain-name-servers", &["dns.example"]).is_err());
        assert!(one("ntp-servers", &["169.254.169.123", "fd00:ec2::123"]).is_ok());
        assert!(one("netbios-name-servers", &["10.0.0.1"]).is_ok());
        assert!(one("netbios-name-servers", &["::1"]).is_err());
        for t in ["1", "2", "4", "8"] {
            assert!(one("netbios-node-type", &[t]).is_ok());
        }
        assert!(one("netbios-node-type", &["3"]).is_err());
        assert!(one("ipv6-address-preferred-lease-time", &["140"]).is_ok());
        assert!(one("ipv6-address-preferred-lease-time", &["139"]).is_err());
        assert!(one("ipv6-address-preferred-lease-time", &["2147483648"]).is_err());
        assert!(one("colour", &["blue"]).is_err());
        assert!(one("ntp-servers", &[]).is_err());
        assert!(one("ntp-servers", &["10.0.0.1", "10.0.0.1"]).is_err());
        assert!(matches!(validate(&[]), Err(NetError::Missing(_))));
        let twice = validate(&[
            (Some("ntp-servers".into()), vec!["10.0.0.1".into()]),
            (Some("ntp-servers".into()), vec!["10.0.0.2".into()]),
        ]);
        assert!(twice.is_err());
    }

    #[test]
    fn default_set_by_region() {
        let d = DhcpOptionSet { id: "dopt-1".into(), is_default: true, configurations: vec![] };
        assert_eq!(d.effective("us-east-1")[0].values, ["ec2.internal"]);
        assert_eq!(d.effective("eu-west-1")[0].values, ["eu-west-1.compute.internal"]);
        assert_eq!(d.effective("eu-west-1")[1].values, ["AmazonProvidedDNS"]);
    }
}
