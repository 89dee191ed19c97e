//! VPC security groups and their rules.
//!
//! A group belongs to one VPC; its name is unique in the VPC, case-insensitively (the
//! EC2 API reference: "Names are case-insensitive and must be unique within the VPC").
//! Every VPC has a `default` group that cannot be deleted: all traffic in from the group
//! itself, all traffic out to `0.0.0.0/0` (and `::/0` when the VPC has IPv6). A new group
//! has only the egress rule to `0.0.0.0/0`.
//!
//! A *rule* (`sgr-`) is one protocol, one port range and one peer (an IPv4 or IPv6 CIDR,
//! a prefix list or a group). An `IpPermission` of the API is several rules at once: one
//! per range it lists. Two rules of a group and direction are the same rule when their
//! protocol, ports and peer are the same ([`RuleKey`]); descriptions do not count.
//!
//! Protocols: `tcp`, `udp`, `icmp`, `icmpv6`, `-1` (also `all`), or a number 0–255;
//! the numbers of the four named ones (6, 17, 1, 58) are stored as their names, as EC2
//! answers them. TCP and UDP need a port range 0–65535; ICMP a type and code (-1 for
//! all, the code -1 when the type is -1); ICMPv6 takes either; any other protocol allows
//! every port, so its ports are stored as -1.

use ipnet::{Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::cidr::{ipv4_text, parse_ipv4, parse_ipv6};
use crate::filter::{FilterSchema, Filterable};
use crate::ids::ResourceKind;
use crate::network::{NetError, NetKind, NetLimit};
use crate::time::Timestamp;

/// The name every VPC's default group has, which no other group may take.
pub const DEFAULT_NAME: &str = "default";
/// The default group's description, as AWS writes it.
pub const DEFAULT_DESCRIPTION: &str = "default VPC security group";
/// Names and descriptions: at most this many characters.
pub const MAX_TEXT: usize = 255;
/// Rules per group and direction at most, whatever the configured quota: AWS's rules per
/// group times groups per interface cannot exceed 1,000.
pub const MAX_RULES_PER_DIRECTION: u32 = 1000;

/// Characters AWS allows in a VPC group's name and description and in a rule's
/// description, beside ASCII letters and digits.
const EXTRA_CHARS: &str = " ._-:/()#,@[]+=&;{}!$*";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroup {
    pub id: String,
    pub name: String,
    pub description: String,
    pub vpc_id: String,
    pub owner: AccountId,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_default: bool,
    pub created: Timestamp,
    /// How many ingress / egress rules the group has (kept with each change, so a quota
    /// check reads no rule).
    #[serde(default)]
    pub ingress_rules: u32,
    #[serde(default)]
    pub egress_rules: u32,
    /// Other groups this group's rules name, with how many rules name each: the group's
    /// reference to one is dropped with the last such rule.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub referenced: std::collections::BTreeMap<String, u32>,
}

impl SecurityGroup {
    pub fn rule_count(&self, egress: bool) -> u32 {
        if egress { self.egress_rules } else { self.ingress_rules }
    }

    fn rule_count_mut(&mut self, egress: bool) -> &mut u32 {
        if egress { &mut self.egress_rules } else { &mut self.ingress_rules }
    }

    /// Counts a new rule; answers the group it names that this group did not name yet
    /// (a reference to record).
    pub fn count_added(&mut self, rule: &SecurityGroupRule) -> Option<String> {
        *self.rule_count_mut(rule.egress) += 1;
        match &rule.peer {
            Peer::Group { group_id, .. } if *group_id != self.id => {
                let n = self.referenced.entry(group_id.clone()).or_insert(0);
                *n += 1;
                (*n == 1).then(|| group_id.clone())
            }
            _ => None,
        }
    }

    /// Counts a removed rule; answers the group that no rule of this group names any more
    /// (a reference to forget).
    pub fn count_removed(&mut self, rule: &SecurityGroupRule) -> Option<String> {
        let n = self.rule_count_mut(rule.egress);
        *n = n.saturating_sub(1);
        match &rule.peer {
            Peer::Group { group_id, .. } if *group_id != self.id => {
                let n = self.referenced.entry(group_id.clone()).or_insert(1);
                *n = n.saturating_sub(1);
                if *n == 0 {
                    self.referenced.remove(group_id);
                    Some(group_id.clone())
                } else {
                    None
                }
            }
            _ => None,
        }
    }
}

/// What a rule allows traffic from (ingress) or to (egress).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Peer {
    Ipv4 {
        cidr: Ipv4Net,
    },
    Ipv6 {
        cidr: Ipv6Net,
    },
    PrefixList {
        id: String,
    },
    Group {
        group_id: String,
        user_id: String,
        /// The group's name (names do not change), for `ip-permission.group-name`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        group_name: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        vpc_id: Option<String>,
    },
}

