//! `reservoir serve` settings: command-line flags, environment variables and a TOML file.
//!
//! Every setting can be given three ways; a flag wins over its environment variable,
//! which wins over the config file, which wins over the default:
//!
//! | flag | environment | file key | default |
//! |---|---|---|---|
//! | `--listen ADDR:PORT` | `RESERVOIR_LISTEN` | `listen` | `127.0.0.1:4566` |
//! | `--data PATH` | `RESERVOIR_DATA` | `data` | `./reservoir-data/reservoir.db` |
//! | `--ephemeral` | `RESERVOIR_EPHEMERAL` | `ephemeral` | `false` |
//! | `--store postgres://…` | `RESERVOIR_STORE` | `store` | none (SQLite, `--data`) |
//! | `--pg-pool-size N` | `RESERVOIR_PG_POOL_SIZE` | `pg-pool-size` | `8` |
//! | `--seed FILE` | `RESERVOIR_SEED` | `seed` | none |
//! | `--default-region REGION` | `RESERVOIR_DEFAULT_REGION` | `default-region` | `us-east-1` |
//! | `--log-format text\|json` | `RESERVOIR_LOG_FORMAT` | `log-format` | `text` |
//! | `--log-level FILTER` | `RESERVOIR_LOG` | `log-level` | `info` |
//! | `--max-body-bytes N` | `RESERVOIR_MAX_BODY_BYTES` | `max-body-bytes` | `16777216` |
//! | `--opt-in-region REGION` (repeatable) | `RESERVOIR_OPT_IN_REGIONS` (comma-separated) | `opt-in-regions` | none |
//! | `--aws-quotas` | `RESERVOIR_AWS_QUOTAS` | `quotas.aws-defaults` | off |
//! | `--vpc-quota N` | `RESERVOIR_VPC_QUOTA` | `quotas.vpcs-per-region` | none |
//! | `--identity-pool-quota N` | `RESERVOIR_IDENTITY_POOL_QUOTA` | `quotas.identity-pools-per-region` | none |
//! | — | — | `quotas.subnets-per-vpc`, `quotas.security-groups-per-region`, `quotas.rules-per-security-group`, `quotas.security-groups-per-interface`, `quotas.private-addresses-per-interface`, `quotas.network-interfaces-per-region`, `quotas.route-tables-per-vpc`, `quotas.routes-per-route-table`, `quotas.internet-gateways-per-region`, `quotas.vpc-endpoints-per-vpc` | none |
//! | `--images lenient\|strict` | `RESERVOIR_IMAGES` | `images-mode` | `lenient` |
//! | `--ram-organization` | `RESERVOIR_RAM_ORGANIZATION` | `ram-organization` | `false` |
//! | `--config FILE` | `RESERVOIR_CONFIG` | — | none |
//!
//! Quotas: none is enforced unless configured. `--aws-quotas` turns on every quota at
//! AWS's default for a new account; a quota given by itself overrides it.
//!
//! Regions: the regions AWS makes new accounts opt into (af-south-1, ap-east-1, …) are
//! `not-opted-in`, as for a new account: requests signed for them are refused and
//! `DescribeRegions` lists them only with `AllRegions`. `--opt-in-region` opts one in
//! (a region name, or a Local Zone group such as `us-west-2-lax-1`). The file can also
//! replace the region catalogue with `[[regions]]` tables (see
//! `reservoir_domain::region::RegionInfo`).
//!
//! Images: `DescribeImages` lists a built-in catalogue of public images in every region
//! (Amazon Linux, Ubuntu, Windows Server, Red Hat, SUSE, Debian; their ids are derived
//! from region and name, so they are the same on every server). `[[images]]` tables in
//! the file *replace* that catalogue (see `reservoir_domain::image::ImageSpec`: `id`
//! and `name` required; `platform`, `architecture`, `owner`, `owner-alias`,
//! `description`, `regions` (default: all), `public`, `creation-date`,
//! `deprecation-time`, `root-device-name`, `volume-size`, `volume-type`, `boot-mode`);
//! a bad entry stops the server at start. `--images strict` will make `RunInstances`
//! refuse an `ami-` id the catalogue does not have (`InvalidAMIID.NotFound`, as AWS);
//! `lenient`, the default, launches it as Linux/UNIX, because test suites use ids of
//! real images they do not declare.
//!
//! Outposts: `DescribeLocalGateways` lists, by default, one Outpost with one local
//! gateway in every region, owned by the calling account (ids derived from account and
//! region). `[[outposts]]` tables replace that catalogue: `region`, `outpost-id`
//! (`op-` + 17 hex), `local-gateway-id` (`lgw-` + 17 hex), and `owner` (an account id;
//! without it every account sees the entry as its own); a bad entry stops the server.
//!
//! RAM: accounts are outside any organization by default, as a new AWS account is: a
//! resource share sends each account it names an invitation, and access begins when the
//! account accepts it. `--ram-organization` treats every account as a member of one
//! organization with sharing enabled: shares take effect at once, without invitations.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use serde::Deserialize;

