//! Machine images (AMIs): the catalogue `DescribeImages` answers from and `RunInstances`
//! reads an image's platform from.
//!
//! What Reservoir models (EC2 API reference `DescribeImages`, "Find an AMI", "Deprecate an
//! AMI", "AMI billing information"):
//! * a catalogue of public images per region, read-only: the built-in one ([`BUILTIN`]:
//!   Amazon Linux 2023 and 2, Ubuntu 22.04 and 24.04, Windows Server 2022 and 2019, Red
//!   Hat Enterprise Linux 9, SUSE Linux Enterprise Server 15, Debian 12), offered in every
//!   region, or the one a deployment configures (`[[images]]` in the config file, which
//!   *replaces* the built-in catalogue, as `[[regions]]` replaces the built-in regions);
//! * a built-in image's id is `ami-0` + 16 hex of a SHA-256 of ("ami", region, name), and
//!   its root snapshot's `snap-0` + 16 hex of ("snap", region, name): the same on every
//!   server and after every restart, and different per region as AWS's are. A configured
//!   image keeps the id it is given in every region it is offered in (test suites name
//!   such ids); its snapshot id is derived from (region, id);
//! * an image's *platform* ([`Platform`]) decides `PlatformDetails`, `UsageOperation` and
//!   `Platform` (`windows` for Windows only);
//! * deprecated images (a `DeprecationTime` in the past) are left out of listings unless
//!   `IncludeDeprecated` is set or the image is asked for by id;
//! * the images one may see are the public ones and one's own (a configured private image
//!   is seen by its owner only). Nobody is given explicit launch permissions, so
//!   `ExecutableBy` `self` or an account id matches nothing and `all` matches the public
//!   images. Catalogue images carry no tags, product codes, kernel or ramdisk.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::filter::{FilterSchema, Filterable};

/// What an image runs, as billing sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Platform {
    LinuxUnix,
    Windows,
    RedHat,
    Suse,
}

impl Platform {
    pub const ALL: [Platform; 4] = [Platform::LinuxUnix, Platform::Windows, Platform::RedHat, Platform::Suse];

    /// `PlatformDetails`.
    pub const fn details(self) -> &'static str {
        match self {
            Platform::LinuxUnix => "Linux/UNIX",
            Platform::Windows => "Windows",
            Platform::RedHat => "Red Hat Enterprise Linux",
            Platform::Suse => "SUSE Linux",
        }
    }

    /// `UsageOperation` (the billing code of "AMI billing information").
    pub const fn usage_operation(self) -> &'static str {
        match self {
            Platform::LinuxUnix => "RunInstances",
            Platform::Windows => "RunInstances:0002",
            Platform::RedHat => "RunInstances:0010",
            Platform::Suse => "RunInstances:000g",
        }
    }

    /// The platform of a `PlatformDetails` value.
    pub fn from_details(details: &str) -> Option<Platform> {
        Platform::ALL.into_iter().find(|p| p.details() == details)
    }

    /// `Platform` (`windows`), which only Windows images have.
    pub const fn platform_value(self) -> Option<&'static str> {
        match self {
            Platform::Windows => Some("windows"),
            _ => None,
        }
    }
}

/// What `RunInstances` does with an `ami-` id the catalogue does not have: `lenient`
/// launches it as Linux/UNIX (test suites use ids of real images they do not declare),
/// `strict` refuses it with `InvalidAMIID.NotFound`, as AWS does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImageMode {
    #[default]
    Lenient,
    Strict,
}

/// Architectures an image may have (`ArchitectureValues`).
pub const ARCHITECTURES: &[&str] = &["i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac"];
/// EBS volume types (`VolumeType`).
pub const VOLUME_TYPES: &[&str] = &["standard", "io1", "io2", "gp2", "sc1", "st1", "gp3"];
/// Boot modes (`BootModeValues`).
pub const BOOT_MODES: &[&str] = &["legacy-bios", "uefi", "uefi-preferred"];
/// The owner aliases EC2 knows (`Owner.N` and the `owner-alias` filter).
pub const OWNER_ALIASES: &[&str] = &["amazon", "aws-marketplace", "aws-backup-vault"];

/// What every catalogue image has in common.
pub const IMAGE_TYPE: &str = "machine";
pub const STATE: &str = "available";
pub const HYPERVISOR: &str = "xen";
pub const VIRTUALIZATION_TYPE: &str = "hvm";
pub const ROOT_DEVICE_TYPE: &str = "ebs";
pub const SRIOV_NET_SUPPORT: &str = "simple";

/// An image as `DescribeImages` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner_id: String,
    pub owner_alias: Option<String>,
    pub public: bool,
    pub architecture: String,
    pub platform: Platform,
    /// `ImageLocation`: `<alias or owner>/<name>`.
    pub location: String,
    pub root_device_name: String,
    pub snapshot_id: String,
    pub volume_size: u32,
    pub volume_type: String,
    /// `YYYY-MM-DDThh:mm:ss.sssZ`.
    pub creation_date: String,
    pub deprecation_time: Option<String>,
    pub boot_mode: Option<String>,
    pub imds_support: Option<String>,
    pub tpm_support: Option<String>,
    pub free_tier_eligible: bool,
}

impl Image {
    /// Whether `account` may see (and launch) it: public, or its own.
    pub fn visible_to(&self, account: &str) -> bool {
        self.public || self.owner_id == account
    }

