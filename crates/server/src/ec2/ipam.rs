//! VPC IPAM: IPAMs, scopes, pools, pool CIDRs and allocations.
//!
//! Rules are in `domain::ipam` (what the resources are) and `domain::space` (the
//! allocator); this file reads and writes them in one transaction per request. IPAMs,
//! scopes and pools live in the IPAM's home region and are managed only there (other
//! regions do not see them); allocations are made, listed and released in the pool's
//! locale or its home region (DECISIONS.md, item 3).

use reservoir_domain::account::Scope;
use reservoir_domain::filter::{FilterSet, Filterable};
use reservoir_domain::ids::{OsRandom, ResourceKind};
use reservoir_domain::ipam::{
    self, ALLOCATION_FILTERS, AllocationView, Ask, IPAM_FILTERS, Ipam, IpamError, IpamPool, IpamScope,
    POOL_CIDR_FILTERS, POOL_CIDR_PREFIX, POOL_FILTERS, PoolCidr, SCOPE_FILTERS, ScopeType, State,
};
use reservoir_domain::space::{self, Allocation, Block, Family, Range, Search, SpaceError};
use reservoir_domain::tags::Tag;
use reservoir_store::slots::TxSlots;
use reservoir_store::{Entity, ReadTx, ReadTxExt, Tx, TxExt};
use reservoir_wire::WireEnum;
use reservoir_wire::ec2_api as api;

use super::shared::{
    Call, Encoded, Page, filter_set, idempotent, page_size, put_tags, scan, tag_specifications, tags_by_id, wire_tags,
};
use crate::error::{ApiError, ApiResult};

/// The engine over a write transaction, with the server's error type.
type Slots<'a> = TxSlots<'a, ApiError>;

// ----- loading --------------------------------------------------------------------------

fn check(kind: ResourceKind, id: &str) -> ApiResult<()> {
    Ok(ipam::check_id(kind, id)?)
}

