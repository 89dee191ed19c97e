//! Subnets.
//!
//! What Reservoir models (EC2 API reference `CreateSubnet`, `DescribeSubnets`,
//! `ModifySubnetAttribute`, `CreateDefaultSubnet`; Amazon VPC User Guide, "Subnet CIDR
//! blocks"):
//! * an IPv4 block of /16 to /28 inside one of the VPC's IPv4 CIDR associations
//!   (`InvalidSubnet.Range` otherwise), overlapping no sibling (`InvalidSubnet.Conflict`);
//!   host bits are cleared (`crate::cidr`);
//! * optionally IPv6 blocks, each a /64 inside one of the VPC's IPv6 associations, or an
//!   IPv6-only subnet (`Ipv6Native`) that has no IPv4 block at all;
//! * AWS reserves five IPv4 addresses of every subnet: the network address, +1 (the VPC
//!   router), +2 (DNS), +3 (future use) and the broadcast address. So
//!   `AvailableIpAddressCount` = block size − 5 − addresses in use (11 for a /28, 251
//!   for a /24);
//! * the default VPC's subnets: one /20 per Availability Zone (172.31.0.0/20,
//!   172.31.16.0/20, … in zone order), `DefaultForAz` and `MapPublicIpOnLaunch` true.
//!
//! Where a subnet's blocks lie is decided by the address-space engine (`crate::space`):
//! the VPC is a space ([`vpc_space`]) whose roots are its CIDR blocks and whose
//! allocations are its subnets' blocks; each subnet is a space ([`subnet_space`]) whose
//! root is its IPv4 block, with the reserved addresses held from its creation and one
//! /32 allocation per private address of a network interface.

use std::net::Ipv4Addr;

use ipnet::{Ipv4Net, Ipv6Net};
use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::cidr::ipv4_text;
use crate::filter::{FilterSchema, Filterable};
use crate::network::NetError;
use crate::space::{self, Allocation, Block, Family, Search, SpaceError};
use crate::time::Timestamp;
use crate::vpc::{AssociationState, PoolHold, Vpc};

/// The largest and smallest IPv4 subnet blocks.
pub const MIN_PREFIX: u8 = 16;
pub const MAX_PREFIX: u8 = 28;
/// The prefix length of every IPv6 subnet block.
pub const IPV6_PREFIX: u8 = 64;
/// The addresses AWS reserves in every IPv4 subnet.
pub const RESERVED_ADDRESSES: u64 = 5;
/// The size of a default subnet.
pub const DEFAULT_SUBNET_PREFIX: u8 = 20;
/// AWS's default "Subnets per VPC" quota (enforced only when configured).
pub const AWS_SUBNET_QUOTA: u32 = 200;
/// IPv6 blocks a subnet may have at once (AWS: one IPv6 CIDR block per subnet).
pub const MAX_IPV6_BLOCKS: usize = 1;

/// The address space of a VPC: its CIDR blocks, where subnets are allocated.
pub fn vpc_space(vpc_id: &str) -> String {
    format!("vpc:{vpc_id}")
}

/// The address space of a subnet: its IPv4 block, where private addresses are allocated.
pub fn subnet_space(subnet_id: &str) -> String {
    format!("subnet:{subnet_id}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SubnetState {
    Pending,
    Available,
}

impl SubnetState {
    pub fn as_str(self) -> &'static str {
        match self {
            SubnetState::Pending => "pending",
            SubnetState::Available => "available",
        }
    }
}

/// What instance host names are made of at launch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum HostnameType {
    IpName,
    ResourceName,
}

impl HostnameType {
    pub fn as_str(self) -> &'static str {
        match self {
            HostnameType::IpName => "ip-name",
            HostnameType::ResourceName => "resource-name",
        }
    }
}

