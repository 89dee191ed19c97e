//! Outposts' local gateways, local gateway route tables and customer-owned IP (CoIP)
//! pools: `DescribeLocalGateways`, `Create/Describe/DeleteLocalGatewayRouteTable(s)`,
//! `Create/Describe/DeleteCoipPool(s)`, `Create/DeleteCoipCidr`, `GetCoipPoolUsage`, and
//! the allocation of customer-owned addresses for `AllocateAddress` ([`allocate_in_tx`],
//! [`release_in_tx`]).
//!
//! Rules are in `domain::coip`; the local gateways are the server's catalogue (nothing
//! stored); route tables and pools are entities of their owner's scope. A pool's
//! addresses are the address space `coip:<pool id>` of the owner's scope, whose roots are
//! the pool's CIDRs: the engine picks the lowest free address with indexed lookups, and
//! `GetCoipPoolUsage` reads the held slots page by page in address order.

use std::net::Ipv4Addr;

use reservoir_domain::account::Scope;
use reservoir_domain::coip::{
    self, CoipError, CoipPool, LOCAL_GATEWAY_FILTERS, LocalGateway, LocalGatewayRouteTable, Mode, POOL_FILTERS,
    ROUTE_TABLE_FILTERS, USAGE_FILTERS, Usage,
};
use reservoir_domain::ids::{OsRandom, ResourceKind};
use reservoir_domain::space::{self, Allocation, Block, Family, Search};
use reservoir_domain::tags::Tag;
use reservoir_domain::time::Timestamp;
use reservoir_store::slots::TxSlots;
use reservoir_store::{ReadTx, ReadTxExt, Reference, Tx, TxExt};
use reservoir_wire::WireEnum;
use reservoir_wire::ec2_api as api;

use super::shared::{
    Call, Page, filter_set, listing, page_size, put_tags, scan, tag_specifications, tags_by_id, wire_tags,
};
use crate::error::{ApiError, ApiResult};

type Slots<'a> = TxSlots<'a, ApiError>;

/// What a pool's route-table reference says it is (`refs`: "pool uses route table").
const POOL_REF_KIND: &str = "coip-pool";

fn check(kind: ResourceKind, id: &str) -> ApiResult<()> {
    Ok(coip::check_id(kind, id)?)
}

fn required(v: Option<String>, name: &'static str) -> ApiResult<String> {
    match v {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(CoipError::Missing(name).into()),
    }
}

fn not_found(kind: ResourceKind, id: &str) -> ApiError {
    CoipError::NotFound(kind, vec![id.to_string()]).into()
}

