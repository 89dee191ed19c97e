//! # reservoir-server: Reservoir over HTTP
//!
//! A request's path: socket → axum → [`http::aws`] (request id, body limit, one log
//! line) → routing by SigV4 credential scope / `X-Amz-Target` / path
//! ([`reservoir_wire::route`]) → the service's module ([`ec2`], [`cognito`], [`ram`]):
//! generated decoder and validation → handler → domain decision inside one store
//! transaction → generated encoder. Admin endpoints (`/_reservoir/*`, moto's and
//! LocalStack's reset and health) are in [`admin`].
//!
//! Dependencies inside the crate point one way: [`http`] routes to the service modules
//! and [`admin`]; those use [`context`] (the request context and the one way into the
//! store), [`respond`] (response envelopes) and [`error`]; none of them imports [`http`].
//!
//! **Invariants.** Handlers hold no SQL, no XML and no error code or status typed by
//! hand: those belong to the store, the wire layer (its code tables) and [`error`].
//! Every transaction runs through [`context::write`] / [`context::read`] (`Cx::write` for
//! AWS calls), which is also how `DryRun` works: the whole operation runs, then rolls
//! back and answers `DryRunOperation`. Time comes from the server [`clock`] only.
//!
//! Embedding: [`start`] opens the store, binds the listener and serves in the
//! background; the returned [`RunningServer`] stops the server when dropped. The
//! `reservoir` binary and Rust tests use the same entry point.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use reservoir_domain::cognito::AWS_POOLS_PER_REGION;
use reservoir_domain::coip::{OutpostCatalogue, OutpostConfigError, OutpostSpec};
use reservoir_domain::ids::{OsRandom, Random};
use reservoir_domain::image::{ImageCatalogue, ImageConfigError, ImageMode, ImageSpec};
use reservoir_domain::pagination::TokenCodec;
use reservoir_domain::region::{Catalogue, CatalogueError, RegionInfo};
use reservoir_domain::vpc::AWS_VPC_QUOTA;
use reservoir_store::postgres::PostgresStore;
use reservoir_store::sqlite::SqliteStore;
use reservoir_store::{Store, StoreError, StoreKind};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub mod admin;
pub mod clock;
pub mod cognito;
pub mod context;
pub mod ec2;
pub mod error;
pub mod http;
pub mod ram;
pub mod respond;

/// Where state lives.
#[derive(Clone, PartialEq, Eq)]
pub enum Storage {
    /// A SQLite file (created with its directory if missing).
    File(PathBuf),
    /// In memory, gone when the server stops.
    Memory,
    /// A PostgreSQL database (`postgres://…`), which several servers may share, with at
    /// most `pool_size` connections from this one.
    Postgres { url: String, pool_size: usize },
}

/// Opens (creating and migrating as needed) the store `storage` names. Blocks: call it
/// off the async workers.
pub fn open_store(storage: &Storage) -> Result<Arc<dyn Store>, StoreError> {
    Ok(match storage {
        Storage::File(path) => Arc::new(SqliteStore::open_file(path)?),
        Storage::Memory => Arc::new(SqliteStore::open_memory()?),
        Storage::Postgres { url, pool_size } => Arc::new(PostgresStore::open(url, *pool_size)?),
    })
}

/// Shown without a PostgreSQL password (logs print it).
impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Storage::File(path) => f.debug_tuple("File").field(path).finish(),
            Storage::Memory => f.write_str("Memory"),
            Storage::Postgres { url, pool_size } => {
                f.debug_struct("Postgres").field("url", &redact_password(url)).field("pool_size", pool_size).finish()
            }
        }
    }
}

/// `postgres://user:secret@host/db` as `postgres://user:***@host/db`.
pub fn redact_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else { return url.to_string() };
    let rest = &url[scheme_end..];
    let Some(at) = rest.find('@') else { return url.to_string() };
    match rest[..at].find(':') {
        Some(colon) => format!("{}{}:***{}", &url[..scheme_end], &rest[..colon], &rest[at..]),
        None => url.to_string(),
    }
}

/// Per-account, per-region quotas. None is enforced unless configured: a test server
/// that refused a sixth VPC would break ordinary test suites. Each one set makes
/// Reservoir refuse as AWS refuses at that limit.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quotas {
    pub vpcs_per_region: Option<u32>,
    pub identity_pools_per_region: Option<u32>,
    /// Subnets per VPC (AWS's default: 200).
    pub subnets_per_vpc: Option<u32>,
    /// VPC security groups per Region (AWS's default: 2500).
    pub security_groups_per_region: Option<u32>,
    /// Inbound (and, separately, outbound) rules per security group (AWS's default: 60).
    pub rules_per_security_group: Option<u32>,
    /// Security groups per network interface (AWS's default: 5).
    pub security_groups_per_interface: Option<u32>,
    /// Private IPv4 addresses per network interface (AWS's limit depends on the instance
    /// type an interface is attached to; the default is the largest, 50).
    pub private_addresses_per_interface: Option<u32>,
    /// Network interfaces per Region (AWS's default: 5000).
    pub network_interfaces_per_region: Option<u32>,
    /// Route tables per VPC (AWS's default: 200).
    pub route_tables_per_vpc: Option<u32>,
    /// Routes per route table (non-propagated) (AWS's default: 50).
    pub routes_per_route_table: Option<u32>,
    /// Internet gateways per Region (AWS's default: 5).
    pub internet_gateways_per_region: Option<u32>,
    /// Interface (and, separately, gateway) VPC endpoints per VPC (AWS's default: 50).
    pub vpc_endpoints_per_vpc: Option<u32>,
}

