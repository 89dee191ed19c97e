//! Elastic IP addresses: `AllocateAddress`, `ReleaseAddress`, `DescribeAddresses`,
//! `AssociateAddress`, `DisassociateAddress`, `DescribeAddressesAttribute`,
//! `ModifyAddressAttribute` (the rules are `reservoir_domain::address`).
//!
//! An address is an entity of the allocating account's scope. Amazon's public addresses
//! are /32 allocations of one space per Region (`amazon-ipv4:<region>`, the Region's /16
//! of `address::amazon_block`) kept in a scope no request can name and shared by every
//! account, so two accounts never hold the same address; the lowest free address comes
//! next (one indexed lookup of the space engine), the /16's first and last addresses are
//! held from the start and never handed out. Customer-owned addresses come from a CoIP
//! pool through `coip::allocate_in_tx` / `release_in_tx`.
//!
//! Aliases of the caller's scope: [`PUBLIC_IP_NAMESPACE`] (public address → allocation
//! id, for `PublicIps`) and [`ASSOCIATION_NAMESPACE`] (association id → allocation id).
//! An association is written on both sides in one transaction: the address records the
//! interface and private address, the interface's private address records the Elastic IP
//! (`interface::PublicAssociation`), which `DescribeNetworkInterfaces` and
//! `DescribeInstances` show. Deleting an interface (or terminating an instance whose
//! interface is deleted with it) disassociates its addresses, which stay allocated.

use std::net::Ipv4Addr;

use ipnet::{IpNet, Ipv4Net};
use reservoir_domain::account::{AccountId, Scope};
use reservoir_domain::address::{self, Address, AddressError, Association, PtrRecord};
use reservoir_domain::filter::FilterSet;
use reservoir_domain::ids::{OsRandom, ResourceKind};
use reservoir_domain::instance::InstanceState;
use reservoir_domain::interface::{self, NetworkInterface, PublicAssociation};
use reservoir_domain::network::NetError;
use reservoir_domain::space::{self, Allocation, Block, Family, Search, Slots};
use reservoir_domain::tags::Tag;
use reservoir_domain::time::Timestamp;
use reservoir_store::slots::TxSlots;
use reservoir_store::{ReadTx, ReadTxExt, Tx, TxExt};
use reservoir_wire::WireEnum;
use reservoir_wire::ec2::codes;
use reservoir_wire::ec2_api as api;

use super::shared::{Call, filter_set, listing, page_size, put_tags, tag_specifications, wire_tags};
use crate::error::{ApiError, ApiResult};

/// Alias namespace: public address → allocation id.
pub const PUBLIC_IP_NAMESPACE: &str = "elastic-ip-public";
/// Alias namespace: association id → allocation id.
pub const ASSOCIATION_NAMESPACE: &str = "elastic-ip-association";

/// Where Amazon's public IPv4 spaces are kept: the default account's name under a region
/// no request can name.
fn amazon_scope() -> Scope {
    Scope::new(AccountId::default_account(), "amazon-provided-ipv4")
}

fn amazon_space(region: &str) -> String {
    format!("amazon-ipv4:{region}")
}

fn amazon_root(region: &str) -> Block {
    let (base, prefix) = address::amazon_block(region);
    Block::of_net(IpNet::V4(Ipv4Net::new(base, prefix).expect("valid block")))
}

fn host(ip: Ipv4Addr) -> Block {
    Block::of_net(IpNet::V4(Ipv4Net::new(ip, 32).expect("a /32")))
}

fn ipv4(b: Block) -> Ipv4Addr {
    match b.to_net() {
        IpNet::V4(n) => n.addr(),
        IpNet::V6(_) => unreachable!("an IPv4 block"),
    }
}