impl Peer {
    /// The peer's part of a rule's identity.
    fn key(&self) -> String {
        match self {
            Peer::Ipv4 { cidr } => format!("4:{}", ipv4_text(cidr)),
            Peer::Ipv6 { cidr } => format!("6:{cidr}"),
            Peer::PrefixList { id } => format!("pl:{id}"),
            Peer::Group { group_id, .. } => format!("sg:{group_id}"),
        }
    }

    /// As AWS names the peer in `InvalidPermission.Duplicate`.
    fn text(&self) -> String {
        match self {
            Peer::Ipv4 { cidr } => ipv4_text(cidr),
            Peer::Ipv6 { cidr } => cidr.to_string(),
            Peer::PrefixList { id } => id.clone(),
            Peer::Group { group_id, .. } => group_id.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityGroupRule {
    pub id: String,
    pub group_id: String,
    pub owner: AccountId,
    pub egress: bool,
    /// `tcp`, `udp`, `icmp`, `icmpv6`, `-1` or a protocol number.
    pub protocol: String,
    pub from_port: i32,
    pub to_port: i32,
    pub peer: Peer,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl SecurityGroupRule {
    pub fn key(&self) -> RuleKey {
        RuleKey::of(self.egress, &self.protocol, self.from_port, self.to_port, &self.peer)
    }

    /// Whether IpPermission answers show this rule's ports (they do not for protocols
    /// that allow every port).
    pub fn shows_ports(&self) -> bool {
        matches!(self.protocol.as_str(), "tcp" | "udp" | "icmp" | "icmpv6")
    }
}

/// A rule's identity in its group: direction, protocol, ports and peer. Stored as a
/// unique key of the group, so a duplicate is found with one lookup.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RuleKey(pub String);

impl RuleKey {
    pub fn of(egress: bool, protocol: &str, from: i32, to: i32, peer: &Peer) -> RuleKey {
        let dir = if egress { "out" } else { "in" };
        RuleKey(format!("{dir}|{protocol}|{from}|{to}|{}", peer.key()))
    }
}

/// A validated protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    All,
    Tcp,
    Udp,
    Icmp,
    Icmpv6,
    Number(u8),
}

impl Protocol {
    pub fn as_string(self) -> String {
        match self {
            Protocol::All => "-1".into(),
            Protocol::Tcp => "tcp".into(),
            Protocol::Udp => "udp".into(),
            Protocol::Icmp => "icmp".into(),
            Protocol::Icmpv6 => "icmpv6".into(),
            Protocol::Number(n) => n.to_string(),
        }
    }

    fn label(self) -> String {
        match self {
            Protocol::All => "ALL".into(),
            Protocol::Tcp => "TCP".into(),
            Protocol::Udp => "UDP".into(),
            Protocol::Icmp => "ICMP".into(),
            Protocol::Icmpv6 => "ICMPV6".into(),
            Protocol::Number(n) => n.to_string(),
        }
    }
}

/// Parses a protocol name (any case) or number.
pub fn parse_protocol(text: &str) -> Result<Protocol, NetError> {
    let lower = text.trim().to_ascii_lowercase();
    Ok(match lower.as_str() {
        "-1" | "all" => Protocol::All,
        "tcp" | "6" => Protocol::Tcp,
        "udp" | "17" => Protocol::Udp,
        "icmp" | "1" => Protocol::Icmp,
        "icmpv6" | "58" => Protocol::Icmpv6,
        n if !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()) => match n.parse::<u16>() {
            Ok(v) if v <= 255 => Protocol::Number(v as u8),
            _ => return Err(unknown_protocol(text)),
        },
        _ => return Err(unknown_protocol(text)),
    })
}

fn unknown_protocol(text: &str) -> NetError {
    NetError::InvalidValue(format!("Invalid value '{text}' for IP protocol. Unknown protocol."))
}

/// The port range of a rule: checked as AWS checks it, in the form it is stored.
pub fn ports(protocol: Protocol, from: Option<i32>, to: Option<i32>) -> Result<(i32, i32), NetError> {
    match protocol {
        Protocol::Tcp | Protocol::Udp => {
            let (Some(from), Some(to)) = (from, to) else {
                return Err(NetError::InvalidValue(
                    "Invalid value 'Must specify both from and to ports with TCP/UDP.' for portRange.".into(),
                ));
            };
            for p in [from, to] {
                if !(0..=65535).contains(&p) {
                    return Err(NetError::InvalidValue(format!(
                        "Invalid value '{p}' for portRange. Must be a port number from 0 to 65535."
                    )));
                }
            }
            if from > to {
                return Err(NetError::InvalidValue(format!(
                    "Invalid TCP/UDP port range: the from port {from} is greater than the to port {to}."
                )));
            }
            Ok((from, to))
        }
        Protocol::Icmp | Protocol::Icmpv6 => {
            let (from, to) = match (from, to) {
                (Some(f), Some(t)) => (f, t),
                (None, None) if protocol == Protocol::Icmpv6 => (-1, -1),
                _ => {
                    return Err(NetError::InvalidValue(
                        "Invalid value 'Must specify both ICMP type and code (-1 for all).' for portRange.".into(),
                    ));
                }
            };
            if !(-1..=255).contains(&from) {
                return Err(NetError::InvalidValue(format!(
                    "Invalid value '{from}' for ICMP type. Must be -1 to 255."
                )));
            }
            if !(-1..=255).contains(&to) {
                return Err(NetError::InvalidValue(format!("Invalid value '{to}' for ICMP code. Must be -1 to 255.")));
            }
            if from == -1 && to != -1 {
                return Err(NetError::InvalidValue(
                    "Invalid value for portRange: the ICMP code must be -1 when the ICMP type is -1.".into(),
                ));
            }
            Ok((from, to))
        }
        // Every port: whatever was given is not kept (the API reference).
        Protocol::All | Protocol::Number(_) => Ok((-1, -1)),
    }
}

fn allowed_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || EXTRA_CHARS.contains(c)
}

/// Checks a new group's name: 1–255 allowed characters, not `sg-…`, not `default`.
pub fn check_name(name: &str) -> Result<(), NetError> {
    if name.is_empty() {
        return Err(NetError::Missing("The request must contain the parameter groupName".into()));
    }
    if name.chars().count() > MAX_TEXT || !name.chars().all(allowed_char) {
        return Err(NetError::InvalidValue(format!(
            "Invalid value '{name}' for GroupName. Valid names are up to 255 characters from a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{{}}!$*"
        )));
    }
    if name.to_ascii_lowercase().starts_with("sg-") {
        return Err(NetError::InvalidValue("Group names may not be in the format sg-*.".into()));
    }
    if name.eq_ignore_ascii_case(DEFAULT_NAME) {
        return Err(NetError::GroupReserved(format!("The security group '{name}' is reserved")));
    }
    Ok(())
}

/// Checks a group's description: 1–255 allowed characters.
pub fn check_description(text: &str) -> Result<(), NetError> {
    if text.is_empty() {
        return Err(NetError::Missing("The request must contain the parameter GroupDescription".into()));
    }
    if text.chars().count() > MAX_TEXT || !text.chars().all(allowed_char) {
        return Err(NetError::InvalidValue(format!(
            "Invalid value '{text}' for GroupDescription. Valid descriptions are up to 255 characters from a-z, A-Z, 0-9, spaces, and ._-:/()#,@[]+=&;{{}}!$*"
        )));
    }
    Ok(())
}

/// Checks a rule's description (which may be empty).
pub fn check_rule_description(text: &str) -> Result<(), NetError> {
    if text.chars().count() > MAX_TEXT || !text.chars().all(allowed_char) {
        return Err(NetError::InvalidValue(
            "Invalid rule description. Valid descriptions are strings less than 256 characters from the following set:  a-zA-Z0-9. _-:/()#,@[]+=&;{}!$*".into(),
        ));
    }
    Ok(())
}

pub fn parse_rule_cidr4(text: &str) -> Result<Ipv4Net, NetError> {
    parse_ipv4(text.trim()).map_err(|_| NetError::PermissionMalformed(format!("CIDR block {text} is malformed")))
}

pub fn parse_rule_cidr6(text: &str) -> Result<Ipv6Net, NetError> {
    parse_ipv6(text.trim()).map_err(|_| NetError::PermissionMalformed(format!("CIDR block {text} is malformed")))
}

/// Checks the form of a prefix list id (`pl-` and 8 or 17 hex digits).
pub fn check_prefix_list_id(id: &str) -> Result<(), NetError> {
    crate::network::check_id(NetKind::PrefixList, id)
}

/// A group to reference, as a request names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupName {
    Id(String),
    Name(String),
}

