//! EC2 instances, real enough for capacity reservations and the VPC network to see them.
//!
//! What Reservoir models (EC2 API reference `RunInstances`, `DescribeInstances`,
//! `DescribeInstanceStatus`, `StopInstances`, `StartInstances`, `TerminateInstances`,
//! `DescribeInstanceAttribute`, `ModifyInstanceAttribute`; Amazon EC2 User Guide,
//! "Instance state changes" and "Terminated instances"):
//! * the states with AWS's names and codes ([`InstanceState`]: pending 0, running 16,
//!   shutting-down 32, terminated 48, stopping 64, stopped 80);
//! * the transitions: a launch and a start answer `pending`, a stop `stopping`, a
//!   terminate `shutting-down`; the *stored* state is the one they end in at once
//!   (`running`, `stopped`, `terminated`), so a `Describe` right after shows it and
//!   waiters return without sleeping (no background sweep that a test would race);
//! * a terminated instance stays visible for [`TERMINATED_VISIBLE_MS`] (AWS: "about an
//!   hour") by the server clock, then is neither listed nor found;
//! * `DisableApiTermination` / `DisableApiStop` refuse terminate / stop
//!   (`OperationNotPermitted`); `instanceType` and `userData` change only when stopped;
//! * every instance lives in a subnet with its primary network interface (device 0);
//!   its groups, private address and interface id are kept here for the filters;
//! * the capacity reservation it occupies ([`Held`]) and its preference, decided by the
//!   capacity family.

use std::net::Ipv4Addr;

use serde::{Deserialize, Serialize};

use crate::account::AccountId;
use crate::capacity::{Held, Preference};
use crate::filter::{FilterSchema, Filterable};
use crate::image::Platform;
use crate::interface::{GroupRef, iso8601};
use crate::network::{NetError, NetKind};
use crate::time::Timestamp;

/// How long a terminated instance stays visible: one hour.
pub const TERMINATED_VISIBLE_MS: i64 = 3_600_000;
/// `RunInstances`' default instance type, as AWS's.
pub const DEFAULT_INSTANCE_TYPE: &str = "m1.small";
/// The largest user data AWS accepts (raw bytes, before base64).
pub const MAX_USER_DATA: usize = 16 * 1024;

/// An instance's state, with AWS's names and codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum InstanceState {
    Pending,
    Running,
    ShuttingDown,
    Terminated,
    Stopping,
    Stopped,
}

impl InstanceState {
    pub const ALL: [InstanceState; 6] = [
        InstanceState::Pending,
        InstanceState::Running,
        InstanceState::ShuttingDown,
        InstanceState::Terminated,
        InstanceState::Stopping,
        InstanceState::Stopped,
    ];

    pub const fn code(self) -> i32 {
        match self {
            InstanceState::Pending => 0,
            InstanceState::Running => 16,
            InstanceState::ShuttingDown => 32,
            InstanceState::Terminated => 48,
            InstanceState::Stopping => 64,
            InstanceState::Stopped => 80,
        }
    }

    pub const fn name(self) -> &'static str {
        match self {
            InstanceState::Pending => "pending",
            InstanceState::Running => "running",
            InstanceState::ShuttingDown => "shutting-down",
            InstanceState::Terminated => "terminated",
            InstanceState::Stopping => "stopping",
            InstanceState::Stopped => "stopped",
        }
    }

    pub fn from_name(name: &str) -> Option<InstanceState> {
        InstanceState::ALL.into_iter().find(|s| s.name() == name)
    }

    pub const fn is_stopped(self) -> bool {
        matches!(self, InstanceState::Stopped)
    }

    /// Whether an instance in this state holds a capacity reservation slot (pending or
    /// running).
    pub const fn occupies(self) -> bool {
        matches!(self, InstanceState::Pending | InstanceState::Running)
    }

    /// Whether a network interface can be attached (running or stopped).
    pub const fn accepts_interfaces(self) -> bool {
        matches!(self, InstanceState::Running | InstanceState::Stopped)
    }
}

