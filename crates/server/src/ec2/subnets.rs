//! Subnets (`CreateSubnet`, `DescribeSubnets`, `DeleteSubnet`, `ModifySubnetAttribute`,
//! `AssociateSubnetCidrBlock`, `DisassociateSubnetCidrBlock`, `CreateDefaultSubnet`,
//! `CreateDefaultVpc`) and the private addresses of a subnet, taken from its address
//! space for the network interfaces family.
//!
//! Where blocks go is decided by the address-space engine inside the write transaction
//! (`domain::subnet` has the rules): a subnet's blocks are allocations of its VPC's space
//! (so siblings cannot overlap: the slot schema refuses it whatever a writer decided), and
//! each subnet is a space of its own whose /32 allocations are interfaces' addresses.
//! One default subnet per zone is a unique key in the `aliases` table.

use std::net::Ipv4Addr;

use ipnet::{IpNet, Ipv4Net};
use reservoir_domain::account::Scope;
use reservoir_domain::cidr::ipv4_text;
use reservoir_domain::ids::{OsRandom, ResourceKind};
use reservoir_domain::ipam::{self, Ask, IpamError, IpamPool};
use reservoir_domain::network::{self, NetError, NetKind, NetLimit};
use reservoir_domain::region::Catalogue;
use reservoir_domain::space::{self, Allocation, Block, Family};
use reservoir_domain::subnet::{
    self, Attribute, HostnameType, Ipv6Association, NewSubnet, Subnet, SubnetState, vpc_space,
};
use reservoir_domain::tags::Tag;
use reservoir_domain::time::Timestamp;
use reservoir_domain::vpc::{self, AssociationState, PoolHold, Vpc, VpcError};
use reservoir_store::slots::TxSlots;
use reservoir_store::{ReadTx, ReadTxExt, Tx, TxExt};
use reservoir_wire::ec2_api as api;

use super::shared::{Call, filter_set, listing, page_size, put_tags, tag_specifications, wire_tags};
use crate::error::{ApiError, ApiResult};

type Slots<'a> = TxSlots<'a, ApiError>;

/// The alias namespace that makes one default subnet per zone a unique key.
pub const DEFAULT_SUBNET_ALIAS: &str = "default-subnet";

// ----- What other families call -----------------------------------------------------

