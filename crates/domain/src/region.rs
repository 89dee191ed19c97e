//! The catalogue of regions and Availability Zones.
//!
//! Built in: AWS's commercial regions with their zones and zone ids. Zone ids
//! (`use1-az1`) are fixed here; in AWS the name→id mapping differs per account, which
//! no client can rely on anyway. Regions that AWS makes accounts opt into are listed as
//! `opted-in`. A deployment can replace the catalogue (`[[regions]]` in the config file),
//! for example to add a local zone or to mark a region `not-opted-in`, which makes
//! Reservoir refuse requests signed for it, as AWS does for a disabled region.

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
        format!("ec2.{}.amazonaws.com", self.name)
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
            }
        }
        Ok(Catalogue { regions })
    }

    pub fn builtin() -> Catalogue {
        Catalogue::new(builtin_regions()).expect("the built-in catalogue is valid")
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
    FilterSchema { names: &["endpoint", "opt-in-status", "region-name"], tags: false };

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
    /// Zones of a region share its opt-in status; standard zones need none.
    pub fn opt_in_status(&self) -> &str {
        if self.zone.zone_type == "availability-zone" { "opt-in-not-required" } else { &self.region.opt_in_status }
    }

    pub fn group_name(&self) -> &str {
        &self.region.name
    }

    pub fn group_long_name(&self) -> String {
        format!("{} 1", self.region.long_name)
    }

    pub fn network_border_group(&self) -> &str {
        &self.region.name
    }
}

/// `DescribeAvailabilityZones` filters.
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
    tags: false,
};

impl Filterable for ZoneView<'_> {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "group-long-name" => m(&self.group_long_name()),
            "group-name" => m(self.group_name()),
            "opt-in-status" => m(self.opt_in_status()),
            "region-name" => m(&self.region.name),
            "state" => m(&self.zone.state),
            "zone-id" => m(&self.zone.id),
            "zone-name" => m(&self.zone.name),
            "zone-type" => m(&self.zone.zone_type),
            // Standard zones have no messages and no parent zone.
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

fn builtin_regions() -> Vec<RegionInfo> {
    BUILTIN
        .iter()
        .map(|(name, long, opt_in, id_prefix, zones)| RegionInfo {
            name: name.to_string(),
            long_name: long.to_string(),
            opt_in_status: if *opt_in { "opted-in" } else { "opt-in-not-required" }.to_string(),
            zones: zones
                .iter()
                .map(|(suffix, n)| ZoneInfo {
                    name: format!("{name}{suffix}"),
                    id: format!("{id_prefix}-az{n}"),
                    zone_type: default_zone_type(),
                    state: default_state(),
                })
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
        assert!(c.regions().iter().all(RegionInfo::enabled));
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
            }],
        };
        assert_eq!(Catalogue::new(vec![]), Err(CatalogueError::Empty));
        assert!(matches!(Catalogue::new(vec![r("x", "xa"), r("x", "xb")]), Err(CatalogueError::DuplicateRegion(_))));
        assert!(matches!(Catalogue::new(vec![r("x", "xa"), r("y", "xa")]), Err(CatalogueError::DuplicateZone(_))));
    }
}