fn load_ipam(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<Ipam> {
    tx.load::<Ipam>(scope, id)?.ok_or_else(|| IpamError::IpamNotFound(vec![id.to_string()]).into())
}

fn load_scope(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<IpamScope> {
    tx.load::<IpamScope>(scope, id)?.ok_or_else(|| IpamError::ScopeNotFound(vec![id.to_string()]).into())
}

/// A pool to manage: it lives in the caller's region (its home region).
fn load_pool(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<IpamPool> {
    tx.load::<IpamPool>(scope, id)?.ok_or_else(|| IpamError::PoolNotFound(vec![id.to_string()]).into())
}

/// A pool to take addresses from, to list or release them: the caller's own or one
/// shared with it through RAM, called from its locale or its home region. Answers the
/// scope the pool is kept in.
pub fn pool_for_use(tx: &mut dyn ReadTx, caller: &Scope, id: &str) -> ApiResult<(Scope, IpamPool)> {
    match tx.load_any_scope::<IpamPool>(id)? {
        Some((home, pool)) if may_use(tx, caller, &home, id)? && pool.usable_in(&caller.region) => Ok((home, pool)),
        _ => Err(IpamError::PoolNotFound(vec![id.to_string()]).into()),
    }
}

/// Whether the caller may use a pool kept in `home`: it owns it, or the pool's owner
/// shares it with the caller's account (a grant in the pool's home region, where IPAM
/// pools are shared from).
pub fn may_use(tx: &mut dyn ReadTx, caller: &Scope, home: &Scope, id: &str) -> ApiResult<bool> {
    if home.account == caller.account {
        return Ok(true);
    }
    let consumer = Scope::new(caller.account.clone(), &home.region);
    Ok(tx.shared_with(&consumer, id)?.is_some_and(|g| g.owner == home.account.as_str()))
}

fn tags_of(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<Vec<Tag>> {
    Ok(tags_by_id(tx, scope, std::iter::once(id))?.remove(id).unwrap_or_default())
}

// ----- wire shapes ------------------------------------------------------------------

fn state<E: WireEnum>(s: State) -> E {
    E::from_wire(s.as_str())
}

fn ipam_to_wire(i: Ipam, scope_count: u64, tags: Vec<Tag>) -> api::Ipam {
    api::Ipam {
        owner_id: Some(i.owner.to_string()),
        ipam_arn: Some(i.arn()),
        ipam_region: Some(i.home_region),
        public_default_scope_id: Some(i.public_scope),
        private_default_scope_id: Some(i.private_scope),
        scope_count: Some(scope_count as i32),
        description: i.description,
        operating_regions: Some(
            i.operating_regions.into_iter().map(|r| api::IpamOperatingRegion { region_name: Some(r) }).collect(),
        ),
        state: Some(state(i.state)),
        tags: wire_tags(tags),
        default_resource_discovery_id: None,
        default_resource_discovery_association_id: None,
        resource_discovery_association_count: None,
        state_message: None,
        tier: Some(api::IpamTier::from_wire(&i.tier)),
        enable_private_gua: Some(i.enable_private_gua),
        metered_account: Some(api::IpamMeteredAccount::from_wire(&i.metered_account)),
        ipam_id: Some(i.id),
    }
}

fn scope_to_wire(s: IpamScope, pool_count: u64, tags: Vec<Tag>) -> api::IpamScope {
    api::IpamScope {
        owner_id: Some(s.owner.to_string()),
        ipam_scope_arn: Some(s.arn()),
        ipam_arn: Some(s.ipam_arn()),
        ipam_region: Some(s.home_region),
        ipam_scope_type: Some(api::IpamScopeType::from_wire(s.scope_type.as_str())),
        is_default: Some(s.is_default),
        description: s.description,
        pool_count: Some(pool_count as i32),
        state: Some(state(s.state)),
        tags: wire_tags(tags),
        external_authority_configuration: None,
        ipam_scope_id: Some(s.id),
    }
}

fn pool_to_wire(p: IpamPool, tags: Vec<Tag>) -> api::IpamPool {
    api::IpamPool {
        owner_id: Some(p.owner.to_string()),
        ipam_pool_arn: Some(p.arn()),
        ipam_scope_arn: Some(p.scope_arn()),
        ipam_arn: Some(p.ipam_arn()),
        ipam_scope_type: Some(api::IpamScopeType::from_wire(p.scope_type.as_str())),
        ipam_region: Some(p.home_region),
        // AWS answers the text "None" for a pool usable in every region.
        locale: Some(p.locale.unwrap_or_else(|| "None".into())),
        pool_depth: Some(p.depth as i32),
        state: Some(state(p.state)),
        state_message: None,
        description: p.description,
        auto_import: Some(p.auto_import),
        publicly_advertisable: p.publicly_advertisable,
        address_family: Some(api::AddressFamily::from_wire(p.family.as_str())),
        allocation_min_netmask_length: p.min_netmask.map(i32::from),
        allocation_max_netmask_length: p.max_netmask.map(i32::from),
        allocation_default_netmask_length: p.default_netmask.map(i32::from),
        allocation_resource_tags: (!p.allocation_resource_tags.is_empty()).then(|| {
            p.allocation_resource_tags
                .into_iter()
                .map(|t| api::IpamResourceTag { key: Some(t.key), value: Some(t.value) })
                .collect()
        }),
        tags: wire_tags(tags),
        aws_service: None,
        public_ip_source: None,
        source_resource: None,
        source_ipam_pool_id: p.source_pool,
        ipam_pool_id: Some(p.id),
    }
}

fn pool_cidr_to_wire(c: &PoolCidr, state: api::IpamPoolCidrState, failure: Option<String>) -> api::IpamPoolCidr {
    api::IpamPoolCidr {
        cidr: Some(c.block().text()),
        state: Some(state),
        failure_reason: failure.map(|message| api::IpamPoolCidrFailureReason {
            code: Some(api::IpamPoolCidrFailureCode::from_wire("cidr-not-available")),
            message: Some(message),
        }),
        ipam_pool_cidr_id: Some(c.id.clone()),
        netmask_length: Some(i32::from(c.cidr.prefix_len())),
    }
}

pub fn allocation_to_wire(block: Block, a: Allocation, tags: Vec<Tag>) -> api::IpamPoolAllocation {
    api::IpamPoolAllocation {
        cidr: Some(block.text()),
        ipam_pool_allocation_id: Some(a.id),
        description: a.description,
        resource_id: a.resource_id,
        resource_type: Some(api::IpamPoolAllocationResourceType::from_wire(&a.resource_type)),
        resource_region: a.resource_region,
        resource_owner: Some(a.resource_owner),
        tags: wire_tags(tags),
    }
}

// ----- describing entities of the caller's region -----------------------------------

/// `Describe…` over one kind: explicit ids (each must exist) and/or filters, in
/// insertion order, paginated. Answers entities with their tags and the next cursor.
async fn describe<T>(
    call: &Call,
    ids: Vec<String>,
    kind: ResourceKind,
    filters: FilterSet,
    max_results: Option<i32>,
    next_token: Option<&str>,
    not_found: fn(Vec<String>) -> IpamError,
) -> ApiResult<(Vec<(T, Vec<Tag>)>, Option<String>)>
where
    T: Entity + Filterable + Send + 'static,
{
    let mut ids = ids;
    for id in &ids {
        if !kind.is_well_formed(id) {
            return Err(IpamError::Malformed { kind: kind.display_name(), id: id.clone() }.into());
        }
    }
    ids.sort();
    ids.dedup();
    let limit = page_size(max_results);
    let after = call.seq_cursor(next_token)?;
    let scope = call.cx.scope.clone();
    let filters = std::sync::Arc::new(filters);
    let (items, next) = call
        .read(move |tx| {
            if ids.is_empty() {
                let page = scan::<T>(tx, &scope, &filters, after, limit)?;
                return Ok((page.items, page.next));
            }
            let mut found = Vec::with_capacity(ids.len());
            let mut missing = Vec::new();
            for id in &ids {
                match tx.get(&scope, kind.storage_name(), id)? {
                    Some(rec) => found.push(rec),
                    None => missing.push(id.clone()),
                }
            }
            if !missing.is_empty() {
                return Err(not_found(missing).into());
            }
            found.sort_by_key(|r| r.seq);
            let mut tags = tags_by_id(tx, &scope, found.iter().map(|r| r.id.as_str()))?;
            let mut items = Vec::new();
            for rec in found.into_iter().filter(|r| r.seq > after) {
                let v: T = reservoir_store::typed::decode(&rec)?;
                let t = tags.remove(&rec.id).unwrap_or_default();
                if filters.matches(&v, &t) {
                    items.push((rec.seq, v, t));
                }
            }
            let page = Page::of(items, limit);
            Ok((page.items, page.next))
        })
        .await?;
    Ok((items.into_iter().map(|(_, v, t)| (v, t)).collect(), next.map(|seq| call.next_token(&seq.to_string()))))
}

fn count_children(tx: &mut dyn ReadTx, scope: &Scope, kind: ResourceKind, parent: &str) -> ApiResult<u64> {
    Ok(tx.count_children(scope, kind.storage_name(), parent)?)
}

// ----- IPAMs ---------------------------------------------------------------------------

fn region_names(call: &Call, regions: impl IntoIterator<Item = Option<String>>) -> ApiResult<Vec<String>> {
    let mut out = Vec::new();
    for r in regions {
        let Some(r) = r else {
            return Err(IpamError::Missing("OperatingRegion.N.RegionName").into());
        };
        if call.cx.state.catalogue.region(&r).is_none() {
            return Err(IpamError::InvalidValue(format!("The operating Region '{r}' is not a valid Region.")).into());
        }
        out.push(r);
    }
    if out.len() > ipam::MAX_OPERATING_REGIONS {
        return Err(IpamError::InvalidValue(format!(
            "An IPAM can have at most {} operating Regions.",
            ipam::MAX_OPERATING_REGIONS
        ))
        .into());
    }
    Ok(out)
}

/// EC2 `CreateIpam`: the IPAM and its two default scopes.
pub async fn create_ipam(call: &Call, input: api::CreateIpamRequest) -> ApiResult<Encoded> {
    use api::CreateIpamRequestMember as M;
    call.supported(
        &input,
        &[
            M::Description,
            M::OperatingRegions,
            M::TagSpecifications,
            M::ClientToken,
            M::Tier,
            M::EnablePrivateGua,
            M::MeteredAccount,
            M::DryRun,
        ],
    )?;
    let private_gua = input.enable_private_gua.unwrap_or(false);
    let metered = input.metered_account.map(|m| m.as_str().to_string());
    let asked = region_names(call, input.operating_regions.unwrap_or_default().into_iter().map(|r| r.region_name))?;
    let regions = ipam::operating_regions(&call.cx.scope.region, &asked);
    let tags = tag_specifications(input.tag_specifications, ResourceKind::Ipam)?;
    let tier = input.tier.map(|t| t.as_str().to_string());
    let description = input.description;
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    idempotent(call, input.client_token, input.dry_run.unwrap_or(false), move |tx| {
        let (mut ipam, public, private) = ipam::new_ipam(
            &scope.account,
            &scope.region,
            description.clone(),
            regions.clone(),
            tier.clone(),
            now,
            &mut OsRandom,
        );
        ipam.enable_private_gua = private_gua;
        if let Some(m) = &metered {
            ipam.metered_account = m.clone();
        }
        tx.create(&scope, &ipam)?;
        for s in [&public, &private] {
            create_scope_entity(tx, &scope, s)?;
        }
        put_tags(tx, &scope, &ipam.id, ResourceKind::Ipam, &tags)?;
        Ok(Encoded::of(&api::CreateIpamResult { ipam: Some(ipam_to_wire(ipam, 2, tags.clone())) }))
    })
    .await
}

/// Stores a scope and its two address spaces (all of IPv4, all of IPv6), where the
/// CIDRs of its top-level pools are held so that they never overlap.
fn create_scope_entity(tx: &mut dyn Tx, scope: &Scope, s: &IpamScope) -> ApiResult<()> {
    tx.create(scope, s)?;
    let mut slots = Slots::new(tx, scope);
    for family in [Family::Ipv4, Family::Ipv6] {
        let all = Block::new(family, 0, 0).expect("the whole space");
        space::add_root(&mut slots, &s.space(family), all)?;
    }
    Ok(())
}

/// EC2 `DescribeIpams`.
pub async fn describe_ipams(call: &Call, input: api::DescribeIpamsRequest) -> ApiResult<api::DescribeIpamsResult> {
    use api::DescribeIpamsRequestMember as M;
    call.supported(&input, &[M::Filters, M::MaxResults, M::NextToken, M::IpamIds, M::DryRun])?;
    let filters = filter_set(input.filters, &IPAM_FILTERS)?;
    let (items, next) = describe::<Ipam>(
        call,
        input.ipam_ids.unwrap_or_default(),
        ResourceKind::Ipam,
        filters,
        input.max_results,
        input.next_token.as_deref(),
        IpamError::IpamNotFound,
    )
    .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let scope = call.cx.scope.clone();
    let ids: Vec<String> = items.iter().map(|(i, _)| i.id.clone()).collect();
    let counts = call
        .read(move |tx| ids.iter().map(|id| count_children(tx, &scope, ResourceKind::IpamScope, id)).collect())
        .await?;
    let counts: Vec<u64> = counts;
    Ok(api::DescribeIpamsResult {
        next_token: next,
        ipams: Some(items.into_iter().zip(counts).map(|((i, t), n)| ipam_to_wire(i, n, t)).collect()),
    })
}

/// EC2 `ModifyIpam`: description, tier, operating regions added and removed.
pub async fn modify_ipam(call: &Call, input: api::ModifyIpamRequest) -> ApiResult<api::ModifyIpamResult> {
    use api::ModifyIpamRequestMember as M;
    call.supported(
        &input,
        &[
            M::IpamId,
            M::Description,
            M::AddOperatingRegions,
            M::RemoveOperatingRegions,
            M::Tier,
            M::EnablePrivateGua,
            M::MeteredAccount,
            M::DryRun,
        ],
    )?;
    let private_gua = input.enable_private_gua;
    let metered = input.metered_account.map(|m| m.as_str().to_string());
    let id = input.ipam_id.unwrap_or_default();
    check(ResourceKind::Ipam, &id)?;
    let add = region_names(call, input.add_operating_regions.unwrap_or_default().into_iter().map(|r| r.region_name))?;
    let remove =
        region_names(call, input.remove_operating_regions.unwrap_or_default().into_iter().map(|r| r.region_name))?;
    let (description, tier) = (input.description, input.tier.map(|t| t.as_str().to_string()));
    let scope = call.cx.scope.clone();
    let (ipam, n, tags) = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let mut ipam = load_ipam(tx, &scope, &id)?;
            if remove.contains(&ipam.home_region) {
                return Err(IpamError::InvalidValue(format!(
                    "The home Region {} of an IPAM cannot be removed from its operating Regions.",
                    ipam.home_region
                ))
                .into());
            }
            ipam.operating_regions.retain(|r| !remove.contains(r));
            for r in &add {
                if !ipam.operating_regions.contains(r) {
                    ipam.operating_regions.push(r.clone());
                }
            }
            if let Some(d) = &description {
                ipam.description = Some(d.clone());
            }
            if let Some(t) = &tier {
                ipam.tier = t.clone();
            }
            if let Some(m) = &metered {
                ipam.metered_account = m.clone();
            }
            if private_gua == Some(false) && ipam.enable_private_gua {
                refuse_private_gua_off(tx, &scope, &ipam)?;
            }
            if let Some(on) = private_gua {
                ipam.enable_private_gua = on;
            }
            ipam.state = State::ModifyComplete;
            tx.save(&scope, &ipam)?;
            let n = count_children(tx, &scope, ResourceKind::IpamScope, &ipam.id)?;
            let tags = tags_of(tx, &scope, &ipam.id)?;
            Ok((ipam, n, tags))
        })
        .await?;
    Ok(api::ModifyIpamResult { ipam: Some(ipam_to_wire(ipam, n, tags)) })
}

/// Private GUA cannot be turned off while a top-level pool of one of the IPAM's
/// private scopes holds a GUA range (nested pools lie inside those).
fn refuse_private_gua_off(tx: &mut dyn ReadTx, scope: &Scope, ipam: &Ipam) -> ApiResult<()> {
    let mut off = ipam.clone();
    off.enable_private_gua = false;
    for s in scopes_of(tx, scope, &ipam.id)?.iter().filter(|s| s.scope_type == ScopeType::Private) {
        for pool in pools_of(tx, scope, &s.id)?.iter().filter(|p| p.source_pool.is_none()) {
            for c in &pool.cidrs {
                if ipam::check_private_space(&off, s.scope_type, c.block()).is_err() {
                    return Err(IpamError::InvalidValue(format!(
                        "Private GUA cannot be disabled on the IPAM {}: the pool {} holds the GUA CIDR {}. Deprovision it first.",
                        ipam.id,
                        pool.id,
                        c.block().text()
                    ))
                    .into());
                }
            }
        }
    }
    Ok(())
}

/// Every pool of a scope (a scope has at most a few hundred).
fn pools_of(tx: &mut dyn ReadTx, scope: &Scope, scope_id: &str) -> ApiResult<Vec<IpamPool>> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = tx.page_children::<IpamPool>(scope, scope_id, after, 1000)?;
        let done = page.len() < 1000;
        for (seq, p) in page {
            after = seq;
            out.push(p);
        }
        if done {
            return Ok(out);
        }
    }
}

