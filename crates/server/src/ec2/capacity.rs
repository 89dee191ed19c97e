//! Capacity reservations: `CreateCapacityReservation`, `DescribeCapacityReservations`,
//! `ModifyCapacityReservation`, `CancelCapacityReservation`,
//! `CreateCapacityReservationBySplitting`, `MoveCapacityReservationInstances`,
//! `ModifyInstanceCapacityReservationAttributes`, `GetCapacityReservationUsage`, and what
//! instances call to occupy and release them ([`occupy_in_tx`], [`release_in_tx`]).
//!
//! A reservation is an entity in its owner's scope (`domain::capacity`) plus its counting
//! row in the store (`capacity`, `capacity_usage`): how many instances use it is decided
//! in the launch's own transaction from that row, and the schema refuses an over-commit.
//! Another account sees a reservation only while RAM shares it (`shared_resources`): it
//! may launch into it and read it, never change it.

use reservoir_domain::account::{AccountId, Scope};
use reservoir_domain::capacity::{
    self, CapacityError, CapacityReservation, EndDateType, Held, Launch, MatchCriteria, Preference, State, View,
};
use reservoir_domain::filter::FilterSet;
use reservoir_domain::ids::{OsRandom, ResourceKind};
use reservoir_domain::pagination;
use reservoir_domain::tags::Tag;
use reservoir_domain::time::Timestamp;
use reservoir_store::{CapacityRow, ReadTx, ReadTxExt, StoreError, Tx, TxExt};
use reservoir_wire::WireEnum;
use reservoir_wire::datetime::DateTime;
use reservoir_wire::ec2::codes;
use reservoir_wire::ec2_api as api;

use super::shared::{
    Call, Encoded, filter_set, idempotent, page_size, put_tags, tag_specifications, tags_by_id, wire_tags,
};
use crate::error::{ApiError, ApiResult, ec2_token_error};

const KIND: &str = "capacity-reservation";

// ----- What instances call --------------------------------------------------------------

/// The preference a `CapacityReservationSpecification` asks for (absent: `open`). A target
/// id is checked for its form here; whether it exists is decided at launch.
pub fn preference_of(spec: Option<api::CapacityReservationSpecification>) -> ApiResult<Preference> {
    let Some(spec) = spec else { return Ok(Preference::Open) };
    let target = spec.capacity_reservation_target.and_then(|t| {
        if t.capacity_reservation_resource_group_arn.is_some() {
            Some(Err(ApiError::ec2_unsupported_parameter(
                "CapacityReservationSpecification",
                "CapacityReservationTarget.CapacityReservationResourceGroupArn",
            )))
        } else {
            t.capacity_reservation_id.map(Ok)
        }
    });
    match (spec.capacity_reservation_preference, target) {
        (Some(_), Some(_)) => Err(CapacityError::Combination(
            "CapacityReservationPreference and CapacityReservationTarget cannot both be specified.".into(),
        )
        .into()),
        (None, Some(t)) => {
            let id = t?;
            capacity::check_id(&id)?;
            Ok(Preference::Target(id))
        }
        (None, None) | (Some(api::CapacityReservationPreference::Open), None) => Ok(Preference::Open),
        (Some(api::CapacityReservationPreference::None), None) => Ok(Preference::None),
        (Some(api::CapacityReservationPreference::CapacityReservationsOnly), None) => Ok(Preference::Only),
        (Some(api::CapacityReservationPreference::Unknown(v)), None) => Err(CapacityError::InvalidValue(format!(
            "Value ({v}) for parameter CapacityReservationPreference is invalid. Valid values are: \
             capacity-reservations-only, open, none."
        ))
        .into()),
    }
}

/// The wire form of an instance's preference and target.
pub fn wire_specification(p: &Preference) -> api::CapacityReservationSpecificationResponse {
    api::CapacityReservationSpecificationResponse {
        capacity_reservation_preference: p.wire_preference().map(api::CapacityReservationPreference::from_wire),
        capacity_reservation_target: p.target().map(|id| api::CapacityReservationTargetResponse {
            capacity_reservation_id: Some(id.to_string()),
            capacity_reservation_resource_group_arn: None,
        }),
    }
}

