//! Security groups and their rules: `CreateSecurityGroup`, `DescribeSecurityGroups`,
//! `DeleteSecurityGroup`, `AuthorizeSecurityGroupIngress`/`Egress`,
//! `RevokeSecurityGroupIngress`/`Egress`, `DescribeSecurityGroupRules`,
//! `ModifySecurityGroupRules`, `UpdateSecurityGroupRuleDescriptionsIngress`/`Egress`; and
//! what other families call: a VPC's default group, group checks and counts.
//!
//! Storage: a group is an entity whose parent is its VPC; each rule is an entity of its
//! own (`sgr-`, taggable) whose parent is its group. Uniqueness is decided by unique keys
//! in the write transaction: a group's name in its VPC (`sg-name`, case-insensitive) and
//! a rule's protocol, ports and peer in its group and direction (`sg-rule:<group>`), so a
//! duplicate is one lookup. A rule naming another group records a reference (the
//! `references` table, kind `security-group`) from its group to that group, kept while
//! any rule of the group names it; `DeleteSecurityGroup` refuses a group anything
//! references (another group's rule, or a network interface).

use reservoir_domain::account::Scope;
use reservoir_domain::arn::Arn;
use reservoir_domain::cidr::ipv4_text;
use reservoir_domain::filter::FilterSet;
use reservoir_domain::ids::{OsRandom, ResourceKind};
use reservoir_domain::network::{NetError, NetKind};
use reservoir_domain::security_group::{
    self as sg, Draft, GroupInput, GroupName, GroupView, Peer, PermissionInput, SecurityGroup, SecurityGroupRule,
    Target,
};
use reservoir_domain::tags::Tag;
use reservoir_domain::time::Timestamp;
use reservoir_domain::vpc::{self, Vpc, VpcError};
use reservoir_store::{ReadTx, ReadTxExt, Reference, Tx, TxExt};
use reservoir_wire::ec2::codes;
use reservoir_wire::ec2_api as api;

use super::shared::{Call, Page, filter_set, page_size, put_tags, scan, tag_specifications, tags_by_id, wire_tags};
use crate::error::{ApiError, ApiResult};

/// The kind of reference a rule naming another group records.
const REFERENCE_KIND: &str = "security-group";

fn group_not_found(id: &str) -> ApiError {
    NetError::NotFound(NetKind::SecurityGroup, vec![id.to_string()]).into()
}

fn rules_not_found(ids: Vec<String>) -> ApiError {
    NetError::NotFound(NetKind::SecurityGroupRule, ids).into()
}

/// A group by id: `InvalidGroupId.Malformed`, then `InvalidGroup.NotFound`.
pub fn load_group(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<SecurityGroup> {
    sg::check_group_id(id)?;
    tx.load::<SecurityGroup>(scope, id)?.ok_or_else(|| group_not_found(id))
}

fn no_default_vpc() -> ApiError {
    ApiError::new(codes::VPC_ID_NOT_SPECIFIED, "No default VPC for this user")
}

fn group_by_name(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str, name: &str) -> ApiResult<Option<SecurityGroup>> {
    match tx.get_alias(scope, sg::NAME_NAMESPACE, &sg::name_key(vpc_id, name))? {
        Some(id) => Ok(tx.load::<SecurityGroup>(scope, &id)?),
        None => Ok(None),
    }
}

fn name_not_found(name: &str, vpc_id: &str) -> ApiError {
    ApiError::new(
        codes::INVALID_GROUP_NOT_FOUND,
        format!("The security group '{name}' does not exist in default VPC '{vpc_id}'"),
    )
}

/// The group a request names: by `GroupId`, else by `GroupName` in the default VPC (as
/// EC2 resolves names).
fn resolve_group(tx: &mut dyn ReadTx, scope: &Scope, id: Option<&str>, name: Option<&str>) -> ApiResult<SecurityGroup> {
    match (id, name) {
        (Some(id), _) => load_group(tx, scope, id),
        (None, Some(name)) => {
            let vpc = super::vpcs::default_vpc(tx, scope)?.ok_or_else(no_default_vpc)?;
            group_by_name(tx, scope, &vpc.id, name)?.ok_or_else(|| name_not_found(name, &vpc.id))
        }
        (None, None) => {
            Err(NetError::Missing("The request must contain the parameter groupName or groupId".into()).into())
        }
    }
}

/// Every rule of a group, in the order they were made.
fn rules_of(tx: &mut dyn ReadTx, scope: &Scope, group_id: &str) -> ApiResult<Vec<SecurityGroupRule>> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = tx.page_children::<SecurityGroupRule>(scope, group_id, after, 1000)?;
        let done = page.len() < 1000;
        for (seq, r) in page {
            after = seq;
            out.push(r);
        }
        if done {
            return Ok(out);
        }
    }
}

fn new_rule(group: &SecurityGroup, egress: bool, protocol: &str, from: i32, to: i32, peer: Peer) -> SecurityGroupRule {
    SecurityGroupRule {
        id: ResourceKind::SecurityGroupRule.new_id(&mut OsRandom),
        group_id: group.id.clone(),
        owner: group.owner.clone(),
        egress,
        protocol: protocol.to_string(),
        from_port: from,
        to_port: to,
        peer,
        description: None,
    }
}

fn self_peer(group: &SecurityGroup) -> Peer {
    Peer::Group {
        group_id: group.id.clone(),
        user_id: group.owner.to_string(),
        group_name: Some(group.name.clone()),
        vpc_id: Some(group.vpc_id.clone()),
    }
}

/// The egress rules of a new group: all traffic to 0.0.0.0/0, and to ::/0 when the VPC
/// has IPv6.
fn default_egress(group: &SecurityGroup, vpc: &Vpc) -> Vec<SecurityGroupRule> {
    let mut rules = vec![new_rule(group, true, "-1", -1, -1, Peer::Ipv4 { cidr: "0.0.0.0/0".parse().expect("valid") })];
    if !vpc.ipv6_associations.is_empty() {
        rules.push(new_rule(group, true, "-1", -1, -1, Peer::Ipv6 { cidr: "::/0".parse().expect("valid") }));
    }
    rules
}

/// Stores a new group with its first rules and its name's unique key.
fn insert_group(
    tx: &mut dyn Tx,
    scope: &Scope,
    group: &mut SecurityGroup,
    rules: &[SecurityGroupRule],
) -> ApiResult<()> {
    let key = sg::name_key(&group.vpc_id, &group.name);
    if tx.get_alias(scope, sg::NAME_NAMESPACE, &key)?.is_some() {
        return Err(NetError::GroupDuplicate(format!(
            "The security group '{}' already exists for VPC '{}'",
            group.name, group.vpc_id
        ))
        .into());
    }
    tx.put_alias(scope, sg::NAME_NAMESPACE, &key, &group.id)?;
    tx.create(scope, group)?;
    for r in rules {
        add_rule(tx, scope, group, r)?;
    }
    tx.save(scope, group)?;
    Ok(())
}

/// Adds a rule to a group (the caller saves the group): refused when the group has it.
fn add_rule(tx: &mut dyn Tx, scope: &Scope, group: &mut SecurityGroup, rule: &SecurityGroupRule) -> ApiResult<()> {
    let ns = sg::rule_namespace(&group.id);
    let key = rule.key();
    if let Some(existing) = tx.get_alias(scope, &ns, &key.0)? {
        let existing = tx.load::<SecurityGroupRule>(scope, &existing)?.unwrap_or_else(|| rule.clone());
        return Err(sg::duplicate(&existing).into());
    }
    tx.put_alias(scope, &ns, &key.0, &rule.id)?;
    tx.create(scope, rule)?;
    if let Some(target) = group.count_added(rule) {
        tx.put_reference(scope, &Reference { target, source: group.id.clone(), kind: REFERENCE_KIND.into() })?;
    }
    Ok(())
}

