//! IPAM monitoring: `GetIpamResourceCidrs` and `ModifyIpamResourceCidr`.
//!
//! A scope monitors the CIDRs of the IPAM owner's resources (VPC blocks) in the IPAM's
//! operating regions: those allocated from one of its pools (*managed*), and — in the
//! default private scope — those allocated from no pool (*unmanaged*). Each is
//! `compliant` when managed, `unmanaged` otherwise; `overlapping` when another monitored
//! CIDR of the scope overlaps it. A CIDR marked unmonitored (`ModifyIpamResourceCidr`
//! with `Monitored=false`) is `ignored` and no longer counts in others' overlaps.
//!
//! Cost: the overlap of one CIDR is decided from the `resource_cidrs` index alone — the
//! rows that start inside it, and the row at each shorter prefix that would contain it —
//! per operating region, whatever the number of VPCs.

use std::collections::HashMap;

use reservoir_domain::account::Scope;
use reservoir_domain::filter::{FilterSchema, Filterable};
use reservoir_domain::ids::ResourceKind;
use reservoir_domain::ipam::{self, Ipam, IpamError, IpamPool, IpamScope, ResourceCidr, ScopeType};
use reservoir_domain::space::{Block, Family};
use reservoir_domain::tags::Tag;
use reservoir_store::{ReadTx, ReadTxExt};
use reservoir_wire::WireEnum;
use reservoir_wire::ec2_api as api;

use super::shared::{Call, filter_set, page_size, tags_by_id};
use crate::error::{ApiError, ApiResult, ec2_token_error};

/// VPC blocks are never larger than these: no shorter prefix can contain a block.
const FLOOR_V4: u8 = 16;
const FLOOR_V6: u8 = 44;
/// Rows read when looking for a CIDR's overlaps inside it.
const INSIDE_PROBE: usize = 256;

pub const FILTERS: FilterSchema = FilterSchema {
    names: &[
        "resource-cidr",
        "resource-id",
        "resource-type",
        "resource-region",
        "resource-owner-id",
        "vpc-id",
        "ipam-pool-id",
        "management-state",
        "compliance-status",
        "overlap-status",
    ],
    aliases: &[],
    tags: false,
};

/// One answered row.
struct Row {
    cidr: ResourceCidr,
    region: String,
    pool: Option<String>,
    management: &'static str,
    compliance: &'static str,
    overlap: &'static str,
    owner: String,
}

impl Filterable for Row {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "resource-cidr" => m(&self.cidr.block.text()),
            "resource-id" => m(&self.cidr.resource_id),
            "resource-type" => m(&self.cidr.resource_type),
            "resource-region" => m(&self.region),
            "resource-owner-id" => m(&self.owner),
            "vpc-id" => m(&self.cidr.vpc_id),
            "ipam-pool-id" => self.pool.as_deref().is_some_and(m),
            "management-state" => m(self.management),
            "compliance-status" => m(self.compliance),
            "overlap-status" => m(self.overlap),
            _ => false,
        }
    }
}

/// What a request needs to judge rows: the scope, its IPAM, pools seen so far.
struct Judge {
    home: Scope,
    scope: IpamScope,
    ipam: Ipam,
    pools: HashMap<String, Option<IpamPool>>,
}

impl Judge {
    fn ignored_key(cidr: &ResourceCidr, region: &str) -> String {
        format!("{region} {} {}", cidr.resource_id, cidr.block.text())
    }

    fn namespace(&self) -> String {
        format!("ipam-ignored/{}", self.scope.id)
    }

    fn is_ignored(&self, tx: &mut dyn ReadTx, cidr: &ResourceCidr, region: &str) -> ApiResult<bool> {
        Ok(tx.get_alias(&self.home, &self.namespace(), &Self::ignored_key(cidr, region))?.as_deref() == Some("ignored"))
    }