impl Quotas {
    /// Every quota at AWS's default for a new account.
    pub fn aws_defaults() -> Quotas {
        Quotas {
            vpcs_per_region: Some(AWS_VPC_QUOTA),
            identity_pools_per_region: Some(AWS_POOLS_PER_REGION),
            subnets_per_vpc: Some(200),
            security_groups_per_region: Some(2500),
            rules_per_security_group: Some(60),
            security_groups_per_interface: Some(5),
            private_addresses_per_interface: Some(50),
            network_interfaces_per_region: Some(5000),
            route_tables_per_vpc: Some(200),
            routes_per_route_table: Some(50),
            internet_gateways_per_region: Some(5),
            vpc_endpoints_per_vpc: Some(50),
        }
    }
}

/// Everything the server needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    pub storage: Storage,
    /// The region of unsigned requests that name none.
    pub default_region: String,
    /// Replaces the built-in region catalogue when set.
    pub regions: Option<Vec<RegionInfo>>,
    /// Replaces the built-in image catalogue when set (`[[images]]` in the config file).
    pub images: Option<Vec<ImageSpec>>,
    /// What `RunInstances` does with an unknown `ami-` id.
    pub image_mode: ImageMode,
    /// Replaces the built-in Outposts catalogue when set (`[[outposts]]` in the config file).
    pub outposts: Option<Vec<OutpostSpec>>,
    /// Regions and Local Zone groups the accounts are opted into (AWS makes new accounts
    /// opt into some regions: they are `not-opted-in` otherwise).
    pub opt_in: Vec<String>,
    pub quotas: Quotas,
    /// Larger request bodies are refused (413).
    pub max_body_bytes: usize,
    /// How many log lines were dropped so far, for the health endpoint.
    pub log_lines_dropped: DroppedLogLines,
    /// RAM treats every account as one organization with sharing enabled: resource
    /// shares take effect at once, without invitations (`--ram-organization`).
    pub ram_organization: bool,
    /// A state document (`reservoir export`) loaded at start into the empty store
    /// (`--seed`); a store that holds state refuses it and the server does not start.
    pub seed: Option<PathBuf>,
}

/// Reads how many log lines the log writer has dropped because its output could not keep
/// up (`log_lines_dropped` in `GET /_reservoir/health`); always 0 unless set.
#[derive(Clone, Default)]
pub struct DroppedLogLines(Option<Arc<dyn Fn() -> u64 + Send + Sync>>);

impl DroppedLogLines {
    pub fn new(count: impl Fn() -> u64 + Send + Sync + 'static) -> DroppedLogLines {
        DroppedLogLines(Some(Arc::new(count)))
    }

    pub fn get(&self) -> u64 {
        self.0.as_ref().map_or(0, |count| count())
    }
}

impl std::fmt::Debug for DroppedLogLines {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("DroppedLogLines").field(&self.get()).finish()
    }
}