/// Takes the lowest free address of the Region's block for `allocation_id`.
fn take_amazon_ipv4(tx: &mut dyn Tx, caller: &Scope, allocation_id: &str, now: Timestamp) -> ApiResult<Ipv4Addr> {
    let home = amazon_scope();
    let space_name = amazon_space(&caller.region);
    let root = amazon_root(&caller.region);
    let mut slots = TxSlots::<ApiError>::new(tx, &home);
    let holder = |id: String, owner: &str| Allocation {
        id,
        resource_type: "eip".into(),
        resource_id: None,
        resource_owner: owner.to_string(),
        resource_region: Some(caller.region.clone()),
        description: None,
        created: now,
    };
    if slots.at_or_before(&space_name, Family::Ipv4, root.start)?.is_none() {
        space::add_root(&mut slots, &space_name, root)?;
        // The block's network and broadcast addresses are never handed out.
        let first = Block::new(Family::Ipv4, root.start, 32).expect("aligned");
        let last = Block::new(Family::Ipv4, root.last(), 32).expect("aligned");
        space::allocate_exact(&mut slots, &space_name, first, holder(format!("{space_name}:first"), "amazon"))?;
        space::allocate_exact(&mut slots, &space_name, last, holder(format!("{space_name}:last"), "amazon"))?;
    }
    let search = Search {
        family: Family::Ipv4,
        prefix: 32,
        largest_root: root.prefix,
        allowed: Vec::new(),
        disallowed: Vec::new(),
    };
    let Some(block) = space::find(&mut slots, &space_name, &search)? else {
        return Err(AddressError::Exhausted.into());
    };
    let mut h = holder(allocation_id.to_string(), caller.account.as_str());
    h.resource_id = Some(allocation_id.to_string());
    space::allocate_exact(&mut slots, &space_name, block, h)?;
    Ok(ipv4(block))
}

/// Gives an Amazon address back to the Region's block.
fn free_amazon_ipv4(tx: &mut dyn Tx, region: &str, ip: Ipv4Addr, allocation_id: &str) -> ApiResult<()> {
    let home = amazon_scope();
    let mut slots = TxSlots::<ApiError>::new(tx, &home);
    space::release(&mut slots, &amazon_space(region), host(ip), allocation_id)?;
    Ok(())
}