/// Decides and records the reservation an instance occupies, inside the launch's write
/// transaction: a target must be visible, active, matching and have room; an open launch
/// takes an open, active, matching reservation with room (its own first, then one shared
/// with it) or runs on demand; `capacity-reservations-only` fails rather than fall back.
pub fn occupy_in_tx(
    tx: &mut dyn Tx,
    scope: &Scope,
    instance_id: &str,
    launch: &Launch,
    pref: &Preference,
    now: Timestamp,
) -> ApiResult<Option<Held>> {
    let (owner, id) = match pref {
        Preference::None => return Ok(None),
        Preference::Target(id) => {
            let (owner, r) = visible(tx, scope, id)?;
            let why = match r.state(now) {
                State::Active if r.match_key() != launch.match_key() => Some("its attributes do not match the launch"),
                State::Active => None,
                State::Cancelled => Some("it is cancelled"),
                State::Expired => Some("it has expired"),
            };
            if let Some(why) = why {
                return Err(ApiError::new(
                    codes::RESERVATION_CAPACITY_EXCEEDED,
                    format!("{} ({id}: {why}).", CapacityError::CapacityExceeded.to_string().trim_end_matches('.')),
                ));
            }
            (owner, id.clone())
        }
        Preference::Open | Preference::Only => match tx.open_capacity(scope, &launch.match_key(), now.millis())? {
            Some((owner, id)) => (scope_of(&owner, &scope.region)?, id),
            None if *pref == Preference::Only => return Err(CapacityError::NoMatchingCapacity.into()),
            None => return Ok(None),
        },
    };
    let row = tx.capacity(&owner, &id)?.ok_or_else(|| ApiError::Internal(format!("{id} has no counting row")))?;
    if row.used >= row.total {
        return Err(CapacityError::CapacityExceeded.into());
    }
    match tx.occupy_capacity(&owner, &id, instance_id, scope.account.as_str()) {
        Ok(()) => Ok(Some(Held { owner: owner.account.as_str().to_string(), id })),
        // The schema refused: another writer took the last slot.
        Err(StoreError::Conflict(_)) => Err(CapacityError::CapacityExceeded.into()),
        Err(e) => Err(e.into()),
    }
}

/// Gives an instance's slot back (stop, terminate); nothing if it holds none any more.
pub fn release_in_tx(tx: &mut dyn Tx, scope: &Scope, instance_id: &str, held: &Held) -> ApiResult<()> {
    let owner = scope_of(&held.owner, &scope.region)?;
    tx.release_capacity(&owner, &held.id, instance_id)?;
    Ok(())
}

/// Whether a launch error means "no reservation had room" (RunInstances then launches
/// fewer instances when at least `MinCount` fit).
pub fn is_capacity_shortage(e: &ApiError) -> bool {
    e.code() == codes::RESERVATION_CAPACITY_EXCEEDED.code()
}

// ----- Lookups --------------------------------------------------------------------------

fn scope_of(account: &str, region: &str) -> ApiResult<Scope> {
    let account = AccountId::parse(account).ok_or_else(|| ApiError::Internal(format!("stored account {account}")))?;
    Ok(Scope::new(account, region))
}

