//! Elastic network interfaces.
//!
//! What Reservoir models (EC2 API reference `CreateNetworkInterface`,
//! `DescribeNetworkInterfaces`, `DeleteNetworkInterface`, `AttachNetworkInterface`,
//! `DetachNetworkInterface`, `AssignPrivateIpAddresses`, `UnassignPrivateIpAddresses`,
//! `ModifyNetworkInterfaceAttribute`; Amazon EC2 User Guide, "Elastic network
//! interfaces"):
//! * an interface lives in one subnet (its stored parent), so in that subnet's VPC and
//!   Availability Zone;
//! * it has one primary private IPv4 address and any number of secondary ones, each
//!   taken from the subnet's address space (the subnet family decides which are free);
//!   the primary one cannot be unassigned and lives as long as the interface;
//! * IPv6 addresses come from the subnet's IPv6 /64 when it has one;
//! * security groups of its VPC (at least one: the VPC's default group when none is
//!   given);
//! * a MAC address `02:xx:xx:xx:xx:xx` (locally administered, random), a private DNS
//!   name derived from the primary address and the Region;
//! * at most one attachment to an instance (`eni-attach-…`, device index, status,
//!   attach time, delete-on-termination); its status is `in-use` while attached,
//!   `available` otherwise. [`attach`] and [`detach`] hold the rules the instance family
//!   calls too.

use std::net::{Ipv4Addr, Ipv6Addr};

use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::filter::{FilterSchema, Filterable};
use crate::ids::{Random, ResourceKind};
use crate::network::{NetError, NetKind, NetLimit};
use crate::time::Timestamp;

/// The longest description AWS accepts.
pub const MAX_DESCRIPTION: usize = 255;
/// The interface type Reservoir makes (the default of `CreateNetworkInterface`).
pub const INTERFACE_TYPE: &str = "interface";

/// A private IPv4 address of an interface.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrivateAddress {
    pub address: Ipv4Addr,
    pub primary: bool,
    /// The Elastic IP associated with this address, if any (see `address`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub association: Option<PublicAssociation>,
}

impl PrivateAddress {
    pub fn new(address: Ipv4Addr, primary: bool) -> PrivateAddress {
        PrivateAddress { address, primary, association: None }
    }
}

/// An Elastic IP associated with a private address, as the interface shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicAssociation {
    pub allocation_id: String,
    pub association_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<Ipv4Addr>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_owned_ip: Option<Ipv4Addr>,
    pub ip_owner: AccountId,
}

/// A security group an interface uses (group names never change, so the name is kept).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupRef {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttachmentStatus {
    Attaching,
    Attached,
    Detaching,
    Detached,
}

impl AttachmentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AttachmentStatus::Attaching => "attaching",
            AttachmentStatus::Attached => "attached",
            AttachmentStatus::Detaching => "detaching",
            AttachmentStatus::Detached => "detached",
        }
    }
}

/// An interface's attachment to an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: String,
    pub instance_id: String,
    pub instance_owner: AccountId,
    pub device_index: u32,
    pub network_card_index: u32,
    pub status: AttachmentStatus,
    pub attach_time: Timestamp,
    pub delete_on_termination: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkInterface {
    pub id: String,
    pub owner: AccountId,
    pub subnet_id: String,
    pub vpc_id: String,
    pub availability_zone: String,
    pub availability_zone_id: String,
    pub region: String,
    pub description: String,
    pub mac_address: String,
    /// The primary address first, then the secondary ones in the order assigned.
    pub private_addresses: Vec<PrivateAddress>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ipv6_addresses: Vec<Ipv6Addr>,
    pub groups: Vec<GroupRef>,
    pub source_dest_check: bool,
    pub requester_managed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requester_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
    pub created: Timestamp,
}

impl NetworkInterface {
    pub fn primary_address(&self) -> Ipv4Addr {
        self.private_addresses.iter().find(|a| a.primary).map_or(Ipv4Addr::UNSPECIFIED, |a| a.address)
    }

    /// `available` when detached, `in-use` when attached.
    pub fn status(&self) -> &'static str {
        if self.attachment.is_some() { "in-use" } else { "available" }
    }

    pub fn private_dns_name(&self) -> String {
        private_dns_name(&self.region, self.primary_address())
    }

    /// The Elastic IPs associated with the interface's addresses.
    pub fn associations(&self) -> impl Iterator<Item = &PublicAssociation> {
        self.private_addresses.iter().filter_map(|a| a.association.as_ref())
    }

    pub fn holds(&self, address: Ipv4Addr) -> bool {
        self.private_addresses.iter().any(|a| a.address == address)
    }
}

