//! On-Demand Capacity Reservations: what they reserve, their states by the clock, the
//! rules of `ModifyCapacityReservation`, splitting and moving, and which launches they
//! take.
//!
//! A reservation reserves `total` instances of one instance type, platform, Availability
//! Zone and tenancy (its *match key*). An instance *occupies* it while it runs and
//! matches, and either targets it or both sides are open (EC2 User Guide, "Capacity
//! Reservations": "instances that have matching attributes run in the Capacity
//! Reservation"; targeted reservations take only launches that name them). How many
//! instances occupy it is counted by the store from one row per instance, in the
//! transaction that launches, stops or terminates them; the schema refuses a count above
//! `total`. The domain decides everything else:
//!
//! * **States.** `active` from creation (immediate reservations), `cancelled` after
//!   `CancelCapacityReservation`, `expired` once a limited `EndDate` has passed, read from
//!   the clock at once (AWS ends it "within an hour" of the end date; Reservoir ends it at
//!   the end date, with no background sweep a test would race).
//! * **Modify.** Only an active reservation may change; `InstanceCount` may not fall below
//!   the instances using it; the match criteria change only while none uses it;
//!   `EndDateType` `unlimited` takes no `EndDate`, `limited` needs one in the future.
//! * **Split and move.** Capacity moves available instances first, then running ones
//!   (they move with their slot); both reservations must be active and alike.

use serde::{Deserialize, Serialize};

use crate::filter::{FilterSchema, Filterable};
use crate::ids::ResourceKind;
use crate::time::Timestamp;

/// The most instances one request may reserve or change (AWS: `InstanceCount` 1–1000 at
/// creation, ±1000 per modification; a reservation's size is bounded only by quotas).
pub const MAX_INSTANCE_COUNT: u32 = 1000;

/// `InstancePlatform` values EC2 documents for capacity reservations.
pub const PLATFORMS: &[&str] = &[
    "Linux/UNIX",
    "Red Hat Enterprise Linux",
    "SUSE Linux",
    "Windows",
    "Windows with SQL Server",
    "Windows with SQL Server Enterprise",
    "Windows with SQL Server Standard",
    "Windows with SQL Server Web",
    "Linux with SQL Server Standard",
    "Linux with SQL Server Web",
    "Linux with SQL Server Enterprise",
    "RHEL with SQL Server Standard",
    "RHEL with SQL Server Enterprise",
    "RHEL with SQL Server Web",
    "RHEL with HA",
    "RHEL with HA and SQL Server Standard",
    "RHEL with HA and SQL Server Enterprise",
    "Ubuntu Pro",
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapacityError {
    #[error("The capacity reservation ID '{0}' is malformed")]
    Malformed(String),
    /// Ids that do not exist (or are not visible to the caller).
    #[error("The capacity reservation ID '{}' does not exist", .0.join(", "))]
    NotFound(Vec<String>),
    #[error("The request must contain the parameter {0}")]
    Missing(&'static str),
    #[error("{0}")]
    InvalidValue(String),
    #[error("{0}")]
    Combination(String),
    /// The reservation's state does not allow the request.
    #[error("{0}")]
    IncorrectState(String),
    /// A launch that names a reservation finds no room (or a reservation that takes no
    /// launch).
    #[error("The requested reservation does not have sufficient compatible and available capacity for this request.")]
    CapacityExceeded,
    /// `capacity-reservations-only` found no reservation with room.
    #[error("There is no Capacity Reservation with available capacity that matches the request.")]
    NoMatchingCapacity,
    /// Another account's reservation: only its owner may change it.
    #[error("{0}")]
    NotOwner(String),
}

/// Well-formed: `cr-` and 8 or 17 lowercase hex digits.
pub fn check_id(id: &str) -> Result<(), CapacityError> {
    if ResourceKind::CapacityReservation.is_well_formed(id) {
        Ok(())
    } else {
        Err(CapacityError::Malformed(id.to_string()))
    }
}

/// What a launch asks of capacity reservations (`CapacityReservationSpecification`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Preference {
    /// Any open reservation that matches, else on demand (the default).
    #[default]
    Open,
    /// Never a reservation.
    None,
    /// Only a reservation: no room is an error.
    Only,
    /// This reservation, or an error.
    Target(String),
}

impl Preference {
    /// `capacityReservationPreference` as DescribeInstances shows it (none with a target).
    pub fn wire_preference(&self) -> Option<&'static str> {
        match self {
            Preference::Open => Some("open"),
            Preference::None => Some("none"),
            Preference::Only => Some("capacity-reservations-only"),
            Preference::Target(_) => None,
        }
    }

    pub fn target(&self) -> Option<&str> {
        match self {
            Preference::Target(id) => Some(id),
            _ => None,
        }
    }
}