/// A reservation the caller may see: its own, or one shared with it. Returns the owner's
/// scope with it. `InvalidCapacityReservationId.Malformed`, then `.NotFound`.
pub fn visible(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<(Scope, CapacityReservation)> {
    capacity::check_id(id)?;
    if let Some(r) = tx.load::<CapacityReservation>(scope, id)? {
        return Ok((scope.clone(), r));
    }
    if let Some(grant) = tx.shared_with(scope, id)? {
        let owner = scope_of(&grant.owner, &scope.region)?;
        if let Some(r) = tx.load::<CapacityReservation>(&owner, id)? {
            return Ok((owner, r));
        }
    }
    Err(CapacityError::NotFound(vec![id.to_string()]).into())
}

/// A reservation the caller owns: another account's shared one is `UnauthorizedOperation`.
fn owned(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<CapacityReservation> {
    let (owner, r) = visible(tx, scope, id)?;
    if owner != *scope {
        return Err(CapacityError::NotOwner(format!(
            "You are not authorized to perform this operation: capacity reservation {id} belongs to account {}.",
            r.owner
        ))
        .into());
    }
    Ok(r)
}

fn counts(tx: &mut dyn ReadTx, owner: &Scope, id: &str) -> ApiResult<CapacityRow> {
    tx.capacity(owner, id)?.ok_or_else(|| ApiError::Internal(format!("{id} has no counting row")))
}

fn row_of(r: &CapacityReservation, total: u32) -> CapacityRow {
    CapacityRow {
        id: r.id.clone(),
        match_key: r.match_key(),
        open: r.match_criteria == MatchCriteria::Open,
        usable: r.usable(),
        end_at: r.end_at(),
        total,
        used: 0,
    }
}

fn view(tx: &mut dyn ReadTx, owner: &Scope, r: CapacityReservation, now: Timestamp) -> ApiResult<View> {
    let c = counts(tx, owner, &r.id)?;
    Ok(View::new(r, c.total, c.used, now))
}

// ----- Wire forms -----------------------------------------------------------------------

fn millis(t: Timestamp) -> DateTime {
    DateTime::from_unix_millis(t.millis())
}

pub fn to_wire(v: View, tags: Vec<Tag>) -> api::CapacityReservation {
    let available = v.available() as i32;
    let r = v.reservation;
    api::CapacityReservation {
        capacity_reservation_id: Some(r.id.clone()),
        owner_id: Some(r.owner.clone()),
        capacity_reservation_arn: Some(r.arn()),
        availability_zone_id: Some(r.zone_id.clone()),
        instance_type: Some(r.instance_type.clone()),
        instance_platform: Some(api::CapacityReservationInstancePlatform::from_wire(&r.platform)),
        availability_zone: Some(r.zone.clone()),
        tenancy: Some(api::CapacityReservationTenancy::from_wire(&r.tenancy)),
        total_instance_count: Some(v.total as i32),
        available_instance_count: Some(available),
        ebs_optimized: Some(r.ebs_optimized),
        ephemeral_storage: Some(r.ephemeral_storage),
        state: Some(api::CapacityReservationState::from_wire(v.state.as_str())),
        start_date: Some(millis(r.created)),
        end_date: r.end_date.map(millis),
        end_date_type: Some(api::EndDateType::from_wire(r.end_date_type.as_str())),
        instance_match_criteria: Some(api::InstanceMatchCriteria::from_wire(r.match_criteria.as_str())),
        create_date: Some(millis(r.created)),
        tags: Some(wire_tags(tags).unwrap_or_default()),
        capacity_allocations: Some(Vec::new()),
        reservation_type: Some(api::CapacityReservationType::Default),
        delivery_preference: Some(api::CapacityReservationDeliveryPreference::Fixed),
        ..Default::default()
    }
}

// ----- Operations -----------------------------------------------------------------------

fn zone_of(call: &Call, name: Option<String>, id: Option<String>) -> ApiResult<(String, String)> {
    let catalogue = &call.cx.state.catalogue;
    let region = catalogue
        .region(&call.cx.scope.region)
        .ok_or_else(|| ApiError::Internal(format!("region {} vanished from the catalogue", call.cx.scope.region)))?;
    let zones: Vec<_> = catalogue.zones(region).filter(|z| z.enabled()).collect();
    let found = match (&name, &id) {
        (None, None) => return Err(CapacityError::Missing("AvailabilityZone").into()),
        (Some(_), Some(_)) => {
            return Err(CapacityError::Combination(
                "Only one of AvailabilityZone and AvailabilityZoneId may be specified.".into(),
            )
            .into());
        }
        (Some(n), None) => zones.iter().find(|z| &z.zone.name == n),
        (None, Some(i)) => zones.iter().find(|z| &z.zone.id == i),
    };
    match found {
        Some(z) => Ok((z.zone.name.clone(), z.zone.id.clone())),
        None => Err(CapacityError::InvalidValue(format!(
            "Invalid availability zone: [{}]",
            name.or(id).unwrap_or_default()
        ))
        .into()),
    }
}

fn end_type(t: Option<api::EndDateType>) -> ApiResult<Option<EndDateType>> {
    match t {
        None => Ok(None),
        Some(api::EndDateType::Unlimited) => Ok(Some(EndDateType::Unlimited)),
        Some(api::EndDateType::Limited) => Ok(Some(EndDateType::Limited)),
        Some(api::EndDateType::Unknown(v)) => Err(CapacityError::InvalidValue(format!(
            "Value ({v}) for parameter EndDateType is invalid. Valid values are: unlimited, limited."
        ))
        .into()),
    }
}

fn criteria(c: Option<api::InstanceMatchCriteria>) -> ApiResult<Option<MatchCriteria>> {
    match c {
        None => Ok(None),
        Some(api::InstanceMatchCriteria::Open) => Ok(Some(MatchCriteria::Open)),
        Some(api::InstanceMatchCriteria::Targeted) => Ok(Some(MatchCriteria::Targeted)),
        Some(other) => Err(CapacityError::InvalidValue(format!(
            "Value ({}) for parameter InstanceMatchCriteria is invalid. Valid values are: open, targeted.",
            other.as_str()
        ))
        .into()),
    }
}

/// EC2 `CreateCapacityReservation`: an immediate reservation, active at once. Errors:
/// `MissingParameter`, `InvalidParameterValue`, `InvalidParameterCombination`,
/// `IdempotentParameterMismatch`, `TagLimitExceeded`, `DryRunOperation`.
pub async fn create_capacity_reservation(
    call: &Call,
    input: api::CreateCapacityReservationRequest,
) -> ApiResult<Encoded> {
    use api::CreateCapacityReservationRequestMember as M;
    call.supported(
        &input,
        &[
            M::ClientToken,
            M::InstanceType,
            M::InstancePlatform,
            M::AvailabilityZone,
            M::AvailabilityZoneId,
            M::Tenancy,
            M::InstanceCount,
            M::EbsOptimized,
            M::EphemeralStorage,
            M::EndDate,
            M::EndDateType,
            M::InstanceMatchCriteria,
            M::TagSpecifications,
            M::DryRun,
            M::DeliveryPreference,
        ],
    )?;
    let now = call.cx.now;
    let instance_type = input.instance_type.ok_or(CapacityError::Missing("InstanceType"))?;
    capacity::check_instance_type(&instance_type)?;
    let platform = input.instance_platform.ok_or(CapacityError::Missing("InstancePlatform"))?;
    capacity::check_platform(platform.as_str())?;
    let count =
        capacity::check_count(input.instance_count.ok_or(CapacityError::Missing("InstanceCount"))?, "InstanceCount")?;
    let (zone, zone_id) = zone_of(call, input.availability_zone, input.availability_zone_id)?;
    let tenancy = match input.tenancy {
        None | Some(api::CapacityReservationTenancy::Default) => "default",
        Some(api::CapacityReservationTenancy::Dedicated) => "dedicated",
        Some(other) => {
            return Err(CapacityError::InvalidValue(format!(
                "Value ({}) for parameter Tenancy is invalid. Valid values are: default, dedicated.",
                other.as_str()
            ))
            .into());
        }
    };
    match input.delivery_preference {
        None | Some(api::CapacityReservationDeliveryPreference::Fixed) => {}
        Some(other) => {
            return Err(ApiError::ec2_unsupported_parameter(
                call.operation,
                &format!("DeliveryPreference ({})", other.as_str()),
            ));
        }
    }
    let end_type = end_type(input.end_date_type)?.unwrap_or(EndDateType::Unlimited);
    let end_date = capacity::check_end(end_type, input.end_date.map(|d| Timestamp(d.unix_millis())), now)?;
    let match_criteria = criteria(input.instance_match_criteria)?.unwrap_or(MatchCriteria::Open);
    let tags = tag_specifications(input.tag_specifications, ResourceKind::CapacityReservation)?;
    let reservation = CapacityReservation {
        id: String::new(),
        owner: call.cx.scope.account.as_str().to_string(),
        region: call.cx.scope.region.clone(),
        instance_type,
        platform: platform.as_str().to_string(),
        zone,
        zone_id,
        tenancy: tenancy.to_string(),
        ebs_optimized: input.ebs_optimized.unwrap_or(false),
        ephemeral_storage: input.ephemeral_storage.unwrap_or(false),
        end_date_type: end_type,
        end_date,
        match_criteria,
        created: now,
        cancelled: None,
    };
    let scope = call.cx.scope.clone();
    idempotent(call, input.client_token, input.dry_run.unwrap_or(false), move |tx| {
        let mut r = reservation.clone();
        r.id = ResourceKind::CapacityReservation.new_id(&mut OsRandom);
        tx.create(&scope, &r)?;
        tx.put_capacity(&scope, &row_of(&r, count))?;
        put_tags(tx, &scope, &r.id, ResourceKind::CapacityReservation, &tags)?;
        Ok(Encoded::of(&api::CreateCapacityReservationResult {
            capacity_reservation: Some(to_wire(View::new(r, count, 0, now), tags.clone())),
        }))
    })
    .await
}

/// The cursor of `DescribeCapacityReservations`: the caller's own reservations in
/// creation order, then those shared with it in id order.
#[derive(Clone)]
enum Cursor {
    Own(i64),
    Shared(String),
}

impl Cursor {
    fn parse(c: Option<String>) -> ApiResult<Cursor> {
        match c {
            None => Ok(Cursor::Own(0)),
            Some(c) => match c.split_once(':') {
                Some(("o", seq)) => Ok(Cursor::Own(pagination::parse_seq_cursor(seq).map_err(ec2_token_error)?)),
                Some(("s", id)) => Ok(Cursor::Shared(id.to_string())),
                _ => Err(ApiError::Internal(format!("unreadable cursor {c}"))),
            },
        }
    }
}

/// EC2 `DescribeCapacityReservations`: the caller's reservations and those shared with
/// it, with every documented filter, `MaxResults` (1–1000) and `NextToken`. Errors:
/// `InvalidCapacityReservationId.Malformed`, `.NotFound`, `InvalidFilter`,
/// `InvalidNextToken`, `DryRunOperation`.
pub async fn describe_capacity_reservations(
    call: &Call,
    input: api::DescribeCapacityReservationsRequest,
) -> ApiResult<api::DescribeCapacityReservationsResult> {
    use api::DescribeCapacityReservationsRequestMember as M;
    call.supported(&input, &[M::CapacityReservationIds, M::NextToken, M::MaxResults, M::Filters, M::DryRun])?;
    let filters = filter_set(input.filters, &capacity::FILTERS)?;
    let mut ids = input.capacity_reservation_ids.unwrap_or_default();
    for id in &ids {
        capacity::check_id(id)?;
    }
    ids.sort();
    ids.dedup();
    let limit = page_size(input.max_results);
    let cursor = Cursor::parse(call.cursor(input.next_token.as_deref())?)?;
    if input.dry_run.unwrap_or(false) {
        return Err(ApiError::dry_run());
    }
    let (scope, now) = (call.cx.scope.clone(), call.cx.now);
    let (items, next) = call
        .read(move |tx| {
            if ids.is_empty() {
                page_all(tx, &scope, &filters, &cursor, limit, now)
            } else {
                by_ids(tx, &scope, &ids, &filters, now).map(|items| (items, None))
            }
        })
        .await?;
    Ok(api::DescribeCapacityReservationsResult {
        next_token: next.map(|c| call.next_token(&c)),
        capacity_reservations: Some(items.into_iter().map(|(v, t)| to_wire(v, t)).collect()),
    })
}

type Listed = Vec<(View, Vec<Tag>)>;

fn by_ids(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    ids: &[String],
    filters: &FilterSet,
    now: Timestamp,
) -> ApiResult<Listed> {
    let mut out = Vec::new();
    let mut missing = Vec::new();
    for id in ids {
        match visible(tx, scope, id) {
            Ok((owner, r)) => {
                let tags =
                    if owner == *scope { tags_by_id(tx, scope, [id.as_str()].into_iter())?.remove(id) } else { None };
                let tags = tags.unwrap_or_default();
                let v = view(tx, &owner, r, now)?;
                if filters.matches(&v, &tags) {
                    out.push((v, tags));
                }
            }
            Err(e) if e.code() == codes::INVALID_CAPACITY_RESERVATION_ID_NOT_FOUND.code() => missing.push(id.clone()),
            Err(e) => return Err(e),
        }
    }
    if !missing.is_empty() {
        return Err(CapacityError::NotFound(missing).into());
    }
    Ok(out)
}

fn page_all(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    filters: &FilterSet,
    cursor: &Cursor,
    limit: usize,
    now: Timestamp,
) -> ApiResult<(Listed, Option<String>)> {
    let mut out: Vec<(String, View, Vec<Tag>)> = Vec::new();
    let chunk = (limit + 1).clamp(16, 1000);
    // Own reservations, in creation order.
    if let Cursor::Own(after) = cursor {
        let mut after = *after;
        loop {
            let rows = tx.page_tagged::<CapacityReservation>(scope, after, chunk)?;
            let exhausted = rows.len() < chunk;
            for (seq, r, tag_rows) in rows {
                after = seq;
                let tags: Vec<Tag> = tag_rows.into_iter().map(|t| Tag { key: t.key, value: t.value }).collect();
                let v = view(tx, scope, r, now)?;
                if filters.matches(&v, &tags) {
                    out.push((format!("o:{seq}"), v, tags));
                    if out.len() > limit {
                        return Ok(finish(out, limit));
                    }
                }
            }
            if exhausted {
                break;
            }
        }
    }
    // Then reservations shared with the caller, in id order.
    let mut after = match cursor {
        Cursor::Shared(id) => id.clone(),
        Cursor::Own(_) => String::new(),
    };
    loop {
        let rows = tx.shared_of_kind(scope, KIND, Some(&after), chunk)?;
        let exhausted = rows.len() < chunk;
        for grant in rows {
            after = grant.resource.clone();
            let owner = scope_of(&grant.owner, &scope.region)?;
            let Some(r) = tx.load::<CapacityReservation>(&owner, &grant.resource)? else { continue };
            let v = view(tx, &owner, r, now)?;
            if filters.matches(&v, &[] as &[Tag]) {
                out.push((format!("s:{}", grant.resource), v, Vec::new()));
                if out.len() > limit {
                    return Ok(finish(out, limit));
                }
            }
        }
        if exhausted {
            break;
        }
    }
    Ok(finish(out, limit))
}

fn finish(mut out: Vec<(String, View, Vec<Tag>)>, limit: usize) -> (Listed, Option<String>) {
    let next = if out.len() > limit {
        out.truncate(limit);
        out.last().map(|(c, _, _)| c.clone())
    } else {
        None
    };
    (out.into_iter().map(|(_, v, t)| (v, t)).collect(), next)
}

/// EC2 `ModifyCapacityReservation`: `InstanceCount` (never below the instances using it),
/// `EndDate`/`EndDateType`, `InstanceMatchCriteria` (only while unused); only an active
/// reservation changes, and only its owner may change it. `Accept` and
/// `AdditionalInfo` are reserved by AWS and refused. Errors:
/// `InvalidCapacityReservationId.*`, `InvalidParameterValue`,
/// `InvalidParameterCombination`, `IncorrectState`, `UnauthorizedOperation`,
/// `DryRunOperation`.
pub async fn modify_capacity_reservation(
    call: &Call,
    input: api::ModifyCapacityReservationRequest,
) -> ApiResult<api::ModifyCapacityReservationResult> {
    use api::ModifyCapacityReservationRequestMember as M;
    call.supported(
        &input,
        &[M::CapacityReservationId, M::InstanceCount, M::EndDate, M::EndDateType, M::InstanceMatchCriteria, M::DryRun],
    )?;
    let id = input.capacity_reservation_id.ok_or(CapacityError::Missing("CapacityReservationId"))?;
    capacity::check_id(&id)?;
    let count = input.instance_count;
    let end_type = end_type(input.end_date_type)?;
    let end_date = input.end_date.map(|d| Timestamp(d.unix_millis()));
    let to_criteria = criteria(input.instance_match_criteria)?;
    if count.is_none() && end_type.is_none() && end_date.is_none() && to_criteria.is_none() {
        return Err(CapacityError::Missing("InstanceCount, EndDate, EndDateType or InstanceMatchCriteria").into());
    }
    let (scope, now) = (call.cx.scope.clone(), call.cx.now);
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let mut r = owned(tx, &scope, &id)?;
        r.check_active(now, "modified")?;
        let c = counts(tx, &scope, &id)?;
        let total = match count {
            Some(n) => capacity::check_new_count(c.total, n)?,
            None => c.total,
        };
        capacity::check_resize(&r, total, c.used)?;
        if end_type.is_some() || end_date.is_some() {
            let t = end_type.unwrap_or(if end_date.is_some() { EndDateType::Limited } else { r.end_date_type });
            r.end_date = capacity::check_end(t, end_date, now)?;
            r.end_date_type = t;
        }
        if let Some(to) = to_criteria {
            capacity::check_criteria_change(&r, to, c.used)?;
            r.match_criteria = to;
        }
        tx.save(&scope, &r)?;
        tx.put_capacity(&scope, &row_of(&r, total))?;
        Ok(api::ModifyCapacityReservationResult { r#return: Some(true) })
    })
    .await
}

/// EC2 `CancelCapacityReservation`: the reservation becomes `cancelled` and takes no more
/// launches; instances running in it keep running (as on-demand instances, AWS says) and
/// no longer count against it. Errors: `InvalidCapacityReservationId.*`, `IncorrectState`
/// (not active), `UnauthorizedOperation`, `DryRunOperation`.
pub async fn cancel_capacity_reservation(
    call: &Call,
    input: api::CancelCapacityReservationRequest,
) -> ApiResult<api::CancelCapacityReservationResult> {
    use api::CancelCapacityReservationRequestMember as M;
    call.supported(&input, &[M::CapacityReservationId, M::DryRun])?;
    let id = input.capacity_reservation_id.ok_or(CapacityError::Missing("CapacityReservationId"))?;
    capacity::check_id(&id)?;
    let (scope, now) = (call.cx.scope.clone(), call.cx.now);
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let mut r = owned(tx, &scope, &id)?;
        r.check_active(now, "cancelled")?;
        r.cancelled = Some(now);
        let c = counts(tx, &scope, &id)?;
        tx.save(&scope, &r)?;
        tx.put_capacity(&scope, &row_of(&r, c.total))?;
        Ok(api::CancelCapacityReservationResult { r#return: Some(true) })
    })
    .await
}

/// EC2 `GetCapacityReservationUsage`: the reservation's counts and one `InstanceUsages`
/// row per account with instances in it (the owner's and, when shared, the consumers').
/// Only the owner may read it. `MaxResults` 1–1000 (DECISIONS.md), `NextToken`.
/// Errors: `InvalidCapacityReservationId.*`, `UnauthorizedOperation`, `InvalidNextToken`,
/// `DryRunOperation`.
pub async fn get_capacity_reservation_usage(
    call: &Call,
    input: api::GetCapacityReservationUsageRequest,
) -> ApiResult<api::GetCapacityReservationUsageResult> {
    use api::GetCapacityReservationUsageRequestMember as M;
    call.supported(&input, &[M::CapacityReservationId, M::NextToken, M::MaxResults, M::DryRun])?;
    let id = input.capacity_reservation_id.ok_or(CapacityError::Missing("CapacityReservationId"))?;
    capacity::check_id(&id)?;
    let limit = page_size(input.max_results);
    let after = call.cursor(input.next_token.as_deref())?;
    if input.dry_run.unwrap_or(false) {
        return Err(ApiError::dry_run());
    }
    let (scope, now) = (call.cx.scope.clone(), call.cx.now);
    let (v, users) = call
        .read(move |tx| {
            let r = owned(tx, &scope, &id)?;
            let v = view(tx, &scope, r, now)?;
            let users = tx.capacity_users(&scope, &id)?;
            Ok((v, users))
        })
        .await?;
    let mut rows: Vec<(String, u32)> =
        users.into_iter().filter(|(a, _)| after.as_deref().is_none_or(|c| a.as_str() > c)).collect();
    let next = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|(a, _)| call.next_token(a))
    } else {
        None
    };
    Ok(api::GetCapacityReservationUsageResult {
        next_token: next,
        capacity_reservation_id: Some(v.reservation.id.clone()),
        instance_type: Some(v.reservation.instance_type.clone()),
        total_instance_count: Some(v.total as i32),
        available_instance_count: Some(v.available() as i32),
        state: Some(api::CapacityReservationState::from_wire(v.state.as_str())),
        instance_usages: Some(
            rows.into_iter()
                .map(|(a, n)| api::InstanceUsage { account_id: Some(a), used_instance_count: Some(n as i32) })
                .collect(),
        ),
        ..Default::default()
    })
}

