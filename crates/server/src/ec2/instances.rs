//! Instances: `RunInstances`, `DescribeInstances`, `DescribeInstanceStatus`,
//! `StopInstances`, `StartInstances`, `TerminateInstances`, `DescribeInstanceAttribute`,
//! `ModifyInstanceAttribute` (rules in `reservoir_domain::instance`).
//!
//! An instance is an entity of its scope. Its primary network interface is created in
//! the launch's transaction (`interfaces::create_in_tx`, an address from the subnet's
//! space) and attached at device 0 with `DeleteOnTermination`; terminating deletes it
//! (or detaches an interface that must stay) and frees its address in the same
//! transaction. Launches, starts, stops and terminations occupy and give back capacity
//! reservation slots through the capacity family, inside the same transaction too.
//!
//! State changes answer the transitional state AWS answers (`pending`, `stopping`,
//! `shutting-down`) and store the state they end in, so a `Describe` right after shows
//! `running` / `stopped` / `terminated` and waiters need no sleep. Terminated instances
//! are listed and found for an hour of the server clock, then never again.

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use base64::Engine;
use reservoir_domain::account::Scope;
use reservoir_domain::capacity::{Launch, Preference};
use reservoir_domain::filter::{FilterSet, Filterable};
use reservoir_domain::ids::{OsRandom, ResourceKind};
use reservoir_domain::image::{ImageMode, Platform};
use reservoir_domain::instance::{
    self as inst, Instance, InstanceError, InstanceState, ShutdownBehavior, Slot, StatusView,
};
use reservoir_domain::interface::{self, Attachment, InstanceView, NetworkInterface};
use reservoir_domain::key_pair::KeyPairError;
use reservoir_domain::network::{NetError, NetKind};
use reservoir_domain::security_group as sg;
use reservoir_domain::subnet::Subnet;
use reservoir_domain::tags::Tag;
use reservoir_domain::time::Timestamp;
use reservoir_store::{ReadTx, ReadTxExt, Tx, TxExt};
use reservoir_wire::ec2_api as api;
use reservoir_wire::{DateTime, WireEnum};

use super::capacity::{is_capacity_shortage, occupy_in_tx, preference_of, release_in_tx, wire_specification};
use super::interfaces::{self as ifaces, attach_in_tx};
use super::shared::{Call, Encoded, Page, filter_set, idempotent, page_size, put_tags, tag_specifications, wire_tags};
use super::subnets::{DEFAULT_SUBNET_ALIAS, load_subnet};
use crate::error::{ApiError, ApiResult};

/// The storage name of instances.
const KIND: &str = "instance";
/// Instances past their hour removed by one launch or state change, oldest first.
const PURGE_BATCH: usize = 16;

/// Removes instances whose hour after termination has passed (and their tags), at most
/// `limit`, oldest first, so listings do not keep passing over them. A launch takes up to
/// [`PURGE_BATCH`] from the store's queue, a state change that many more than it names:
/// more than it can add, so the queue drains while the account writes.
fn purge_expired(tx: &mut dyn Tx, scope: &Scope, now: Timestamp, limit: usize) -> ApiResult<()> {
    for id in tx.take_expired(scope, KIND, now.millis(), limit)? {
        tx.delete(scope, KIND, &id)?;
    }
    Ok(())
}

// ----- What other families call -----------------------------------------------------

/// One instance by id, whatever its state: `InvalidInstanceID.Malformed`, then
/// `.NotFound`.
pub fn load_instance(tx: &mut dyn ReadTx, scope: &Scope, id: &str) -> ApiResult<Instance> {
    inst::check_id(id)?;
    tx.load::<Instance>(scope, id)?.ok_or_else(|| inst::not_found(vec![id.to_string()]).into())
}

/// Stores a changed instance.
pub fn save_instance(tx: &mut dyn Tx, scope: &Scope, i: &Instance) -> ApiResult<()> {
    tx.save(scope, i)?;
    Ok(())
}

/// One instance as clients see it at `now`: a terminated instance past its hour is
/// `InvalidInstanceID.NotFound`.
pub fn find_instance(tx: &mut dyn ReadTx, scope: &Scope, id: &str, now: Timestamp) -> ApiResult<Instance> {
    let i = load_instance(tx, scope, id)?;
    if i.visible_at(now) { Ok(i) } else { Err(inst::not_found(vec![id.to_string()]).into()) }
}

/// Records an interface attached by `AttachNetworkInterface`.
pub fn note_attached(
    tx: &mut dyn Tx,
    scope: &Scope,
    instance_id: &str,
    a: &Attachment,
    interface_id: &str,
) -> ApiResult<()> {
    let mut i = load_instance(tx, scope, instance_id)?;
    i.interfaces.push(Slot { card: a.network_card_index, device: a.device_index, interface_id: interface_id.into() });
    save_instance(tx, scope, &i)
}

/// Forgets an interface detached by `DetachNetworkInterface`.
pub fn note_detached(tx: &mut dyn Tx, scope: &Scope, instance_id: &str, interface_id: &str) -> ApiResult<()> {
    let Some(mut i) = tx.load::<Instance>(scope, instance_id)? else { return Ok(()) };
    i.interfaces.retain(|s| s.interface_id != interface_id);
    save_instance(tx, scope, &i)
}

/// Keeps an instance's copy of its primary interface's groups (for its filters) when
/// `ModifyNetworkInterfaceAttribute` changes them.
pub fn note_primary_groups(
    tx: &mut dyn Tx,
    scope: &Scope,
    instance_id: &str,
    groups: &[interface::GroupRef],
) -> ApiResult<()> {
    let Some(mut i) = tx.load::<Instance>(scope, instance_id)? else { return Ok(()) };
    i.groups = groups.to_vec();
    save_instance(tx, scope, &i)
}

// ----- Wire forms -------------------------------------------------------------------

fn wire_state(s: InstanceState) -> api::InstanceState {
    api::InstanceState { code: Some(s.code()), name: Some(api::InstanceStateName::from_wire(s.name())) }
}

fn groups_wire(groups: &[interface::GroupRef]) -> Vec<api::GroupIdentifier> {
    groups
        .iter()
        .map(|g| api::GroupIdentifier { group_id: Some(g.id.clone()), group_name: Some(g.name.clone()) })
        .collect()
}

/// An Elastic IP of an interface's address, in the instance's wire form.
fn association_wire(region: &str, a: &interface::PublicAssociation) -> api::InstanceNetworkInterfaceAssociation {
    let n = super::interfaces::association_wire(region, a);
    api::InstanceNetworkInterfaceAssociation {
        carrier_ip: None,
        customer_owned_ip: n.customer_owned_ip,
        ip_owner_id: n.ip_owner_id,
        public_dns_name: n.public_dns_name,
        public_ip: n.public_ip,
    }
}

/// The Elastic IP of the instance's primary interface's primary address, if any.
fn primary_association(ifs: &[NetworkInterface], primary: &str) -> Option<(String, interface::PublicAssociation)> {
    let e = ifs.iter().find(|e| e.id == primary)?;
    let a = e.private_addresses.iter().find(|a| a.primary)?.association.clone()?;
    Some((e.region.clone(), a))
}

