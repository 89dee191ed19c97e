//! Network interfaces, their private addresses and attachments: `CreateNetworkInterface`,
//! `DescribeNetworkInterfaces`, `DeleteNetworkInterface`, `AttachNetworkInterface`,
//! `DetachNetworkInterface`, `AssignPrivateIpAddresses`, `UnassignPrivateIpAddresses`,
//! `ModifyNetworkInterfaceAttribute`.
//!
//! An interface is stored with its subnet as parent. Its private IPv4 addresses are
//! slots of the subnet's address space (taken and freed through the subnet family, in
//! the same transaction); its IPv6 addresses are unique keys of the `aliases` table
//! (namespace [`IPV6_NAMESPACE`]); each security group it uses is a row of the
//! `references` table (target = group, source = interface), so a group in use is found
//! with one indexed lookup. An attachment id finds its interface through the alias
//! namespace [`ATTACHMENT_NAMESPACE`]. An address may carry an Elastic IP
//! (`PrivateAddress::association`, written by the address family); deleting the
//! interface or unassigning the address disassociates it in the same transaction.

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::Ipv6Net;
use reservoir_domain::account::Scope;
use reservoir_domain::ids::{OsRandom, Random, ResourceKind};
use reservoir_domain::interface::{
    self, AddressPlan, AssignRequest, AttachmentStatus, GroupRef, InstanceView, NetworkInterface, NewInterface,
};
use reservoir_domain::network::{self, NetError, NetKind};
use reservoir_domain::security_group::SecurityGroup;
use reservoir_domain::subnet::{Subnet, address_allocation_id};
use reservoir_domain::tags::Tag;
use reservoir_domain::time::Timestamp;
use reservoir_store::{ReadTx, ReadTxExt, Reference, Tx, TxExt};
use reservoir_wire::DateTime;
use reservoir_wire::ec2_api as api;

use super::security_groups::{check_groups, default_group_id};
use super::shared::{
    Call, Encoded, filter_set, idempotent, listing, page_size, put_tags, tag_specifications, wire_tags,
};
use super::subnets::{free_private_address, load_subnet, take_private_address};
use crate::error::{ApiError, ApiResult};

/// Alias namespace: IPv6 address → interface id (an address is held once per scope).
pub const IPV6_NAMESPACE: &str = "network-interface-ipv6";
/// Alias namespace: attachment id → interface id.
pub const ATTACHMENT_NAMESPACE: &str = "network-interface-attachment";
/// The `kind` of the references an interface makes to its security groups.
pub const REFERENCE_KIND: &str = "network-interface";

/// Interfaces in the VPC's subnets: one indexed count per subnet (DeleteVpc refuses
/// while any exists).
pub fn vpc_interface_count(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str) -> ApiResult<u64> {
    let mut total = 0;
    let mut after = 0;
    loop {
        let subnets = tx.list_children(scope, ResourceKind::Subnet.storage_name(), vpc_id, after, 500)?;
        let done = subnets.len() < 500;
        for s in &subnets {
            after = s.seq;
            total += tx.count_children(scope, ResourceKind::NetworkInterface.storage_name(), &s.id)?;
        }
        if done {
            return Ok(total);
        }
    }
}