/// `ip-10-0-1-5.ec2.internal` in us-east-1, `ip-10-0-1-5.<region>.compute.internal`
/// elsewhere (Amazon VPC User Guide, "DNS attributes for your VPC").
pub fn private_dns_name(region: &str, address: Ipv4Addr) -> String {
    let dashed = address.to_string().replace('.', "-");
    if region == "us-east-1" {
        format!("ip-{dashed}.ec2.internal")
    } else {
        format!("ip-{dashed}.{region}.compute.internal")
    }
}

/// A random locally administered unicast MAC address, `02:` then five random octets.
pub fn mac_address(rng: &mut dyn Random) -> String {
    let mut bytes = [0u8; 5];
    rng.fill(&mut bytes);
    let mut out = String::from("02");
    for b in bytes {
        out.push_str(&format!(":{b:02x}"));
    }
    out
}

pub fn check_id(id: &str) -> Result<(), NetError> {
    crate::network::check_id(NetKind::NetworkInterface, id)
}

pub fn check_description(text: &str) -> Result<(), NetError> {
    if text.chars().count() > MAX_DESCRIPTION {
        return Err(NetError::InvalidValue(format!(
            "Value for parameter description is invalid. The description must be at most {MAX_DESCRIPTION} characters long."
        )));
    }
    Ok(())
}

/// Parses a private IPv4 address given by the caller.
pub fn parse_address(text: &str) -> Result<Ipv4Addr, NetError> {
    text.parse::<Ipv4Addr>().map_err(|_| {
        NetError::InvalidValue(format!("Value ({text}) for parameter privateIpAddress is invalid. Invalid format."))
    })
}

/// Parses an IPv6 address given by the caller.
pub fn parse_ipv6(text: &str) -> Result<Ipv6Addr, NetError> {
    text.parse::<Ipv6Addr>().map_err(|_| {
        NetError::InvalidValue(format!("Value ({text}) for parameter ipv6Address is invalid. Invalid format."))
    })
}

/// The private IPv4 addresses a `CreateNetworkInterface` asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPlan {
    /// The primary address, when chosen by the caller.
    pub primary: Option<Ipv4Addr>,
    /// Secondary addresses chosen by the caller.
    pub secondaries: Vec<Ipv4Addr>,
    /// Secondary addresses to choose automatically.
    pub secondary_count: u32,
}

impl AddressPlan {
    pub fn total(&self) -> usize {
        1 + self.secondaries.len() + self.secondary_count as usize
    }
}

/// Reads `PrivateIpAddress`, `PrivateIpAddresses.N` (`(Primary, PrivateIpAddress)`) and
/// `SecondaryPrivateIpAddressCount` as AWS documents them: one primary at most (given
/// by `PrivateIpAddress` or marked `Primary` in the list, not both unless they agree);
/// a count cannot come with more than one listed address; no address twice. When the
/// list marks no primary and `PrivateIpAddress` is absent, its first address is the
/// primary.
pub fn plan_addresses(
    private_ip_address: Option<&str>,
    list: &[(Option<bool>, Option<String>)],
    secondary_count: Option<i32>,
) -> Result<AddressPlan, NetError> {
    let given = private_ip_address.map(parse_address).transpose()?;
    let mut listed = Vec::with_capacity(list.len());
    for (primary, addr) in list {
        let text = addr.as_deref().ok_or_else(|| {
            NetError::Missing("The request must contain the parameter PrivateIpAddresses.N.PrivateIpAddress".into())
        })?;
        listed.push((primary.unwrap_or(false), parse_address(text)?));
    }
    let count = match secondary_count {
        None => 0,
        Some(n) if n < 0 => {
            return Err(NetError::InvalidValue(format!(
                "Value ({n}) for parameter secondaryPrivateIpAddressCount is invalid. Expected a non-negative number."
            )));
        }
        Some(n) => n as u32,
    };
    if secondary_count.is_some() && listed.len() > 1 {
        return Err(NetError::Combination(
            "You can't specify a count of secondary private IP addresses together with more than one private IP address."
                .into(),
        ));
    }
    let marked: Vec<Ipv4Addr> = listed.iter().filter(|(p, _)| *p).map(|(_, a)| *a).collect();
    if marked.len() > 1 {
        return Err(NetError::InvalidValue("Only one private IP address can be designated as primary.".into()));
    }
    let primary = match (given, marked.first()) {
        (Some(g), Some(m)) if g != *m => {
            return Err(NetError::Combination(
                "The primary private IP address is given twice: by PrivateIpAddress and in PrivateIpAddresses.".into(),
            ));
        }
        (Some(g), _) => Some(g),
        (None, Some(m)) => Some(*m),
        (None, None) => listed.first().map(|(_, a)| *a),
    };
    let mut secondaries: Vec<Ipv4Addr> = Vec::new();
    let mut primary_seen = false;
    for (marked, a) in &listed {
        // The entry that names the primary (marked, or the first when none is) is not a
        // secondary.
        if Some(*a) == primary && !primary_seen && (*marked || given.is_none()) {
            primary_seen = true;
            continue;
        }
        if Some(*a) == primary || secondaries.contains(a) {
            return Err(NetError::InvalidValue(format!("The private IP address {a} is specified more than once.")));
        }
        secondaries.push(*a);
    }
    Ok(AddressPlan { primary, secondaries, secondary_count: count })
}