impl Config {
    /// In memory, defaults everywhere: what tests want.
    pub fn ephemeral() -> Config {
        Config {
            storage: Storage::Memory,
            default_region: "us-east-1".into(),
            regions: None,
            images: None,
            image_mode: ImageMode::Lenient,
            outposts: None,
            opt_in: Vec::new(),
            quotas: Quotas::default(),
            max_body_bytes: 16 * 1024 * 1024,
            log_lines_dropped: DroppedLogLines::default(),
            ram_organization: false,
            seed: None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot open the store: {0}")]
    Store(#[from] StoreError),
    #[error("invalid region settings: {0}")]
    Catalogue(#[from] CatalogueError),
    #[error("invalid image settings: {0}")]
    Images(#[from] ImageConfigError),
    #[error("invalid outpost settings: {0}")]
    Outposts(#[from] OutpostConfigError),
    #[error("the outpost of local gateway {0} is in {1}, which is not in the region catalogue")]
    OutpostRegion(String, String),
    #[error("the default region {0} is not in the region catalogue")]
    DefaultRegion(String),
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
    #[error("cannot load the seed {0}: {1}")]
    Seed(PathBuf, String),
}

/// Shared by every request.
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub catalogue: Catalogue,
    /// The machine images `DescribeImages` lists and `RunInstances` launches.
    pub images: ImageCatalogue,
    pub image_mode: ImageMode,
    /// The Outposts and local gateways `DescribeLocalGateways` lists.
    pub outposts: OutpostCatalogue,
    pub tokens: TokenCodec,
    pub quotas: Quotas,
    pub default_region: String,
    pub max_body_bytes: usize,
    pub started: Instant,
    /// The server clock: every "now" of the domain comes from it.
    pub clock: clock::Clock,
    pub log_lines_dropped: DroppedLogLines,
    /// See [`Config::ram_organization`].
    pub ram_organization: bool,
}

/// The `meta` key of the NextToken MAC key.
const TOKEN_KEY: &str = "next-token-key";

impl AppState {
    /// Opens the store (running migrations), loads or creates the NextToken key (the
    /// first process to store one wins; every other reads it back) and reads the clock.
    pub fn open(config: Config) -> Result<AppState, StartError> {
        let mut catalogue = match config.regions {
            Some(regions) => Catalogue::new(regions)?,
            None => Catalogue::builtin(),
        };
        catalogue.opt_in(&config.opt_in)?;
        if catalogue.region(&config.default_region).is_none() {
            return Err(StartError::DefaultRegion(config.default_region));
        }
        let images = match &config.images {
            Some(specs) => {
                let names: Vec<&str> = catalogue.regions().iter().map(|r| r.name.as_str()).collect();
                ImageCatalogue::configured(specs, &names)?
            }
            None => ImageCatalogue::builtin(),
        };
        let outposts = match config.outposts {
            Some(specs) => {
                if let Some(s) = specs.iter().find(|s| catalogue.region(&s.region).is_none()) {
                    return Err(StartError::OutpostRegion(s.local_gateway_id.clone(), s.region.clone()));
                }
                OutpostCatalogue::configured(specs)?
            }
            None => OutpostCatalogue::builtin(),
        };
        let store = open_store(&config.storage)?;
        if let Some(path) = &config.seed {
            let seed_error = |m: String| StartError::Seed(path.clone(), m);
            let text = std::fs::read_to_string(path).map_err(|e| seed_error(e.to_string()))?;
            let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| seed_error(e.to_string()))?;
            let loaded = reservoir_store::transfer::import(&*store, &doc).map_err(|e| seed_error(e.to_string()))?;
            tracing::info!(rows = loaded.rows, seed = %path.display(), "state loaded from the seed");
        }
        let (tokens, offset) = reservoir_store::write(&*store, |tx| -> Result<(TokenCodec, i64), StoreError> {
            let mut key = [0u8; 32];
            OsRandom.fill(&mut key);
            tx.put_meta_if_absent(TOKEN_KEY, &TokenCodec::new(key).key_hex())?;
            let stored = tx.get_meta(TOKEN_KEY)?.unwrap_or_default();
            let codec = TokenCodec::from_key_hex(&stored)
                .ok_or_else(|| StoreError::Corrupt(format!("the stored {TOKEN_KEY} is not a 64-digit hex key")))?;
            Ok((codec, clock::parse_offset(tx.get_meta(clock::OFFSET_KEY)?.as_deref())))
        })?;
        Ok(AppState {
            store,
            catalogue,
            images,
            image_mode: config.image_mode,
            outposts,
            tokens,
            quotas: config.quotas,
            default_region: config.default_region,
            max_body_bytes: config.max_body_bytes,
            started: Instant::now(),
            clock: clock::Clock::new(offset),
            log_lines_dropped: config.log_lines_dropped,
            ram_organization: config.ram_organization,
        })
    }

    pub fn store_kind(&self) -> StoreKind {
        self.store.kind()
    }
}

/// Serves on `listener` until `shutdown` resolves, lets in-flight requests finish, then
/// closes the store.
pub async fn serve(
    state: Arc<AppState>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let app = http::router(state.clone());
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown).await;
    let store = state.store.clone();
    let closed = tokio::task::spawn_blocking(move || store.close()).await;
    match closed {
        Ok(Ok(())) => tracing::info!("store closed"),
        Ok(Err(e)) => tracing::error!("closing the store: {e}"),
        Err(e) => tracing::error!("closing the store: {e}"),
    }
    served
}

/// Opens the store, binds `listen` (port 0 picks a free port) and serves in the
/// background on the current Tokio runtime.
pub async fn start(config: Config, listen: SocketAddr) -> Result<RunningServer, StartError> {
    let state = tokio::task::spawn_blocking(move || AppState::open(config))
        .await
        .map_err(|e| StartError::Io(std::io::Error::other(e)))??;
    let state = Arc::new(state);
    let listener = TcpListener::bind(listen).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = oneshot::channel::<()>();
    let store_kind = state.store_kind();
    let task = tokio::spawn(serve(state, listener, async move {
        let _ = rx.await;
    }));
    Ok(RunningServer { addr, store_kind, shutdown: Some(tx), task: Some(task) })
}

/// A server started with [`start`]. Dropping it asks the server to stop; [`RunningServer::stop`]
/// also waits until it has (in-flight requests answered, store closed).
pub struct RunningServer {
    addr: SocketAddr,
    store_kind: StoreKind,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl RunningServer {
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: give it to clients as `endpoint_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn store_kind(&self) -> StoreKind {
        self.store_kind
    }

    /// Stops accepting, finishes in-flight requests, closes the store.
    pub async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        match self.task.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }

    /// Waits until the server stops on its own (it does not, unless it fails).
    pub async fn wait(&mut self) -> std::io::Result<()> {
        match self.task.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