/// An IPv6 block of a subnet (`subnet-cidr-assoc-…`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ipv6Association {
    pub association_id: String,
    pub cidr: Ipv6Net,
    pub state: AssociationState,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subnet {
    pub id: String,
    pub vpc_id: String,
    pub owner: AccountId,
    /// The region, for the ARN.
    pub region: String,
    /// The IPv4 block. An IPv6-only subnet ([`Subnet::ipv6_native`]) has none: there it
    /// is `0.0.0.0/32` and never shown or used; read it through [`Subnet::ipv4_block`].
    pub cidr_block: Ipv4Net,
    pub availability_zone: String,
    pub availability_zone_id: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipv6_associations: Vec<Ipv6Association>,
    pub map_public_ip_on_launch: bool,
    pub default_for_az: bool,
    pub assign_ipv6_address_on_creation: bool,
    pub enable_dns64: bool,
    pub ipv6_native: bool,
    pub hostname_type: HostnameType,
    pub enable_resource_name_dns_a_record: bool,
    pub enable_resource_name_dns_aaaa_record: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_lni_at_device_index: Option<i32>,
    /// Private IPv4 addresses held by network interfaces (the reserved five excluded);
    /// changed in the same transaction as the subnet space's slots.
    pub addresses_in_use: u64,
    /// The IPAM pool allocation holding the IPv4 block, when it came from a pool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipam: Option<PoolHold>,
    pub state: SubnetState,
    pub created: Timestamp,
}

impl Subnet {
    /// The IPv4 block; `None` for an IPv6-only subnet.
    pub fn ipv4_block(&self) -> Option<Ipv4Net> {
        (!self.ipv6_native).then_some(self.cidr_block)
    }

    /// The first IPv6 block, if any.
    pub fn ipv6_cidr_block(&self) -> Option<Ipv6Net> {
        self.ipv6_associations.first().map(|a| a.cidr)
    }

    /// `AvailableIpAddressCount`: the block's addresses less the reserved ones and those
    /// in use.
    pub fn available_addresses(&self) -> u64 {
        match self.ipv4_block() {
            Some(b) => usable_addresses(b).saturating_sub(self.addresses_in_use),
            None => 0,
        }
    }

    /// `arn:aws:ec2:<region>:<account>:subnet/<id>`.
    pub fn arn(&self) -> String {
        crate::arn::Arn::new("ec2", &self.region, &self.owner, format!("subnet/{}", self.id)).to_string()
    }
}

/// The addresses of a block less AWS's five reserved ones.
pub fn usable_addresses(b: Ipv4Net) -> u64 {
    (1u64 << (32 - u32::from(b.prefix_len()))).saturating_sub(RESERVED_ADDRESSES)
}

/// The reserved addresses of a subnet block as space blocks: the first four (a /30,
/// aligned since a subnet is at least /28) and the broadcast address.
pub fn reserved_blocks(b: Ipv4Net) -> [Block; 2] {
    let start = u32::from(b.network()) as u128;
    let last = u32::from(b.broadcast()) as u128;
    [
        Block::new(Family::Ipv4, start, 30).expect("a subnet block is aligned to /28"),
        Block::new(Family::Ipv4, last, 32).expect("an address"),
    ]
}

/// Parses a subnet IPv4 block (canonical form, /16–/28).
pub fn parse_cidr(text: &str) -> Result<Ipv4Net, NetError> {
    let net = crate::cidr::parse_ipv4(text).map_err(|_| {
        NetError::InvalidValue(format!(
            "Value ({text}) for parameter cidrBlock is invalid. This is not a valid CIDR block."
        ))
    })?;
    check_size(net)?;
    Ok(net)
}

/// /16–/28, else `InvalidSubnet.Range`.
pub fn check_size(net: Ipv4Net) -> Result<(), NetError> {
    if (MIN_PREFIX..=MAX_PREFIX).contains(&net.prefix_len()) {
        Ok(())
    } else {
        Err(NetError::SubnetRange(ipv4_text(&net)))
    }
}

/// Parses a subnet IPv6 block (canonical form, /64).
pub fn parse_ipv6_cidr(text: &str) -> Result<Ipv6Net, NetError> {
    let net = crate::cidr::parse_ipv6(text).map_err(|_| {
        NetError::InvalidValue(format!(
            "Value ({text}) for parameter ipv6CidrBlock is invalid. This is not a valid IPv6 CIDR block."
        ))
    })?;
    if net.prefix_len() != IPV6_PREFIX {
        return Err(NetError::SubnetRange(net.to_string()));
    }
    Ok(net)
}