    /// Whether its deprecation time has passed at `now_ms`.
    pub fn deprecated_at(&self, now_ms: i64) -> bool {
        self.deprecation_time.as_deref().and_then(parse_time).is_some_and(|t| t <= now_ms)
    }

    /// Whether it matches one `Owner.N` value (already checked by [`check_owner`]).
    pub fn owned_by(&self, owner: &str, account: &str) -> bool {
        match owner {
            "self" => self.owner_id == account,
            o if OWNER_ALIASES.contains(&o) => self.owner_alias.as_deref() == Some(o),
            o => self.owner_id == o,
        }
    }

    /// Whether it matches one `ExecutableBy.N` value: `all` is every public image; no
    /// account has explicit launch permissions, so `self` and account ids match none.
    pub fn executable_by(&self, user: &str) -> bool {
        user == "all" && self.public
    }
}

/// Errors of the image family.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageError {
    #[error("Invalid id: \"{0}\" (expecting \"ami-...\")")]
    Malformed(String),
    #[error("The image id '[{}]' does not exist", .0.join(", "))]
    NotFound(Vec<String>),
    #[error("Invalid user id: \"{0}\"")]
    InvalidUser(String),
}

/// Whether `id` has the form of an image id: `ami-` and 8 or 17 lowercase hex digits.
pub fn is_image_id(id: &str) -> bool {
    id.strip_prefix("ami-").is_some_and(|h| {
        (h.len() == 8 || h.len() == 17) && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

pub fn check_id(id: &str) -> Result<(), ImageError> {
    if is_image_id(id) { Ok(()) } else { Err(ImageError::Malformed(id.to_string())) }
}

fn is_account_id(s: &str) -> bool {
    s.len() == 12 && s.bytes().all(|b| b.is_ascii_digit())
}

/// An `Owner.N` value: `self`, an owner alias, or an account id.
pub fn check_owner(owner: &str) -> Result<(), ImageError> {
    if owner == "self" || OWNER_ALIASES.contains(&owner) || is_account_id(owner) {
        Ok(())
    } else {
        Err(ImageError::InvalidUser(owner.to_string()))
    }
}

/// An `ExecutableBy.N` value: `self`, `all`, or an account id.
pub fn check_executable_user(user: &str) -> Result<(), ImageError> {
    if user == "self" || user == "all" || is_account_id(user) {
        Ok(())
    } else {
        Err(ImageError::InvalidUser(user.to_string()))
    }
}

// ---------------------------------------------------------------------------------
// The built-in catalogue

/// One image of the built-in catalogue, the same in every region but for its ids.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    pub name: &'static str,
    pub description: &'static str,
    pub owner_id: &'static str,
    pub owner_alias: Option<&'static str>,
    pub architecture: &'static str,
    pub platform: Platform,
    pub root_device_name: &'static str,
    pub volume_size: u32,
    pub volume_type: &'static str,
    pub creation_date: &'static str,
    pub deprecation_time: Option<&'static str>,
    pub boot_mode: Option<&'static str>,
    pub imds_support: Option<&'static str>,
}

const AMAZON: &str = "137112412989";
const WINDOWS: &str = "801119661308";
const CANONICAL: &str = "099720109477";
const RED_HAT: &str = "309956199498";
const SUSE: &str = "013907871322";
const DEBIAN: &str = "136693071363";

/// The built-in catalogue, in the order listings show it. Names, descriptions, owners
/// and device layouts follow the images AWS and the vendors publish; the previous Amazon
/// Linux 2023 release is there deprecated, as AWS keeps older releases.
pub const BUILTIN: &[Builtin] = &[
    Builtin {
        name: "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64",
        description: "Amazon Linux 2023 AMI 2023.6.20241212.0 x86_64 HVM kernel-6.1",
        owner_id: AMAZON,
        owner_alias: Some("amazon"),
        architecture: "x86_64",
        platform: Platform::LinuxUnix,
        root_device_name: "/dev/xvda",
        volume_size: 8,
        volume_type: "gp3",
        creation_date: "2024-12-12T18:46:26.000Z",
        deprecation_time: None,
        boot_mode: Some("uefi-preferred"),
        imds_support: Some("v2.0"),
    },
    Builtin {
        name: "al2023-ami-2023.6.20241212.0-kernel-6.1-arm64",
        description: "Amazon Linux 2023 AMI 2023.6.20241212.0 arm64 HVM kernel-6.1",
        owner_id: AMAZON,
        owner_alias: Some("amazon"),
        architecture: "arm64",
        platform: Platform::LinuxUnix,
        root_device_name: "/dev/xvda",
        volume_size: 8,
        volume_type: "gp3",
        creation_date: "2024-12-12T18:46:27.000Z",
        deprecation_time: None,
        boot_mode: Some("uefi"),
        imds_support: Some("v2.0"),
    },
    Builtin {
        name: "al2023-ami-2023.5.20240916.0-kernel-6.1-x86_64",
        description: "Amazon Linux 2023 AMI 2023.5.20240916.0 x86_64 HVM kernel-6.1",
        owner_id: AMAZON,
        owner_alias: Some("amazon"),
        architecture: "x86_64",
        platform: Platform::LinuxUnix,
        root_device_name: "/dev/xvda",
        volume_size: 8,
        volume_type: "gp3",
        creation_date: "2024-09-16T21:05:43.000Z",
        deprecation_time: Some("2024-12-15T21:05:00.000Z"),
        boot_mode: Some("uefi-preferred"),
        imds_support: Some("v2.0"),
    },
    Builtin {
        name: "amzn2-ami-kernel-5.10-hvm-2.0.20241217.0-x86_64-gp2",
        description: "Amazon Linux 2 Kernel 5.10 AMI 2.0.20241217.0 x86_64 HVM gp2",
        owner_id: AMAZON,
        owner_alias: Some("amazon"),
        architecture: "x86_64",
        platform: Platform::LinuxUnix,
        root_device_name: "/dev/xvda",
        volume_size: 8,
        volume_type: "gp2",
        creation_date: "2024-12-18T00:49:33.000Z",
        deprecation_time: None,
        boot_mode: None,
        imds_support: None,
    },
    Builtin {
        name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20241119",
        description: "Canonical, Ubuntu, 24.04, amd64 noble image",
        owner_id: CANONICAL,
        owner_alias: None,
        architecture: "x86_64",
        platform: Platform::LinuxUnix,
        root_device_name: "/dev/sda1",
        volume_size: 8,
        volume_type: "gp3",
        creation_date: "2024-11-20T07:38:36.000Z",
        deprecation_time: None,
        boot_mode: Some("uefi-preferred"),
        imds_support: None,
    },
    Builtin {
        name: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-20241119",
        description: "Canonical, Ubuntu, 24.04, arm64 noble image",
        owner_id: CANONICAL,
        owner_alias: None,
        architecture: "arm64",
        platform: Platform::LinuxUnix,
        root_device_name: "/dev/sda1",
        volume_size: 8,
        volume_type: "gp3",
        creation_date: "2024-11-20T07:38:41.000Z",
        deprecation_time: None,
        boot_mode: Some("uefi"),
        imds_support: None,
    },
    Builtin {
        name: "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-20241217",
        description: "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image build on 2024-12-17",
        owner_id: CANONICAL,
        owner_alias: None,
        architecture: "x86_64",
        platform: Platform::LinuxUnix,
        root_device_name: "/dev/sda1",
        volume_size: 8,
        volume_type: "gp2",
        creation_date: "2024-12-17T08:21:55.000Z",
        deprecation_time: None,
        boot_mode: None,
        imds_support: None,
    },
    Builtin {
        name: "Windows_Server-2022-English-Full-Base-2024.12.13",
        description: "Microsoft Windows Server 2022 Full Locale English AMI provided by Amazon",
        owner_id: WINDOWS,
        owner_alias: Some("amazon"),
        architecture: "x86_64",
        platform: Platform::Windows,
        root_device_name: "/dev/sda1",
        volume_size: 30,
        volume_type: "gp2",
        creation_date: "2024-12-13T21:23:41.000Z",
        deprecation_time: None,
        boot_mode: None,
        imds_support: None,
    },
    Builtin {
        name: "Windows_Server-2019-English-Full-Base-2024.12.13",
        description: "Microsoft Windows Server 2019 with Desktop Experience Locale English AMI provided by Amazon",
        owner_id: WINDOWS,
        owner_alias: Some("amazon"),
        architecture: "x86_64",
        platform: Platform::Windows,
        root_device_name: "/dev/sda1",
        volume_size: 30,
        volume_type: "gp2",
        creation_date: "2024-12-13T21:25:02.000Z",
        deprecation_time: None,
        boot_mode: None,
        imds_support: None,
    },
    Builtin {
        name: "RHEL-9.5.0_HVM-20241211-x86_64-0-Hourly2-GP3",
        description: "Provided by Red Hat, Inc.",
        owner_id: RED_HAT,
        owner_alias: None,
        architecture: "x86_64",
        platform: Platform::RedHat,
        root_device_name: "/dev/sda1",
        volume_size: 10,
        volume_type: "gp3",
        creation_date: "2024-12-11T15:13:08.000Z",
        deprecation_time: None,
        boot_mode: None,
        imds_support: None,
    },
    Builtin {
        name: "suse-sles-15-sp6-v20241113-hvm-ssd-x86_64",
        description: "SUSE Linux Enterprise Server 15 SP6 (HVM, 64-bit, SSD-Backed)",
        owner_id: SUSE,
        owner_alias: Some("amazon"),
        architecture: "x86_64",
        platform: Platform::Suse,
        root_device_name: "/dev/sda1",
        volume_size: 10,
        volume_type: "gp3",
        creation_date: "2024-11-13T20:06:17.000Z",
        deprecation_time: None,
        boot_mode: Some("uefi-preferred"),
        imds_support: None,
    },
    Builtin {
        name: "debian-12-amd64-20241201-1949",
        description: "Debian 12 (20241201-1949)",
        owner_id: DEBIAN,
        owner_alias: None,
        architecture: "x86_64",
        platform: Platform::LinuxUnix,
        root_device_name: "/dev/xvda",
        volume_size: 8,
        volume_type: "gp3",
        creation_date: "2024-12-01T20:01:54.000Z",
        deprecation_time: None,
        boot_mode: Some("uefi-preferred"),
        imds_support: None,
    },
];

fn digest_hex16(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let d: [u8; 32] = h.finalize().into();
    d[..8].iter().map(|b| format!("{b:02x}")).collect()
}

/// The id of a built-in image in a region: `ami-0` + 16 hex of ("ami", region, name).
pub fn builtin_image_id(region: &str, name: &str) -> String {
    format!("ami-0{}", digest_hex16(&["ami", region, name]))
}

/// The root snapshot of an image in a region: `snap-0` + 16 hex of ("snap", region, key),
/// the key being a built-in image's name or a configured image's id.
pub fn snapshot_id(region: &str, key: &str) -> String {
    format!("snap-0{}", digest_hex16(&["snap", region, key]))
}

fn location(owner_alias: Option<&str>, owner_id: &str, name: &str) -> String {
    format!("{}/{name}", owner_alias.unwrap_or(owner_id))
}

impl Builtin {
    pub fn build(&self, region: &str) -> Image {
        Image {
            id: builtin_image_id(region, self.name),
            name: self.name.to_string(),
            description: self.description.to_string(),
            owner_id: self.owner_id.to_string(),
            owner_alias: self.owner_alias.map(str::to_string),
            public: true,
            architecture: self.architecture.to_string(),
            platform: self.platform,
            location: location(self.owner_alias, self.owner_id, self.name),
            root_device_name: self.root_device_name.to_string(),
            snapshot_id: snapshot_id(region, self.name),
            volume_size: self.volume_size,
            volume_type: self.volume_type.to_string(),
            creation_date: self.creation_date.to_string(),
            deprecation_time: self.deprecation_time.map(str::to_string),
            boot_mode: self.boot_mode.map(str::to_string),
            imds_support: self.imds_support.map(str::to_string),
            tpm_support: None,
            free_tier_eligible: true,
        }
    }
}

// ---------------------------------------------------------------------------------
// Configured images

/// An `[[images]]` entry of the config file. Only `id` and `name` are required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ImageSpec {
    /// `ami-` + 8 or 17 hex digits; the same in every region the image is offered in.
    pub id: String,
    pub name: String,
    /// `PlatformDetails`: `Linux/UNIX` (default), `Windows`, `Red Hat Enterprise Linux`
    /// or `SUSE Linux`.
    #[serde(default)]
    pub platform: Option<String>,
    /// Default `x86_64`.
    #[serde(default)]
    pub architecture: Option<String>,
    /// The owner's account id. Default: Amazon's (137112412989), with alias `amazon`.
    #[serde(default)]
    pub owner: Option<String>,
    /// `amazon`, `aws-marketplace` or `aws-backup-vault`. Default: `amazon` when `owner`
    /// is not given, else none.
    #[serde(default)]
    pub owner_alias: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The regions offering it. Default: every region.
    #[serde(default)]
    pub regions: Option<Vec<String>>,
    /// Default `true`; a private image is seen by its owner only.
    #[serde(default)]
    pub public: Option<bool>,
    /// `YYYY-MM-DDThh:mm:ss[.sss]Z`. Default `2024-01-01T00:00:00.000Z`.
    #[serde(default)]
    pub creation_date: Option<String>,
    #[serde(default)]
    pub deprecation_time: Option<String>,
    /// Default `/dev/sda1` for Windows, Red Hat and SUSE, else `/dev/xvda`.
    #[serde(default)]
    pub root_device_name: Option<String>,
    /// GiB. Default 30 for Windows, 10 for Red Hat and SUSE, else 8.
    #[serde(default)]
    pub volume_size: Option<u32>,
    /// Default `gp3`.
    #[serde(default)]
    pub volume_type: Option<String>,
    #[serde(default)]
    pub boot_mode: Option<String>,
}

/// Why the configured images were refused at start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImageConfigError {
    #[error("image id '{0}' is not of the form ami- followed by 8 or 17 lowercase hex digits")]
    BadId(String),
    #[error("image {0}: the name is empty")]
    EmptyName(String),
    #[error("image {0}: unknown platform '{1}' (expected Linux/UNIX, Windows, Red Hat Enterprise Linux or SUSE Linux)")]
    UnknownPlatform(String, String),
    #[error("image {0}: unknown architecture '{1}' (expected one of {list})", list = ARCHITECTURES.join(", "))]
    BadArchitecture(String, String),
    #[error("image {0}: owner '{1}' is not a 12-digit account id")]
    BadOwner(String, String),
    #[error("image {0}: unknown owner-alias '{1}' (expected amazon, aws-marketplace or aws-backup-vault)")]
    BadOwnerAlias(String, String),
    #[error("image {0}: region '{1}' is not in the region catalogue")]
    UnknownRegion(String, String),
    #[error("image {0} appears twice in region {1}")]
    Duplicate(String, String),
    #[error("image {0}: {1} '{2}' is not a time of the form YYYY-MM-DDThh:mm:ss.sssZ")]
    BadTime(String, &'static str, String),
    #[error("image {0}: unknown volume-type '{1}' (expected one of {list})", list = VOLUME_TYPES.join(", "))]
    BadVolumeType(String, String),
    #[error("image {0}: unknown boot-mode '{1}' (expected legacy-bios, uefi or uefi-preferred)")]
    BadBootMode(String, String),
    #[error("image {0}: volume-size must be between 1 and 65536 GiB")]
    BadVolumeSize(String),
    #[error("the image catalogue is empty")]
    Empty,
}

/// A configured image, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Configured {
    image: Image,
    regions: Option<Vec<String>>,
}