    /// The pool of this scope that manages the CIDR, `Some(None)` when the scope monitors
    /// it unmanaged, `None` when it is not this scope's.
    fn membership(&mut self, tx: &mut dyn ReadTx, cidr: &ResourceCidr) -> ApiResult<Option<Option<String>>> {
        if let Some(p) = &cidr.pool_id {
            if !self.pools.contains_key(p) {
                let pool = tx.load::<IpamPool>(&self.home, p)?;
                self.pools.insert(p.clone(), pool);
            }
            if let Some(Some(pool)) = self.pools.get(p) {
                return Ok((pool.scope_id == self.scope.id).then(|| Some(pool.id.clone())));
            }
        }
        let monitors_unmanaged = self.scope.scope_type == ScopeType::Private && self.scope.is_default;
        Ok(monitors_unmanaged.then_some(None))
    }

    /// Whether another monitored, not ignored CIDR of the scope overlaps `x`.
    fn overlaps(&mut self, tx: &mut dyn ReadTx, x: &ResourceCidr, x_region: &str) -> ApiResult<bool> {
        let floor = match x.block.family {
            Family::Ipv4 => FLOOR_V4,
            Family::Ipv6 => FLOOR_V6,
        };
        for region in self.ipam.operating_regions.clone() {
            let in_region = Scope::new(self.home.account.clone(), region.clone());
            let mut candidates = tx.resource_cidrs_starting_in(&in_region, x.block, INSIDE_PROBE)?;
            for p in floor.min(x.block.prefix)..x.block.prefix {
                let outer = Block::containing(x.block.family, x.block.start, p);
                candidates.extend(tx.resource_cidrs_exactly(&in_region, outer, 8)?);
            }
            for c in candidates {
                let same = c.resource_id == x.resource_id && c.block == x.block && region == x_region;
                if same || self.membership(tx, &c)?.is_none() || self.is_ignored(tx, &c, &region)? {
                    continue;
                }
                return Ok(true);
            }
        }
        Ok(false)
    }

    fn row(&mut self, tx: &mut dyn ReadTx, cidr: ResourceCidr, region: &str) -> ApiResult<Option<Row>> {
        let Some(pool) = self.membership(tx, &cidr)? else { return Ok(None) };
        let ignored = self.is_ignored(tx, &cidr, region)?;
        let (management, compliance, overlap) = if ignored {
            ("ignored", "ignored", "ignored")
        } else {
            let overlap = if self.overlaps(tx, &cidr, region)? { "overlapping" } else { "nonoverlapping" };
            match pool {
                Some(_) => ("managed", "compliant", overlap),
                None => ("unmanaged", "unmanaged", overlap),
            }
        };
        Ok(Some(Row {
            cidr,
            region: region.to_string(),
            pool,
            management,
            compliance,
            overlap,
            owner: self.home.account.to_string(),
        }))
    }
}

fn judge(tx: &mut dyn ReadTx, home: &Scope, scope_id: &str) -> ApiResult<Judge> {
    let scope = tx
        .load::<IpamScope>(home, scope_id)?
        .ok_or_else(|| ApiError::from(IpamError::ScopeNotFound(vec![scope_id.to_string()])))?;
    let ipam = tx
        .load::<Ipam>(home, &scope.ipam_id)?
        .ok_or_else(|| ApiError::from(IpamError::IpamNotFound(vec![scope.ipam_id.clone()])))?;
    Ok(Judge { home: home.clone(), scope, ipam, pools: HashMap::new() })
}

fn to_wire(j: &Judge, r: Row, tags: Vec<Tag>) -> api::IpamResourceCidr {
    api::IpamResourceCidr {
        ipam_id: Some(j.ipam.id.clone()),
        ipam_scope_id: Some(j.scope.id.clone()),
        ipam_pool_id: r.pool,
        resource_region: Some(r.region),
        resource_owner_id: Some(r.owner),
        resource_id: Some(r.cidr.resource_id),
        resource_name: tags.iter().find(|t| t.key == "Name").map(|t| t.value.clone()),
        resource_cidr: Some(r.cidr.block.text()),
        resource_type: Some(api::IpamResourceType::from_wire(&r.cidr.resource_type)),
        resource_tags: (!tags.is_empty()).then(|| {
            tags.into_iter().map(|t| api::IpamResourceTag { key: Some(t.key), value: Some(t.value) }).collect()
        }),
        // No subnets are served yet: nothing of a VPC's CIDR is in use.
        ip_usage: Some(0.0),
        compliance_status: Some(api::IpamComplianceStatus::from_wire(r.compliance)),
        management_state: Some(api::IpamManagementState::from_wire(r.management)),
        overlap_status: Some(api::IpamOverlapStatus::from_wire(r.overlap)),
        vpc_id: Some(r.cidr.vpc_id),
        availability_zone_id: None,
    }
}