/// One interface by id: `InvalidNetworkInterfaceID.Malformed`, then `.NotFound`.
pub fn load_interface(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<NetworkInterface> {
    interface::check_id(id)?;
    tx.load(scope, id)?.ok_or_else(|| NetError::NotFound(NetKind::NetworkInterface, vec![id.to_string()]).into())
}

/// The interface an attachment belongs to: `InvalidAttachmentID.Malformed`, `.NotFound`.
pub fn interface_of_attachment(tx: &mut dyn ReadTx, scope: &Scope, attachment_id: &str) -> ApiResult<NetworkInterface> {
    network::check_id(NetKind::Attachment, attachment_id)?;
    let not_found = || NetError::NotFound(NetKind::Attachment, vec![attachment_id.to_string()]);
    let eni = tx.get_alias(scope, ATTACHMENT_NAMESPACE, attachment_id)?.ok_or_else(not_found)?;
    let iface: NetworkInterface = tx.load(scope, &eni)?.ok_or_else(not_found)?;
    match &iface.attachment {
        Some(a) if a.id == attachment_id => Ok(iface),
        _ => Err(not_found().into()),
    }
}

/// What the attach rules need of an instance: `InvalidInstanceID.Malformed`, then
/// `.NotFound` (a terminated instance past its hour is gone); it accepts an interface
/// while running or stopped.
pub fn instance_view(tx: &mut dyn ReadTx, scope: &Scope, instance_id: &str, now: Timestamp) -> ApiResult<InstanceView> {
    let i = super::instances::find_instance(tx, scope, instance_id, now)?;
    Ok(InstanceView {
        id: i.id.clone(),
        owner: i.owner.clone(),
        availability_zone: i.availability_zone.clone(),
        accepts_interfaces: i.state.accepts_interfaces(),
        used_slots: i.used_slots(),
    })
}

/// Creates an instance's network interface inside the caller's transaction (the
/// instance family's launch): in `subnet`, with `primary` or the subnet's lowest free
/// address, the groups given (else the VPC's default group), no description; tagged
/// with `tags`. Not attached yet.
#[allow(clippy::too_many_arguments)]
pub fn create_in_tx(
    tx: &mut dyn Tx,
    scope: &Scope,
    subnet: &Subnet,
    primary: Option<Ipv4Addr>,
    groups_given: &[String],
    description: &str,
    tags: &[Tag],
    quota_groups: Option<u32>,
    quota_interfaces: Option<u32>,
    now: Timestamp,
) -> ApiResult<NetworkInterface> {
    if let Some(q) = quota_interfaces {
        let existing = tx.count_of::<NetworkInterface>(scope)?;
        interface::check_interface_quota(existing, Some(q))?;
    }
    let groups = resolve_groups(tx, scope, &subnet.vpc_id, groups_given, quota_groups)?;
    let id = ResourceKind::NetworkInterface.new_id(&mut OsRandom);
    let address = take_private_address(tx, scope, &subnet.id, primary, &id, now)?;
    let req = NewInterface {
        subnet_id: subnet.id.clone(),
        vpc_id: subnet.vpc_id.clone(),
        availability_zone: subnet.availability_zone.clone(),
        availability_zone_id: subnet.availability_zone_id.clone(),
        region: scope.region.clone(),
        description: description.to_string(),
        groups,
    };
    let iface = interface::build(id, &scope.account, req, address, &[], Vec::new(), now, &mut OsRandom);
    tx.create(scope, &iface)?;
    put_tags(tx, scope, &iface.id, ResourceKind::NetworkInterface, tags)?;
    put_group_references(tx, scope, &iface)?;
    Ok(iface)
}

/// Replaces the security groups of an interface inside the caller's transaction (the
/// instance family's `groupSet`); answers the groups set.
pub fn set_groups_in_tx(
    tx: &mut dyn Tx,
    scope: &Scope,
    iface: &mut NetworkInterface,
    ids: &[String],
    quota: Option<u32>,
) -> ApiResult<Vec<GroupRef>> {
    let vpc_id = iface.vpc_id.clone();
    iface.groups = resolve_groups(tx, scope, &vpc_id, ids, quota)?;
    tx.delete_references_from(scope, &iface.id)?;
    put_group_references(tx, scope, iface)?;
    tx.save(scope, &*iface)?;
    Ok(iface.groups.clone())
}

/// What an instance's termination does to an interface attached to it: deleted with
/// every address it holds when its attachment says `DeleteOnTermination`, else detached
/// (whatever its device index). Answers whether it was deleted.
pub fn release_for_termination_in_tx(tx: &mut dyn Tx, scope: &Scope, interface_id: &str) -> ApiResult<bool> {
    let Some(mut iface) = tx.load::<NetworkInterface>(scope, interface_id)? else {
        return Ok(false);
    };
    let Some(a) = iface.attachment.take() else {
        return Ok(false);
    };
    tx.delete_alias(scope, ATTACHMENT_NAMESPACE, &a.id)?;
    if a.delete_on_termination {
        release_all(tx, scope, &iface)?;
        tx.remove::<NetworkInterface>(scope, &iface.id)?;
        Ok(true)
    } else {
        tx.save(scope, &iface)?;
        Ok(false)
    }
}

/// The name of a security group (names never change).
fn group_name(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<String> {
    let g: SecurityGroup =
        tx.load(scope, id)?.ok_or_else(|| NetError::NotFound(NetKind::SecurityGroup, vec![id.to_string()]))?;
    Ok(g.name)
}

/// The security groups of an interface of `vpc_id`: the given ones (each existing, in the
/// VPC, at most the configured quota), else the VPC's default group.
fn resolve_groups(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    vpc_id: &str,
    given: &[String],
    quota: Option<u32>,
) -> ApiResult<Vec<GroupRef>> {
    let ids: Vec<String> = if given.is_empty() {
        vec![default_group_id(tx, scope, vpc_id)?]
    } else {
        let mut ids: Vec<String> = Vec::with_capacity(given.len());
        for id in given {
            network::check_id(NetKind::SecurityGroup, id)?;
            if !ids.contains(id) {
                ids.push(id.clone());
            }
        }
        interface::check_group_quota(ids.len(), quota)?;
        check_groups(tx, scope, vpc_id, &ids)?;
        ids
    };
    ids.into_iter()
        .map(|id| {
            let name = group_name(tx, scope, &id)?;
            Ok(GroupRef { id, name })
        })
        .collect()
}

fn put_group_references(tx: &mut dyn Tx, scope: &Scope, iface: &NetworkInterface) -> ApiResult<()> {
    for g in &iface.groups {
        tx.put_reference(
            scope,
            &Reference { target: g.id.clone(), source: iface.id.clone(), kind: REFERENCE_KIND.to_string() },
        )?;
    }
    Ok(())
}

/// The wire form of an interface.
/// The wire form of an Elastic IP associated with an interface's address.
pub fn association_wire(region: &str, a: &interface::PublicAssociation) -> api::NetworkInterfaceAssociation {
    api::NetworkInterfaceAssociation {
        allocation_id: Some(a.allocation_id.clone()),
        association_id: Some(a.association_id.clone()),
        ip_owner_id: Some(a.ip_owner.as_str().to_string()),
        public_dns_name: a.public_ip.map(|ip| reservoir_domain::address::public_dns_name(region, ip)),
        public_ip: a.public_ip.map(|ip| ip.to_string()),
        customer_owned_ip: a.customer_owned_ip.map(|ip| ip.to_string()),
        carrier_ip: None,
    }
}

pub fn to_wire(i: NetworkInterface, tags: Vec<Tag>) -> api::NetworkInterface {
    let dns = i.private_dns_name();
    let region = i.region.clone();
    let in_use = i.attachment.is_some();
    let primary_association = i
        .private_addresses
        .iter()
        .find(|a| a.primary)
        .and_then(|a| a.association.as_ref())
        .map(|a| association_wire(&region, a));
    api::NetworkInterface {
        association: primary_association,
        attachment: i.attachment.map(|a| api::NetworkInterfaceAttachment {
            attach_time: Some(DateTime::from_unix_millis(a.attach_time.millis())),
            attachment_id: Some(a.id),
            delete_on_termination: Some(a.delete_on_termination),
            device_index: Some(a.device_index as i32),
            network_card_index: Some(a.network_card_index as i32),
            instance_id: Some(a.instance_id),
            instance_owner_id: Some(a.instance_owner.into_string()),
            status: Some(match a.status {
                AttachmentStatus::Attaching => api::AttachmentStatus::Attaching,
                AttachmentStatus::Attached => api::AttachmentStatus::Attached,
                AttachmentStatus::Detaching => api::AttachmentStatus::Detaching,
                AttachmentStatus::Detached => api::AttachmentStatus::Detached,
            }),
            ena_srd_specification: None,
            ena_queue_count: None,
        }),
        availability_zone: Some(i.availability_zone),
        connection_tracking_configuration: None,
        description: Some(i.description),
        groups: Some(
            i.groups
                .into_iter()
                .map(|g| api::GroupIdentifier { group_id: Some(g.id), group_name: Some(g.name) })
                .collect(),
        ),
        // The only requester-managed interfaces served are VPC endpoints'.
        interface_type: Some(if i.requester_managed {
            api::NetworkInterfaceType::VpcEndpoint
        } else {
            api::NetworkInterfaceType::Interface
        }),
        ipv6_addresses: Some(
            i.ipv6_addresses
                .iter()
                .map(|a| api::NetworkInterfaceIpv6Address {
                    ipv6_address: Some(a.to_string()),
                    public_ipv6_dns_name: None,
                    is_primary_ipv6: Some(false),
                })
                .collect(),
        ),
        mac_address: Some(i.mac_address),
        network_interface_id: Some(i.id),
        outpost_arn: None,
        owner_id: Some(i.owner.into_string()),
        private_dns_name: Some(dns),
        public_dns_name: None,
        public_ip_dns_name_options: None,
        private_ip_address: i.private_addresses.iter().find(|a| a.primary).map(|a| a.address.to_string()),
        private_ip_addresses: Some(
            i.private_addresses
                .iter()
                .map(|a| api::NetworkInterfacePrivateIpAddress {
                    association: a.association.as_ref().map(|x| association_wire(&region, x)),
                    primary: Some(a.primary),
                    private_dns_name: Some(interface::private_dns_name(&region, a.address)),
                    private_ip_address: Some(a.address.to_string()),
                })
                .collect(),
        ),
        ipv4_prefixes: None,
        ipv6_prefixes: None,
        requester_id: i.requester_id,
        requester_managed: Some(i.requester_managed),
        source_dest_check: Some(i.source_dest_check),
        status: Some(if in_use { api::NetworkInterfaceStatus::InUse } else { api::NetworkInterfaceStatus::Available }),
        subnet_id: Some(i.subnet_id),
        tag_set: wire_tags(tags),
        vpc_id: Some(i.vpc_id),
        deny_all_igw_traffic: None,
        ipv6_native: Some(false),
        ipv6_address: None,
        operator: Some(api::OperatorResponse { managed: Some(false), principal: None, hidden_by_default: None }),
        associated_subnets: None,
        availability_zone_id: Some(i.availability_zone_id),
    }
}

/// Takes the IPv6 addresses asked for (given ones, or `count` chosen at random) from the
/// subnet's /64 for interface `holder`.
fn take_ipv6(
    tx: &mut dyn Tx,
    scope: &Scope,
    subnet: &Subnet,
    given: &[Ipv6Addr],
    count: u32,
    holder: &str,
) -> ApiResult<Vec<Ipv6Addr>> {
    if given.is_empty() && count == 0 {
        return Ok(Vec::new());
    }
    let Some(block) = subnet.ipv6_cidr_block() else {
        return Err(NetError::InvalidValue(format!(
            "You cannot assign IPv6 addresses to a network interface in subnet {}: the subnet has no IPv6 CIDR block.",
            subnet.id
        ))
        .into());
    };
    let mut out = Vec::with_capacity(given.len() + count as usize);
    for a in given {
        if !block.contains(a) {
            return Err(
                NetError::InvalidValue(format!("Address {a} does not fall within the subnet's address range")).into()
            );
        }
        claim_ipv6(tx, scope, *a, holder)?;
        out.push(*a);
    }
    let mut rng = OsRandom;
    while out.len() < given.len() + count as usize {
        let a = random_ipv6(block, &mut rng);
        if tx.get_alias(scope, IPV6_NAMESPACE, &a.to_string())?.is_none() {
            claim_ipv6(tx, scope, a, holder)?;
            out.push(a);
        }
    }
    Ok(out)
}

fn claim_ipv6(tx: &mut dyn Tx, scope: &Scope, a: Ipv6Addr, holder: &str) -> ApiResult<()> {
    if tx.get_alias(scope, IPV6_NAMESPACE, &a.to_string())?.is_some() {
        return Err(NetError::AddressInUse(format!("The specified address {a} is already in use.")).into());
    }
    tx.put_alias(scope, IPV6_NAMESPACE, &a.to_string(), holder)?;
    Ok(())
}

/// A random address of the block, avoiding its first four addresses (AWS reserves them).
fn random_ipv6(block: Ipv6Net, rng: &mut dyn Random) -> Ipv6Addr {
    let host_bits = 128 - u32::from(block.prefix_len());
    let mut bytes = [0u8; 16];
    rng.fill(&mut bytes);
    let mask = if host_bits >= 128 { u128::MAX } else { (1u128 << host_bits) - 1 };
    let host = (u128::from_be_bytes(bytes) & mask).max(4);
    Ipv6Addr::from(u128::from(block.network()) | host)
}

/// Frees everything an interface holds: its private addresses, IPv6 addresses and group
/// references.
fn release_all(tx: &mut dyn Tx, scope: &Scope, iface: &NetworkInterface) -> ApiResult<()> {
    for a in iface.associations() {
        super::addresses::forget_association_in_tx(tx, scope, a)?;
    }
    for a in &iface.private_addresses {
        free_private_address(tx, scope, &iface.subnet_id, a.address, &iface.id)?;
    }
    for a in &iface.ipv6_addresses {
        tx.delete_alias(scope, IPV6_NAMESPACE, &a.to_string())?;
    }
    tx.delete_references_from(scope, &iface.id)?;
    Ok(())
}

/// EC2 `CreateNetworkInterface`. Errors: `MissingParameter`, `InvalidSubnetID.Malformed`,
/// `InvalidSubnetID.NotFound`, `InvalidParameterValue`, `InvalidParameterCombination`,
/// `InvalidIPAddress.InUse`, `InsufficientFreeAddressesInSubnet`, `InvalidGroup.NotFound`,
/// `InvalidGroupId.Malformed`, `SecurityGroupsPerInterfaceLimitExceeded`,
/// `NetworkInterfaceLimitExceeded`, `TagLimitExceeded`, `IdempotentParameterMismatch`,
/// `DryRunOperation`.
pub async fn create_network_interface(call: &Call, input: api::CreateNetworkInterfaceRequest) -> ApiResult<Encoded> {
    use api::CreateNetworkInterfaceRequestMember as M;
    call.supported(
        &input,
        &[
            M::SubnetId,
            M::Description,
            M::PrivateIpAddress,
            M::Groups,
            M::PrivateIpAddresses,
            M::SecondaryPrivateIpAddressCount,
            M::Ipv6Addresses,
            M::Ipv6AddressCount,
            M::TagSpecifications,
            M::ClientToken,
            M::DryRun,
        ],
    )?;
    let subnet_id = input.subnet_id.unwrap_or_default();
    network::check_id(NetKind::Subnet, &subnet_id)?;
    let description = input.description.unwrap_or_default();
    interface::check_description(&description)?;
    let list: Vec<(Option<bool>, Option<String>)> =
        input.private_ip_addresses.unwrap_or_default().into_iter().map(|s| (s.primary, s.private_ip_address)).collect();
    let plan: AddressPlan = interface::plan_addresses(
        input.private_ip_address.as_deref(),
        &list,
        input.secondary_private_ip_address_count,
    )?;
    let ipv6_given: Vec<Ipv6Addr> = input
        .ipv6_addresses
        .unwrap_or_default()
        .into_iter()
        .map(|a| {
            a.ipv6_address
                .ok_or_else(|| {
                    NetError::Missing("The request must contain the parameter Ipv6Addresses.N.Ipv6Address".into())
                })
                .and_then(|t| interface::parse_ipv6(&t))
        })
        .collect::<Result<_, _>>()?;
    let ipv6_count = match input.ipv6_address_count {
        Some(_) if !ipv6_given.is_empty() => {
            return Err(
                NetError::Combination("You can't specify both Ipv6Addresses and Ipv6AddressCount.".into()).into()
            );
        }
        Some(n) if n < 0 => {
            return Err(NetError::InvalidValue(format!(
                "Value ({n}) for parameter ipv6AddressCount is invalid. Expected a non-negative number."
            ))
            .into());
        }
        n => n,
    };
    let groups_given = input.groups.unwrap_or_default();
    let tags = tag_specifications(input.tag_specifications, ResourceKind::NetworkInterface)?;
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    let quotas = call.cx.state.quotas.clone();
    let token = input.client_token.clone();
    idempotent(call, input.client_token, input.dry_run.unwrap_or(false), move |tx| {
        let subnet = load_subnet(tx, &scope, &subnet_id)?;
        if let Some(q) = quotas.network_interfaces_per_region {
            let existing = tx.count_of::<NetworkInterface>(&scope)?;
            interface::check_interface_quota(existing, Some(q))?;
        }
        let groups = resolve_groups(tx, &scope, &subnet.vpc_id, &groups_given, quotas.security_groups_per_interface)?;
        let asked = 1 + plan.secondaries.len() + plan.secondary_count as usize;
        interface::check_address_quota(0, asked, quotas.private_addresses_per_interface)?;
        let id = ResourceKind::NetworkInterface.new_id(&mut OsRandom);
        let primary = take_private_address(tx, &scope, &subnet.id, plan.primary, &id, now)?;
        let mut secondaries = Vec::with_capacity(plan.secondaries.len() + plan.secondary_count as usize);
        for a in &plan.secondaries {
            secondaries.push(take_private_address(tx, &scope, &subnet.id, Some(*a), &id, now)?);
        }
        for _ in 0..plan.secondary_count {
            secondaries.push(take_private_address(tx, &scope, &subnet.id, None, &id, now)?);
        }
        // A subnet that assigns IPv6 on creation gives one unless the count says 0.
        let count = match ipv6_count {
            Some(n) => n as u32,
            None if ipv6_given.is_empty() && subnet.assign_ipv6_address_on_creation => 1,
            None => 0,
        };
        let ipv6 = take_ipv6(tx, &scope, &subnet, &ipv6_given, count, &id)?;
        let req = NewInterface {
            subnet_id: subnet.id.clone(),
            vpc_id: subnet.vpc_id.clone(),
            availability_zone: subnet.availability_zone.clone(),
            availability_zone_id: subnet.availability_zone_id.clone(),
            region: scope.region.clone(),
            description: description.clone(),
            groups,
        };
        let iface = interface::build(id, &scope.account, req, primary, &secondaries, ipv6, now, &mut OsRandom);
        tx.create(&scope, &iface)?;
        put_tags(tx, &scope, &iface.id, ResourceKind::NetworkInterface, &tags)?;
        put_group_references(tx, &scope, &iface)?;
        Ok(Encoded::of(&api::CreateNetworkInterfaceResult {
            network_interface: Some(to_wire(iface, tags.clone())),
            client_token: token.clone(),
        }))
    })
    .await
}

/// EC2 `DescribeNetworkInterfaces`: by `NetworkInterfaceId.N` (each must exist) and/or
/// filters, paginated with `MaxResults` (5–1000) and `NextToken`.
pub async fn describe_network_interfaces(
    call: &Call,
    input: api::DescribeNetworkInterfacesRequest,
) -> ApiResult<api::DescribeNetworkInterfacesResult> {
    use api::DescribeNetworkInterfacesRequestMember as M;
    call.supported(
        &input,
        &[M::Filters, M::NetworkInterfaceIds, M::NextToken, M::MaxResults, M::DryRun, M::IncludeManagedResources],
    )?;
    let filters = filter_set(input.filters, &interface::FILTERS)?;
    let mut ids = input.network_interface_ids.unwrap_or_default();
    for id in &ids {
        interface::check_id(id)?;
    }
    ids.sort();
    ids.dedup();
    let limit = page_size(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    let scope = call.cx.scope.clone();
    let (items, next) = call
        .read(move |tx| {
            let page = listing::<NetworkInterface>(tx, &scope, &ids, &filters, after, limit, |missing| {
                NetError::NotFound(NetKind::NetworkInterface, missing).into()
            })?;
            Ok((page.items, page.next))
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(api::DescribeNetworkInterfacesResult {
        next_token: next.map(|seq| call.next_token(&seq.to_string())),
        network_interfaces: Some(items.into_iter().map(|(_, i, t)| to_wire(i, t)).collect()),
    })
}

/// EC2 `DeleteNetworkInterface`: refused while attached (`InvalidNetworkInterface.InUse`);
/// frees every address and group reference.
pub async fn delete_network_interface(call: &Call, input: api::DeleteNetworkInterfaceRequest) -> ApiResult<()> {
    use api::DeleteNetworkInterfaceRequestMember as M;
    call.supported(&input, &[M::NetworkInterfaceId, M::DryRun])?;
    let id = input.network_interface_id.unwrap_or_default();
    interface::check_id(&id)?;
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let iface = load_interface(tx, &scope, &id)?;
        interface::check_deletable(&iface)?;
        release_all(tx, &scope, &iface)?;
        tx.remove::<NetworkInterface>(&scope, &iface.id)?;
        Ok(())
    })
    .await
}

/// Attaches an interface to an instance inside the caller's transaction: the decision is
/// [`interface::attach`]; the attachment id is recorded for `DetachNetworkInterface`. The
/// instance family calls this too.
pub fn attach_in_tx(
    tx: &mut dyn Tx,
    scope: &Scope,
    iface: &mut NetworkInterface,
    instance: &InstanceView,
    device_index: i32,
    network_card_index: i32,
    now: Timestamp,
) -> ApiResult<interface::Attachment> {
    let a = interface::attach(iface, instance, device_index, network_card_index, now, &mut OsRandom)?;
    tx.save(scope, &*iface)?;
    tx.put_alias(scope, ATTACHMENT_NAMESPACE, &a.id, &iface.id)?;
    Ok(a)
}

/// Detaches inside the caller's transaction ([`interface::detach`]).
pub fn detach_in_tx(
    tx: &mut dyn Tx,
    scope: &Scope,
    iface: &mut NetworkInterface,
    attachment_id: &str,
    force: bool,
) -> ApiResult<interface::Attachment> {
    let a = interface::detach(iface, attachment_id, force)?;
    tx.save(scope, &*iface)?;
    tx.delete_alias(scope, ATTACHMENT_NAMESPACE, attachment_id)?;
    Ok(a)
}

/// EC2 `AttachNetworkInterface`. Errors: `InvalidNetworkInterfaceID.*`,
/// `InvalidInstanceID.Malformed`, `InvalidInstanceID.NotFound`,
/// `InvalidNetworkInterface.InUse`, `InvalidParameterValue`, `InvalidParameterCombination`,
/// `IncorrectState`, `DryRunOperation`.
pub async fn attach_network_interface(
    call: &Call,
    input: api::AttachNetworkInterfaceRequest,
) -> ApiResult<api::AttachNetworkInterfaceResult> {
    use api::AttachNetworkInterfaceRequestMember as M;
    call.supported(&input, &[M::NetworkInterfaceId, M::InstanceId, M::DeviceIndex, M::NetworkCardIndex, M::DryRun])?;
    let id = input.network_interface_id.unwrap_or_default();
    interface::check_id(&id)?;
    let instance_id = input.instance_id.unwrap_or_default();
    network::check_id(NetKind::Instance, &instance_id)?;
    let device_index = input.device_index.unwrap_or_default();
    let card = input.network_card_index.unwrap_or(0);
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let mut iface = load_interface(tx, &scope, &id)?;
        let instance = instance_view(tx, &scope, &instance_id, now)?;
        let a = attach_in_tx(tx, &scope, &mut iface, &instance, device_index, card, now)?;
        super::instances::note_attached(tx, &scope, &instance_id, &a, &iface.id)?;
        Ok(api::AttachNetworkInterfaceResult {
            attachment_id: Some(a.id),
            network_card_index: Some(a.network_card_index as i32),
        })
    })
    .await
}

/// EC2 `DetachNetworkInterface`. Errors: `InvalidAttachmentID.Malformed`,
/// `InvalidAttachmentID.NotFound`, `OperationNotPermitted` (device index 0),
/// `DryRunOperation`.
pub async fn detach_network_interface(call: &Call, input: api::DetachNetworkInterfaceRequest) -> ApiResult<()> {
    use api::DetachNetworkInterfaceRequestMember as M;
    call.supported(&input, &[M::AttachmentId, M::Force, M::DryRun])?;
    let attachment_id = input.attachment_id.unwrap_or_default();
    network::check_id(NetKind::Attachment, &attachment_id)?;
    let force = input.force.unwrap_or(false);
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let mut iface = interface_of_attachment(tx, &scope, &attachment_id)?;
        let a = detach_in_tx(tx, &scope, &mut iface, &attachment_id, force)?;
        super::instances::note_detached(tx, &scope, &a.instance_id, &iface.id)?;
        Ok(())
    })
    .await
}

