//! `CreateVpc`, `DescribeVpcs`, `DeleteVpc`.

use reservoir_domain::cidr::ipv4_text;
use reservoir_domain::ids::{OsRandom, ResourceKind};
use reservoir_domain::tags::Tag;
use reservoir_domain::vpc::{self, AssociationState, Dependents, NewVpc, Tenancy, Vpc, VpcError, VpcState};
use reservoir_store::{ReadTxExt, TxExt};
use reservoir_wire::WireEnum;
use reservoir_wire::ec2_api as api;

use super::shared::{
    Call, Page, default_dhcp_options, filter_set, page_size, put_tags, scan, tag_specifications, tags_by_id, wire_tags,
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
        ipv6_cidr_block_association_set: None,
        cidr_block_association_set: Some(
            v.cidr_associations
                .into_iter()
                .enumerate()
                .map(|(i, a)| api::VpcCidrBlockAssociation {
                    // The first association is the primary CIDR, whose text is made already.
                    cidr_block: Some(if i == 0 { cidr_block.clone() } else { ipv4_text(&a.cidr) }),
                    cidr_block_state: Some(api::VpcCidrBlockState {
                        state: Some(match a.state {
                            AssociationState::Associating => api::VpcCidrBlockStateCode::Associating,
                            AssociationState::Associated => api::VpcCidrBlockStateCode::Associated,
                            AssociationState::Disassociating => api::VpcCidrBlockStateCode::Disassociating,
                            AssociationState::Disassociated => api::VpcCidrBlockStateCode::Disassociated,
                            AssociationState::Failing => api::VpcCidrBlockStateCode::Failing,
                            AssociationState::Failed => api::VpcCidrBlockStateCode::Failed,
                        }),
                        status_message: None,
                    }),
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

/// EC2 `CreateVpc` with an IPv4 `CidrBlock` (/16–/28), `InstanceTenancy` and
/// `TagSpecifications`. Errors: `MissingParameter` (no CIDR), `InvalidParameterValue`
/// (malformed CIDR, tenancy `host`, bad tags), `InvalidVpc.Range`, `VpcLimitExceeded`,
/// `TagLimitExceeded`, `DryRunOperation`; `NotImplemented` for IPv6 and IPAM parameters.
pub async fn create_vpc(call: &Call, input: api::CreateVpcRequest) -> ApiResult<api::CreateVpcResult> {
    use api::CreateVpcRequestMember as M;
    call.supported(
        &input,
        &[M::CidrBlock, M::InstanceTenancy, M::TagSpecifications, M::DryRun, M::AmazonProvidedIpv6CidrBlock],
    )?;
    if input.amazon_provided_ipv6_cidr_block == Some(true) {
        return Err(ApiError::ec2_unsupported_parameter("CreateVpc", "AmazonProvidedIpv6CidrBlock"));
    }
    let cidr = match &input.cidr_block {
        Some(c) => vpc::parse_cidr(c)?,
        None => return Err(VpcError::MissingCidr.into()),
    };
    let tenancy = match &input.instance_tenancy {
        Some(t) => vpc::parse_tenancy(t.as_str())?,
        None => Tenancy::Default,
    };
    let tags = tag_specifications(input.tag_specifications, ResourceKind::Vpc)?;
    let req = NewVpc { cidr, tenancy };
    let scope = call.cx.scope.clone();
    let quota = call.cx.state.quotas.vpcs_per_region;
    let now = call.cx.now;
    let (created, tags) = call
        .write(input.dry_run.unwrap_or(false), move |tx| {
            // Counted only when a quota is set: nothing proportional to the state otherwise.
            let existing = if quota.is_some() { tx.count_of::<Vpc>(&scope)? } else { 0 };
            let dhcp = default_dhcp_options(tx, &scope)?;
            let v = vpc::create(&scope.account, &req, &dhcp, existing, quota, now, &mut OsRandom)?;
            tx.create(&scope, &v)?;
            put_tags(tx, &scope, &v.id, ResourceKind::Vpc, &tags)?;
            Ok((v, tags.clone()))
        })
        .await?;
    Ok(api::CreateVpcResult { vpc: Some(to_wire(created, tags, VpcState::Pending)) })
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
            if ids.is_empty() {
                let page = scan::<Vpc>(tx, &scope, &filters, after, limit)?;
                return Ok((page.items, page.next));
            }
            // Explicit ids: every one must exist; then the same filters and paging.
            let mut found = Vec::with_capacity(ids.len());
            let mut missing = Vec::new();
            for id in &ids {
                match tx.get(&scope, ResourceKind::Vpc.storage_name(), id)? {
                    Some(rec) => found.push(rec),
                    None => missing.push(id.clone()),
                }
            }
            if !missing.is_empty() {
                return Err(VpcError::NotFound(missing).into());
            }
            found.sort_by_key(|r| r.seq);
            let mut tags = tags_by_id(tx, &scope, found.iter().map(|r| r.id.as_str()))?;
            let mut items = Vec::new();
            for rec in found.into_iter().filter(|r| r.seq > after) {
                let v: Vpc = reservoir_store::typed::decode(&rec)?;
                let t = tags.remove(&v.id).unwrap_or_default();
                if filters.matches(&v, &t) {
                    items.push((rec.seq, v, t));
                }
            }
            let page = Page::of(items, limit);
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
        // Nothing can live in a VPC yet (no subnets, gateways or instances served).
        vpc::check_deletable(&v, &Dependents::default())?;
        tx.remove::<Vpc>(&scope, &id)?;
        Ok(())
    })
    .await
}

pub async fn associate_vpc_cidr_block(
    call: &Call,
    _input: api::AssociateVpcCidrBlockRequest,
) -> ApiResult<api::AssociateVpcCidrBlockResult> {
    Err(ApiError::ec2_unsupported_parameter(call.operation, "VpcId"))
}

pub async fn disassociate_vpc_cidr_block(
    call: &Call,
    _input: api::DisassociateVpcCidrBlockRequest,
) -> ApiResult<api::DisassociateVpcCidrBlockResult> {
    Err(ApiError::ec2_unsupported_parameter(call.operation, "AssociationId"))
}