fn interface_wire(e: &NetworkInterface) -> api::InstanceNetworkInterface {
    let att = e.attachment.as_ref();
    api::InstanceNetworkInterface {
        association: e
            .private_addresses
            .iter()
            .find(|a| a.primary)
            .and_then(|a| a.association.as_ref())
            .map(|a| association_wire(&e.region, a)),
        attachment: att.map(|a| api::InstanceNetworkInterfaceAttachment {
            attach_time: Some(DateTime::from_unix_millis(a.attach_time.millis())),
            attachment_id: Some(a.id.clone()),
            delete_on_termination: Some(a.delete_on_termination),
            device_index: Some(a.device_index as i32),
            status: Some(api::AttachmentStatus::from_wire(a.status.as_str())),
            network_card_index: Some(a.network_card_index as i32),
            ena_srd_specification: None,
            ena_queue_count: None,
        }),
        description: Some(e.description.clone()),
        groups: Some(groups_wire(&e.groups)),
        ipv6_addresses: Some(Vec::new()),
        mac_address: Some(e.mac_address.clone()),
        network_interface_id: Some(e.id.clone()),
        owner_id: Some(e.owner.as_str().to_string()),
        private_dns_name: Some(e.private_dns_name()),
        private_ip_address: Some(e.primary_address().to_string()),
        private_ip_addresses: Some(
            e.private_addresses
                .iter()
                .map(|a| api::InstancePrivateIpAddress {
                    association: a.association.as_ref().map(|x| association_wire(&e.region, x)),
                    primary: Some(a.primary),
                    private_dns_name: Some(interface::private_dns_name(&e.region, a.address)),
                    private_ip_address: Some(a.address.to_string()),
                })
                .collect(),
        ),
        source_dest_check: Some(e.source_dest_check),
        status: Some(api::NetworkInterfaceStatus::from_wire(e.status())),
        subnet_id: Some(e.subnet_id.clone()),
        vpc_id: Some(e.vpc_id.clone()),
        interface_type: Some(interface::INTERFACE_TYPE.to_string()),
        ipv4_prefixes: None,
        ipv6_prefixes: None,
        connection_tracking_configuration: None,
        operator: Some(api::OperatorResponse { managed: Some(false), principal: None, hidden_by_default: None }),
    }
}

fn root_mapping(i: &Instance) -> Vec<api::InstanceBlockDeviceMapping> {
    if i.state == InstanceState::Terminated {
        return Vec::new();
    }
    vec![api::InstanceBlockDeviceMapping {
        device_name: Some(i.root_device_name.clone()),
        ebs: Some(api::EbsInstanceBlockDevice {
            attach_time: Some(DateTime::from_unix_millis(i.launch_time.millis())),
            delete_on_termination: Some(true),
            status: Some(api::AttachmentStatus::Attached),
            volume_id: Some(i.root_volume_id.clone()),
            ..Default::default()
        }),
    }]
}

/// The wire form of an instance with its attached interfaces (primary first), shown in
/// `state`.
fn to_wire(i: &Instance, ifs: &[NetworkInterface], tags: Vec<Tag>, state: InstanceState) -> api::Instance {
    let terminated = i.state == InstanceState::Terminated;
    let primary = ifs.iter().find(|e| e.id == i.primary_interface);
    let groups = primary.map_or_else(|| i.groups.clone(), |e| e.groups.clone());
    let stopped_reason = matches!(i.state, InstanceState::Stopped | InstanceState::Terminated);
    let public = primary_association(ifs, &i.primary_interface);
    api::Instance {
        architecture: Some(api::ArchitectureValues::from_wire(&i.architecture)),
        block_device_mappings: Some(root_mapping(i)),
        client_token: Some(i.client_token.clone().unwrap_or_default()),
        ebs_optimized: Some(i.ebs_optimized),
        ena_support: Some(true),
        hypervisor: Some(api::HypervisorType::from_wire("xen")),
        network_interfaces: Some(ifs.iter().map(interface_wire).collect()),
        root_device_name: Some(i.root_device_name.clone()),
        root_device_type: Some(api::DeviceType::from_wire("ebs")),
        security_groups: Some(if terminated { Vec::new() } else { groups_wire(&groups) }),
        source_dest_check: primary.map(|e| e.source_dest_check),
        state_reason: stopped_reason.then(|| api::StateReason {
            code: Some("Client.UserInitiatedShutdown".into()),
            message: Some("Client.UserInitiatedShutdown: User initiated shutdown".into()),
        }),
        tags: wire_tags(tags),
        virtualization_type: Some(api::VirtualizationType::from_wire("hvm")),
        cpu_options: Some(api::CpuOptions { core_count: Some(1), threads_per_core: Some(2), ..Default::default() }),
        capacity_reservation_id: i.capacity.as_ref().map(|h| h.id.clone()),
        capacity_reservation_specification: Some(wire_specification(&i.capacity_preference)),
        hibernation_options: Some(api::HibernationOptions { configured: Some(false) }),
        metadata_options: Some(api::InstanceMetadataOptionsResponse {
            state: Some(api::InstanceMetadataOptionsState::from_wire("applied")),
            http_tokens: Some(api::HttpTokensState::from_wire("optional")),
            http_put_response_hop_limit: Some(1),
            http_endpoint: Some(api::InstanceMetadataEndpointState::from_wire("enabled")),
            http_protocol_ipv6: Some(api::InstanceMetadataProtocolState::from_wire("disabled")),
            instance_metadata_tags: Some(api::InstanceMetadataTagsState::from_wire("disabled")),
        }),
        enclave_options: Some(api::EnclaveOptions { enabled: Some(false) }),
        boot_mode: Some(api::BootModeValues::from_wire("uefi-preferred")),
        platform_details: Some(i.platform.details().to_string()),
        usage_operation: Some(i.platform.usage_operation().to_string()),
        usage_operation_update_time: Some(DateTime::from_unix_millis(i.launch_time.millis())),
        private_dns_name_options: Some(api::PrivateDnsNameOptionsResponse {
            hostname_type: Some(api::HostnameType::from_wire("ip-name")),
            enable_resource_name_dns_a_record: Some(false),
            enable_resource_name_dns_aaaa_record: Some(false),
        }),
        maintenance_options: Some(api::InstanceMaintenanceOptions {
            auto_recovery: Some(api::InstanceAutoRecoveryState::from_wire("default")),
            reboot_migration: Some(api::InstanceRebootMigrationState::from_wire("default")),
        }),
        current_instance_boot_mode: Some(api::InstanceBootModeValues::from_wire("uefi")),
        operator: Some(api::OperatorResponse { managed: Some(false), principal: None, hidden_by_default: None }),
        instance_id: Some(i.id.clone()),
        image_id: Some(i.image_id.clone()),
        state: Some(wire_state(state)),
        private_dns_name: Some(if terminated { String::new() } else { i.private_dns_name() }),
        public_dns_name: Some(
            public
                .as_ref()
                .and_then(|(r, a)| a.public_ip.map(|ip| reservoir_domain::address::public_dns_name(r, ip)))
                .unwrap_or_default(),
        ),
        public_ip_address: public.as_ref().and_then(|(_, a)| a.public_ip.map(|ip| ip.to_string())),
        state_transition_reason: Some(i.transition_reason.clone()),
        key_name: i.key_name.clone(),
        ami_launch_index: Some(i.launch_index as i32),
        product_codes: Some(Vec::new()),
        instance_type: Some(api::InstanceType::from_wire(&i.instance_type)),
        launch_time: Some(DateTime::from_unix_millis(i.launch_time.millis())),
        placement: Some(api::Placement {
            availability_zone: Some(i.availability_zone.clone()),
            availability_zone_id: Some(i.availability_zone_id.clone()),
            group_name: Some(String::new()),
            tenancy: Some(api::Tenancy::from_wire(&i.tenancy)),
            ..Default::default()
        }),
        platform: i.platform.platform_value().map(api::PlatformValues::from_wire),
        monitoring: Some(api::Monitoring {
            state: Some(api::MonitoringState::from_wire(if i.monitoring { "enabled" } else { "disabled" })),
        }),
        subnet_id: (!terminated).then(|| i.subnet_id.clone()),
        vpc_id: (!terminated).then(|| i.vpc_id.clone()),
        private_ip_address: (!terminated).then(|| i.private_ip.to_string()),
        ..Default::default()
    }
}