fn sorted_ids(ids: Option<Vec<String>>, kind: ResourceKind) -> ApiResult<Vec<String>> {
    let mut ids = ids.unwrap_or_default();
    for id in &ids {
        check(kind, id)?;
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

fn load_table(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<LocalGatewayRouteTable> {
    tx.load::<LocalGatewayRouteTable>(scope, id)?.ok_or_else(|| not_found(ResourceKind::LocalGatewayRouteTable, id))
}

fn load_pool(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<CoipPool> {
    tx.load::<CoipPool>(scope, id)?.ok_or_else(|| not_found(ResourceKind::CoipPool, id))
}

fn tags_of(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<Vec<Tag>> {
    Ok(tags_by_id(tx, scope, std::iter::once(id))?.remove(id).unwrap_or_default())
}

// ----- wire shapes ----------------------------------------------------------------------

fn gateway_to_wire(g: LocalGateway, tags: Vec<Tag>) -> api::LocalGateway {
    api::LocalGateway {
        outpost_arn: Some(g.outpost_arn()),
        owner_id: Some(g.owner),
        state: Some(coip::AVAILABLE.into()),
        tags: Some(wire_tags(tags).unwrap_or_default()),
        local_gateway_id: Some(g.id),
    }
}

fn table_to_wire(t: LocalGatewayRouteTable, state: &str, tags: Vec<Tag>) -> api::LocalGatewayRouteTable {
    api::LocalGatewayRouteTable {
        local_gateway_route_table_arn: Some(t.arn()),
        local_gateway_id: Some(t.local_gateway_id),
        outpost_arn: Some(t.outpost_arn),
        owner_id: Some(t.owner),
        state: Some(state.into()),
        tags: Some(wire_tags(tags).unwrap_or_default()),
        mode: Some(api::LocalGatewayRouteTableMode::from_wire(t.mode.as_str())),
        state_reason: None,
        local_gateway_route_table_id: Some(t.id),
    }
}

fn pool_to_wire(p: CoipPool, tags: Vec<Tag>) -> api::CoipPool {
    api::CoipPool {
        pool_arn: Some(p.arn()),
        pool_cidrs: Some(p.cidrs.iter().map(reservoir_domain::cidr::ipv4_text).collect()),
        local_gateway_route_table_id: Some(p.route_table_id),
        tags: Some(wire_tags(tags).unwrap_or_default()),
        pool_id: Some(p.id),
    }
}

// ----- local gateways -------------------------------------------------------------------

/// EC2 `DescribeLocalGateways`: the caller's local gateways of the request's region, from
/// the Outposts catalogue. `LocalGatewayId.N` (each must exist:
/// `InvalidLocalGatewayID.NotFound`), filters `local-gateway-id`, `outpost-arn`,
/// `owner-id`, `state` and tags, `MaxResults` 5–1000 and `NextToken` (a position in
/// catalogue order), `DryRun`.
pub async fn describe_local_gateways(
    call: &Call,
    input: api::DescribeLocalGatewaysRequest,
) -> ApiResult<api::DescribeLocalGatewaysResult> {
    use api::DescribeLocalGatewaysRequestMember as M;
    call.supported(&input, &[M::LocalGatewayIds, M::Filters, M::MaxResults, M::NextToken, M::DryRun])?;
    let filters = filter_set(input.filters, &LOCAL_GATEWAY_FILTERS)?;
    let ids = sorted_ids(input.local_gateway_ids, ResourceKind::LocalGateway)?;
    let scope = &call.cx.scope;
    let gateways = call.cx.state.outposts.local_gateways(scope.account.as_str(), &scope.region);
    let missing: Vec<String> = ids.iter().filter(|id| !gateways.iter().any(|g| &g.id == *id)).cloned().collect();
    if !missing.is_empty() {
        return Err(CoipError::NotFound(ResourceKind::LocalGateway, missing).into());
    }
    let limit = page_size(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let scope_c = scope.clone();
    let gw_ids: Vec<String> = gateways.iter().map(|g| g.id.clone()).collect();
    let mut tags = call.read(move |tx| tags_by_id(tx, &scope_c, gw_ids.iter().map(String::as_str))).await?;
    let matches: Vec<(i64, LocalGateway, Vec<Tag>)> = gateways
        .into_iter()
        .enumerate()
        .map(|(n, g)| (n as i64 + 1, g))
        .filter(|(seq, g)| *seq > after && (ids.is_empty() || ids.contains(&g.id)))
        .map(|(seq, g)| {
            let t = tags.remove(&g.id).unwrap_or_default();
            (seq, g, t)
        })
        .filter(|(_, g, t)| filters.matches(g, t))
        .take(limit + 1)
        .collect();
    let page = Page::of(matches, limit);
    Ok(api::DescribeLocalGatewaysResult {
        next_token: page.next.map(|seq| call.next_token(&seq.to_string())),
        local_gateways: Some(page.items.into_iter().map(|(_, g, t)| gateway_to_wire(g, t)).collect()),
    })
}

// ----- local gateway route tables -------------------------------------------------------

/// EC2 `CreateLocalGatewayRouteTable`: a route table of one of the caller's local
/// gateways (`InvalidLocalGatewayID.NotFound` otherwise), in `Mode` `coip` or
/// `direct-vpc-routing` (the default), with `TagSpecifications`.
pub async fn create_local_gateway_route_table(
    call: &Call,
    input: api::CreateLocalGatewayRouteTableRequest,
) -> ApiResult<api::CreateLocalGatewayRouteTableResult> {
    use api::CreateLocalGatewayRouteTableRequestMember as M;
    call.supported(&input, &[M::LocalGatewayId, M::Mode, M::TagSpecifications, M::DryRun])?;
    let lgw_id = required(input.local_gateway_id, "LocalGatewayId")?;
    check(ResourceKind::LocalGateway, &lgw_id)?;
    let mode = match &input.mode {
        Some(m) => Mode::parse(m.as_str())?,
        None => Mode::DirectVpcRouting,
    };
    let tags = tag_specifications(input.tag_specifications, ResourceKind::LocalGatewayRouteTable)?;
    let scope = call.cx.scope.clone();
    let Some(gw) = call.cx.state.outposts.local_gateway(scope.account.as_str(), &scope.region, &lgw_id) else {
        return Err(not_found(ResourceKind::LocalGateway, &lgw_id));
    };
    let table = LocalGatewayRouteTable {
        id: ResourceKind::LocalGatewayRouteTable.new_id(&mut OsRandom),
        local_gateway_id: gw.id.clone(),
        outpost_arn: gw.outpost_arn(),
        owner: scope.account.to_string(),
        region: scope.region.clone(),
        mode,
    };
    let out = table.clone();
    let t = tags.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        tx.create(&scope, &table)?;
        put_tags(tx, &scope, &table.id, ResourceKind::LocalGatewayRouteTable, &t)?;
        Ok(())
    })
    .await?;
    Ok(api::CreateLocalGatewayRouteTableResult {
        local_gateway_route_table: Some(table_to_wire(out, coip::AVAILABLE, tags)),
    })
}

/// EC2 `DescribeLocalGatewayRouteTables`: ids (each must exist), the documented filters
/// and tags, `MaxResults` 5–1000, `NextToken`, `DryRun`.
pub async fn describe_local_gateway_route_tables(
    call: &Call,
    input: api::DescribeLocalGatewayRouteTablesRequest,
) -> ApiResult<api::DescribeLocalGatewayRouteTablesResult> {
    use api::DescribeLocalGatewayRouteTablesRequestMember as M;
    call.supported(&input, &[M::LocalGatewayRouteTableIds, M::Filters, M::MaxResults, M::NextToken, M::DryRun])?;
    let filters = filter_set(input.filters, &ROUTE_TABLE_FILTERS)?;
    let ids = sorted_ids(input.local_gateway_route_table_ids, ResourceKind::LocalGatewayRouteTable)?;
    let limit = page_size(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let scope = call.cx.scope.clone();
    let page = call
        .read(move |tx| {
            listing::<LocalGatewayRouteTable>(tx, &scope, &ids, &filters, after, limit, |missing| {
                CoipError::NotFound(ResourceKind::LocalGatewayRouteTable, missing).into()
            })
        })
        .await?;
    Ok(api::DescribeLocalGatewayRouteTablesResult {
        next_token: page.next.map(|seq| call.next_token(&seq.to_string())),
        local_gateway_route_tables: Some(
            page.items.into_iter().map(|(_, t, tags)| table_to_wire(t, coip::AVAILABLE, tags)).collect(),
        ),
    })
}

/// EC2 `DeleteLocalGatewayRouteTable`: refused with `DependencyViolation` while a CoIP
/// pool uses the table; answered in state `deleted`.
pub async fn delete_local_gateway_route_table(
    call: &Call,
    input: api::DeleteLocalGatewayRouteTableRequest,
) -> ApiResult<api::DeleteLocalGatewayRouteTableResult> {
    use api::DeleteLocalGatewayRouteTableRequestMember as M;
    call.supported(&input, &[M::LocalGatewayRouteTableId, M::DryRun])?;
    let id = required(input.local_gateway_route_table_id, "LocalGatewayRouteTableId")?;
    check(ResourceKind::LocalGatewayRouteTable, &id)?;
    let scope = call.cx.scope.clone();
    let (table, tags) = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let table = load_table(tx, &scope, &id)?;
            if let Some(r) = tx.first_reference(&scope, &id)? {
                return Err(CoipError::InUse(format!(
                    "The local gateway route table '{id}' has dependencies and cannot be deleted: it is used by {} {}.",
                    r.kind, r.source
                ))
                .into());
            }
            let tags = tags_of(tx, &scope, &id)?;
            tx.remove::<LocalGatewayRouteTable>(&scope, &id)?;
            Ok((table, tags))
        })
        .await?;
    Ok(api::DeleteLocalGatewayRouteTableResult {
        local_gateway_route_table: Some(table_to_wire(table, coip::DELETED, tags)),
    })
}

// ----- pools ----------------------------------------------------------------------------

/// EC2 `CreateCoipPool`: a pool on a route table in `coip` mode (`InvalidParameterValue`
/// for a `direct-vpc-routing` table), with `TagSpecifications`.
pub async fn create_coip_pool(call: &Call, input: api::CreateCoipPoolRequest) -> ApiResult<api::CreateCoipPoolResult> {
    use api::CreateCoipPoolRequestMember as M;
    call.supported(&input, &[M::LocalGatewayRouteTableId, M::TagSpecifications, M::DryRun])?;
    let rtb = required(input.local_gateway_route_table_id, "LocalGatewayRouteTableId")?;
    check(ResourceKind::LocalGatewayRouteTable, &rtb)?;
    let tags = tag_specifications(input.tag_specifications, ResourceKind::CoipPool)?;
    let scope = call.cx.scope.clone();
    let t = tags.clone();
    let pool = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let table = load_table(tx, &scope, &rtb)?;
            if table.mode != Mode::Coip {
                return Err(CoipError::InvalidValue(format!(
                    "The local gateway route table {} is in {} mode; a CoIP pool needs a route table in coip mode.",
                    table.id,
                    table.mode.as_str()
                ))
                .into());
            }
            let pool = CoipPool {
                id: ResourceKind::CoipPool.new_id(&mut OsRandom),
                route_table_id: table.id.clone(),
                owner: scope.account.to_string(),
                region: scope.region.clone(),
                cidrs: Vec::new(),
            };
            tx.create(&scope, &pool)?;
            tx.put_reference(
                &scope,
                &Reference { target: table.id.clone(), source: pool.id.clone(), kind: POOL_REF_KIND.into() },
            )?;
            put_tags(tx, &scope, &pool.id, ResourceKind::CoipPool, &t)?;
            Ok(pool)
        })
        .await?;
    Ok(api::CreateCoipPoolResult { coip_pool: Some(pool_to_wire(pool, tags)) })
}

/// EC2 `DescribeCoipPools`: the caller's pools, then those shared with it through RAM
/// (without the owner's tags). `PoolId.N` (each must exist: `InvalidPoolID.NotFound`;
/// `InvalidPoolID.Malformed`), filters `coip-pool.pool-id`,
/// `coip-pool.local-gateway-route-table-id` and tags, `MaxResults` 5–1000, `NextToken`
/// (a position among the caller's pools, then `s:<pool id>` among the shared ones),
/// `DryRun`.
pub async fn describe_coip_pools(
    call: &Call,
    input: api::DescribeCoipPoolsRequest,
) -> ApiResult<api::DescribeCoipPoolsResult> {
    use api::DescribeCoipPoolsRequestMember as M;
    call.supported(&input, &[M::PoolIds, M::Filters, M::MaxResults, M::NextToken, M::DryRun])?;
    let filters = filter_set(input.filters, &POOL_FILTERS)?;
    let ids = sorted_ids(input.pool_ids, ResourceKind::CoipPool)?;
    let limit = page_size(input.max_results);
    // `None`: the caller's own pools after a position; `Some(after)`: shared pools.
    let (own_after, shared_after): (i64, Option<Option<String>>) = match call.cursor(input.next_token.as_deref())? {
        Some(c) => match c.strip_prefix("s:") {
            Some(id) => (0, Some((!id.is_empty()).then(|| id.to_string()))),
            None => (reservoir_domain::pagination::parse_seq_cursor(&c).map_err(crate::error::ec2_token_error)?, None),
        },
        None => (0, None),
    };
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let caller = call.cx.scope.clone();
    let (items, next) = call
        .read(move |tx| {
            let mut items: Vec<(CoipPool, Vec<Tag>)> = Vec::new();
            if !ids.is_empty() {
                let mut missing = Vec::new();
                for id in &ids {
                    if let Some(p) = tx.load::<CoipPool>(&caller, id)? {
                        let tags = tags_of(tx, &caller, id)?;
                        if filters.matches(&p, &tags) {
                            items.push((p, tags));
                        }
                    } else if let Ok((_, p)) = pool_for_use(tx, &caller, id) {
                        if filters.matches(&p, &[] as &[Tag]) {
                            items.push((p, Vec::new()));
                        }
                    } else {
                        missing.push(id.clone());
                    }
                }
                if !missing.is_empty() {
                    return Err(CoipError::NotFound(ResourceKind::CoipPool, missing).into());
                }
                return Ok((items, None));
            }
            let mut shared_cursor = match &shared_after {
                Some(after) => after.clone(),
                None => {
                    let page = scan::<CoipPool>(tx, &caller, &filters, own_after, limit)?;
                    let next = page.next;
                    items.extend(page.items.into_iter().map(|(_, p, t)| (p, t)));
                    if let Some(seq) = next {
                        return Ok((items, Some(seq.to_string())));
                    }
                    None
                }
            };
            // Shared pools, in id order: read until the page is full and one more is found.
            // The next page starts after the last shared pool of this one.
            let mut last_shared = shared_cursor.clone().unwrap_or_default();
            let chunk = (limit.saturating_sub(items.len()) + 1).clamp(16, 1000);
            loop {
                let grants =
                    tx.shared_of_kind(&caller, ResourceKind::CoipPool.storage_name(), shared_cursor.as_deref(), chunk)?;
                let exhausted = grants.len() < chunk;
                for g in grants {
                    shared_cursor = Some(g.resource.clone());
                    let Some(owner) = reservoir_domain::account::AccountId::parse(&g.owner) else { continue };
                    let home = Scope::new(owner, &caller.region);
                    let Some(p) = tx.load::<CoipPool>(&home, &g.resource)? else { continue };
                    if !filters.matches(&p, &[] as &[Tag]) {
                        continue;
                    }
                    if items.len() == limit {
                        return Ok((items, Some(format!("s:{last_shared}"))));
                    }
                    last_shared = p.id.clone();
                    items.push((p, Vec::new()));
                }
                if exhausted {
                    return Ok((items, None));
                }
            }
        })
        .await?;
    Ok(api::DescribeCoipPoolsResult {
        next_token: next.map(|c| call.next_token(&c)),
        coip_pools: Some(items.into_iter().map(|(p, tags)| pool_to_wire(p, tags)).collect()),
    })
}

/// Whether any address of the pool is allocated.
fn pool_in_use(tx: &mut dyn ReadTx, scope: &Scope, pool: &CoipPool) -> ApiResult<bool> {
    for c in &pool.cidrs {
        if tx.any_held_slot(scope, &pool.space(), Block::of_net((*c).into()))? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// EC2 `DeleteCoipPool`: refused with `DependencyViolation` while any of its addresses is
/// allocated (DECISIONS.md item 9); its CIDRs go with it.
pub async fn delete_coip_pool(call: &Call, input: api::DeleteCoipPoolRequest) -> ApiResult<api::DeleteCoipPoolResult> {
    use api::DeleteCoipPoolRequestMember as M;
    call.supported(&input, &[M::CoipPoolId, M::DryRun])?;
    let id = required(input.coip_pool_id, "CoipPoolId")?;
    check(ResourceKind::CoipPool, &id)?;
    let scope = call.cx.scope.clone();
    let (pool, tags) = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let pool = load_pool(tx, &scope, &id)?;
            if pool_in_use(tx, &scope, &pool)? {
                return Err(CoipError::InUse(format!(
                    "The pool {id} has allocated addresses and cannot be deleted. Release them first."
                ))
                .into());
            }
            let mut slots = Slots::new(tx, &scope);
            let table_space = coip::table_space_of(&pool.route_table_id);
            for c in &pool.cidrs {
                space::remove_root(&mut slots, &pool.space(), Block::of_net((*c).into()))?;
                space::remove_root(&mut slots, &table_space, Block::of_net((*c).into()))?;
            }
            tx.delete_reference(&scope, &pool.route_table_id, &pool.id)?;
            let tags = tags_of(tx, &scope, &id)?;
            tx.remove::<CoipPool>(&scope, &id)?;
            Ok((pool, tags))
        })
        .await?;
    Ok(api::DeleteCoipPoolResult { coip_pool: Some(pool_to_wire(pool, tags)) })
}

// ----- CIDRs ----------------------------------------------------------------------------

fn cidr_to_wire(pool: &CoipPool, cidr: ipnet::Ipv4Net) -> api::CoipCidr {
    api::CoipCidr {
        cidr: Some(reservoir_domain::cidr::ipv4_text(&cidr)),
        coip_pool_id: Some(pool.id.clone()),
        local_gateway_route_table_id: Some(pool.route_table_id.clone()),
    }
}

/// The `CoipPoolId` and `Cidr` of `CreateCoipCidr` and `DeleteCoipCidr`, checked.
fn pool_and_cidr(pool_id: Option<String>, cidr: Option<String>) -> ApiResult<(String, ipnet::Ipv4Net)> {
    let text = required(cidr, "Cidr")?;
    let id = required(pool_id, "CoipPoolId")?;
    check(ResourceKind::CoipPool, &id)?;
    Ok((id, coip::parse_cidr(&text)?))
}

/// EC2 `CreateCoipCidr`: adds an IPv4 CIDR (canonical form; host bits are cleared, as
/// everywhere in Reservoir) to the pool. A CIDR overlapping one of the pool's is refused
/// (`InvalidParameterValue`); other pools' CIDRs do not matter.
pub async fn create_coip_cidr(call: &Call, input: api::CreateCoipCidrRequest) -> ApiResult<api::CreateCoipCidrResult> {
    use api::CreateCoipCidrRequestMember as M;
    call.supported(&input, &[M::Cidr, M::CoipPoolId, M::DryRun])?;
    let (id, cidr) = pool_and_cidr(input.coip_pool_id, input.cidr)?;
    let scope = call.cx.scope.clone();
    let pool = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let mut pool = load_pool(tx, &scope, &id)?;
            coip::check_new_cidr(&pool, cidr)?;
            let mut slots = Slots::new(tx, &scope);
            let block = Block::of_net(cidr.into());
            // The route table's space holds the CIDRs of all its pools: the engine refuses
            // an overlap with one lookup.
            match space::add_root(&mut slots, &coip::table_space_of(&pool.route_table_id), block) {
                Ok(()) => {}
                Err(ApiError::Aws { .. }) => {
                    return Err(CoipError::InvalidValue(format!(
                        "The CIDR {} overlaps a CIDR of another pool of the local gateway route table {}.",
                        reservoir_domain::cidr::ipv4_text(&cidr),
                        pool.route_table_id
                    ))
                    .into());
                }
                Err(e) => return Err(e),
            }
            space::add_root(&mut slots, &pool.space(), block)?;
            pool.cidrs.push(cidr);
            tx.save(&scope, &pool)?;
            Ok(pool)
        })
        .await?;
    Ok(api::CreateCoipCidrResult { coip_cidr: Some(cidr_to_wire(&pool, cidr)) })
}