/// One of the caller's addresses by allocation id: `InvalidAllocationID.Malformed`, then
/// `.NotFound`.
fn load_address(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<Address> {
    address::check_allocation_id(id)?;
    tx.load(scope, id)?.ok_or_else(|| AddressError::AllocationNotFound(vec![id.to_string()]).into())
}

/// Clears the address side of an association the interface side is dropping (the
/// caller saves or deletes the interface): the interface is being deleted, or the
/// private address unassigned or moved. The address stays allocated.
pub fn forget_association_in_tx(tx: &mut dyn Tx, scope: &Scope, a: &PublicAssociation) -> ApiResult<()> {
    tx.delete_alias(scope, ASSOCIATION_NAMESPACE, &a.association_id)?;
    if let Some(mut addr) = tx.load::<Address>(scope, &a.allocation_id)?
        && addr.association.as_ref().is_some_and(|x| x.id == a.association_id)
    {
        addr.association = None;
        tx.save(scope, &addr)?;
    }
    Ok(())
}

/// Disassociates `addr` on both sides (the caller saves `addr`).
fn disassociate_in_tx(tx: &mut dyn Tx, scope: &Scope, addr: &mut Address) -> ApiResult<()> {
    let Some(assoc) = addr.association.take() else {
        return Ok(());
    };
    tx.delete_alias(scope, ASSOCIATION_NAMESPACE, &assoc.id)?;
    if let Some(mut iface) = tx.load::<NetworkInterface>(scope, &assoc.network_interface_id)? {
        for p in iface.private_addresses.iter_mut() {
            if p.association.as_ref().is_some_and(|x| x.association_id == assoc.id) {
                p.association = None;
            }
        }
        tx.save(scope, &iface)?;
    }
    Ok(())
}

fn domain_wire() -> api::DomainType {
    api::DomainType::Vpc
}

fn to_wire(a: Address, tags: Vec<Tag>) -> api::Address {
    let assoc = a.association.clone();
    api::Address {
        allocation_id: Some(a.allocation_id.clone()),
        association_id: assoc.as_ref().map(|x| x.id.clone()),
        domain: Some(domain_wire()),
        network_interface_id: assoc.as_ref().map(|x| x.network_interface_id.clone()),
        network_interface_owner_id: assoc.as_ref().map(|x| x.network_interface_owner.as_str().to_string()),
        private_ip_address: assoc.as_ref().map(|x| x.private_ip.to_string()),
        tags: wire_tags(tags),
        public_ipv4_pool: a.public_ipv4_pool().map(str::to_string),
        network_border_group: Some(a.network_border_group.clone()),
        customer_owned_ip: a.customer_owned_ip.map(|ip| ip.to_string()),
        customer_owned_ipv4_pool: a.customer_owned_pool.clone(),
        carrier_ip: None,
        subnet_id: assoc.as_ref().map(|x| x.subnet_id.clone()),
        service_managed: None,
        instance_id: assoc.and_then(|x| x.instance_id),
        public_ip: a.public_ip.map(|ip| ip.to_string()),
    }
}

/// EC2 `AllocateAddress`: an address of Amazon's pool (Domain `vpc` or absent), or of a
/// customer-owned pool (`CustomerOwnedIpv4Pool`, optionally `Address`). Errors:
/// `InvalidParameterValue` (Domain `standard`, a network border group other than the
/// Region's, `Address` without a pool that holds it), `InvalidParameterCombination`,
/// `AddressLimitExceeded`, the CoIP pool's codes, `TagLimitExceeded`, `DryRunOperation`.
pub async fn allocate_address(
    call: &Call,
    input: api::AllocateAddressRequest,
) -> ApiResult<api::AllocateAddressResult> {
    use api::AllocateAddressRequestMember as M;
    call.supported(
        &input,
        &[
            M::Domain,
            M::Address,
            M::PublicIpv4Pool,
            M::NetworkBorderGroup,
            M::CustomerOwnedIpv4Pool,
            M::TagSpecifications,
            M::DryRun,
        ],
    )?;
    match &input.domain {
        None | Some(api::DomainType::Vpc) => {}
        Some(api::DomainType::Standard) => {
            return Err(AddressError::InvalidValue(
                "The domain 'standard' (EC2-Classic) is no longer supported. Use Domain 'vpc'.".into(),
            )
            .into());
        }
        Some(other) => {
            return Err(AddressError::InvalidValue(format!("Invalid value '{}' for Domain.", other.as_str())).into());
        }
    }
    let scope = call.cx.scope.clone();
    let border_group = address::check_border_group(input.network_border_group.as_deref(), &scope.region)?;
    let requested = input.address.as_deref().map(|t| address::parse_ip(t, "Address")).transpose()?;
    let coip_pool = input.customer_owned_ipv4_pool.clone();
    if coip_pool.is_some() && input.public_ipv4_pool.is_some() {
        return Err(AddressError::Combination(
            "The parameters PublicIpv4Pool and CustomerOwnedIpv4Pool cannot be used together.".into(),
        )
        .into());
    }
    if coip_pool.is_none() {
        match input.public_ipv4_pool.as_deref() {
            None | Some(address::AMAZON_POOL) => {}
            Some(_) => {
                return Err(ApiError::new(
                    codes::NOT_IMPLEMENTED,
                    "Reservoir does not implement BYOIP public IPv4 pools (PublicIpv4Pool) yet.",
                ));
            }
        }
        if let Some(ip) = requested {
            // Decision: recovering a released address, or a BYOIP address without its
            // pool, is not served; AWS's answer for an address it cannot give is
            // `InvalidAddress.NotFound`.
            return Err(AddressError::AddressNotFound(vec![ip.to_string()]).into());
        }
    }
    let tags = tag_specifications(input.tag_specifications, ResourceKind::ElasticIp)?;
    let now = call.cx.now;
    let addr = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let id = ResourceKind::ElasticIp.new_id(&mut OsRandom);
            let mut a = Address {
                allocation_id: id.clone(),
                owner: scope.account.clone(),
                region: scope.region.clone(),
                public_ip: None,
                customer_owned_ip: None,
                customer_owned_pool: None,
                network_border_group: border_group.clone(),
                association: None,
                ptr: None,
                created: now,
            };
            match &coip_pool {
                Some(pool) => {
                    let ip = super::coip::allocate_in_tx(tx, &scope, pool, requested, &id, now)?;
                    a.customer_owned_ip = Some(ip);
                    a.customer_owned_pool = Some(pool.clone());
                }
                None => {
                    let ip = take_amazon_ipv4(tx, &scope, &id, now)?;
                    a.public_ip = Some(ip);
                    tx.put_alias(&scope, PUBLIC_IP_NAMESPACE, &ip.to_string(), &id)?;
                }
            }
            tx.create(&scope, &a)?;
            put_tags(tx, &scope, &id, ResourceKind::ElasticIp, &tags)?;
            Ok(a)
        })
        .await?;
    Ok(api::AllocateAddressResult {
        public_ipv4_pool: addr.public_ipv4_pool().map(str::to_string),
        allocation_id: Some(addr.allocation_id),
        network_border_group: Some(addr.network_border_group),
        domain: Some(domain_wire()),
        customer_owned_ip: addr.customer_owned_ip.map(|ip| ip.to_string()),
        customer_owned_ipv4_pool: addr.customer_owned_pool,
        carrier_ip: None,
        public_ip: addr.public_ip.map(|ip| ip.to_string()),
    })
}