/// The reservation an instance occupies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// The reservation's owner (another account when it was shared).
    pub owner: String,
    pub id: String,
}

/// What a launched instance matches on.
#[derive(Debug, Clone, Copy)]
pub struct Launch<'a> {
    pub instance_type: &'a str,
    /// `PlatformDetails` of the image (`Linux/UNIX`, `Windows`, …).
    pub platform: &'a str,
    pub zone: &'a str,
    /// `default` or `dedicated`.
    pub tenancy: &'a str,
}

impl Launch<'_> {
    pub fn match_key(&self) -> String {
        match_key(self.instance_type, self.platform, self.zone, self.tenancy)
    }
}

/// The key launches and reservations meet on.
pub fn match_key(instance_type: &str, platform: &str, zone: &str, tenancy: &str) -> String {
    format!("{instance_type}|{platform}|{zone}|{tenancy}")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MatchCriteria {
    Open,
    Targeted,
}

impl MatchCriteria {
    pub const fn as_str(self) -> &'static str {
        match self {
            MatchCriteria::Open => "open",
            MatchCriteria::Targeted => "targeted",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EndDateType {
    Unlimited,
    Limited,
}

impl EndDateType {
    pub const fn as_str(self) -> &'static str {
        match self {
            EndDateType::Unlimited => "unlimited",
            EndDateType::Limited => "limited",
        }
    }
}

/// A reservation's state as `DescribeCapacityReservations` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Active,
    Expired,
    Cancelled,
}

impl State {
    pub const fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Expired => "expired",
            State::Cancelled => "cancelled",
        }
    }
}

/// A stored capacity reservation. Its size and use live in the store's counting row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityReservation {
    pub id: String,
    pub owner: String,
    pub region: String,
    pub instance_type: String,
    pub platform: String,
    pub zone: String,
    pub zone_id: String,
    pub tenancy: String,
    pub ebs_optimized: bool,
    pub ephemeral_storage: bool,
    pub end_date_type: EndDateType,
    pub end_date: Option<Timestamp>,
    pub match_criteria: MatchCriteria,
    pub created: Timestamp,
    /// When it was cancelled.
    pub cancelled: Option<Timestamp>,
}

impl CapacityReservation {
    pub fn arn(&self) -> String {
        format!("arn:aws:ec2:{}:{}:capacity-reservation/{}", self.region, self.owner, self.id)
    }

    pub fn state(&self, now: Timestamp) -> State {
        if self.cancelled.is_some() {
            State::Cancelled
        } else if self.end_date.is_some_and(|end| end <= now) {
            State::Expired
        } else {
            State::Active
        }
    }

    pub fn match_key(&self) -> String {
        match_key(&self.instance_type, &self.platform, &self.zone, &self.tenancy)
    }

    /// Milliseconds after which it takes no launch.
    pub fn end_at(&self) -> Option<i64> {
        self.end_date.map(|t| t.millis())
    }

    /// Whether it still takes launches (open ones or targeted) before its end.
    pub fn usable(&self) -> bool {
        self.cancelled.is_none()
    }

    /// When its state last changed to what it is now: `cancelled` or `expired` time.
    pub fn ended(&self, now: Timestamp) -> Option<Timestamp> {
        match self.state(now) {
            State::Active => None,
            State::Expired => self.end_date,
            State::Cancelled => self.cancelled,
        }
    }