/// The VPC's associated IPv4 block that contains `net` (`InvalidSubnet.Range` if none).
pub fn containing_ipv4(vpc: &Vpc, net: Ipv4Net) -> Result<Ipv4Net, NetError> {
    vpc.cidr_associations
        .iter()
        .filter(|a| a.state == AssociationState::Associated)
        .map(|a| a.cidr)
        .find(|c| c.contains(&net))
        .ok_or_else(|| NetError::SubnetRange(ipv4_text(&net)))
}

/// The VPC's associated IPv6 block that contains `net` (`InvalidSubnet.Range` if none).
pub fn containing_ipv6(vpc: &Vpc, net: Ipv6Net) -> Result<Ipv6Net, NetError> {
    if vpc.ipv6_associations.is_empty() {
        return Err(NetError::InvalidParameter(format!(
            "The IPv6 CIDR '{net}' cannot be used: the VPC {} has no IPv6 CIDR block.",
            vpc.id
        )));
    }
    vpc.ipv6_associations
        .iter()
        .filter(|a| a.state == AssociationState::Associated)
        .map(|a| a.cidr)
        .find(|c| c.contains(&net))
        .ok_or_else(|| NetError::SubnetRange(net.to_string()))
}

/// Checks a private address asked for in a subnet: inside the block and not reserved
/// (AWS answers `InvalidParameterValue` for both).
pub fn check_private_address(subnet: &Subnet, addr: Ipv4Addr) -> Result<(), NetError> {
    let Some(b) = subnet.ipv4_block() else {
        return Err(NetError::InvalidParameter(format!(
            "The subnet {} is an IPv6-only subnet: it has no private IPv4 addresses.",
            subnet.id
        )));
    };
    if !b.contains(&addr) {
        return Err(NetError::InvalidValue(format!("Address {addr} does not fall within the subnet's address range")));
    }
    let a = u32::from(addr);
    let start = u32::from(b.network());
    if a - start < 4 || addr == b.broadcast() {
        return Err(NetError::InvalidValue(format!("Address {addr} is in subnet's reserved address range")));
    }
    Ok(())
}

/// The `n`th /20 of a default VPC block in zone order (AWS's layout of default subnets).
pub fn default_subnet_block(vpc_block: Ipv4Net, n: u32) -> Option<Ipv4Net> {
    let size = 1u64 << (32 - u32::from(DEFAULT_SUBNET_PREFIX));
    let offset = u64::from(n) * size;
    let total = 1u64 << (32 - u32::from(vpc_block.prefix_len()));
    if offset + size > total {
        return None;
    }
    let start = u64::from(u32::from(vpc_block.network())) + offset;
    Ipv4Net::new(Ipv4Addr::from(start as u32), DEFAULT_SUBNET_PREFIX).ok()
}

// ----- Address spaces -------------------------------------------------------------
//
// Each function decides through `space::Slots` (each call one indexed lookup) inside the
// caller's transaction. Their error type takes both the engine's errors and this
// module's, so that a refusal names the subnet rule it broke.

/// Makes sure every block of the VPC is a root of its space, adding missing ones (VPCs
/// made before subnets were served, blocks associated since) and removing roots of
/// blocks the VPC no longer has (always free: a block with subnets cannot be
/// disassociated). One or two lookups per VPC block.
pub fn ensure_vpc_roots<S>(s: &mut S, vpc: &Vpc) -> Result<(), S::Error>
where
    S: space::Slots,
    S::Error: From<NetError>,
{
    let space = vpc_space(&vpc.id);
    let v4 = vpc.cidr_associations.iter().filter(|a| a.state == AssociationState::Associated).map(|a| a.cidr.into());
    let v6 = vpc.ipv6_associations.iter().filter(|a| a.state == AssociationState::Associated).map(|a| a.cidr.into());
    for net in v4.chain(v6).collect::<Vec<ipnet::IpNet>>() {
        ensure_root(s, &space, Block::of_net(net))?;
    }
    Ok(())
}