fn scopes_of(tx: &mut dyn ReadTx, scope: &Scope, ipam_id: &str) -> ApiResult<Vec<IpamScope>> {
    Ok(tx.page_children::<IpamScope>(scope, ipam_id, 0, 10_000)?.into_iter().map(|(_, s)| s).collect())
}

/// Removes a pool, its space (allocations included) and its tags. Its CIDRs' holds in
/// its source pool or scope are released first.
fn drop_pool(tx: &mut dyn Tx, scope: &Scope, pool: &IpamPool) -> ApiResult<()> {
    release_pool_cidrs(tx, scope, pool)?;
    tx.delete_space(scope, pool.space())?;
    tx.remove::<IpamPool>(scope, &pool.id)?;
    Ok(())
}

/// Releases what holds each of the pool's CIDRs in its source pool or its scope.
fn release_pool_cidrs(tx: &mut dyn Tx, scope: &Scope, pool: &IpamPool) -> ApiResult<()> {
    let holder_space = holder_space(pool);
    let mut slots = Slots::new(tx, scope);
    for c in &pool.cidrs {
        match space::release(&mut slots, &holder_space, c.block(), &c.allocation_id) {
            // The source pool was removed in the same cascade: nothing holds it any more.
            Ok(_) | Err(ApiError::Aws { .. }) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Where a pool's CIDRs are held: its source pool, or its scope's space.
fn holder_space(pool: &IpamPool) -> String {
    match &pool.source_pool {
        Some(source) => source.clone(),
        None => format!("{}/{}", pool.scope_id, pool.family.as_str()),
    }
}

/// The pools of a scope, children before their sources (deepest first).
fn deepest_first(mut pools: Vec<IpamPool>) -> Vec<IpamPool> {
    pools.sort_by_key(|p| std::cmp::Reverse(p.depth));
    pools
}

fn drop_scope(tx: &mut dyn Tx, scope: &Scope, s: &IpamScope) -> ApiResult<()> {
    for pool in deepest_first(pools_of(tx, scope, &s.id)?) {
        drop_pool(tx, scope, &pool)?;
    }
    for family in [Family::Ipv4, Family::Ipv6] {
        tx.delete_space(scope, &s.space(family))?;
    }
    tx.remove::<IpamScope>(scope, &s.id)?;
    Ok(())
}

/// EC2 `DeleteIpam`. Without `Cascade`, refused while a custom scope or any pool exists.
pub async fn delete_ipam(call: &Call, input: api::DeleteIpamRequest) -> ApiResult<api::DeleteIpamResult> {
    use api::DeleteIpamRequestMember as M;
    call.supported(&input, &[M::IpamId, M::Cascade, M::DryRun])?;
    let id = input.ipam_id.unwrap_or_default();
    check(ResourceKind::Ipam, &id)?;
    let cascade = input.cascade.unwrap_or(false);
    let scope = call.cx.scope.clone();
    let (ipam, n, tags) = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let mut ipam = load_ipam(tx, &scope, &id)?;
            let scopes = scopes_of(tx, &scope, &ipam.id)?;
            if !cascade {
                if let Some(custom) = scopes.iter().find(|s| !s.is_default) {
                    return Err(IpamError::Dependency(format!(
                        "The IPAM {} has a custom scope ({}). Delete it first, or delete the IPAM with Cascade.",
                        ipam.id, custom.id
                    ))
                    .into());
                }
                for s in &scopes {
                    if count_children(tx, &scope, ResourceKind::IpamPool, &s.id)? > 0 {
                        return Err(IpamError::Dependency(format!(
                            "The IPAM {} has pools in scope {}. Delete them first, or delete the IPAM with Cascade.",
                            ipam.id, s.id
                        ))
                        .into());
                    }
                }
            }
            let tags = tags_of(tx, &scope, &ipam.id)?;
            for s in &scopes {
                drop_scope(tx, &scope, s)?;
            }
            tx.remove::<Ipam>(&scope, &ipam.id)?;
            ipam.state = State::DeleteComplete;
            Ok((ipam, scopes.len() as u64, tags))
        })
        .await?;
    Ok(api::DeleteIpamResult { ipam: Some(ipam_to_wire(ipam, n, tags)) })
}

// ----- scopes --------------------------------------------------------------------------

/// EC2 `CreateIpamScope`: a custom private scope.
pub async fn create_ipam_scope(call: &Call, input: api::CreateIpamScopeRequest) -> ApiResult<Encoded> {
    use api::CreateIpamScopeRequestMember as M;
    call.supported(&input, &[M::IpamId, M::Description, M::TagSpecifications, M::ClientToken, M::DryRun])?;
    let ipam_id = input.ipam_id.unwrap_or_default();
    check(ResourceKind::Ipam, &ipam_id)?;
    let tags = tag_specifications(input.tag_specifications, ResourceKind::IpamScope)?;
    let description = input.description;
    let scope = call.cx.scope.clone();
    idempotent(call, input.client_token, input.dry_run.unwrap_or(false), move |tx| {
        let ipam = load_ipam(tx, &scope, &ipam_id)?;
        let s = IpamScope {
            id: ResourceKind::IpamScope.new_id(&mut OsRandom),
            owner: ipam.owner.clone(),
            ipam_id: ipam.id.clone(),
            home_region: ipam.home_region.clone(),
            scope_type: ScopeType::Private,
            is_default: false,
            description: description.clone(),
            state: State::CreateComplete,
        };
        create_scope_entity(tx, &scope, &s)?;
        put_tags(tx, &scope, &s.id, ResourceKind::IpamScope, &tags)?;
        Ok(Encoded::of(&api::CreateIpamScopeResult { ipam_scope: Some(scope_to_wire(s, 0, tags.clone())) }))
    })
    .await
}

/// EC2 `DescribeIpamScopes`.
pub async fn describe_ipam_scopes(
    call: &Call,
    input: api::DescribeIpamScopesRequest,
) -> ApiResult<api::DescribeIpamScopesResult> {
    use api::DescribeIpamScopesRequestMember as M;
    call.supported(&input, &[M::Filters, M::MaxResults, M::NextToken, M::IpamScopeIds, M::DryRun])?;
    let filters = filter_set(input.filters, &SCOPE_FILTERS)?;
    let (items, next) = describe::<IpamScope>(
        call,
        input.ipam_scope_ids.unwrap_or_default(),
        ResourceKind::IpamScope,
        filters,
        input.max_results,
        input.next_token.as_deref(),
        IpamError::ScopeNotFound,
    )
    .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let scope = call.cx.scope.clone();
    let ids: Vec<String> = items.iter().map(|(s, _)| s.id.clone()).collect();
    let counts: Vec<u64> = call
        .read(move |tx| ids.iter().map(|id| count_children(tx, &scope, ResourceKind::IpamPool, id)).collect())
        .await?;
    Ok(api::DescribeIpamScopesResult {
        next_token: next,
        ipam_scopes: Some(items.into_iter().zip(counts).map(|((s, t), n)| scope_to_wire(s, n, t)).collect()),
    })
}

/// EC2 `ModifyIpamScope`: its description.
pub async fn modify_ipam_scope(
    call: &Call,
    input: api::ModifyIpamScopeRequest,
) -> ApiResult<api::ModifyIpamScopeResult> {
    use api::ModifyIpamScopeRequestMember as M;
    call.supported(&input, &[M::IpamScopeId, M::Description, M::DryRun])?;
    let id = input.ipam_scope_id.unwrap_or_default();
    check(ResourceKind::IpamScope, &id)?;
    let description = input.description;
    let scope = call.cx.scope.clone();
    let (s, n, tags) = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let mut s = load_scope(tx, &scope, &id)?;
            if let Some(d) = &description {
                s.description = Some(d.clone());
            }
            s.state = State::ModifyComplete;
            tx.save(&scope, &s)?;
            let n = count_children(tx, &scope, ResourceKind::IpamPool, &s.id)?;
            let tags = tags_of(tx, &scope, &s.id)?;
            Ok((s, n, tags))
        })
        .await?;
    Ok(api::ModifyIpamScopeResult { ipam_scope: Some(scope_to_wire(s, n, tags)) })
}

