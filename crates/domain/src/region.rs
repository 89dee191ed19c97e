//! The catalogue of regions and Availability Zones.
//!
//! Built in: AWS's commercial regions with their Availability Zones and zone ids, and
//! the Los Angeles Local Zones of us-west-2. Zone ids (`use1-az1`) are fixed here; in
//! AWS the name→id mapping differs per account, which no client can rely on anyway.
//!
//! Opt-in, as for a new AWS account: the regions AWS makes accounts opt into
//! (af-south-1, ap-east-1, me-south-1, …) are `not-opted-in`, and so are Local Zones
//! (by zone group). [`Catalogue::opt_in`] opts regions or zone groups in (the server's
//! configuration says which). A region that is not enabled refuses requests signed for
//! it and is listed by `DescribeRegions` only with `AllRegions`; a zone that is not
//! enabled is listed by `DescribeAvailabilityZones` only with `AllAvailabilityZones`.
//! A deployment can also replace the catalogue (`[[regions]]` in the config file).

use serde::{Deserialize, Serialize};

use crate::filter::{FilterSchema, Filterable};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RegionInfo {
    pub name: String,
    /// "US East (N. Virginia)"
    #[serde(default)]
    pub long_name: String,
    /// `opt-in-not-required`, `opted-in` or `not-opted-in`.
    #[serde(default = "default_opt_in")]
    pub opt_in_status: String,
    pub zones: Vec<ZoneInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ZoneInfo {
    pub name: String,
    pub id: String,
    /// `availability-zone`, `local-zone` or `wavelength-zone`.
    #[serde(default = "default_zone_type")]
    pub zone_type: String,
    /// `available`, `information`, `impaired`, `unavailable` or `constrained`.
    #[serde(default = "default_state")]
    pub state: String,
    /// Local and Wavelength Zones: the zone group (`us-west-2-lax-1`), which is also the
    /// network border group. Availability Zones: `<region>-zg-1`.
    #[serde(default)]
    pub group_name: Option<String>,
    /// Local and Wavelength Zones: "US West (Los Angeles)".
    #[serde(default)]
    pub group_long_name: Option<String>,
    /// Local and Wavelength Zones: the Availability Zone that handles their control plane.
    #[serde(default)]
    pub parent_zone_name: Option<String>,
    /// Local and Wavelength Zones: `opted-in` or `not-opted-in` (the default).
    /// Availability Zones need no opt-in.
    #[serde(default)]
    pub opt_in_status: Option<String>,
}

fn default_opt_in() -> String {
    "opt-in-not-required".into()
}
fn default_zone_type() -> String {
    "availability-zone".into()
}
fn default_state() -> String {
    "available".into()
}

impl RegionInfo {
    /// Whether requests may be made in this region.
    pub fn enabled(&self) -> bool {
        self.opt_in_status != "not-opted-in"
    }

    /// The EC2 endpoint AWS lists for the region.
    pub fn endpoint(&self) -> String {
        let mut out = String::with_capacity(self.name.len() + 18);
        out.push_str("ec2.");
        out.push_str(&self.name);
        out.push_str(".amazonaws.com");
        out
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Catalogue {
    regions: Vec<RegionInfo>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    #[error("the region catalogue is empty")]
    Empty,
    #[error("region {0} appears twice")]
    DuplicateRegion(String),
    #[error("zone {0} appears twice")]
    DuplicateZone(String),
    #[error("region {0} has an invalid opt-in-status '{1}'")]
    BadOptIn(String, String),
    #[error("cannot opt in to '{0}': it is neither a region nor a Local Zone group of the catalogue")]
    UnknownOptIn(String),
    #[error("zone {0} names a parent zone '{1}' that its region does not have")]
    UnknownParent(String, String),
}

impl Catalogue {
    pub fn new(regions: Vec<RegionInfo>) -> Result<Catalogue, CatalogueError> {
        if regions.is_empty() {
            return Err(CatalogueError::Empty);
        }
        let mut seen_regions = std::collections::HashSet::new();
        let mut seen_zones = std::collections::HashSet::new();
        for r in &regions {
            if !seen_regions.insert(r.name.as_str()) {
                return Err(CatalogueError::DuplicateRegion(r.name.clone()));
            }
            if !["opt-in-not-required", "opted-in", "not-opted-in"].contains(&r.opt_in_status.as_str()) {
                return Err(CatalogueError::BadOptIn(r.name.clone(), r.opt_in_status.clone()));
            }
            for z in &r.zones {
                if !seen_zones.insert(z.name.as_str()) || !seen_zones.insert(z.id.as_str()) {
                    return Err(CatalogueError::DuplicateZone(z.name.clone()));
                }
                if let Some(status) = &z.opt_in_status
                    && !["opted-in", "not-opted-in"].contains(&status.as_str())
                {
                    return Err(CatalogueError::BadOptIn(z.name.clone(), status.clone()));
                }
                if let Some(parent) = &z.parent_zone_name
                    && !r.zones.iter().any(|p| &p.name == parent)
                {
                    return Err(CatalogueError::UnknownParent(z.name.clone(), parent.clone()));
                }
            }
        }
        Ok(Catalogue { regions })
    }

    pub fn builtin() -> Catalogue {
        Catalogue::new(builtin_regions()).expect("the built-in catalogue is valid")
    }

    /// Opts the account into regions (by name) and Local or Wavelength Zone groups (by
    /// group name). Opting into something that needs no opt-in changes nothing.
    pub fn opt_in(&mut self, names: &[String]) -> Result<(), CatalogueError> {
        for name in names {
            let mut found = false;
            for r in &mut self.regions {
                if &r.name == name {
                    found = true;
                    if r.opt_in_status == "not-opted-in" {
                        r.opt_in_status = "opted-in".into();
                    }
                }
                for z in r.zones.iter_mut().filter(|z| z.zone_type != "availability-zone") {
                    if z.group_name.as_ref() == Some(name) {
                        found = true;
                        z.opt_in_status = Some("opted-in".into());
                    }
                }
            }
            if !found {
                return Err(CatalogueError::UnknownOptIn(name.clone()));
            }
        }
        Ok(())
    }

    pub fn regions(&self) -> &[RegionInfo] {
        &self.regions
    }

    pub fn region(&self, name: &str) -> Option<&RegionInfo> {
        self.regions.iter().find(|r| r.name == name)
    }

    /// Zones of a region, with their region.
    pub fn zones<'a>(&'a self, region: &'a RegionInfo) -> impl Iterator<Item = ZoneView<'a>> + 'a {
        region.zones.iter().map(move |zone| ZoneView { region, zone })
    }

    pub fn zone(&self, region: &str, name: &str) -> Option<ZoneView<'_>> {
        let region = self.region(region)?;
        region.zones.iter().find(|z| z.name == name).map(|zone| ZoneView { region, zone })
    }
}

/// `DescribeRegions` filters.
pub const REGION_FILTERS: FilterSchema =
    FilterSchema { names: &["endpoint", "opt-in-status", "region-name"], aliases: &[], tags: false };

impl Filterable for RegionInfo {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "endpoint" => m(&self.endpoint()),
            "opt-in-status" => m(&self.opt_in_status),
            "region-name" => m(&self.name),
            _ => false,
        }
    }
}