/// Moves a secondary address held by another interface of the subnet to nobody, for
/// `AllowReassignment`. A primary address is never moved.
fn release_for_reassignment(tx: &mut dyn Tx, scope: &Scope, subnet_id: &str, me: &str, a: Ipv4Addr) -> ApiResult<()> {
    let Some((_, slot)) = tx.slot_of_allocation(scope, &address_allocation_id(subnet_id, a))? else {
        return Ok(());
    };
    let Some(holder) = slot.holder.and_then(|h| (h.resource_type == REFERENCE_KIND).then_some(h.resource_id)).flatten()
    else {
        return Ok(());
    };
    if holder == me {
        return Ok(());
    }
    let Some(mut other) = tx.load::<NetworkInterface>(scope, &holder)? else {
        return Ok(());
    };
    if other.private_addresses.iter().any(|p| p.address == a && p.primary) {
        return Ok(()); // taking it answers InvalidIPAddress.InUse
    }
    for p in other.private_addresses.iter().filter(|p| p.address == a) {
        if let Some(x) = &p.association {
            super::addresses::forget_association_in_tx(tx, scope, x)?;
        }
    }
    other.private_addresses.retain(|p| p.address != a);
    tx.save(scope, &other)?;
    free_private_address(tx, scope, subnet_id, a, &holder)
}