/// EC2 `DeleteIpamScope`: not a default scope, not one with pools.
pub async fn delete_ipam_scope(
    call: &Call,
    input: api::DeleteIpamScopeRequest,
) -> ApiResult<api::DeleteIpamScopeResult> {
    use api::DeleteIpamScopeRequestMember as M;
    call.supported(&input, &[M::IpamScopeId, M::DryRun])?;
    let id = input.ipam_scope_id.unwrap_or_default();
    check(ResourceKind::IpamScope, &id)?;
    let scope = call.cx.scope.clone();
    let (mut s, tags) = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let s = load_scope(tx, &scope, &id)?;
            if s.is_default {
                return Err(IpamError::InvalidValue(format!("The default scope {} cannot be deleted.", s.id)).into());
            }
            if count_children(tx, &scope, ResourceKind::IpamPool, &s.id)? > 0 {
                return Err(IpamError::Dependency(format!(
                    "The scope {} has one or more pools. Delete them first.",
                    s.id
                ))
                .into());
            }
            let tags = tags_of(tx, &scope, &s.id)?;
            drop_scope(tx, &scope, &s)?;
            Ok((s, tags))
        })
        .await?;
    s.state = State::DeleteComplete;
    Ok(api::DeleteIpamScopeResult { ipam_scope: Some(scope_to_wire(s, 0, tags)) })
}

// ----- pools ---------------------------------------------------------------------------

fn netmask(name: &str, v: Option<i32>, family: Family) -> ApiResult<Option<u8>> {
    Ok(v.map(|n| ipam::check_netmask(name, n, family)).transpose()?)
}

fn resource_tags(tags: Option<Vec<api::RequestIpamResourceTag>>) -> ApiResult<Vec<Tag>> {
    let mut out: Vec<Tag> = Vec::new();
    for t in tags.unwrap_or_default() {
        let Some(key) = t.key else {
            return Err(IpamError::Missing("AllocationResourceTag.N.Key").into());
        };
        let value = t.value.unwrap_or_default();
        out.retain(|x| x.key != key);
        out.push(Tag { key, value });
    }
    Ok(out)
}