/// Removes a rule (and its tags) from a group (the caller saves the group).
fn remove_rule(tx: &mut dyn Tx, scope: &Scope, group: &mut SecurityGroup, rule: &SecurityGroupRule) -> ApiResult<()> {
    tx.delete_alias(scope, &sg::rule_namespace(&group.id), &rule.key().0)?;
    tx.remove::<SecurityGroupRule>(scope, &rule.id)?;
    if let Some(target) = group.count_removed(rule) {
        tx.delete_reference(scope, &target, &group.id)?;
    }
    Ok(())
}

/// Removes a group, its rules, their keys and tags, and the references it makes. The
/// caller has checked that nothing references it.
fn erase_group(tx: &mut dyn Tx, scope: &Scope, group: &SecurityGroup) -> ApiResult<()> {
    tx.delete_children(scope, ResourceKind::SecurityGroupRule.storage_name(), &group.id)?;
    tx.delete_alias_namespace(scope, &sg::rule_namespace(&group.id))?;
    tx.delete_references_from(scope, &group.id)?;
    tx.delete_alias(scope, sg::NAME_NAMESPACE, &sg::name_key(&group.vpc_id, &group.name))?;
    tx.remove::<SecurityGroup>(scope, &group.id)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------
// What other families call.

/// The `default` group of a new VPC: all traffic in from itself, all traffic out to
/// 0.0.0.0/0 (and ::/0 when the VPC has IPv6). Answers its id.
pub fn create_default_group(tx: &mut dyn Tx, scope: &Scope, vpc: &Vpc, now: Timestamp) -> ApiResult<String> {
    let mut group = sg::new_group(
        ResourceKind::SecurityGroup.new_id(&mut OsRandom),
        sg::DEFAULT_NAME,
        sg::DEFAULT_DESCRIPTION,
        &vpc.id,
        &vpc.owner,
        true,
        now,
    );
    let mut rules = vec![new_rule(&group, false, "-1", -1, -1, self_peer(&group))];
    rules.extend(default_egress(&group, vpc));
    insert_group(tx, scope, &mut group, &rules)?;
    Ok(group.id)
}

/// The id of a VPC's `default` group.
pub fn default_group_id(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str) -> ApiResult<String> {
    tx.get_alias(scope, sg::NAME_NAMESPACE, &sg::name_key(vpc_id, sg::DEFAULT_NAME))?
        .ok_or_else(|| ApiError::Internal(format!("VPC {vpc_id} has no default security group")))
}

/// Checks groups an interface (or another resource of `vpc_id`) is to use: each well
/// formed, existing, and in that VPC.
pub fn check_groups(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str, ids: &[String]) -> ApiResult<()> {
    for id in ids {
        let group = load_group(tx, scope, id)?;
        if group.vpc_id != vpc_id {
            return Err(NetError::InvalidParameter(format!(
                "Security group {id} and the VPC {vpc_id} belong to different networks."
            ))
            .into());
        }
    }
    Ok(())
}

/// Whether the VPC has its `default` group (VPCs stored by earlier versions may not).
pub fn has_default_group(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str) -> ApiResult<bool> {
    Ok(tx.get_alias(scope, sg::NAME_NAMESPACE, &sg::name_key(vpc_id, sg::DEFAULT_NAME))?.is_some())
}

/// A VPC's groups other than its default one (each keeps `DeleteVpc` from acting).
pub fn vpc_group_count(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str) -> ApiResult<u64> {
    let all = tx.count_children(scope, ResourceKind::SecurityGroup.storage_name(), vpc_id)?;
    let default = tx.get_alias(scope, sg::NAME_NAMESPACE, &sg::name_key(vpc_id, sg::DEFAULT_NAME))?.is_some();
    Ok(all.saturating_sub(u64::from(default)))
}

/// Removes a VPC's groups (`DeleteVpc`, which allows only the default one to be left).
pub fn remove_vpc_groups(tx: &mut dyn Tx, scope: &Scope, vpc_id: &str) -> ApiResult<()> {
    loop {
        let page = tx.page_children::<SecurityGroup>(scope, vpc_id, 0, 100)?;
        if page.is_empty() {
            return Ok(());
        }
        for (_, group) in page {
            erase_group(tx, scope, &group)?;
        }
    }
}

// ---------------------------------------------------------------------------------------
// Wire forms.

fn group_arn(scope: &Scope, id: &str) -> String {
    Arn::new("ec2", &scope.region, &scope.account, format!("security-group/{id}")).to_string()
}

fn rule_arn(scope: &Scope, id: &str) -> String {
    Arn::new("ec2", &scope.region, &scope.account, format!("security-group-rule/{id}")).to_string()
}

fn ports_of(r: &SecurityGroupRule) -> (Option<i32>, Option<i32>) {
    if r.shows_ports() { (Some(r.from_port), Some(r.to_port)) } else { (None, None) }
}

/// Rules as `IpPermission`s: one per (protocol, ports), in the order first seen, each
/// listing its peers.
fn to_permissions<'a>(rules: impl Iterator<Item = &'a SecurityGroupRule>) -> Vec<api::IpPermission> {
    let mut out: Vec<api::IpPermission> = Vec::new();
    for r in rules {
        let (from_port, to_port) = ports_of(r);
        let i = match out.iter().position(|p| {
            p.ip_protocol.as_deref() == Some(r.protocol.as_str()) && p.from_port == from_port && p.to_port == to_port
        }) {
            Some(i) => i,
            None => {
                out.push(api::IpPermission {
                    ip_protocol: Some(r.protocol.clone()),
                    from_port,
                    to_port,
                    user_id_group_pairs: Some(Vec::new()),
                    ip_ranges: Some(Vec::new()),
                    ipv6_ranges: Some(Vec::new()),
                    prefix_list_ids: Some(Vec::new()),
                });
                out.len() - 1
            }
        };
        let p = &mut out[i];
        let description = r.description.clone();
        match &r.peer {
            Peer::Ipv4 { cidr } => p
                .ip_ranges
                .get_or_insert_with(Vec::new)
                .push(api::IpRange { description, cidr_ip: Some(ipv4_text(cidr)) }),
            Peer::Ipv6 { cidr } => p
                .ipv6_ranges
                .get_or_insert_with(Vec::new)
                .push(api::Ipv6Range { description, cidr_ipv6: Some(cidr.to_string()) }),
            Peer::PrefixList { id } => p
                .prefix_list_ids
                .get_or_insert_with(Vec::new)
                .push(api::PrefixListId { description, prefix_list_id: Some(id.clone()) }),
            Peer::Group { group_id, user_id, .. } => {
                p.user_id_group_pairs.get_or_insert_with(Vec::new).push(api::UserIdGroupPair {
                    description,
                    user_id: Some(user_id.clone()),
                    group_name: None,
                    group_id: Some(group_id.clone()),
                    vpc_id: None,
                    vpc_peering_connection_id: None,
                    peering_status: None,
                })
            }
        }
    }
    out
}

fn group_to_wire(scope: &Scope, g: SecurityGroup, rules: &[SecurityGroupRule], tags: Vec<Tag>) -> api::SecurityGroup {
    api::SecurityGroup {
        security_group_arn: Some(group_arn(scope, &g.id)),
        ip_permissions_egress: Some(to_permissions(rules.iter().filter(|r| r.egress))),
        ip_permissions: Some(to_permissions(rules.iter().filter(|r| !r.egress))),
        tags: wire_tags(tags),
        vpc_id: Some(g.vpc_id),
        owner_id: Some(g.owner.into_string()),
        group_name: Some(g.name),
        description: Some(g.description),
        group_id: Some(g.id),
    }
}