/// EC2 `AssignPrivateIpAddresses`: given secondary addresses (`AllowReassignment` moves
/// them from another interface of the subnet) or a count chosen by the subnet.
pub async fn assign_private_ip_addresses(
    call: &Call,
    input: api::AssignPrivateIpAddressesRequest,
) -> ApiResult<api::AssignPrivateIpAddressesResult> {
    use api::AssignPrivateIpAddressesRequestMember as M;
    call.supported(
        &input,
        &[M::NetworkInterfaceId, M::PrivateIpAddresses, M::SecondaryPrivateIpAddressCount, M::AllowReassignment],
    )?;
    let id = input.network_interface_id.unwrap_or_default();
    interface::check_id(&id)?;
    let request = interface::plan_assign(
        &input.private_ip_addresses.unwrap_or_default(),
        input.secondary_private_ip_address_count,
    )?;
    let reassign = input.allow_reassignment.unwrap_or(false);
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    let quota = call.cx.state.quotas.private_addresses_per_interface;
    call.write(false, move |tx| {
        let mut iface = load_interface(tx, &scope, &id)?;
        let (wanted, count): (Vec<Option<Ipv4Addr>>, usize) = match &request {
            AssignRequest::Addresses(a) => (a.iter().copied().map(Some).collect(), a.len()),
            AssignRequest::Count(n) => (vec![None; *n as usize], *n as usize),
        };
        interface::check_address_quota(iface.private_addresses.len(), count, quota)?;
        let mut assigned = Vec::with_capacity(count);
        for want in wanted {
            if let (Some(a), true) = (want, reassign) {
                release_for_reassignment(tx, &scope, &iface.subnet_id, &iface.id, a)?;
            }
            let a = take_private_address(tx, &scope, &iface.subnet_id, want, &iface.id, now)?;
            iface.private_addresses.push(interface::PrivateAddress::new(a, false));
            assigned.push(api::AssignedPrivateIpAddress { private_ip_address: Some(a.to_string()) });
        }
        tx.save(&scope, &iface)?;
        Ok(api::AssignPrivateIpAddressesResult {
            network_interface_id: Some(iface.id),
            assigned_private_ip_addresses: Some(assigned),
            assigned_ipv4_prefixes: None,
        })
    })
    .await
}