use reservoir_domain::coip::OutpostSpec;
use reservoir_domain::image::{ImageMode, ImageSpec};
use reservoir_domain::region::RegionInfo;
use reservoir_server::{Config, Quotas, Storage};

pub const DEFAULT_LISTEN: &str = "127.0.0.1:4566";
pub const DEFAULT_DATA: &str = "./reservoir-data/reservoir.db";
pub const DEFAULT_PG_POOL_SIZE: usize = reservoir_store::postgres::DEFAULT_POOL_SIZE;

#[derive(Debug, Parser)]
#[command(
    name = "reservoir",
    version,
    about = "An AWS-compatible server for customer-owned IP pools, VPC IPAM, capacity reservations and Cognito Sync usage.",
    long_about = "Reservoir speaks AWS's own wire protocols (EC2 query, awsJson1.1, restJson1), so boto3, the AWS CLI \
                  and the AWS SDKs work against it unchanged: point them at it with endpoint_url / AWS_ENDPOINT_URL.\n\n\
                  Accounts: any credentials are accepted; an access key id of exactly 12 digits is the account id, \
                  any other key acts as account 000000000000.",
    after_help = "Run `reservoir serve --help` for the server's settings: each flag, its environment variable, and \
                  the config file."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server until SIGINT or SIGTERM.
    Serve(ServeArgs),
    /// Write the whole state (every account's, or one's) as a JSON document, one table
    /// row per line: a fixture to keep in git, or a move to another store.
    Export(ExportArgs),
    /// Load a JSON document written by `export` into an empty store (SQLite or
    /// PostgreSQL), in one transaction.
    Import(ImportArgs),
}

/// Which store `export` and `import` use (not a running server's: they open it
/// themselves; a SQLite file should not be served at the same time).
#[derive(Debug, Args, Default)]
pub struct StoreArgs {
    /// SQLite file. [default: ./reservoir-data/reservoir.db]
    #[arg(long, env = "RESERVOIR_DATA", value_name = "PATH")]
    pub data: Option<PathBuf>,

    /// A PostgreSQL database instead (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`).
    #[arg(long, env = "RESERVOIR_STORE", value_name = "URL")]
    pub store: Option<String>,
}

impl StoreArgs {
    pub fn storage(&self) -> Result<Storage, String> {
        match &self.store {
            Some(url) => postgres_storage(url, DEFAULT_PG_POOL_SIZE.min(2)),
            None => Ok(Storage::File(self.data.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DATA)))),
        }
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    /// Only this account's state (a 12-digit account id). [default: every account, and
    /// the server-wide NextToken and signing keys and clock offset]
    #[arg(long, value_name = "ID")]
    pub account: Option<String>,

    /// Write to this file instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub store: StoreArgs,

    /// The document (`-` for stdin).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// A `--store` address as PostgreSQL storage.
fn postgres_storage(url: &str, pool_size: usize) -> Result<Storage, String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(format!(
            "--store {:?}: a PostgreSQL address (postgres://…) is expected; for SQLite use --data PATH or --ephemeral",
            reservoir_server::redact_password(url)
        ));
    }
    if pool_size == 0 {
        return Err("--pg-pool-size must be at least 1".into());
    }
    Ok(Storage::Postgres { url: url.to_string(), pool_size })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line.
    Json,
}

/// What `RunInstances` does with an `ami-` id the image catalogue does not have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImagesMode {
    /// Launch it as Linux/UNIX (test suites use ids of real images they do not declare).
    Lenient,
    /// Refuse it with `InvalidAMIID.NotFound`, as AWS does.
    Strict,
}