/// What the instance does when its operating system shuts down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ShutdownBehavior {
    Stop,
    Terminate,
}

impl ShutdownBehavior {
    pub const fn as_str(self) -> &'static str {
        match self {
            ShutdownBehavior::Stop => "stop",
            ShutdownBehavior::Terminate => "terminate",
        }
    }

    pub fn parse(v: &str) -> Result<ShutdownBehavior, InstanceError> {
        match v {
            "stop" => Ok(ShutdownBehavior::Stop),
            "terminate" => Ok(ShutdownBehavior::Terminate),
            other => Err(InstanceError::InvalidValue(format!(
                "Value ({other}) for parameter instanceInitiatedShutdownBehavior is invalid. Valid values are: stop, terminate."
            ))),
        }
    }
}

/// An interface attached to the instance: (network card, device index, interface id).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub card: u32,
    pub device: u32,
    pub interface_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub id: String,
    pub reservation_id: String,
    pub owner: AccountId,
    pub region: String,
    pub image_id: String,
    pub instance_type: String,
    pub platform: Platform,
    pub architecture: String,
    pub root_device_name: String,
    pub root_volume_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_name: Option<String>,
    pub launch_index: u32,
    pub launch_time: Timestamp,
    pub availability_zone: String,
    pub availability_zone_id: String,
    pub tenancy: String,
    pub subnet_id: String,
    pub vpc_id: String,
    /// The primary interface's primary private address, interface id and groups (a copy
    /// for the filters; the interface is the truth).
    pub private_ip: Ipv4Addr,
    pub primary_interface: String,
    pub groups: Vec<GroupRef>,
    /// Every interface attached, the primary one first.
    pub interfaces: Vec<Slot>,
    /// Base64, as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_token: Option<String>,
    pub disable_api_termination: bool,
    pub disable_api_stop: bool,
    pub shutdown_behavior: ShutdownBehavior,
    pub ebs_optimized: bool,
    pub monitoring: bool,
    pub state: InstanceState,
    /// When the state last changed (the termination time, for visibility).
    pub state_changed: Timestamp,
    /// `stateTransitionReason` (empty while running as launched).
    #[serde(default)]
    pub transition_reason: String,
    pub capacity_preference: Preference,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<Held>,
}

impl Instance {
    /// Whether the instance is listed and found at `now`: always, except a terminated
    /// instance more than an hour after its termination.
    pub fn visible_at(&self, now: Timestamp) -> bool {
        self.state != InstanceState::Terminated || now.millis() - self.state_changed.millis() < TERMINATED_VISIBLE_MS
    }

    pub fn private_dns_name(&self) -> String {
        crate::interface::private_dns_name(&self.region, self.private_ip)
    }