/// What `AssignPrivateIpAddresses` asks for: given addresses, or a count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssignRequest {
    Addresses(Vec<Ipv4Addr>),
    Count(u32),
}

pub fn plan_assign(addresses: &[String], count: Option<i32>) -> Result<AssignRequest, NetError> {
    match (addresses.is_empty(), count) {
        (false, Some(_)) => Err(NetError::Combination(
            "You can't specify both PrivateIpAddresses and SecondaryPrivateIpAddressCount.".into(),
        )),
        (true, None) => Err(NetError::Missing(
            "The request must contain the parameter PrivateIpAddresses or SecondaryPrivateIpAddressCount".into(),
        )),
        (true, Some(n)) if n < 1 => Err(NetError::InvalidValue(format!(
            "Value ({n}) for parameter secondaryPrivateIpAddressCount is invalid. Expected a positive number."
        ))),
        (true, Some(n)) => Ok(AssignRequest::Count(n as u32)),
        (false, None) => {
            let mut out: Vec<Ipv4Addr> = Vec::with_capacity(addresses.len());
            for t in addresses {
                let a = parse_address(t)?;
                if out.contains(&a) {
                    return Err(NetError::InvalidValue(format!(
                        "The private IP address {a} is specified more than once."
                    )));
                }
                out.push(a);
            }
            Ok(AssignRequest::Addresses(out))
        }
    }
}

/// Refuses more private addresses than a configured per-interface quota allows.
pub fn check_address_quota(current: usize, adding: usize, quota: Option<u32>) -> Result<(), NetError> {
    match quota {
        Some(q) if current + adding > q as usize => Err(NetError::LimitExceeded(
            NetLimit::PrivateAddressesPerInterface,
            format!(
                "Number of private addresses will exceed limit. The limit is {q} private IP addresses per network interface."
            ),
        )),
        _ => Ok(()),
    }
}

/// Refuses more security groups than a configured per-interface quota allows.
pub fn check_group_quota(count: usize, quota: Option<u32>) -> Result<(), NetError> {
    match quota {
        Some(q) if count > q as usize => Err(NetError::LimitExceeded(
            NetLimit::SecurityGroupsPerInterface,
            format!("The maximum number of security groups per interface has been reached ({q})."),
        )),
        _ => Ok(()),
    }
}

/// Refuses a new interface beyond a configured per-Region quota (`existing` interfaces
/// in the scope now).
pub fn check_interface_quota(existing: u64, quota: Option<u32>) -> Result<(), NetError> {
    match quota {
        Some(q) if existing >= u64::from(q) => Err(NetError::LimitExceeded(
            NetLimit::NetworkInterfaces,
            format!("The maximum number of network interfaces has been reached ({q})."),
        )),
        _ => Ok(()),
    }
}