/// A listing position: operating region index and the last row of it.
fn encode_cursor(region: usize, c: &ResourceCidr) -> String {
    let family = match c.block.family {
        Family::Ipv4 => 4,
        Family::Ipv6 => 6,
    };
    format!("{region} {family} {:x} {} {}", c.block.start, c.block.prefix, c.resource_id)
}

fn decode_cursor(text: &str) -> Option<(usize, ResourceCidr)> {
    let mut it = text.split(' ');
    let region = it.next()?.parse().ok()?;
    let family = match it.next()? {
        "4" => Family::Ipv4,
        "6" => Family::Ipv6,
        _ => return None,
    };
    let start = u128::from_str_radix(it.next()?, 16).ok()?;
    let prefix = it.next()?.parse().ok()?;
    let resource_id = it.next()?.to_string();
    let block = Block::new(family, start, prefix)?;
    Some((
        region,
        ResourceCidr { block, resource_id, resource_type: String::new(), vpc_id: String::new(), pool_id: None },
    ))
}

/// EC2 `GetIpamResourceCidrs`.
pub async fn get_ipam_resource_cidrs(
    call: &Call,
    input: api::GetIpamResourceCidrsRequest,
) -> ApiResult<api::GetIpamResourceCidrsResult> {
    use api::GetIpamResourceCidrsRequestMember as M;
    call.supported(
        &input,
        &[
            M::IpamScopeId,
            M::IpamPoolId,
            M::ResourceId,
            M::ResourceType,
            M::ResourceTag,
            M::ResourceOwner,
            M::Filters,
            M::MaxResults,
            M::NextToken,
            M::DryRun,
        ],
    )?;
    let scope_id = input.ipam_scope_id.unwrap_or_default();
    ipam::check_id(ResourceKind::IpamScope, &scope_id)?;
    if let Some(p) = &input.ipam_pool_id {
        ipam::check_id(ResourceKind::IpamPool, p)?;
    }
    let filters = filter_set(input.filters, &FILTERS)?;
    let limit = page_size(input.max_results);
    let start = match call.cursor(input.next_token.as_deref())? {
        Some(c) => {
            Some(decode_cursor(&c).ok_or_else(|| ec2_token_error(reservoir_domain::pagination::TokenError::Invalid))?)
        }
        None => None,
    };
    let (pool_id, resource_id, owner) = (input.ipam_pool_id, input.resource_id, input.resource_owner);
    let resource_type = input.resource_type.map(|t| t.as_str().to_string());
    let tag = input.resource_tag.map(|t| (t.key, t.value));
    let home = call.cx.scope.clone();
    let (items, next, j) = call
        .read(move |tx| {
            let mut j = judge(tx, &home, &scope_id)?;
            let regions = j.ipam.operating_regions.clone();
            let (mut ri, mut after) = match &start {
                Some((ri, c)) => (*ri, Some(c.clone())),
                None => (0, None),
            };
            let mut out: Vec<(Row, Vec<Tag>)> = Vec::new();
            while ri < regions.len() {
                let region = regions[ri].clone();
                let in_region = Scope::new(home.account.clone(), region.clone());
                let chunk = tx.resource_cidrs(&in_region, after.as_ref(), 256)?;
                let exhausted = chunk.len() < 256;
                let mut tags = tags_by_id(tx, &in_region, chunk.iter().map(|c| c.resource_id.as_str()))?;
                for c in chunk {
                    after = Some(c.clone());
                    let t = tags.get(&c.resource_id).cloned().unwrap_or_default();
                    if resource_id.as_ref().is_some_and(|r| *r != c.resource_id)
                        || resource_type.as_ref().is_some_and(|r| *r != c.resource_type)
                        || owner.as_ref().is_some_and(|o| o != home.account.as_str())
                        || pool_id.is_some() && c.pool_id != pool_id
                    {
                        continue;
                    }
                    if let Some((k, v)) = &tag
                        && !t.iter().any(|x| Some(&x.key) == k.as_ref() && v.as_ref().is_none_or(|v| *v == x.value))
                    {
                        continue;
                    }
                    let Some(row) = j.row(tx, c, &region)? else { continue };
                    if !filters.matches_untagged(&row) {
                        continue;
                    }
                    out.push((row, t));
                    if out.len() > limit {
                        out.truncate(limit);
                        let last = &out[limit - 1].0;
                        let cursor = encode_cursor(ri, &last.cidr);
                        return Ok((out, Some(cursor), j));
                    }
                }
                tags.clear();
                if exhausted {
                    ri += 1;
                    after = None;
                }
            }
            Ok((out, None, j))
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(api::GetIpamResourceCidrsResult {
        next_token: next.map(|c| call.next_token(&c)),
        ipam_resource_cidrs: Some(items.into_iter().map(|(r, t)| to_wire(&j, r, t)).collect()),
    })
}

/// EC2 `ModifyIpamResourceCidr`: `Monitored=false` marks a resource CIDR ignored in the
/// scope; `true` monitors it again. Moving it to another scope is not implemented.
pub async fn modify_ipam_resource_cidr(
    call: &Call,
    input: api::ModifyIpamResourceCidrRequest,
) -> ApiResult<api::ModifyIpamResourceCidrResult> {
    use api::ModifyIpamResourceCidrRequestMember as M;
    call.supported(
        &input,
        &[M::ResourceId, M::ResourceCidr, M::ResourceRegion, M::CurrentIpamScopeId, M::Monitored, M::DryRun],
    )?;
    let scope_id = input.current_ipam_scope_id.unwrap_or_default();
    ipam::check_id(ResourceKind::IpamScope, &scope_id)?;
    let resource_id = input.resource_id.unwrap_or_default();
    let region = input.resource_region.unwrap_or_default();
    let cidr_text = input.resource_cidr.unwrap_or_default();
    let net: ipnet::IpNet = reservoir_domain::cidr::parse_ipv4(&cidr_text)
        .map(Into::into)
        .or_else(|_| reservoir_domain::cidr::parse_ipv6(&cidr_text).map(Into::into))
        .map_err(|_| IpamError::InvalidValue(format!("The CIDR '{cidr_text}' is invalid.")))?;
    let block = Block::of_net(net);
    let monitored = input.monitored.unwrap_or(true);
    let home = call.cx.scope.clone();
    let (row, tags, j) = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            let mut j = judge(tx, &home, &scope_id)?;
            let in_region = Scope::new(home.account.clone(), region.clone());
            let found =
                tx.resource_cidrs_exactly(&in_region, block, 64)?.into_iter().find(|c| c.resource_id == resource_id);
            let Some(cidr) = found.filter(|_| j.ipam.operates_in(&region)) else {
                return Err(IpamError::InvalidValue(format!(
                    "The resource CIDR {} of {resource_id} in {region} is not monitored by the scope {scope_id}.",
                    block.text()
                ))
                .into());
            };
            if j.membership(tx, &cidr)?.is_none() {
                return Err(IpamError::InvalidValue(format!(
                    "The resource CIDR {} of {resource_id} is not monitored by the scope {scope_id}.",
                    block.text()
                ))
                .into());
            }
            let value = if monitored { "monitored" } else { "ignored" };
            tx.put_alias(&home, &j.namespace(), &Judge::ignored_key(&cidr, &region), value)?;
            let tags = tags_by_id(tx, &in_region, std::iter::once(resource_id.as_str()))?
                .remove(&resource_id)
                .unwrap_or_default();
            let row = j.row(tx, cidr, &region)?.expect("a member");
            Ok((row, tags, j))
        })
        .await?;
    Ok(api::ModifyIpamResourceCidrResult { ipam_resource_cidr: Some(to_wire(&j, row, tags)) })
}