impl ImageSpec {
    fn check(&self, known_regions: &[&str]) -> Result<Configured, ImageConfigError> {
        let id = &self.id;
        let e = |f: fn(String, String) -> ImageConfigError, v: &str| f(id.clone(), v.to_string());
        if !is_image_id(id) {
            return Err(ImageConfigError::BadId(id.clone()));
        }
        if self.name.trim().is_empty() {
            return Err(ImageConfigError::EmptyName(id.clone()));
        }
        let platform_text = self.platform.as_deref().unwrap_or("Linux/UNIX");
        let platform =
            Platform::from_details(platform_text).ok_or_else(|| e(ImageConfigError::UnknownPlatform, platform_text))?;
        let architecture = self.architecture.as_deref().unwrap_or("x86_64");
        if !ARCHITECTURES.contains(&architecture) {
            return Err(e(ImageConfigError::BadArchitecture, architecture));
        }
        let (owner_id, default_alias) = match &self.owner {
            Some(o) if is_account_id(o) => (o.clone(), None),
            Some(o) => return Err(e(ImageConfigError::BadOwner, o)),
            None => (AMAZON.to_string(), Some("amazon".to_string())),
        };
        let owner_alias = match &self.owner_alias {
            Some(a) if OWNER_ALIASES.contains(&a.as_str()) => Some(a.clone()),
            Some(a) => return Err(e(ImageConfigError::BadOwnerAlias, a)),
            None => default_alias,
        };
        if let Some(regions) = &self.regions {
            for r in regions {
                if !known_regions.contains(&r.as_str()) {
                    return Err(e(ImageConfigError::UnknownRegion, r));
                }
            }
        }
        let creation_date = self.creation_date.clone().unwrap_or_else(|| "2024-01-01T00:00:00.000Z".into());
        for (field, value) in
            [("creation-date", Some(&creation_date)), ("deprecation-time", self.deprecation_time.as_ref())]
        {
            if let Some(v) = value
                && parse_time(v).is_none()
            {
                return Err(ImageConfigError::BadTime(id.clone(), field, v.clone()));
            }
        }
        let volume_type = self.volume_type.clone().unwrap_or_else(|| "gp3".into());
        if !VOLUME_TYPES.contains(&volume_type.as_str()) {
            return Err(e(ImageConfigError::BadVolumeType, &volume_type));
        }
        if let Some(b) = &self.boot_mode
            && !BOOT_MODES.contains(&b.as_str())
        {
            return Err(e(ImageConfigError::BadBootMode, b));
        }
        let volume_size = self.volume_size.unwrap_or(match platform {
            Platform::Windows => 30,
            Platform::RedHat | Platform::Suse => 10,
            Platform::LinuxUnix => 8,
        });
        if !(1..=65536).contains(&volume_size) {
            return Err(ImageConfigError::BadVolumeSize(id.clone()));
        }
        let root_device_name = self.root_device_name.clone().unwrap_or_else(|| {
            match platform {
                Platform::LinuxUnix => "/dev/xvda",
                _ => "/dev/sda1",
            }
            .into()
        });
        let image = Image {
            id: id.clone(),
            name: self.name.clone(),
            description: self.description.clone().unwrap_or_else(|| self.name.clone()),
            location: location(owner_alias.as_deref(), &owner_id, &self.name),
            owner_id,
            owner_alias,
            public: self.public.unwrap_or(true),
            architecture: architecture.to_string(),
            platform,
            root_device_name,
            snapshot_id: String::new(),
            volume_size,
            volume_type,
            creation_date: normalise_time(&creation_date),
            deprecation_time: self.deprecation_time.as_deref().map(normalise_time),
            boot_mode: self.boot_mode.clone(),
            imds_support: None,
            tpm_support: None,
            free_tier_eligible: false,
        };
        Ok(Configured { image, regions: self.regions.clone() })
    }
}