/// EC2 `CreateIpamPool`.
pub async fn create_ipam_pool(call: &Call, input: api::CreateIpamPoolRequest) -> ApiResult<Encoded> {
    use api::CreateIpamPoolRequestMember as M;
    call.supported(
        &input,
        &[
            M::IpamScopeId,
            M::Locale,
            M::SourceIpamPoolId,
            M::Description,
            M::AddressFamily,
            M::AutoImport,
            M::PubliclyAdvertisable,
            M::AllocationMinNetmaskLength,
            M::AllocationMaxNetmaskLength,
            M::AllocationDefaultNetmaskLength,
            M::AllocationResourceTags,
            M::TagSpecifications,
            M::ClientToken,
            M::DryRun,
        ],
    )?;
    let scope_id = input.ipam_scope_id.unwrap_or_default();
    check(ResourceKind::IpamScope, &scope_id)?;
    let family = match input.address_family.as_ref().map(|f| f.as_str()) {
        Some("ipv4") => Family::Ipv4,
        Some("ipv6") => Family::Ipv6,
        _ => return Err(IpamError::Missing("AddressFamily").into()),
    };
    let source = input.source_ipam_pool_id;
    if let Some(s) = &source {
        check(ResourceKind::IpamPool, s)?;
    }
    let min = netmask("AllocationMinNetmaskLength", input.allocation_min_netmask_length, family)?;
    let max = netmask("AllocationMaxNetmaskLength", input.allocation_max_netmask_length, family)?;
    let default = netmask("AllocationDefaultNetmaskLength", input.allocation_default_netmask_length, family)?;
    ipam::check_bounds(min, max, default)?;
    let allocation_tags = resource_tags(input.allocation_resource_tags)?;
    let tags = tag_specifications(input.tag_specifications, ResourceKind::IpamPool)?;
    let locale = input.locale.filter(|l| l != "None");
    let (description, auto_import, advertisable) =
        (input.description, input.auto_import.unwrap_or(false), input.publicly_advertisable);
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    idempotent(call, input.client_token, input.dry_run.unwrap_or(false), move |tx| {
        let s = load_scope(tx, &scope, &scope_id)?;
        let ipam = load_ipam(tx, &scope, &s.ipam_id)?;
        if let Some(l) = &locale
            && !ipam.operates_in(l)
        {
            return Err(IpamError::InvalidValue(format!(
                "The locale {l} is not one of the operating Regions of the IPAM {}.",
                ipam.id
            ))
            .into());
        }
        let mut depth = 1;
        if let Some(source_id) = &source {
            let mut parent = load_pool(tx, &scope, source_id)?;
            if parent.scope_id != s.id || parent.family != family {
                return Err(IpamError::InvalidValue(format!(
                    "The source pool {source_id} must be in the same scope and of the same address family."
                ))
                .into());
            }
            if parent.locale.is_some() && parent.locale != locale {
                return Err(IpamError::InvalidValue(format!(
                    "The locale of the pool must be the locale of its source pool {source_id} ({}).",
                    parent.locale.as_deref().unwrap_or("None")
                ))
                .into());
            }
            depth = parent.depth + 1;
            if depth > ipam::MAX_POOL_DEPTH {
                return Err(IpamError::InvalidValue(format!(
                    "Pools can be nested at most {} deep.",
                    ipam::MAX_POOL_DEPTH
                ))
                .into());
            }
            parent.child_pools += 1;
            tx.save(&scope, &parent)?;
        }
        let pool = IpamPool {
            id: ResourceKind::IpamPool.new_id(&mut OsRandom),
            owner: s.owner.clone(),
            ipam_id: ipam.id.clone(),
            scope_id: s.id.clone(),
            scope_type: s.scope_type,
            home_region: ipam.home_region.clone(),
            locale: locale.clone(),
            source_pool: source.clone(),
            depth,
            family,
            description: description.clone(),
            auto_import,
            publicly_advertisable: advertisable,
            min_netmask: min,
            max_netmask: max,
            default_netmask: default,
            allocation_resource_tags: allocation_tags.clone(),
            cidrs: vec![],
            child_pools: 0,
            state: State::CreateComplete,
            created: now,
        };
        tx.create(&scope, &pool)?;
        put_tags(tx, &scope, &pool.id, ResourceKind::IpamPool, &tags)?;
        Ok(Encoded::of(&api::CreateIpamPoolResult { ipam_pool: Some(pool_to_wire(pool, tags.clone())) }))
    })
    .await
}

/// EC2 `DescribeIpamPools`.
pub async fn describe_ipam_pools(
    call: &Call,
    input: api::DescribeIpamPoolsRequest,
) -> ApiResult<api::DescribeIpamPoolsResult> {
    use api::DescribeIpamPoolsRequestMember as M;
    call.supported(&input, &[M::Filters, M::MaxResults, M::NextToken, M::IpamPoolIds, M::DryRun])?;
    let filters = filter_set(input.filters, &POOL_FILTERS)?;
    let ids = input.ipam_pool_ids.unwrap_or_default();
    let limit = page_size(input.max_results);
    // Pools shared with the caller follow its own: their pages carry `s:<pool id>`.
    let shared_after = match call.cursor(input.next_token.as_deref())? {
        Some(c) => c.strip_prefix("s:").map(str::to_string),
        None => None,
    };
    let (mut items, mut next) = if shared_after.is_some() {
        (Vec::new(), None)
    } else {
        let shared_ids = split_shared_ids(call, &ids).await?;
        let own_ids: Vec<String> = ids.iter().filter(|i| !shared_ids.contains(i)).cloned().collect();
        let (mut items, next) = if own_ids.is_empty() && !ids.is_empty() {
            (Vec::new(), None)
        } else {
            describe::<IpamPool>(
                call,
                own_ids,
                ResourceKind::IpamPool,
                filters.clone(),
                input.max_results,
                input.next_token.as_deref(),
                IpamError::PoolNotFound,
            )
            .await?
        };
        if !ids.is_empty() {
            let (shared, _) = shared_pools(call, Some(shared_ids), &filters, None, usize::MAX).await?;
            items.extend(shared);
            (items, None)
        } else {
            (items, next)
        }
    };
    if ids.is_empty() && next.is_none() {
        let (shared, more) = shared_pools(call, None, &filters, shared_after, limit - items.len()).await?;
        items.extend(shared);
        next = more.map(|id| call.next_token(&format!("s:{id}")));
    }
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(api::DescribeIpamPoolsResult {
        next_token: next,
        ipam_pools: Some(items.into_iter().map(|(p, t)| pool_to_wire(p, t)).collect()),
    })
}

/// Of the ids asked for, those of pools shared with the caller (not its own).
async fn split_shared_ids(call: &Call, ids: &[String]) -> ApiResult<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let (ids, caller) = (ids.to_vec(), call.cx.scope.clone());
    call.read(move |tx| {
        let mut shared = Vec::new();
        for id in &ids {
            if tx.get(&caller, ResourceKind::IpamPool.storage_name(), id)?.is_none()
                && tx.shared_with(&caller, id)?.is_some()
            {
                shared.push(id.clone());
            }
        }
        Ok(shared)
    })
    .await
}

/// Pools shared with the caller (in its region, their home), in id order after `after`:
/// the given ones, or a page of all. Consumers see no tags of the owner's. Returns the
/// last id when more follow.
async fn shared_pools(
    call: &Call,
    ids: Option<Vec<String>>,
    filters: &FilterSet,
    after: Option<String>,
    limit: usize,
) -> ApiResult<(Vec<(IpamPool, Vec<Tag>)>, Option<String>)> {
    let (caller, filters) = (call.cx.scope.clone(), filters.clone());
    call.read(move |tx| {
        let mut out: Vec<(IpamPool, Vec<Tag>)> = Vec::new();
        // The cursor of a next page: the last pool listed (or where this page began).
        let mut last = after.clone().unwrap_or_default();
        let mut keep = |tx: &mut dyn ReadTx, id: String, owner: String, out: &mut Vec<_>| -> ApiResult<bool> {
            let Some(account) = reservoir_domain::account::AccountId::parse(&owner) else { return Ok(false) };
            let home = Scope::new(account, &caller.region);
            if let Some(pool) = tx.load::<IpamPool>(&home, &id)?
                && filters.matches(&pool, &[] as &[Tag])
            {
                if out.len() == limit {
                    return Ok(true);
                }
                last = id;
                out.push((pool, Vec::new()));
            }
            Ok(false)
        };
        if let Some(ids) = &ids {
            for id in ids {
                if let Some(g) = tx.shared_with(&caller, id)? {
                    keep(tx, g.resource, g.owner, &mut out)?;
                }
            }
            return Ok((out, None));
        }
        let chunk = limit.saturating_add(1).clamp(16, 1000);
        let mut cursor = after.clone();
        loop {
            let grants = tx.shared_of_kind(&caller, ResourceKind::IpamPool.storage_name(), cursor.as_deref(), chunk)?;
            let exhausted = grants.len() < chunk;
            for g in grants {
                cursor = Some(g.resource.clone());
                if keep(tx, g.resource, g.owner, &mut out)? {
                    return Ok((out, Some(last)));
                }
            }
            if exhausted {
                return Ok((out, None));
            }
        }
    })
    .await
}