fn ensure_root<S>(s: &mut S, space: &str, root: Block) -> Result<(), S::Error>
where
    S: space::Slots,
    S::Error: From<NetError>,
{
    loop {
        // The only slot that can overlap the root is the last one starting at or before
        // its end (slots are disjoint).
        let found = s.at_or_before(space, root.family, root.last())?.filter(|slot| slot.block.overlaps(root));
        let Some(slot) = found else {
            return space::add_root(s, space, root);
        };
        let its_root = Block::containing(root.family, slot.block.start, slot.root_prefix);
        if its_root == root {
            return Ok(());
        }
        if slot.is_free() && slot.block == its_root {
            // A root of a block the VPC no longer has, free: it goes.
            space::remove_root(s, space, its_root)?;
            continue;
        }
        return Err(SpaceError::Inconsistent(format!(
            "the VPC block {} overlaps {}, which holds subnets in {space}",
            root.text(),
            its_root.text()
        ))
        .into());
    }
}

/// The allocation of a subnet's block in its VPC's space.
fn block_holder(alloc_id: &str, subnet_id: &str, owner: &AccountId, region: &str, now: Timestamp) -> Allocation {
    Allocation {
        id: alloc_id.to_string(),
        resource_type: "subnet".into(),
        resource_id: Some(subnet_id.to_string()),
        resource_owner: owner.to_string(),
        resource_region: Some(region.to_string()),
        description: None,
        created: now,
    }
}

/// Takes exactly `block` (a subnet block already checked to lie inside one of the VPC's
/// blocks, whose roots are ensured) in the VPC's space for `alloc_id`:
/// `InvalidSubnet.Conflict` if any part of it is held by a sibling.
#[allow(clippy::too_many_arguments)]
pub fn place_block<S>(
    s: &mut S,
    vpc_id: &str,
    block: Block,
    alloc_id: &str,
    subnet_id: &str,
    owner: &AccountId,
    region: &str,
    now: Timestamp,
) -> Result<(), S::Error>
where
    S: space::Slots,
    S::Error: From<NetError>,
{
    let space = vpc_space(vpc_id);
    // A fully free aligned block inside one root always lies inside a single free slot
    // (free buddies are merged): anything else means a sibling holds part of it.
    match s.at_or_before(&space, block.family, block.start)? {
        Some(slot) if slot.block.contains(block) && slot.is_free() => {
            space::allocate_exact(s, &space, block, block_holder(alloc_id, subnet_id, owner, region, now))
        }
        _ => Err(NetError::SubnetConflict(block.text()).into()),
    }
}

/// Frees a subnet block in its VPC's space.
pub fn release_block<S: space::Slots>(s: &mut S, vpc_id: &str, block: Block, alloc_id: &str) -> Result<(), S::Error> {
    space::release(s, &vpc_space(vpc_id), block, alloc_id).map(|_| ())
}

fn reserved_holder(subnet: &Subnet, which: &str, now: Timestamp) -> Allocation {
    Allocation {
        id: format!("{}/reserved-{which}", subnet.id),
        resource_type: "reserved".into(),
        resource_id: Some(subnet.id.clone()),
        resource_owner: subnet.owner.to_string(),
        resource_region: Some(subnet.region.clone()),
        description: Some("reserved by AWS".into()),
        created: now,
    }
}

/// Makes the subnet's own space: its IPv4 block as the root, AWS's five reserved
/// addresses held. Nothing for an IPv6-only subnet.
pub fn open_subnet_space<S: space::Slots>(s: &mut S, subnet: &Subnet, now: Timestamp) -> Result<(), S::Error> {
    let Some(b) = subnet.ipv4_block() else { return Ok(()) };
    let space = subnet_space(&subnet.id);
    space::add_root(s, &space, Block::of_net(b.into()))?;
    let [low, broadcast] = reserved_blocks(b);
    space::allocate_exact(s, &space, low, reserved_holder(subnet, "low", now))?;
    space::allocate_exact(s, &space, broadcast, reserved_holder(subnet, "broadcast", now))
}

/// The allocation id of a private address of a subnet.
pub fn address_allocation_id(subnet_id: &str, addr: Ipv4Addr) -> String {
    format!("{subnet_id}/{addr}")
}

