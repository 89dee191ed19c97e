//! CIDR blocks as callers write them.
//!
//! One rule for host bits, in every operation that takes a CIDR: a block whose address
//! has host bits set is accepted and replaced by its canonical form, the network address
//! with the same prefix length. AWS documents this for `CreateVpc` ("We modify the
//! specified CIDR block to its canonical form; for example, if you specify
//! 100.68.0.18/18, we modify it to 100.68.0.0/18.") and `CreateSubnet`; Reservoir applies
//! it everywhere, so a block is stored, compared and answered only in canonical form.
//!
//! The text itself must be a CIDR: dotted-quad IPv4 (no leading zeros, no shortened
//! forms) or RFC 4291 IPv6, a `/`, and a prefix length within the family's bits. Filter
//! values are not CIDRs: they are matched as the text they are.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use ipnet::{Ipv4Net, Ipv6Net};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("'{0}' is not a valid CIDR block")]
    Malformed(String),
}

/// The address and the prefix length of `addr/len`, each parsed strictly (the standard
/// library's address parsers refuse leading zeros and shortened IPv4 forms).
fn split<A: FromStr>(text: &str, bits: u8) -> Result<(A, u8), CidrError> {
    let malformed = || CidrError::Malformed(text.to_string());
    let (addr, len) = text.split_once('/').ok_or_else(malformed)?;
    if len.is_empty()
        || len.len() > 3
        || !len.bytes().all(|b| b.is_ascii_digit())
        || (len.len() > 1 && len.starts_with('0'))
    {
        return Err(malformed());
    }
    let len: u8 = len.parse().map_err(|_| malformed())?;
    if len > bits {
        return Err(malformed());
    }
    Ok((addr.parse().map_err(|_| malformed())?, len))
}

/// An IPv4 CIDR block in canonical form.
pub fn parse_ipv4(text: &str) -> Result<Ipv4Net, CidrError> {
    let (addr, len) = split::<Ipv4Addr>(text, 32)?;
    Ipv4Net::new(addr, len).map(|n| n.trunc()).map_err(|_| CidrError::Malformed(text.to_string()))
}

/// An IPv6 CIDR block in canonical form.
pub fn parse_ipv6(text: &str) -> Result<Ipv6Net, CidrError> {
    let (addr, len) = split::<Ipv6Addr>(text, 128)?;
    Ipv6Net::new(addr, len).map(|n| n.trunc()).map_err(|_| CidrError::Malformed(text.to_string()))
}

/// The text of an IPv4 block (`10.0.0.0/16`). Equal to its `Display` form, without the
/// formatting machinery: listings write one per item.
pub fn ipv4_text(net: &Ipv4Net) -> String {
    let mut out = String::with_capacity(18);
    for (i, octet) in net.addr().octets().into_iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        push_decimal(&mut out, octet);
    }
    out.push('/');
    push_decimal(&mut out, net.prefix_len());
    out
}

fn push_decimal(out: &mut String, n: u8) {
    if n >= 100 {
        out.push(char::from(b'0' + n / 100));
    }
    if n >= 10 {
        out.push(char::from(b'0' + n / 10 % 10));
    }
    out.push(char::from(b'0' + n % 10));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn host_bits_are_cleared() {
        assert_eq!(parse_ipv4("100.68.0.18/18").unwrap().to_string(), "100.68.0.0/18");
        assert_eq!(parse_ipv4("10.0.0.0/16").unwrap().to_string(), "10.0.0.0/16");
        assert_eq!(parse_ipv4("10.1.2.3/32").unwrap().to_string(), "10.1.2.3/32");
        assert_eq!(parse_ipv4("10.1.2.3/0").unwrap().to_string(), "0.0.0.0/0");
        assert_eq!(parse_ipv6("2001:db8::1/56").unwrap().to_string(), "2001:db8::/56");
    }

    #[test]
    fn malformed_text_is_refused() {
        for bad in [
            "10.0.0.0",
            "10.0.0/16",
            "010.0.0.0/16",
            "10.0.0.0/33",
            "10.0.0.0/-1",
            "10.0.0.0/016",
            "10.0.0.0/",
            " 10.0.0.0/16",
            "10.0.0.0/16 ",
            "banana",
        ] {
            assert!(parse_ipv4(bad).is_err(), "{bad}");
        }
        assert!(parse_ipv4("2001:db8::/56").is_err());
        assert!(parse_ipv6("10.0.0.0/16").is_err());
        assert!(parse_ipv6("2001:db8::/129").is_err());
    }

    proptest! {
        #[test]
        fn canonical_form_is_the_network_and_contains_the_address(addr in any::<u32>(), prefix in 0u8..=32) {
            let ip = std::net::Ipv4Addr::from(addr);
            let net = parse_ipv4(&format!("{ip}/{prefix}")).unwrap();
            prop_assert_eq!(net.prefix_len(), prefix);
            prop_assert!(net.contains(&ip));
            prop_assert_eq!(net, net.trunc());
            // Canonical text parses to itself.
            prop_assert_eq!(parse_ipv4(&net.to_string()).unwrap(), net);
            prop_assert_eq!(ipv4_text(&net), net.to_string());
        }
    }
}