/// A zone with its region, as `DescribeAvailabilityZones` shows it.
#[derive(Debug, Clone, Copy)]
pub struct ZoneView<'a> {
    pub region: &'a RegionInfo,
    pub zone: &'a ZoneInfo,
}

impl ZoneView<'_> {
    fn is_az(&self) -> bool {
        self.zone.zone_type == "availability-zone"
    }

    /// Availability Zones need no opt-in; Local and Wavelength Zones are opted into by
    /// zone group, and are not until then.
    pub fn opt_in_status(&self) -> &str {
        if self.is_az() { "opt-in-not-required" } else { self.zone.opt_in_status.as_deref().unwrap_or("not-opted-in") }
    }

    /// Whether the zone is listed without `AllAvailabilityZones`.
    pub fn enabled(&self) -> bool {
        self.opt_in_status() != "not-opted-in"
    }

    /// `us-east-1-zg-1` for Availability Zones (AWS's current answer), the zone group
    /// for the others.
    pub fn group_name(&self) -> String {
        match &self.zone.group_name {
            Some(g) => g.clone(),
            None => format!("{}-zg-1", self.region.name),
        }
    }

    pub fn group_long_name(&self) -> String {
        match &self.zone.group_long_name {
            Some(g) => g.clone(),
            None => format!("{} 1", self.region.long_name),
        }
    }

    /// The region for Availability Zones; the zone group for the others.
    pub fn network_border_group(&self) -> String {
        if self.is_az() { self.region.name.clone() } else { self.group_name() }
    }

    /// The parent zone of a Local or Wavelength Zone.
    pub fn parent(&self) -> Option<&ZoneInfo> {
        let name = self.zone.parent_zone_name.as_ref()?;
        self.region.zones.iter().find(|z| &z.name == name)
    }
}

/// `DescribeAvailabilityZones` filters. `parent-zoneID` and `parent-zoneName` were the
/// documented spellings from 2020 to 2024 (botocore's EC2 model), and are accepted still.
pub const ZONE_FILTERS: FilterSchema = FilterSchema {
    names: &[
        "group-long-name",
        "group-name",
        "message",
        "opt-in-status",
        "parent-zone-id",
        "parent-zone-name",
        "region-name",
        "state",
        "zone-id",
        "zone-name",
        "zone-type",
    ],
    aliases: &[("parent-zoneID", "parent-zone-id"), ("parent-zoneName", "parent-zone-name")],
    tags: false,
};