impl From<ImagesMode> for ImageMode {
    fn from(m: ImagesMode) -> ImageMode {
        match m {
            ImagesMode::Lenient => ImageMode::Lenient,
            ImagesMode::Strict => ImageMode::Strict,
        }
    }
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port. The chosen address is printed on
    /// stdout as the first line: `listening on http://ADDR:PORT`. [default: 127.0.0.1:4566]
    #[arg(long, env = "RESERVOIR_LISTEN", value_name = "ADDR:PORT")]
    pub listen: Option<SocketAddr>,

    /// SQLite file that keeps all state across restarts (created with its directory).
    /// [default: ./reservoir-data/reservoir.db]
    #[arg(long, env = "RESERVOIR_DATA", value_name = "PATH")]
    pub data: Option<PathBuf>,

    /// Keep state in memory only: everything is gone when the server stops.
    #[arg(long, env = "RESERVOIR_EPHEMERAL", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub ephemeral: Option<bool>,

    /// Keep all state in this PostgreSQL database instead of SQLite
    /// (`postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`); several servers may share it.
    /// The database must exist; its tables are made on start. [default: none, SQLite]
    #[arg(long, env = "RESERVOIR_STORE", value_name = "URL")]
    pub store: Option<String>,

    /// Start from this state document (`reservoir export`): it is loaded into the empty
    /// store before the server answers; a store that holds state refuses it.
    #[arg(long, env = "RESERVOIR_SEED", value_name = "FILE")]
    pub seed: Option<PathBuf>,

    /// Connections this server opens to PostgreSQL at most. [default: 8]
    #[arg(long, env = "RESERVOIR_PG_POOL_SIZE", value_name = "N")]
    pub pg_pool_size: Option<usize>,

    /// TOML file with any of these settings (kebab-case keys), `[[regions]]` and `[[images]]`.
    #[arg(long, env = "RESERVOIR_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Region for unsigned requests that do not name one. [default: us-east-1]
    #[arg(long, env = "RESERVOIR_DEFAULT_REGION", value_name = "REGION")]
    pub default_region: Option<String>,

    /// Log format: one line per request (operation, account, region, status, duration). [default: text]
    #[arg(long, env = "RESERVOIR_LOG_FORMAT", value_enum)]
    pub log_format: Option<LogFormat>,

    /// Log filter, e.g. `info`, `debug`, `reservoir::request=warn`. [default: info]
    #[arg(long, env = "RESERVOIR_LOG", value_name = "FILTER")]
    pub log_level: Option<String>,

    /// Largest request body accepted, in bytes. [default: 16777216]
    #[arg(long, env = "RESERVOIR_MAX_BODY_BYTES", value_name = "N")]
    pub max_body_bytes: Option<usize>,

    /// Opt the account into a region (or a Local Zone group) that AWS makes new
    /// accounts opt into; repeat for several. [default: none]
    #[arg(long = "opt-in-region", env = "RESERVOIR_OPT_IN_REGIONS", value_delimiter = ',', value_name = "REGION")]
    pub opt_in_regions: Vec<String>,

    /// Enforce every quota at AWS's default for a new account (5 VPCs per region, 1000
    /// identity pools per region, …). [default: no quota is enforced]
    #[arg(long, env = "RESERVOIR_AWS_QUOTAS", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub aws_quotas: Option<bool>,

    /// VPCs per account and region, the default VPC included (AWS's default is 5).
    /// [default: no limit]
    #[arg(long, env = "RESERVOIR_VPC_QUOTA", value_name = "N")]
    pub vpc_quota: Option<u32>,

    /// Identity pools per account and region (AWS's default is 1000). [default: no limit]
    #[arg(long, env = "RESERVOIR_IDENTITY_POOL_QUOTA", value_name = "N")]
    pub identity_pool_quota: Option<u32>,

    /// What RunInstances does with an `ami-` id the image catalogue does not have:
    /// `lenient` launches it as Linux/UNIX, `strict` refuses it (InvalidAMIID.NotFound).
    /// [default: lenient]
    #[arg(long, env = "RESERVOIR_IMAGES", value_enum)]
    pub images: Option<ImagesMode>,

    /// Treat every account as one AWS Organization with RAM sharing enabled: resource
    /// shares take effect at once, without invitations. [default: false, every account
    /// accepts an invitation first]
    #[arg(long, env = "RESERVOIR_RAM_ORGANIZATION", num_args = 0..=1, default_missing_value = "true", value_name = "BOOL")]
    pub ram_organization: Option<bool>,
}