/// Moves `n` instances of capacity from `source` to `dest` (both the caller's, active,
/// alike): free slots first, then running instances with their slots. Returns the
/// number of running instances moved.
fn move_capacity(
    tx: &mut dyn Tx,
    scope: &Scope,
    source: &CapacityReservation,
    dest: &CapacityReservation,
    dest_total: u32,
    n: u32,
) -> ApiResult<()> {
    let c = counts(tx, scope, &source.id)?;
    let (_free, running) = capacity::split(source, c.total, c.used, n)?;
    // Grow the destination first so the instances moved into it fit.
    tx.put_capacity(scope, &row_of(dest, dest_total + n))?;
    for (instance, account) in tx.capacity_instances(scope, &source.id, running as usize)? {
        tx.release_capacity(scope, &source.id, &instance)?;
        tx.occupy_capacity(scope, &dest.id, &instance, &account)?;
        move_to_reservation(
            tx,
            &scope_of(&account, &scope.region)?,
            &instance,
            Held { owner: scope.account.as_str().to_string(), id: dest.id.clone() },
        )?;
    }
    tx.put_capacity(scope, &row_of(source, c.total - n))?;
    Ok(())
}

/// EC2 `CreateCapacityReservationBySplitting`: a new reservation alike the source, with
/// `InstanceCount` of its capacity (available first, then running instances, which move
/// with it). Errors: `InvalidCapacityReservationId.*`, `InvalidParameterValue` (the
/// whole reservation, or more than it has), `IncorrectState`, `UnauthorizedOperation`,
/// `IdempotentParameterMismatch`, `DryRunOperation`.
pub async fn create_capacity_reservation_by_splitting(
    call: &Call,
    input: api::CreateCapacityReservationBySplittingRequest,
) -> ApiResult<Encoded> {
    use api::CreateCapacityReservationBySplittingRequestMember as M;
    call.supported(
        &input,
        &[M::DryRun, M::ClientToken, M::SourceCapacityReservationId, M::InstanceCount, M::TagSpecifications],
    )?;
    let source_id =
        input.source_capacity_reservation_id.ok_or(CapacityError::Missing("SourceCapacityReservationId"))?;
    capacity::check_id(&source_id)?;
    let n =
        capacity::check_count(input.instance_count.ok_or(CapacityError::Missing("InstanceCount"))?, "InstanceCount")?;
    let tags = tag_specifications(input.tag_specifications, ResourceKind::CapacityReservation)?;
    let (scope, now) = (call.cx.scope.clone(), call.cx.now);
    idempotent(call, input.client_token, input.dry_run.unwrap_or(false), move |tx| {
        let source = owned(tx, &scope, &source_id)?;
        source.check_active(now, "split")?;
        let mut dest = source.clone();
        dest.id = ResourceKind::CapacityReservation.new_id(&mut OsRandom);
        dest.created = now;
        tx.create(&scope, &dest)?;
        tx.put_capacity(&scope, &row_of(&dest, 0))?;
        put_tags(tx, &scope, &dest.id, ResourceKind::CapacityReservation, &tags)?;
        move_capacity(tx, &scope, &source, &dest, 0, n)?;
        let source_tags =
            tags_by_id(tx, &scope, [source.id.as_str()].into_iter())?.remove(&source.id).unwrap_or_default();
        let sv = view(tx, &scope, source, now)?;
        let dv = view(tx, &scope, dest, now)?;
        Ok(Encoded::of(&api::CreateCapacityReservationBySplittingResult {
            source_capacity_reservation: Some(to_wire(sv, source_tags)),
            destination_capacity_reservation: Some(to_wire(dv, tags.clone())),
            instance_count: Some(n as i32),
        }))
    })
    .await
}