/// The interfaces attached to an instance, primary first.
fn interfaces_of(tx: &mut dyn ReadTx, scope: &Scope, i: &Instance) -> ApiResult<Vec<NetworkInterface>> {
    let mut out = Vec::with_capacity(i.interfaces.len());
    for s in &i.interfaces {
        if let Some(e) = tx.load::<NetworkInterface>(scope, &s.interface_id)? {
            out.push(e);
        }
    }
    out.sort_by_key(|e| e.attachment.as_ref().map_or((u32::MAX, u32::MAX), |a| (a.network_card_index, a.device_index)));
    Ok(out)
}

/// Groups instances into reservations, in the order of their first instance.
fn reservations(items: Vec<(Instance, api::Instance)>) -> Vec<api::Reservation> {
    let mut out: Vec<api::Reservation> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for (i, w) in items {
        let n = *index.entry(i.reservation_id.clone()).or_insert_with(|| {
            out.push(api::Reservation {
                reservation_id: Some(i.reservation_id.clone()),
                owner_id: Some(i.owner.as_str().to_string()),
                requester_id: None,
                groups: Some(Vec::new()),
                instances: Some(Vec::new()),
            });
            out.len() - 1
        });
        out[n].instances.get_or_insert_with(Vec::new).push(w);
    }
    out
}

// ----- Listing ----------------------------------------------------------------------

/// One page of instances visible at `now`: the ones named (each must be visible:
/// `InvalidInstanceID.NotFound` names those that are not) or all, that `keep`, in
/// launch order after the `seq` cursor.
#[allow(clippy::too_many_arguments)]
fn listing(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    ids: &[String],
    keep: &dyn Fn(&Instance, &[Tag]) -> bool,
    after: i64,
    limit: usize,
    now: Timestamp,
) -> ApiResult<Page<Instance>> {
    if !ids.is_empty() {
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in ids {
            match tx.get(scope, ResourceKind::Instance.storage_name(), id)? {
                Some(rec) => {
                    let i: Instance = reservoir_store::typed::decode(&rec)?;
                    if i.visible_at(now) {
                        found.push((rec.seq, i));
                    } else {
                        missing.push(id.clone());
                    }
                }
                None => missing.push(id.clone()),
            }
        }
        if !missing.is_empty() {
            return Err(inst::not_found(missing).into());
        }
        found.sort_by_key(|(seq, _)| *seq);
        let mut tags = super::shared::tags_by_id(tx, scope, found.iter().map(|(_, i)| i.id.as_str()))?;
        let items = found
            .into_iter()
            .filter(|(seq, _)| *seq > after)
            .map(|(seq, i)| {
                let t = tags.remove(&i.id).unwrap_or_default();
                (seq, i, t)
            })
            .filter(|(_, i, t)| keep(i, t))
            .collect();
        return Ok(Page::of(items, limit));
    }
    let chunk = (limit + 1).clamp(64, 1000);
    let mut cursor = after;
    let mut items: Vec<(i64, Instance, Vec<Tag>)> = Vec::new();
    'scan: loop {
        let rows = tx.page_tagged::<Instance>(scope, cursor, chunk)?;
        let exhausted = rows.len() < chunk;
        for (seq, i, tag_rows) in rows {
            cursor = seq;
            let t: Vec<Tag> = tag_rows.into_iter().map(|r| Tag { key: r.key, value: r.value }).collect();
            if i.visible_at(now) && keep(&i, &t) {
                items.push((seq, i, t));
                if items.len() > limit {
                    break 'scan;
                }
            }
        }
        if exhausted {
            break;
        }
    }
    Ok(Page::of(items, limit))
}