/// A subnet by id: `InvalidSubnetID.Malformed`, then `InvalidSubnetID.NotFound`.
pub fn load_subnet(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<Subnet> {
    network::check_id(NetKind::Subnet, id)?;
    tx.load::<Subnet>(scope, id)?.ok_or_else(|| NetError::NotFound(NetKind::Subnet, vec![id.to_string()]).into())
}

/// Takes a private IPv4 address of the subnet for `holder` (a network interface id):
/// `requested` if free (`InvalidIPAddress.InUse` if held; `InvalidParameterValue` if
/// outside the subnet or reserved), else the lowest free one
/// (`InsufficientFreeAddressesInSubnet` when none is left). The subnet's count of
/// addresses in use changes in the same transaction.
pub fn take_private_address(
    tx: &mut dyn Tx,
    scope: &Scope,
    subnet_id: &str,
    requested: Option<Ipv4Addr>,
    holder: &str,
    now: Timestamp,
) -> ApiResult<Ipv4Addr> {
    let mut s = load_subnet(tx, scope, subnet_id)?;
    let addr = {
        let mut slots = Slots::new(tx, scope);
        subnet::take_address(&mut slots, &mut s, requested, holder, now)?
    };
    tx.save(scope, &s)?;
    Ok(addr)
}

/// Frees a private address `holder` holds in the subnet.
pub fn free_private_address(
    tx: &mut dyn Tx,
    scope: &Scope,
    subnet_id: &str,
    address: Ipv4Addr,
    holder: &str,
) -> ApiResult<()> {
    let mut s = load_subnet(tx, scope, subnet_id)?;
    {
        let mut slots = Slots::new(tx, scope);
        subnet::free_address(&mut slots, &mut s, address, holder)?;
    }
    tx.save(scope, &s)?;
    Ok(())
}

/// The subnets of a VPC (one indexed count).
pub fn vpc_subnet_count(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str) -> ApiResult<u64> {
    Ok(tx.count_children(scope, ResourceKind::Subnet.storage_name(), vpc_id)?)
}

/// Whether a subnet lies in `block`, a CIDR of the VPC (one index search).
pub fn vpc_block_in_use(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str, block: Block) -> ApiResult<bool> {
    Ok(tx.any_held_slot(scope, &vpc_space(vpc_id), block)?)
}

/// Forgets a deleted VPC's address space (its roots; its subnets are gone already).
pub fn remove_vpc_space(tx: &mut dyn Tx, scope: &Scope, vpc_id: &str) -> ApiResult<()> {
    tx.delete_space(scope, &vpc_space(vpc_id))?;
    Ok(())
}

/// The default VPC's subnets: one /20 per Availability Zone of the region, in zone
/// order (172.31.0.0/20, 172.31.16.0/20, …), `DefaultForAz` and `MapPublicIpOnLaunch`.
pub fn create_default_subnets_with(
    tx: &mut dyn Tx,
    scope: &Scope,
    catalogue: &Catalogue,
    vpc: &Vpc,
    now: Timestamp,
) -> ApiResult<()> {
    let zones = default_zones(catalogue, &scope.region);
    for (n, (name, id)) in zones.into_iter().enumerate() {
        let Some(block) = subnet::default_subnet_block(vpc.cidr_block(), n as u32) else {
            break;
        };
        make_default_subnet(tx, scope, vpc, block, &name, &id, now)?;
    }
    Ok(())
}

/// The Availability Zones of a region (Local and Wavelength Zones excluded), in order.
fn default_zones(catalogue: &Catalogue, region: &str) -> Vec<(String, String)> {
    let Some(r) = catalogue.region(region) else { return Vec::new() };
    r.zones.iter().filter(|z| z.zone_type == "availability-zone").map(|z| (z.name.clone(), z.id.clone())).collect()
}

fn make_default_subnet(
    tx: &mut dyn Tx,
    scope: &Scope,
    vpc: &Vpc,
    block: Ipv4Net,
    zone: &str,
    zone_id: &str,
    now: Timestamp,
) -> ApiResult<Subnet> {
    if tx.get_alias(scope, DEFAULT_SUBNET_ALIAS, zone)?.is_some() {
        return Err(NetError::DefaultSubnetExists(format!(
            "A Default Subnet already exists for this account in the availability zone {zone}."
        ))
        .into());
    }
    let id = ResourceKind::Subnet.new_id(&mut OsRandom);
    {
        let mut slots = Slots::new(tx, scope);
        subnet::ensure_vpc_roots(&mut slots, vpc)?;
        subnet::place_block(
            &mut slots,
            &vpc.id,
            Block::of_net(block.into()),
            &id,
            &id,
            &scope.account,
            &scope.region,
            now,
        )?;
    }
    let s = subnet::build(
        NewSubnet {
            id,
            vpc_id: vpc.id.clone(),
            owner: scope.account.clone(),
            region: scope.region.clone(),
            cidr_block: Some(block),
            ipv6: None,
            availability_zone: zone.to_string(),
            availability_zone_id: zone_id.to_string(),
            default_for_az: true,
            ipam: None,
        },
        now,
    );
    store_new(tx, scope, &s, &[], now)?;
    tx.put_alias(scope, DEFAULT_SUBNET_ALIAS, zone, &s.id)?;
    Ok(s)
}

/// Stores a new subnet: its own space, the entity, its tags. (Subnet CIDRs are not
/// indexed for IPAM monitoring yet: the monitor would count a subnet as overlapping its
/// own VPC.)
fn store_new(tx: &mut dyn Tx, scope: &Scope, s: &Subnet, tags: &[Tag], now: Timestamp) -> ApiResult<()> {
    {
        let mut slots = Slots::new(tx, scope);
        subnet::open_subnet_space(&mut slots, s, now)?;
    }
    tx.create(scope, s)?;
    put_tags(tx, scope, &s.id, ResourceKind::Subnet, tags)?;
    Ok(())
}

// ----- Wire --------------------------------------------------------------------------

fn ipv6_to_wire(a: &Ipv6Association) -> api::SubnetIpv6CidrBlockAssociation {
    api::SubnetIpv6CidrBlockAssociation {
        association_id: Some(a.association_id.clone()),
        ipv6_cidr_block: Some(a.cidr.to_string()),
        ipv6_cidr_block_state: Some(api::SubnetCidrBlockState {
            state: Some(match a.state {
                AssociationState::Associating => api::SubnetCidrBlockStateCode::Associating,
                AssociationState::Associated => api::SubnetCidrBlockStateCode::Associated,
                AssociationState::Disassociating => api::SubnetCidrBlockStateCode::Disassociating,
                AssociationState::Disassociated => api::SubnetCidrBlockStateCode::Disassociated,
                AssociationState::Failing => api::SubnetCidrBlockStateCode::Failing,
                AssociationState::Failed => api::SubnetCidrBlockStateCode::Failed,
            }),
            status_message: None,
        }),
        ipv6_address_attribute: Some(api::Ipv6AddressAttribute::Private),
        ip_source: Some(api::IpSource::None),
    }
}

/// The wire form of a subnet.
pub fn to_wire(s: Subnet, tags: Vec<Tag>) -> api::Subnet {
    api::Subnet {
        availability_zone_id: Some(s.availability_zone_id.clone()),
        enable_lni_at_device_index: s.enable_lni_at_device_index,
        map_customer_owned_ip_on_launch: Some(false),
        customer_owned_ipv4_pool: None,
        owner_id: Some(s.owner.to_string()),
        assign_ipv6_address_on_creation: Some(s.assign_ipv6_address_on_creation),
        ipv6_cidr_block_association_set: Some(s.ipv6_associations.iter().map(ipv6_to_wire).collect()),
        tags: wire_tags(tags),
        subnet_arn: Some(s.arn()),
        outpost_arn: None,
        enable_dns64: Some(s.enable_dns64),
        ipv6_native: Some(s.ipv6_native),
        private_dns_name_options_on_launch: Some(api::PrivateDnsNameOptionsOnLaunch {
            hostname_type: Some(match s.hostname_type {
                HostnameType::IpName => api::HostnameType::IpName,
                HostnameType::ResourceName => api::HostnameType::ResourceName,
            }),
            enable_resource_name_dns_a_record: Some(s.enable_resource_name_dns_a_record),
            enable_resource_name_dns_aaaa_record: Some(s.enable_resource_name_dns_aaaa_record),
        }),
        block_public_access_states: Some(api::BlockPublicAccessStates {
            internet_gateway_block_mode: Some(api::BlockPublicAccessMode::Off),
        }),
        r#type: None,
        available_ip_address_count: Some(i32::try_from(s.available_addresses()).unwrap_or(i32::MAX)),
        cidr_block: s.ipv4_block().map(|b| ipv4_text(&b)),
        state: Some(match s.state {
            SubnetState::Pending => api::SubnetState::Pending,
            SubnetState::Available => api::SubnetState::Available,
        }),
        availability_zone: Some(s.availability_zone),
        default_for_az: Some(s.default_for_az),
        map_public_ip_on_launch: Some(s.map_public_ip_on_launch),
        subnet_id: Some(s.id),
        vpc_id: Some(s.vpc_id),
    }
}

// ----- Zones ---------------------------------------------------------------------------

/// Where a new subnet goes.
#[derive(Debug, Clone)]
enum ZoneChoice {
    Given {
        name: String,
        id: String,
    },
    /// Neither named: AWS picks. Reservoir takes the Availability Zones (not Local
    /// Zones) round-robin by the VPC's number of subnets, so that a VPC's unplaced
    /// subnets spread across zones the same way every time.
    Auto(Vec<(String, String)>),
}

fn zone_choice(call: &Call, name: Option<String>, id: Option<String>) -> ApiResult<ZoneChoice> {
    let catalogue = &call.cx.state.catalogue;
    let region = catalogue
        .region(&call.cx.scope.region)
        .ok_or_else(|| ApiError::Internal(format!("region {} vanished from the catalogue", call.cx.scope.region)))?;
    let enabled: Vec<_> = catalogue.zones(region).filter(|z| z.enabled()).collect();
    let list = |ids: bool| {
        enabled
            .iter()
            .map(|z| if ids { z.zone.id.as_str() } else { z.zone.name.as_str() })
            .collect::<Vec<_>>()
            .join(", ")
    };
    let by_name = match &name {
        Some(n) => Some(enabled.iter().find(|z| &z.zone.name == n).ok_or_else(|| {
            NetError::InvalidValue(format!(
                "Value ({n}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: {}.",
                list(false)
            ))
        })?),
        None => None,
    };
    let by_id = match &id {
        Some(i) => Some(enabled.iter().find(|z| &z.zone.id == i).ok_or_else(|| {
            NetError::InvalidValue(format!(
                "Value ({i}) for parameter availabilityZoneId is invalid. Subnets can currently only be created in the following availability zones: {}.",
                list(true)
            ))
        })?),
        None => None,
    };
    match (by_name, by_id) {
        (Some(a), Some(b)) if a.zone.name != b.zone.name => Err(NetError::Combination(format!(
            "The Availability Zone {} and the Availability Zone ID {} do not name the same zone.",
            a.zone.name, b.zone.id
        ))
        .into()),
        (Some(z), _) | (None, Some(z)) => Ok(ZoneChoice::Given { name: z.zone.name.clone(), id: z.zone.id.clone() }),
        (None, None) => {
            let zones: Vec<(String, String)> = enabled
                .iter()
                .filter(|z| z.zone.zone_type == "availability-zone")
                .map(|z| (z.zone.name.clone(), z.zone.id.clone()))
                .collect();
            if zones.is_empty() {
                return Err(ApiError::Internal(format!("region {} has no Availability Zone", region.name)));
            }
            Ok(ZoneChoice::Auto(zones))
        }
    }
}

// ----- CreateSubnet --------------------------------------------------------------------

/// Where a subnet's IPv4 block comes from.
#[derive(Debug, Clone)]
enum V4Source {
    Given(Ipv4Net),
    Pool {
        pool_id: String,
        cidr: Option<String>,
        netmask: Option<i32>,
    },
    /// An IPv6-only subnet.
    None,
}

fn load_vpc(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<Vpc> {
    tx.load::<Vpc>(scope, id)?.ok_or_else(|| VpcError::NotFound(vec![id.to_string()]).into())
}

/// The IPv4 blocks of the VPC's subnets (its space's held IPv4 slots: bounded by the
/// subnets of one VPC), which a block from a pool must avoid.
fn sibling_blocks(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str) -> ApiResult<Vec<Block>> {
    let space = vpc_space(vpc_id);
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = tx.held_slots(scope, &space, Family::Ipv4, after, u32::MAX as u128, 500)?;
        let done = page.len() < 500;
        after = page.last().map(|s| s.block.start);
        out.extend(page.into_iter().map(|s| s.block));
        if done {
            return Ok(out);
        }
    }
}

/// Takes a subnet block from an IPv4 IPAM pool: inside one of the VPC's blocks, clear
/// of its siblings, listed in the pool as a `subnet` allocation.
#[allow(clippy::too_many_arguments)]
fn take_from_pool(
    tx: &mut dyn Tx,
    caller: &Scope,
    vpc: &Vpc,
    pool_id: &str,
    cidr: Option<&str>,
    netmask: Option<i32>,
    subnet_id: &str,
    tags: &[Tag],
    now: Timestamp,
) -> ApiResult<(Ipv4Net, PoolHold)> {
    let (home, pool): (Scope, IpamPool) = match tx.load_any_scope::<IpamPool>(pool_id)? {
        Some((home, pool)) if home.account == caller.account => (home, pool),
        _ => return Err(IpamError::PoolNotFound(vec![pool_id.to_string()]).into()),
    };
    if pool.family != Family::Ipv4 {
        return Err(IpamError::InvalidValue(format!(
            "The pool {pool_id} is an ipv6 pool; an ipv4 pool is needed here."
        ))
        .into());
    }
    if !pool.serves_region(&caller.region) {
        return Err(IpamError::InvalidValue(format!(
            "The pool {pool_id} has the locale {}, not the subnet's Region {}.",
            pool.locale.as_deref().unwrap_or("None"),
            caller.region
        ))
        .into());
    }
    ipam::check_resource_tags(&pool, tags)?;
    let ask = ipam::ask(&pool, cidr, netmask, "Ipv4NetmaskLength")?;
    match ask {
        Ask::Cidr(b) => {
            let net = as_v4(b);
            subnet::check_size(net)?;
            subnet::containing_ipv4(vpc, net)?;
        }
        Ask::Length(n) if !(subnet::MIN_PREFIX..=subnet::MAX_PREFIX).contains(&n) => {
            return Err(NetError::InvalidValue(format!(
                "Value ({n}) for parameter Ipv4NetmaskLength is invalid. A subnet's netmask length must be between {} and {}.",
                subnet::MIN_PREFIX,
                subnet::MAX_PREFIX
            ))
            .into());
        }
        Ask::Length(_) => {}
    }
    let allowed: Vec<Block> = vpc
        .cidr_associations
        .iter()
        .filter(|a| a.state == AssociationState::Associated)
        .map(|a| Block::of_net(a.cidr.into()))
        .collect();
    let disallowed = sibling_blocks(tx, caller, &vpc.id)?;
    let holder = Allocation {
        id: ipam::new_long_id(ipam::ALLOCATION_PREFIX, &mut OsRandom),
        resource_type: "subnet".into(),
        resource_id: Some(subnet_id.to_string()),
        resource_owner: caller.account.to_string(),
        resource_region: Some(caller.region.clone()),
        description: None,
        created: now,
    };
    let hold =
        PoolHold { pool_id: pool.id.clone(), allocation_id: holder.id.clone(), pool_region: home.region.clone() };
    let mut slots = Slots::new(tx, &home);
    let block = super::ipam::take(&mut slots, &pool, ask, holder, &allowed, &disallowed)?;
    Ok((as_v4(block), hold))
}

/// Frees the pool allocation of a subnet block (nothing left to free if the pool went
/// with `Cascade`).
fn free_pool_hold(tx: &mut dyn Tx, account: &Scope, hold: &PoolHold, net: Ipv4Net) -> ApiResult<()> {
    let home = Scope::new(account.account.clone(), hold.pool_region.clone());
    let mut slots = Slots::new(tx, &home);
    match space::release(&mut slots, &hold.pool_id, Block::of_net(net.into()), &hold.allocation_id) {
        Ok(_) | Err(ApiError::Aws { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

fn as_v4(b: Block) -> Ipv4Net {
    match b.to_net() {
        IpNet::V4(n) => n,
        IpNet::V6(_) => unreachable!("an IPv4 block"),
    }
}

/// Checks and places an IPv6 /64 of the VPC for a subnet; answers its association.
fn place_ipv6(
    tx: &mut dyn Tx,
    scope: &Scope,
    vpc: &Vpc,
    net: ipnet::Ipv6Net,
    subnet_id: &str,
    now: Timestamp,
) -> ApiResult<Ipv6Association> {
    subnet::containing_ipv6(vpc, net)?;
    let association_id = ResourceKind::SubnetCidrBlockAssociation.new_id(&mut OsRandom);
    let mut slots = Slots::new(tx, scope);
    subnet::ensure_vpc_roots(&mut slots, vpc)?;
    subnet::place_block(
        &mut slots,
        &vpc.id,
        Block::of_net(net.into()),
        &association_id,
        subnet_id,
        &scope.account,
        &scope.region,
        now,
    )?;
    Ok(Ipv6Association { association_id, cidr: net, state: AssociationState::Associated })
}

/// EC2 `CreateSubnet`: an IPv4 block given (`CidrBlock`, /16–/28, inside the VPC) or
/// from an IPAM pool (`Ipv4IpamPoolId` with `Ipv4NetmaskLength` or `CidrBlock`), an
/// optional IPv6 /64 (`Ipv6CidrBlock`), or IPv6 only (`Ipv6Native`); the zone by
/// `AvailabilityZone` and/or `AvailabilityZoneId`; `TagSpecifications`; `DryRun`.
pub async fn create_subnet(call: &Call, input: api::CreateSubnetRequest) -> ApiResult<api::CreateSubnetResult> {
    use api::CreateSubnetRequestMember as M;
    call.supported(
        &input,
        &[
            M::TagSpecifications,
            M::AvailabilityZone,
            M::AvailabilityZoneId,
            M::CidrBlock,
            M::Ipv6CidrBlock,
            M::VpcId,
            M::Ipv6Native,
            M::Ipv4IpamPoolId,
            M::Ipv4NetmaskLength,
            M::DryRun,
        ],
    )?;
    let vpc_id = input.vpc_id.unwrap_or_default();
    vpc::check_id(&vpc_id)?;
    let ipv6_native = input.ipv6_native.unwrap_or(false);
    let v4 = match (input.ipv4_ipam_pool_id, input.cidr_block, input.ipv4_netmask_length) {
        (Some(_), _, _) | (None, Some(_), _) if ipv6_native => {
            return Err(NetError::Combination(
                "An IPv6-only subnet (Ipv6Native) cannot have an IPv4 CIDR block.".into(),
            )
            .into());
        }
        (None, None, Some(_)) | (None, Some(_), Some(_)) => {
            return Err(NetError::Combination("Ipv4NetmaskLength can only be used with Ipv4IpamPoolId.".into()).into());
        }
        (Some(pool_id), cidr, netmask) => {
            ipam::check_id(ResourceKind::IpamPool, &pool_id)?;
            V4Source::Pool { pool_id, cidr, netmask }
        }
        (None, Some(c), None) => V4Source::Given(subnet::parse_cidr(&c)?),
        (None, None, None) if ipv6_native => V4Source::None,
        (None, None, None) => {
            return Err(NetError::Missing("Either 'cidrBlock' or 'ipv4IpamPoolId' should be provided.".into()).into());
        }
    };
    let v6 = input.ipv6_cidr_block.as_deref().map(subnet::parse_ipv6_cidr).transpose()?;
    if ipv6_native && v6.is_none() {
        return Err(NetError::Missing("The parameter Ipv6CidrBlock is required for an IPv6-only subnet.".into()).into());
    }
    let tags = tag_specifications(input.tag_specifications, ResourceKind::Subnet)?;
    let zone = zone_choice(call, input.availability_zone, input.availability_zone_id)?;
    let scope = call.cx.scope.clone();
    let quota = call.cx.state.quotas.subnets_per_vpc;
    let now = call.cx.now;
    let (s, tags) = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let v = load_vpc(tx, &scope, &vpc_id)?;
            let existing = vpc_subnet_count(tx, &scope, &v.id)?;
            if quota.is_some_and(|q| existing >= u64::from(q)) {
                return Err(NetError::LimitExceeded(
                    NetLimit::Subnets,
                    "The maximum number of subnets has been reached.".into(),
                )
                .into());
            }
            let (zone_name, zone_id) = match &zone {
                ZoneChoice::Given { name, id } => (name.clone(), id.clone()),
                ZoneChoice::Auto(zones) => zones[(existing % zones.len() as u64) as usize].clone(),
            };
            let id = ResourceKind::Subnet.new_id(&mut OsRandom);
            {
                let mut slots = Slots::new(tx, &scope);
                subnet::ensure_vpc_roots(&mut slots, &v)?;
            }
            let (cidr, hold) = match &v4 {
                V4Source::Given(net) => {
                    subnet::containing_ipv4(&v, *net)?;
                    (Some(*net), None)
                }
                V4Source::Pool { pool_id, cidr, netmask } => {
                    let (net, hold) =
                        take_from_pool(tx, &scope, &v, pool_id, cidr.as_deref(), *netmask, &id, &tags, now)?;
                    (Some(net), Some(hold))
                }
                V4Source::None => (None, None),
            };
            if let Some(net) = cidr {
                let mut slots = Slots::new(tx, &scope);
                subnet::place_block(
                    &mut slots,
                    &v.id,
                    Block::of_net(net.into()),
                    &id,
                    &id,
                    &scope.account,
                    &scope.region,
                    now,
                )?;
            }
            let ipv6 = match v6 {
                Some(net) => Some(place_ipv6(tx, &scope, &v, net, &id, now)?),
                None => None,
            };
            let s = subnet::build(
                NewSubnet {
                    id,
                    vpc_id: v.id.clone(),
                    owner: scope.account.clone(),
                    region: scope.region.clone(),
                    cidr_block: cidr,
                    ipv6,
                    availability_zone: zone_name,
                    availability_zone_id: zone_id,
                    default_for_az: false,
                    ipam: hold,
                },
                now,
            );
            store_new(tx, &scope, &s, &tags, now)?;
            Ok((s, tags.clone()))
        })
        .await?;
    Ok(api::CreateSubnetResult { subnet: Some(to_wire(s, tags)) })
}

// ----- DescribeSubnets -------------------------------------------------------------------

/// EC2 `DescribeSubnets`: by `SubnetId.N` (each must exist) and/or filters, paginated
/// with `MaxResults` (5–1000) and `NextToken`.
pub async fn describe_subnets(
    call: &Call,
    input: api::DescribeSubnetsRequest,
) -> ApiResult<api::DescribeSubnetsResult> {
    use api::DescribeSubnetsRequestMember as M;
    call.supported(&input, &[M::Filters, M::SubnetIds, M::NextToken, M::MaxResults, M::DryRun])?;
    let filters = filter_set(input.filters, &subnet::FILTERS)?;
    let mut ids = input.subnet_ids.unwrap_or_default();
    for id in &ids {
        network::check_id(NetKind::Subnet, id)?;
    }
    ids.sort();
    ids.dedup();
    let limit = page_size(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    let scope = call.cx.scope.clone();
    let (items, next) = call
        .read(move |tx| {
            let page = listing::<Subnet>(tx, &scope, &ids, &filters, after, limit, |missing| {
                NetError::NotFound(NetKind::Subnet, missing).into()
            })?;
            Ok((page.items, page.next))
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(api::DescribeSubnetsResult {
        next_token: next.map(|seq| call.next_token(&seq.to_string())),
        subnets: Some(items.into_iter().map(|(_, s, t)| to_wire(s, t)).collect()),
    })
}

// ----- DeleteSubnet ----------------------------------------------------------------------

/// EC2 `DeleteSubnet`: refused with `DependencyViolation` while network interfaces use
/// the subnet; frees its blocks (and their IPAM allocation), its space, its default-zone
/// key and its routing associations.
pub async fn delete_subnet(call: &Call, input: api::DeleteSubnetRequest) -> ApiResult<()> {
    use api::DeleteSubnetRequestMember as M;
    call.supported(&input, &[M::SubnetId, M::DryRun])?;
    let id = input.subnet_id.unwrap_or_default();
    network::check_id(NetKind::Subnet, &id)?;
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let s = load_subnet(tx, &scope, &id)?;
        if tx.count_children(&scope, ResourceKind::NetworkInterface.storage_name(), &s.id)? > 0 {
            return Err(
                NetError::Dependency(format!("The subnet '{}' has dependencies and cannot be deleted.", s.id)).into()
            );
        }
        {
            let mut slots = Slots::new(tx, &scope);
            if let Some(b) = s.ipv4_block() {
                subnet::release_block(&mut slots, &s.vpc_id, Block::of_net(b.into()), &s.id)?;
            }
            for a in &s.ipv6_associations {
                subnet::release_block(&mut slots, &s.vpc_id, Block::of_net(a.cidr.into()), &a.association_id)?;
            }
        }
        if let (Some(hold), Some(b)) = (&s.ipam, s.ipv4_block()) {
            free_pool_hold(tx, &scope, hold, b)?;
        }
        tx.delete_space(&scope, &subnet::subnet_space(&s.id))?;
        if s.default_for_az
            && tx.get_alias(&scope, DEFAULT_SUBNET_ALIAS, &s.availability_zone)?.as_deref() == Some(&s.id)
        {
            tx.delete_alias(&scope, DEFAULT_SUBNET_ALIAS, &s.availability_zone)?;
        }
        super::routing::forget_subnet(tx, &scope, &s.id)?;
        tx.remove::<Subnet>(&scope, &s.id)?;
        Ok(())
    })
    .await
}

// ----- ModifySubnetAttribute ---------------------------------------------------------------

/// EC2 `ModifySubnetAttribute`: one attribute per call (AWS's `InvalidRequest` for
/// more). `MapCustomerOwnedIpOnLaunch` and `CustomerOwnedIpv4Pool` belong to Outposts,
/// which Reservoir does not model: 501.
pub async fn modify_subnet_attribute(call: &Call, input: api::ModifySubnetAttributeRequest) -> ApiResult<()> {
    use api::ModifySubnetAttributeRequestMember as M;
    call.supported(
        &input,
        &[
            M::AssignIpv6AddressOnCreation,
            M::MapPublicIpOnLaunch,
            M::SubnetId,
            M::EnableDns64,
            M::PrivateDnsHostnameTypeOnLaunch,
            M::EnableResourceNameDnsARecordOnLaunch,
            M::EnableResourceNameDnsAAAARecordOnLaunch,
            M::EnableLniAtDeviceIndex,
            M::DisableLniAtDeviceIndex,
        ],
    )?;
    let id = input.subnet_id.unwrap_or_default();
    network::check_id(NetKind::Subnet, &id)?;
    let flag = |name: &str, v: Option<api::AttributeBooleanValue>| -> ApiResult<Option<bool>> {
        match v {
            None => Ok(None),
            Some(api::AttributeBooleanValue { value: Some(b) }) => Ok(Some(b)),
            Some(_) => Err(NetError::Missing(format!("The request must contain the parameter {name}.Value")).into()),
        }
    };
    let mut given: Vec<(&'static str, Attribute)> = Vec::new();
    if let Some(v) = flag("MapPublicIpOnLaunch", input.map_public_ip_on_launch)? {
        given.push(("mapPublicIpOnLaunch", Attribute::MapPublicIpOnLaunch(v)));
    }
    if let Some(v) = flag("AssignIpv6AddressOnCreation", input.assign_ipv6_address_on_creation)? {
        given.push(("assignIpv6AddressOnCreation", Attribute::AssignIpv6AddressOnCreation(v)));
    }
    if let Some(v) = flag("EnableDns64", input.enable_dns64)? {
        given.push(("enableDns64", Attribute::EnableDns64(v)));
    }
    if let Some(t) = input.private_dns_hostname_type_on_launch {
        let t = match t {
            api::HostnameType::IpName => HostnameType::IpName,
            api::HostnameType::ResourceName => HostnameType::ResourceName,
            api::HostnameType::Unknown(other) => {
                return Err(NetError::InvalidValue(format!(
                    "Value ({other}) for parameter privateDnsHostnameTypeOnLaunch is invalid. Valid values: ip-name, resource-name."
                ))
                .into());
            }
        };
        given.push(("privateDnsHostnameTypeOnLaunch", Attribute::HostnameType(t)));
    }
    if let Some(v) = flag("EnableResourceNameDnsARecordOnLaunch", input.enable_resource_name_dns_a_record_on_launch)? {
        given.push(("enableResourceNameDnsARecordOnLaunch", Attribute::ResourceNameDnsA(v)));
    }
    if let Some(v) =
        flag("EnableResourceNameDnsAAAARecordOnLaunch", input.enable_resource_name_dns_aaaa_record_on_launch)?
    {
        given.push(("enableResourceNameDnsAAAARecordOnLaunch", Attribute::ResourceNameDnsAaaa(v)));
    }
    if let Some(i) = input.enable_lni_at_device_index {
        given.push(("enableLniAtDeviceIndex", Attribute::EnableLniAtDeviceIndex(i)));
    }
    if let Some(v) = flag("DisableLniAtDeviceIndex", input.disable_lni_at_device_index)? {
        given.push(("disableLniAtDeviceIndex", Attribute::DisableLniAtDeviceIndex(v)));
    }
    let attribute = subnet::one_attribute(given)?;
    let scope = call.cx.scope.clone();
    call.write(false, move |tx| {
        let mut s = load_subnet(tx, &scope, &id)?;
        subnet::modify(&mut s, attribute.clone())?;
        tx.save(&scope, &s)?;
        Ok(())
    })
    .await
}

// ----- Subnet IPv6 blocks -------------------------------------------------------------------

/// EC2 `AssociateSubnetCidrBlock`: an IPv6 /64 of the VPC's IPv6 blocks (one per subnet).
pub async fn associate_subnet_cidr_block(
    call: &Call,
    input: api::AssociateSubnetCidrBlockRequest,
) -> ApiResult<api::AssociateSubnetCidrBlockResult> {
    use api::AssociateSubnetCidrBlockRequestMember as M;
    call.supported(&input, &[M::SubnetId, M::Ipv6CidrBlock])?;
    let id = input.subnet_id.unwrap_or_default();
    network::check_id(NetKind::Subnet, &id)?;
    let Some(text) = input.ipv6_cidr_block else {
        return Err(NetError::Missing("The request must contain the parameter ipv6CidrBlock".into()).into());
    };
    let net = subnet::parse_ipv6_cidr(&text)?;
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    call.write(false, move |tx| {
        let mut s = load_subnet(tx, &scope, &id)?;
        if s.ipv6_associations.len() >= subnet::MAX_IPV6_BLOCKS {
            return Err(NetError::InvalidValue(format!(
                "The subnet {} already has an IPv6 CIDR block associated.",
                s.id
            ))
            .into());
        }
        let v = load_vpc(tx, &scope, &s.vpc_id)?;
        let a = place_ipv6(tx, &scope, &v, net, &s.id, now)?;
        s.ipv6_associations.push(a.clone());
        tx.save(&scope, &s)?;
        let mut shown = a;
        shown.state = AssociationState::Associating;
        Ok(api::AssociateSubnetCidrBlockResult {
            ipv6_cidr_block_association: Some(ipv6_to_wire(&shown)),
            subnet_id: Some(s.id),
        })
    })
    .await
}

/// EC2 `DisassociateSubnetCidrBlock`: removes a subnet's IPv6 block (not the only block
/// of an IPv6-only subnet).
pub async fn disassociate_subnet_cidr_block(
    call: &Call,
    input: api::DisassociateSubnetCidrBlockRequest,
) -> ApiResult<api::DisassociateSubnetCidrBlockResult> {
    use api::DisassociateSubnetCidrBlockRequestMember as M;
    call.supported(&input, &[M::AssociationId])?;
    let id = input.association_id.unwrap_or_default();
    if !ResourceKind::SubnetCidrBlockAssociation.is_well_formed(&id) {
        return Err(NetError::Malformed(NetKind::Association, id).into());
    }
    let scope = call.cx.scope.clone();
    call.write(false, move |tx| {
        // The association is an allocation of a VPC space, held by its subnet.
        let Some((_, slot)) = tx.slot_of_allocation(&scope, &id)? else {
            return Err(NetError::NotFound(NetKind::Association, vec![id.clone()]).into());
        };
        let subnet_id = slot.holder.as_ref().and_then(|h| h.resource_id.clone()).unwrap_or_default();
        let mut s = load_subnet(tx, &scope, &subnet_id)?;
        let Some(i) = s.ipv6_associations.iter().position(|a| a.association_id == id) else {
            return Err(NetError::NotFound(NetKind::Association, vec![id.clone()]).into());
        };
        if s.ipv6_native {
            return Err(NetError::InvalidParameter(format!(
                "The IPv6 CIDR block of the IPv6-only subnet {} cannot be disassociated.",
                s.id
            ))
            .into());
        }
        let mut a = s.ipv6_associations.remove(i);
        {
            let mut slots = Slots::new(tx, &scope);
            subnet::release_block(&mut slots, &s.vpc_id, Block::of_net(a.cidr.into()), &a.association_id)?;
        }
        if s.ipv6_associations.is_empty() {
            s.assign_ipv6_address_on_creation = false;
            s.enable_resource_name_dns_aaaa_record = false;
        }
        tx.save(&scope, &s)?;
        a.state = AssociationState::Disassociating;
        Ok(api::DisassociateSubnetCidrBlockResult {
            ipv6_cidr_block_association: Some(ipv6_to_wire(&a)),
            subnet_id: Some(s.id),
        })
    })
    .await
}

// ----- Default VPC and default subnets ---------------------------------------------------------

/// EC2 `CreateDefaultVpc`: refused with `DefaultVpcAlreadyExists` while the region has
/// one; otherwise a default VPC with everything AWS gives one.
pub async fn create_default_vpc(
    call: &Call,
    input: api::CreateDefaultVpcRequest,
) -> ApiResult<api::CreateDefaultVpcResult> {
    use api::CreateDefaultVpcRequestMember as M;
    call.supported(&input, &[M::DryRun])?;
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    let state = call.cx.state.clone();
    let v = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            if super::vpcs::default_vpc(tx, &scope)?.is_some() {
                return Err(NetError::DefaultVpcExists(
                    "A Default VPC already exists for this account in this region.".into(),
                )
                .into());
            }
            super::vpcs::create_default_vpc_with_contents(tx, &scope, &state.catalogue, now)
        })
        .await?;
    Ok(api::CreateDefaultVpcResult { vpc: Some(super::vpcs::to_wire(v, Vec::new(), vpc::VpcState::Pending)) })
}

/// EC2 `CreateDefaultSubnet`: a /20 of the default VPC (the lowest free one) in the zone
/// named by `AvailabilityZone` or `AvailabilityZoneId`.
pub async fn create_default_subnet(
    call: &Call,
    input: api::CreateDefaultSubnetRequest,
) -> ApiResult<api::CreateDefaultSubnetResult> {
    use api::CreateDefaultSubnetRequestMember as M;
    call.supported(&input, &[M::AvailabilityZone, M::AvailabilityZoneId, M::DryRun])?;
    if input.availability_zone.is_none() && input.availability_zone_id.is_none() {
        return Err(NetError::Missing(
            "The request must contain the parameter AvailabilityZone or AvailabilityZoneId".into(),
        )
        .into());
    }
    let (zone, zone_id) = match zone_choice(call, input.availability_zone, input.availability_zone_id)? {
        ZoneChoice::Given { name, id } => (name, id),
        ZoneChoice::Auto(_) => unreachable!("a zone is named"),
    };
    let is_az = call
        .cx
        .state
        .catalogue
        .zone(&call.cx.scope.region, &zone)
        .is_some_and(|z| z.zone.zone_type == "availability-zone");
    if !is_az {
        return Err(NetError::InvalidValue(format!(
            "Value ({zone}) for parameter availabilityZone is invalid. Default subnets can only be created in Availability Zones."
        ))
        .into());
    }
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    let s = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let Some(v) = super::vpcs::default_vpc(tx, &scope)? else {
                return Err(NetError::NoDefaultVpc("No default VPC for this user.".into()).into());
            };
            if tx.get_alias(&scope, DEFAULT_SUBNET_ALIAS, &zone)?.is_some() {
                return Err(NetError::DefaultSubnetExists(format!(
                    "A Default Subnet already exists for this account in the availability zone {zone}."
                ))
                .into());
            }
            let block = {
                let mut slots = Slots::new(tx, &scope);
                subnet::ensure_vpc_roots(&mut slots, &v)?;
                let root = Block::of_net(v.cidr_block().into());
                let req = space::Search {
                    family: Family::Ipv4,
                    prefix: subnet::DEFAULT_SUBNET_PREFIX,
                    largest_root: root.prefix,
                    allowed: vec![root.into()],
                    disallowed: vec![],
                };
                // No free /20 left: the whole VPC block conflicts with its subnets.
                space::find(&mut slots, &vpc_space(&v.id), &req)?
                    .ok_or_else(|| NetError::SubnetConflict(ipv4_text(&v.cidr_block())))?
            };
            make_default_subnet(tx, &scope, &v, as_v4(block), &zone, &zone_id, now)
        })
        .await?;
    Ok(api::CreateDefaultSubnetResult { subnet: Some(to_wire(s, Vec::new())) })
}

#[cfg(test)]
mod tests;