/// Takes a private address of the subnet for `holder` (a network interface): the one
/// asked for if it is free (`InvalidIPAddress.InUse` otherwise), else the lowest free
/// one (`InsufficientFreeAddressesInSubnet` when none is left). Counts it in
/// `subnet.addresses_in_use`; the caller saves the subnet in the same transaction.
pub fn take_address<S>(
    s: &mut S,
    subnet: &mut Subnet,
    requested: Option<Ipv4Addr>,
    holder: &str,
    now: Timestamp,
) -> Result<Ipv4Addr, S::Error>
where
    S: space::Slots,
    S::Error: From<NetError>,
{
    let Some(b) = subnet.ipv4_block() else {
        return Err(NetError::InvalidParameter(format!(
            "The subnet {} is an IPv6-only subnet: it has no private IPv4 addresses.",
            subnet.id
        ))
        .into());
    };
    let space = subnet_space(&subnet.id);
    let block = match requested {
        Some(addr) => {
            check_private_address(subnet, addr)?;
            let block = Block::new(Family::Ipv4, u32::from(addr) as u128, 32).expect("an address");
            match s.at_or_before(&space, Family::Ipv4, block.start)? {
                Some(slot) if slot.block.contains(block) && slot.is_free() => block,
                _ => {
                    return Err(NetError::AddressInUse(format!(
                        "The specified address {addr} is already in use in subnet {}.",
                        subnet.id
                    ))
                    .into());
                }
            }
        }
        None => {
            let req = Search {
                family: Family::Ipv4,
                prefix: 32,
                largest_root: b.prefix_len(),
                allowed: vec![],
                disallowed: vec![],
            };
            match space::find(s, &space, &req)? {
                Some(block) => block,
                None => {
                    return Err(NetError::AddressesExhausted(format!(
                        "There are not enough free addresses in subnet '{}' to satisfy the requested number of instances.",
                        subnet.id
                    ))
                    .into());
                }
            }
        }
    };
    let addr = Ipv4Addr::from(block.start as u32);
    let holding = Allocation {
        id: address_allocation_id(&subnet.id, addr),
        resource_type: "network-interface".into(),
        resource_id: Some(holder.to_string()),
        resource_owner: subnet.owner.to_string(),
        resource_region: Some(subnet.region.clone()),
        description: None,
        created: now,
    };
    space::allocate_exact(s, &space, block, holding)?;
    subnet.addresses_in_use += 1;
    Ok(addr)
}

/// Frees a private address `holder` holds in the subnet, and counts it free.
pub fn free_address<S>(s: &mut S, subnet: &mut Subnet, addr: Ipv4Addr, holder: &str) -> Result<(), S::Error>
where
    S: space::Slots,
    S::Error: From<NetError>,
{
    let space = subnet_space(&subnet.id);
    let block = Block::new(Family::Ipv4, u32::from(addr) as u128, 32).expect("an address");
    let held_by_holder = matches!(
        s.at_or_before(&space, Family::Ipv4, block.start)?,
        Some(slot) if slot.block == block
            && slot.holder.as_ref().is_some_and(|h| h.resource_id.as_deref() == Some(holder)
                && h.resource_type == "network-interface")
    );
    if !held_by_holder {
        return Err(NetError::InvalidValue(format!(
            "The address {addr} is not assigned to {holder} in subnet {}.",
            subnet.id
        ))
        .into());
    }
    space::release(s, &space, block, &address_allocation_id(&subnet.id, addr))?;
    subnet.addresses_in_use = subnet.addresses_in_use.saturating_sub(1);
    Ok(())
}

/// What a new subnet is made of, once its blocks and zone are decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSubnet {
    pub id: String,
    pub vpc_id: String,
    pub owner: AccountId,
    pub region: String,
    pub cidr_block: Option<Ipv4Net>,
    pub ipv6: Option<Ipv6Association>,
    pub availability_zone: String,
    pub availability_zone_id: String,
    pub default_for_az: bool,
    pub ipam: Option<PoolHold>,
}