    /// The (card, device) slots in use, for the attach rules.
    pub fn used_slots(&self) -> Vec<(u32, u32)> {
        self.interfaces.iter().map(|s| (s.card, s.device)).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstanceError {
    /// `InvalidParameterValue`.
    #[error("{0}")]
    InvalidValue(String),
    /// `InvalidParameterCombination`.
    #[error("{0}")]
    Combination(String),
    /// `MissingParameter`.
    #[error("{0}")]
    Missing(String),
    /// `IncorrectInstanceState`.
    #[error("{0}")]
    IncorrectState(String),
    /// `OperationNotPermitted`.
    #[error("{0}")]
    NotPermitted(String),
    /// `UnsupportedOperation`.
    #[error("{0}")]
    Unsupported(String),
    /// `UnsupportedHibernationConfiguration`.
    #[error("{0}")]
    Hibernation(String),
    /// `VPCIdNotSpecified`: no subnet given and no default VPC.
    #[error("{0}")]
    NoDefaultVpc(String),
    /// `MissingInput`: no subnet given and the default VPC has no default subnet.
    #[error("{0}")]
    NoDefaultSubnet(String),
}

/// `InvalidInstanceID.Malformed` unless `i-` and 8 or 17 hex digits.
pub fn check_id(id: &str) -> Result<(), NetError> {
    crate::network::check_id(NetKind::Instance, id)
}

/// The "does not exist" of the instances named.
pub fn not_found(ids: Vec<String>) -> NetError {
    NetError::NotFound(NetKind::Instance, ids)
}

/// An instance type looks like `family.size` (`t3.micro`, `u-6tb1.metal`); the catalogue
/// of real types is not kept, so any such name launches.
pub fn check_instance_type(t: &str) -> Result<(), InstanceError> {
    let ok = t.split_once('.').is_some_and(|(family, size)| {
        let fam = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        let sz = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-';
        family.starts_with(|c: char| c.is_ascii_lowercase())
            && family.chars().all(fam)
            && !size.is_empty()
            && size.chars().all(sz)
            && t.len() <= 64
    });
    if ok { Ok(()) } else { Err(InstanceError::InvalidValue(format!("Invalid value '{t}' for InstanceType."))) }
}

/// `MinCount` / `MaxCount`: both given, 1 <= MinCount <= MaxCount. Answers (min, max).
pub fn check_counts(min: Option<i32>, max: Option<i32>) -> Result<(u32, u32), InstanceError> {
    let min = min.ok_or_else(|| InstanceError::Missing("The request must contain the parameter MinCount".into()))?;
    let max = max.ok_or_else(|| InstanceError::Missing("The request must contain the parameter MaxCount".into()))?;
    if min < 1 {
        return Err(InstanceError::InvalidValue(format!(
            "Value ({min}) for parameter minCount is invalid. Expected a positive number."
        )));
    }
    if max < 1 {
        return Err(InstanceError::InvalidValue(format!(
            "Value ({max}) for parameter maxCount is invalid. Expected a positive number."
        )));
    }
    if min > max {
        return Err(InstanceError::InvalidValue(format!(
            "Value ({max}) for parameter maxCount is invalid. MaxCount must be greater than or equal to MinCount."
        )));
    }
    Ok((min as u32, max as u32))
}

/// User data is base64 of at most [`MAX_USER_DATA`] bytes.
pub fn check_user_data(b64: &str) -> Result<(), InstanceError> {
    use base64::Engine;
    let raw = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| InstanceError::InvalidValue("Invalid BASE64 encoding of user data.".into()))?;
    check_user_data_len(raw.len())
}

pub fn check_user_data_len(n: usize) -> Result<(), InstanceError> {
    if n > MAX_USER_DATA {
        return Err(InstanceError::InvalidValue(format!("User data is limited to {MAX_USER_DATA} bytes.")));
    }
    Ok(())
}

/// Tenancy of a launch: `default` or `dedicated` (`host` is refused by the handler).
pub fn check_tenancy(t: &str) -> Result<(), InstanceError> {
    match t {
        "default" | "dedicated" => Ok(()),
        other => Err(InstanceError::InvalidValue(format!(
            "Value ({other}) for parameter tenancy is invalid. Valid values are: default, dedicated, host."
        ))),
    }
}

/// The root device of an image of this platform when the catalogue does not say.
pub fn root_device_name(platform: Platform) -> &'static str {
    match platform {
        Platform::Windows => "/dev/sda1",
        _ => "/dev/xvda",
    }
}

/// Stops the instance: (previous, answered) states. A stopped instance stays stopped
/// (AWS answers stopped → stopped); shutting-down or terminated ones cannot stop.
pub fn stop(i: &mut Instance, now: Timestamp) -> Result<(InstanceState, InstanceState), InstanceError> {
    let previous = i.state;
    match previous {
        InstanceState::Stopped | InstanceState::Stopping => Ok((previous, previous)),
        InstanceState::Pending | InstanceState::Running => {
            if i.disable_api_stop {
                return Err(InstanceError::NotPermitted(format!(
                    "The instance '{}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.",
                    i.id
                )));
            }
            i.state = InstanceState::Stopped;
            i.state_changed = now;
            i.transition_reason = format!("User initiated ({})", gmt(now));
            Ok((previous, InstanceState::Stopping))
        }
        InstanceState::ShuttingDown | InstanceState::Terminated => Err(InstanceError::IncorrectState(format!(
            "The instance '{}' is not in a state from which it can be stopped.",
            i.id
        ))),
    }
}