/// The config file.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data: Option<PathBuf>,
    pub ephemeral: Option<bool>,
    pub store: Option<String>,
    pub pg_pool_size: Option<usize>,
    pub seed: Option<PathBuf>,
    pub default_region: Option<String>,
    pub log_format: Option<LogFormat>,
    pub log_level: Option<String>,
    pub max_body_bytes: Option<usize>,
    #[serde(default)]
    pub quotas: FileQuotas,
    pub opt_in_regions: Option<Vec<String>>,
    pub regions: Option<Vec<RegionInfo>>,
    pub images_mode: Option<ImagesMode>,
    /// Replaces the built-in image catalogue.
    pub images: Option<Vec<ImageSpec>>,
    /// Replaces the built-in Outposts catalogue (`reservoir_domain::coip::OutpostSpec`).
    pub outposts: Option<Vec<OutpostSpec>>,
    pub ram_organization: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FileQuotas {
    pub aws_defaults: Option<bool>,
    pub vpcs_per_region: Option<u32>,
    pub identity_pools_per_region: Option<u32>,
    pub subnets_per_vpc: Option<u32>,
    pub security_groups_per_region: Option<u32>,
    pub rules_per_security_group: Option<u32>,
    pub security_groups_per_interface: Option<u32>,
    pub private_addresses_per_interface: Option<u32>,
    pub network_interfaces_per_region: Option<u32>,
    pub route_tables_per_vpc: Option<u32>,
    pub routes_per_route_table: Option<u32>,
    pub internet_gateways_per_region: Option<u32>,
    pub vpc_endpoints_per_vpc: Option<u32>,
}

/// Everything `serve` needs, after merging flags, environment, file and defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    pub listen: SocketAddr,
    pub server: Config,
    pub log_format: LogFormat,
    pub log_level: String,
}