/// A rule's peer as the request gives it: group references are resolved by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Peer(Peer),
    Group { group: GroupName, user_id: Option<String> },
}

/// One rule of a request, validated, before its group peer is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    pub protocol: Protocol,
    pub from_port: i32,
    pub to_port: i32,
    pub target: Target,
    pub description: Option<String>,
}

/// An `IpPermission` as the request gives it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PermissionInput {
    pub protocol: Option<String>,
    pub from_port: Option<i32>,
    pub to_port: Option<i32>,
    /// (CIDR, description)
    pub ipv4: Vec<(Option<String>, Option<String>)>,
    pub ipv6: Vec<(Option<String>, Option<String>)>,
    pub prefix_lists: Vec<(Option<String>, Option<String>)>,
    pub groups: Vec<GroupInput>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroupInput {
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub user_id: Option<String>,
    pub description: Option<String>,
}

fn description(d: &Option<String>) -> Result<Option<String>, NetError> {
    match d {
        Some(text) => {
            check_rule_description(text)?;
            Ok(Some(text.clone()))
        }
        None => Ok(None),
    }
}

/// Splits a permission into its rules, validating protocol, ports, CIDRs, prefix list
/// ids, group ids and descriptions.
pub fn parse_permission(p: &PermissionInput) -> Result<Vec<Draft>, NetError> {
    let protocol_text = p
        .protocol
        .as_deref()
        .ok_or_else(|| NetError::Missing("The request must contain the parameter ipProtocol".into()))?;
    let protocol = parse_protocol(protocol_text)?;
    let (from_port, to_port) = ports(protocol, p.from_port, p.to_port)?;
    let mut out = Vec::new();
    let draft =
        |target: Target, description: Option<String>| Draft { protocol, from_port, to_port, target, description };
    for (cidr, d) in &p.ipv4 {
        let text =
            cidr.as_deref().ok_or_else(|| NetError::Missing("The request must contain the parameter CidrIp".into()))?;
        let cidr = parse_rule_cidr4(text)?;
        out.push(draft(Target::Peer(Peer::Ipv4 { cidr }), description(d)?));
    }
    for (cidr, d) in &p.ipv6 {
        let text = cidr
            .as_deref()
            .ok_or_else(|| NetError::Missing("The request must contain the parameter CidrIpv6".into()))?;
        let cidr = parse_rule_cidr6(text)?;
        out.push(draft(Target::Peer(Peer::Ipv6 { cidr }), description(d)?));
    }
    for (id, d) in &p.prefix_lists {
        let id = id
            .as_deref()
            .ok_or_else(|| NetError::Missing("The request must contain the parameter PrefixListId".into()))?;
        check_prefix_list_id(id)?;
        out.push(draft(Target::Peer(Peer::PrefixList { id: id.to_string() }), description(d)?));
    }
    for g in &p.groups {
        let group = match (&g.group_id, &g.group_name) {
            (Some(id), _) => {
                crate::network::check_id(NetKind::SecurityGroup, id)?;
                GroupName::Id(id.clone())
            }
            (None, Some(name)) => GroupName::Name(name.clone()),
            (None, None) => {
                return Err(NetError::Missing(
                    "The request must contain the parameter groupId or groupName for a referenced group".into(),
                ));
            }
        };
        if let Some(user) = &g.user_id
            && AccountId::parse(user).is_none()
        {
            return Err(NetError::InvalidValue(format!("Invalid value '{user}' for userId.")));
        }
        out.push(draft(Target::Group { group, user_id: g.user_id.clone() }, description(&g.description)?));
    }
    if out.is_empty() {
        return Err(NetError::Missing(
            "The permission must name at least one source or destination (IpRanges, Ipv6Ranges, PrefixListIds or UserIdGroupPairs)".into(),
        ));
    }
    Ok(out)
}