    /// Refuses a change unless the reservation is active.
    pub fn check_active(&self, now: Timestamp, action: &str) -> Result<(), CapacityError> {
        match self.state(now) {
            State::Active => Ok(()),
            s => Err(CapacityError::IncorrectState(format!(
                "The capacity reservation {} is in the {} state and cannot be {action}.",
                self.id,
                s.as_str()
            ))),
        }
    }
}

/// Checks `EndDateType` against `EndDate`: unlimited takes none; limited needs one after
/// `now`. Returns the end date to keep.
pub fn check_end(
    end_type: EndDateType,
    end_date: Option<Timestamp>,
    now: Timestamp,
) -> Result<Option<Timestamp>, CapacityError> {
    match (end_type, end_date) {
        (EndDateType::Unlimited, None) => Ok(None),
        (EndDateType::Unlimited, Some(_)) => {
            Err(CapacityError::Combination("EndDate cannot be specified when EndDateType is unlimited.".into()))
        }
        (EndDateType::Limited, None) => Err(CapacityError::Missing("EndDate")),
        (EndDateType::Limited, Some(end)) if end <= now => {
            Err(CapacityError::InvalidValue("The end date of a capacity reservation must be in the future.".into()))
        }
        (EndDateType::Limited, Some(end)) => Ok(Some(end)),
    }
}

/// Checks a requested `InstanceCount`.
pub fn check_count(count: i32, name: &str) -> Result<u32, CapacityError> {
    if count < 1 || count as u32 > MAX_INSTANCE_COUNT {
        return Err(CapacityError::InvalidValue(format!(
            "Value ({count}) for parameter {name} is invalid. It must be between 1 and {MAX_INSTANCE_COUNT}."
        )));
    }
    Ok(count as u32)
}

/// Checks an `InstancePlatform`.
pub fn check_platform(platform: &str) -> Result<(), CapacityError> {
    if PLATFORMS.contains(&platform) {
        Ok(())
    } else {
        Err(CapacityError::InvalidValue(format!(
            "Value ({platform}) for parameter InstancePlatform is invalid. Valid values are: {}.",
            PLATFORMS.join(", ")
        )))
    }
}

/// Checks an instance type's shape (`family.size`, e.g. `m5.large`, `u-6tb1.metal`).
pub fn check_instance_type(t: &str) -> Result<(), CapacityError> {
    let ok = t.split_once('.').is_some_and(|(family, size)| {
        !family.is_empty()
            && !size.is_empty()
            && family.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && size.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && family.starts_with(|c: char| c.is_ascii_lowercase())
    }) && t.len() <= 64;
    if ok { Ok(()) } else { Err(CapacityError::InvalidValue(format!("Invalid value '{t}' for InstanceType."))) }
}

/// A new `InstanceCount` asked of `ModifyCapacityReservation`: at least 1, and at most
/// 1,000 more or fewer than the reservation has (AWS: "can't be increased or decreased
/// by more than 1000 in a single request").
pub fn check_new_count(current: u32, requested: i32) -> Result<u32, CapacityError> {
    if requested < 1 || (i64::from(requested) - i64::from(current)).abs() > i64::from(MAX_INSTANCE_COUNT) {
        return Err(CapacityError::InvalidValue(format!(
            "Value ({requested}) for parameter InstanceCount is invalid. It must be at least 1 and differ from the \
             current count ({current}) by at most {MAX_INSTANCE_COUNT}."
        )));
    }
    Ok(requested as u32)
}

/// A new `InstanceCount` for a reservation used by `used` instances.
pub fn check_resize(r: &CapacityReservation, new_total: u32, used: u32) -> Result<(), CapacityError> {
    if new_total < used {
        return Err(CapacityError::InvalidValue(format!(
            "The instance count ({new_total}) cannot be lower than the number of instances using the capacity \
             reservation {} ({used}).",
            r.id
        )));
    }
    Ok(())
}

/// Changing the match criteria needs a reservation nobody uses.
pub fn check_criteria_change(r: &CapacityReservation, to: MatchCriteria, used: u32) -> Result<(), CapacityError> {
    if to != r.match_criteria && used > 0 {
        return Err(CapacityError::IncorrectState(format!(
            "The instance match criteria of capacity reservation {} can be changed only while no instance uses it.",
            r.id
        )));
    }
    Ok(())
}

