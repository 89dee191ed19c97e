//! Rust identifiers for AWS model names.

/// `CidrBlockAssociationSet` → `cidr_block_association_set`; acronyms stay together:
/// `SAMLProviderARNs` → `saml_provider_arns`, `CoIp` → `co_ip`, `Ipv6Pool` → `ipv6_pool`.
pub fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_ascii_uppercase() {
            let prev = if i > 0 { Some(chars[i - 1]) } else { None };
            let next = chars.get(i + 1).copied();
            // A plural "s" closing an acronym ("ARNs") belongs to the acronym.
            let next_is_acronym_plural = next == Some('s') && chars.get(i + 2).is_none_or(|c| c.is_ascii_uppercase());
            let boundary = match prev {
                None => false,
                Some(p) if p.is_ascii_lowercase() || p.is_ascii_digit() => true,
                Some(p) if p.is_ascii_uppercase() => {
                    next.is_some_and(|n| n.is_ascii_lowercase()) && !next_is_acronym_plural
                }
                _ => false,
            };
            if boundary && !out.ends_with('_') {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') && !out.is_empty() {
            out.push('_');
        }
    }
    let out = out.trim_end_matches('_').to_string();
    if is_keyword(&out) { format!("r#{out}") } else { out }
}

/// An enum value (`Linux/UNIX`, `t2.medium`, `capacity-reservations-only`) as a
/// PascalCase variant name (`LinuxUnix`, `T2Medium`, `CapacityReservationsOnly`).
pub fn variant_name(value: &str) -> String {
    let mut out = String::new();
    for segment in value.split(|c: char| !c.is_ascii_alphanumeric()).filter(|s| !s.is_empty()) {
        // Split camelCase inside a segment too ("ipamPool" → "IpamPool"), but keep
        // all-caps runs as one word with only the first letter upper-case ("UNIX" → "Unix").
        let all_caps = segment.chars().all(|c| !c.is_ascii_lowercase());
        let mut first = true;
        for c in segment.chars() {
            if first {
                out.push(c.to_ascii_uppercase());
                first = false;
            } else if all_caps {
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'V');
    }
    // `Self` cannot be a variant, even as a raw identifier (RAM's `ResourceOwner`).
    if out == "Self" {
        out.push_str("Value");
    }
    out
}

fn is_keyword(s: &str) -> bool {
    matches!(
        s,
        "as" | "break"
            | "const"
            | "continue"
            | "crate"
            | "else"
            | "enum"
            | "extern"
            | "false"
            | "fn"
            | "for"
            | "if"
            | "impl"
            | "in"
            | "let"
            | "loop"
            | "match"
            | "mod"
            | "move"
            | "mut"
            | "pub"
            | "ref"
            | "return"
            | "self"
            | "static"
            | "struct"
            | "super"
            | "trait"
            | "true"
            | "type"
            | "unsafe"
            | "use"
            | "where"
            | "while"
            | "async"
            | "await"
            | "dyn"
            | "abstract"
            | "become"
            | "box"
            | "do"
            | "final"
            | "macro"
            | "override"
            | "priv"
            | "typeof"
            | "unsized"
            | "virtual"
            | "yield"
            | "try"
            | "gen"
    )
}

/// Shape names that would shadow what generated code uses unqualified.
pub fn type_name(shape: &str) -> String {
    match shape {
        "Option" | "Result" | "Vec" | "String" | "Box" | "Self" | "Default" | "BTreeMap" | "Node" | "DateTime"
        | "Validator" | "QueryDecoder" | "XmlWriter" | "Request" | "Operation" => format!("{shape}Shape"),
        _ => shape.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snake_case_keeps_acronyms_together() {
        for (input, want) in [
            ("CidrBlock", "cidr_block"),
            ("SAMLProviderARNs", "saml_provider_arns"),
            ("OpenIdConnectProviderARNs", "open_id_connect_provider_arns"),
            ("CoIp", "co_ip"),
            ("Ipv6CidrBlock", "ipv6_cidr_block"),
            ("DryRun", "dry_run"),
            ("VpcIds", "vpc_ids"),
            ("Type", "r#type"),
            ("message", "message"),
            ("IPAddress", "ip_address"),
            ("AwsAccountId", "aws_account_id"),
        ] {
            assert_eq!(snake_case(input), want, "{input}");
        }
    }

    #[test]
    fn variant_names() {
        for (input, want) in [
            ("Linux/UNIX", "LinuxUnix"),
            ("t2.medium", "T2Medium"),
            ("capacity-reservations-only", "CapacityReservationsOnly"),
            ("ipv4", "Ipv4"),
            ("1", "V1"),
            ("PENDING", "Pending"),
            ("ec2:CapacityReservation", "Ec2CapacityReservation"),
        ] {
            assert_eq!(variant_name(input), want, "{input}");
        }
    }
}