fn rule_to_wire(scope: &Scope, r: SecurityGroupRule, tags: Vec<Tag>) -> api::SecurityGroupRule {
    let mut out = api::SecurityGroupRule {
        security_group_rule_arn: Some(rule_arn(scope, &r.id)),
        security_group_rule_id: Some(r.id),
        group_id: Some(r.group_id),
        group_owner_id: Some(r.owner.into_string()),
        is_egress: Some(r.egress),
        ip_protocol: Some(r.protocol),
        from_port: Some(r.from_port),
        to_port: Some(r.to_port),
        cidr_ipv4: None,
        cidr_ipv6: None,
        prefix_list_id: None,
        referenced_group_info: None,
        description: r.description,
        tags: Some(tags.into_iter().map(|t| api::Tag { key: Some(t.key), value: Some(t.value) }).collect()),
    };
    match r.peer {
        Peer::Ipv4 { cidr } => out.cidr_ipv4 = Some(ipv4_text(&cidr)),
        Peer::Ipv6 { cidr } => out.cidr_ipv6 = Some(cidr.to_string()),
        Peer::PrefixList { id } => out.prefix_list_id = Some(id),
        Peer::Group { group_id, user_id, .. } => {
            out.referenced_group_info = Some(api::ReferencedSecurityGroup {
                group_id: Some(group_id),
                peering_status: None,
                user_id: Some(user_id),
                vpc_id: None,
                vpc_peering_connection_id: None,
            })
        }
    }
    out
}

fn revoked_to_wire(r: SecurityGroupRule) -> api::RevokedSecurityGroupRule {
    let mut out = api::RevokedSecurityGroupRule {
        security_group_rule_id: Some(r.id),
        group_id: Some(r.group_id),
        is_egress: Some(r.egress),
        ip_protocol: Some(r.protocol),
        from_port: Some(r.from_port),
        to_port: Some(r.to_port),
        cidr_ipv4: None,
        cidr_ipv6: None,
        prefix_list_id: None,
        referenced_group_id: None,
        description: r.description,
    };
    match r.peer {
        Peer::Ipv4 { cidr } => out.cidr_ipv4 = Some(ipv4_text(&cidr)),
        Peer::Ipv6 { cidr } => out.cidr_ipv6 = Some(cidr.to_string()),
        Peer::PrefixList { id } => out.prefix_list_id = Some(id),
        Peer::Group { group_id, .. } => out.referenced_group_id = Some(group_id),
    }
    out
}

// ---------------------------------------------------------------------------------------
// Requests' permissions.

fn permission_input(p: api::IpPermission) -> PermissionInput {
    PermissionInput {
        protocol: p.ip_protocol,
        from_port: p.from_port,
        to_port: p.to_port,
        ipv4: p.ip_ranges.unwrap_or_default().into_iter().map(|r| (r.cidr_ip, r.description)).collect(),
        ipv6: p.ipv6_ranges.unwrap_or_default().into_iter().map(|r| (r.cidr_ipv6, r.description)).collect(),
        prefix_lists: p
            .prefix_list_ids
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r.prefix_list_id, r.description))
            .collect(),
        groups: p
            .user_id_group_pairs
            .unwrap_or_default()
            .into_iter()
            .map(|g| GroupInput {
                group_id: g.group_id,
                group_name: g.group_name,
                user_id: g.user_id,
                description: g.description,
            })
            .collect(),
    }
}

/// The older top-level form (`IpProtocol`, `FromPort`, `ToPort`, `CidrIp`,
/// `SourceSecurityGroupName`/`OwnerId`), which EC2 still accepts. A source group without
/// a protocol grants all TCP, UDP and ICMP traffic (the API reference).
struct OldForm {
    protocol: Option<String>,
    from_port: Option<i32>,
    to_port: Option<i32>,
    cidr: Option<String>,
    source_group_name: Option<String>,
    source_group_owner: Option<String>,
}

impl OldForm {
    fn is_empty(&self) -> bool {
        self.protocol.is_none()
            && self.from_port.is_none()
            && self.to_port.is_none()
            && self.cidr.is_none()
            && self.source_group_name.is_none()
            && self.source_group_owner.is_none()
    }

    fn permissions(self) -> Vec<PermissionInput> {
        let group = self.source_group_name.clone().map(|name| GroupInput {
            group_id: None,
            group_name: Some(name),
            user_id: self.source_group_owner.clone(),
            description: None,
        });
        if self.protocol.is_none()
            && let Some(g) = &group
        {
            return [("tcp", 0, 65535), ("udp", 0, 65535), ("icmp", -1, -1)]
                .into_iter()
                .map(|(p, from, to)| PermissionInput {
                    protocol: Some(p.into()),
                    from_port: Some(from),
                    to_port: Some(to),
                    ipv4: self.cidr.iter().map(|c| (Some(c.clone()), None)).collect(),
                    groups: vec![g.clone()],
                    ..Default::default()
                })
                .collect();
        }
        vec![PermissionInput {
            protocol: self.protocol,
            from_port: self.from_port,
            to_port: self.to_port,
            ipv4: self.cidr.into_iter().map(|c| (Some(c), None)).collect(),
            groups: group.into_iter().collect(),
            ..Default::default()
        }]
    }
}

/// The permissions of an authorize or revoke request: `IpPermissions`, or the old form.
fn request_permissions(list: Option<Vec<api::IpPermission>>, old: OldForm) -> ApiResult<Vec<PermissionInput>> {
    match (list, old.is_empty()) {
        (Some(list), true) => Ok(list.into_iter().map(permission_input).collect()),
        (Some(_), false) => Err(NetError::Combination(
            "IpPermissions cannot be combined with IpProtocol, FromPort, ToPort, CidrIp or SourceSecurityGroupName."
                .into(),
        )
        .into()),
        (None, false) => Ok(old.permissions()),
        (None, true) => Ok(Vec::new()),
    }
}

fn drafts(permissions: &[PermissionInput]) -> ApiResult<Vec<Draft>> {
    let mut out = Vec::new();
    for p in permissions {
        out.extend(sg::parse_permission(p)?);
    }
    Ok(out)
}