/// EC2 `DeleteCoipCidr`: removes a CIDR of the pool (`InvalidParameterValue` for one it
/// does not have); refused with `DependencyViolation` while an address of it is
/// allocated.
pub async fn delete_coip_cidr(call: &Call, input: api::DeleteCoipCidrRequest) -> ApiResult<api::DeleteCoipCidrResult> {
    use api::DeleteCoipCidrRequestMember as M;
    call.supported(&input, &[M::Cidr, M::CoipPoolId, M::DryRun])?;
    let (id, cidr) = pool_and_cidr(input.coip_pool_id, input.cidr)?;
    let scope = call.cx.scope.clone();
    let pool = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let mut pool = load_pool(tx, &scope, &id)?;
            let Some(i) = pool.cidrs.iter().position(|c| *c == cidr) else {
                return Err(CoipError::InvalidValue(format!(
                    "The CIDR {} is not a CIDR of the pool {}.",
                    reservoir_domain::cidr::ipv4_text(&cidr),
                    pool.id
                ))
                .into());
            };
            let mut slots = Slots::new(tx, &scope);
            match space::remove_root(&mut slots, &pool.space(), Block::of_net(cidr.into())) {
                Ok(()) => {}
                Err(ApiError::Aws { .. }) => {
                    return Err(CoipError::InUse(format!(
                        "The CIDR {} of the pool {} has allocated addresses and cannot be deleted.",
                        reservoir_domain::cidr::ipv4_text(&cidr),
                        pool.id
                    ))
                    .into());
                }
                Err(e) => return Err(e),
            }
            space::remove_root(&mut slots, &coip::table_space_of(&pool.route_table_id), Block::of_net(cidr.into()))?;
            pool.cidrs.remove(i);
            tx.save(&scope, &pool)?;
            Ok(pool)
        })
        .await?;
    Ok(api::DeleteCoipCidrResult { coip_cidr: Some(cidr_to_wire(&pool, cidr)) })
}