/// The images a server offers: the built-in catalogue, or the configured one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageCatalogue {
    configured: Option<Vec<Configured>>,
}

impl ImageCatalogue {
    /// The built-in catalogue ([`BUILTIN`]) in every region.
    pub fn builtin() -> ImageCatalogue {
        ImageCatalogue { configured: None }
    }

    /// A catalogue of configured images, replacing the built-in one; `regions` are the
    /// names of the server's region catalogue.
    pub fn configured(specs: &[ImageSpec], regions: &[&str]) -> Result<ImageCatalogue, ImageConfigError> {
        if specs.is_empty() {
            return Err(ImageConfigError::Empty);
        }
        let mut out: Vec<Configured> = Vec::with_capacity(specs.len());
        for spec in specs {
            let c = spec.check(regions)?;
            for r in regions {
                let offered = |x: &Configured| x.regions.as_ref().is_none_or(|rs| rs.iter().any(|n| n == r));
                if offered(&c) && out.iter().any(|o| o.image.id == c.image.id && offered(o)) {
                    return Err(ImageConfigError::Duplicate(c.image.id.clone(), r.to_string()));
                }
            }
            out.push(c);
        }
        Ok(ImageCatalogue { configured: Some(out) })
    }

    pub fn is_builtin(&self) -> bool {
        self.configured.is_none()
    }