/// Turns drafts into rules of `group`: prefix lists must exist in the Region; named
/// groups must exist in this account and in the group's VPC.
fn build_rules(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    group: &SecurityGroup,
    egress: bool,
    drafts: &[Draft],
) -> ApiResult<Vec<SecurityGroupRule>> {
    let mut out = Vec::with_capacity(drafts.len());
    for d in drafts {
        let peer = match &d.target {
            Target::Peer(Peer::PrefixList { id }) => {
                if reservoir_domain::endpoint::prefix_list(&scope.region, id).is_none() {
                    return Err(NetError::NotFound(NetKind::PrefixList, vec![id.clone()]).into());
                }
                Peer::PrefixList { id: id.clone() }
            }
            Target::Peer(p) => p.clone(),
            Target::Group { group: named, user_id } => {
                let other = match named {
                    GroupName::Id(id) if *id == group.id => group.clone(),
                    GroupName::Id(id) => tx.load::<SecurityGroup>(scope, id)?.ok_or_else(|| group_not_found(id))?,
                    GroupName::Name(name) => {
                        group_by_name(tx, scope, &group.vpc_id, name)?.ok_or_else(|| group_not_found(name))?
                    }
                };
                if user_id.as_deref().is_some_and(|u| u != other.owner.as_str()) {
                    // Groups of other accounts are not served: none can be named.
                    return Err(group_not_found(&other.id));
                }
                if other.vpc_id != group.vpc_id {
                    return Err(ApiError::new(
                        codes::INVALID_GROUP_NOT_FOUND,
                        "You have specified two resources that belong to different networks.",
                    ));
                }
                self_peer(&other)
            }
        };
        let mut rule = new_rule(group, egress, &d.protocol.as_string(), d.from_port, d.to_port, peer);
        rule.description = d.description.clone();
        out.push(rule);
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Handlers.

/// EC2 `CreateSecurityGroup`: in `VpcId`, else the default VPC. Errors:
/// `MissingParameter`, `InvalidParameterValue` (name, description, tags),
/// `InvalidGroup.Reserved`, `InvalidVpcID.Malformed`, `InvalidVpcID.NotFound`,
/// `VPCIdNotSpecified`, `InvalidGroup.Duplicate`, `SecurityGroupLimitExceeded`,
/// `DryRunOperation`.
pub async fn create_security_group(
    call: &Call,
    input: api::CreateSecurityGroupRequest,
) -> ApiResult<api::CreateSecurityGroupResult> {
    use api::CreateSecurityGroupRequestMember as M;
    call.supported(&input, &[M::Description, M::GroupName, M::VpcId, M::TagSpecifications, M::DryRun])?;
    let name = input.group_name.unwrap_or_default();
    let description = input.description.unwrap_or_default();
    sg::check_name(&name)?;
    sg::check_description(&description)?;
    if let Some(v) = &input.vpc_id {
        vpc::check_id(v)?;
    }
    let tags = tag_specifications(input.tag_specifications, ResourceKind::SecurityGroup)?;
    let scope = call.cx.scope.clone();
    let quota = call.cx.state.quotas.security_groups_per_region;
    let now = call.cx.now;
    let vpc_id = input.vpc_id;
    let (id, tags) = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let v: Vpc = match &vpc_id {
                Some(id) => tx.load(&scope, id)?.ok_or_else(|| VpcError::NotFound(vec![id.clone()]))?,
                None => super::vpcs::default_vpc(tx, &scope)?.ok_or_else(no_default_vpc)?,
            };
            if quota.is_some() {
                sg::check_group_quota(tx.count_of::<SecurityGroup>(&scope)?, quota)?;
            }
            let mut group = sg::new_group(
                ResourceKind::SecurityGroup.new_id(&mut OsRandom),
                &name,
                &description,
                &v.id,
                &scope.account,
                false,
                now,
            );
            let rules = default_egress(&group, &v);
            insert_group(tx, &scope, &mut group, &rules)?;
            put_tags(tx, &scope, &group.id, ResourceKind::SecurityGroup, &tags)?;
            Ok((group.id, tags.clone()))
        })
        .await?;
    Ok(api::CreateSecurityGroupResult {
        security_group_arn: Some(group_arn(&call.cx.scope, &id)),
        group_id: Some(id),
        tags: wire_tags(tags),
    })
}