impl Filterable for ZoneView<'_> {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "group-long-name" => m(&self.group_long_name()),
            "group-name" => m(&self.group_name()),
            "opt-in-status" => m(self.opt_in_status()),
            "parent-zone-id" => self.parent().is_some_and(|p| m(&p.id)),
            "parent-zone-name" => self.parent().is_some_and(|p| m(&p.name)),
            "region-name" => m(&self.region.name),
            "state" => m(&self.zone.state),
            "zone-id" => m(&self.zone.id),
            "zone-name" => m(&self.zone.name),
            "zone-type" => m(&self.zone.zone_type),
            // No zone has messages.
            _ => false,
        }
    }
}

/// (region, long name, opt-in region?, zone id prefix, [(zone letter, zone id number)])
type BuiltinRegion = (&'static str, &'static str, bool, &'static str, &'static [(&'static str, u8)]);

const BUILTIN: &[BuiltinRegion] = &[
    (
        "us-east-1",
        "US East (N. Virginia)",
        false,
        "use1",
        &[("a", 1), ("b", 2), ("c", 4), ("d", 6), ("e", 3), ("f", 5)],
    ),
    ("us-east-2", "US East (Ohio)", false, "use2", &[("a", 1), ("b", 2), ("c", 3)]),
    ("us-west-1", "US West (N. California)", false, "usw1", &[("a", 1), ("c", 3)]),
    ("us-west-2", "US West (Oregon)", false, "usw2", &[("a", 1), ("b", 2), ("c", 3), ("d", 4)]),
    ("af-south-1", "Africa (Cape Town)", true, "afs1", &[("a", 1), ("b", 2), ("c", 3)]),
    ("ap-east-1", "Asia Pacific (Hong Kong)", true, "ape1", &[("a", 1), ("b", 2), ("c", 3)]),
    ("ap-south-1", "Asia Pacific (Mumbai)", false, "aps1", &[("a", 1), ("b", 3), ("c", 2)]),
    ("ap-south-2", "Asia Pacific (Hyderabad)", true, "aps2", &[("a", 1), ("b", 2), ("c", 3)]),
    ("ap-northeast-1", "Asia Pacific (Tokyo)", false, "apne1", &[("a", 4), ("c", 1), ("d", 2)]),
    ("ap-northeast-2", "Asia Pacific (Seoul)", false, "apne2", &[("a", 1), ("b", 2), ("c", 3), ("d", 4)]),
    ("ap-northeast-3", "Asia Pacific (Osaka)", false, "apne3", &[("a", 3), ("b", 1), ("c", 2)]),
    ("ap-southeast-1", "Asia Pacific (Singapore)", false, "apse1", &[("a", 2), ("b", 1), ("c", 3)]),
    ("ap-southeast-2", "Asia Pacific (Sydney)", false, "apse2", &[("a", 3), ("b", 1), ("c", 2)]),
    ("ap-southeast-3", "Asia Pacific (Jakarta)", true, "apse3", &[("a", 1), ("b", 2), ("c", 3)]),
    ("ap-southeast-4", "Asia Pacific (Melbourne)", true, "apse4", &[("a", 1), ("b", 2), ("c", 3)]),
    ("ca-central-1", "Canada (Central)", false, "cac1", &[("a", 1), ("b", 2), ("d", 4)]),
    ("ca-west-1", "Canada West (Calgary)", true, "caw1", &[("a", 1), ("b", 2), ("c", 3)]),
    ("eu-central-1", "Europe (Frankfurt)", false, "euc1", &[("a", 1), ("b", 2), ("c", 3)]),
    ("eu-central-2", "Europe (Zurich)", true, "euc2", &[("a", 1), ("b", 2), ("c", 3)]),
    ("eu-west-1", "Europe (Ireland)", false, "euw1", &[("a", 1), ("b", 2), ("c", 3)]),
    ("eu-west-2", "Europe (London)", false, "euw2", &[("a", 2), ("b", 3), ("c", 1)]),
    ("eu-west-3", "Europe (Paris)", false, "euw3", &[("a", 1), ("b", 2), ("c", 3)]),
    ("eu-south-1", "Europe (Milan)", true, "eus1", &[("a", 1), ("b", 2), ("c", 3)]),
    ("eu-south-2", "Europe (Spain)", true, "eus2", &[("a", 1), ("b", 2), ("c", 3)]),
    ("eu-north-1", "Europe (Stockholm)", false, "eun1", &[("a", 1), ("b", 2), ("c", 3)]),
    ("il-central-1", "Israel (Tel Aviv)", true, "ilc1", &[("a", 1), ("b", 2), ("c", 3)]),
    ("me-south-1", "Middle East (Bahrain)", true, "mes1", &[("a", 1), ("b", 2), ("c", 3)]),
    ("me-central-1", "Middle East (UAE)", true, "mec1", &[("a", 1), ("b", 2), ("c", 3)]),
    ("sa-east-1", "South America (São Paulo)", false, "sae1", &[("a", 1), ("b", 2), ("c", 3)]),
];

/// Local Zones: (region, zone name, zone id, group, group long name, parent zone).
const BUILTIN_LOCAL_ZONES: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("us-west-2", "us-west-2-lax-1a", "usw2-lax1-az1", "us-west-2-lax-1", "US West (Los Angeles)", "us-west-2d"),
    ("us-west-2", "us-west-2-lax-1b", "usw2-lax1-az2", "us-west-2-lax-1", "US West (Los Angeles)", "us-west-2d"),
];

fn builtin_regions() -> Vec<RegionInfo> {
    BUILTIN
        .iter()
        .map(|(name, long, opt_in, id_prefix, zones)| RegionInfo {
            name: name.to_string(),
            long_name: long.to_string(),
            opt_in_status: if *opt_in { "not-opted-in" } else { "opt-in-not-required" }.to_string(),
            zones: zones
                .iter()
                .map(|(suffix, n)| ZoneInfo {
                    name: format!("{name}{suffix}"),
                    id: format!("{id_prefix}-az{n}"),
                    zone_type: default_zone_type(),
                    state: default_state(),
                    group_name: None,
                    group_long_name: None,
                    parent_zone_name: None,
                    opt_in_status: None,
                })
                .chain(BUILTIN_LOCAL_ZONES.iter().filter(|z| z.0 == *name).map(
                    |(_, zone, id, group, group_long, parent)| ZoneInfo {
                        name: zone.to_string(),
                        id: id.to_string(),
                        zone_type: "local-zone".into(),
                        state: default_state(),
                        group_name: Some(group.to_string()),
                        group_long_name: Some(group_long.to_string()),
                        parent_zone_name: Some(parent.to_string()),
                        opt_in_status: Some("not-opted-in".into()),
                    },
                ))
                .collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalogue_is_consistent() {
        let c = Catalogue::builtin();
        assert!(c.regions().len() >= 29);
        let use1 = c.region("us-east-1").unwrap();
        assert_eq!(use1.zones.len(), 6);
        let z = c.zone("us-east-1", "us-east-1a").unwrap();
        assert_eq!(z.zone.id, "use1-az1");
        assert_eq!(z.group_long_name(), "US East (N. Virginia) 1");
        assert_eq!(z.group_name(), "us-east-1-zg-1");
        assert_eq!(z.network_border_group(), "us-east-1");
        assert!(z.enabled());
        // As for a new account: the opt-in regions and the Local Zones are not enabled.
        assert!(c.region("us-east-1").unwrap().enabled());
        assert!(!c.region("af-south-1").unwrap().enabled());
        assert_eq!(c.region("me-south-1").unwrap().opt_in_status, "not-opted-in");
        let lax = c.zone("us-west-2", "us-west-2-lax-1a").unwrap();
        assert!(!lax.enabled());
        assert_eq!(lax.network_border_group(), "us-west-2-lax-1");
        assert_eq!(lax.parent().unwrap().id, "usw2-az4");
    }

    #[test]
    fn opting_in() {
        let mut c = Catalogue::builtin();
        c.opt_in(&["af-south-1".into(), "us-west-2-lax-1".into(), "us-east-1".into()]).unwrap();
        assert_eq!(c.region("af-south-1").unwrap().opt_in_status, "opted-in");
        assert_eq!(c.region("us-east-1").unwrap().opt_in_status, "opt-in-not-required");
        assert!(c.zone("us-west-2", "us-west-2-lax-1b").unwrap().enabled());
        assert!(!c.region("me-south-1").unwrap().enabled());
        assert_eq!(c.opt_in(&["mars-1".into()]), Err(CatalogueError::UnknownOptIn("mars-1".into())));
    }

    #[test]
    fn validation() {
        let r = |name: &str, zone: &str| RegionInfo {
            name: name.into(),
            long_name: String::new(),
            opt_in_status: default_opt_in(),
            zones: vec![ZoneInfo {
                name: zone.into(),
                id: format!("{zone}-id"),
                zone_type: default_zone_type(),
                state: default_state(),
                group_name: None,
                group_long_name: None,
                parent_zone_name: None,
                opt_in_status: None,
            }],
        };
        assert_eq!(Catalogue::new(vec![]), Err(CatalogueError::Empty));
        assert!(matches!(Catalogue::new(vec![r("x", "xa"), r("x", "xb")]), Err(CatalogueError::DuplicateRegion(_))));
        assert!(matches!(Catalogue::new(vec![r("x", "xa"), r("y", "xa")]), Err(CatalogueError::DuplicateZone(_))));
    }
}