/// EC2 `ModifyIpamPool`.
pub async fn modify_ipam_pool(call: &Call, input: api::ModifyIpamPoolRequest) -> ApiResult<api::ModifyIpamPoolResult> {
    use api::ModifyIpamPoolRequestMember as M;
    call.supported(
        &input,
        &[
            M::IpamPoolId,
            M::Description,
            M::AutoImport,
            M::AllocationMinNetmaskLength,
            M::AllocationMaxNetmaskLength,
            M::AllocationDefaultNetmaskLength,
            M::ClearAllocationDefaultNetmaskLength,
            M::AddAllocationResourceTags,
            M::RemoveAllocationResourceTags,
            M::DryRun,
        ],
    )?;
    let id = input.ipam_pool_id.unwrap_or_default();
    check(ResourceKind::IpamPool, &id)?;
    if input.clear_allocation_default_netmask_length == Some(true) && input.allocation_default_netmask_length.is_some()
    {
        return Err(IpamError::InvalidCombination(
            "AllocationDefaultNetmaskLength and ClearAllocationDefaultNetmaskLength cannot be used together.".into(),
        )
        .into());
    }
    let add = resource_tags(input.add_allocation_resource_tags)?;
    let remove = resource_tags(input.remove_allocation_resource_tags)?;
    let scope = call.cx.scope.clone();
    let (pool, tags) = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let mut p = load_pool(tx, &scope, &id)?;
            let f = p.family;
            if let Some(v) = netmask("AllocationMinNetmaskLength", input.allocation_min_netmask_length, f)? {
                p.min_netmask = Some(v);
            }
            if let Some(v) = netmask("AllocationMaxNetmaskLength", input.allocation_max_netmask_length, f)? {
                p.max_netmask = Some(v);
            }
            if let Some(v) = netmask("AllocationDefaultNetmaskLength", input.allocation_default_netmask_length, f)? {
                p.default_netmask = Some(v);
            }
            if input.clear_allocation_default_netmask_length == Some(true) {
                p.default_netmask = None;
            }
            ipam::check_bounds(p.min_netmask, p.max_netmask, p.default_netmask)?;
            if let Some(d) = &input.description {
                p.description = Some(d.clone());
            }
            if let Some(a) = input.auto_import {
                p.auto_import = a;
            }
            p.allocation_resource_tags.retain(|t| !remove.iter().any(|r| r.key == t.key && r.value == t.value));
            for t in &add {
                p.allocation_resource_tags.retain(|x| x.key != t.key);
                p.allocation_resource_tags.push(t.clone());
            }
            p.state = State::ModifyComplete;
            tx.save(&scope, &p)?;
            let tags = tags_of(tx, &scope, &p.id)?;
            Ok((p, tags))
        })
        .await?;
    Ok(api::ModifyIpamPoolResult { ipam_pool: Some(pool_to_wire(pool, tags)) })
}

/// EC2 `DeleteIpamPool`: refused while CIDRs are provisioned or pools are nested in it,
/// unless `Cascade`, which removes them (and their allocations) too.
pub async fn delete_ipam_pool(call: &Call, input: api::DeleteIpamPoolRequest) -> ApiResult<api::DeleteIpamPoolResult> {
    use api::DeleteIpamPoolRequestMember as M;
    call.supported(&input, &[M::IpamPoolId, M::Cascade, M::DryRun])?;
    let id = input.ipam_pool_id.unwrap_or_default();
    check(ResourceKind::IpamPool, &id)?;
    let cascade = input.cascade.unwrap_or(false);
    let scope = call.cx.scope.clone();
    let (mut pool, tags) = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let pool = load_pool(tx, &scope, &id)?;
            if !cascade && pool.child_pools > 0 {
                return Err(IpamError::Dependency(format!(
                    "The specified action is not valid for {}. There are one or more child pools in the pool.",
                    pool.id
                ))
                .into());
            }
            if !cascade && !pool.cidrs.is_empty() {
                return Err(IpamError::Dependency(format!(
                    "The specified action is not valid for {}. There are one or more pool cidrs provisioned in the pool.",
                    pool.id
                ))
                .into());
            }
            let tags = tags_of(tx, &scope, &pool.id)?;
            // The pools nested in this one (at any depth), deepest first, then this one.
            let mut doomed = vec![pool.clone()];
            if pool.child_pools > 0 {
                let all = pools_of(tx, &scope, &pool.scope_id)?;
                let mut frontier = vec![pool.id.clone()];
                while let Some(parent) = frontier.pop() {
                    for p in all.iter().filter(|p| p.source_pool.as_deref() == Some(parent.as_str())) {
                        frontier.push(p.id.clone());
                        doomed.push(p.clone());
                    }
                }
            }
            for p in deepest_first(doomed) {
                drop_pool(tx, &scope, &p)?;
            }
            if let Some(source) = &pool.source_pool
                && let Some(mut parent) = tx.load::<IpamPool>(&scope, source)?
            {
                parent.child_pools = parent.child_pools.saturating_sub(1);
                tx.save(&scope, &parent)?;
            }
            Ok((pool, tags))
        })
        .await?;
    pool.state = State::DeleteComplete;
    Ok(api::DeleteIpamPoolResult { ipam_pool: Some(pool_to_wire(pool, tags)) })
}

// ----- pool CIDRs ------------------------------------------------------------------

fn new_allocation(
    resource_type: &str,
    resource_id: Option<String>,
    owner: &str,
    region: Option<String>,
    description: Option<String>,
    now: reservoir_domain::time::Timestamp,
) -> Allocation {
    Allocation {
        id: ipam::new_long_id(ipam::ALLOCATION_PREFIX, &mut OsRandom),
        resource_type: resource_type.to_string(),
        resource_id,
        resource_owner: owner.to_string(),
        resource_region: region,
        description,
        created: now,
    }
}

/// EC2 `ProvisionIpamPoolCidr`. A top-level pool takes a `Cidr`, held in its scope's
/// space; a nested pool takes a `Cidr` or a `NetmaskLength` from its source pool, which
/// then lists an `ipam-pool` allocation.
pub async fn provision_ipam_pool_cidr(call: &Call, input: api::ProvisionIpamPoolCidrRequest) -> ApiResult<Encoded> {
    use api::ProvisionIpamPoolCidrRequestMember as M;
    call.supported(&input, &[M::IpamPoolId, M::Cidr, M::NetmaskLength, M::ClientToken, M::DryRun])?;
    let id = input.ipam_pool_id.unwrap_or_default();
    check(ResourceKind::IpamPool, &id)?;
    let (cidr, netmask) = (input.cidr, input.netmask_length);
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    idempotent(call, input.client_token, input.dry_run.unwrap_or(false), move |tx| {
        let mut pool = load_pool(tx, &scope, &id)?;
        if pool.cidrs.len() >= ipam::MAX_CIDRS_PER_POOL {
            return Err(IpamError::InvalidValue(format!(
                "The pool {} has the maximum number of provisioned CIDRs ({}).",
                pool.id,
                ipam::MAX_CIDRS_PER_POOL
            ))
            .into());
        }
        let owner = pool.owner.to_string();
        let hold = new_allocation("ipam-pool", Some(pool.id.clone()), &owner, Some(pool.home_region.clone()), None, now);
        let hold_id = hold.id.clone();
        let block = match &pool.source_pool {
            None => {
                let b = match (&cidr, netmask) {
                    (Some(c), None) => ipam::parse_cidr(c, pool.family)?,
                    (Some(_), Some(_)) => {
                        return Err(IpamError::InvalidCombination(
                            "The request can only contain a CIDR or a Netmask Length, not both.".into(),
                        )
                        .into());
                    }
                    (None, _) => {
                        return Err(IpamError::InvalidCombination(
                            "A CIDR is required to provision a top-level pool; a netmask length can only be used for pools with a source pool.".into(),
                        )
                        .into());
                    }
                };
                let ipam = load_ipam(tx, &scope, &pool.ipam_id)?;
                ipam::check_private_space(&ipam, pool.scope_type, b)?;
                let scope_space = holder_space(&pool);
                let mut slots = Slots::new(tx, &scope);
                space::allocate_exact(&mut slots, &scope_space, b, hold).map_err(|e| scope_overlap(e, b))?;
                b
            }
            Some(source_id) => {
                let source = load_pool(tx, &scope, source_id)?;
                let ask = match (&cidr, netmask) {
                    (Some(_), Some(_)) => {
                        return Err(IpamError::InvalidCombination(
                            "The request can only contain a CIDR or a Netmask Length, not both.".into(),
                        )
                        .into());
                    }
                    (Some(c), None) => Ask::Cidr(ipam::parse_cidr(c, pool.family)?),
                    (None, Some(n)) => Ask::Length(ipam::check_netmask("NetmaskLength", n, pool.family)?),
                    (None, None) => return Err(IpamError::Missing("Cidr").into()),
                };
                let mut slots = Slots::new(tx, &scope);
                take(&mut slots, &source, ask, hold, &[], &[])?
            }
        };
        let net = block.to_net();
        let pc = PoolCidr { id: ipam::new_long_id(POOL_CIDR_PREFIX, &mut OsRandom), cidr: net, allocation_id: hold_id };
        let mut slots = Slots::new(tx, &scope);
        space::add_root(&mut slots, pool.space(), block)?;
        pool.cidrs.push(pc.clone());
        tx.save(&scope, &pool)?;
        Ok(Encoded::of(&api::ProvisionIpamPoolCidrResult {
            ipam_pool_cidr: Some(pool_cidr_to_wire(&pc, api::IpamPoolCidrState::Provisioned, None)),
        }))
    })
    .await
}