/// EC2 `UnassignPrivateIpAddresses`: secondary addresses only.
pub async fn unassign_private_ip_addresses(
    call: &Call,
    input: api::UnassignPrivateIpAddressesRequest,
) -> ApiResult<()> {
    use api::UnassignPrivateIpAddressesRequestMember as M;
    call.supported(&input, &[M::NetworkInterfaceId, M::PrivateIpAddresses])?;
    let id = input.network_interface_id.unwrap_or_default();
    interface::check_id(&id)?;
    let addresses: Vec<Ipv4Addr> = input
        .private_ip_addresses
        .unwrap_or_default()
        .iter()
        .map(|t| interface::parse_address(t))
        .collect::<Result<_, _>>()?;
    let scope = call.cx.scope.clone();
    call.write(false, move |tx| {
        let mut iface = load_interface(tx, &scope, &id)?;
        interface::check_unassign(&iface, &addresses)?;
        let mut seen = Vec::new();
        for a in &addresses {
            if seen.contains(a) {
                continue;
            }
            seen.push(*a);
            free_private_address(tx, &scope, &iface.subnet_id, *a, &iface.id)?;
        }
        // An Elastic IP of an unassigned address is disassociated (it stays allocated).
        for p in iface.private_addresses.iter().filter(|p| seen.contains(&p.address)) {
            if let Some(x) = &p.association {
                super::addresses::forget_association_in_tx(tx, &scope, x)?;
            }
        }
        iface.private_addresses.retain(|p| !seen.contains(&p.address));
        tx.save(&scope, &iface)?;
        Ok(())
    })
    .await
}