/// Refuses a request that names the same rule twice.
pub fn check_unique(keys: &[RuleKey]) -> Result<(), NetError> {
    let mut seen = std::collections::HashSet::new();
    if keys.iter().any(|k| !seen.insert(k)) {
        return Err(NetError::InvalidValue("The same permission must not appear multiple times".into()));
    }
    Ok(())
}

/// AWS's `InvalidPermission.Duplicate` for an existing rule.
pub fn duplicate(rule: &SecurityGroupRule) -> NetError {
    let protocol = parse_protocol(&rule.protocol).map(Protocol::label).unwrap_or_else(|_| rule.protocol.clone());
    let ports = if rule.shows_ports() && rule.from_port != -1 {
        format!(", from port: {}, to port: {}", rule.from_port, rule.to_port)
    } else {
        String::new()
    };
    NetError::PermissionDuplicate(format!(
        "the specified rule \"peer: {}, {}{ports}, ALLOW\" already exists",
        rule.peer.text(),
        protocol
    ))
}

/// The rule quota: per group and direction, `quota` when configured, never above AWS's
/// absolute maximum.
pub fn check_rule_quota(group: &SecurityGroup, egress: bool, adding: u32, quota: Option<u32>) -> Result<(), NetError> {
    let limit = quota.unwrap_or(MAX_RULES_PER_DIRECTION).min(MAX_RULES_PER_DIRECTION);
    if group.rule_count(egress) + adding > limit {
        return Err(NetError::LimitExceeded(
            NetLimit::RulesPerSecurityGroup,
            "The maximum number of rules per security group has been reached.".into(),
        ));
    }
    Ok(())
}