/// The id (`noun` id, parameter `param`) a VPC address is named by where EC2-Classic
/// named its public IP: the public IP alone is `InvalidParameterValue` (`classic_use` says
/// what for), neither is `MissingParameter`, both `InvalidParameterCombination`.
fn vpc_id_not_public_ip(
    id: Option<String>,
    public_ip: bool,
    noun: &str,
    param: &str,
    classic_use: &str,
) -> Result<String, AddressError> {
    match (id, public_ip) {
        (Some(_), true) => Err(AddressError::Combination(format!(
            "You may specify a public IP or an {noun} id, but not both in the same call"
        ))),
        (Some(id), false) => Ok(id),
        (None, true) => Err(AddressError::InvalidValue(format!("You must specify an {noun} id when {classic_use}"))),
        (None, false) => Err(AddressError::Missing(format!("The request must contain the parameter {param}"))),
    }
}

/// EC2 `ReleaseAddress` by `AllocationId` (`PublicIp` alone is EC2-Classic's form:
/// `InvalidParameterValue`). An address associated in a default VPC is disassociated
/// and released; in any other VPC the release is refused while associated
/// (`InvalidIPAddress.InUse`), as the API reference says. A `NetworkBorderGroup` other
/// than the address's is `InvalidAddress.NotFound`.
pub async fn release_address(call: &Call, input: api::ReleaseAddressRequest) -> ApiResult<()> {
    use api::ReleaseAddressRequestMember as M;
    call.supported(&input, &[M::AllocationId, M::PublicIp, M::NetworkBorderGroup, M::DryRun])?;
    let id = vpc_id_not_public_ip(
        input.allocation_id,
        input.public_ip.is_some(),
        "allocation",
        "AllocationId",
        "releasing a VPC elastic IP address",
    )?;
    address::check_allocation_id(&id)?;
    let scope = call.cx.scope.clone();
    let border_group = input.network_border_group;
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let mut a = load_address(tx, &scope, &id)?;
        if let Some(g) = &border_group
            && *g != a.network_border_group
        {
            return Err(AddressError::AddressNotFound(vec![a.ip().to_string()]).into());
        }
        if let Some(assoc) = &a.association
            && in_default_vpc(tx, &scope, &assoc.network_interface_id)?
        {
            // AWS: in a default VPC, releasing disassociates the address first.
            disassociate_in_tx(tx, &scope, &mut a)?;
        }
        address::check_releasable(&a)?;
        match (&a.public_ip, &a.customer_owned_ip, &a.customer_owned_pool) {
            (Some(ip), _, _) => {
                free_amazon_ipv4(tx, &a.region, *ip, &a.allocation_id)?;
                tx.delete_alias(&scope, PUBLIC_IP_NAMESPACE, &ip.to_string())?;
            }
            (None, Some(ip), Some(pool)) => super::coip::release_in_tx(tx, &scope, pool, *ip, &a.allocation_id)?,
            _ => {}
        }
        tx.remove::<Address>(&scope, &a.allocation_id)?;
        Ok(())
    })
    .await
}

/// Whether the interface lies in the scope's default VPC.
fn in_default_vpc(tx: &mut dyn ReadTx, scope: &Scope, eni: &str) -> ApiResult<bool> {
    let Some(iface) = tx.load::<NetworkInterface>(scope, eni)? else {
        return Ok(false);
    };
    Ok(super::vpcs::default_vpc(tx, scope)?.is_some_and(|v| v.id == iface.vpc_id))
}

/// The instance an interface is attached to now.
fn instance_of(tx: &mut dyn ReadTx, scope: &Scope, eni: &str) -> ApiResult<Option<String>> {
    Ok(tx.load::<NetworkInterface>(scope, eni)?.and_then(|i| i.attachment.map(|a| a.instance_id)))
}