/// EC2 `DeleteSecurityGroup`, by `GroupId` or (default VPC) `GroupName`. Errors:
/// `InvalidGroupId.Malformed`, `InvalidGroup.NotFound`, `CannotDelete` (a default group),
/// `DependencyViolation` (referenced by another group's rule or used by a network
/// interface), `DryRunOperation`.
pub async fn delete_security_group(
    call: &Call,
    input: api::DeleteSecurityGroupRequest,
) -> ApiResult<api::DeleteSecurityGroupResult> {
    use api::DeleteSecurityGroupRequestMember as M;
    call.supported(&input, &[M::GroupId, M::GroupName, M::DryRun])?;
    let scope = call.cx.scope.clone();
    let (id, name) = (input.group_id, input.group_name);
    let deleted = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let group = resolve_group(tx, &scope, id.as_deref(), name.as_deref())?;
            if group.is_default {
                return Err(NetError::CannotDelete(format!(
                    "the specified group: \"{}\" name: \"{}\" cannot be deleted by a user",
                    group.id, group.name
                ))
                .into());
            }
            if let Some(r) = tx.first_reference(&scope, &group.id)? {
                return Err(NetError::Dependency(format!(
                    "resource {} has a dependent object ({} {})",
                    group.id, r.kind, r.source
                ))
                .into());
            }
            erase_group(tx, &scope, &group)?;
            Ok(group.id)
        })
        .await?;
    Ok(api::DeleteSecurityGroupResult { r#return: Some(true), group_id: Some(deleted) })
}

/// What an authorize request asks, whichever direction.
struct Authorize {
    group_id: Option<String>,
    group_name: Option<String>,
    permissions: Vec<PermissionInput>,
    tags: Vec<Tag>,
    egress: bool,
    dry_run: bool,
}

async fn authorize(call: &Call, a: Authorize) -> ApiResult<Vec<api::SecurityGroupRule>> {
    if a.permissions.is_empty() {
        return Err(NetError::Missing("The request must contain the parameter ipPermissions".into()).into());
    }
    let drafts = drafts(&a.permissions)?;
    let scope = call.cx.scope.clone();
    let quota = call.cx.state.quotas.rules_per_security_group;
    let Authorize { group_id, group_name, tags, egress, dry_run, .. } = a;
    let made = call
        .write(dry_run, move |tx| {
            let mut group = resolve_group(tx, &scope, group_id.as_deref(), group_name.as_deref())?;
            let rules = build_rules(tx, &scope, &group, egress, &drafts)?;
            sg::check_unique(&rules.iter().map(SecurityGroupRule::key).collect::<Vec<_>>())?;
            sg::check_rule_quota(&group, egress, rules.len() as u32, quota)?;
            for r in &rules {
                add_rule(tx, &scope, &mut group, r)?;
                put_tags(tx, &scope, &r.id, ResourceKind::SecurityGroupRule, &tags)?;
            }
            tx.save(&scope, &group)?;
            Ok(rules.into_iter().map(|r| rule_to_wire(&scope, r, tags.clone())).collect::<Vec<_>>())
        })
        .await?;
    Ok(made)
}

/// EC2 `AuthorizeSecurityGroupIngress`: `IpPermissions`, or the older top-level form
/// (`IpProtocol`, `FromPort`, `ToPort`, `CidrIp`, `SourceSecurityGroupName`); the group by
/// `GroupId` or (default VPC) `GroupName`; `TagSpecifications` tag the new rules.
/// Errors: `MissingParameter`, `InvalidParameterValue` (protocol, ports, descriptions, a
/// permission named twice), `InvalidParameterCombination`, `InvalidPermission.Malformed`
/// (a CIDR), `InvalidGroupId.Malformed`, `InvalidGroup.NotFound`,
/// `InvalidPrefixListID.Malformed`, `InvalidPrefixListId.NotFound`,
/// `InvalidPermission.Duplicate`, `RulesPerSecurityGroupLimitExceeded`, `DryRunOperation`.
pub async fn authorize_security_group_ingress(
    call: &Call,
    input: api::AuthorizeSecurityGroupIngressRequest,
) -> ApiResult<api::AuthorizeSecurityGroupIngressResult> {
    use api::AuthorizeSecurityGroupIngressRequestMember as M;
    call.supported(
        &input,
        &[
            M::CidrIp,
            M::FromPort,
            M::GroupId,
            M::GroupName,
            M::IpPermissions,
            M::IpProtocol,
            M::SourceSecurityGroupName,
            M::SourceSecurityGroupOwnerId,
            M::ToPort,
            M::TagSpecifications,
            M::DryRun,
        ],
    )?;
    let old = OldForm {
        protocol: input.ip_protocol,
        from_port: input.from_port,
        to_port: input.to_port,
        cidr: input.cidr_ip,
        source_group_name: input.source_security_group_name,
        source_group_owner: input.source_security_group_owner_id,
    };
    let permissions = request_permissions(input.ip_permissions, old)?;
    let tags = tag_specifications(input.tag_specifications, ResourceKind::SecurityGroupRule)?;
    let rules = authorize(
        call,
        Authorize {
            group_id: input.group_id,
            group_name: input.group_name,
            permissions,
            tags,
            egress: false,
            dry_run: input.dry_run.unwrap_or(false),
        },
    )
    .await?;
    Ok(api::AuthorizeSecurityGroupIngressResult { r#return: Some(true), security_group_rules: Some(rules) })
}

/// EC2 `AuthorizeSecurityGroupEgress`: as ingress, by `GroupId` only.
pub async fn authorize_security_group_egress(
    call: &Call,
    input: api::AuthorizeSecurityGroupEgressRequest,
) -> ApiResult<api::AuthorizeSecurityGroupEgressResult> {
    use api::AuthorizeSecurityGroupEgressRequestMember as M;
    call.supported(
        &input,
        &[
            M::TagSpecifications,
            M::DryRun,
            M::GroupId,
            M::SourceSecurityGroupName,
            M::SourceSecurityGroupOwnerId,
            M::IpProtocol,
            M::FromPort,
            M::ToPort,
            M::CidrIp,
            M::IpPermissions,
        ],
    )?;
    let old = OldForm {
        protocol: input.ip_protocol,
        from_port: input.from_port,
        to_port: input.to_port,
        cidr: input.cidr_ip,
        source_group_name: input.source_security_group_name,
        source_group_owner: input.source_security_group_owner_id,
    };
    let permissions = request_permissions(input.ip_permissions, old)?;
    let tags = tag_specifications(input.tag_specifications, ResourceKind::SecurityGroupRule)?;
    let rules = authorize(
        call,
        Authorize {
            group_id: input.group_id,
            group_name: None,
            permissions,
            tags,
            egress: true,
            dry_run: input.dry_run.unwrap_or(false),
        },
    )
    .await?;
    Ok(api::AuthorizeSecurityGroupEgressResult { r#return: Some(true), security_group_rules: Some(rules) })
}

/// What a revoke request asks, whichever direction.
struct Revoke {
    group_id: Option<String>,
    group_name: Option<String>,
    permissions: Vec<PermissionInput>,
    rule_ids: Vec<String>,
    egress: bool,
    dry_run: bool,
}

/// What a revoke did: the rules revoked, and the permissions that matched no rule.
type Revoked = (Vec<api::RevokedSecurityGroupRule>, Vec<api::IpPermission>);

/// Revokes rules by id or by permission. A permission that matches no rule is
/// `InvalidPermission.NotFound` in a nondefault VPC (and nothing is revoked); in the
/// default VPC the others are revoked and it is answered in `UnknownIpPermissions` (the
/// API reference).
async fn revoke(call: &Call, r: Revoke) -> ApiResult<Revoked> {
    let Revoke { group_id, group_name, permissions, rule_ids, egress, dry_run } = r;
    if !permissions.is_empty() && !rule_ids.is_empty() {
        return Err(NetError::Combination(
            "SecurityGroupRuleIds cannot be combined with IpPermissions or the top-level permission parameters.".into(),
        )
        .into());
    }
    if permissions.is_empty() && rule_ids.is_empty() {
        return Err(NetError::Missing(
            "The request must contain the parameter ipPermissions or securityGroupRuleIds".into(),
        )
        .into());
    }
    for id in &rule_ids {
        sg::check_rule_id(id)?;
    }
    let drafts = drafts(&permissions)?;
    let scope = call.cx.scope.clone();
    call.write(dry_run, move |tx| {
        let mut group = resolve_group(tx, &scope, group_id.as_deref(), group_name.as_deref())?;
        let mut revoked = Vec::new();
        let mut unknown = Vec::new();
        if !rule_ids.is_empty() {
            let mut missing = Vec::new();
            let mut found = Vec::new();
            for id in &rule_ids {
                match tx.load::<SecurityGroupRule>(&scope, id)? {
                    Some(rule) if rule.group_id == group.id && rule.egress == egress => {
                        if !found.iter().any(|f: &SecurityGroupRule| f.id == rule.id) {
                            found.push(rule)
                        }
                    }
                    _ => missing.push(id.clone()),
                }
            }
            if !missing.is_empty() {
                return Err(rules_not_found(missing));
            }
            for rule in found {
                remove_rule(tx, &scope, &mut group, &rule)?;
                revoked.push(rule);
            }
        } else {
            let rules = build_rules(tx, &scope, &group, egress, &drafts)?;
            let ns = sg::rule_namespace(&group.id);
            for asked in &rules {
                let existing = match tx.get_alias(&scope, &ns, &asked.key().0)? {
                    Some(id) => tx.load::<SecurityGroupRule>(&scope, &id)?,
                    None => None,
                };
                match existing {
                    Some(rule) => {
                        if !revoked.iter().any(|f: &SecurityGroupRule| f.id == rule.id) {
                            remove_rule(tx, &scope, &mut group, &rule)?;
                            revoked.push(rule);
                        }
                    }
                    None => unknown.push(asked.clone()),
                }
            }
            if !unknown.is_empty() {
                let v: Option<Vpc> = tx.load(&scope, &group.vpc_id)?;
                if !v.is_some_and(|v| v.is_default) {
                    return Err(NetError::PermissionNotFound(
                        "The specified rule does not exist in this security group.".into(),
                    )
                    .into());
                }
            }
        }
        tx.save(&scope, &group)?;
        Ok((revoked.into_iter().map(revoked_to_wire).collect(), to_permissions(unknown.iter())))
    })
    .await
}

/// EC2 `RevokeSecurityGroupIngress`: by `SecurityGroupRuleIds`, `IpPermissions` or the
/// older top-level form. Errors: as authorize, and `InvalidPermission.NotFound`,
/// `InvalidSecurityGroupRuleId.Malformed`, `InvalidSecurityGroupRuleId.NotFound`.
pub async fn revoke_security_group_ingress(
    call: &Call,
    input: api::RevokeSecurityGroupIngressRequest,
) -> ApiResult<api::RevokeSecurityGroupIngressResult> {
    use api::RevokeSecurityGroupIngressRequestMember as M;
    call.supported(
        &input,
        &[
            M::CidrIp,
            M::FromPort,
            M::GroupId,
            M::GroupName,
            M::IpPermissions,
            M::IpProtocol,
            M::SourceSecurityGroupName,
            M::SourceSecurityGroupOwnerId,
            M::ToPort,
            M::SecurityGroupRuleIds,
            M::DryRun,
        ],
    )?;
    let old = OldForm {
        protocol: input.ip_protocol,
        from_port: input.from_port,
        to_port: input.to_port,
        cidr: input.cidr_ip,
        source_group_name: input.source_security_group_name,
        source_group_owner: input.source_security_group_owner_id,
    };
    let permissions = request_permissions(input.ip_permissions, old)?;
    let (revoked, unknown) = revoke(
        call,
        Revoke {
            group_id: input.group_id,
            group_name: input.group_name,
            permissions,
            rule_ids: input.security_group_rule_ids.unwrap_or_default(),
            egress: false,
            dry_run: input.dry_run.unwrap_or(false),
        },
    )
    .await?;
    Ok(api::RevokeSecurityGroupIngressResult {
        r#return: Some(true),
        unknown_ip_permissions: (!unknown.is_empty()).then_some(unknown),
        revoked_security_group_rules: Some(revoked),
    })
}

/// EC2 `RevokeSecurityGroupEgress`: as ingress, by `GroupId` only.
pub async fn revoke_security_group_egress(
    call: &Call,
    input: api::RevokeSecurityGroupEgressRequest,
) -> ApiResult<api::RevokeSecurityGroupEgressResult> {
    use api::RevokeSecurityGroupEgressRequestMember as M;
    call.supported(
        &input,
        &[
            M::SecurityGroupRuleIds,
            M::DryRun,
            M::GroupId,
            M::SourceSecurityGroupName,
            M::SourceSecurityGroupOwnerId,
            M::IpProtocol,
            M::FromPort,
            M::ToPort,
            M::CidrIp,
            M::IpPermissions,
        ],
    )?;
    let old = OldForm {
        protocol: input.ip_protocol,
        from_port: input.from_port,
        to_port: input.to_port,
        cidr: input.cidr_ip,
        source_group_name: input.source_security_group_name,
        source_group_owner: input.source_security_group_owner_id,
    };
    let permissions = request_permissions(input.ip_permissions, old)?;
    let (revoked, unknown) = revoke(
        call,
        Revoke {
            group_id: input.group_id,
            group_name: None,
            permissions,
            rule_ids: input.security_group_rule_ids.unwrap_or_default(),
            egress: true,
            dry_run: input.dry_run.unwrap_or(false),
        },
    )
    .await?;
    Ok(api::RevokeSecurityGroupEgressResult {
        r#return: Some(true),
        unknown_ip_permissions: (!unknown.is_empty()).then_some(unknown),
        revoked_security_group_rules: Some(revoked),
    })
}

/// A page of groups with their rules and tags.
type GroupRows = Vec<(i64, SecurityGroup, Vec<SecurityGroupRule>, Vec<Tag>)>;

/// Keeps the groups that pass the filters, loading each one's rules.
fn keep_groups(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    filters: &FilterSet,
    rows: Vec<(i64, SecurityGroup, Vec<Tag>)>,
    rule_filters: bool,
    out: &mut GroupRows,
    limit: usize,
) -> ApiResult<bool> {
    for (seq, g, tags) in rows {
        // Rules are read first only when a filter looks at them.
        if !rule_filters && !filters.matches(&GroupView { group: &g, rules: &[] }, &tags) {
            continue;
        }
        let rules = rules_of(tx, scope, &g.id)?;
        if rule_filters && !filters.matches(&GroupView { group: &g, rules: &rules }, &tags) {
            continue;
        }
        out.push((seq, g, rules, tags));
        if out.len() > limit {
            return Ok(true);
        }
    }
    Ok(false)
}

/// EC2 `DescribeSecurityGroups`: by `GroupId.N`, `GroupName.N` (default VPC) and/or
/// filters, paginated with `MaxResults` (5–1000) and `NextToken`. Errors:
/// `InvalidGroupId.Malformed`, `InvalidGroup.NotFound`, `InvalidParameterValue`,
/// `FilterLimitExceeded`, `InvalidNextToken`, `DryRunOperation`.
pub async fn describe_security_groups(
    call: &Call,
    input: api::DescribeSecurityGroupsRequest,
) -> ApiResult<api::DescribeSecurityGroupsResult> {
    use api::DescribeSecurityGroupsRequestMember as M;
    call.supported(&input, &[M::GroupIds, M::GroupNames, M::NextToken, M::MaxResults, M::DryRun, M::Filters])?;
    let rule_filters = input.filters.iter().flatten().any(|f| f.name.as_deref().is_some_and(sg::is_rule_filter));
    let filters = filter_set(input.filters, &sg::GROUP_FILTERS)?;
    let mut ids = input.group_ids.unwrap_or_default();
    for id in &ids {
        sg::check_group_id(id)?;
    }
    ids.sort();
    ids.dedup();
    let mut names = input.group_names.unwrap_or_default();
    names.sort();
    names.dedup();
    let limit = page_size(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    let scope = call.cx.scope.clone();
    let (rows, next) = call
        .read(move |tx| {
            let mut out: GroupRows = Vec::new();
            if ids.is_empty() && names.is_empty() {
                // A scan in insertion order; one VPC's groups by their parent index.
                let vpc_ids = filters.literal_values("vpc-id").filter(|v| v.len() == 1);
                let mut cursor = after;
                loop {
                    let chunk = (limit + 1).clamp(64, 1000);
                    let rows: Vec<(i64, SecurityGroup, Vec<Tag>)> = match &vpc_ids {
                        Some(v) => {
                            let page = tx.page_children::<SecurityGroup>(&scope, v[0], cursor, chunk)?;
                            let mut tags = tags_by_id(tx, &scope, page.iter().map(|(_, g)| g.id.as_str()))?;
                            page.into_iter()
                                .map(|(seq, g)| {
                                    let t = tags.remove(&g.id).unwrap_or_default();
                                    (seq, g, t)
                                })
                                .collect()
                        }
                        None => tx
                            .page_tagged::<SecurityGroup>(&scope, cursor, chunk)?
                            .into_iter()
                            .map(|(seq, g, t)| {
                                (seq, g, t.into_iter().map(|t| Tag { key: t.key, value: t.value }).collect())
                            })
                            .collect(),
                    };
                    let exhausted = rows.len() < chunk;
                    if let Some((seq, _, _)) = rows.last() {
                        cursor = *seq;
                    }
                    if keep_groups(tx, &scope, &filters, rows, rule_filters, &mut out, limit)? || exhausted {
                        break;
                    }
                }
            } else {
                // Explicit ids and names: every one must exist.
                let mut found: Vec<(i64, SecurityGroup)> = Vec::new();
                let mut missing = Vec::new();
                for id in &ids {
                    match tx.get(&scope, ResourceKind::SecurityGroup.storage_name(), id)? {
                        Some(rec) => found.push((rec.seq, reservoir_store::typed::decode(&rec)?)),
                        None => missing.push(id.clone()),
                    }
                }
                if !missing.is_empty() {
                    return Err(NetError::NotFound(NetKind::SecurityGroup, missing).into());
                }
                if !names.is_empty() {
                    let vpc = super::vpcs::default_vpc(tx, &scope)?.ok_or_else(no_default_vpc)?;
                    for name in &names {
                        let id = tx
                            .get_alias(&scope, sg::NAME_NAMESPACE, &sg::name_key(&vpc.id, name))?
                            .ok_or_else(|| name_not_found(name, &vpc.id))?;
                        if let Some(rec) = tx.get(&scope, ResourceKind::SecurityGroup.storage_name(), &id)? {
                            found.push((rec.seq, reservoir_store::typed::decode(&rec)?));
                        }
                    }
                }
                found.sort_by_key(|(seq, _)| *seq);
                found.dedup_by_key(|(seq, _)| *seq);
                found.retain(|(seq, _)| *seq > after);
                let mut tags = tags_by_id(tx, &scope, found.iter().map(|(_, g)| g.id.as_str()))?;
                let rows = found
                    .into_iter()
                    .map(|(seq, g)| {
                        let t = tags.remove(&g.id).unwrap_or_default();
                        (seq, g, t)
                    })
                    .collect();
                keep_groups(tx, &scope, &filters, rows, true, &mut out, limit)?;
            }
            let next = if out.len() > limit {
                out.truncate(limit);
                out.last().map(|(seq, ..)| *seq)
            } else {
                None
            };
            Ok((out, next))
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let scope = &call.cx.scope;
    Ok(api::DescribeSecurityGroupsResult {
        next_token: next.map(|seq| call.next_token(&seq.to_string())),
        security_groups: Some(
            rows.into_iter().map(|(_, g, rules, tags)| group_to_wire(scope, g, &rules, tags)).collect(),
        ),
    })
}

/// EC2 `DescribeSecurityGroupRules`: by `SecurityGroupRuleId.N` and/or filters
/// (`group-id`, `security-group-rule-id`, tags), paginated with `MaxResults` (5–1000)
/// and `NextToken`. Errors: `InvalidSecurityGroupRuleId.Malformed`,
/// `InvalidSecurityGroupRuleId.NotFound`, `InvalidParameterValue`, `InvalidNextToken`,
/// `DryRunOperation`.
pub async fn describe_security_group_rules(
    call: &Call,
    input: api::DescribeSecurityGroupRulesRequest,
) -> ApiResult<api::DescribeSecurityGroupRulesResult> {
    use api::DescribeSecurityGroupRulesRequestMember as M;
    call.supported(&input, &[M::Filters, M::SecurityGroupRuleIds, M::DryRun, M::NextToken, M::MaxResults])?;
    let filters = filter_set(input.filters, &sg::RULE_FILTERS)?;
    let mut ids = input.security_group_rule_ids.unwrap_or_default();
    for id in &ids {
        sg::check_rule_id(id)?;
    }
    ids.sort();
    ids.dedup();
    let limit = page_size(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    let scope = call.cx.scope.clone();
    let (items, next) = call
        .read(move |tx| {
            let group_ids: Option<Vec<String>> =
                filters.literal_values("group-id").map(|v| v.into_iter().map(str::to_string).collect());
            let candidates: Vec<(i64, SecurityGroupRule)> = if !ids.is_empty() {
                let mut found = Vec::new();
                let mut missing = Vec::new();
                for id in &ids {
                    match tx.get(&scope, ResourceKind::SecurityGroupRule.storage_name(), id)? {
                        Some(rec) => found.push((rec.seq, reservoir_store::typed::decode(&rec)?)),
                        None => missing.push(id.clone()),
                    }
                }
                if !missing.is_empty() {
                    return Err(rules_not_found(missing));
                }
                found
            } else if let Some(groups) = group_ids {
                // The rules of the named groups, by their parent index.
                let mut found = Vec::new();
                for g in &groups {
                    let mut cursor = after;
                    loop {
                        let page = tx.page_children::<SecurityGroupRule>(&scope, g, cursor, 1000)?;
                        let done = page.len() < 1000;
                        if let Some((seq, _)) = page.last() {
                            cursor = *seq;
                        }
                        found.extend(page);
                        if done {
                            break;
                        }
                    }
                }
                found
            } else {
                let page = scan::<SecurityGroupRule>(tx, &scope, &filters, after, limit)?;
                return Ok((page.items, page.next));
            };
            let mut candidates = candidates;
            candidates.sort_by_key(|(seq, _)| *seq);
            candidates.retain(|(seq, _)| *seq > after);
            let mut tags = tags_by_id(tx, &scope, candidates.iter().map(|(_, r)| r.id.as_str()))?;
            let mut items = Vec::new();
            for (seq, r) in candidates {
                let t = tags.remove(&r.id).unwrap_or_default();
                if filters.matches(&r, &t) {
                    items.push((seq, r, t));
                    if items.len() > limit {
                        break;
                    }
                }
            }
            let page = Page::of(items, limit);
            Ok((page.items, page.next))
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let scope = &call.cx.scope;
    Ok(api::DescribeSecurityGroupRulesResult {
        next_token: next.map(|seq| call.next_token(&seq.to_string())),
        security_group_rules: Some(items.into_iter().map(|(_, r, t)| rule_to_wire(scope, r, t)).collect()),
    })
}

/// EC2 `ModifySecurityGroupRules`: replaces rules of a group by id (protocol, ports, one
/// peer, description); each keeps its id and tags. Errors: `MissingParameter`,
/// `InvalidParameterValue`, `InvalidParameterCombination`, `InvalidPermission.Malformed`,
/// `InvalidGroupId.Malformed`, `InvalidGroup.NotFound`,
/// `InvalidSecurityGroupRuleId.Malformed`, `InvalidSecurityGroupRuleId.NotFound`,
/// `InvalidPermission.Duplicate`, `DryRunOperation`.
pub async fn modify_security_group_rules(
    call: &Call,
    input: api::ModifySecurityGroupRulesRequest,
) -> ApiResult<api::ModifySecurityGroupRulesResult> {
    use api::ModifySecurityGroupRulesRequestMember as M;
    call.supported(&input, &[M::GroupId, M::SecurityGroupRules, M::DryRun])?;
    let group_id = input.group_id.unwrap_or_default();
    sg::check_group_id(&group_id)?;
    let mut updates: Vec<(String, Draft)> = Vec::new();
    for u in input.security_group_rules.unwrap_or_default() {
        let id = u.security_group_rule_id.unwrap_or_default();
        sg::check_rule_id(&id)?;
        let r = u.security_group_rule.ok_or_else(|| {
            NetError::Missing("The request must contain the parameter SecurityGroupRule.N.SecurityGroupRule".into())
        })?;
        let peers =
            [r.cidr_ipv4.is_some(), r.cidr_ipv6.is_some(), r.prefix_list_id.is_some(), r.referenced_group_id.is_some()]
                .into_iter()
                .filter(|b| *b)
                .count();
        if peers != 1 {
            return Err(NetError::Combination(
                "Exactly one of CidrIpv4, CidrIpv6, PrefixListId and ReferencedGroupId must be specified.".into(),
            )
            .into());
        }
        let p = PermissionInput {
            protocol: r.ip_protocol,
            from_port: r.from_port,
            to_port: r.to_port,
            ipv4: r.cidr_ipv4.map(|c| (Some(c), r.description.clone())).into_iter().collect(),
            ipv6: r.cidr_ipv6.map(|c| (Some(c), r.description.clone())).into_iter().collect(),
            prefix_lists: r.prefix_list_id.map(|c| (Some(c), r.description.clone())).into_iter().collect(),
            groups: r
                .referenced_group_id
                .map(|g| GroupInput { group_id: Some(g), description: r.description.clone(), ..Default::default() })
                .into_iter()
                .collect(),
        };
        let mut d = sg::parse_permission(&p)?;
        updates.push((id, d.remove(0)));
    }
    if updates.is_empty() {
        return Err(NetError::Missing("The request must contain the parameter SecurityGroupRule".into()).into());
    }
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let mut group = load_group(tx, &scope, &group_id)?;
        let ns = sg::rule_namespace(&group.id);
        for (id, draft) in &updates {
            let old = match tx.load::<SecurityGroupRule>(&scope, id)? {
                Some(r) if r.group_id == group.id => r,
                _ => return Err(rules_not_found(vec![id.clone()])),
            };
            let mut new = build_rules(tx, &scope, &group, old.egress, std::slice::from_ref(draft))?.remove(0);
            new.id = old.id.clone();
            // Out with the old key and reference, in with the new: same id, same tags.
            tx.delete_alias(&scope, &ns, &old.key().0)?;
            if let Some(target) = group.count_removed(&old) {
                tx.delete_reference(&scope, &target, &group.id)?;
            }
            if let Some(existing) = tx.get_alias(&scope, &ns, &new.key().0)? {
                let existing = tx.load::<SecurityGroupRule>(&scope, &existing)?.unwrap_or_else(|| new.clone());
                return Err(sg::duplicate(&existing).into());
            }
            tx.put_alias(&scope, &ns, &new.key().0, &new.id)?;
            if let Some(target) = group.count_added(&new) {
                tx.put_reference(&scope, &Reference { target, source: group.id.clone(), kind: REFERENCE_KIND.into() })?;
            }
            tx.save(&scope, &new)?;
        }
        tx.save(&scope, &group)?;
        Ok(())
    })
    .await?;
    Ok(api::ModifySecurityGroupRulesResult { r#return: Some(true) })
}

/// Sets rule descriptions, by permission or by rule id.
async fn update_descriptions(
    call: &Call,
    group_id: Option<String>,
    group_name: Option<String>,
    permissions: Option<Vec<api::IpPermission>>,
    by_id: Option<Vec<api::SecurityGroupRuleDescription>>,
    egress: bool,
    dry_run: bool,
) -> ApiResult<()> {
    let permissions: Vec<PermissionInput> = permissions.unwrap_or_default().into_iter().map(permission_input).collect();
    let by_id: Vec<(String, Option<String>)> = by_id
        .unwrap_or_default()
        .into_iter()
        .map(|d| (d.security_group_rule_id.unwrap_or_default(), d.description))
        .collect();
    match (permissions.is_empty(), by_id.is_empty()) {
        (false, false) => {
            return Err(NetError::Combination(
                "IpPermissions and SecurityGroupRuleDescriptions cannot be combined.".into(),
            )
            .into());
        }
        (true, true) => {
            return Err(NetError::Missing(
                "The request must contain the parameter ipPermissions or SecurityGroupRuleDescriptions".into(),
            )
            .into());
        }
        _ => {}
    }
    for (id, d) in &by_id {
        sg::check_rule_id(id)?;
        if let Some(d) = d {
            sg::check_rule_description(d)?;
        }
    }
    let drafts = drafts(&permissions)?;
    let scope = call.cx.scope.clone();
    call.write(dry_run, move |tx| {
        let group = resolve_group(tx, &scope, group_id.as_deref(), group_name.as_deref())?;
        let mut changes: Vec<(String, Option<String>)> = Vec::new();
        if !by_id.is_empty() {
            changes.clone_from(&by_id);
        } else {
            let ns = sg::rule_namespace(&group.id);
            for asked in build_rules(tx, &scope, &group, egress, &drafts)? {
                let id = tx.get_alias(&scope, &ns, &asked.key().0)?.ok_or_else(|| {
                    ApiError::from(NetError::PermissionNotFound(
                        "The specified rule does not exist in this security group.".into(),
                    ))
                })?;
                changes.push((id, asked.description));
            }
        }
        for (id, description) in changes {
            let mut rule = match tx.load::<SecurityGroupRule>(&scope, &id)? {
                Some(r) if r.group_id == group.id && r.egress == egress => r,
                _ => return Err(rules_not_found(vec![id])),
            };
            rule.description = description.filter(|d| !d.is_empty());
            tx.save(&scope, &rule)?;
        }
        Ok(())
    })
    .await
}

/// EC2 `UpdateSecurityGroupRuleDescriptionsIngress`: by `IpPermissions` (the rules must
/// exist: `InvalidPermission.NotFound`) or `SecurityGroupRuleDescriptions`; a missing
/// description removes it.
pub async fn update_security_group_rule_descriptions_ingress(
    call: &Call,
    input: api::UpdateSecurityGroupRuleDescriptionsIngressRequest,
) -> ApiResult<api::UpdateSecurityGroupRuleDescriptionsIngressResult> {
    use api::UpdateSecurityGroupRuleDescriptionsIngressRequestMember as M;
    call.supported(&input, &[M::DryRun, M::GroupId, M::GroupName, M::IpPermissions, M::SecurityGroupRuleDescriptions])?;
    update_descriptions(
        call,
        input.group_id,
        input.group_name,
        input.ip_permissions,
        input.security_group_rule_descriptions,
        false,
        input.dry_run.unwrap_or(false),
    )
    .await?;
    Ok(api::UpdateSecurityGroupRuleDescriptionsIngressResult { r#return: Some(true) })
}

/// EC2 `UpdateSecurityGroupRuleDescriptionsEgress`: as ingress.
pub async fn update_security_group_rule_descriptions_egress(
    call: &Call,
    input: api::UpdateSecurityGroupRuleDescriptionsEgressRequest,
) -> ApiResult<api::UpdateSecurityGroupRuleDescriptionsEgressResult> {
    use api::UpdateSecurityGroupRuleDescriptionsEgressRequestMember as M;
    call.supported(&input, &[M::DryRun, M::GroupId, M::GroupName, M::IpPermissions, M::SecurityGroupRuleDescriptions])?;
    update_descriptions(
        call,
        input.group_id,
        input.group_name,
        input.ip_permissions,
        input.security_group_rule_descriptions,
        true,
        input.dry_run.unwrap_or(false),
    )
    .await?;
    Ok(api::UpdateSecurityGroupRuleDescriptionsEgressResult { r#return: Some(true) })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use reservoir_domain::account::AccountId;
    use reservoir_domain::vpc::{NewVpc, Tenancy};

    use super::*;
    use crate::context::Cx;
    use crate::{AppState, Config};

    fn scope() -> Scope {
        Scope::new(AccountId::default_account(), "us-east-1")
    }

    fn call(state: &Arc<AppState>) -> Call {
        Call {
            cx: Cx {
                state: state.clone(),
                request_id: "r".into(),
                scope: scope(),
                signed: true,
                principal: crate::context::Principal::Developer,
                now: Timestamp(1),
            },
            selection: String::new(),
            parameters: String::new(),
            operation: "Test",
        }
    }

    fn new_vpc(tx: &mut dyn Tx, cidr: &str) -> Vpc {
        let req = NewVpc { cidr: cidr.parse().unwrap(), tenancy: Tenancy::Default };
        let v = vpc::create(&scope().account, &req, "dopt-1", 0, None, Timestamp(1), &mut OsRandom).unwrap();
        tx.create(&scope(), &v).unwrap();
        v
    }

    /// What the VPC family calls: a VPC's default group, its checks and counts, and its
    /// removal with the VPC.
    #[tokio::test]
    async fn vpc_level_functions() {
        let state = Arc::new(AppState::open(Config::ephemeral()).unwrap());
        call(&state)
            .write(false, |tx| {
                let s = scope();
                let v = new_vpc(tx, "10.0.0.0/16");
                let other = new_vpc(tx, "10.1.0.0/16");
                let id = create_default_group(tx, &s, &v, Timestamp(1))?;
                let other_default = create_default_group(tx, &s, &other, Timestamp(1))?;
                assert_eq!(default_group_id(tx, &s, &v.id)?, id);
                let rules = rules_of(tx, &s, &id)?;
                assert_eq!(rules.len(), 2, "in from itself, out to 0.0.0.0/0");
                assert!(
                    rules
                        .iter()
                        .any(|r| !r.egress && matches!(&r.peer, Peer::Group { group_id, .. } if *group_id == id))
                );
                assert!(tx.first_reference(&s, &id)?.is_none(), "a self-reference is not recorded");
                assert_eq!(vpc_group_count(tx, &s, &v.id)?, 0);

                let mut web =
                    sg::new_group("sg-0123456789abcdef0".into(), "web", "d", &v.id, &s.account, false, Timestamp(1));
                let mut egress = default_egress(&web, &v);
                let from_default = SecurityGroupRule {
                    egress: false,
                    protocol: "tcp".into(),
                    from_port: 80,
                    to_port: 80,
                    peer: self_peer(&load_group(tx, &s, &id)?),
                    ..new_rule(&web, false, "tcp", 80, 80, Peer::PrefixList { id: "pl-1".into() })
                };
                egress.push(from_default);
                insert_group(tx, &s, &mut web, &egress)?;
                assert_eq!(vpc_group_count(tx, &s, &v.id)?, 1);
                assert_eq!(tx.first_reference(&s, &id)?.map(|r| r.source), Some(web.id.clone()));
                check_groups(tx, &s, &v.id, &[id.clone(), web.id.clone()])?;
                let e = check_groups(tx, &s, &v.id, std::slice::from_ref(&other_default)).unwrap_err();
                assert_eq!(e.code(), "InvalidParameter");
                let e = check_groups(tx, &s, &v.id, &["sg-0000000000000000f".into()]).unwrap_err();
                assert_eq!(e.code(), "InvalidGroup.NotFound");
                let e = check_groups(tx, &s, &v.id, &["sg-x".into()]).unwrap_err();
                assert_eq!(e.code(), "InvalidGroupId.Malformed");

                remove_vpc_groups(tx, &s, &v.id)?;
                assert_eq!(tx.count_children(&s, ResourceKind::SecurityGroup.storage_name(), &v.id)?, 0);
                assert_eq!(tx.count_children(&s, ResourceKind::SecurityGroupRule.storage_name(), &id)?, 0);
                assert!(default_group_id(tx, &s, &v.id).is_err());
                assert!(tx.first_reference(&s, &id)?.is_none());
                assert_eq!(default_group_id(tx, &s, &other.id)?, other_default, "another VPC's group stays");
                Ok(())
            })
            .await
            .unwrap();
    }
}