/// A top-level CIDR that overlaps another pool's in the scope, said as such.
fn scope_overlap(e: ApiError, b: Block) -> ApiError {
    match e {
        ApiError::Aws { .. } => ApiError::invalid_parameter_value(format!(
            "The CIDR {} overlaps a CIDR already provisioned to a pool in this scope.",
            b.text()
        )),
        other => other,
    }
}

/// Takes space from `pool` as asked: the given block, or the lowest free block of the
/// size inside `allowed` (when given) and outside `disallowed`.
pub fn take(
    slots: &mut Slots<'_>,
    pool: &IpamPool,
    ask: Ask,
    holder: Allocation,
    allowed: &[Block],
    disallowed: &[Block],
) -> ApiResult<Block> {
    match ask {
        Ask::Cidr(b) => {
            space::allocate_exact(slots, pool.space(), b, holder)?;
            Ok(b)
        }
        Ask::Length(n) => space::allocate_next(slots, pool.space(), &search(pool, n, allowed, disallowed), holder),
    }
}

fn search(pool: &IpamPool, prefix: u8, allowed: &[Block], disallowed: &[Block]) -> Search {
    Search {
        family: pool.family,
        prefix,
        largest_root: pool.largest_root(),
        allowed: allowed.iter().map(|b| Range::from(*b)).collect(),
        disallowed: disallowed.iter().map(|b| Range::from(*b)).collect(),
    }
}

/// EC2 `DeprovisionIpamPoolCidr`. A CIDR that still holds allocations stays provisioned
/// and the answer says `failed-deprovision`, as AWS does; otherwise it is removed and,
/// for a nested pool, its space is free in the source pool again.
pub async fn deprovision_ipam_pool_cidr(
    call: &Call,
    input: api::DeprovisionIpamPoolCidrRequest,
) -> ApiResult<api::DeprovisionIpamPoolCidrResult> {
    use api::DeprovisionIpamPoolCidrRequestMember as M;
    call.supported(&input, &[M::IpamPoolId, M::Cidr, M::DryRun])?;
    let id = input.ipam_pool_id.unwrap_or_default();
    check(ResourceKind::IpamPool, &id)?;
    let Some(cidr) = input.cidr else {
        return Err(IpamError::Missing("Cidr").into());
    };
    let scope = call.cx.scope.clone();
    let (pc, failed) = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let mut pool = load_pool(tx, &scope, &id)?;
            let b = ipam::parse_cidr(&cidr, pool.family)?;
            let Some(i) = pool.cidrs.iter().position(|c| c.block() == b) else {
                return Err(IpamError::InvalidValue(format!(
                    "The CIDR {} is not provisioned in the pool {}.",
                    b.text(),
                    pool.id
                ))
                .into());
            };
            let pc = pool.cidrs[i].clone();
            let mut slots = Slots::new(tx, &scope);
            match space::remove_root(&mut slots, pool.space(), b) {
                Ok(()) => {}
                Err(ApiError::Aws { .. }) => return Ok((pc, true)),
                Err(e) => return Err(e),
            }
            let holder = holder_space(&pool);
            space::release(&mut slots, &holder, b, &pc.allocation_id)?;
            pool.cidrs.remove(i);
            tx.save(&scope, &pool)?;
            Ok((pc, false))
        })
        .await?;
    let out = if failed {
        pool_cidr_to_wire(
            &pc,
            api::IpamPoolCidrState::FailedDeprovision,
            Some("The CIDR has one or more allocations.".into()),
        )
    } else {
        pool_cidr_to_wire(&pc, api::IpamPoolCidrState::Deprovisioned, None)
    };
    Ok(api::DeprovisionIpamPoolCidrResult { ipam_pool_cidr: Some(out) })
}

