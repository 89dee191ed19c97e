//! `CreateVpc`, `DescribeVpcs`, `DeleteVpc`, `AssociateVpcCidrBlock`,
//! `DisassociateVpcCidrBlock`. A VPC's CIDRs may come from IPAM pools: the pool then
//! holds a `vpc` allocation, freed in the same transaction as the CIDR. Every VPC CIDR
//! is also indexed for IPAM monitoring (`resource_cidrs`).

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use reservoir_domain::account::{AccountId, Scope};
use reservoir_domain::cidr::ipv4_text;
use reservoir_domain::ids::{OsRandom, ResourceKind};
use reservoir_domain::ipam::{self, Ask, IpamError, IpamPool};
use reservoir_domain::network::NetError;
use reservoir_domain::region::Catalogue;
use reservoir_domain::space::{self, Allocation, Block, Family, Search, Slots};
use reservoir_domain::tags::Tag;
use reservoir_domain::time::Timestamp;
use reservoir_domain::vpc::{
    self, AssociateError, AssociationState, Attribute, Dependents, NewVpc, PoolHold, Removed, Tenancy, Vpc, VpcError,
    VpcState,
};
use reservoir_store::slots::TxSlots;
use reservoir_store::vpc_cidrs;
use reservoir_store::{ReadTx, ReadTxExt, Tx, TxExt};
use reservoir_wire::WireEnum;
use reservoir_wire::ec2_api as api;

use super::shared::{
    Call, default_dhcp_options, filter_set, listing, page_size, put_tags, tag_specifications, wire_tags,
};
use crate::error::{ApiError, ApiResult};

/// The wire form of a VPC, taking its strings rather than copying them (a listing
/// converts every item). `state` lets `CreateVpc` answer `pending`, as EC2 does.
pub fn to_wire(v: Vpc, tags: Vec<Tag>, state: VpcState) -> api::Vpc {
    let cidr_block = ipv4_text(&v.cidr_block());
    api::Vpc {
        owner_id: Some(v.owner.into_string()),
        instance_tenancy: Some(match v.tenancy {
            Tenancy::Default => api::Tenancy::Default,
            Tenancy::Dedicated => api::Tenancy::Dedicated,
        }),
        ipv6_cidr_block_association_set: (!v.ipv6_associations.is_empty())
            .then(|| v.ipv6_associations.iter().map(ipv6_to_wire).collect()),
        cidr_block_association_set: Some(
            v.cidr_associations
                .into_iter()
                .enumerate()
                .map(|(i, a)| api::VpcCidrBlockAssociation {
                    // The first association is the primary CIDR, whose text is made already.
                    cidr_block: Some(if i == 0 { cidr_block.clone() } else { ipv4_text(&a.cidr) }),
                    cidr_block_state: Some(block_state(a.state)),
                    association_id: Some(a.association_id),
                })
                .collect(),
        ),
        is_default: Some(v.is_default),
        encryption_control: None,
        tags: wire_tags(tags),
        block_public_access_states: Some(api::BlockPublicAccessStates {
            internet_gateway_block_mode: Some(api::BlockPublicAccessMode::Off),
        }),
        vpc_id: Some(v.id),
        state: Some(match state {
            VpcState::Pending => api::VpcState::Pending,
            VpcState::Available => api::VpcState::Available,
        }),
        cidr_block: Some(cidr_block),
        dhcp_options_id: Some(v.dhcp_options_id),
    }
}

fn block_state(s: AssociationState) -> api::VpcCidrBlockState {
    api::VpcCidrBlockState {
        state: Some(match s {
            AssociationState::Associating => api::VpcCidrBlockStateCode::Associating,
            AssociationState::Associated => api::VpcCidrBlockStateCode::Associated,
            AssociationState::Disassociating => api::VpcCidrBlockStateCode::Disassociating,
            AssociationState::Disassociated => api::VpcCidrBlockStateCode::Disassociated,
            AssociationState::Failing => api::VpcCidrBlockStateCode::Failing,
            AssociationState::Failed => api::VpcCidrBlockStateCode::Failed,
        }),
        status_message: None,
    }
}

fn ipv6_to_wire(a: &vpc::Ipv6Association) -> api::VpcIpv6CidrBlockAssociation {
    api::VpcIpv6CidrBlockAssociation {
        association_id: Some(a.association_id.clone()),
        ipv6_cidr_block: Some(a.cidr.to_string()),
        ipv6_cidr_block_state: Some(block_state(a.state)),
        network_border_group: None,
        ipv6_pool: if a.amazon { Some("Amazon".into()) } else { a.ipam.as_ref().map(|h| h.pool_id.clone()) },
        ipv6_address_attribute: Some(if a.amazon {
            api::Ipv6AddressAttribute::Public
        } else {
            api::Ipv6AddressAttribute::Private
        }),
        ip_source: Some(if a.amazon { api::IpSource::Amazon } else { api::IpSource::None }),
    }
}

fn ipv4_association_to_wire(a: &vpc::CidrAssociation) -> api::VpcCidrBlockAssociation {
    api::VpcCidrBlockAssociation {
        cidr_block: Some(ipv4_text(&a.cidr)),
        cidr_block_state: Some(block_state(a.state)),
        association_id: Some(a.association_id.clone()),
    }
}