impl ServeArgs {
    /// Merges flags (and their environment variables, which clap has read) over the
    /// config file over the defaults.
    pub fn settings(self) -> Result<Settings, String> {
        let file = match &self.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
                toml::from_str::<FileConfig>(&text).map_err(|e| format!("{}: {e}", path.display()))?
            }
            None => FileConfig::default(),
        };
        let ephemeral = self.ephemeral.or(file.ephemeral).unwrap_or(false);
        let data = self.data.or(file.data).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA));
        let mut server = Config::ephemeral();
        server.storage = match self.store.or(file.store) {
            Some(_) if ephemeral => return Err("--store and --ephemeral: choose one".into()),
            Some(url) => {
                postgres_storage(&url, self.pg_pool_size.or(file.pg_pool_size).unwrap_or(DEFAULT_PG_POOL_SIZE))?
            }
            None if ephemeral => Storage::Memory,
            None => Storage::File(data),
        };
        server.seed = self.seed.or(file.seed);
        server.default_region = self.default_region.or(file.default_region).unwrap_or(server.default_region);
        server.regions = file.regions;
        server.images = file.images;
        server.outposts = file.outposts;
        server.image_mode = self.images.or(file.images_mode).map_or(ImageMode::Lenient, ImageMode::from);
        server.ram_organization = self.ram_organization.or(file.ram_organization).unwrap_or(false);
        server.max_body_bytes = self.max_body_bytes.or(file.max_body_bytes).unwrap_or(server.max_body_bytes);
        let base = if self.aws_quotas.or(file.quotas.aws_defaults).unwrap_or(false) {
            Quotas::aws_defaults()
        } else {
            Quotas::default()
        };
        server.quotas = Quotas {
            vpcs_per_region: self.vpc_quota.or(file.quotas.vpcs_per_region).or(base.vpcs_per_region),
            identity_pools_per_region: self
                .identity_pool_quota
                .or(file.quotas.identity_pools_per_region)
                .or(base.identity_pools_per_region),
            subnets_per_vpc: file.quotas.subnets_per_vpc.or(base.subnets_per_vpc),
            security_groups_per_region: file.quotas.security_groups_per_region.or(base.security_groups_per_region),
            rules_per_security_group: file.quotas.rules_per_security_group.or(base.rules_per_security_group),
            security_groups_per_interface: file
                .quotas
                .security_groups_per_interface
                .or(base.security_groups_per_interface),
            private_addresses_per_interface: file
                .quotas
                .private_addresses_per_interface
                .or(base.private_addresses_per_interface),
            network_interfaces_per_region: file
                .quotas
                .network_interfaces_per_region
                .or(base.network_interfaces_per_region),
            route_tables_per_vpc: file.quotas.route_tables_per_vpc.or(base.route_tables_per_vpc),
            routes_per_route_table: file.quotas.routes_per_route_table.or(base.routes_per_route_table),
            internet_gateways_per_region: file
                .quotas
                .internet_gateways_per_region
                .or(base.internet_gateways_per_region),
            vpc_endpoints_per_vpc: file.quotas.vpc_endpoints_per_vpc.or(base.vpc_endpoints_per_vpc),
        };
        server.opt_in =
            if self.opt_in_regions.is_empty() { file.opt_in_regions.unwrap_or_default() } else { self.opt_in_regions };
        Ok(Settings {
            listen: self.listen.or(file.listen).unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default")),
            server,
            log_format: self.log_format.or(file.log_format).unwrap_or(LogFormat::Text),
            log_level: self.log_level.or(file.log_level).unwrap_or_else(|| "info".into()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let s = ServeArgs::default().settings().unwrap();
        assert_eq!(s.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(s.server.storage, Storage::File(PathBuf::from(DEFAULT_DATA)));
        assert_eq!(s.server.default_region, "us-east-1");
        assert_eq!(s.server.quotas.vpcs_per_region, None, "no quota unless configured");
        assert_eq!(s.server.quotas.identity_pools_per_region, None);
        assert!(s.server.opt_in.is_empty());
        assert_eq!(s.log_format, LogFormat::Text);
        assert_eq!(s.server.image_mode, ImageMode::Lenient);
        assert!(s.server.images.is_none(), "the built-in image catalogue");
        assert!(!s.server.ram_organization, "accounts outside any organization");
    }

    #[test]
    fn ram_organization_from_the_file_and_the_flag() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reservoir.toml");
        std::fs::write(&path, "ram-organization = true\n").unwrap();
        let s = ServeArgs { config: Some(path.clone()), ..Default::default() }.settings().unwrap();
        assert!(s.server.ram_organization);
        let cli = Cli::try_parse_from(["reservoir", "serve", "--ram-organization"]).unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve") };
        assert!(args.settings().unwrap().server.ram_organization);
        let cli = Cli::try_parse_from([
            "reservoir",
            "serve",
            "--ram-organization",
            "false",
            "--config",
            path.to_str().unwrap(),
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve") };
        assert!(!args.settings().unwrap().server.ram_organization, "the flag wins");
    }

    #[test]
    fn images_from_the_file_and_the_mode_from_flags() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reservoir.toml");
        std::fs::write(
            &path,
            r#"
images-mode = "strict"
[[images]]
id = "ami-0123456789abcdef0"
name = "my-windows"
platform = "Windows"
regions = ["us-east-1"]
[[images]]
id = "ami-12345678"
name = "my-linux"
architecture = "arm64"
owner = "123456789012"
"#,
        )
        .unwrap();
        let s = ServeArgs { config: Some(path.clone()), ..Default::default() }.settings().unwrap();
        assert_eq!(s.server.image_mode, ImageMode::Strict);
        let images = s.server.images.unwrap();
        assert_eq!(images.len(), 2);
        assert_eq!(images[0].platform.as_deref(), Some("Windows"));
        assert_eq!(images[1].owner.as_deref(), Some("123456789012"));

        let cli =
            Cli::try_parse_from(["reservoir", "serve", "--images", "lenient", "--config", path.to_str().unwrap()])
                .unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve") };
        assert_eq!(args.settings().unwrap().server.image_mode, ImageMode::Lenient, "the flag wins");
        assert!(Cli::try_parse_from(["reservoir", "serve", "--images", "loose"]).is_err());
    }

    #[test]
    fn unknown_image_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[[images]]\nid = \"ami-12345678\"\nname = \"x\"\nplatfrom = \"Windows\"\n").unwrap();
        let err = ServeArgs { config: Some(path), ..Default::default() }.settings().unwrap_err();
        assert!(err.contains("platfrom"), "{err}");
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reservoir.toml");
        std::fs::write(
            &path,
            r#"
listen = "127.0.0.1:9999"
data = "/tmp/from-file.db"
default-region = "eu-west-1"
log-format = "json"
opt-in-regions = ["af-south-1"]
[quotas]
aws-defaults = true
vpcs-per-region = 20
[[regions]]
name = "xx-test-1"
zones = [{ name = "xx-test-1a", id = "xxt1-az1" }]
"#,
        )
        .unwrap();
        let args = ServeArgs { config: Some(path), listen: Some("127.0.0.1:0".parse().unwrap()), ..Default::default() };
        let s = args.settings().unwrap();
        assert_eq!(s.listen.to_string(), "127.0.0.1:0");
        assert_eq!(s.server.storage, Storage::File(PathBuf::from("/tmp/from-file.db")));
        assert_eq!(s.server.default_region, "eu-west-1");
        assert_eq!(s.server.quotas.vpcs_per_region, Some(20));
        assert_eq!(s.server.quotas.identity_pools_per_region, Some(1000), "aws-defaults");
        assert_eq!(s.server.opt_in, ["af-south-1"]);
        assert_eq!(s.log_format, LogFormat::Json);
        assert_eq!(s.server.regions.unwrap()[0].zones[0].id, "xxt1-az1");
    }

    #[test]
    fn aws_quotas_and_opt_in_from_flags() {
        let cli = Cli::try_parse_from([
            "reservoir",
            "serve",
            "--aws-quotas",
            "--identity-pool-quota",
            "3",
            "--opt-in-region",
            "af-south-1",
            "--opt-in-region",
            "me-south-1",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve") };
        let s = args.settings().unwrap();
        assert_eq!(s.server.quotas.vpcs_per_region, Some(5));
        assert_eq!(s.server.quotas.identity_pools_per_region, Some(3));
        assert_eq!(s.server.opt_in, ["af-south-1", "me-south-1"]);
    }

    #[test]
    fn unknown_file_keys_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "lisen = \"127.0.0.1:1\"\n").unwrap();
        let err = ServeArgs { config: Some(path), ..Default::default() }.settings().unwrap_err();
        assert!(err.contains("lisen"), "{err}");
    }

    #[test]
    fn cli_parses() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
        let cli = Cli::try_parse_from(["reservoir", "serve", "--ephemeral", "--listen", "127.0.0.1:0"]).unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve") };
        assert_eq!(args.ephemeral, Some(true));
    }

    #[test]
    fn postgres_store_seed_and_their_errors() {
        let cli = Cli::try_parse_from([
            "reservoir",
            "serve",
            "--store",
            "postgres://u:secret@db:5432/r",
            "--pg-pool-size",
            "3",
            "--seed",
            "fixture.json",
        ])
        .unwrap();
        let Command::Serve(args) = cli.command else { panic!("serve") };
        let s = args.settings().unwrap();
        assert_eq!(s.server.storage, Storage::Postgres { url: "postgres://u:secret@db:5432/r".into(), pool_size: 3 });
        assert_eq!(s.server.seed, Some(PathBuf::from("fixture.json")));
        assert!(!format!("{:?}", s.server.storage).contains("secret"));
        let from_file = |text: &str| {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("r.toml");
            std::fs::write(&path, text).unwrap();
            ServeArgs { config: Some(path), ..Default::default() }.settings()
        };
        let s = from_file("store = \"postgresql://db/r\"\npg-pool-size = 2\n").unwrap();
        assert_eq!(s.server.storage, Storage::Postgres { url: "postgresql://db/r".into(), pool_size: 2 });
        let s = from_file("store = \"postgres://db/r\"\n").unwrap();
        assert_eq!(
            s.server.storage,
            Storage::Postgres { url: "postgres://db/r".into(), pool_size: DEFAULT_PG_POOL_SIZE }
        );
        assert!(from_file("store = \"mysql://db/r\"\n").unwrap_err().contains("PostgreSQL"));
        assert!(from_file("store = \"postgres://db/r\"\npg-pool-size = 0\n").unwrap_err().contains("at least 1"));
        assert!(from_file("store = \"postgres://db/r\"\nephemeral = true\n").unwrap_err().contains("choose one"));
    }

    #[test]
    fn export_and_import_name_their_store() {
        let cli =
            Cli::try_parse_from(["reservoir", "export", "--data", "a.db", "--account", "111111111111", "-o", "x"])
                .unwrap();
        let Command::Export(args) = cli.command else { panic!("export") };
        assert_eq!(args.store.storage().unwrap(), Storage::File(PathBuf::from("a.db")));
        assert_eq!(args.account.as_deref(), Some("111111111111"));
        let cli = Cli::try_parse_from(["reservoir", "import", "--store", "postgres://db/r", "state.json"]).unwrap();
        let Command::Import(args) = cli.command else { panic!("import") };
        assert!(matches!(args.store.storage().unwrap(), Storage::Postgres { .. }));
        assert_eq!(args.file, PathBuf::from("state.json"));
    }
}