// ----- usage ----------------------------------------------------------------------------

fn usage_of(slot: &space::Slot) -> Usage {
    let holder = slot.holder.as_ref().expect("held");
    Usage {
        allocation_id: holder.id.clone(),
        account: holder.resource_owner.clone(),
        service: (holder.resource_type != EIP_HOLDER).then(|| holder.resource_type.clone()),
        address: Ipv4Addr::from(slot.block.start as u32),
    }
}

/// EC2 `GetCoipPoolUsage`: one row per allocated address of the caller's pool, in
/// address order, read page by page from the pool's held slots. `PoolId` (required),
/// the four `coip-address-usage.*` filters (with `*`/`?` wildcards), `MaxResults` 5–1000,
/// `NextToken` (the last address of the page), `DryRun`.
pub async fn get_coip_pool_usage(
    call: &Call,
    input: api::GetCoipPoolUsageRequest,
) -> ApiResult<api::GetCoipPoolUsageResult> {
    use api::GetCoipPoolUsageRequestMember as M;
    call.supported(&input, &[M::PoolId, M::Filters, M::MaxResults, M::NextToken, M::DryRun])?;
    let id = required(input.pool_id, "PoolId")?;
    check(ResourceKind::CoipPool, &id)?;
    let filters = filter_set(input.filters, &USAGE_FILTERS)?;
    let limit = page_size(input.max_results);
    let after: Option<u128> = match call.cursor(input.next_token.as_deref())? {
        Some(c) => Some(
            c.parse::<u32>()
                .map(u128::from)
                .map_err(|_| crate::error::ec2_token_error(reservoir_domain::pagination::TokenError::Invalid))?,
        ),
        None => None,
    };
    let scope = call.cx.scope.clone();
    let (pool, rows, next) = call
        .read(move |tx| {
            let pool = load_pool(tx, &scope, &id)?;
            if let Some(slots) = direct_rows(tx, &scope, &pool, &filters, after)? {
                let mut out: Vec<Usage> = slots.iter().map(usage_of).filter(|u| filters.matches_untagged(u)).collect();
                let mut next = None;
                if out.len() > limit {
                    out.truncate(limit);
                    next = out.last().map(|u| u32::from(u.address));
                }
                return Ok((pool, out, next));
            }
            let chunk = if filters.is_empty() { limit + 1 } else { (limit + 1).max(256) }.min(1001);
            let mut cursor = after;
            let mut out: Vec<Usage> = Vec::new();
            loop {
                let slots = tx.held_slots(&scope, &pool.space(), Family::Ipv4, cursor, u32::MAX as u128, chunk)?;
                let exhausted = slots.len() < chunk;
                for s in &slots {
                    cursor = Some(s.block.start);
                    let u = usage_of(s);
                    if filters.matches_untagged(&u) {
                        out.push(u);
                        if out.len() > limit {
                            out.truncate(limit);
                            let next = out.last().map(|u| u32::from(u.address));
                            return Ok((pool, out, next));
                        }
                    }
                }
                if exhausted {
                    return Ok((pool, out, None));
                }
            }
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(api::GetCoipPoolUsageResult {
        coip_pool_id: Some(pool.id),
        local_gateway_route_table_id: Some(pool.route_table_id),
        coip_address_usages: Some(
            rows.into_iter()
                .map(|u| api::CoipAddressUsage {
                    allocation_id: Some(u.allocation_id),
                    aws_account_id: Some(u.account),
                    aws_service: u.service,
                    co_ip: Some(u.address.to_string()),
                })
                .collect(),
        ),
        next_token: next.map(|n| call.next_token(&n.to_string())),
    })
}

/// The held slots a literal `co-ip` or `allocation-id` filter names, after the cursor, in
/// address order: one indexed lookup per value instead of a scan. `None` when neither
/// filter is literal.
fn direct_rows(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    pool: &CoipPool,
    filters: &reservoir_domain::filter::FilterSet,
    after: Option<u128>,
) -> ApiResult<Option<Vec<space::Slot>>> {
    let space_name = pool.space();
    let mut found: Vec<space::Slot> = Vec::new();
    if let Some(ips) = filters.literal_values("coip-address-usage.co-ip") {
        let mut addrs: Vec<u128> =
            ips.iter().filter_map(|v| v.parse::<Ipv4Addr>().ok()).map(|a| u128::from(u32::from(a))).collect();
        addrs.sort_unstable();
        addrs.dedup();
        for a in addrs {
            if after.is_some_and(|c| a <= c) {
                continue;
            }
            let from = a.checked_sub(1);
            found.extend(
                tx.held_slots(scope, &space_name, Family::Ipv4, from, a, 1)?.into_iter().filter(|s| s.block.start == a),
            );
        }
    } else if let Some(ids) = filters.literal_values("coip-address-usage.allocation-id") {
        for id in ids {
            if let Some((sp, slot)) = tx.slot_of_allocation(scope, id)?
                && sp == space_name
                && after.is_none_or(|c| slot.block.start > c)
                && !found.iter().any(|f| f.block.start == slot.block.start)
            {
                found.push(slot);
            }
        }
        found.sort_by_key(|s| s.block.start);
    } else {
        return Ok(None);
    }
    Ok(Some(found))
}

// ----- addresses for AllocateAddress ----------------------------------------------------

/// The holder type of an address taken by `AllocateAddress` (no service holds it).
const EIP_HOLDER: &str = "eip";

/// A pool the caller may take addresses from: its own in its region, or one shared with
/// it through RAM (a grant in the pool's region). Answers the scope the pool is kept in.
fn pool_for_use(tx: &mut dyn ReadTx, caller: &Scope, id: &str) -> ApiResult<(Scope, CoipPool)> {
    match tx.load_any_scope::<CoipPool>(id)? {
        Some((home, pool)) if home.region == caller.region => {
            if home.account == caller.account {
                return Ok((home, pool));
            }
            let grant = tx.shared_with(caller, id)?;
            if grant.is_some_and(|g| g.owner == home.account.as_str()) {
                return Ok((home, pool));
            }
            Err(not_found(ResourceKind::CoipPool, id))
        }
        _ => Err(not_found(ResourceKind::CoipPool, id)),
    }
}

/// Takes an address of CoIP pool `pool_id` for `allocation_id` (an `eipalloc-…` id the
/// caller made), inside the caller's write transaction. The pool is the caller's own or
/// shared with it through RAM; otherwise `InvalidPoolID.NotFound` (malformed:
/// `InvalidPoolID.Malformed`). `requested`: that address (outside the pool's CIDRs:
/// `InvalidParameterValue`; taken: `InvalidIPAddress.InUse`); else the lowest free
/// address of the pool, every address of a CIDR included (`domain::coip`). A pool
/// without a free address: `InsufficientAddressCapacity`.
pub fn allocate_in_tx(
    tx: &mut dyn Tx,
    caller: &Scope,
    pool_id: &str,
    requested: Option<Ipv4Addr>,
    allocation_id: &str,
    now: Timestamp,
) -> ApiResult<Ipv4Addr> {
    check(ResourceKind::CoipPool, pool_id)?;
    let (home, pool) = pool_for_use(tx, caller, pool_id)?;
    let holder = Allocation {
        id: allocation_id.to_string(),
        resource_type: EIP_HOLDER.into(),
        resource_id: Some(allocation_id.to_string()),
        resource_owner: caller.account.to_string(),
        resource_region: Some(caller.region.clone()),
        description: None,
        created: now,
    };
    let space_name = pool.space();
    let mut slots = Slots::new(tx, &home);
    match requested {
        Some(addr) => {
            if pool.cidr_of(addr).is_none() {
                return Err(CoipError::InvalidValue(format!(
                    "The address {addr} is not in a CIDR of the pool {pool_id}."
                ))
                .into());
            }
            let block = Block::new(Family::Ipv4, u32::from(addr) as u128, 32).expect("a /32");
            match space::allocate_exact(&mut slots, &space_name, block, holder) {
                Ok(()) => Ok(addr),
                Err(ApiError::Aws { .. }) => Err(CoipError::AddressInUse(addr, pool_id.to_string()).into()),
                Err(e) => Err(e),
            }
        }
        None => {
            if pool.cidrs.is_empty() {
                return Err(CoipError::Exhausted(pool_id.to_string()).into());
            }
            let search = Search {
                family: Family::Ipv4,
                prefix: 32,
                largest_root: pool.largest_root(),
                allowed: Vec::new(),
                disallowed: Vec::new(),
            };
            match space::allocate_next(&mut slots, &space_name, &search, holder) {
                Ok(b) => Ok(Ipv4Addr::from(b.start as u32)),
                Err(ApiError::Aws { .. }) => Err(CoipError::Exhausted(pool_id.to_string()).into()),
                Err(e) => Err(e),
            }
        }
    }
}

/// Gives the address back to the pool (whoever owns the pool). Nothing if the pool is
/// gone, or if the address is not held by `allocation_id`.
pub fn release_in_tx(
    tx: &mut dyn Tx,
    caller: &Scope,
    pool_id: &str,
    address: Ipv4Addr,
    allocation_id: &str,
) -> ApiResult<()> {
    let _ = caller;
    let Some((home, pool)) = tx.load_any_scope::<CoipPool>(pool_id)? else {
        return Ok(());
    };
    let block = Block::new(Family::Ipv4, u32::from(address) as u128, 32).expect("a /32");
    let mut slots = Slots::new(tx, &home);
    match space::release(&mut slots, &pool.space(), block, allocation_id) {
        Ok(_) | Err(ApiError::Aws { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use reservoir_domain::account::AccountId;

    use super::*;
    use crate::{AppState, Config};

    fn scope(account: &str) -> Scope {
        Scope::new(AccountId::parse(account).unwrap(), "us-east-1")
    }

    /// A pool of `owner` with the given CIDRs, made as the handlers make it.
    fn make_pool(tx: &mut dyn Tx, owner: &Scope, cidrs: &[&str]) -> ApiResult<String> {
        let pool = CoipPool {
            id: ResourceKind::CoipPool.new_id(&mut OsRandom),
            route_table_id: ResourceKind::LocalGatewayRouteTable.new_id(&mut OsRandom),
            owner: owner.account.to_string(),
            region: owner.region.clone(),
            cidrs: cidrs.iter().map(|c| c.parse().unwrap()).collect(),
        };
        tx.create(owner, &pool)?;
        let mut slots = Slots::new(tx, owner);
        for c in &pool.cidrs {
            space::add_root(&mut slots, &pool.space(), Block::of_net((*c).into()))?;
        }
        Ok(pool.id)
    }

    fn code(e: ApiError) -> String {
        e.code().to_string()
    }

    #[test]
    fn addresses_are_taken_lowest_first_and_given_back() {
        let state = AppState::open(Config::ephemeral()).unwrap();
        let owner = scope("123456789012");
        reservoir_store::write(&*state.store, |tx| -> ApiResult<()> {
            let id = make_pool(tx, &owner, &["10.0.0.0/31", "10.0.1.0/32"])?;
            let now = Timestamp(1);
            let a = allocate_in_tx(tx, &owner, &id, None, "eipalloc-00000000000000001", now)?;
            let b = allocate_in_tx(tx, &owner, &id, None, "eipalloc-00000000000000002", now)?;
            let c = allocate_in_tx(tx, &owner, &id, None, "eipalloc-00000000000000003", now)?;
            assert_eq!([a, b, c].map(|x| x.to_string()), ["10.0.0.0", "10.0.0.1", "10.0.1.0"]);
            let full = allocate_in_tx(tx, &owner, &id, None, "eipalloc-00000000000000004", now).unwrap_err();
            assert_eq!(code(full), "InsufficientAddressCapacity");
            let taken = allocate_in_tx(tx, &owner, &id, Some(b), "eipalloc-00000000000000004", now).unwrap_err();
            assert_eq!(code(taken), "InvalidIPAddress.InUse");
            let outside =
                allocate_in_tx(tx, &owner, &id, Some("10.9.0.0".parse().unwrap()), "eipalloc-00000000000000004", now)
                    .unwrap_err();
            assert_eq!(code(outside), "InvalidParameterValue");
            release_in_tx(tx, &owner, &id, b, "eipalloc-00000000000000002")?;
            let again = allocate_in_tx(tx, &owner, &id, Some(b), "eipalloc-00000000000000005", now)?;
            assert_eq!(again, b);
            let held = tx.held_slots(&owner, &coip::space_of(&id), Family::Ipv4, None, u32::MAX as u128, 10)?;
            let holders: Vec<&str> = held.iter().map(|s| s.holder.as_ref().unwrap().id.as_str()).collect();
            assert_eq!(
                holders,
                ["eipalloc-00000000000000001", "eipalloc-00000000000000005", "eipalloc-00000000000000003"]
            );
            // A pool that is gone: releasing is a no-op.
            release_in_tx(tx, &owner, "ipv4pool-coip-0123456789abcdef0", a, "eipalloc-00000000000000001")?;
            Ok(())
        })
        .unwrap();
    }

    #[test]
    fn other_accounts_need_a_share() {
        let state = AppState::open(Config::ephemeral()).unwrap();
        let (owner, other) = (scope("123456789012"), scope("210987654321"));
        reservoir_store::write(&*state.store, |tx| -> ApiResult<()> {
            let id = make_pool(tx, &owner, &["10.0.0.0/30"])?;
            let now = Timestamp(1);
            let e = allocate_in_tx(tx, &other, &id, None, "eipalloc-00000000000000001", now).unwrap_err();
            assert_eq!(code(e), "InvalidPoolID.NotFound");
            let e = allocate_in_tx(tx, &owner, "ipv4pool-coip-x", None, "eipalloc-00000000000000001", now).unwrap_err();
            assert_eq!(code(e), "InvalidPoolID.Malformed");
            tx.put_shared(
                &other,
                &reservoir_store::SharedRow {
                    resource: id.clone(),
                    kind: ResourceKind::CoipPool.storage_name().into(),
                    owner: owner.account.to_string(),
                    share: "arn:aws:ram:us-east-1:123456789012:resource-share/x".into(),
                },
            )?;
            let a = allocate_in_tx(tx, &other, &id, None, "eipalloc-00000000000000001", now)?;
            assert_eq!(a.to_string(), "10.0.0.0");
            let held = tx.held_slots(&owner, &coip::space_of(&id), Family::Ipv4, None, u32::MAX as u128, 10)?;
            assert_eq!(held[0].holder.as_ref().unwrap().resource_owner, "210987654321");
            // Another region does not see the pool.
            let west = Scope::new(other.account.clone(), "us-west-2");
            let e = allocate_in_tx(tx, &west, &id, None, "eipalloc-00000000000000002", now).unwrap_err();
            assert_eq!(code(e), "InvalidPoolID.NotFound");
            Ok(())
        })
        .unwrap();
    }
}