/// EC2 `DescribeAddresses`: `PublicIps` (each one of the caller's, else
/// `InvalidAddress.NotFound`), `AllocationIds` (else `InvalidAllocationID.NotFound`),
/// the documented filters. No pagination (the API has none).
pub async fn describe_addresses(
    call: &Call,
    input: api::DescribeAddressesRequest,
) -> ApiResult<api::DescribeAddressesResult> {
    use api::DescribeAddressesRequestMember as M;
    call.supported(&input, &[M::PublicIps, M::AllocationIds, M::Filters, M::DryRun])?;
    let filters = filter_set(input.filters, &address::FILTERS)?;
    let ips: Vec<Ipv4Addr> = input
        .public_ips
        .unwrap_or_default()
        .iter()
        .map(|t| address::parse_ip(t, "PublicIp"))
        .collect::<Result<_, _>>()?;
    let ids = input.allocation_ids.unwrap_or_default();
    for id in &ids {
        address::check_allocation_id(id)?;
    }
    let scope = call.cx.scope.clone();
    let items = call
        .read(move |tx| {
            let mut ids = ids.clone();
            let mut unknown = Vec::new();
            for ip in &ips {
                match tx.get_alias(&scope, PUBLIC_IP_NAMESPACE, &ip.to_string())? {
                    Some(id) => ids.push(id),
                    None => unknown.push(ip.to_string()),
                }
            }
            if !unknown.is_empty() {
                return Err(AddressError::AddressNotFound(unknown).into());
            }
            ids.sort();
            ids.dedup();
            let everything = FilterSet::compile(&[], &address::FILTERS)?;
            let missing = |m: Vec<String>| AddressError::AllocationNotFound(m).into();
            let page = listing::<Address>(tx, &scope, &ids, &everything, 0, page_size(None), missing)?;
            let mut out = Vec::new();
            for (_, mut a, tags) in page.items {
                if let Some(assoc) = a.association.as_mut() {
                    assoc.instance_id = instance_of(tx, &scope, &assoc.network_interface_id)?;
                }
                if filters.matches(&a, &tags) {
                    out.push((a, tags));
                }
            }
            Ok(out)
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(api::DescribeAddressesResult { addresses: Some(items.into_iter().map(|(a, t)| to_wire(a, t)).collect()) })
}

/// EC2 `AssociateAddress`: `AllocationId` with `InstanceId` (its primary interface) or
/// `NetworkInterfaceId`, and optionally `PrivateIpAddress` (one of the interface's,
/// else the primary one). An address already associated needs `AllowReassociation`
/// (else `Resource.AlreadyAssociated`); an Elastic IP the private address already has
/// is disassociated, as AWS does. Amazon's addresses need an internet gateway attached
/// to the interface's VPC (`Gateway.NotAttached`).
pub async fn associate_address(
    call: &Call,
    input: api::AssociateAddressRequest,
) -> ApiResult<api::AssociateAddressResult> {
    use api::AssociateAddressRequestMember as M;
    call.supported(
        &input,
        &[
            M::AllocationId,
            M::InstanceId,
            M::PublicIp,
            M::NetworkInterfaceId,
            M::PrivateIpAddress,
            M::AllowReassociation,
            M::DryRun,
        ],
    )?;
    let Some(id) = input.allocation_id else {
        return Err(match input.public_ip {
            Some(_) => AddressError::Combination(
                "You must specify an allocation id when mapping an address to a VPC instance".into(),
            ),
            None => AddressError::Missing("The request must contain the parameter AllocationId".into()),
        }
        .into());
    };
    if input.public_ip.is_some() {
        return Err(AddressError::Combination(
            "You may specify a public IP or an allocation id, but not both in the same call".into(),
        )
        .into());
    }
    address::check_allocation_id(&id)?;
    enum Target {
        Instance(String),
        Interface(String),
    }
    let target = match (input.instance_id, input.network_interface_id) {
        (Some(_), Some(_)) => {
            return Err(AddressError::Combination(
                "You may specify an instance ID or a network interface ID, but not both in the same call".into(),
            )
            .into());
        }
        (Some(i), None) => Target::Instance(i),
        (None, Some(n)) => {
            interface::check_id(&n)?;
            Target::Interface(n)
        }
        (None, None) => {
            return Err(AddressError::Missing(
                "Either an instance ID or a network interface ID must be specified".into(),
            )
            .into());
        }
    };
    let private = input.private_ip_address.as_deref().map(interface::parse_address).transpose()?;
    let allow = input.allow_reassociation == Some(true);
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    let association_id = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let mut addr = load_address(tx, &scope, &id)?;
            let (eni, instance_id) = match &target {
                Target::Instance(i) => {
                    let inst = super::instances::find_instance(tx, &scope, i, now)?;
                    if matches!(inst.state, InstanceState::Terminated | InstanceState::ShuttingDown) {
                        return Err(ApiError::new(
                            codes::INCORRECT_INSTANCE_STATE,
                            format!("The instance '{i}' is not in a valid state for this operation."),
                        ));
                    }
                    (inst.primary_interface.clone(), Some(inst.id.clone()))
                }
                Target::Interface(n) => (n.clone(), None),
            };
            let iface = super::interfaces::load_interface(tx, &scope, &eni)?;
            let private_ip = match private {
                Some(p) if iface.holds(p) => p,
                Some(p) => {
                    return Err(NetError::InvalidValue(format!(
                        "The specified private IP address {p} is not assigned to the network interface {}.",
                        iface.id
                    ))
                    .into());
                }
                None => iface.primary_address(),
            };
            if addr.public_ip.is_some() && tx.get_alias(&scope, super::routing::IGW_OF_VPC, &iface.vpc_id)?.is_none() {
                return Err(NetError::NotAttached(format!(
                    "Network {} is not attached to any internet gateway",
                    iface.vpc_id
                ))
                .into());
            }
            address::check_associable(&addr, allow)?;
            // Moving the address: its old association goes first.
            disassociate_in_tx(tx, &scope, &mut addr)?;
            let mut iface = super::interfaces::load_interface(tx, &scope, &eni)?;
            let assoc_id = ResourceKind::ElasticIpAssociation.new_id(&mut OsRandom);
            let entry = iface.private_addresses.iter_mut().find(|p| p.address == private_ip).expect("held");
            // The private address's previous Elastic IP is disassociated (it stays allocated).
            if let Some(previous) = entry.association.take() {
                forget_association_in_tx(tx, &scope, &previous)?;
            }
            entry.association = Some(PublicAssociation {
                allocation_id: addr.allocation_id.clone(),
                association_id: assoc_id.clone(),
                public_ip: addr.public_ip,
                customer_owned_ip: addr.customer_owned_ip,
                ip_owner: addr.owner.clone(),
            });
            addr.association = Some(Association {
                id: assoc_id.clone(),
                network_interface_id: iface.id.clone(),
                network_interface_owner: iface.owner.clone(),
                private_ip,
                subnet_id: iface.subnet_id.clone(),
                instance_id: instance_id.or_else(|| iface.attachment.as_ref().map(|a| a.instance_id.clone())),
            });
            tx.save(&scope, &iface)?;
            tx.save(&scope, &addr)?;
            tx.put_alias(&scope, ASSOCIATION_NAMESPACE, &assoc_id, &addr.allocation_id)?;
            Ok(assoc_id)
        })
        .await?;
    Ok(api::AssociateAddressResult { association_id: Some(association_id) })
}