/// A new subnet with AWS's attribute defaults (a default subnet maps public addresses).
pub fn build(req: NewSubnet, now: Timestamp) -> Subnet {
    let ipv6_native = req.cidr_block.is_none();
    Subnet {
        id: req.id,
        vpc_id: req.vpc_id,
        owner: req.owner,
        region: req.region,
        cidr_block: req.cidr_block.unwrap_or_else(|| Ipv4Net::new(Ipv4Addr::UNSPECIFIED, 32).expect("valid")),
        availability_zone: req.availability_zone,
        availability_zone_id: req.availability_zone_id,
        ipv6_associations: req.ipv6.into_iter().collect(),
        map_public_ip_on_launch: req.default_for_az,
        default_for_az: req.default_for_az,
        assign_ipv6_address_on_creation: ipv6_native,
        enable_dns64: false,
        ipv6_native,
        // IPv6-only subnets name instances by resource (AWS's only choice there).
        hostname_type: if ipv6_native { HostnameType::ResourceName } else { HostnameType::IpName },
        enable_resource_name_dns_a_record: false,
        enable_resource_name_dns_aaaa_record: false,
        enable_lni_at_device_index: None,
        addresses_in_use: 0,
        ipam: req.ipam,
        state: SubnetState::Available,
        created: now,
    }
}

/// One `ModifySubnetAttribute` change (AWS takes one attribute per call).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attribute {
    MapPublicIpOnLaunch(bool),
    AssignIpv6AddressOnCreation(bool),
    EnableDns64(bool),
    HostnameType(HostnameType),
    ResourceNameDnsA(bool),
    ResourceNameDnsAaaa(bool),
    EnableLniAtDeviceIndex(i32),
    DisableLniAtDeviceIndex(bool),
}