/// The groups-per-Region quota (`existing` groups in the Region now).
pub fn check_group_quota(existing: u64, quota: Option<u32>) -> Result<(), NetError> {
    if quota.is_some_and(|q| existing >= u64::from(q)) {
        return Err(NetError::LimitExceeded(
            NetLimit::SecurityGroups,
            "The maximum number of security groups has been reached.".into(),
        ));
    }
    Ok(())
}

/// The egress rule of every new group: all traffic to 0.0.0.0/0.
pub fn all_traffic_to(group: &SecurityGroup, peer: Peer, rule_id: String) -> SecurityGroupRule {
    SecurityGroupRule {
        id: rule_id,
        group_id: group.id.clone(),
        owner: group.owner.clone(),
        egress: true,
        protocol: "-1".into(),
        from_port: -1,
        to_port: -1,
        peer,
        description: None,
    }
}

/// The unique key namespace of a group's rules.
pub fn rule_namespace(group_id: &str) -> String {
    format!("sg-rule:{group_id}")
}

/// The unique key of a group name in its VPC (case-insensitive).
pub fn name_key(vpc_id: &str, name: &str) -> String {
    format!("{vpc_id}/{}", name.to_lowercase())
}

/// The namespace of group names.
pub const NAME_NAMESPACE: &str = "sg-name";

/// A group with its rules, as `DescribeSecurityGroups` filters see it.
pub struct GroupView<'a> {
    pub group: &'a SecurityGroup,
    pub rules: &'a [SecurityGroupRule],
}

/// `DescribeSecurityGroups` filters (EC2 API reference).
pub const GROUP_FILTERS: FilterSchema = FilterSchema {
    names: &[
        "description",
        "egress.ip-permission.cidr",
        "egress.ip-permission.from-port",
        "egress.ip-permission.group-id",
        "egress.ip-permission.group-name",
        "egress.ip-permission.ipv6-cidr",
        "egress.ip-permission.prefix-list-id",
        "egress.ip-permission.protocol",
        "egress.ip-permission.to-port",
        "egress.ip-permission.user-id",
        "group-id",
        "group-name",
        "ip-permission.cidr",
        "ip-permission.from-port",
        "ip-permission.group-id",
        "ip-permission.group-name",
        "ip-permission.ipv6-cidr",
        "ip-permission.prefix-list-id",
        "ip-permission.protocol",
        "ip-permission.to-port",
        "ip-permission.user-id",
        "owner-id",
        "vpc-id",
    ],
    aliases: &[],
    tags: true,
};

/// Whether a filter name looks at a group's rules.
pub fn is_rule_filter(name: &str) -> bool {
    name.starts_with("ip-permission.") || name.starts_with("egress.ip-permission.")
}

fn rule_value(r: &SecurityGroupRule, field: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
    match (field, &r.peer) {
        ("cidr", Peer::Ipv4 { cidr }) => m(&ipv4_text(cidr)),
        ("ipv6-cidr", Peer::Ipv6 { cidr }) => m(&cidr.to_string()),
        ("prefix-list-id", Peer::PrefixList { id }) => m(id),
        ("group-id", Peer::Group { group_id, .. }) => m(group_id),
        ("group-name", Peer::Group { group_name: Some(n), .. }) => m(n),
        ("user-id", Peer::Group { user_id, .. }) => m(user_id),
        ("protocol", _) => m(&r.protocol),
        ("from-port", _) => m(&r.from_port.to_string()),
        ("to-port", _) => m(&r.to_port.to_string()),
        _ => false,
    }
}