/// How `n` instances of capacity leave a reservation of `total` used by `used`: how many
/// free slots and how many running instances move. At least one instance must stay.
pub fn split(source: &CapacityReservation, total: u32, used: u32, n: u32) -> Result<(u32, u32), CapacityError> {
    if n >= total {
        return Err(CapacityError::InvalidValue(format!(
            "The instance count ({n}) must be lower than the total instance count of capacity reservation {} ({total}).",
            source.id
        )));
    }
    let free = total - used;
    let from_free = n.min(free);
    Ok((from_free, n - from_free))
}

/// Whether two reservations are alike enough to move capacity between them (AWS: same
/// instance type, platform, Availability Zone, tenancy and owner).
pub fn check_movable(source: &CapacityReservation, dest: &CapacityReservation) -> Result<(), CapacityError> {
    if source.id == dest.id {
        return Err(CapacityError::InvalidValue(
            "The source and destination capacity reservations must differ.".into(),
        ));
    }
    if source.match_key() != dest.match_key() || source.owner != dest.owner {
        return Err(CapacityError::InvalidValue(format!(
            "Capacity can only be moved between capacity reservations with the same instance type, platform, \
             Availability Zone and tenancy: {} and {} differ.",
            source.id, dest.id
        )));
    }
    Ok(())
}

/// A reservation with its counts and its state at `now`: what describes show and filter.
#[derive(Debug, Clone)]
pub struct View {
    pub reservation: CapacityReservation,
    pub total: u32,
    pub used: u32,
    pub state: State,
}

impl View {
    pub fn new(reservation: CapacityReservation, total: u32, used: u32, now: Timestamp) -> View {
        let state = reservation.state(now);
        View { reservation, total, used, state }
    }

    pub fn available(&self) -> u32 {
        self.total.saturating_sub(self.used)
    }
}

pub const FILTERS: FilterSchema = FilterSchema {
    names: &[
        "instance-type",
        "owner-id",
        "instance-platform",
        "availability-zone",
        "tenancy",
        "outpost-arn",
        "state",
        "start-date",
        "end-date",
        "end-date-type",
        "instance-match-criteria",
        "placement-group-arn",
        "capacity-reservation-id",
    ],
    aliases: &[],
    tags: true,
};