/// Which addresses `UnassignPrivateIpAddresses` may remove: each must be a secondary
/// address of the interface.
pub fn check_unassign(iface: &NetworkInterface, addresses: &[Ipv4Addr]) -> Result<(), NetError> {
    if addresses.is_empty() {
        return Err(NetError::Missing("The request must contain the parameter PrivateIpAddress".into()));
    }
    for a in addresses {
        match iface.private_addresses.iter().find(|p| p.address == *a) {
            None => {
                return Err(NetError::InvalidValue(format!(
                    "Some of the specified addresses are not assigned to interface {}",
                    iface.id
                )));
            }
            Some(p) if p.primary => {
                return Err(NetError::InvalidValue(format!(
                    "The primary private IP address {a} of interface {} cannot be unassigned.",
                    iface.id
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// A validated new interface (addresses already taken from the subnet).
#[derive(Debug, Clone)]
pub struct NewInterface {
    pub subnet_id: String,
    pub vpc_id: String,
    pub availability_zone: String,
    pub availability_zone_id: String,
    pub region: String,
    pub description: String,
    pub groups: Vec<GroupRef>,
}

/// Builds the interface with its id chosen already (the subnet's addresses are taken in
/// its name before it exists).
#[allow(clippy::too_many_arguments)]
pub fn build(
    id: String,
    owner: &AccountId,
    req: NewInterface,
    primary: Ipv4Addr,
    secondaries: &[Ipv4Addr],
    ipv6: Vec<Ipv6Addr>,
    now: Timestamp,
    rng: &mut dyn Random,
) -> NetworkInterface {
    let mut private_addresses = vec![PrivateAddress::new(primary, true)];
    private_addresses.extend(secondaries.iter().map(|a| PrivateAddress::new(*a, false)));
    NetworkInterface {
        id,
        owner: owner.clone(),
        subnet_id: req.subnet_id,
        vpc_id: req.vpc_id,
        availability_zone: req.availability_zone,
        availability_zone_id: req.availability_zone_id,
        region: req.region,
        description: req.description,
        mac_address: mac_address(rng),
        private_addresses,
        ipv6_addresses: ipv6,
        groups: req.groups,
        source_dest_check: true,
        requester_managed: false,
        requester_id: None,
        attachment: None,
        created: now,
    }
}

/// What the attach rules need to know of an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceView {
    pub id: String,
    pub owner: AccountId,
    pub availability_zone: String,
    /// Whether the instance can take an interface now (`running` or `stopped`).
    pub accepts_interfaces: bool,
    /// (network card index, device index) of the interfaces attached to it now.
    pub used_slots: Vec<(u32, u32)>,
}

/// The largest device index AWS accepts (instance types allow fewer; the instance family
/// refines this).
pub const MAX_DEVICE_INDEX: i32 = 31;

/// Attaches `iface` to `instance` at `device_index` on `network_card_index`: the interface
/// must be detached, in the instance's Availability Zone, the instance must accept
/// interfaces, and the slot must be free. The attachment is `attached` at once.
pub fn attach(
    iface: &mut NetworkInterface,
    instance: &InstanceView,
    device_index: i32,
    network_card_index: i32,
    now: Timestamp,
    rng: &mut dyn Random,
) -> Result<Attachment, NetError> {
    if !(0..=MAX_DEVICE_INDEX).contains(&device_index) {
        return Err(NetError::InvalidValue(format!(
            "Value ({device_index}) for parameter deviceIndex is invalid. It must be between 0 and {MAX_DEVICE_INDEX}."
        )));
    }
    if network_card_index < 0 {
        return Err(NetError::InvalidValue(format!(
            "Value ({network_card_index}) for parameter networkCardIndex is invalid."
        )));
    }
    if iface.attachment.is_some() {
        return Err(NetError::InterfaceInUse(format!("Interface: [{}] in use.", iface.id)));
    }
    if iface.availability_zone != instance.availability_zone {
        return Err(NetError::Combination(
            "You may not attach a network interface to an instance if they are not in the same availability zone"
                .into(),
        ));
    }
    if !instance.accepts_interfaces {
        return Err(NetError::IncorrectState(format!(
            "The instance '{}' is not in a state from which a network interface can be attached.",
            instance.id
        )));
    }
    let slot = (network_card_index as u32, device_index as u32);
    if instance.used_slots.contains(&slot) {
        return Err(NetError::InvalidValue(format!(
            "Instance '{}' already has an interface attached at device index '{device_index}'.",
            instance.id
        )));
    }
    let a = Attachment {
        id: ResourceKind::NetworkInterfaceAttachment.new_id(rng),
        instance_id: instance.id.clone(),
        instance_owner: instance.owner.clone(),
        device_index: slot.1,
        network_card_index: slot.0,
        status: AttachmentStatus::Attached,
        attach_time: now,
        // An interface attached after launch is kept when the instance ends (AWS's default).
        delete_on_termination: false,
    };
    iface.attachment = Some(a.clone());
    Ok(a)
}

/// Detaches the attachment `attachment_id` from `iface`. The primary interface of an
/// instance (device index 0) cannot be detached, even with `force`.
pub fn detach(iface: &mut NetworkInterface, attachment_id: &str, _force: bool) -> Result<Attachment, NetError> {
    match &iface.attachment {
        Some(a) if a.id == attachment_id => {
            if a.device_index == 0 && a.network_card_index == 0 {
                return Err(NetError::NotPermitted(format!(
                    "The network interface at device index 0 cannot be detached (attachment {attachment_id})."
                )));
            }
            let mut a = iface.attachment.take().expect("checked");
            a.status = AttachmentStatus::Detached;
            Ok(a)
        }
        _ => Err(NetError::NotFound(NetKind::Attachment, vec![attachment_id.to_string()])),
    }
}

/// An interface can be deleted only when detached.
pub fn check_deletable(iface: &NetworkInterface) -> Result<(), NetError> {
    if iface.requester_managed {
        return Err(NetError::NotPermitted(format!(
            "The network interface '{}' is managed by an AWS service (a VPC endpoint) and cannot be deleted; delete the endpoint.",
            iface.id
        )));
    }
    if iface.attachment.is_some() {
        return Err(NetError::InterfaceInUse(format!("The network interface '{}' is currently in use.", iface.id)));
    }
    Ok(())
}

/// The attachment's `DeleteOnTermination`, changed by `ModifyNetworkInterfaceAttribute`.
pub fn set_delete_on_termination(
    iface: &mut NetworkInterface,
    attachment_id: &str,
    value: bool,
) -> Result<(), NetError> {
    match &mut iface.attachment {
        Some(a) if a.id == attachment_id => {
            a.delete_on_termination = value;
            Ok(())
        }
        _ => Err(NetError::NotFound(NetKind::Attachment, vec![attachment_id.to_string()])),
    }
}

/// `DescribeNetworkInterfaces` filters (EC2 API reference), plus `group-name`, documented
/// until recently and still answered by EC2.
pub const FILTERS: FilterSchema = FilterSchema {
    names: &[
        "association.allocation-id",
        "association.association-id",
        "addresses.association.owner-id",
        "addresses.association.public-ip",
        "addresses.primary",
        "addresses.private-ip-address",
        "association.ip-owner-id",
        "association.public-ip",
        "association.public-dns-name",
        "attachment.attach-time",
        "attachment.attachment-id",
        "attachment.delete-on-termination",
        "attachment.device-index",
        "attachment.instance-id",
        "attachment.instance-owner-id",
        "attachment.status",
        "availability-zone",
        "availability-zone-id",
        "description",
        "group-id",
        "group-name",
        "ipv6-addresses.ipv6-address",
        "interface-type",
        "mac-address",
        "network-interface-id",
        "operator.managed",
        "operator.principal",
        "owner-id",
        "private-dns-name",
        "private-ip-address",
        "requester-id",
        "requester-managed",
        "source-dest-check",
        "status",
        "subnet-id",
        "vpc-id",
    ],
    aliases: &[],
    tags: true,
};

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// The ISO-8601 form EC2 prints (`2019-08-16T09:27:35.000Z`), for `attachment.attach-time`.
pub fn iso8601(t: Timestamp) -> String {
    let ms = t.millis();
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms.rem_euclid(1000)
    )
}

impl Filterable for NetworkInterface {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        let att = self.attachment.as_ref();
        match name {
            "addresses.primary" => self.private_addresses.iter().any(|a| m(bool_text(a.primary))),
            "addresses.private-ip-address" | "private-ip-address" => {
                self.private_addresses.iter().any(|a| m(&a.address.to_string()))
            }
            "attachment.attach-time" => att.is_some_and(|a| m(&iso8601(a.attach_time))),
            "attachment.attachment-id" => att.is_some_and(|a| m(&a.id)),
            "attachment.delete-on-termination" => att.is_some_and(|a| m(bool_text(a.delete_on_termination))),
            "attachment.device-index" => att.is_some_and(|a| m(&a.device_index.to_string())),
            "attachment.instance-id" => att.is_some_and(|a| m(&a.instance_id)),
            "attachment.instance-owner-id" => att.is_some_and(|a| m(a.instance_owner.as_str())),
            "attachment.status" => att.is_some_and(|a| m(a.status.as_str())),
            "availability-zone" => m(&self.availability_zone),
            "availability-zone-id" => m(&self.availability_zone_id),
            "description" => m(&self.description),
            "group-id" => self.groups.iter().any(|g| m(&g.id)),
            "group-name" => self.groups.iter().any(|g| m(&g.name)),
            "ipv6-addresses.ipv6-address" => self.ipv6_addresses.iter().any(|a| m(&a.to_string())),
            "interface-type" => m(INTERFACE_TYPE),
            "mac-address" => m(&self.mac_address),
            "network-interface-id" => m(&self.id),
            "operator.managed" => m("false"),
            "owner-id" => m(self.owner.as_str()),
            "private-dns-name" => m(&self.private_dns_name()),
            "requester-id" => match &self.requester_id {
                Some(r) => m(r),
                None => false,
            },
            "requester-managed" => m(bool_text(self.requester_managed)),
            "source-dest-check" => m(bool_text(self.source_dest_check)),
            "status" => m(self.status()),
            "subnet-id" => m(&self.subnet_id),
            "vpc-id" => m(&self.vpc_id),
            "association.allocation-id" | "addresses.association.allocation-id" => {
                self.associations().any(|a| m(&a.allocation_id))
            }
            "association.association-id" | "addresses.association.association-id" => {
                self.associations().any(|a| m(&a.association_id))
            }
            "association.ip-owner-id" | "addresses.association.owner-id" => {
                self.associations().any(|a| m(a.ip_owner.as_str()))
            }
            "association.public-ip" | "addresses.association.public-ip" => {
                self.associations().any(|a| a.public_ip.is_some_and(|ip| m(&ip.to_string())))
            }
            "association.public-dns-name" => self
                .associations()
                .any(|a| a.public_ip.is_some_and(|ip| m(&crate::address::public_dns_name(&self.region, ip)))),
            // Managed interfaces (`operator.principal`) do not exist yet: nothing matches.
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{Filter, FilterSet};
    use crate::ids::SeededRandom;

    fn owner() -> AccountId {
        AccountId::default_account()
    }

    fn iface(rng: &mut SeededRandom) -> NetworkInterface {
        let req = NewInterface {
            subnet_id: "subnet-0123456789abcdef0".into(),
            vpc_id: "vpc-0123456789abcdef0".into(),
            availability_zone: "us-east-1a".into(),
            availability_zone_id: "use1-az1".into(),
            region: "us-east-1".into(),
            description: "d".into(),
            groups: vec![GroupRef { id: "sg-0123456789abcdef0".into(), name: "default".into() }],
        };
        let id = ResourceKind::NetworkInterface.new_id(rng);
        build(id, &owner(), req, "10.0.1.5".parse().unwrap(), &["10.0.1.6".parse().unwrap()], vec![], Timestamp(0), rng)
    }

    fn instance(used: &[(u32, u32)]) -> InstanceView {
        InstanceView {
            id: "i-0123456789abcdef0".into(),
            owner: owner(),
            availability_zone: "us-east-1a".into(),
            accepts_interfaces: true,
            used_slots: used.to_vec(),
        }
    }

    #[test]
    fn names_and_forms() {
        let mut rng = SeededRandom::new(3);
        let i = iface(&mut rng);
        assert_eq!(i.private_dns_name(), "ip-10-0-1-5.ec2.internal");
        assert_eq!(
            private_dns_name("eu-west-1", "10.0.1.5".parse().unwrap()),
            "ip-10-0-1-5.eu-west-1.compute.internal"
        );
        assert!(i.mac_address.starts_with("02:") && i.mac_address.len() == 17, "{}", i.mac_address);
        assert_eq!(i.status(), "available");
        assert_eq!(i.primary_address().to_string(), "10.0.1.5");
        assert!(check_description(&"x".repeat(255)).is_ok());
        assert!(matches!(check_description(&"x".repeat(256)), Err(NetError::InvalidValue(_))));
        assert_eq!(iso8601(Timestamp(1_565_947_655_123)), "2019-08-16T09:27:35.123Z");
        assert_eq!(iso8601(Timestamp(0)), "1970-01-01T00:00:00.000Z");
    }

    #[test]
    fn address_plans() {
        let a = |s: &str| s.parse::<Ipv4Addr>().unwrap();
        let p = plan_addresses(None, &[], None).unwrap();
        assert_eq!(p, AddressPlan::default());
        let p = plan_addresses(Some("10.0.1.9"), &[], Some(2)).unwrap();
        assert_eq!(p.primary, Some(a("10.0.1.9")));
        assert_eq!(p.secondary_count, 2);
        assert_eq!(p.total(), 3);
        let list = vec![(None, Some("10.0.1.7".to_string())), (Some(true), Some("10.0.1.8".to_string()))];
        let p = plan_addresses(None, &list, None).unwrap();
        assert_eq!(p.primary, Some(a("10.0.1.8")));
        assert_eq!(p.secondaries, vec![a("10.0.1.7")]);
        // No primary marked: the first is.
        let list = vec![(None, Some("10.0.1.7".to_string())), (None, Some("10.0.1.8".to_string()))];
        let p = plan_addresses(None, &list, None).unwrap();
        assert_eq!(p.primary, Some(a("10.0.1.7")));
        assert_eq!(p.secondaries, vec![a("10.0.1.8")]);
        // PrivateIpAddress with the list: the list is secondary.
        let p = plan_addresses(Some("10.0.1.4"), &list, None).unwrap();
        assert_eq!(p.primary, Some(a("10.0.1.4")));
        assert_eq!(p.secondaries, vec![a("10.0.1.7"), a("10.0.1.8")]);
        assert!(matches!(plan_addresses(Some("10.0.1.4"), &list, Some(1)), Err(NetError::Combination(_))));
        let two = vec![(Some(true), Some("10.0.1.7".to_string())), (Some(true), Some("10.0.1.8".to_string()))];
        assert!(matches!(plan_addresses(None, &two, None), Err(NetError::InvalidValue(_))));
        let marked = vec![(Some(true), Some("10.0.1.7".to_string()))];
        assert!(matches!(plan_addresses(Some("10.0.1.4"), &marked, None), Err(NetError::Combination(_))));
        assert!(plan_addresses(Some("10.0.1.7"), &marked, None).is_ok());
        let dup = vec![(None, Some("10.0.1.7".to_string())), (None, Some("10.0.1.7".to_string()))];
        assert!(matches!(plan_addresses(None, &dup, None), Err(NetError::InvalidValue(_))));
        assert!(matches!(plan_addresses(Some("10.0.1"), &[], None), Err(NetError::InvalidValue(_))));
        assert!(matches!(plan_addresses(None, &[], Some(-1)), Err(NetError::InvalidValue(_))));
        assert!(matches!(plan_addresses(None, &[(None, None)], None), Err(NetError::Missing(_))));
    }

    #[test]
    fn assign_and_unassign_rules() {
        assert_eq!(plan_assign(&[], Some(2)), Ok(AssignRequest::Count(2)));
        assert!(matches!(plan_assign(&[], Some(0)), Err(NetError::InvalidValue(_))));
        assert!(matches!(plan_assign(&[], None), Err(NetError::Missing(_))));
        assert!(matches!(plan_assign(&["10.0.0.9".into()], Some(1)), Err(NetError::Combination(_))));
        assert!(matches!(plan_assign(&["10.0.0.9".into(), "10.0.0.9".into()], None), Err(NetError::InvalidValue(_))));
        let mut rng = SeededRandom::new(5);
        let i = iface(&mut rng);
        assert!(check_unassign(&i, &["10.0.1.6".parse().unwrap()]).is_ok());
        assert!(
            matches!(check_unassign(&i, &["10.0.1.5".parse().unwrap()]), Err(NetError::InvalidValue(m)) if m.contains("primary"))
        );
        assert!(matches!(check_unassign(&i, &["10.0.1.99".parse().unwrap()]), Err(NetError::InvalidValue(_))));
        assert!(check_address_quota(2, 1, None).is_ok());
        assert!(check_address_quota(2, 1, Some(3)).is_ok());
        assert!(matches!(
            check_address_quota(2, 2, Some(3)),
            Err(NetError::LimitExceeded(NetLimit::PrivateAddressesPerInterface, _))
        ));
        assert!(check_group_quota(5, Some(5)).is_ok());
        assert!(check_group_quota(6, Some(5)).is_err());
        assert!(check_group_quota(600, None).is_ok());
        assert!(check_interface_quota(4, Some(5)).is_ok());
        assert!(check_interface_quota(5, Some(5)).is_err());
    }

    #[test]
    fn attach_and_detach() {
        let mut rng = SeededRandom::new(9);
        let mut i = iface(&mut rng);
        let a = attach(&mut i, &instance(&[(0, 0)]), 1, 0, Timestamp(5), &mut rng).unwrap();
        assert!(ResourceKind::NetworkInterfaceAttachment.is_well_formed(&a.id));
        assert_eq!(a.status, AttachmentStatus::Attached);
        assert_eq!(i.status(), "in-use");
        assert!(matches!(check_deletable(&i), Err(NetError::InterfaceInUse(_))));
        // Attached already.
        assert!(matches!(
            attach(&mut i, &instance(&[]), 2, 0, Timestamp(5), &mut rng),
            Err(NetError::InterfaceInUse(_))
        ));
        assert!(set_delete_on_termination(&mut i, &a.id, true).is_ok());
        assert!(i.attachment.as_ref().unwrap().delete_on_termination);
        assert!(matches!(
            set_delete_on_termination(&mut i, "eni-attach-0000000000000000f", true),
            Err(NetError::NotFound(NetKind::Attachment, _))
        ));
        assert!(matches!(
            detach(&mut i, "eni-attach-0000000000000000f", false),
            Err(NetError::NotFound(NetKind::Attachment, _))
        ));
        let gone = detach(&mut i, &a.id, false).unwrap();
        assert_eq!(gone.status, AttachmentStatus::Detached);
        assert_eq!(i.status(), "available");
        assert!(check_deletable(&i).is_ok());

        // Slot taken, other zone, bad index, state.
        assert!(matches!(
            attach(&mut i, &instance(&[(0, 0), (0, 1)]), 1, 0, Timestamp(5), &mut rng),
            Err(NetError::InvalidValue(_))
        ));
        let mut other = instance(&[]);
        other.availability_zone = "us-east-1b".into();
        assert!(matches!(attach(&mut i, &other, 1, 0, Timestamp(5), &mut rng), Err(NetError::Combination(_))));
        assert!(matches!(
            attach(&mut i, &instance(&[]), -1, 0, Timestamp(5), &mut rng),
            Err(NetError::InvalidValue(_))
        ));
        let mut stopped = instance(&[]);
        stopped.accepts_interfaces = false;
        assert!(matches!(attach(&mut i, &stopped, 1, 0, Timestamp(5), &mut rng), Err(NetError::IncorrectState(_))));
        assert!(i.attachment.is_none(), "a refused attach changes nothing");

        // The primary interface stays.
        let a0 = attach(&mut i, &instance(&[]), 0, 0, Timestamp(5), &mut rng).unwrap();
        assert!(matches!(detach(&mut i, &a0.id, true), Err(NetError::NotPermitted(_))));
    }

    #[test]
    fn filters() {
        let mut rng = SeededRandom::new(11);
        let mut i = iface(&mut rng);
        let set = |name: &str, v: &str| FilterSet::compile(&[Filter::new(name, &[v])], &FILTERS).unwrap();
        assert!(set("addresses.private-ip-address", "10.0.1.6").matches_untagged(&i));
        assert!(set("private-ip-address", "10.0.1.5").matches_untagged(&i));
        assert!(set("addresses.primary", "true").matches_untagged(&i));
        assert!(set("group-name", "default").matches_untagged(&i));
        assert!(set("group-id", "sg-0123456789abcdef0").matches_untagged(&i));
        assert!(set("status", "available").matches_untagged(&i));
        assert!(set("interface-type", "interface").matches_untagged(&i));
        assert!(set("private-dns-name", "ip-10-0-1-5.ec2.internal").matches_untagged(&i));
        assert!(set("source-dest-check", "true").matches_untagged(&i));
        assert!(set("requester-managed", "false").matches_untagged(&i));
        assert!(!set("attachment.status", "*").matches_untagged(&i));
        assert!(!set("association.public-ip", "*").matches_untagged(&i));
        attach(&mut i, &instance(&[]), 1, 0, Timestamp(1_565_947_655_000), &mut rng).unwrap();
        assert!(set("attachment.device-index", "1").matches_untagged(&i));
        assert!(set("attachment.status", "attached").matches_untagged(&i));
        assert!(set("attachment.attach-time", "2019-08-16*").matches_untagged(&i));
        assert!(set("status", "in-use").matches_untagged(&i));
        assert!(FilterSet::compile(&[Filter::new("nope", &["x"])], &FILTERS).is_err());
    }

    proptest::proptest! {
        /// A plan never names one address twice, and has exactly one primary when any
        /// address is given.
        #[test]
        fn plans_never_repeat_an_address(
            given in proptest::option::of(0u8..8),
            list in proptest::collection::vec((proptest::option::of(proptest::bool::ANY), 0u8..8), 0..5),
        ) {
            let text = |n: u8| format!("10.0.0.{n}");
            let list: Vec<(Option<bool>, Option<String>)> = list.into_iter().map(|(p, n)| (p, Some(text(n)))).collect();
            if let Ok(p) = plan_addresses(given.map(text).as_deref(), &list, None) {
                let mut all: Vec<Ipv4Addr> = p.primary.into_iter().chain(p.secondaries.iter().copied()).collect();
                let n = all.len();
                all.sort();
                all.dedup();
                proptest::prop_assert_eq!(all.len(), n);
                proptest::prop_assert_eq!(p.primary.is_some(), given.is_some() || !list.is_empty());
            }
        }
    }
}