/// Instance ids of a request: each well formed, without repeats, in the order given.
fn instance_ids(ids: Option<Vec<String>>) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for id in ids.unwrap_or_default() {
        inst::check_id(&id)?;
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

/// `MaxResults` of the instance listings: 5–1000, not with instance ids.
fn max_results(max: Option<i32>, with_ids: bool) -> ApiResult<usize> {
    match max {
        Some(_) if with_ids => Err(InstanceError::Combination(
            "The parameter instancesSet cannot be used with the parameter maxResults".into(),
        )
        .into()),
        Some(n) if n < 5 => Err(InstanceError::InvalidValue(format!(
            "Value ( {n} ) for parameter maxResults is invalid. Expecting a value greater than 5."
        ))
        .into()),
        Some(n) if n > 1000 => Err(InstanceError::InvalidValue(format!(
            "Value ( {n} ) for parameter maxResults is invalid. Expecting a value less than 1000."
        ))
        .into()),
        n => Ok(page_size(n)),
    }
}

// ----- RunInstances -----------------------------------------------------------------

/// The interface the launch asks for in `NetworkInterface.1`.
#[derive(Clone, Default)]
struct InterfaceAsk {
    existing: Option<String>,
    subnet_id: Option<String>,
    groups: Vec<String>,
    private_ip: Option<Ipv4Addr>,
    delete_on_termination: Option<bool>,
    description: String,
}

/// Everything `RunInstances` decided before its transaction.
struct Plan {
    image_id: String,
    platform: Platform,
    architecture: String,
    root_device_name: String,
    instance_type: String,
    min: u32,
    max: u32,
    zone: Option<String>,
    tenancy: String,
    subnet_id: Option<String>,
    private_ip: Option<Ipv4Addr>,
    group_ids: Vec<String>,
    group_names: Vec<String>,
    interface: Option<InterfaceAsk>,
    key_name: Option<String>,
    user_data: Option<String>,
    instance_tags: Vec<Tag>,
    interface_tags: Vec<Tag>,
    client_token: Option<String>,
    disable_api_termination: bool,
    disable_api_stop: bool,
    shutdown: ShutdownBehavior,
    ebs_optimized: bool,
    monitoring: bool,
    preference: Preference,
}

fn interface_ask(
    call: &Call,
    specs: Option<Vec<api::InstanceNetworkInterfaceSpecification>>,
) -> ApiResult<Option<InterfaceAsk>> {
    use api::InstanceNetworkInterfaceSpecificationMember as M;
    let specs = specs.unwrap_or_default();
    if specs.is_empty() {
        return Ok(None);
    }
    if specs.len() > 1 {
        return Err(ApiError::ec2_unsupported_parameter(call.operation, "NetworkInterface.2 (secondary interfaces)"));
    }
    let spec = specs.into_iter().next().expect("one");
    call.supported(
        &spec,
        &[
            M::DeviceIndex,
            M::NetworkInterfaceId,
            M::SubnetId,
            M::Groups,
            M::PrivateIpAddress,
            M::DeleteOnTermination,
            M::Description,
        ],
    )?;
    match spec.device_index {
        Some(0) => {}
        None => {
            return Err(InstanceError::Missing(
                "The request must contain the parameter NetworkInterface.1.DeviceIndex".into(),
            )
            .into());
        }
        Some(n) => {
            return Err(InstanceError::InvalidValue(format!(
                "Value ({n}) for parameter deviceIndex is invalid. The primary network interface must be at device index 0."
            ))
            .into());
        }
    }
    let private_ip = spec.private_ip_address.as_deref().map(interface::parse_address).transpose()?;
    if let Some(id) = &spec.network_interface_id {
        interface::check_id(id)?;
        if spec.subnet_id.is_some() || spec.groups.is_some() || private_ip.is_some() {
            return Err(InstanceError::Combination(
                "A network interface ID cannot be specified together with a subnet, security groups or a private IP address for the same interface.".into(),
            )
            .into());
        }
    }
    if let Some(s) = &spec.subnet_id {
        reservoir_domain::network::check_id(NetKind::Subnet, s)?;
    }
    let description = spec.description.unwrap_or_default();
    interface::check_description(&description)?;
    Ok(Some(InterfaceAsk {
        existing: spec.network_interface_id,
        subnet_id: spec.subnet_id,
        groups: spec.groups.unwrap_or_default(),
        private_ip,
        delete_on_termination: spec.delete_on_termination,
        description,
    }))
}

fn plan(call: &Call, input: api::RunInstancesRequest) -> ApiResult<Plan> {
    use api::RunInstancesRequestMember as M;
    call.supported(
        &input,
        &[
            M::ImageId,
            M::InstanceType,
            M::MinCount,
            M::MaxCount,
            M::Placement,
            M::SubnetId,
            M::PrivateIpAddress,
            M::SecurityGroupIds,
            M::SecurityGroups,
            M::NetworkInterfaces,
            M::KeyName,
            M::UserData,
            M::TagSpecifications,
            M::ClientToken,
            M::DisableApiTermination,
            M::DisableApiStop,
            M::InstanceInitiatedShutdownBehavior,
            M::EbsOptimized,
            M::Monitoring,
            M::CapacityReservationSpecification,
            M::DryRun,
        ],
    )?;
    let image_id = input
        .image_id
        .ok_or_else(|| InstanceError::Missing("The request must contain the parameter ImageId".into()))?;
    let state = &call.cx.state;
    let scope = &call.cx.scope;
    let mode: ImageMode = state.image_mode;
    let platform = state.images.launch_platform(&scope.region, scope.account.as_str(), &image_id, mode)?;
    let image = state.images.image(&scope.region, &image_id);
    let architecture = image.as_ref().map_or_else(|| "x86_64".to_string(), |i| i.architecture.clone());
    let root_device_name =
        image.as_ref().map_or_else(|| inst::root_device_name(platform).to_string(), |i| i.root_device_name.clone());
    let instance_type =
        input.instance_type.map_or_else(|| inst::DEFAULT_INSTANCE_TYPE.to_string(), |t| t.as_str().to_string());
    inst::check_instance_type(&instance_type)?;
    let (min, max) = inst::check_counts(input.min_count, input.max_count)?;
    let (mut zone, mut tenancy) = (None, "default".to_string());
    if let Some(p) = input.placement {
        use api::PlacementMember as P;
        call.supported(&p, &[P::AvailabilityZone, P::Tenancy, P::GroupName])?;
        if p.group_name.as_deref().is_some_and(|g| !g.is_empty()) {
            return Err(ApiError::ec2_unsupported_parameter(call.operation, "Placement.GroupName"));
        }
        if let Some(z) = p.availability_zone {
            let known = state
                .catalogue
                .region(&scope.region)
                .is_some_and(|r| r.zones.iter().any(|x| x.name == z && x.zone_type == "availability-zone"));
            if !known {
                return Err(InstanceError::InvalidValue(format!("Invalid availability zone: [{z}]")).into());
            }
            zone = Some(z);
        }
        match p.tenancy {
            None => {}
            Some(api::Tenancy::Host) => {
                return Err(ApiError::ec2_unsupported_parameter(call.operation, "Placement.Tenancy (host)"));
            }
            Some(t) => {
                inst::check_tenancy(t.as_str())?;
                tenancy = t.as_str().to_string();
            }
        }
    }
    let interface = interface_ask(call, input.network_interfaces)?;
    let private_ip = input.private_ip_address.as_deref().map(interface::parse_address).transpose()?;
    let group_ids = input.security_group_ids.unwrap_or_default();
    let group_names = input.security_groups.unwrap_or_default();
    for g in &group_ids {
        reservoir_domain::network::check_id(NetKind::SecurityGroup, g)?;
    }
    if let Some(s) = &input.subnet_id {
        reservoir_domain::network::check_id(NetKind::Subnet, s)?;
    }
    if interface.is_some() {
        if input.subnet_id.is_some() {
            return Err(InstanceError::Combination(
                "Network interfaces and an instance-level subnet ID may not be specified on the same request".into(),
            )
            .into());
        }
        if !group_ids.is_empty() || !group_names.is_empty() {
            return Err(InstanceError::Combination(
                "Network interfaces and an instance-level security groups may not be specified on the same request"
                    .into(),
            )
            .into());
        }
        if private_ip.is_some() {
            return Err(InstanceError::Combination(
                "Network interfaces and an instance-level private IP address should not be specified on the same request"
                    .into(),
            )
            .into());
        }
    }
    let fixed_address =
        private_ip.is_some() || interface.as_ref().is_some_and(|a| a.private_ip.is_some() || a.existing.is_some());
    if fixed_address && max > 1 {
        return Err(InstanceError::Combination(
            "A private IP address or an existing network interface can only be given when launching one instance (MaxCount 1).".into(),
        )
        .into());
    }
    if let Some(u) = &input.user_data {
        inst::check_user_data(u)?;
    }
    let shutdown = match input.instance_initiated_shutdown_behavior {
        None => ShutdownBehavior::Stop,
        Some(b) => ShutdownBehavior::parse(b.as_str())?,
    };
    let preference = preference_of(input.capacity_reservation_specification)?;
    // TagSpecifications: instance and network-interface (each applied to its resource).
    let mut instance_specs = Vec::new();
    let mut interface_specs = Vec::new();
    for spec in input.tag_specifications.unwrap_or_default() {
        match spec.resource_type.as_ref().map(|r| r.as_str()) {
            Some("network-interface") => interface_specs.push(spec),
            // A real resource type of RunInstances, but no volume family exists to hold
            // the tags: refused rather than dropped.
            Some("volume") => {
                return Err(ApiError::ec2_unsupported_parameter(call.operation, "TagSpecification (volume)"));
            }
            _ => instance_specs.push(spec),
        }
    }
    let instance_tags = tag_specifications(Some(instance_specs), ResourceKind::Instance)?;
    let interface_tags = tag_specifications(Some(interface_specs), ResourceKind::NetworkInterface)?;
    Ok(Plan {
        image_id,
        platform,
        architecture,
        root_device_name,
        instance_type,
        min,
        max,
        zone,
        tenancy,
        subnet_id: input.subnet_id,
        private_ip,
        group_ids,
        group_names,
        interface,
        key_name: input.key_name,
        user_data: input.user_data,
        instance_tags,
        interface_tags,
        client_token: input.client_token,
        disable_api_termination: input.disable_api_termination.unwrap_or(false),
        disable_api_stop: input.disable_api_stop.unwrap_or(false),
        shutdown,
        ebs_optimized: input.ebs_optimized.unwrap_or(false),
        monitoring: input.monitoring.and_then(|m| m.enabled).unwrap_or(false),
        preference,
    })
}

/// The subnet of a launch: given, else the default subnet of the zone asked for, else
/// the first default subnet in zone order. Without one: `MissingInput` when the default
/// VPC exists, `VPCIdNotSpecified` when there is none.
fn launch_subnet(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    given: Option<&str>,
    zone: Option<&str>,
    zones: &[String],
) -> ApiResult<Subnet> {
    if let Some(id) = given {
        let s = load_subnet(tx, scope, id)?;
        if let Some(z) = zone
            && z != s.availability_zone
        {
            return Err(InstanceError::InvalidValue(format!(
                "Value ({z}) for parameter availabilityZone is invalid. Subnet '{}' is in the availability zone {}",
                s.id, s.availability_zone
            ))
            .into());
        }
        return Ok(s);
    }
    let candidates: Vec<&str> = match zone {
        Some(z) => vec![z],
        None => zones.iter().map(String::as_str).collect(),
    };
    for z in &candidates {
        if let Some(id) = tx.get_alias(scope, DEFAULT_SUBNET_ALIAS, z)?
            && let Some(s) = tx.load::<Subnet>(scope, &id)?
        {
            return Ok(s);
        }
    }
    match super::vpcs::default_vpc(tx, scope)? {
        None => Err(InstanceError::NoDefaultVpc("No default VPC for this user".into()).into()),
        Some(v) => Err(InstanceError::NoDefaultSubnet(match zone {
            Some(z) => format!("No default subnet for availability zone: '{z}'."),
            None => format!("No subnets found for the default VPC '{}'. Please specify a subnet.", v.id),
        })
        .into()),
    }
}

/// Security group names of the default VPC to ids (`InvalidGroup.NotFound`).
fn group_ids_of_names(tx: &mut dyn ReadTx, scope: &Scope, subnet: &Subnet, names: &[String]) -> ApiResult<Vec<String>> {
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let default = super::vpcs::default_vpc(tx, scope)?;
    let Some(vpc) = default.filter(|v| v.id == subnet.vpc_id) else {
        return Err(InstanceError::Combination(
            "The parameter groupName cannot be used with the parameter subnet".into(),
        )
        .into());
    };
    let mut ids = Vec::with_capacity(names.len());
    for n in names {
        match tx.get_alias(scope, sg::NAME_NAMESPACE, &sg::name_key(&vpc.id, n))? {
            Some(id) => ids.push(id),
            None => {
                return Err(NetError::NotFound(NetKind::SecurityGroup, vec![n.clone()]).into());
            }
        }
    }
    Ok(ids)
}

fn is_address_shortage(e: &ApiError) -> bool {
    e.code() == "InsufficientFreeAddressesInSubnet"
}

/// EC2 `RunInstances`: between `MinCount` and `MaxCount` instances (as many as the
/// capacity and the subnet's addresses allow, at least `MinCount`, else none), each with
/// its primary interface. Answers the reservation with the instances `pending`; they are
/// stored `running`. Errors: `MissingParameter`, `InvalidAMIID.Malformed`,
/// `InvalidAMIID.NotFound` (`--images strict`), `InvalidParameterValue`,
/// `InvalidParameterCombination`, `InvalidSubnetID.*`, `InvalidGroup.NotFound`,
/// `InvalidGroupId.Malformed`, `InvalidKeyPair.NotFound`, `InvalidIPAddress.InUse`,
/// `InsufficientFreeAddressesInSubnet`, `InvalidNetworkInterfaceID.*`,
/// `InvalidNetworkInterface.InUse`, `VPCIdNotSpecified`, `MissingInput`, capacity
/// reservation errors, `TagLimitExceeded`, `IdempotentParameterMismatch`,
/// `DryRunOperation`.
pub async fn run_instances(call: &Call, input: api::RunInstancesRequest) -> ApiResult<Encoded> {
    let dry_run = input.dry_run.unwrap_or(false);
    let token = input.client_token.clone();
    let plan = Arc::new(plan(call, input)?);
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    let quotas = call.cx.state.quotas.clone();
    let zones: Vec<String> = call
        .cx
        .state
        .catalogue
        .region(&scope.region)
        .map(|r| r.zones.iter().filter(|z| z.zone_type == "availability-zone").map(|z| z.name.clone()).collect())
        .unwrap_or_default();
    idempotent(call, token, dry_run, move |tx| {
        purge_expired(tx, &scope, now, PURGE_BATCH)?;
        let p = &*plan;
        // Where: the existing interface's subnet, the interface's, the request's, or a default one.
        let mut existing: Option<NetworkInterface> = match p.interface.as_ref().and_then(|a| a.existing.as_deref()) {
            Some(id) => Some(ifaces::load_interface(tx, &scope, id)?),
            None => None,
        };
        let subnet_given = existing
            .as_ref()
            .map(|e| e.subnet_id.clone())
            .or_else(|| p.interface.as_ref().and_then(|a| a.subnet_id.clone()))
            .or_else(|| p.subnet_id.clone());
        let subnet = launch_subnet(tx, &scope, subnet_given.as_deref(), p.zone.as_deref(), &zones)?;
        let mut groups: Vec<String> = p.interface.as_ref().map(|a| a.groups.clone()).unwrap_or_default();
        groups.extend(p.group_ids.iter().cloned());
        for id in group_ids_of_names(tx, &scope, &subnet, &p.group_names)? {
            if !groups.contains(&id) {
                groups.push(id);
            }
        }
        if let Some(k) = &p.key_name
            && tx.get_alias(&scope, super::key_pairs::NAME_ALIAS, k)?.is_none()
        {
            return Err(KeyPairError::NotFound(vec![k.clone()]).into());
        }
        let zone_id = subnet.availability_zone_id.clone();
        let reservation_id = ResourceKind::Reservation.new_id(&mut OsRandom);
        let launch = Launch {
            instance_type: &p.instance_type,
            platform: p.platform.details(),
            zone: &subnet.availability_zone,
            tenancy: &p.tenancy,
        };
        let primary_ip = p.private_ip.or_else(|| p.interface.as_ref().and_then(|a| a.private_ip));
        let description = p.interface.as_ref().map(|a| a.description.clone()).unwrap_or_default();
        let mut launched: Vec<(Instance, NetworkInterface)> = Vec::new();
        for n in 0..p.max {
            let id = ResourceKind::Instance.new_id(&mut OsRandom);
            let held = match occupy_in_tx(tx, &scope, &id, &launch, &p.preference, now) {
                Ok(h) => h,
                Err(e) if is_capacity_shortage(&e) && n >= p.min => break,
                Err(e) => return Err(e),
            };
            let (mut eni, delete_on_termination) = match existing.take() {
                Some(e) => (e, p.interface.as_ref().and_then(|a| a.delete_on_termination).unwrap_or(false)),
                None => {
                    let made = ifaces::create_in_tx(
                        tx,
                        &scope,
                        &subnet,
                        primary_ip,
                        &groups,
                        &description,
                        &p.interface_tags,
                        quotas.security_groups_per_interface,
                        quotas.network_interfaces_per_region,
                        now,
                    );
                    match made {
                        Ok(e) => (e, p.interface.as_ref().and_then(|a| a.delete_on_termination).unwrap_or(true)),
                        Err(e) if is_address_shortage(&e) && n >= p.min => {
                            if let Some(h) = &held {
                                release_in_tx(tx, &scope, &id, h)?;
                            }
                            break;
                        }
                        Err(e) => return Err(e),
                    }
                }
            };
            let view = InstanceView {
                id: id.clone(),
                owner: scope.account.clone(),
                availability_zone: subnet.availability_zone.clone(),
                accepts_interfaces: true,
                used_slots: Vec::new(),
            };
            let a = attach_in_tx(tx, &scope, &mut eni, &view, 0, 0, now)?;
            if delete_on_termination {
                interface::set_delete_on_termination(&mut eni, &a.id, true)?;
                tx.save(&scope, &eni)?;
            }
            let i = Instance {
                id: id.clone(),
                reservation_id: reservation_id.clone(),
                owner: scope.account.clone(),
                region: scope.region.clone(),
                image_id: p.image_id.clone(),
                instance_type: p.instance_type.clone(),
                platform: p.platform,
                architecture: p.architecture.clone(),
                root_device_name: p.root_device_name.clone(),
                root_volume_id: format!("vol-{}", &id[2..]),
                key_name: p.key_name.clone(),
                launch_index: n,
                launch_time: now,
                availability_zone: subnet.availability_zone.clone(),
                availability_zone_id: zone_id.clone(),
                tenancy: p.tenancy.clone(),
                subnet_id: subnet.id.clone(),
                vpc_id: subnet.vpc_id.clone(),
                private_ip: eni.primary_address(),
                primary_interface: eni.id.clone(),
                groups: eni.groups.clone(),
                interfaces: vec![Slot { card: 0, device: 0, interface_id: eni.id.clone() }],
                user_data: p.user_data.clone(),
                client_token: p.client_token.clone(),
                disable_api_termination: p.disable_api_termination,
                disable_api_stop: p.disable_api_stop,
                shutdown_behavior: p.shutdown,
                ebs_optimized: p.ebs_optimized,
                monitoring: p.monitoring,
                state: InstanceState::Running,
                state_changed: now,
                transition_reason: String::new(),
                capacity_preference: p.preference.clone(),
                capacity: held,
            };
            tx.create(&scope, &i)?;
            put_tags(tx, &scope, &i.id, ResourceKind::Instance, &p.instance_tags)?;
            launched.push((i, eni));
        }
        let instances: Vec<api::Instance> = launched
            .iter()
            .map(|(i, e)| to_wire(i, std::slice::from_ref(e), p.instance_tags.clone(), InstanceState::Pending))
            .collect();
        Ok(Encoded::of(&api::Reservation {
            reservation_id: Some(reservation_id),
            owner_id: Some(scope.account.as_str().to_string()),
            requester_id: None,
            groups: Some(Vec::new()),
            instances: Some(instances),
        }))
    })
    .await
}

// ----- DescribeInstances / DescribeInstanceStatus ------------------------------------

/// EC2 `DescribeInstances`: by `InstanceId.N` (each must exist and be visible) and/or
/// filters, in launch order, grouped in reservations; `MaxResults` (5–1000, not with
/// instance ids) counts instances. Errors: `InvalidInstanceID.Malformed`,
/// `InvalidInstanceID.NotFound`, `InvalidParameterValue`, `InvalidParameterCombination`,
/// `InvalidNextToken`, `FilterLimitExceeded`, `DryRunOperation`.
pub async fn describe_instances(
    call: &Call,
    input: api::DescribeInstancesRequest,
) -> ApiResult<api::DescribeInstancesResult> {
    use api::DescribeInstancesRequestMember as M;
    call.supported(&input, &[M::InstanceIds, M::Filters, M::MaxResults, M::NextToken, M::DryRun])?;
    let filters: FilterSet = filter_set(input.filters, &inst::FILTERS)?;
    let ids = instance_ids(input.instance_ids)?;
    let limit = max_results(input.max_results, !ids.is_empty())?;
    let after = call.seq_cursor(input.next_token.as_deref())?;
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    let (items, next) = call
        .read(move |tx| {
            let keep = |i: &Instance, t: &[Tag]| filters.matches(i as &dyn Filterable, t);
            let page = listing(tx, &scope, &ids, &keep, after, limit, now)?;
            let mut out = Vec::with_capacity(page.items.len());
            for (_, i, t) in page.items {
                let ifs = interfaces_of(tx, &scope, &i)?;
                let w = to_wire(&i, &ifs, t, i.state);
                out.push((i, w));
            }
            Ok((out, page.next))
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(api::DescribeInstancesResult {
        next_token: next.map(|seq| call.next_token(&seq.to_string())),
        reservations: Some(reservations(items)),
    })
}

fn status_wire(i: &Instance) -> api::InstanceStatus {
    let (status, detail) = inst::status_summary(i.state);
    let summary = || api::InstanceStatusSummary {
        details: (!detail.is_empty()).then(|| {
            vec![api::InstanceStatusDetails {
                impaired_since: None,
                name: Some(api::StatusName::Reachability),
                status: Some(api::StatusType::from_wire(detail)),
            }]
        }),
        status: Some(api::SummaryStatus::from_wire(status)),
    };
    api::InstanceStatus {
        availability_zone: Some(i.availability_zone.clone()),
        availability_zone_id: Some(i.availability_zone_id.clone()),
        outpost_arn: None,
        operator: Some(api::OperatorResponse { managed: Some(false), principal: None, hidden_by_default: None }),
        events: None,
        instance_id: Some(i.id.clone()),
        instance_state: Some(wire_state(i.state)),
        instance_status: Some(summary()),
        system_status: Some(summary()),
        attached_ebs_status: None,
    }
}

/// EC2 `DescribeInstanceStatus`: running instances (every visible one with
/// `IncludeAllInstances`), their status checks `ok` once running, filters, paging as
/// `DescribeInstances`.
pub async fn describe_instance_status(
    call: &Call,
    input: api::DescribeInstanceStatusRequest,
) -> ApiResult<api::DescribeInstanceStatusResult> {
    use api::DescribeInstanceStatusRequestMember as M;
    call.supported(
        &input,
        &[M::InstanceIds, M::Filters, M::MaxResults, M::NextToken, M::DryRun, M::IncludeAllInstances],
    )?;
    let filters: FilterSet = filter_set(input.filters, &inst::STATUS_FILTERS)?;
    let ids = instance_ids(input.instance_ids)?;
    let limit = max_results(input.max_results, !ids.is_empty())?;
    let after = call.seq_cursor(input.next_token.as_deref())?;
    let all = input.include_all_instances == Some(true);
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    let (items, next) = call
        .read(move |tx| {
            let keep = |i: &Instance, _: &[Tag]| {
                (all || i.state == InstanceState::Running) && filters.matches_untagged(&StatusView(i))
            };
            let page = listing(tx, &scope, &ids, &keep, after, limit, now)?;
            Ok((page.items.into_iter().map(|(_, i, _)| status_wire(&i)).collect::<Vec<_>>(), page.next))
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    Ok(api::DescribeInstanceStatusResult {
        instance_statuses: Some(items),
        next_token: next.map(|seq| call.next_token(&seq.to_string())),
    })
}

// ----- Stop / Start / Terminate ------------------------------------------------------

#[derive(Clone, Copy)]
enum Change {
    Stop,
    Start,
    Terminate,
}

fn required_ids(ids: Option<Vec<String>>) -> ApiResult<Vec<String>> {
    let ids = instance_ids(ids)?;
    if ids.is_empty() {
        return Err(InstanceError::Missing("The request must contain the parameter InstanceId".into()).into());
    }
    Ok(ids)
}

/// Applies one state change to every instance named, all or nothing.
async fn change_states(
    call: &Call,
    ids: Vec<String>,
    dry_run: bool,
    change: Change,
) -> ApiResult<Vec<api::InstanceStateChange>> {
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    call.write(dry_run, move |tx| {
        purge_expired(tx, &scope, now, PURGE_BATCH + ids.len())?;
        let mut found = Vec::with_capacity(ids.len());
        let mut missing = Vec::new();
        for id in &ids {
            match tx.load::<Instance>(&scope, id)? {
                Some(i) if i.visible_at(now) => found.push(i),
                _ => missing.push(id.clone()),
            }
        }
        if !missing.is_empty() {
            return Err(inst::not_found(missing).into());
        }
        let mut out = Vec::with_capacity(found.len());
        for mut i in found {
            let (previous, shown) = match change {
                Change::Stop => inst::stop(&mut i, now)?,
                Change::Start => inst::start(&mut i, now)?,
                Change::Terminate => inst::terminate(&mut i, now)?,
            };
            if previous != shown {
                if !i.state.occupies()
                    && let Some(h) = i.capacity.take()
                {
                    release_in_tx(tx, &scope, &i.id, &h)?;
                }
                if let Change::Start = change {
                    let launch = Launch {
                        instance_type: &i.instance_type,
                        platform: i.platform.details(),
                        zone: &i.availability_zone,
                        tenancy: &i.tenancy,
                    };
                    i.capacity = occupy_in_tx(tx, &scope, &i.id, &launch, &i.capacity_preference, now)?;
                }
                if let Change::Terminate = change {
                    for s in std::mem::take(&mut i.interfaces) {
                        ifaces::release_for_termination_in_tx(tx, &scope, &s.interface_id)?;
                    }
                    tx.put_expiry(&scope, KIND, &i.id, now.millis() + inst::TERMINATED_VISIBLE_MS)?;
                }
                save_instance(tx, &scope, &i)?;
            }
            out.push(api::InstanceStateChange {
                instance_id: Some(i.id.clone()),
                current_state: Some(wire_state(shown)),
                previous_state: Some(wire_state(previous)),
            });
        }
        Ok(out)
    })
    .await
}

/// EC2 `StopInstances`: running → `stopping` (stored stopped), giving back a capacity
/// slot. `Hibernate` is refused (no instance is launched with hibernation):
/// `UnsupportedHibernationConfiguration`. Errors: `InvalidInstanceID.*`,
/// `IncorrectInstanceState`, `OperationNotPermitted` (`disableApiStop`), `DryRunOperation`.
pub async fn stop_instances(call: &Call, input: api::StopInstancesRequest) -> ApiResult<api::StopInstancesResult> {
    use api::StopInstancesRequestMember as M;
    call.supported(&input, &[M::InstanceIds, M::Hibernate, M::Force, M::SkipOsShutdown, M::DryRun])?;
    let ids = required_ids(input.instance_ids)?;
    if input.hibernate == Some(true) {
        return Err(InstanceError::Hibernation(format!(
            "For hibernation, the instance must be launched with hibernation configured: {} was not.",
            ids.join(", ")
        ))
        .into());
    }
    let changes = change_states(call, ids, input.dry_run.unwrap_or(false), Change::Stop).await?;
    Ok(api::StopInstancesResult { stopping_instances: Some(changes) })
}

/// EC2 `StartInstances`: stopped → `pending` (stored running), taking a capacity slot
/// again when its preference finds one. Errors: `InvalidInstanceID.*`,
/// `IncorrectInstanceState`, capacity errors, `DryRunOperation`.
pub async fn start_instances(call: &Call, input: api::StartInstancesRequest) -> ApiResult<api::StartInstancesResult> {
    use api::StartInstancesRequestMember as M;
    call.supported(&input, &[M::InstanceIds, M::AdditionalInfo, M::DryRun])?;
    let ids = required_ids(input.instance_ids)?;
    let changes = change_states(call, ids, input.dry_run.unwrap_or(false), Change::Start).await?;
    Ok(api::StartInstancesResult { starting_instances: Some(changes) })
}

/// EC2 `TerminateInstances`: → `shutting-down` (stored terminated, visible for an
/// hour); its interfaces are deleted (`DeleteOnTermination`) or detached, their
/// addresses freed; the capacity slot is given back. Errors: `InvalidInstanceID.*`,
/// `OperationNotPermitted` (`disableApiTermination`), `DryRunOperation`.
pub async fn terminate_instances(
    call: &Call,
    input: api::TerminateInstancesRequest,
) -> ApiResult<api::TerminateInstancesResult> {
    use api::TerminateInstancesRequestMember as M;
    call.supported(&input, &[M::InstanceIds, M::Force, M::SkipOsShutdown, M::DryRun])?;
    let ids = required_ids(input.instance_ids)?;
    let changes = change_states(call, ids, input.dry_run.unwrap_or(false), Change::Terminate).await?;
    Ok(api::TerminateInstancesResult { terminating_instances: Some(changes) })
}

// ----- Attributes -------------------------------------------------------------------

fn text(v: impl Into<String>) -> Option<api::AttributeValue> {
    Some(api::AttributeValue { value: Some(v.into()) })
}

fn flag(v: bool) -> Option<api::AttributeBooleanValue> {
    Some(api::AttributeBooleanValue { value: Some(v) })
}

fn unknown_attribute(name: &str) -> ApiError {
    InstanceError::InvalidValue(format!("Value ({name}) for parameter attribute is invalid. Unknown attribute.")).into()
}

/// EC2 `DescribeInstanceAttribute`: one attribute of an instance (`kernel` and
/// `ramdisk` are empty, `productCodes` none, `sriovNetSupport` `simple`, `enaSupport`
/// true). Errors: `MissingParameter`, `InvalidParameterValue`, `InvalidInstanceID.*`,
/// `DryRunOperation`.
pub async fn describe_instance_attribute(
    call: &Call,
    input: api::DescribeInstanceAttributeRequest,
) -> ApiResult<api::InstanceAttribute> {
    use api::DescribeInstanceAttributeRequestMember as M;
    call.supported(&input, &[M::InstanceId, M::Attribute, M::DryRun])?;
    let id = input
        .instance_id
        .ok_or_else(|| InstanceError::Missing("The request must contain the parameter InstanceId".into()))?;
    inst::check_id(&id)?;
    let attribute = input
        .attribute
        .ok_or_else(|| InstanceError::Missing("The request must contain the parameter Attribute".into()))?;
    if let api::InstanceAttributeName::Unknown(v) = &attribute {
        return Err(unknown_attribute(v));
    }
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    let (i, primary) = call
        .read(move |tx| {
            let i = find_instance(tx, &scope, &id, now)?;
            let primary = tx.load::<NetworkInterface>(&scope, &i.primary_interface)?;
            Ok((i, primary))
        })
        .await?;
    if input.dry_run == Some(true) {
        return Err(ApiError::dry_run());
    }
    use api::InstanceAttributeName as A;
    let mut out = api::InstanceAttribute { instance_id: Some(i.id.clone()), ..Default::default() };
    match attribute {
        A::InstanceType => out.instance_type = text(i.instance_type.clone()),
        A::Kernel => out.kernel_id = Some(api::AttributeValue { value: None }),
        A::Ramdisk => out.ramdisk_id = Some(api::AttributeValue { value: None }),
        A::UserData => out.user_data = Some(api::AttributeValue { value: i.user_data.clone() }),
        A::DisableApiTermination => out.disable_api_termination = flag(i.disable_api_termination),
        A::DisableApiStop => out.disable_api_stop = flag(i.disable_api_stop),
        A::InstanceInitiatedShutdownBehavior => {
            out.instance_initiated_shutdown_behavior = text(i.shutdown_behavior.as_str())
        }
        A::RootDeviceName => out.root_device_name = text(i.root_device_name.clone()),
        A::BlockDeviceMapping => out.block_device_mappings = Some(root_mapping(&i)),
        A::ProductCodes => out.product_codes = Some(Vec::new()),
        A::SourceDestCheck => out.source_dest_check = flag(primary.as_ref().is_none_or(|e| e.source_dest_check)),
        A::GroupSet => {
            out.groups = Some(groups_wire(primary.as_ref().map_or(&i.groups, |e| &e.groups)));
        }
        A::EbsOptimized => out.ebs_optimized = flag(i.ebs_optimized),
        A::SriovNetSupport => out.sriov_net_support = text("simple"),
        A::EnaSupport => out.ena_support = flag(true),
        A::EnclaveOptions => out.enclave_options = Some(api::EnclaveOptions { enabled: Some(false) }),
        A::Unknown(v) => return Err(unknown_attribute(&v)),
    }
    Ok(out)
}

/// One change of `ModifyInstanceAttribute`.
#[derive(Debug, Clone)]
enum AttrChange {
    InstanceType(String),
    UserData(String),
    DisableApiTermination(bool),
    DisableApiStop(bool),
    Shutdown(ShutdownBehavior),
    SourceDestCheck(bool),
    Groups(Vec<String>),
    EbsOptimized(bool),
}

fn bool_value(name: &str, v: Option<bool>) -> ApiResult<bool> {
    v.ok_or_else(|| InstanceError::Missing(format!("The request must contain the parameter {name}.Value")).into())
}

fn parse_bool(name: &str, v: &str) -> ApiResult<bool> {
    match v {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(InstanceError::InvalidValue(format!(
            "Value ({v}) for parameter {name} is invalid. Expected 'true' or 'false'."
        ))
        .into()),
    }
}

/// The change of an `Attribute` + `Value` request.
fn attribute_change(
    call: &Call,
    attribute: api::InstanceAttributeName,
    value: Option<String>,
) -> ApiResult<AttrChange> {
    use api::InstanceAttributeName as A;
    let name = attribute.as_str().to_string();
    let value = value.ok_or_else(|| InstanceError::Missing("The request must contain the parameter Value".into()))?;
    Ok(match attribute {
        A::InstanceType => {
            inst::check_instance_type(&value)?;
            AttrChange::InstanceType(value)
        }
        A::UserData => {
            let b64 = base64::engine::general_purpose::STANDARD.encode(value.as_bytes());
            inst::check_user_data_len(value.len())?;
            AttrChange::UserData(b64)
        }
        A::DisableApiTermination => AttrChange::DisableApiTermination(parse_bool(&name, &value)?),
        A::DisableApiStop => AttrChange::DisableApiStop(parse_bool(&name, &value)?),
        A::InstanceInitiatedShutdownBehavior => AttrChange::Shutdown(ShutdownBehavior::parse(&value)?),
        A::SourceDestCheck => AttrChange::SourceDestCheck(parse_bool(&name, &value)?),
        A::EbsOptimized => AttrChange::EbsOptimized(parse_bool(&name, &value)?),
        A::Kernel | A::Ramdisk | A::SriovNetSupport | A::EnaSupport | A::BlockDeviceMapping => {
            return Err(ApiError::ec2_unsupported_parameter(call.operation, &format!("Attribute ({name})")));
        }
        A::GroupSet => {
            return Err(InstanceError::Missing("The request must contain the parameter GroupId.N".into()).into());
        }
        A::RootDeviceName | A::ProductCodes | A::EnclaveOptions => {
            return Err(InstanceError::InvalidValue(format!(
                "Value ({name}) for parameter attribute is invalid. This attribute cannot be modified."
            ))
            .into());
        }
        A::Unknown(v) => return Err(unknown_attribute(&v)),
    })
}

/// EC2 `ModifyInstanceAttribute`, in either form (`Attribute` + `Value`, or one typed
/// member): `instanceType`, `userData` and `ebsOptimized` only while stopped
/// (`IncorrectInstanceState`), `disableApiTermination`, `disableApiStop`,
/// `instanceInitiatedShutdownBehavior`, `sourceDestCheck` and `groupSet` (the primary
/// interface's). Errors: `MissingParameter`, `InvalidParameterValue`,
/// `InvalidParameterCombination`, `InvalidInstanceID.*`, `IncorrectInstanceState`,
/// `InvalidGroup.NotFound`, `DryRunOperation`.
pub async fn modify_instance_attribute(call: &Call, input: api::ModifyInstanceAttributeRequest) -> ApiResult<()> {
    use api::ModifyInstanceAttributeRequestMember as M;
    call.supported(
        &input,
        &[
            M::InstanceId,
            M::Attribute,
            M::Value,
            M::SourceDestCheck,
            M::DisableApiStop,
            M::DisableApiTermination,
            M::InstanceType,
            M::UserData,
            M::InstanceInitiatedShutdownBehavior,
            M::Groups,
            M::EbsOptimized,
            M::DryRun,
        ],
    )?;
    let id = input
        .instance_id
        .ok_or_else(|| InstanceError::Missing("The request must contain the parameter InstanceId".into()))?;
    inst::check_id(&id)?;
    let mut changes: Vec<(&str, AttrChange)> = Vec::new();
    if let Some(v) = input.source_dest_check {
        changes.push(("sourceDestCheck", AttrChange::SourceDestCheck(bool_value("SourceDestCheck", v.value)?)));
    }
    if let Some(v) = input.disable_api_stop {
        changes.push(("disableApiStop", AttrChange::DisableApiStop(bool_value("DisableApiStop", v.value)?)));
    }
    if let Some(v) = input.disable_api_termination {
        changes.push((
            "disableApiTermination",
            AttrChange::DisableApiTermination(bool_value("DisableApiTermination", v.value)?),
        ));
    }
    if let Some(v) = input.ebs_optimized {
        changes.push(("ebsOptimized", AttrChange::EbsOptimized(bool_value("EbsOptimized", v.value)?)));
    }
    if let Some(v) = input.instance_type {
        let t = v.value.ok_or_else(|| {
            InstanceError::Missing("The request must contain the parameter InstanceType.Value".into())
        })?;
        inst::check_instance_type(&t)?;
        changes.push(("instanceType", AttrChange::InstanceType(t)));
    }
    if let Some(v) = input.user_data {
        let raw = v.value.unwrap_or_default();
        inst::check_user_data_len(raw.len())?;
        changes.push(("userData", AttrChange::UserData(base64::engine::general_purpose::STANDARD.encode(raw))));
    }
    if let Some(v) = input.instance_initiated_shutdown_behavior {
        let b = v.value.ok_or_else(|| {
            InstanceError::Missing(
                "The request must contain the parameter InstanceInitiatedShutdownBehavior.Value".into(),
            )
        })?;
        changes.push(("instanceInitiatedShutdownBehavior", AttrChange::Shutdown(ShutdownBehavior::parse(&b)?)));
    }
    if let Some(g) = input.groups {
        for id in &g {
            reservoir_domain::network::check_id(NetKind::SecurityGroup, id)?;
        }
        changes.push(("groupSet", AttrChange::Groups(g)));
    }
    if let Some(a) = input.attribute {
        changes.push(("attribute", attribute_change(call, a, input.value)?));
    } else if input.value.is_some() {
        return Err(InstanceError::Missing("The request must contain the parameter Attribute".into()).into());
    }
    let change = match changes.len() {
        0 => {
            return Err(InstanceError::Missing(
                "The request must contain the parameter Attribute or one of the attribute members".into(),
            )
            .into());
        }
        1 => changes.pop().expect("one").1,
        _ => {
            let names: Vec<&str> = changes.iter().map(|(n, _)| *n).collect();
            return Err(InstanceError::Combination(format!(
                "Fields for multiple attribute types specified: {}",
                names.join(", ")
            ))
            .into());
        }
    };
    let scope = call.cx.scope.clone();
    let now = call.cx.now;
    let quota = call.cx.state.quotas.security_groups_per_interface;
    call.write(input.dry_run.unwrap_or(false), move |tx| {
        let mut i = find_instance(tx, &scope, &id, now)?;
        if i.state == InstanceState::Terminated {
            return Err(InstanceError::IncorrectState(format!(
                "The instance '{}' is not in a state from which its attributes can be modified.",
                i.id
            ))
            .into());
        }
        match &change {
            AttrChange::InstanceType(t) => {
                inst::check_stopped_for(&i, "instanceType")?;
                i.instance_type = t.clone();
            }
            AttrChange::UserData(u) => {
                inst::check_stopped_for(&i, "userData")?;
                i.user_data = Some(u.clone());
            }
            AttrChange::EbsOptimized(v) => {
                inst::check_stopped_for(&i, "ebsOptimized")?;
                i.ebs_optimized = *v;
            }
            AttrChange::DisableApiTermination(v) => i.disable_api_termination = *v,
            AttrChange::DisableApiStop(v) => i.disable_api_stop = *v,
            AttrChange::Shutdown(b) => i.shutdown_behavior = *b,
            AttrChange::SourceDestCheck(v) => {
                if let Some(mut e) = tx.load::<NetworkInterface>(&scope, &i.primary_interface)? {
                    e.source_dest_check = *v;
                    tx.save(&scope, &e)?;
                }
            }
            AttrChange::Groups(ids) => {
                let mut e = ifaces::load_interface(tx, &scope, &i.primary_interface)?;
                i.groups = ifaces::set_groups_in_tx(tx, &scope, &mut e, ids, quota)?;
            }
        }
        save_instance(tx, &scope, &i)?;
        Ok(())
    })
    .await
}