    /// Every image of a region, in catalogue order.
    pub fn images(&self, region: &str) -> Vec<Image> {
        match &self.configured {
            None => BUILTIN.iter().map(|b| b.build(region)).collect(),
            Some(list) => list
                .iter()
                .filter(|c| c.regions.as_ref().is_none_or(|rs| rs.iter().any(|r| r == region)))
                .map(|c| Image { snapshot_id: snapshot_id(region, &c.image.id), ..c.image.clone() })
                .collect(),
        }
    }

    /// The image of a region with this id, whoever may see it.
    pub fn image(&self, region: &str, id: &str) -> Option<Image> {
        self.images(region).into_iter().find(|i| i.id == id)
    }

    /// The platform `RunInstances` launches `id` as, for `account` in `region`: the
    /// image's, when the account may see it; for an unknown but well-formed id,
    /// Linux/UNIX (`lenient`) or `NotFound` (`strict`). A malformed id is refused either
    /// way.
    pub fn launch_platform(
        &self,
        region: &str,
        account: &str,
        id: &str,
        mode: ImageMode,
    ) -> Result<Platform, ImageError> {
        check_id(id)?;
        match self.image(region, id).filter(|i| i.visible_to(account)) {
            Some(i) => Ok(i.platform),
            None => match mode {
                ImageMode::Lenient => Ok(Platform::LinuxUnix),
                ImageMode::Strict => Err(ImageError::NotFound(vec![id.to_string()])),
            },
        }
    }
}