/// EC2 `GetIpamPoolCidrs`: the pool's provisioned CIDRs, in address order.
pub async fn get_ipam_pool_cidrs(
    call: &Call,
    input: api::GetIpamPoolCidrsRequest,
) -> ApiResult<api::GetIpamPoolCidrsResult> {
    use api::GetIpamPoolCidrsRequestMember as M;
    call.supported(&input, &[M::IpamPoolId, M::Filters, M::MaxResults, M::NextToken, M::DryRun])?;
    let id = input.ipam_pool_id.unwrap_or_default();
    check(ResourceKind::IpamPool, &id)?;
    let filters = filter_set(input.filters, &POOL_CIDR_FILTERS)?;
    let limit = page_size(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    let scope = call.cx.scope.clone();
    let pool = call.read(move |tx| load_pool(tx, &scope, &id)).await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let mut cidrs = pool.cidrs;
    cidrs.sort_by_key(|c| c.block());
    // The cursor is a position in address order (at most 50 CIDRs).
    let matching: Vec<(i64, PoolCidr, Vec<Tag>)> = cidrs
        .into_iter()
        .enumerate()
        .map(|(i, c)| (i as i64 + 1, c, Vec::new()))
        .filter(|(i, c, _)| *i > after && filters.matches_untagged(c))
        .collect();
    let page = Page::of(matching, limit);
    Ok(api::GetIpamPoolCidrsResult {
        ipam_pool_cidrs: Some(
            page.items
                .iter()
                .map(|(_, c, _)| pool_cidr_to_wire(c, api::IpamPoolCidrState::Provisioned, None))
                .collect(),
        ),
        next_token: page.next.map(|seq| call.next_token(&seq.to_string())),
    })
}

// ----- allocations -----------------------------------------------------------------

fn cidr_list(texts: Option<Vec<String>>, family: Family) -> ApiResult<Vec<Block>> {
    texts.unwrap_or_default().iter().map(|t| Ok(ipam::parse_cidr(t, family)?)).collect()
}

/// EC2 `AllocateIpamPoolCidr`: a custom allocation, by CIDR, by netmask length or by the
/// pool's default, lowest free block first; `PreviewNextCidr` answers the block and
/// keeps nothing.
pub async fn allocate_ipam_pool_cidr(call: &Call, input: api::AllocateIpamPoolCidrRequest) -> ApiResult<Encoded> {
    use api::AllocateIpamPoolCidrRequestMember as M;
    call.supported(
        &input,
        &[
            M::IpamPoolId,
            M::Cidr,
            M::NetmaskLength,
            M::ClientToken,
            M::Description,
            M::PreviewNextCidr,
            M::AllowedCidrs,
            M::DisallowedCidrs,
            M::TagSpecifications,
            M::DryRun,
        ],
    )?;
    let id = input.ipam_pool_id.unwrap_or_default();
    check(ResourceKind::IpamPool, &id)?;
    let tags = tag_specifications(input.tag_specifications, ResourceKind::IpamPoolAllocation)?;
    let preview = input.preview_next_cidr.unwrap_or(false);
    let caller = call.cx.scope.clone();
    let now = call.cx.now;
    let (cidr, netmask, description) = (input.cidr, input.netmask_length, input.description);
    let (allowed, disallowed) = (input.allowed_cidrs, input.disallowed_cidrs);
    if (allowed.as_ref().is_some_and(|a| !a.is_empty()) || disallowed.as_ref().is_some_and(|d| !d.is_empty()))
        && cidr.is_some()
    {
        return Err(IpamError::InvalidCombination(
            "AllowedCidrs and DisallowedCidrs can only be used with a NetmaskLength.".into(),
        )
        .into());
    }
    idempotent(call, input.client_token, input.dry_run.unwrap_or(false), move |tx| {
        let (home, pool) = pool_for_use(tx, &caller, &id)?;
        let ask = ipam::ask(&pool, cidr.as_deref(), netmask, "NetmaskLength")?;
        let allowed = cidr_list(allowed.clone(), pool.family)?;
        let disallowed = cidr_list(disallowed.clone(), pool.family)?;
        let mut slots = Slots::new(tx, &home);
        if preview {
            // The block a real call would take now; nothing is kept.
            let block = match ask {
                Ask::Cidr(b) => b,
                Ask::Length(n) => space::find(&mut slots, pool.space(), &search(&pool, n, &allowed, &disallowed))?
                    .ok_or(SpaceError::Exhausted(n))?,
            };
            return Ok(Encoded::of(&api::AllocateIpamPoolCidrResult {
                ipam_pool_allocation: Some(api::IpamPoolAllocation {
                    cidr: Some(block.text()),
                    ipam_pool_allocation_id: None,
                    description: None,
                    resource_id: None,
                    resource_type: None,
                    resource_region: None,
                    resource_owner: None,
                    tags: None,
                }),
            }));
        }
        let holder = new_allocation(
            "custom",
            None,
            caller.account.as_str(),
            Some(caller.region.clone()),
            description.clone(),
            now,
        );
        let block = take(&mut slots, &pool, ask, holder.clone(), &allowed, &disallowed)?;
        put_tags(tx, &home, &holder.id, ResourceKind::IpamPoolAllocation, &tags)?;
        Ok(Encoded::of(&api::AllocateIpamPoolCidrResult {
            ipam_pool_allocation: Some(allocation_to_wire(block, holder, tags.clone())),
        }))
    })
    .await
}

/// EC2 `ReleaseIpamPoolAllocation`: custom allocations only; the pool, the CIDR and the
/// allocation id must all match.
pub async fn release_ipam_pool_allocation(
    call: &Call,
    input: api::ReleaseIpamPoolAllocationRequest,
) -> ApiResult<api::ReleaseIpamPoolAllocationResult> {
    use api::ReleaseIpamPoolAllocationRequestMember as M;
    call.supported(&input, &[M::IpamPoolId, M::Cidr, M::IpamPoolAllocationId, M::DryRun])?;
    let id = input.ipam_pool_id.unwrap_or_default();
    check(ResourceKind::IpamPool, &id)?;
    let alloc_id = input.ipam_pool_allocation_id.unwrap_or_default();
    ipam::check_allocation_id(&alloc_id)?;
    let cidr = input.cidr.unwrap_or_default();
    let caller = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let (home, pool) = pool_for_use(tx, &caller, &id)?;
        let b = ipam::parse_cidr(&cidr, pool.family)?;
        let not_found = || ApiError::from(IpamError::AllocationNotFound(alloc_id.clone()));
        let (sp, slot) = tx.slot_of_allocation(&home, &alloc_id)?.ok_or_else(not_found)?;
        if sp != pool.space() || slot.block != b {
            return Err(not_found());
        }
        let holder = slot.holder.expect("held");
        if holder.resource_type != "custom" {
            return Err(IpamError::InvalidValue(format!(
                "The allocation {alloc_id} is of resource type {} and is released with its resource, not with ReleaseIpamPoolAllocation.",
                holder.resource_type
            ))
            .into());
        }
        let mut slots = Slots::new(tx, &home);
        space::release(&mut slots, pool.space(), b, &alloc_id)?;
        // The allocation's tags go with it (it has no entity row: this removes the tags).
        tx.delete(&home, ResourceKind::IpamPoolAllocation.storage_name(), &alloc_id)?;
        Ok(())
    })
    .await?;
    Ok(api::ReleaseIpamPoolAllocationResult { success: Some(true) })
}

/// EC2 `GetIpamPoolAllocations`: the pool's allocations in address order, filtered and
/// paginated by address (`MaxResults` 1000–100000).
pub async fn get_ipam_pool_allocations(
    call: &Call,
    input: api::GetIpamPoolAllocationsRequest,
) -> ApiResult<api::GetIpamPoolAllocationsResult> {
    use api::GetIpamPoolAllocationsRequestMember as M;
    call.supported(
        &input,
        &[M::IpamPoolId, M::IpamPoolAllocationId, M::Filters, M::MaxResults, M::NextToken, M::DryRun],
    )?;
    let id = input.ipam_pool_id.unwrap_or_default();
    check(ResourceKind::IpamPool, &id)?;
    let one = input.ipam_pool_allocation_id;
    if let Some(a) = &one {
        ipam::check_allocation_id(a)?;
    }
    let filters = filter_set(input.filters, &ALLOCATION_FILTERS)?;
    let limit = input.max_results.map(|n| n.max(1) as usize).unwrap_or(1000);
    let after: Option<u128> = match call.cursor(input.next_token.as_deref())? {
        Some(c) => Some(
            c.parse().map_err(|_| crate::error::ec2_token_error(reservoir_domain::pagination::TokenError::Invalid))?,
        ),
        None => None,
    };
    let caller = call.cx.scope.clone();
    let (rows, next, mut tags) = call
        .read(move |tx| {
            let (rows, next, home) = allocations_page(tx, &caller, &id, one.as_deref(), after, &filters, limit)?;
            let tags = tags_by_id(tx, &home, rows.iter().map(|s| s.holder.as_ref().expect("held").id.as_str()))?;
            Ok((rows, next, tags))
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(api::GetIpamPoolAllocationsResult {
        ipam_pool_allocations: Some(
            rows.into_iter()
                .map(|s| {
                    let holder = s.holder.expect("held");
                    let t = tags.remove(&holder.id).unwrap_or_default();
                    allocation_to_wire(s.block, holder, t)
                })
                .collect(),
        ),
        next_token: next.map(|n| call.next_token(&n.to_string())),
    })
}

/// One page of a pool's allocations (held slots) in address order after `after`, and
/// the scope the pool is kept in.
#[allow(clippy::type_complexity)]
fn allocations_page(
    tx: &mut dyn ReadTx,
    caller: &Scope,
    id: &str,
    one: Option<&str>,
    after: Option<u128>,
    filters: &FilterSet,
    limit: usize,
) -> ApiResult<(Vec<space::Slot>, Option<u128>, Scope)> {
    let (home, pool) = pool_for_use(tx, caller, id)?;
    if let Some(a) = one {
        let found = tx.slot_of_allocation(&home, a)?.filter(|(sp, _)| sp == pool.space());
        let Some((_, slot)) = found else {
            return Err(IpamError::AllocationNotFound(a.to_string()).into());
        };
        let keep = after.is_none()
            && filters.matches_untagged(&AllocationView {
                block: slot.block,
                allocation: slot.holder.as_ref().expect("held"),
            });
        return Ok((if keep { vec![slot] } else { vec![] }, None, home));
    }
    // Read in chunks until a page of matches (and one more) is found.
    let chunk = if filters.is_empty() { limit + 1 } else { (limit + 1).max(256) };
    let mut cursor = after;
    let mut out = Vec::new();
    loop {
        let slots = tx.held_slots(&home, pool.space(), pool.family, cursor, u128::MAX, chunk)?;
        let exhausted = slots.len() < chunk;
        for s in slots {
            cursor = Some(s.block.start);
            let view = AllocationView { block: s.block, allocation: s.holder.as_ref().expect("held") };
            if filters.matches_untagged(&view) {
                out.push(s);
                if out.len() > limit {
                    let next = out[limit - 1].block.start;
                    out.truncate(limit);
                    return Ok((out, Some(next), home));
                }
            }
        }
        if exhausted {
            return Ok((out, None, home));
        }
    }
}