/// EC2 `MoveCapacityReservationInstances`: `InstanceCount` of capacity from the source to
/// the destination (alike, both active and the caller's); available capacity first, then
/// running instances with their slots. Errors as splitting.
pub async fn move_capacity_reservation_instances(
    call: &Call,
    input: api::MoveCapacityReservationInstancesRequest,
) -> ApiResult<Encoded> {
    use api::MoveCapacityReservationInstancesRequestMember as M;
    call.supported(
        &input,
        &[
            M::DryRun,
            M::ClientToken,
            M::SourceCapacityReservationId,
            M::DestinationCapacityReservationId,
            M::InstanceCount,
        ],
    )?;
    let source_id =
        input.source_capacity_reservation_id.ok_or(CapacityError::Missing("SourceCapacityReservationId"))?;
    capacity::check_id(&source_id)?;
    let dest_id =
        input.destination_capacity_reservation_id.ok_or(CapacityError::Missing("DestinationCapacityReservationId"))?;
    capacity::check_id(&dest_id)?;
    let n =
        capacity::check_count(input.instance_count.ok_or(CapacityError::Missing("InstanceCount"))?, "InstanceCount")?;
    let (scope, now) = (call.cx.scope.clone(), call.cx.now);
    idempotent(call, input.client_token, input.dry_run.unwrap_or(false), move |tx| {
        let source = owned(tx, &scope, &source_id)?;
        let dest = owned(tx, &scope, &dest_id)?;
        source.check_active(now, "moved from")?;
        dest.check_active(now, "moved to")?;
        capacity::check_movable(&source, &dest)?;
        let dest_total = counts(tx, &scope, &dest.id)?.total;
        move_capacity(tx, &scope, &source, &dest, dest_total, n)?;
        let mut tags = tags_by_id(tx, &scope, [source.id.as_str(), dest.id.as_str()].into_iter())?;
        let (st, dt) = (tags.remove(&source.id).unwrap_or_default(), tags.remove(&dest.id).unwrap_or_default());
        let sv = view(tx, &scope, source, now)?;
        let dv = view(tx, &scope, dest, now)?;
        Ok(Encoded::of(&api::MoveCapacityReservationInstancesResult {
            source_capacity_reservation: Some(to_wire(sv, st)),
            destination_capacity_reservation: Some(to_wire(dv, dt)),
            instance_count: Some(n as i32),
        }))
    })
    .await
}