/// Picks the one attribute of a `ModifySubnetAttribute` call from the (wire name,
/// value) pairs given: none is `MissingParameter`, two or more AWS's `InvalidRequest`
/// ("Only one subnet attribute can be modified at a time").
pub fn one_attribute(given: Vec<(&'static str, Attribute)>) -> Result<Attribute, NetError> {
    match given.len() {
        0 => Err(NetError::Missing("The request must contain one subnet attribute to modify.".into())),
        1 => Ok(given.into_iter().next().expect("one").1),
        _ => {
            let names: Vec<&str> = given.iter().map(|(n, _)| *n).collect();
            Err(NetError::InvalidRequest(format!(
                "Only one subnet attribute can be modified at a time. Provided attributes: [{}]",
                names.join(", ")
            )))
        }
    }
}

/// Applies one attribute change, with AWS's rules.
pub fn modify(subnet: &mut Subnet, attribute: Attribute) -> Result<(), NetError> {
    match attribute {
        Attribute::MapPublicIpOnLaunch(v) => {
            if v && subnet.ipv6_native {
                return Err(NetError::InvalidParameter(
                    "MapPublicIpOnLaunch cannot be enabled on an IPv6-only subnet.".into(),
                ));
            }
            subnet.map_public_ip_on_launch = v;
        }
        Attribute::AssignIpv6AddressOnCreation(v) => {
            if v && subnet.ipv6_associations.is_empty() {
                return Err(NetError::InvalidParameter(format!(
                    "The subnet {} has no IPv6 CIDR block: AssignIpv6AddressOnCreation cannot be enabled.",
                    subnet.id
                )));
            }
            if !v && subnet.ipv6_native {
                return Err(NetError::InvalidParameter(
                    "AssignIpv6AddressOnCreation cannot be disabled on an IPv6-only subnet.".into(),
                ));
            }
            subnet.assign_ipv6_address_on_creation = v;
        }
        Attribute::EnableDns64(v) => subnet.enable_dns64 = v,
        Attribute::HostnameType(t) => {
            if subnet.ipv6_native && t == HostnameType::IpName {
                return Err(NetError::InvalidParameter(
                    "An IPv6-only subnet names instances by resource: ip-name is not allowed.".into(),
                ));
            }
            subnet.hostname_type = t;
        }
        Attribute::ResourceNameDnsA(v) => {
            if v && subnet.ipv6_native {
                return Err(NetError::InvalidParameter(
                    "DNS A records cannot be enabled on an IPv6-only subnet.".into(),
                ));
            }
            subnet.enable_resource_name_dns_a_record = v;
        }
        Attribute::ResourceNameDnsAaaa(v) => {
            if v && subnet.ipv6_associations.is_empty() {
                return Err(NetError::InvalidParameter(format!(
                    "The subnet {} has no IPv6 CIDR block: DNS AAAA records cannot be enabled.",
                    subnet.id
                )));
            }
            subnet.enable_resource_name_dns_aaaa_record = v;
        }
        Attribute::EnableLniAtDeviceIndex(i) => {
            if i < 1 {
                return Err(NetError::InvalidValue(format!(
                    "Value ({i}) for parameter enableLniAtDeviceIndex is invalid. A local network interface cannot be the primary network interface (device index 0)."
                )));
            }
            subnet.enable_lni_at_device_index = Some(i);
        }
        Attribute::DisableLniAtDeviceIndex(v) => {
            if v {
                subnet.enable_lni_at_device_index = None;
            }
        }
    }
    Ok(())
}

/// `DescribeSubnets` filters (EC2 API reference), with the older spellings the reference
/// itself lists: `availabilityZone`, `availabilityZoneId`, `cidr` and `cidrBlock`,
/// `defaultForAz`.
pub const FILTERS: FilterSchema = FilterSchema {
    names: &[
        "availability-zone",
        "availability-zone-id",
        "available-ip-address-count",
        "cidr-block",
        "customer-owned-ipv4-pool",
        "default-for-az",
        "enable-dns64",
        "enable-lni-at-device-index",
        "ipv6-cidr-block-association.ipv6-cidr-block",
        "ipv6-cidr-block-association.association-id",
        "ipv6-cidr-block-association.state",
        "ipv6-native",
        "map-customer-owned-ip-on-launch",
        "map-public-ip-on-launch",
        "outpost-arn",
        "owner-id",
        "private-dns-name-options-on-launch.hostname-type",
        "private-dns-name-options-on-launch.enable-resource-name-dns-a-record",
        "private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record",
        "state",
        "subnet-arn",
        "subnet-id",
        "vpc-id",
    ],
    aliases: &[
        ("availabilityZone", "availability-zone"),
        ("availabilityZoneId", "availability-zone-id"),
        ("cidr", "cidr-block"),
        ("cidrBlock", "cidr-block"),
        ("defaultForAz", "default-for-az"),
    ],
    tags: true,
};

fn flag(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

impl Filterable for Subnet {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "availability-zone" => m(&self.availability_zone),
            "availability-zone-id" => m(&self.availability_zone_id),
            "available-ip-address-count" => m(&self.available_addresses().to_string()),
            "cidr-block" => self.ipv4_block().is_some_and(|b| m(&ipv4_text(&b))),
            "default-for-az" => m(flag(self.default_for_az)),
            "enable-dns64" => m(flag(self.enable_dns64)),
            "enable-lni-at-device-index" => self.enable_lni_at_device_index.is_some_and(|i| m(&i.to_string())),
            "ipv6-cidr-block-association.ipv6-cidr-block" => {
                self.ipv6_associations.iter().any(|a| m(&a.cidr.to_string()))
            }
            "ipv6-cidr-block-association.association-id" => self.ipv6_associations.iter().any(|a| m(&a.association_id)),
            "ipv6-cidr-block-association.state" => self.ipv6_associations.iter().any(|a| m(a.state.as_str())),
            "ipv6-native" => m(flag(self.ipv6_native)),
            // Customer-owned addresses belong to Outposts, which Reservoir does not
            // model: no subnet maps them.
            "map-customer-owned-ip-on-launch" => m("false"),
            "map-public-ip-on-launch" => m(flag(self.map_public_ip_on_launch)),
            "owner-id" => m(self.owner.as_str()),
            "private-dns-name-options-on-launch.hostname-type" => m(self.hostname_type.as_str()),
            "private-dns-name-options-on-launch.enable-resource-name-dns-a-record" => {
                m(flag(self.enable_resource_name_dns_a_record))
            }
            "private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record" => {
                m(flag(self.enable_resource_name_dns_aaaa_record))
            }
            "state" => m(self.state.as_str()),
            "subnet-arn" => m(&self.arn()),
            "subnet-id" => m(&self.id),
            "vpc-id" => m(&self.vpc_id),
            // No subnet has a customer-owned pool or an Outpost.
            "customer-owned-ipv4-pool" | "outpost-arn" => false,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests;