/// EC2 `DisassociateAddress` by `AssociationId` (`PublicIp` alone is EC2-Classic's form:
/// `InvalidParameterValue`); unknown: `InvalidAssociationID.NotFound`.
pub async fn disassociate_address(call: &Call, input: api::DisassociateAddressRequest) -> ApiResult<()> {
    use api::DisassociateAddressRequestMember as M;
    call.supported(&input, &[M::AssociationId, M::PublicIp, M::DryRun])?;
    let assoc_id = vpc_id_not_public_ip(
        input.association_id,
        input.public_ip.is_some(),
        "association",
        "AssociationId",
        "unmapping an address from a VPC instance",
    )?;
    address::check_association_id(&assoc_id)?;
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let not_found = || AddressError::AssociationNotFound(assoc_id.clone());
        let alloc = tx.get_alias(&scope, ASSOCIATION_NAMESPACE, &assoc_id)?.ok_or_else(not_found)?;
        let mut addr: Address = tx.load(&scope, &alloc)?.ok_or_else(not_found)?;
        if addr.association.as_ref().is_none_or(|a| a.id != assoc_id) {
            return Err(not_found().into());
        }
        disassociate_in_tx(tx, &scope, &mut addr)?;
        tx.save(&scope, &addr)?;
        Ok(())
    })
    .await
}