/// EC2 `ModifyInstanceCapacityReservationAttributes`: a stopped instance's preference or
/// target (AWS: "the instance must be in the stopped state"); it takes effect at its
/// next start. Errors: `InvalidInstanceID.*`, `IncorrectInstanceState`,
/// `InvalidCapacityReservationId.*`, `InvalidParameterCombination`, `DryRunOperation`.
pub async fn modify_instance_capacity_reservation_attributes(
    call: &Call,
    input: api::ModifyInstanceCapacityReservationAttributesRequest,
) -> ApiResult<api::ModifyInstanceCapacityReservationAttributesResult> {
    use api::ModifyInstanceCapacityReservationAttributesRequestMember as M;
    call.supported(&input, &[M::InstanceId, M::CapacityReservationSpecification, M::DryRun])?;
    let instance_id = input.instance_id.ok_or(CapacityError::Missing("InstanceId"))?;
    let spec =
        input.capacity_reservation_specification.ok_or(CapacityError::Missing("CapacityReservationSpecification"))?;
    let pref = preference_of(Some(spec))?;
    let scope = call.cx.scope.clone();
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        if let Preference::Target(id) = &pref {
            visible(tx, &scope, id)?;
        }
        set_capacity_preference(tx, &scope, &instance_id, pref.clone())?;
        Ok(api::ModifyInstanceCapacityReservationAttributesResult { r#return: Some(true) })
    })
    .await
}

/// Records in a running instance that its slot moved to another reservation.
fn move_to_reservation(tx: &mut dyn Tx, scope: &Scope, instance: &str, held: Held) -> ApiResult<()> {
    let mut i = super::instances::load_instance(tx, scope, instance)?;
    if let Preference::Target(_) = i.capacity_preference {
        i.capacity_preference = Preference::Target(held.id.clone());
    }
    i.capacity = Some(held);
    super::instances::save_instance(tx, scope, &i)
}

/// Sets a stopped instance's preference (AWS: "the instance must be in the stopped
/// state"); it takes effect at its next start.
fn set_capacity_preference(tx: &mut dyn Tx, scope: &Scope, instance: &str, pref: Preference) -> ApiResult<()> {
    let mut i = super::instances::load_instance(tx, scope, instance)?;
    if !i.state.is_stopped() {
        return Err(reservoir_domain::instance::InstanceError::IncorrectState(format!(
            "The instance '{instance}' is not in the 'stopped' state. Its capacity reservation attributes can only \
             be modified when the instance is stopped."
        ))
        .into());
    }
    i.capacity_preference = pref;
    super::instances::save_instance(tx, scope, &i)
}