/// One attribute change of `ModifyNetworkInterfaceAttribute`.
enum Change {
    Description(String),
    SourceDestCheck(bool),
    Groups(Vec<String>),
    DeleteOnTermination(String, bool),
}

/// EC2 `ModifyNetworkInterfaceAttribute`: one of `Description`, `SourceDestCheck`,
/// `Groups` (replacing the set; references updated) or `Attachment.DeleteOnTermination`.
pub async fn modify_network_interface_attribute(
    call: &Call,
    input: api::ModifyNetworkInterfaceAttributeRequest,
) -> ApiResult<()> {
    use api::ModifyNetworkInterfaceAttributeRequestMember as M;
    call.supported(
        &input,
        &[M::NetworkInterfaceId, M::Description, M::SourceDestCheck, M::Groups, M::Attachment, M::DryRun],
    )?;
    let id = input.network_interface_id.unwrap_or_default();
    interface::check_id(&id)?;
    let mut changes = Vec::new();
    if let Some(d) = input.description {
        let text = d.value.unwrap_or_default();
        interface::check_description(&text)?;
        changes.push(("description", Change::Description(text)));
    }
    if let Some(s) = input.source_dest_check {
        let v = s
            .value
            .ok_or_else(|| NetError::Missing("The request must contain the parameter SourceDestCheck.Value".into()))?;
        changes.push(("sourceDestCheck", Change::SourceDestCheck(v)));
    }
    if let Some(g) = input.groups {
        changes.push(("groupSet", Change::Groups(g)));
    }
    if let Some(a) = input.attachment {
        let attachment_id = a.attachment_id.ok_or_else(|| {
            NetError::Missing("The request must contain the parameter Attachment.AttachmentId".into())
        })?;
        network::check_id(NetKind::Attachment, &attachment_id)?;
        let v = a.delete_on_termination.ok_or_else(|| {
            NetError::Missing("The request must contain the parameter Attachment.DeleteOnTermination".into())
        })?;
        changes.push(("attachment", Change::DeleteOnTermination(attachment_id, v)));
    }
    let change = match changes.len() {
        0 => {
            return Err(NetError::Missing(
                "The request must contain one of Description, SourceDestCheck, SecurityGroupId or Attachment".into(),
            )
            .into());
        }
        1 => changes.pop().expect("one").1,
        _ => {
            let names: Vec<&str> = changes.iter().map(|(n, _)| *n).collect();
            return Err(NetError::Combination(format!(
                "Fields for multiple attribute types specified: {}",
                names.join(", ")
            ))
            .into());
        }
    };
    let scope = call.cx.scope.clone();
    let quota = call.cx.state.quotas.security_groups_per_interface;
    let change = std::sync::Arc::new(change);
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let mut iface = load_interface(tx, &scope, &id)?;
        match &*change {
            Change::Description(d) => iface.description = d.clone(),
            Change::SourceDestCheck(v) => iface.source_dest_check = *v,
            Change::Groups(ids) => {
                let vpc_id = iface.vpc_id.clone();
                iface.groups = resolve_groups(tx, &scope, &vpc_id, ids, quota)?;
                tx.delete_references_from(&scope, &iface.id)?;
                put_group_references(tx, &scope, &iface)?;
                let primary_of = iface.attachment.as_ref().filter(|a| a.device_index == 0 && a.network_card_index == 0);
                if let Some(a) = primary_of {
                    super::instances::note_primary_groups(tx, &scope, &a.instance_id, &iface.groups)?;
                }
            }
            Change::DeleteOnTermination(attachment_id, v) => {
                interface::set_delete_on_termination(&mut iface, attachment_id, *v)?;
            }
        }
        tx.save(&scope, &iface)?;
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use reservoir_domain::account::AccountId;
    use reservoir_domain::ids::SeededRandom;

    use super::*;
    use crate::{AppState, Config};

    fn scope() -> Scope {
        Scope::new(AccountId::default_account(), "us-east-1")
    }

    fn instance(used: &[(u32, u32)]) -> InstanceView {
        InstanceView {
            id: "i-0123456789abcdef0".into(),
            owner: AccountId::default_account(),
            availability_zone: "us-east-1a".into(),
            accepts_interfaces: true,
            used_slots: used.to_vec(),
        }
    }

    fn stored_interface(tx: &mut dyn Tx) -> ApiResult<NetworkInterface> {
        let mut rng = SeededRandom::new(4);
        let req = NewInterface {
            subnet_id: "subnet-0123456789abcdef0".into(),
            vpc_id: "vpc-0123456789abcdef0".into(),
            availability_zone: "us-east-1a".into(),
            availability_zone_id: "use1-az1".into(),
            region: "us-east-1".into(),
            description: String::new(),
            groups: vec![],
        };
        let id = ResourceKind::NetworkInterface.new_id(&mut rng);
        let i = interface::build(
            id,
            &scope().account,
            req,
            "10.0.1.4".parse().unwrap(),
            &[],
            vec![],
            Timestamp(1),
            &mut rng,
        );
        tx.create(&scope(), &i)?;
        Ok(i)
    }

    /// What the instance family relies on: an attachment made in a transaction is found
    /// by its id afterwards, refuses a delete, and is gone after a detach.
    #[tokio::test]
    async fn attachments_are_found_by_id_and_detached() {
        let state = Arc::new(AppState::open(Config::ephemeral()).unwrap());
        let (eni, attachment) = crate::context::write(&state, |tx| {
            let mut i = stored_interface(tx)?;
            let a = attach_in_tx(tx, &scope(), &mut i, &instance(&[(0, 0)]), 1, 0, Timestamp(2))?;
            Ok((i.id, a.id))
        })
        .await
        .unwrap();
        let (a, e) = (attachment.clone(), eni.clone());
        let found = crate::context::read(&state, move |tx| interface_of_attachment(tx, &scope(), &a)).await.unwrap();
        assert_eq!(found.id, e);
        assert_eq!(found.status(), "in-use");
        assert!(interface::check_deletable(&found).is_err());

        let (a, e) = (attachment.clone(), eni.clone());
        crate::context::write(&state, move |tx| {
            let mut i = load_interface(tx, &scope(), &e)?;
            detach_in_tx(tx, &scope(), &mut i, &a, false)?;
            Ok(())
        })
        .await
        .unwrap();
        let a = attachment.clone();
        let err = crate::context::read(&state, move |tx| interface_of_attachment(tx, &scope(), &a)).await.unwrap_err();
        assert_eq!(err.code(), "InvalidAttachmentID.NotFound");
        let e = eni.clone();
        let i = crate::context::read(&state, move |tx| load_interface(tx, &scope(), &e)).await.unwrap();
        assert_eq!(i.status(), "available");
        assert!(i.attachment.is_none());
    }
}