/// Starts the instance: (previous, answered). A running instance stays running.
pub fn start(i: &mut Instance, now: Timestamp) -> Result<(InstanceState, InstanceState), InstanceError> {
    let previous = i.state;
    match previous {
        InstanceState::Running | InstanceState::Pending => Ok((previous, previous)),
        InstanceState::Stopped => {
            i.state = InstanceState::Running;
            i.state_changed = now;
            i.transition_reason = String::new();
            Ok((previous, InstanceState::Pending))
        }
        InstanceState::Stopping | InstanceState::ShuttingDown | InstanceState::Terminated => {
            Err(InstanceError::IncorrectState(format!(
                "The instance '{}' is not in a state from which it can be started.",
                i.id
            )))
        }
    }
}

/// Terminates the instance: (previous, answered). A terminated instance answers
/// terminated → terminated and changes nothing.
pub fn terminate(i: &mut Instance, now: Timestamp) -> Result<(InstanceState, InstanceState), InstanceError> {
    let previous = i.state;
    match previous {
        InstanceState::Terminated | InstanceState::ShuttingDown => Ok((previous, previous)),
        _ => {
            if i.disable_api_termination {
                return Err(InstanceError::NotPermitted(format!(
                    "The instance '{}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.",
                    i.id
                )));
            }
            i.state = InstanceState::Terminated;
            i.state_changed = now;
            i.transition_reason = format!("User initiated ({})", gmt(now));
            Ok((previous, InstanceState::ShuttingDown))
        }
    }
}

/// `2019-08-16 09:27:35 GMT`, as `stateTransitionReason` shows times.
pub fn gmt(t: Timestamp) -> String {
    let iso = iso8601(t);
    format!("{} {} GMT", &iso[..10], &iso[11..19])
}

/// The attributes `ModifyInstanceAttribute` changes only while the instance is stopped.
pub fn check_stopped_for(i: &Instance, attribute: &str) -> Result<(), InstanceError> {
    if i.state.is_stopped() {
        Ok(())
    } else {
        Err(InstanceError::IncorrectState(format!(
            "The instance '{}' is not in the 'stopped' state. The attribute {attribute} can only be modified when the instance is stopped.",
            i.id
        )))
    }
}

/// `DescribeInstances` filters Reservoir answers (EC2 API reference). Names of
/// resources not modelled (Elastic IPs, IAM profiles, spot, …) are accepted and match
/// nothing.
pub const FILTERS: FilterSchema = FilterSchema {
    names: &[
        "affinity",
        "architecture",
        "availability-zone",
        "availability-zone-id",
        "capacity-reservation-id",
        "client-token",
        "dns-name",
        "ebs-optimized",
        "group-id",
        "group-name",
        "hypervisor",
        "iam-instance-profile.arn",
        "image-id",
        "instance-id",
        "instance-lifecycle",
        "instance-state-code",
        "instance-state-name",
        "instance-type",
        "instance.group-id",
        "instance.group-name",
        "ip-address",
        "key-name",
        "launch-index",
        "launch-time",
        "monitoring-state",
        "network-interface.addresses.private-ip-address",
        "network-interface.attachment.device-index",
        "network-interface.network-interface-id",
        "network-interface.subnet-id",
        "network-interface.vpc-id",
        "owner-id",
        "placement-group-name",
        "platform",
        "platform-details",
        "private-dns-name",
        "private-ip-address",
        "reservation-id",
        "root-device-name",
        "root-device-type",
        "source-dest-check",
        "spot-instance-request-id",
        "state-reason-code",
        "subnet-id",
        "tenancy",
        "usage-operation",
        "virtualization-type",
        "vpc-id",
    ],
    aliases: &[],
    tags: true,
};