impl Filterable for GroupView<'_> {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        let g = self.group;
        match name {
            "description" => m(&g.description),
            "group-id" => m(&g.id),
            "group-name" => m(&g.name),
            "owner-id" => m(g.owner.as_str()),
            "vpc-id" => m(&g.vpc_id),
            _ => {
                let (egress, field) = match name.strip_prefix("egress.ip-permission.") {
                    Some(f) => (true, f),
                    None => match name.strip_prefix("ip-permission.") {
                        Some(f) => (false, f),
                        None => return false,
                    },
                };
                self.rules.iter().filter(|r| r.egress == egress).any(|r| rule_value(r, field, m))
            }
        }
    }
}

/// `DescribeSecurityGroupRules` filters (EC2 API reference).
pub const RULE_FILTERS: FilterSchema =
    FilterSchema { names: &["group-id", "security-group-rule-id"], aliases: &[], tags: true };

impl Filterable for SecurityGroupRule {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "group-id" => m(&self.group_id),
            "security-group-rule-id" => m(&self.id),
            _ => false,
        }
    }
}

/// A new group (not the default one): its rules are added by the caller.
pub fn new_group(
    id: String,
    name: &str,
    description: &str,
    vpc_id: &str,
    owner: &AccountId,
    is_default: bool,
    now: Timestamp,
) -> SecurityGroup {
    SecurityGroup {
        id,
        name: name.to_string(),
        description: description.to_string(),
        vpc_id: vpc_id.to_string(),
        owner: owner.clone(),
        is_default,
        created: now,
        ingress_rules: 0,
        egress_rules: 0,
        referenced: Default::default(),
    }
}

/// Checks the form of a group id.
pub fn check_group_id(id: &str) -> Result<(), NetError> {
    crate::network::check_id(NetKind::SecurityGroup, id)
}