fn attribute_wire(a: &Address) -> api::AddressAttribute {
    api::AddressAttribute {
        public_ip: a.public_ip.map(|ip| ip.to_string()),
        allocation_id: Some(a.allocation_id.clone()),
        ptr_record: a.ptr.as_ref().map(|p| p.domain_name.clone()).or_else(|| a.default_ptr()),
        ptr_record_update: None,
    }
}

/// EC2 `DescribeAddressesAttribute` (`domain-name`, the PTR record): the addresses
/// named, else all of them, paged by `MaxResults` (1–1000) and `NextToken`.
pub async fn describe_addresses_attribute(
    call: &Call,
    input: api::DescribeAddressesAttributeRequest,
) -> ApiResult<api::DescribeAddressesAttributeResult> {
    use api::DescribeAddressesAttributeRequestMember as M;
    call.supported(&input, &[M::AllocationIds, M::Attribute, M::NextToken, M::MaxResults, M::DryRun])?;
    match &input.attribute {
        None | Some(api::AddressAttributeName::DomainName) => {}
        Some(other) => {
            return Err(AddressError::InvalidValue(format!("Invalid value '{}' for Attribute.", other.as_str())).into());
        }
    }
    let mut ids = input.allocation_ids.unwrap_or_default();
    for id in &ids {
        address::check_allocation_id(id)?;
    }
    ids.sort();
    ids.dedup();
    let after = call.seq_cursor(input.next_token.as_deref())?;
    let limit = page_size(input.max_results);
    let scope = call.cx.scope.clone();
    let page = call
        .read(move |tx| {
            let everything = FilterSet::compile(&[], &address::FILTERS)?;
            let missing = |m: Vec<String>| AddressError::AllocationNotFound(m).into();
            let page = listing::<Address>(tx, &scope, &ids, &everything, after, limit, missing)?;
            Ok((page.items.into_iter().map(|(_, a, _)| a).collect::<Vec<_>>(), page.next))
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let (items, next) = page;
    Ok(api::DescribeAddressesAttributeResult {
        addresses: Some(items.iter().map(attribute_wire).collect()),
        next_token: next.map(|n| call.next_token(&n.to_string())),
    })
}

/// EC2 `ModifyAddressAttribute`: sets the address's PTR record (`DomainName`). The answer
/// shows the record before the change and the update as `PENDING`, as AWS does; the new
/// record applies at once (decision: AWS applies it after checking the forward record,
/// which Reservoir cannot check).
pub async fn modify_address_attribute(
    call: &Call,
    input: api::ModifyAddressAttributeRequest,
) -> ApiResult<api::ModifyAddressAttributeResult> {
    use api::ModifyAddressAttributeRequestMember as M;
    call.supported(&input, &[M::AllocationId, M::DomainName, M::DryRun])?;
    let id = input
        .allocation_id
        .ok_or_else(|| AddressError::Missing("The request must contain the parameter AllocationId".into()))?;
    address::check_allocation_id(&id)?;
    let name = input
        .domain_name
        .ok_or_else(|| AddressError::Missing("The request must contain the parameter DomainName".into()))?;
    address::check_domain_name(&name)?;
    let scope = call.cx.scope.clone();
    let before = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let mut a = load_address(tx, &scope, &id)?;
            if a.public_ip.is_none() {
                return Err(AddressError::InvalidValue(format!(
                    "The address {} has no public IP address: reverse DNS applies to public addresses only.",
                    a.allocation_id
                ))
                .into());
            }
            let before = attribute_wire(&a);
            a.ptr = Some(PtrRecord { domain_name: name.clone() });
            tx.save(&scope, &a)?;
            Ok((before, name.clone()))
        })
        .await?;
    let (mut attr, name) = before;
    attr.ptr_record_update = Some(api::PtrUpdateStatus {
        value: Some(name),
        status: Some("PENDING".into()),
        reason: Some("Update in progress".into()),
    });
    Ok(api::ModifyAddressAttributeResult { address: Some(attr) })
}