/// `DescribeInstanceStatus` filters.
pub const STATUS_FILTERS: FilterSchema = FilterSchema {
    names: &[
        "availability-zone",
        "event.code",
        "event.description",
        "event.instance-event-id",
        "event.not-after",
        "event.not-before",
        "instance-state-code",
        "instance-state-name",
        "instance-status.reachability",
        "instance-status.status",
        "system-status.reachability",
        "system-status.status",
        "attached-ebs-status.status",
    ],
    aliases: &[],
    tags: false,
};

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// The status checks of an instance: `ok`/`passed` while running, `not-applicable`
/// otherwise.
pub fn status_summary(state: InstanceState) -> (&'static str, &'static str) {
    if state == InstanceState::Running { ("ok", "passed") } else { ("not-applicable", "") }
}

impl Filterable for Instance {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "architecture" => m(&self.architecture),
            "availability-zone" => m(&self.availability_zone),
            "availability-zone-id" => m(&self.availability_zone_id),
            "capacity-reservation-id" => self.capacity.as_ref().is_some_and(|h| m(&h.id)),
            "client-token" => self.client_token.as_deref().is_some_and(m),
            "dns-name" => m(""),
            "ebs-optimized" => m(bool_text(self.ebs_optimized)),
            "group-id" | "instance.group-id" => self.groups.iter().any(|g| m(&g.id)),
            "group-name" | "instance.group-name" => self.groups.iter().any(|g| m(&g.name)),
            "hypervisor" => m("xen"),
            "image-id" => m(&self.image_id),
            "instance-id" => m(&self.id),
            "instance-state-code" => m(&self.state.code().to_string()),
            "instance-state-name" => m(self.state.name()),
            "instance-type" => m(&self.instance_type),
            "key-name" => self.key_name.as_deref().is_some_and(m),
            "launch-index" => m(&self.launch_index.to_string()),
            "launch-time" => m(&iso8601(self.launch_time)),
            "monitoring-state" => m(if self.monitoring { "enabled" } else { "disabled" }),
            "network-interface.addresses.private-ip-address" | "private-ip-address" => {
                self.state != InstanceState::Terminated && m(&self.private_ip.to_string())
            }
            "network-interface.attachment.device-index" => self.interfaces.iter().any(|s| m(&s.device.to_string())),
            "network-interface.network-interface-id" => self.interfaces.iter().any(|s| m(&s.interface_id)),
            "network-interface.subnet-id" | "subnet-id" => m(&self.subnet_id),
            "network-interface.vpc-id" | "vpc-id" => m(&self.vpc_id),
            "owner-id" => m(self.owner.as_str()),
            "platform" => self.platform.platform_value().is_some_and(m),
            "platform-details" => m(self.platform.details()),
            "private-dns-name" => m(&self.private_dns_name()),
            "reservation-id" => m(&self.reservation_id),
            "root-device-name" => m(&self.root_device_name),
            "root-device-type" => m("ebs"),
            "tenancy" => m(&self.tenancy),
            "usage-operation" => m(self.platform.usage_operation()),
            "virtualization-type" => m("hvm"),
            "state-reason-code" => match self.state {
                InstanceState::Stopped | InstanceState::Terminated => m("Client.UserInitiatedShutdown"),
                _ => false,
            },
            _ => false,
        }
    }
}

/// An instance as `DescribeInstanceStatus` filters see it.
pub struct StatusView<'a>(pub &'a Instance);