impl Filterable for View {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        let r = &self.reservation;
        match name {
            "instance-type" => m(&r.instance_type),
            "owner-id" => m(&r.owner),
            "instance-platform" => m(&r.platform),
            "availability-zone" => m(&r.zone),
            "tenancy" => m(&r.tenancy),
            "state" => m(self.state.as_str()),
            "start-date" => m(&r.created.iso8601()),
            "end-date" => r.end_date.is_some_and(|d| m(&d.iso8601())),
            "end-date-type" => m(r.end_date_type.as_str()),
            "instance-match-criteria" => m(r.match_criteria.as_str()),
            "capacity-reservation-id" => m(&r.id),
            // No reservation is on an Outpost or in a placement group.
            "outpost-arn" | "placement-group-arn" => false,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reservation() -> CapacityReservation {
        CapacityReservation {
            id: "cr-0123456789abcdef0".into(),
            owner: "111111111111".into(),
            region: "us-east-1".into(),
            instance_type: "m5.large".into(),
            platform: "Linux/UNIX".into(),
            zone: "us-east-1a".into(),
            zone_id: "use1-az1".into(),
            tenancy: "default".into(),
            ebs_optimized: false,
            ephemeral_storage: false,
            end_date_type: EndDateType::Unlimited,
            end_date: None,
            match_criteria: MatchCriteria::Open,
            created: Timestamp(1_000),
            cancelled: None,
        }
    }

    #[test]
    fn states_follow_the_clock_and_cancellation() {
        let mut r = reservation();
        assert_eq!(r.state(Timestamp(5_000)), State::Active);
        r.end_date_type = EndDateType::Limited;
        r.end_date = Some(Timestamp(10_000));
        assert_eq!(r.state(Timestamp(9_999)), State::Active);
        assert_eq!(r.state(Timestamp(10_000)), State::Expired);
        assert_eq!(r.ended(Timestamp(10_000)), Some(Timestamp(10_000)));
        assert!(r.check_active(Timestamp(10_000), "modified").is_err());
        r.cancelled = Some(Timestamp(2_000));
        assert_eq!(r.state(Timestamp(5_000)), State::Cancelled);
        assert!(!r.usable());
    }

    #[test]
    fn end_dates_match_their_type() {
        let now = Timestamp(1_000);
        assert_eq!(check_end(EndDateType::Unlimited, None, now), Ok(None));
        assert!(matches!(
            check_end(EndDateType::Unlimited, Some(Timestamp(5_000)), now),
            Err(CapacityError::Combination(_))
        ));
        assert_eq!(check_end(EndDateType::Limited, None, now), Err(CapacityError::Missing("EndDate")));
        assert!(matches!(
            check_end(EndDateType::Limited, Some(Timestamp(1_000)), now),
            Err(CapacityError::InvalidValue(_))
        ));
        assert_eq!(check_end(EndDateType::Limited, Some(Timestamp(2_000)), now), Ok(Some(Timestamp(2_000))));
    }

    #[test]
    fn counts_types_and_platforms_are_checked() {
        assert!(check_count(0, "InstanceCount").is_err());
        assert!(check_count(1001, "InstanceCount").is_err());
        assert_eq!(check_count(5, "InstanceCount"), Ok(5));
        assert!(check_instance_type("m5.large").is_ok());
        assert!(check_instance_type("u-6tb1.metal").is_ok());
        for bad in ["m5", ".large", "m5.", "M5.large", "m5 .large"] {
            assert!(check_instance_type(bad).is_err(), "{bad}");
        }
        assert!(check_platform("Windows").is_ok());
        assert!(check_platform("windows").is_err());
        assert!(check_id("cr-0123456789abcdef0").is_ok());
        assert!(check_id("cr-xyz").is_err());
    }

    #[test]
    fn resizing_and_criteria_respect_use() {
        let r = reservation();
        assert_eq!(check_new_count(1000, 2000), Ok(2000));
        assert!(check_new_count(1000, 2001).is_err());
        assert!(check_new_count(1500, 0).is_err());
        assert_eq!(check_new_count(1500, 500), Ok(500));
        assert!(check_resize(&r, 2, 3).is_err());
        assert!(check_resize(&r, 3, 3).is_ok());
        assert!(check_criteria_change(&r, MatchCriteria::Targeted, 1).is_err());
        assert!(check_criteria_change(&r, MatchCriteria::Targeted, 0).is_ok());
        assert!(check_criteria_change(&r, MatchCriteria::Open, 4).is_ok());
    }

    #[test]
    fn splitting_takes_free_slots_first_and_leaves_one() {
        let r = reservation();
        assert_eq!(split(&r, 5, 2, 3), Ok((3, 0)));
        assert_eq!(split(&r, 5, 2, 4), Ok((3, 1)));
        assert!(split(&r, 5, 2, 5).is_err());
        let mut other = reservation();
        other.id = "cr-0123456789abcdef1".into();
        assert!(check_movable(&r, &other).is_ok());
        other.instance_type = "m5.xlarge".into();
        assert!(check_movable(&r, &other).is_err());
        assert!(check_movable(&r, &r).is_err());
    }

    #[test]
    fn preferences_answer_as_ec2() {
        assert_eq!(Preference::default().wire_preference(), Some("open"));
        assert_eq!(Preference::Only.wire_preference(), Some("capacity-reservations-only"));
        assert_eq!(Preference::Target("cr-1".into()).wire_preference(), None);
        assert_eq!(Preference::Target("cr-1".into()).target(), Some("cr-1"));
        let l = Launch { instance_type: "m5.large", platform: "Linux/UNIX", zone: "us-east-1a", tenancy: "default" };
        assert_eq!(l.match_key(), reservation().match_key());
    }
}
