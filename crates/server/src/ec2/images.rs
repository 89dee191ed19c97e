//! Machine images: `DescribeImages`.
//!
//! The images are the server's catalogue (`reservoir_domain::image`, built in or from the
//! config file) for the request's region; nothing about them is stored, so listing them
//! needs no transaction. A page's cursor is the position in the catalogue's order.

use reservoir_domain::image::{self as img, Image, ImageError};
use reservoir_domain::tags::Tag;
use reservoir_wire::WireEnum;
use reservoir_wire::ec2_api as api;

use super::shared::{Call, Page, filter_set, page_size};
use crate::error::{ApiError, ApiResult};

fn to_wire(i: Image) -> api::Image {
    let gp3 = i.volume_type == "gp3";
    api::Image {
        platform_details: Some(i.platform.details().to_string()),
        usage_operation: Some(i.platform.usage_operation().to_string()),
        block_device_mappings: Some(vec![api::BlockDeviceMapping {
            ebs: Some(api::EbsBlockDevice {
                delete_on_termination: Some(true),
                iops: gp3.then_some(3000),
                snapshot_id: Some(i.snapshot_id),
                volume_size: Some(i.volume_size as i32),
                volume_type: Some(api::VolumeType::from_wire(&i.volume_type)),
                throughput: gp3.then_some(125),
                encrypted: Some(false),
                ..Default::default()
            }),
            device_name: Some(i.root_device_name.clone()),
            no_device: None,
            virtual_name: None,
        }]),
        description: Some(i.description),
        ena_support: Some(true),
        hypervisor: Some(api::HypervisorType::from_wire(img::HYPERVISOR)),
        image_owner_alias: i.owner_alias,
        name: Some(i.name),
        root_device_name: Some(i.root_device_name),
        root_device_type: Some(api::DeviceType::from_wire(img::ROOT_DEVICE_TYPE)),
        sriov_net_support: Some(img::SRIOV_NET_SUPPORT.to_string()),
        state_reason: None,
        tags: None,
        virtualization_type: Some(api::VirtualizationType::from_wire(img::VIRTUALIZATION_TYPE)),
        boot_mode: i.boot_mode.as_deref().map(api::BootModeValues::from_wire),
        tpm_support: i.tpm_support.as_deref().map(api::TpmSupportValues::from_wire),
        deprecation_time: i.deprecation_time,
        imds_support: i.imds_support.as_deref().map(api::ImdsSupportValues::from_wire),
        source_instance_id: None,
        deregistration_protection: Some("disabled".to_string()),
        last_launched_time: None,
        image_allowed: None,
        source_image_id: None,
        source_image_region: None,
        free_tier_eligible: Some(i.free_tier_eligible),
        image_id: Some(i.id),
        image_location: Some(i.location),
        state: Some(api::ImageState::from_wire(img::STATE)),
        owner_id: Some(i.owner_id),
        creation_date: Some(i.creation_date),
        public: Some(i.public),
        product_codes: None,
        architecture: Some(api::ArchitectureValues::from_wire(&i.architecture)),
        image_type: Some(api::ImageTypeValues::from_wire(img::IMAGE_TYPE)),
        kernel_id: None,
        ramdisk_id: None,
        platform: i.platform.platform_value().map(api::PlatformValues::from_wire),
    }
}

/// EC2 `DescribeImages`: the images of the request's region the caller may see (public
/// ones and its own). `ImageId.N` (each must exist: `InvalidAMIID.NotFound`, well formed:
/// `InvalidAMIID.Malformed`; named images are answered even when deprecated), `Owner.N`
/// (`self`, `amazon`, `aws-marketplace`, `aws-backup-vault`, account ids),
/// `ExecutableBy.N` (`all`: public images; `self` and account ids: none, as nobody has
/// explicit launch permissions), `IncludeDeprecated` (deprecated images are left out
/// otherwise), `IncludeDisabled` (no image is disabled), every documented filter,
/// `MaxResults` 5–1000 and `NextToken` (a position in catalogue order), `DryRun`.
/// Errors: `InvalidAMIID.Malformed`, `InvalidAMIID.NotFound`, `InvalidUserID.Malformed`,
/// `InvalidParameterValue`, `InvalidNextToken`, `FilterLimitExceeded`, `DryRunOperation`.
pub async fn describe_images(call: &Call, input: api::DescribeImagesRequest) -> ApiResult<api::DescribeImagesResult> {
    use api::DescribeImagesRequestMember as M;
    call.supported(
        &input,
        &[
            M::ExecutableUsers,
            M::ImageIds,
            M::Owners,
            M::IncludeDeprecated,
            M::IncludeDisabled,
            M::MaxResults,
            M::NextToken,
            M::DryRun,
            M::Filters,
        ],
    )?;
    let filters = filter_set(input.filters, &img::FILTERS)?;
    let ids = input.image_ids.unwrap_or_default();
    for id in &ids {
        img::check_id(id)?;
    }
    let owners = input.owners.unwrap_or_default();
    for o in &owners {
        img::check_owner(o)?;
    }
    let users = input.executable_users.unwrap_or_default();
    for u in &users {
        img::check_executable_user(u)?;
    }
    let account = call.cx.scope.account.as_str();
    let visible: Vec<Image> =
        call.cx.state.images.images(&call.cx.scope.region).into_iter().filter(|i| i.visible_to(account)).collect();
    let mut missing: Vec<String> = Vec::new();
    for id in &ids {
        if !visible.iter().any(|i| &i.id == id) && !missing.contains(id) {
            missing.push(id.clone());
        }
    }
    if !missing.is_empty() {
        return Err(ImageError::NotFound(missing).into());
    }
    let limit = page_size(input.max_results);
    let after = call.seq_cursor(input.next_token.as_deref())?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    let now = call.cx.now.millis();
    let include_deprecated = input.include_deprecated == Some(true) || !ids.is_empty();
    let matches: Vec<(i64, Image, Vec<Tag>)> = visible
        .into_iter()
        .enumerate()
        .map(|(n, i)| (n as i64 + 1, i))
        .filter(|(seq, i)| *seq > after && (ids.is_empty() || ids.contains(&i.id)))
        .filter(|(_, i)| include_deprecated || !i.deprecated_at(now) || i.owner_id == account)
        .filter(|(_, i)| owners.is_empty() || owners.iter().any(|o| i.owned_by(o, account)))
        .filter(|(_, i)| users.is_empty() || users.iter().any(|u| i.executable_by(u)))
        .filter(|(_, i)| filters.matches_untagged(i))
        .take(limit + 1)
        .map(|(seq, i)| (seq, i, Vec::new()))
        .collect();
    let page = Page::of(matches, limit);
    Ok(api::DescribeImagesResult {
        next_token: page.next.map(|seq| call.next_token(&seq.to_string())),
        images: Some(page.items.into_iter().map(|(_, i, _)| to_wire(i)).collect()),
    })
}