impl Filterable for StatusView<'_> {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        let (status, detail) = status_summary(self.0.state);
        match name {
            "availability-zone" => m(&self.0.availability_zone),
            "instance-state-code" => m(&self.0.state.code().to_string()),
            "instance-state-name" => m(self.0.state.name()),
            "instance-status.status" | "system-status.status" | "attached-ebs-status.status" => m(status),
            "instance-status.reachability" | "system-status.reachability" => !detail.is_empty() && m(detail),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{Filter, FilterSet};

    fn instance() -> Instance {
        Instance {
            id: "i-0123456789abcdef0".into(),
            reservation_id: "r-0123456789abcdef0".into(),
            owner: AccountId::default_account(),
            region: "us-east-1".into(),
            image_id: "ami-0123456789abcdef0".into(),
            instance_type: "t3.micro".into(),
            platform: Platform::LinuxUnix,
            architecture: "x86_64".into(),
            root_device_name: "/dev/xvda".into(),
            root_volume_id: "vol-0123456789abcdef0".into(),
            key_name: Some("k".into()),
            launch_index: 0,
            launch_time: Timestamp(1_565_947_655_000),
            availability_zone: "us-east-1a".into(),
            availability_zone_id: "use1-az1".into(),
            tenancy: "default".into(),
            subnet_id: "subnet-0123456789abcdef0".into(),
            vpc_id: "vpc-0123456789abcdef0".into(),
            private_ip: "172.31.0.5".parse().unwrap(),
            primary_interface: "eni-0123456789abcdef0".into(),
            groups: vec![GroupRef { id: "sg-0123456789abcdef0".into(), name: "default".into() }],
            interfaces: vec![Slot { card: 0, device: 0, interface_id: "eni-0123456789abcdef0".into() }],
            user_data: None,
            client_token: None,
            disable_api_termination: false,
            disable_api_stop: false,
            shutdown_behavior: ShutdownBehavior::Stop,
            ebs_optimized: false,
            monitoring: false,
            state: InstanceState::Running,
            state_changed: Timestamp(1_565_947_655_000),
            transition_reason: String::new(),
            capacity_preference: Preference::Open,
            capacity: None,
        }
    }

    #[test]
    fn states_have_aws_names_and_codes() {
        let codes: Vec<(i32, &str)> = InstanceState::ALL.iter().map(|s| (s.code(), s.name())).collect();
        assert_eq!(
            codes,
            vec![
                (0, "pending"),
                (16, "running"),
                (32, "shutting-down"),
                (48, "terminated"),
                (64, "stopping"),
                (80, "stopped")
            ]
        );
        for s in InstanceState::ALL {
            assert_eq!(InstanceState::from_name(s.name()), Some(s));
        }
        assert!(InstanceState::Running.occupies() && InstanceState::Pending.occupies());
        assert!(!InstanceState::Stopped.occupies() && InstanceState::Stopped.is_stopped());
    }

    #[test]
    fn transitions() {
        let mut i = instance();
        assert_eq!(stop(&mut i, Timestamp(5)), Ok((InstanceState::Running, InstanceState::Stopping)));
        assert_eq!(i.state, InstanceState::Stopped);
        assert!(i.transition_reason.starts_with("User initiated (1970-01-01 00:00:00 GMT"));
        assert_eq!(stop(&mut i, Timestamp(6)), Ok((InstanceState::Stopped, InstanceState::Stopped)));
        assert_eq!(start(&mut i, Timestamp(7)), Ok((InstanceState::Stopped, InstanceState::Pending)));
        assert_eq!(i.state, InstanceState::Running);
        assert_eq!(start(&mut i, Timestamp(8)), Ok((InstanceState::Running, InstanceState::Running)));
        i.disable_api_termination = true;
        assert!(matches!(terminate(&mut i, Timestamp(9)), Err(InstanceError::NotPermitted(_))));
        assert_eq!(i.state, InstanceState::Running, "a refusal changes nothing");
        i.disable_api_termination = false;
        i.disable_api_stop = true;
        assert!(matches!(stop(&mut i, Timestamp(9)), Err(InstanceError::NotPermitted(_))));
        assert_eq!(terminate(&mut i, Timestamp(10)), Ok((InstanceState::Running, InstanceState::ShuttingDown)));
        assert_eq!(i.state, InstanceState::Terminated);
        assert_eq!(terminate(&mut i, Timestamp(11)), Ok((InstanceState::Terminated, InstanceState::Terminated)));
        assert!(matches!(start(&mut i, Timestamp(12)), Err(InstanceError::IncorrectState(m)) if m.contains("started")));
        assert!(matches!(stop(&mut i, Timestamp(12)), Err(InstanceError::IncorrectState(m)) if m.contains("stopped")));
        assert!(i.visible_at(Timestamp(10 + TERMINATED_VISIBLE_MS - 1)));
        assert!(!i.visible_at(Timestamp(10 + TERMINATED_VISIBLE_MS)));
        assert!(check_stopped_for(&i, "instanceType").is_err());
    }

    #[test]
    fn validation() {
        assert!(check_instance_type("t3.micro").is_ok());
        assert!(check_instance_type("u-6tb1.metal").is_ok());
        assert!(check_instance_type("m1.small").is_ok());
        for bad in ["t3", "T3.micro", ".micro", "t3.", "t3 micro", "3t.micro"] {
            assert!(matches!(check_instance_type(bad), Err(InstanceError::InvalidValue(_))), "{bad}");
        }
        assert_eq!(check_counts(Some(1), Some(3)), Ok((1, 3)));
        assert!(matches!(check_counts(None, Some(1)), Err(InstanceError::Missing(_))));
        assert!(matches!(check_counts(Some(1), None), Err(InstanceError::Missing(_))));
        assert!(matches!(check_counts(Some(0), Some(1)), Err(InstanceError::InvalidValue(_))));
        assert!(matches!(check_counts(Some(3), Some(2)), Err(InstanceError::InvalidValue(_))));
        assert!(check_user_data("aGVsbG8=").is_ok());
        assert!(check_user_data("not base64!").is_err());
        assert!(check_user_data_len(MAX_USER_DATA).is_ok());
        assert!(check_user_data_len(MAX_USER_DATA + 1).is_err());
        assert!(check_tenancy("dedicated").is_ok());
        assert!(check_tenancy("shared").is_err());
        assert_eq!(ShutdownBehavior::parse("terminate"), Ok(ShutdownBehavior::Terminate));
        assert!(ShutdownBehavior::parse("halt").is_err());
        assert!(check_id("i-0123456789abcdef0").is_ok());
        assert!(check_id("i-123").is_err());
        assert_eq!(root_device_name(Platform::Windows), "/dev/sda1");
        let mut rng = crate::ids::SeededRandom::new(1);
        for kind in [crate::ids::ResourceKind::Instance, crate::ids::ResourceKind::Reservation] {
            let id = kind.new_id(&mut rng);
            assert!(kind.is_well_formed(&id) && id.len() == kind.prefix().len() + 17, "{id}");
        }
        assert!(crate::ids::ResourceKind::Reservation.new_id(&mut rng).starts_with("r-0"));
    }

    #[test]
    fn filters() {
        let i = instance();
        let set = |name: &str, v: &str| FilterSet::compile(&[Filter::new(name, &[v])], &FILTERS).unwrap();
        assert!(set("instance-state-name", "running").matches_untagged(&i));
        assert!(set("instance-state-code", "16").matches_untagged(&i));
        assert!(set("instance-type", "t3.*").matches_untagged(&i));
        assert!(set("private-dns-name", "ip-172-31-0-5.ec2.internal").matches_untagged(&i));
        assert!(set("instance.group-id", "sg-0123456789abcdef0").matches_untagged(&i));
        assert!(set("network-interface.network-interface-id", "eni-0123456789abcdef0").matches_untagged(&i));
        assert!(set("platform-details", "Linux/UNIX").matches_untagged(&i));
        assert!(set("launch-time", "2019-08-16*").matches_untagged(&i));
        assert!(!set("capacity-reservation-id", "*").matches_untagged(&i));
        assert!(!set("platform", "windows").matches_untagged(&i));
        let status = |name: &str, v: &str| FilterSet::compile(&[Filter::new(name, &[v])], &STATUS_FILTERS).unwrap();
        assert!(status("instance-status.status", "ok").matches_untagged(&StatusView(&i)));
        assert!(status("system-status.reachability", "passed").matches_untagged(&StatusView(&i)));
    }
}