/// Checks the form of a rule id.
pub fn check_rule_id(id: &str) -> Result<(), NetError> {
    if ResourceKind::SecurityGroupRule.is_well_formed(id) {
        Ok(())
    } else {
        Err(NetError::Malformed(NetKind::SecurityGroupRule, id.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{Filter, FilterSet};

    fn owner() -> AccountId {
        AccountId::default_account()
    }

    fn rule(egress: bool, protocol: &str, from: i32, to: i32, peer: Peer) -> SecurityGroupRule {
        SecurityGroupRule {
            id: "sgr-0123456789abcdef0".into(),
            group_id: "sg-0123456789abcdef0".into(),
            owner: owner(),
            egress,
            protocol: protocol.into(),
            from_port: from,
            to_port: to,
            peer,
            description: None,
        }
    }

    #[test]
    fn protocols_are_normalised() {
        assert_eq!(parse_protocol("tcp").unwrap(), Protocol::Tcp);
        assert_eq!(parse_protocol("TCP").unwrap(), Protocol::Tcp);
        assert_eq!(parse_protocol("6").unwrap(), Protocol::Tcp);
        assert_eq!(parse_protocol("17").unwrap(), Protocol::Udp);
        assert_eq!(parse_protocol("1").unwrap(), Protocol::Icmp);
        assert_eq!(parse_protocol("58").unwrap(), Protocol::Icmpv6);
        assert_eq!(parse_protocol("all").unwrap(), Protocol::All);
        assert_eq!(parse_protocol("-1").unwrap(), Protocol::All);
        assert_eq!(parse_protocol("50").unwrap(), Protocol::Number(50));
        assert_eq!(parse_protocol("0").unwrap(), Protocol::Number(0));
        assert_eq!(parse_protocol("255").unwrap(), Protocol::Number(255));
        for bad in ["256", "gre", "", "-2", "1000", "tcpx"] {
            assert!(matches!(parse_protocol(bad), Err(NetError::InvalidValue(_))), "{bad}");
        }
        assert_eq!(Protocol::Number(50).as_string(), "50");
        assert_eq!(Protocol::All.as_string(), "-1");
    }

    #[test]
    fn port_rules() {
        assert_eq!(ports(Protocol::Tcp, Some(22), Some(22)).unwrap(), (22, 22));
        assert_eq!(ports(Protocol::Udp, Some(0), Some(65535)).unwrap(), (0, 65535));
        assert!(ports(Protocol::Tcp, None, Some(22)).is_err());
        assert!(ports(Protocol::Tcp, Some(80), Some(22)).is_err());
        assert!(ports(Protocol::Tcp, Some(-1), Some(22)).is_err());
        assert!(ports(Protocol::Tcp, Some(1), Some(65536)).is_err());
        assert_eq!(ports(Protocol::Icmp, Some(-1), Some(-1)).unwrap(), (-1, -1));
        assert_eq!(ports(Protocol::Icmp, Some(8), Some(0)).unwrap(), (8, 0));
        assert!(ports(Protocol::Icmp, Some(-1), Some(3)).is_err());
        assert!(ports(Protocol::Icmp, None, None).is_err());
        assert!(ports(Protocol::Icmp, Some(256), Some(0)).is_err());
        assert_eq!(ports(Protocol::Icmpv6, None, None).unwrap(), (-1, -1));
        // All protocols and other numbers: every port, whatever was asked.
        assert_eq!(ports(Protocol::All, Some(1), Some(2)).unwrap(), (-1, -1));
        assert_eq!(ports(Protocol::Number(50), None, None).unwrap(), (-1, -1));
    }

    #[test]
    fn names_and_descriptions() {
        assert!(check_name("web").is_ok());
        assert!(check_name("a-zA-Z0-9 ._-:/()#,@[]+=&;{}!$*").is_ok());
        assert!(check_name(&"x".repeat(255)).is_ok());
        assert!(matches!(check_name(&"x".repeat(256)), Err(NetError::InvalidValue(_))));
        assert!(matches!(check_name("sg-web"), Err(NetError::InvalidValue(_))));
        assert!(matches!(check_name("default"), Err(NetError::GroupReserved(_))));
        assert!(matches!(check_name("Default"), Err(NetError::GroupReserved(_))));
        assert!(matches!(check_name("web%"), Err(NetError::InvalidValue(_))));
        assert!(matches!(check_name("wéb"), Err(NetError::InvalidValue(_))));
        assert!(matches!(check_name(""), Err(NetError::Missing(_))));
        assert!(check_description("Web servers").is_ok());
        assert!(matches!(check_description(&"d".repeat(256)), Err(NetError::InvalidValue(_))));
        assert!(check_rule_description("").is_ok());
        assert!(check_rule_description("HTTPS from the ALB").is_ok());
        assert!(check_rule_description("bad\"quote").is_err());
        assert_eq!(name_key("vpc-1", "Web"), name_key("vpc-1", "web"));
    }

    #[test]
    fn permissions_split_into_rules_and_canonical_cidrs() {
        let p = PermissionInput {
            protocol: Some("6".into()),
            from_port: Some(443),
            to_port: Some(443),
            ipv4: vec![(Some("10.0.0.5/16".into()), Some("office".into())), (Some("0.0.0.0/0".into()), None)],
            ipv6: vec![(Some("2001:db8::/32".into()), None)],
            prefix_lists: vec![(Some("pl-0123456789abcdef0".into()), None)],
            groups: vec![GroupInput { group_id: Some("sg-0123456789abcdef0".into()), ..Default::default() }],
        };
        let drafts = parse_permission(&p).unwrap();
        assert_eq!(drafts.len(), 5);
        assert!(drafts.iter().all(|d| d.protocol == Protocol::Tcp && d.from_port == 443));
        assert_eq!(
            drafts[0].target,
            Target::Peer(Peer::Ipv4 { cidr: "10.0.0.0/16".parse().unwrap() }),
            "host bits are cleared"
        );
        assert_eq!(drafts[0].description.as_deref(), Some("office"));

        let bad = |f: &dyn Fn(&mut PermissionInput)| {
            let mut q = p.clone();
            f(&mut q);
            parse_permission(&q).unwrap_err()
        };
        assert!(matches!(bad(&|q| q.ipv4[0].0 = Some("10.0.0.0/33".into())), NetError::PermissionMalformed(_)));
        assert!(matches!(bad(&|q| q.ipv4[0].0 = Some("banana".into())), NetError::PermissionMalformed(_)));
        assert!(matches!(bad(&|q| q.ipv6[0].0 = Some("10.0.0.0/8".into())), NetError::PermissionMalformed(_)));
        assert!(matches!(bad(&|q| q.prefix_lists[0].0 = Some("pl-x".into())), NetError::Malformed(..)));
        assert!(matches!(bad(&|q| q.groups[0].group_id = Some("sg-x".into())), NetError::Malformed(..)));
        assert!(matches!(bad(&|q| q.protocol = None), NetError::Missing(_)));
        assert!(matches!(bad(&|q| q.to_port = None), NetError::InvalidValue(_)));
        let empty = PermissionInput { protocol: Some("-1".into()), ..Default::default() };
        assert!(matches!(parse_permission(&empty), Err(NetError::Missing(_))));
    }

    #[test]
    fn duplicates_are_found_by_key() {
        let a = rule(false, "tcp", 22, 22, Peer::Ipv4 { cidr: "0.0.0.0/0".parse().unwrap() });
        let mut b = a.clone();
        b.description = Some("other words".into());
        b.id = "sgr-1111111111111111a".into();
        assert_eq!(a.key(), b.key(), "descriptions and ids do not count");
        let egress = rule(true, "tcp", 22, 22, Peer::Ipv4 { cidr: "0.0.0.0/0".parse().unwrap() });
        assert_ne!(a.key(), egress.key());
        let other_port = rule(false, "tcp", 23, 23, Peer::Ipv4 { cidr: "0.0.0.0/0".parse().unwrap() });
        assert_ne!(a.key(), other_port.key());
        assert!(check_unique(&[a.key(), b.key()]).is_err());
        assert!(check_unique(&[a.key(), egress.key(), other_port.key()]).is_ok());
        assert_eq!(
            duplicate(&a).to_string(),
            "the specified rule \"peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW\" already exists"
        );
    }

    #[test]
    fn reference_counts() {
        let mut g = new_group("sg-a".into(), "web", "d", "vpc-1", &owner(), false, Timestamp(0));
        let peer =
            Peer::Group { group_id: "sg-b".into(), user_id: "000000000000".into(), group_name: None, vpc_id: None };
        let r1 = rule(false, "tcp", 80, 80, peer.clone());
        let r2 = rule(false, "tcp", 443, 443, peer);
        assert_eq!(g.count_added(&r1), Some("sg-b".into()));
        assert_eq!(g.count_added(&r2), None);
        assert_eq!(g.ingress_rules, 2);
        assert_eq!(g.count_removed(&r1), None);
        assert_eq!(g.count_removed(&r2), Some("sg-b".into()));
        assert!(g.referenced.is_empty());
        let own = rule(
            false,
            "-1",
            -1,
            -1,
            Peer::Group { group_id: "sg-a".into(), user_id: "000000000000".into(), group_name: None, vpc_id: None },
        );
        assert_eq!(g.count_added(&own), None, "a group's reference to itself is not recorded");
    }

    #[test]
    fn quotas() {
        let mut g = new_group("sg-a".into(), "web", "d", "vpc-1", &owner(), false, Timestamp(0));
        g.ingress_rules = 60;
        assert!(check_rule_quota(&g, false, 1, Some(60)).is_err());
        assert!(check_rule_quota(&g, true, 1, Some(60)).is_ok(), "directions count apart");
        assert!(check_rule_quota(&g, false, 1, None).is_ok());
        g.ingress_rules = MAX_RULES_PER_DIRECTION;
        assert!(check_rule_quota(&g, false, 1, None).is_err(), "AWS's absolute maximum");
        assert!(check_group_quota(4, Some(5)).is_ok());
        assert!(check_group_quota(5, Some(5)).is_err());
        assert!(check_group_quota(5000, None).is_ok());
    }

    #[test]
    fn group_filters() {
        let g = new_group("sg-a".into(), "web", "Web tier", "vpc-1", &owner(), false, Timestamp(0));
        let rules = vec![
            rule(
                false,
                "tcp",
                443,
                443,
                Peer::Group {
                    group_id: "sg-b".into(),
                    user_id: "000000000000".into(),
                    group_name: Some("alb".into()),
                    vpc_id: None,
                },
            ),
            rule(true, "-1", -1, -1, Peer::Ipv4 { cidr: "0.0.0.0/0".parse().unwrap() }),
        ];
        let view = GroupView { group: &g, rules: &rules };
        let set = |name: &str, v: &str| FilterSet::compile(&[Filter::new(name, &[v])], &GROUP_FILTERS).unwrap();
        assert!(set("group-name", "web").matches_untagged(&view));
        assert!(set("description", "Web*").matches_untagged(&view));
        assert!(set("ip-permission.group-id", "sg-b").matches_untagged(&view));
        assert!(set("ip-permission.group-name", "alb").matches_untagged(&view));
        assert!(set("ip-permission.from-port", "443").matches_untagged(&view));
        assert!(set("ip-permission.protocol", "tcp").matches_untagged(&view));
        assert!(!set("ip-permission.cidr", "0.0.0.0/0").matches_untagged(&view), "egress only");
        assert!(set("egress.ip-permission.cidr", "0.0.0.0/0").matches_untagged(&view));
        assert!(set("egress.ip-permission.protocol", "-1").matches_untagged(&view));
        assert!(!set("egress.ip-permission.group-id", "sg-b").matches_untagged(&view));
        assert!(set("owner-id", "000000000000").matches_untagged(&view));
        assert!(set("vpc-id", "vpc-1").matches_untagged(&view));
        assert!(is_rule_filter("egress.ip-permission.cidr") && !is_rule_filter("group-id"));
    }
}