/// Where a VPC CIDR comes from: given outright, or from an IPAM pool.
#[derive(Debug, Clone)]
enum Source {
    Given(Block),
    Pool { pool_id: String, cidr: Option<String>, netmask: Option<i32>, netmask_name: &'static str },
}

/// What `CreateVpc` / `AssociateVpcCidrBlock` ask for IPv4.
fn ipv4_source(cidr: Option<String>, pool: Option<String>, netmask: Option<i32>) -> ApiResult<Option<Source>> {
    match (pool, cidr) {
        (Some(pool_id), cidr) => {
            ipam::check_id(ResourceKind::IpamPool, &pool_id)?;
            Ok(Some(Source::Pool { pool_id, cidr, netmask, netmask_name: "Ipv4NetmaskLength" }))
        }
        (None, Some(c)) => {
            if netmask.is_some() {
                return Err(IpamError::InvalidCombination(
                    "Ipv4NetmaskLength can only be used with Ipv4IpamPoolId.".into(),
                )
                .into());
            }
            Ok(Some(Source::Given(Block::of_net(IpNet::V4(vpc::parse_cidr(&c)?)))))
        }
        (None, None) => Ok(None),
    }
}

/// What `CreateVpc` / `AssociateVpcCidrBlock` ask for IPv6 (from a pool only).
fn ipv6_source(cidr: Option<String>, pool: Option<String>, netmask: Option<i32>) -> ApiResult<Option<Source>> {
    match pool {
        Some(pool_id) => {
            ipam::check_id(ResourceKind::IpamPool, &pool_id)?;
            Ok(Some(Source::Pool { pool_id, cidr, netmask, netmask_name: "Ipv6NetmaskLength" }))
        }
        None if cidr.is_some() || netmask.is_some() => Err(IpamError::InvalidCombination(
            "An IPv6 CIDR block or netmask length needs an Ipv6IpamPoolId (Amazon-provided and BYOIP IPv6 pools are not served).".into(),
        )
        .into()),
        None => Ok(None),
    }
}

/// A VPC block's size rules: IPv4 /16–/28; IPv6 from a pool /44–/60 in steps of 4.
fn check_vpc_block(b: Block) -> ApiResult<()> {
    match b.family {
        Family::Ipv4 if !(vpc::MIN_PREFIX..=vpc::MAX_PREFIX).contains(&b.prefix) => {
            Err(VpcError::InvalidRange(b.text()).into())
        }
        Family::Ipv6 if !(44..=60).contains(&b.prefix) || !b.prefix.is_multiple_of(4) => Err(IpamError::InvalidValue(format!(
            "The IPv6 CIDR {} is invalid for a VPC: the netmask length must be between /44 and /60, in increments of /4.",
            b.text()
        ))
        .into()),
        _ => Ok(()),
    }
}

/// Takes a VPC block from a pool for `vpc_id` (in the caller's region), or checks a
/// given one. Answers the block and the pool hold.
#[allow(clippy::too_many_arguments)]
fn take_block(
    tx: &mut dyn Tx,
    caller: &Scope,
    source: &Source,
    family: Family,
    vpc_id: &str,
    tags: &[Tag],
    now: Timestamp,
) -> ApiResult<(Block, Option<PoolHold>)> {
    let (pool_id, cidr, netmask, netmask_name) = match source {
        Source::Given(b) => return check_vpc_block(*b).map(|()| (*b, None)),
        Source::Pool { pool_id, cidr, netmask, netmask_name } => (pool_id, cidr, netmask, netmask_name),
    };
    let (home, pool): (Scope, IpamPool) = match tx.load_any_scope::<IpamPool>(pool_id)? {
        Some((home, pool)) if super::ipam::may_use(tx, caller, &home, pool_id)? => (home, pool),
        _ => return Err(IpamError::PoolNotFound(vec![pool_id.clone()]).into()),
    };
    if pool.family != family {
        return Err(IpamError::InvalidValue(format!(
            "The pool {pool_id} is an {} pool; an {} pool is needed here.",
            pool.family.as_str(),
            family.as_str()
        ))
        .into());
    }
    if !pool.serves_region(&caller.region) {
        return Err(IpamError::InvalidValue(format!(
            "The pool {pool_id} has the locale {}, not the VPC's Region {}.",
            pool.locale.as_deref().unwrap_or("None"),
            caller.region
        ))
        .into());
    }
    ipam::check_resource_tags(&pool, tags)?;
    let ask = ipam::ask(&pool, cidr.as_deref(), *netmask, netmask_name)?;
    let prefix = match ask {
        Ask::Cidr(b) => b.prefix,
        Ask::Length(n) => n,
    };
    let probe = Block::containing(family, 0, prefix);
    check_vpc_block(probe).map_err(|e| match (e, ask) {
        (e, Ask::Cidr(b)) if b.family == Family::Ipv4 => match e {
            ApiError::Aws { .. } => VpcError::InvalidRange(b.text()).into(),
            other => other,
        },
        (e, _) => e,
    })?;
    let holder = Allocation {
        id: ipam::new_long_id(ipam::ALLOCATION_PREFIX, &mut OsRandom),
        resource_type: "vpc".into(),
        resource_id: Some(vpc_id.to_string()),
        resource_owner: caller.account.to_string(),
        resource_region: Some(caller.region.clone()),
        description: None,
        created: now,
    };
    let hold =
        PoolHold { pool_id: pool.id.clone(), allocation_id: holder.id.clone(), pool_region: home.region.clone() };
    let mut slots = TxSlots::<ApiError>::new(tx, &home);
    let block = super::ipam::take(&mut slots, &pool, ask, holder, &[], &[])?;
    Ok((block, Some(hold)))
}

/// Frees the pool allocation holding a VPC block. A pool deleted with `Cascade` took its
/// allocations with it: nothing is left to free then.
fn free_hold(tx: &mut dyn Tx, account: &Scope, hold: &PoolHold, net: IpNet) -> ApiResult<()> {
    let home = Scope::new(account.account.clone(), hold.pool_region.clone());
    let mut slots = TxSlots::<ApiError>::new(tx, &home);
    match space::release(&mut slots, &hold.pool_id, Block::of_net(net), &hold.allocation_id) {
        Ok(_) | Err(ApiError::Aws { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

fn ipv4(b: Block) -> Ipv4Net {
    match b.to_net() {
        IpNet::V4(n) => n,
        IpNet::V6(_) => unreachable!("an IPv4 block"),
    }
}

fn ipv6(b: Block) -> Ipv6Net {
    match b.to_net() {
        IpNet::V6(n) => n,
        IpNet::V4(_) => unreachable!("an IPv6 block"),
    }
}

/// Where Amazon's IPv6 space is kept: one space for every account and region (the
/// default account's name under a region no request can name), so a /56 is never handed
/// out twice.
fn amazon_scope() -> Scope {
    Scope::new(AccountId::default_account(), AMAZON_REGION)
}
const AMAZON_REGION: &str = "amazon-provided-ipv6";
const AMAZON_SPACE: &str = "amazon-ipv6";

/// Takes the lowest free /56 of Amazon's IPv6 space for `vpc_id`; the allocation's id is
/// the association id the VPC will show.
fn take_amazon_ipv6(
    tx: &mut dyn Tx,
    caller: &Scope,
    vpc_id: &str,
    association_id: &str,
    now: Timestamp,
) -> ApiResult<Ipv6Net> {
    let home = amazon_scope();
    let root = Block::of_net(vpc::AMAZON_IPV6_ROOT.parse().expect("valid"));
    let mut slots = TxSlots::<ApiError>::new(tx, &home);
    if slots.at_or_before(AMAZON_SPACE, Family::Ipv6, root.start)?.is_none() {
        space::add_root(&mut slots, AMAZON_SPACE, root)?;
    }
    let holder = Allocation {
        id: association_id.to_string(),
        resource_type: "vpc".into(),
        resource_id: Some(vpc_id.to_string()),
        resource_owner: caller.account.to_string(),
        resource_region: Some(caller.region.clone()),
        description: None,
        created: now,
    };
    let search = Search {
        family: Family::Ipv6,
        prefix: vpc::AMAZON_IPV6_PREFIX,
        largest_root: root.prefix,
        allowed: Vec::new(),
        disallowed: Vec::new(),
    };
    Ok(ipv6(space::allocate_next(&mut slots, AMAZON_SPACE, &search, holder)?))
}

/// Gives an Amazon-provided /56 back to Amazon's space.
fn free_amazon_ipv6(tx: &mut dyn Tx, a: &vpc::Ipv6Association) -> ApiResult<()> {
    let home = amazon_scope();
    let mut slots = TxSlots::<ApiError>::new(tx, &home);
    space::release(&mut slots, AMAZON_SPACE, Block::of_net(IpNet::V6(a.cidr)), &a.association_id)?;
    Ok(())
}

/// What every new VPC comes with, as in AWS: its main route table (the local route), its
/// default network ACL and its `default` security group (routing also records the VPC's
/// use of its DHCP options set, so that the set cannot be deleted while the VPC uses it).
pub fn furnish(tx: &mut dyn Tx, scope: &Scope, v: &Vpc, now: Timestamp) -> ApiResult<()> {
    super::routing::create_vpc_routing(tx, scope, v, now)?;
    super::security_groups::create_default_group(tx, scope, v, now)?;
    Ok(())
}

/// The alias that names a region's default VPC: one lookup finds it, and its key being
/// unique means a region never has two.
const DEFAULT_VPC: (&str, &str) = ("default-vpc", "");

/// The region's default VPC, if it has one (one indexed lookup).
pub fn default_vpc(tx: &mut dyn ReadTx, scope: &Scope) -> ApiResult<Option<Vpc>> {
    match tx.get_alias(scope, DEFAULT_VPC.0, DEFAULT_VPC.1)? {
        Some(id) => Ok(tx.load::<Vpc>(scope, &id)?),
        None => Ok(None),
    }
}

/// A default VPC with everything AWS gives one: [`furnish`]ed, a default subnet in each
/// Availability Zone, and an internet gateway attached with the route to it.
pub fn create_default_vpc_with_contents(
    tx: &mut dyn Tx,
    scope: &Scope,
    catalogue: &Catalogue,
    now: Timestamp,
) -> ApiResult<Vpc> {
    let dhcp = default_dhcp_options(tx, scope)?;
    let v = vpc::default_vpc(&scope.account, &dhcp, now, &mut OsRandom);
    if tx.get_alias(scope, DEFAULT_VPC.0, DEFAULT_VPC.1)?.is_some() {
        return Err(
            NetError::DefaultVpcExists("A Default VPC already exists for this account in this region.".into()).into()
        );
    }
    tx.put_alias(scope, DEFAULT_VPC.0, DEFAULT_VPC.1, &v.id)?;
    tx.create(scope, &v)?;
    index_cidrs(tx, scope, &v)?;
    furnish(tx, scope, &v, now)?;
    super::subnets::create_default_subnets_with(tx, scope, catalogue, &v, now)?;
    super::routing::create_default_vpc_gateway(tx, scope, &v, now)?;
    Ok(v)
}

/// Gives the VPCs of a scope set up by an earlier version (scope version 1: default DHCP
/// options and a bare default VPC) what they have now: the aliases of the default DHCP options and default VPC, each
/// VPC's main route table, default network ACL and default security group, and the
/// default VPC's subnets and internet gateway. Runs once per scope, in the transaction of
/// its first write request after the upgrade; VPCs of a region are few.
pub fn upgrade_scope_v1(tx: &mut dyn Tx, scope: &Scope, catalogue: &Catalogue, now: Timestamp) -> ApiResult<()> {
    let sets = tx.page::<reservoir_domain::dhcp::DhcpOptions>(scope, 0, 100)?;
    if let Some((_, d)) = sets.into_iter().find(|(_, d)| d.is_default) {
        tx.put_alias(scope, super::shared::DEFAULT_DHCP.0, super::shared::DEFAULT_DHCP.1, &d.id)?;
    }
    let mut after = 0;
    loop {
        let page = tx.page::<Vpc>(scope, after, 100)?;
        let done = page.len() < 100;
        for (seq, v) in page {
            after = seq;
            if !super::routing::has_main_table(tx, scope, &v.id)? {
                super::routing::create_vpc_routing(tx, scope, &v, now)?;
            }
            if !super::security_groups::has_default_group(tx, scope, &v.id)? {
                super::security_groups::create_default_group(tx, scope, &v, now)?;
            }
            if v.is_default && tx.get_alias(scope, DEFAULT_VPC.0, DEFAULT_VPC.1)?.is_none() {
                tx.put_alias(scope, DEFAULT_VPC.0, DEFAULT_VPC.1, &v.id)?;
                if super::subnets::vpc_subnet_count(tx, scope, &v.id)? == 0 {
                    super::subnets::create_default_subnets_with(tx, scope, catalogue, &v, now)?;
                }
                super::routing::create_default_vpc_gateway(tx, scope, &v, now)?;
            }
        }
        if done {
            return Ok(());
        }
    }
}

/// What keeps a VPC from being deleted (AWS's `DependencyViolation`): subnets, security
/// groups other than the default one, route tables other than the main one, attached
/// internet gateways, network ACLs other than the default one, network interfaces and
/// endpoints. Each is one indexed count.
fn dependents(tx: &mut dyn ReadTx, scope: &Scope, vpc_id: &str) -> ApiResult<Dependents> {
    let count = super::subnets::vpc_subnet_count(tx, scope, vpc_id)?
        + super::security_groups::vpc_group_count(tx, scope, vpc_id)?
        + super::routing::vpc_routing_dependents(tx, scope, vpc_id)?
        + super::interfaces::vpc_interface_count(tx, scope, vpc_id)?
        + super::endpoints::vpc_endpoint_count(tx, scope, vpc_id)?;
    Ok(Dependents { count: count as usize })
}

/// Removes what [`furnish`] made, once nothing else depends on the VPC.
fn unfurnish(tx: &mut dyn Tx, scope: &Scope, vpc_id: &str) -> ApiResult<()> {
    super::security_groups::remove_vpc_groups(tx, scope, vpc_id)?;
    super::routing::remove_vpc_routing(tx, scope, vpc_id)?;
    super::subnets::remove_vpc_space(tx, scope, vpc_id)?;
    tx.delete_references_from(scope, vpc_id)?;
    Ok(())
}

/// Indexes a VPC's CIDRs for IPAM monitoring.
fn index_cidrs(tx: &mut dyn Tx, scope: &Scope, v: &Vpc) -> ApiResult<()> {
    for row in vpc_cidrs(v) {
        tx.put_resource_cidr(scope, &row)?;
    }
    Ok(())
}

/// EC2 `CreateVpc`: an IPv4 block given (`CidrBlock`, /16–/28) or from an IPAM pool
/// (`Ipv4IpamPoolId` with `Ipv4NetmaskLength`, a `CidrBlock` inside the pool, or the
/// pool's default netmask), optionally an IPv6 block from a pool (`Ipv6IpamPoolId` with
/// `Ipv6NetmaskLength` or `Ipv6CidrBlock`); `InstanceTenancy`, `TagSpecifications`.
/// Errors: `MissingParameter` (no CIDR), `InvalidParameterValue` (malformed CIDR, tenancy
/// `host`, bad tags, pool rules), `InvalidParameterCombination`, `InvalidVpc.Range`,
/// `InvalidIpamPoolId.NotFound`, `VpcLimitExceeded`, `TagLimitExceeded`, `DryRunOperation`.
pub async fn create_vpc(call: &Call, input: api::CreateVpcRequest) -> ApiResult<api::CreateVpcResult> {
    use api::CreateVpcRequestMember as M;
    call.supported(
        &input,
        &[
            M::CidrBlock,
            M::InstanceTenancy,
            M::TagSpecifications,
            M::DryRun,
            M::AmazonProvidedIpv6CidrBlock,
            M::Ipv4IpamPoolId,
            M::Ipv4NetmaskLength,
            M::Ipv6IpamPoolId,
            M::Ipv6NetmaskLength,
            M::Ipv6CidrBlock,
            M::Ipv6CidrBlockNetworkBorderGroup,
        ],
    )?;
    let amazon = amazon_ipv6(
        input.amazon_provided_ipv6_cidr_block,
        input.ipv6_cidr_block_network_border_group.as_deref(),
        &call.cx.scope,
        input.ipv6_ipam_pool_id.is_some() || input.ipv6_cidr_block.is_some(),
    )?;
    let v4 = ipv4_source(input.cidr_block, input.ipv4_ipam_pool_id, input.ipv4_netmask_length)?
        .ok_or(VpcError::MissingCidr)?;
    let v6 = ipv6_source(input.ipv6_cidr_block, input.ipv6_ipam_pool_id, input.ipv6_netmask_length)?;
    let tenancy = match &input.instance_tenancy {
        Some(t) => vpc::parse_tenancy(t.as_str())?,
        None => Tenancy::Default,
    };
    let tags = tag_specifications(input.tag_specifications, ResourceKind::Vpc)?;
    let scope = call.cx.scope.clone();
    let quota = call.cx.state.quotas.vpcs_per_region;
    let now = call.cx.now;
    let (created, tags) = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            // Counted only when a quota is set: nothing proportional to the state otherwise.
            let existing = if quota.is_some() { tx.count_of::<Vpc>(&scope)? } else { 0 };
            let dhcp = default_dhcp_options(tx, &scope)?;
            let placeholder = match &v4 {
                Source::Given(b) => ipv4(*b),
                Source::Pool { .. } => "0.0.0.0/16".parse().expect("valid"),
            };
            let req = NewVpc { cidr: placeholder, tenancy };
            let mut v = vpc::create(&scope.account, &req, &dhcp, existing, quota, now, &mut OsRandom)?;
            let (block, hold) = take_block(tx, &scope, &v4, Family::Ipv4, &v.id, &tags, now)?;
            v.cidr_associations[0].cidr = ipv4(block);
            v.cidr_associations[0].ipam = hold;
            if let Some(v6) = &v6 {
                let (block, hold) = take_block(tx, &scope, v6, Family::Ipv6, &v.id, &tags, now)?;
                vpc::associate_ipv6(&mut v, ipv6(block), hold, &mut OsRandom).map_err(associate_error)?;
            }
            if amazon {
                let association_id = ResourceKind::VpcCidrBlockAssociation.new_id(&mut OsRandom);
                let net = take_amazon_ipv6(tx, &scope, &v.id, &association_id, now)?;
                vpc::associate_amazon_ipv6(&mut v, net, association_id).map_err(associate_error)?;
            }
            tx.create(&scope, &v)?;
            index_cidrs(tx, &scope, &v)?;
            furnish(tx, &scope, &v, now)?;
            put_tags(tx, &scope, &v.id, ResourceKind::Vpc, &tags)?;
            Ok((v, tags.clone()))
        })
        .await?;
    Ok(api::CreateVpcResult { vpc: Some(to_wire(created, tags, VpcState::Pending)) })
}

/// Whether an Amazon-provided IPv6 block is asked for; its network border group, if
/// given, must be the region (Local Zone groups are not served).
fn amazon_ipv6(asked: Option<bool>, border_group: Option<&str>, scope: &Scope, from_pool: bool) -> ApiResult<bool> {
    let asked = asked == Some(true);
    if let Some(g) = border_group {
        if !asked {
            return Err(NetError::Combination(
                "Ipv6CidrBlockNetworkBorderGroup can only be used with AmazonProvidedIpv6CidrBlock.".into(),
            )
            .into());
        }
        if g != scope.region {
            return Err(NetError::InvalidValue(format!(
                "The network border group '{g}' is invalid: the Region's own group '{}' is the only one here.",
                scope.region
            ))
            .into());
        }
    }
    if asked && from_pool {
        return Err(NetError::Combination(
            "AmazonProvidedIpv6CidrBlock cannot be used with Ipv6IpamPoolId or Ipv6CidrBlock.".into(),
        )
        .into());
    }
    Ok(asked)
}

fn associate_error(e: AssociateError) -> ApiError {
    match e {
        AssociateError::NotFound(_) => {
            ApiError::new(reservoir_wire::ec2::codes::INVALID_VPC_CIDR_BLOCK_ASSOCIATION_ID_NOT_FOUND, e.to_string())
        }
        AssociateError::Malformed(_) => ApiError::invalid_parameter_value(e.to_string()),
        AssociateError::TooMany => ApiError::new(reservoir_wire::ec2::codes::CIDR_LIMIT_EXCEEDED, e.to_string()),
        AssociateError::Overlaps(_) | AssociateError::Primary(_) => ApiError::invalid_parameter_value(e.to_string()),
    }
}

/// EC2 `AssociateVpcCidrBlock`: a secondary IPv4 block (given, or from a pool) or an IPv6
/// block from a pool.
pub async fn associate_vpc_cidr_block(
    call: &Call,
    input: api::AssociateVpcCidrBlockRequest,
) -> ApiResult<api::AssociateVpcCidrBlockResult> {
    use api::AssociateVpcCidrBlockRequestMember as M;
    call.supported(
        &input,
        &[
            M::VpcId,
            M::CidrBlock,
            M::Ipv4IpamPoolId,
            M::Ipv4NetmaskLength,
            M::Ipv6IpamPoolId,
            M::Ipv6NetmaskLength,
            M::Ipv6CidrBlock,
            M::AmazonProvidedIpv6CidrBlock,
            M::Ipv6CidrBlockNetworkBorderGroup,
        ],
    )?;
    let amazon = amazon_ipv6(
        input.amazon_provided_ipv6_cidr_block,
        input.ipv6_cidr_block_network_border_group.as_deref(),
        &call.cx.scope,
        input.ipv6_ipam_pool_id.is_some() || input.ipv6_cidr_block.is_some(),
    )?;
    let id = input.vpc_id.unwrap_or_default();
    vpc::check_id(&id)?;
    let v4 = ipv4_source(input.cidr_block, input.ipv4_ipam_pool_id, input.ipv4_netmask_length)?;
    let v6 = ipv6_source(input.ipv6_cidr_block, input.ipv6_ipam_pool_id, input.ipv6_netmask_length)?;
    if amazon && v4.is_some() {
        return Err(IpamError::InvalidCombination(
            "An IPv4 and an IPv6 CIDR block cannot be associated in one request.".into(),
        )
        .into());
    }
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    if amazon {
        return call
            .write(false, move |tx| {
                let mut v: Vpc = tx.load(&scope, &id)?.ok_or_else(|| VpcError::NotFound(vec![id.clone()]))?;
                let association_id = ResourceKind::VpcCidrBlockAssociation.new_id(&mut OsRandom);
                let net = take_amazon_ipv6(tx, &scope, &v.id, &association_id, now)?;
                let a = vpc::associate_amazon_ipv6(&mut v, net, association_id).map_err(associate_error)?;
                tx.save(&scope, &v)?;
                for row in vpc_cidrs(&v).into_iter().filter(|r| r.block == Block::of_net(IpNet::V6(net))) {
                    tx.put_resource_cidr(&scope, &row)?;
                }
                let mut shown = a.clone();
                shown.state = AssociationState::Associating;
                Ok(api::AssociateVpcCidrBlockResult {
                    ipv6_cidr_block_association: Some(ipv6_to_wire(&shown)),
                    cidr_block_association: None,
                    vpc_id: Some(v.id.clone()),
                })
            })
            .await;
    }
    let (source, family) = match (v4, v6) {
        (Some(s), None) => (s, Family::Ipv4),
        (None, Some(s)) => (s, Family::Ipv6),
        (None, None) => {
            return Err(IpamError::Missing("CidrBlock, Ipv4IpamPoolId or Ipv6IpamPoolId").into());
        }
        (Some(_), Some(_)) => {
            return Err(IpamError::InvalidCombination(
                "An IPv4 and an IPv6 CIDR block cannot be associated in one request.".into(),
            )
            .into());
        }
    };
    call.write(false, move |tx| {
        let mut v: Vpc = tx.load(&scope, &id)?.ok_or_else(|| VpcError::NotFound(vec![id.clone()]))?;
        let tags =
            super::shared::tags_by_id(tx, &scope, std::iter::once(v.id.as_str()))?.remove(&v.id).unwrap_or_default();
        let (block, hold) = take_block(tx, &scope, &source, family, &v.id, &tags, now)?;
        let mut out = api::AssociateVpcCidrBlockResult {
            ipv6_cidr_block_association: None,
            cidr_block_association: None,
            vpc_id: Some(v.id.clone()),
        };
        match family {
            Family::Ipv4 => {
                let a = vpc::associate_ipv4(&mut v, ipv4(block), hold, &mut OsRandom).map_err(associate_error)?;
                let mut shown = a.clone();
                shown.state = AssociationState::Associating;
                out.cidr_block_association = Some(ipv4_association_to_wire(&shown));
            }
            Family::Ipv6 => {
                let a = vpc::associate_ipv6(&mut v, ipv6(block), hold, &mut OsRandom).map_err(associate_error)?;
                let mut shown = a.clone();
                shown.state = AssociationState::Associating;
                out.ipv6_cidr_block_association = Some(ipv6_to_wire(&shown));
            }
        }
        tx.save(&scope, &v)?;
        for row in vpc_cidrs(&v).into_iter().filter(|r| r.block == block) {
            tx.put_resource_cidr(&scope, &row)?;
        }
        Ok(out)
    })
    .await
}

/// EC2 `DisassociateVpcCidrBlock`: removes a secondary block; a block from a pool is
/// free in the pool at once.
pub async fn disassociate_vpc_cidr_block(
    call: &Call,
    input: api::DisassociateVpcCidrBlockRequest,
) -> ApiResult<api::DisassociateVpcCidrBlockResult> {
    use api::DisassociateVpcCidrBlockRequestMember as M;
    call.supported(&input, &[M::AssociationId])?;
    let id = input.association_id.unwrap_or_default();
    if !ResourceKind::VpcCidrBlockAssociation.is_well_formed(&id) {
        return Err(associate_error(AssociateError::Malformed(id)));
    }
    let scope = call.cx.scope.clone();
    call.write(false, move |tx| {
        // An association id names no VPC: find the VPC that has it.
        let mut after = 0;
        loop {
            let page = tx.page::<Vpc>(&scope, after, 500)?;
            let done = page.len() < 500;
            for (seq, mut v) in page {
                after = seq;
                let has = v.cidr_associations.iter().any(|a| a.association_id == id)
                    || v.ipv6_associations.iter().any(|a| a.association_id == id);
                if !has {
                    continue;
                }
                let removed = vpc::disassociate(&mut v, &id).map_err(associate_error)?;
                let block = match &removed {
                    Removed::Ipv4(a) => Block::of_net(IpNet::V4(a.cidr)),
                    Removed::Ipv6(a) => Block::of_net(IpNet::V6(a.cidr)),
                };
                if super::subnets::vpc_block_in_use(tx, &scope, &v.id, block)? {
                    return Err(NetError::Dependency(format!(
                        "The CIDR block {} has subnets in it and cannot be disassociated.",
                        block.text()
                    ))
                    .into());
                }
                if let Removed::Ipv6(a) = &removed
                    && a.amazon
                {
                    free_amazon_ipv6(tx, a)?;
                }
                let mut out = api::DisassociateVpcCidrBlockResult {
                    ipv6_cidr_block_association: None,
                    cidr_block_association: None,
                    vpc_id: Some(v.id.clone()),
                };
                let (net, hold) = match &removed {
                    Removed::Ipv4(a) => {
                        let mut shown = a.clone();
                        shown.state = AssociationState::Disassociating;
                        out.cidr_block_association = Some(ipv4_association_to_wire(&shown));
                        (IpNet::V4(a.cidr), a.ipam.clone())
                    }
                    Removed::Ipv6(a) => {
                        let mut shown = a.clone();
                        shown.state = AssociationState::Disassociating;
                        out.ipv6_cidr_block_association = Some(ipv6_to_wire(&shown));
                        (IpNet::V6(a.cidr), a.ipam.clone())
                    }
                };
                if let Some(h) = &hold {
                    free_hold(tx, &scope, h, net)?;
                }
                tx.delete_resource_cidr(&scope, &v.id, Block::of_net(net))?;
                tx.save(&scope, &v)?;
                return Ok(out);
            }
            if done {
                return Err(associate_error(AssociateError::NotFound(id.clone())));
            }
        }
    })
    .await
}

/// EC2 `DescribeVpcs`: by `VpcId.N` (each must exist) and/or filters, paginated with
/// `MaxResults` (5–1000) and `NextToken`. Errors: `InvalidVpcID.Malformed`,
/// `InvalidVpcID.NotFound`, `InvalidParameterValue`, `FilterLimitExceeded`,
/// `InvalidNextToken`, `DryRunOperation`.
pub async fn describe_vpcs(call: &Call, input: api::DescribeVpcsRequest) -> ApiResult<api::DescribeVpcsResult> {
    use api::DescribeVpcsRequestMember as M;
    call.supported(&input, &[M::Filters, M::VpcIds, M::NextToken, M::MaxResults, M::DryRun])?;
    let filters = filter_set(input.filters, &vpc::FILTERS)?;
    let mut ids = input.vpc_ids.unwrap_or_default();
    for id in &ids {
        vpc::check_id(id)?;
    }
    ids.sort();
    ids.dedup();
    let limit = page_size(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    let scope = call.cx.scope.clone();
    let (items, next) = call
        .read(move |tx| {
            let page =
                listing::<Vpc>(tx, &scope, &ids, &filters, after, limit, |missing| VpcError::NotFound(missing).into())?;
            Ok((page.items, page.next))
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(api::DescribeVpcsResult {
        next_token: next.map(|seq| call.next_token(&seq.to_string())),
        vpcs: Some(
            items
                .into_iter()
                .map(|(_, v, t)| {
                    let state = v.state;
                    to_wire(v, t, state)
                })
                .collect(),
        ),
    })
}

/// EC2 `DeleteVpc`. Errors: `InvalidVpcID.Malformed`, `InvalidVpcID.NotFound`,
/// `DependencyViolation`, `DryRunOperation`.
pub async fn delete_vpc(call: &Call, input: api::DeleteVpcRequest) -> ApiResult<()> {
    use api::DeleteVpcRequestMember as M;
    call.supported(&input, &[M::VpcId, M::DryRun])?;
    let id = input.vpc_id.unwrap_or_default();
    vpc::check_id(&id)?;
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let v: Vpc = tx.load(&scope, &id)?.ok_or_else(|| VpcError::NotFound(vec![id.clone()]))?;
        let dependents = dependents(tx, &scope, &v.id)?;
        vpc::check_deletable(&v, &dependents)?;
        unfurnish(tx, &scope, &v.id)?;
        if v.is_default {
            tx.delete_alias(&scope, DEFAULT_VPC.0, DEFAULT_VPC.1)?;
        }
        for (hold, net) in vpc::pool_holds(&v) {
            free_hold(tx, &scope, &hold, net)?;
        }
        for a in v.ipv6_associations.iter().filter(|a| a.amazon) {
            free_amazon_ipv6(tx, a)?;
        }
        for row in vpc_cidrs(&v) {
            tx.delete_resource_cidr(&scope, &v.id, row.block)?;
        }
        tx.remove::<Vpc>(&scope, &id)?;
        Ok(())
    })
    .await
}

fn attribute(name: &api::VpcAttributeName) -> ApiResult<Attribute> {
    match name {
        api::VpcAttributeName::EnableDnsSupport => Ok(Attribute::DnsSupport),
        api::VpcAttributeName::EnableDnsHostnames => Ok(Attribute::DnsHostnames),
        api::VpcAttributeName::EnableNetworkAddressUsageMetrics => Ok(Attribute::AddressUsageMetrics),
        api::VpcAttributeName::Unknown(other) => Err(ApiError::invalid_parameter_value(format!(
            "Value ({other}) for parameter attribute is invalid. Unknown attribute."
        ))),
    }
}

/// EC2 `DescribeVpcAttribute`: one of `enableDnsSupport`, `enableDnsHostnames`,
/// `enableNetworkAddressUsageMetrics`.
pub async fn describe_vpc_attribute(
    call: &Call,
    input: api::DescribeVpcAttributeRequest,
) -> ApiResult<api::DescribeVpcAttributeResult> {
    use api::DescribeVpcAttributeRequestMember as M;
    call.supported(&input, &[M::Attribute, M::VpcId, M::DryRun])?;
    let which = attribute(input.attribute.as_ref().expect("required by the model"))?;
    let id = input.vpc_id.unwrap_or_default();
    vpc::check_id(&id)?;
    let scope = call.cx.scope.clone();
    let v: Vpc = call
        .read(move |tx| Ok(tx.load::<Vpc>(&scope, &id)?.ok_or_else(|| VpcError::NotFound(vec![id.clone()]))?))
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let value = Some(api::AttributeBooleanValue { value: Some(v.attribute(which)) });
    let mut out = api::DescribeVpcAttributeResult { vpc_id: Some(v.id), ..Default::default() };
    match which {
        Attribute::DnsSupport => out.enable_dns_support = value,
        Attribute::DnsHostnames => out.enable_dns_hostnames = value,
        Attribute::AddressUsageMetrics => out.enable_network_address_usage_metrics = value,
    }
    Ok(out)
}

/// EC2 `ModifyVpcAttribute`: exactly one attribute per call, as EC2 requires; DNS
/// hostnames only with DNS support.
pub async fn modify_vpc_attribute(call: &Call, input: api::ModifyVpcAttributeRequest) -> ApiResult<()> {
    use api::ModifyVpcAttributeRequestMember as M;
    call.supported(
        &input,
        &[M::VpcId, M::EnableDnsSupport, M::EnableDnsHostnames, M::EnableNetworkAddressUsageMetrics],
    )?;
    let id = input.vpc_id.unwrap_or_default();
    vpc::check_id(&id)?;
    let given: Vec<(Attribute, Option<bool>)> = [
        (Attribute::DnsSupport, input.enable_dns_support),
        (Attribute::DnsHostnames, input.enable_dns_hostnames),
        (Attribute::AddressUsageMetrics, input.enable_network_address_usage_metrics),
    ]
    .into_iter()
    .filter_map(|(a, v)| v.map(|v| (a, v.value)))
    .collect();
    let (which, value) = match given.as_slice() {
        [(a, Some(v))] => (*a, *v),
        [(_, None)] => return Err(NetError::Missing("The request must contain the parameter Value".into()).into()),
        [] => {
            return Err(NetError::Missing(
                "The request must contain exactly one of the parameters EnableDnsSupport, EnableDnsHostnames or EnableNetworkAddressUsageMetrics".into(),
            )
            .into());
        }
        _ => {
            return Err(NetError::Combination(
                "Fields for multiple attribute types specified: only one attribute can be modified at a time.".into(),
            )
            .into());
        }
    };
    let scope = call.cx.scope.clone();
    call.write(false, move |tx| {
        let mut v: Vpc = tx.load(&scope, &id)?.ok_or_else(|| VpcError::NotFound(vec![id.clone()]))?;
        v.set_attribute(which, value)?;
        tx.save(&scope, &v)?;
        Ok(())
    })
    .await
}

/// EC2 `ModifyVpcTenancy`: only to `default` (from `dedicated`), as AWS allows.
pub async fn modify_vpc_tenancy(
    call: &Call,
    input: api::ModifyVpcTenancyRequest,
) -> ApiResult<api::ModifyVpcTenancyResult> {
    use api::ModifyVpcTenancyRequestMember as M;
    call.supported(&input, &[M::VpcId, M::InstanceTenancy, M::DryRun])?;
    let id = input.vpc_id.unwrap_or_default();
    vpc::check_id(&id)?;
    if let Some(api::VpcTenancy::Unknown(other)) = &input.instance_tenancy {
        return Err(ApiError::invalid_parameter_value(format!(
            "Value ({other}) for parameter instanceTenancy is invalid. The only tenancy a VPC can be changed to is default."
        )));
    }
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let mut v: Vpc = tx.load(&scope, &id)?.ok_or_else(|| VpcError::NotFound(vec![id.clone()]))?;
        v.tenancy = Tenancy::Default;
        tx.save(&scope, &v)?;
        Ok(())
    })
    .await?;
    Ok(api::ModifyVpcTenancyResult { return_value: Some(true) })
}
