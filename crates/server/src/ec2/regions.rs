//! `DescribeRegions` and `DescribeAvailabilityZones`, from the region catalogue.

use reservoir_domain::region::{REGION_FILTERS, ZONE_FILTERS};
use reservoir_wire::WireEnum;
use reservoir_wire::ec2_api::{
    AvailabilityZone, AvailabilityZoneOptInStatus, AvailabilityZoneState, DescribeAvailabilityZonesRequest,
    DescribeAvailabilityZonesResult, DescribeRegionsRequest, DescribeRegionsResult, Region,
};

use super::shared::{Call, filter_set};
use crate::error::{ApiError, ApiResult};

/// EC2 `DescribeRegions`: the enabled regions (all with `AllRegions`), or the ones named
/// (enabled or not), narrowed by filters `endpoint`, `opt-in-status`, `region-name`.
/// Errors: `InvalidParameterValue` (unknown region name, unknown filter),
/// `FilterLimitExceeded`, `DryRunOperation`.
pub async fn describe_regions(call: &Call, input: DescribeRegionsRequest) -> ApiResult<DescribeRegionsResult> {
    use reservoir_wire::ec2_api::DescribeRegionsRequestMember as M;
    call.supported(&input, &[M::RegionNames, M::AllRegions, M::DryRun, M::Filters])?;
    let filters = filter_set(input.filters, &REGION_FILTERS)?;
    let catalogue = &call.cx.state.catalogue;
    let names = input.region_names.unwrap_or_default();
    if let Some(unknown) = names.iter().find(|n| catalogue.region(n).is_none()) {
        return Err(ApiError::invalid_parameter_value(format!("Invalid region: {unknown}")));
    }
    let all = input.all_regions.unwrap_or(false);
    let regions: Vec<Region> = catalogue
        .regions()
        .iter()
        .filter(|r| if names.is_empty() { all || r.enabled() } else { names.contains(&r.name) })
        .filter(|r| filters.matches_untagged(*r))
        .map(|r| Region {
            region_name: Some(r.name.clone()),
            endpoint: Some(r.endpoint()),
            opt_in_status: Some(r.opt_in_status.clone()),
            geography: None,
        })
        .collect();
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(DescribeRegionsResult { regions: Some(regions) })
}

/// EC2 `DescribeAvailabilityZones`: the enabled zones of the request's region (with
/// `AllAvailabilityZones`, also the Local Zones not opted into), or the ones named by
/// `ZoneName.N` / `ZoneId.N` (which must exist there, enabled or not), narrowed by
/// filters.
/// Errors: `InvalidParameterValue` (unknown zone, unknown filter), `FilterLimitExceeded`,
/// `DryRunOperation`.
pub async fn describe_availability_zones(
    call: &Call,
    input: DescribeAvailabilityZonesRequest,
) -> ApiResult<DescribeAvailabilityZonesResult> {
    use reservoir_wire::ec2_api::DescribeAvailabilityZonesRequestMember as M;
    call.supported(&input, &[M::ZoneNames, M::ZoneIds, M::AllAvailabilityZones, M::DryRun, M::Filters])?;
    let filters = filter_set(input.filters, &ZONE_FILTERS)?;
    let catalogue = &call.cx.state.catalogue;
    let region = catalogue
        .region(&call.cx.scope.region)
        .ok_or_else(|| ApiError::Internal(format!("region {} vanished from the catalogue", call.cx.scope.region)))?;
    let names = input.zone_names.unwrap_or_default();
    let ids = input.zone_ids.unwrap_or_default();
    let unknown_names: Vec<&String> = names.iter().filter(|n| !region.zones.iter().any(|z| &z.name == *n)).collect();
    if !unknown_names.is_empty() {
        return Err(ApiError::invalid_parameter_value(format!(
            "Invalid availability zone: [{}]",
            unknown_names.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let unknown_ids: Vec<&String> = ids.iter().filter(|n| !region.zones.iter().any(|z| &z.id == *n)).collect();
    if !unknown_ids.is_empty() {
        return Err(ApiError::invalid_parameter_value(format!(
            "Invalid availability zone ID: [{}]",
            unknown_ids.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
        )));
    }
    let all = input.all_availability_zones.unwrap_or(false);
    let zones: Vec<AvailabilityZone> = catalogue
        .zones(region)
        .filter(|z| {
            if names.is_empty() && ids.is_empty() {
                all || z.enabled()
            } else {
                names.contains(&z.zone.name) || ids.contains(&z.zone.id)
            }
        })
        .filter(|z| filters.matches_untagged(z))
        .map(|z| AvailabilityZone {
            opt_in_status: Some(AvailabilityZoneOptInStatus::from_wire(z.opt_in_status())),
            messages: Some(Vec::new()),
            region_name: Some(z.region.name.clone()),
            zone_name: Some(z.zone.name.clone()),
            zone_id: Some(z.zone.id.clone()),
            group_name: Some(z.group_name()),
            network_border_group: Some(z.network_border_group()),
            zone_type: Some(z.zone.zone_type.clone()),
            parent_zone_name: z.parent().map(|p| p.name.clone()),
            parent_zone_id: z.parent().map(|p| p.id.clone()),
            group_long_name: Some(z.group_long_name()),
            geography: None,
            sub_geography: None,
            state: Some(AvailabilityZoneState::from_wire(&z.zone.state)),
        })
        .collect();
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(DescribeAvailabilityZonesResult { availability_zones: Some(zones) })
}