// ---------------------------------------------------------------------------------
// Times

fn digits(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// Milliseconds since the epoch of `YYYY-MM-DDThh:mm:ss[.sss]Z`.
pub fn parse_time(s: &str) -> Option<i64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-');
    let (y, mo, da) = (digits(d.next()?)?, digits(d.next()?)?, digits(d.next()?)?);
    if d.next().is_some() || date.len() != 10 {
        return None;
    }
    let (hms, frac) = match time.split_once('.') {
        Some((hms, f)) if (1..=3).contains(&f.len()) => (hms, digits(f)? * 10i64.pow(3 - f.len() as u32)),
        Some(_) => return None,
        None => (time, 0),
    };
    let mut t = hms.split(':');
    let (h, mi, se) = (digits(t.next()?)?, digits(t.next()?)?, digits(t.next()?)?);
    if t.next().is_some() || hms.len() != 8 || !(1..=12).contains(&mo) || h > 23 || mi > 59 || se > 59 {
        return None;
    }
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if da < 1 || da > month_days[(mo - 1) as usize] {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let yy = if mo <= 2 { y - 1 } else { y };
    let era = yy.div_euclid(400);
    let yoe = yy - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + da - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(((days * 24 + h) * 60 + mi) * 60_000 + se * 1000 + frac)
}

/// `YYYY-MM-DDThh:mm:ss.sssZ`, as AWS writes image times (input already checked).
fn normalise_time(s: &str) -> String {
    match s.split_once('.') {
        Some((head, frac)) => {
            let f = frac.trim_end_matches('Z');
            format!("{head}.{f:0<3}Z")
        }
        None => format!("{}.000Z", s.trim_end_matches('Z')),
    }
}

// ---------------------------------------------------------------------------------
// Filters

/// `DescribeImages` filters: the names the EC2 API reference documents. Catalogue images
/// carry no tags, so `tag:` filters match none of them.
pub const FILTERS: FilterSchema = FilterSchema {
    names: &[
        "architecture",
        "block-device-mapping.delete-on-termination",
        "block-device-mapping.device-name",
        "block-device-mapping.snapshot-id",
        "block-device-mapping.volume-size",
        "block-device-mapping.volume-type",
        "block-device-mapping.encrypted",
        "creation-date",
        "description",
        "ena-support",
        "free-tier-eligible",
        "hypervisor",
        "image-allowed",
        "image-id",
        "image-type",
        "is-public",
        "kernel-id",
        "manifest-location",
        "name",
        "owner-alias",
        "owner-id",
        "platform",
        "product-code",
        "product-code.type",
        "ramdisk-id",
        "root-device-name",
        "root-device-type",
        "source-image-id",
        "source-image-region",
        "source-instance-id",
        "state",
        "state-reason-code",
        "state-reason-message",
        "sriov-net-support",
        "virtualization-type",
    ],
    aliases: &[],
    tags: true,
};

fn bool_text(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

impl Filterable for Image {
    fn any_value(&self, name: &str, m: &mut dyn FnMut(&str) -> bool) -> bool {
        match name {
            "architecture" => m(&self.architecture),
            "block-device-mapping.delete-on-termination" => m("true"),
            "block-device-mapping.device-name" => m(&self.root_device_name),
            "block-device-mapping.snapshot-id" => m(&self.snapshot_id),
            "block-device-mapping.volume-size" => m(&self.volume_size.to_string()),
            "block-device-mapping.volume-type" => m(&self.volume_type),
            "block-device-mapping.encrypted" => m("false"),
            "creation-date" => m(&self.creation_date),
            "description" => m(&self.description),
            "ena-support" => m("true"),
            "free-tier-eligible" => m(bool_text(self.free_tier_eligible)),
            "hypervisor" => m(HYPERVISOR),
            // Allowed AMIs is not enabled: every image is allowed.
            "image-allowed" => m("true"),
            "image-id" => m(&self.id),
            "image-type" => m(IMAGE_TYPE),
            "is-public" => m(bool_text(self.public)),
            "manifest-location" => m(&self.location),
            "name" => m(&self.name),
            "owner-alias" => self.owner_alias.as_deref().is_some_and(m),
            "owner-id" => m(&self.owner_id),
            "platform" => self.platform.platform_value().is_some_and(m),
            "root-device-name" => m(&self.root_device_name),
            "root-device-type" => m(ROOT_DEVICE_TYPE),
            "state" => m(STATE),
            "sriov-net-support" => m(SRIOV_NET_SUPPORT),
            "virtualization-type" => m(VIRTUALIZATION_TYPE),
            // kernel-id, ramdisk-id, product-code(.type), source-*, state-reason-*:
            // catalogue images have none.
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{Filter, FilterSet};
    use crate::region::Catalogue;

    fn regions() -> Vec<String> {
        Catalogue::builtin().regions().iter().map(|r| r.name.clone()).collect()
    }

    #[test]
    fn every_builtin_image_has_the_form_of_an_aws_image_in_every_region() {
        let hex17 = regex::Regex::new(r"^ami-0[0-9a-f]{16}$").unwrap();
        let snap = regex::Regex::new(r"^snap-0[0-9a-f]{16}$").unwrap();
        let cat = ImageCatalogue::builtin();
        let mut all_ids = std::collections::HashSet::new();
        for region in regions() {
            let images = cat.images(&region);
            assert!((8..=12).contains(&images.len()), "{region}: {}", images.len());
            for i in &images {
                assert!(hex17.is_match(&i.id), "{}", i.id);
                assert!(is_image_id(&i.id));
                assert!(snap.is_match(&i.snapshot_id), "{}", i.snapshot_id);
                assert!(all_ids.insert(i.id.clone()), "ids are unique across regions: {}", i.id);
                assert!(!i.name.is_empty() && !i.description.is_empty());
                assert_eq!(i.owner_id.len(), 12);
                assert!(i.owner_id.bytes().all(|b| b.is_ascii_digit()));
                assert!(ARCHITECTURES.contains(&i.architecture.as_str()));
                assert!(VOLUME_TYPES.contains(&i.volume_type.as_str()));
                assert!(i.boot_mode.as_deref().is_none_or(|b| BOOT_MODES.contains(&b)));
                assert!(parse_time(&i.creation_date).is_some(), "{}", i.creation_date);
                assert!(i.deprecation_time.as_deref().is_none_or(|t| parse_time(t).is_some()));
                assert!(i.root_device_name.starts_with("/dev/"));
                assert!(i.public);
                assert_eq!(i.location, format!("{}/{}", i.owner_alias.as_deref().unwrap_or(&i.owner_id), i.name));
                assert_eq!(cat.image(&region, &i.id).as_ref(), Some(i));
            }
            for p in Platform::ALL {
                assert!(images.iter().any(|i| i.platform == p), "{region} has a {p:?} image");
            }
        }
    }

    #[test]
    fn ids_are_stable() {
        assert_eq!(
            builtin_image_id("us-east-1", "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64"),
            builtin_image_id("us-east-1", "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64")
        );
        // Pinned: a change here changes every built-in id users may have written down.
        assert_eq!(builtin_image_id("us-east-1", "x"), format!("ami-0{}", &digest_hex16(&["ami", "us-east-1", "x"])));
        let a = ImageCatalogue::builtin().images("eu-west-1");
        let b = ImageCatalogue::builtin().images("eu-west-1");
        assert_eq!(a, b);
        assert_ne!(a[0].id, ImageCatalogue::builtin().images("us-east-1")[0].id);
    }

    #[test]
    fn platforms() {
        assert_eq!(Platform::from_details("SUSE Linux"), Some(Platform::Suse));
        assert_eq!(Platform::from_details("Linux"), None);
        assert_eq!(Platform::Windows.usage_operation(), "RunInstances:0002");
        assert_eq!(Platform::RedHat.usage_operation(), "RunInstances:0010");
        assert_eq!(Platform::Suse.usage_operation(), "RunInstances:000g");
        assert_eq!(Platform::Windows.platform_value(), Some("windows"));
        assert_eq!(Platform::LinuxUnix.platform_value(), None);
    }

    #[test]
    fn id_forms_owners_and_users() {
        assert!(is_image_id("ami-12345678"));
        assert!(is_image_id("ami-0123456789abcdef0"));
        assert!(!is_image_id("ami-0123456789ABCDEF0"));
        assert!(!is_image_id("ami-123"));
        assert!(!is_image_id("img-12345678"));
        assert_eq!(check_id("ami-xyz"), Err(ImageError::Malformed("ami-xyz".into())));
        assert!(check_owner("self").is_ok() && check_owner("amazon").is_ok() && check_owner("099720109477").is_ok());
        assert!(check_owner("canonical").is_err());
        assert!(check_executable_user("all").is_ok() && check_executable_user("everyone").is_err());
        let img = &ImageCatalogue::builtin().images("us-east-1")[0];
        assert!(img.owned_by("amazon", "000000000000"));
        assert!(img.owned_by(AMAZON, "000000000000"));
        assert!(!img.owned_by("self", "000000000000"));
        assert!(!img.owned_by("aws-marketplace", "000000000000"));
        assert!(img.executable_by("all") && !img.executable_by("self"));
    }

    #[test]
    fn launch_platform_by_mode() {
        let cat = ImageCatalogue::builtin();
        let win = cat.images("us-east-1").into_iter().find(|i| i.platform == Platform::Windows).unwrap();
        assert_eq!(cat.launch_platform("us-east-1", "000000000000", &win.id, ImageMode::Strict), Ok(Platform::Windows));
        let unknown = "ami-0000000000000000f";
        assert_eq!(cat.launch_platform("us-east-1", "0", unknown, ImageMode::Lenient), Ok(Platform::LinuxUnix));
        assert_eq!(
            cat.launch_platform("us-east-1", "0", unknown, ImageMode::Strict),
            Err(ImageError::NotFound(vec![unknown.into()]))
        );
        assert!(matches!(
            cat.launch_platform("us-east-1", "0", "ami-x", ImageMode::Lenient),
            Err(ImageError::Malformed(_))
        ));
        // Another region's id is unknown here.
        assert_eq!(cat.launch_platform("eu-west-1", "0", &win.id, ImageMode::Lenient), Ok(Platform::LinuxUnix));
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(parse_time("1970-01-02T00:00:01Z"), Some(86_401_000));
        assert_eq!(parse_time("2000-03-01T00:00:00.5Z"), Some(951_868_800_500));
        assert_eq!(parse_time("2024-02-30T00:00:00Z"), None);
        assert_eq!(parse_time("2024-12-12 00:00:00Z"), None);
        assert_eq!(normalise_time("2024-01-02T03:04:05Z"), "2024-01-02T03:04:05.000Z");
        assert_eq!(normalise_time("2024-01-02T03:04:05.5Z"), "2024-01-02T03:04:05.500Z");
        let cat = ImageCatalogue::builtin();
        let old = cat.images("us-east-1").into_iter().find(|i| i.deprecation_time.is_some()).unwrap();
        let t = parse_time(old.deprecation_time.as_deref().unwrap()).unwrap();
        assert!(old.deprecated_at(t) && !old.deprecated_at(t - 1));
    }

    fn spec(id: &str) -> ImageSpec {
        ImageSpec {
            id: id.into(),
            name: "my-image".into(),
            platform: None,
            architecture: None,
            owner: None,
            owner_alias: None,
            description: None,
            regions: None,
            public: None,
            creation_date: None,
            deprecation_time: None,
            root_device_name: None,
            volume_size: None,
            volume_type: None,
            boot_mode: None,
        }
    }

    #[test]
    fn configured_images_replace_the_catalogue_and_are_checked() {
        let regions = ["us-east-1", "eu-west-1"];
        let mut win = spec("ami-12345678");
        win.platform = Some("Windows".into());
        win.regions = Some(vec!["eu-west-1".into()]);
        let cat = ImageCatalogue::configured(&[spec("ami-0123456789abcdef0"), win.clone()], &regions).unwrap();
        assert!(!cat.is_builtin());
        let use1 = cat.images("us-east-1");
        assert_eq!(use1.len(), 1);
        assert_eq!(use1[0].owner_alias.as_deref(), Some("amazon"));
        assert_eq!(use1[0].creation_date, "2024-01-01T00:00:00.000Z");
        assert_eq!(use1[0].root_device_name, "/dev/xvda");
        let euw1 = cat.images("eu-west-1");
        assert_eq!(euw1.len(), 2);
        assert_eq!(euw1[1].platform, Platform::Windows);
        assert_eq!(euw1[1].volume_size, 30);
        assert_ne!(use1[0].snapshot_id, euw1[0].snapshot_id);

        let bad = |f: &dyn Fn(&mut ImageSpec)| {
            let mut s = spec("ami-12345678");
            f(&mut s);
            ImageCatalogue::configured(&[s], &regions).unwrap_err()
        };
        assert_eq!(bad(&|s| s.id = "ami-1234".into()), ImageConfigError::BadId("ami-1234".into()));
        assert!(matches!(bad(&|s| s.platform = Some("Linux".into())), ImageConfigError::UnknownPlatform(..)));
        assert!(matches!(bad(&|s| s.architecture = Some("amd64".into())), ImageConfigError::BadArchitecture(..)));
        assert!(matches!(bad(&|s| s.owner = Some("canonical".into())), ImageConfigError::BadOwner(..)));
        assert!(matches!(bad(&|s| s.regions = Some(vec!["xx-1".into()])), ImageConfigError::UnknownRegion(..)));
        assert!(matches!(bad(&|s| s.creation_date = Some("yesterday".into())), ImageConfigError::BadTime(..)));
        assert!(matches!(bad(&|s| s.volume_type = Some("ssd".into())), ImageConfigError::BadVolumeType(..)));
        assert!(matches!(bad(&|s| s.name = " ".into()), ImageConfigError::EmptyName(..)));
        let e = ImageCatalogue::configured(&[spec("ami-12345678"), win], &regions).unwrap_err();
        assert_eq!(e, ImageConfigError::Duplicate("ami-12345678".into(), "eu-west-1".into()));
        assert!(e.to_string().contains("ami-12345678"));
    }

    fn filtered(name: &str, values: &[&str]) -> Vec<String> {
        let set = FilterSet::compile(&[Filter::new(name, values)], &FILTERS).unwrap();
        ImageCatalogue::builtin()
            .images("us-east-1")
            .into_iter()
            .filter(|i| set.matches_untagged(i))
            .map(|i| i.name)
            .collect()
    }

    #[test]
    fn filters() {
        assert_eq!(filtered("platform", &["windows"]).len(), 2);
        assert_eq!(filtered("name", &["al2023-ami-2023.*-x86_64"]).len(), 2);
        assert_eq!(filtered("architecture", &["arm64"]).len(), 2);
        assert_eq!(filtered("owner-alias", &["amazon"]).len(), 7);
        assert_eq!(filtered("owner-id", &[CANONICAL]).len(), 3);
        assert_eq!(filtered("block-device-mapping.volume-size", &["30"]).len(), 2);
        assert_eq!(filtered("block-device-mapping.volume-type", &["gp2"]).len(), 4);
        assert_eq!(filtered("creation-date", &["2024-12-13T*"]).len(), 2);
        assert_eq!(filtered("description", &["Provided by Red Hat*"]).len(), 1);
        assert_eq!(filtered("is-public", &["true"]).len(), BUILTIN.len());
        assert_eq!(filtered("is-public", &["false"]).len(), 0);
        assert_eq!(filtered("state", &["available"]).len(), BUILTIN.len());
        assert!(filtered("kernel-id", &["*"]).is_empty());
        assert!(filtered("tag:Name", &["*"]).is_empty());
        assert!(FilterSet::compile(&[Filter::new("platform-details", &["x"])], &FILTERS).is_err());
    }
}
