//! IPAM allocator benchmark: choosing a block must not scan the pool's allocations.
//!
//! `cargo bench -p reservoir-server --bench ipam` builds one in-process server on a
//! SQLite file, makes two pools through the router (`CreateIpam`, `CreateIpamPool` in
//! the IPAM's private default scope, `ProvisionIpamPoolCidr` 10.0.0.0/7: room for 2M
//! /28s), fills `small` with 1,000 /28 allocations and `large` with N (1,000,000; 100,000
//! with `-- --quick`, which the test command runs), then times in turns, one request of
//! each pool after the other:
//! * `AllocateIpamPoolCidr NetmaskLength=28` through the router (each allocation is
//!   released again by an untimed `ReleaseIpamPoolAllocation`, so the pools keep exactly
//!   1,000 and N allocations and every timed request takes the same block);
//! * the first page (`MaxResults=1000`) of `GetIpamPoolAllocations`.
//!
//! It prints medians and 90th percentiles, the fill rate, store bytes and memory per
//! million allocations, checks the targets and exits non-zero if one is missed. Targets
//! are ratios of the two pools timed in turns in the same run, never absolute times
//! (2-core VM, release build, measured figure in brackets):
//! * an allocation in the pool of N at most 2x one in the pool of 1,000 [1.0–1.1 at
//!   100,000, 1.1 at 1,000,000; 170x and 1,600x when `first_free_slot` walked the
//!   primary key through held slots];
//! * the first page of the pool of N at most 2x the first page of the pool of 1,000
//!   [1.0 at both sizes].
//!
//! Figures on that machine: an allocation 0.2–0.35 ms, a first page 1.7–3 ms; about
//! 350 bytes of store per allocation (334 MiB per million); the fill writes about 20,000
//! allocations/s, the engine (`--engine-fill`) about 8,000/s, the same at the end of a
//! million as at the start; the process's memory does not grow with the pool (VmRSS grows
//! about 2 MiB during a fill of any size: SQLite's page caches, which are bounded, so the
//! figure per million is large after a small fill and about 2 MiB after a full one).
//!
//! The fills go through the store, not HTTP (a million requests would take too long).
//! `small` is filled by the engine: `domain::space::allocate_next` over `TxSlots`, with
//! holders as `AllocateIpamPoolCidr` makes them (resource type `custom`, id
//! `ipam-pool-alloc-` + 33 hex digits). `large` is filled by writing the slots the engine
//! leaves after N allocations in turn (N held /28s from the pool's start, then the rest
//! of the root as the largest aligned free blocks), 10,000 slots per transaction: the
//! same rows, but a fill whose time does not depend on the allocator under test (an
//! allocator that scans would take hours to fill a million). The benchmark checks that
//! this layout is the engine's: `small`'s slots, as the engine left them, must be the
//! layout computed for 1,000; and the router's first allocation in each pool must be the
//! (n+1)th /28. `--engine-fill` fills `large` with `allocate_next` too, 10,000 per
//! transaction, and prints the engine's cost per allocation in the first and the last
//! tenth of the fill.
//!
//! Store: by default the ephemeral store (`--ephemeral`): a SQLite file in a private
//! temporary directory, `synchronous=OFF`, so that a request's time is the allocator's
//! rather than mostly a disk flush. `--durable` runs on the default file store
//! (`synchronous=FULL`, every commit flushed; an allocation took 0.6 ms rather than 0.27
//! on that machine). Store bytes are the database file's size after
//! `PRAGMA wal_checkpoint(TRUNCATE)` (page_count x page_size), before and after filling
//! `large`. Memory is the process's VmRSS before and after filling `large`.
//!
//! Sampling stops early, after at least 7 samples of each, once the measuring has taken
//! 20 s (`--quick`) or 120 s: an allocator that scans would otherwise keep the benchmark
//! busy for hours before it could say so.
//!
//! Flags: `--quick`, `--durable`, `--engine-fill`, `--large=N` (N instead of the default).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

// The allocator the `reservoir` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;

use common::{REGION, Targets, extract, ratio, report};

use reservoir_domain::account::{AccountId, Scope};
use reservoir_domain::ids::OsRandom;
use reservoir_domain::ipam::{ALLOCATION_PREFIX, new_long_id};
use reservoir_domain::space::{self, Allocation, Block, Family, Search, Slot, SpaceError};
use reservoir_domain::time::Timestamp;
use reservoir_server::{AppState, Config, Storage, http::router};
use reservoir_store::slots::TxSlots;
use reservoir_store::sqlite::SqliteStore;
use reservoir_store::{ReadTx, Store, StoreError};

const ACCOUNT: &str = "000000000000";
/// Each pool's provisioned CIDR: 2^21 /28s.
const POOL_CIDR: &str = "10.0.0.0/7";
const POOL_START: u32 = 0x0a00_0000;
const ROOT_PREFIX: u8 = 7;
const NETMASK: u8 = 28;
const SMALL: usize = 1_000;
/// Allocations (or slots) per fill transaction.
const BATCH: usize = 10_000;
/// The least number of samples of each measurement, whatever the time budget.
const MIN_SAMPLES: usize = 7;
const LIMIT_ALLOCATE: f64 = 2.0;
const LIMIT_FIRST_PAGE: f64 = 2.0;

/// An EC2 call by the account; answers the whole body.
async fn call(app: &axum::Router, body: &str) -> String {
    common::call(app, ACCOUNT, body).await
}

/// A server whose store is a SQLite file at `db`.
struct Server {
    app: axum::Router,
    state: Arc<AppState>,
    db: PathBuf,
    _dir: Option<tempfile::TempDir>,
}

fn server(durable: bool) -> Server {
    if durable {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ipam.db");
        let mut config = Config::ephemeral();
        config.storage = Storage::File(db.clone());
        let state = Arc::new(AppState::open(config).unwrap());
        return Server { app: router(state.clone()), state, db, _dir: Some(dir) };
    }
    // The ephemeral store, opened here so that its file is known: the state's own store
    // is replaced (the state keeps nothing else of it but the NextToken key, in memory).
    let mut state = AppState::open(Config::ephemeral()).unwrap();
    let store = SqliteStore::open_memory().unwrap();
    let dir = store.ephemeral_dir().expect("an ephemeral store has a directory");
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "db"))
        .collect();
    let [db] = &files[..] else { panic!("expected one .db file in {}: {files:?}", dir.display()) };
    let db = db.clone();
    state.store = Arc::new(store);
    let state = Arc::new(state);
    Server { app: router(state.clone()), state, db, _dir: None }
}

/// A pool in a new IPAM's private default scope, with 10.0.0.0/7 provisioned.
async fn pool(app: &axum::Router) -> String {
    let xml = call(app, "Action=CreateIpam").await;
    let scope = extract(&xml, "privateDefaultScopeId");
    let xml = call(app, &format!("Action=CreateIpamPool&IpamScopeId={scope}&AddressFamily=ipv4")).await;
    let pool = extract(&xml, "ipamPoolId");
    let cidr = POOL_CIDR.replace('/', "%2F");
    call(app, &format!("Action=ProvisionIpamPoolCidr&IpamPoolId={pool}&Cidr={cidr}")).await;
    pool
}

/// The engine's or the store's error, as text.
struct FillError(String);

impl From<SpaceError> for FillError {
    fn from(e: SpaceError) -> Self {
        FillError(e.to_string())
    }
}

impl From<StoreError> for FillError {
    fn from(e: StoreError) -> Self {
        FillError(e.to_string())
    }
}

/// What `AllocateIpamPoolCidr` holds a block for.
fn holder(now: Timestamp) -> Allocation {
    Allocation {
        id: new_long_id(ALLOCATION_PREFIX, &mut OsRandom),
        resource_type: "custom".into(),
        resource_id: None,
        resource_owner: ACCOUNT.into(),
        resource_region: Some(REGION.into()),
        description: None,
        created: now,
    }
}

fn scope() -> Scope {
    Scope::new(AccountId::parse(ACCOUNT).unwrap(), REGION)
}

fn root() -> Block {
    Block::new(Family::Ipv4, u128::from(POOL_START), ROOT_PREFIX).unwrap()
}

/// Allocates `n` /28s in the pool with the engine, `BATCH` per transaction; answers
/// each transaction's (allocations, time).
fn engine_fill(store: &dyn Store, pool: &str, n: usize, now: Timestamp) -> Vec<(usize, Duration)> {
    let scope = scope();
    let search = Search {
        family: Family::Ipv4,
        prefix: NETMASK,
        largest_root: ROOT_PREFIX,
        allowed: vec![],
        disallowed: vec![],
    };
    let mut batches = Vec::new();
    let mut done = 0;
    while done < n {
        let k = BATCH.min(n - done);
        let t = Instant::now();
        reservoir_store::write(store, |tx| -> Result<(), FillError> {
            let mut slots = TxSlots::<FillError>::new(tx, &scope);
            for _ in 0..k {
                space::allocate_next(&mut slots, pool, &search, holder(now))?;
            }
            Ok(())
        })
        .unwrap_or_else(|e| panic!("filling {pool}: {}", e.0));
        batches.push((k, t.elapsed()));
        done += k;
    }
    batches
}

/// The slots the engine leaves in the root after allocating its first `n` /28s one
/// after the other, in address order: the n /28s, held, then the rest of the root in the
/// largest aligned free blocks (a buddy system splits only what it hands out); `true`
/// for a held slot. Made as they are written, so the benchmark holds none of them.
fn tiling(n: usize) -> impl Iterator<Item = (Block, bool)> {
    let unit = 1u128 << (32 - NETMASK);
    let end = root().size() / unit; // in /28s
    let block = move |at: u128, units: u128| {
        Block::new(Family::Ipv4, root().start + at * unit, NETMASK - units.trailing_zeros() as u8).unwrap()
    };
    // The largest aligned free block starting at `at` (in /28s): its lowest set bit.
    let largest = move |at: u128| if at == 0 { end } else { 1u128 << at.trailing_zeros() }.min(end - at);
    let held = (0..n as u128).map(move |at| (block(at, 1), true));
    let free = std::iter::successors(Some(n as u128), move |&at| Some(at + largest(at)))
        .take_while(move |&at| at < end)
        .map(move |at| (block(at, largest(at)), false));
    held.chain(free)
}

/// Writes the slots the engine would leave after `n` allocations into the (fresh) pool,
/// `BATCH` slots per transaction; answers the time.
fn tiling_fill(store: &dyn Store, pool: &str, n: usize, now: Timestamp) -> Duration {
    let scope = scope();
    let t = Instant::now();
    reservoir_store::write(store, |tx| tx.delete_slot(&scope, pool, Family::Ipv4, root().start))
        .map(|gone| assert!(gone, "the pool's root is free"))
        .unwrap();
    let mut slots = tiling(n).peekable();
    while slots.peek().is_some() {
        let chunk: Vec<(Block, bool)> = slots.by_ref().take(BATCH).collect();
        reservoir_store::write(store, |tx| -> Result<(), StoreError> {
            for (block, held) in &chunk {
                let slot = Slot { block: *block, root_prefix: ROOT_PREFIX, holder: held.then(|| holder(now)) };
                tx.insert_slot(&scope, pool, &slot)?;
            }
            Ok(())
        })
        .unwrap();
    }
    t.elapsed()
}

/// Every slot of the pool's root, in address order, with whether it is held.
fn slots_of(store: &dyn Store, pool: &str) -> Vec<(Block, bool)> {
    let scope = scope();
    let mut out = reservoir_store::read(store, |tx: &mut dyn ReadTx| -> Result<_, StoreError> {
        let mut out = Vec::new();
        let mut at = root().last();
        while let Some(slot) = tx.slot_at_or_before(&scope, pool, Family::Ipv4, at)? {
            if slot.block.start < root().start {
                break;
            }
            out.push((slot.block, !slot.is_free()));
            match slot.block.start.checked_sub(1) {
                Some(a) => at = a,
                None => break,
            }
        }
        Ok(out)
    })
    .unwrap();
    out.reverse();
    out
}

/// The `i`th /28 of the pool (from 0).
fn nth_block(i: usize) -> String {
    format!("{}/{NETMASK}", std::net::Ipv4Addr::from(POOL_START + (i as u32) * 16))
}

/// (database file, WAL file) sizes after folding the WAL into the database: a second
/// store on the same file, closed, runs `PRAGMA wal_checkpoint(TRUNCATE)`.
fn store_bytes(db: &Path) -> (u64, u64) {
    let other = SqliteStore::open_file(db).unwrap();
    other.close().unwrap();
    drop(other);
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    (size(db), size(&PathBuf::from(format!("{}-wal", db.display()))))
}

/// (VmRSS, VmHWM) of this process, in bytes.
fn memory() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

fn mib(bytes: f64) -> f64 {
    bytes / (1024.0 * 1024.0)
}

/// One `AllocateIpamPoolCidr NetmaskLength=28`, timed (request and answer), then its
/// release, untimed. Answers the time and the block.
async fn allocate_release(app: &axum::Router, pool: &str) -> (Duration, String) {
    let t = Instant::now();
    let xml = call(app, &format!("Action=AllocateIpamPoolCidr&IpamPoolId={pool}&NetmaskLength={NETMASK}")).await;
    let took = t.elapsed();
    let (id, cidr) = (extract(&xml, "ipamPoolAllocationId"), extract(&xml, "cidr"));
    call(
        app,
        &format!(
            "Action=ReleaseIpamPoolAllocation&IpamPoolId={pool}&Cidr={}&IpamPoolAllocationId={id}",
            cidr.replace('/', "%2F")
        ),
    )
    .await;
    (took, cidr)
}

fn first_page_request(pool: &str) -> String {
    format!("Action=GetIpamPoolAllocations&IpamPoolId={pool}&MaxResults=1000")
}

/// The first page, timed (request and whole answer).
async fn first_page(app: &axum::Router, pool: &str) -> Duration {
    let t = Instant::now();
    let xml = call(app, &first_page_request(pool)).await;
    let took = t.elapsed();
    std::hint::black_box(xml);
    took
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let began = Instant::now();
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let durable = args.iter().any(|a| a == "--durable");
    let engine_fill_large = args.iter().any(|a| a == "--engine-fill");
    let n: usize = args
        .iter()
        .find_map(|a| a.strip_prefix("--large="))
        .map(|v| v.replace('_', "").parse().expect("--large=N"))
        .unwrap_or(if quick { 100_000 } else { 1_000_000 });
    assert!(n >= SMALL, "--large must be at least {SMALL}");
    let mut targets = Targets::default();

    let s = server(durable);
    let app = &s.app;
    println!(
        "IPAM allocator: pools of {SMALL} and {n} /{NETMASK} allocations in {POOL_CIDR}; {} mode; store: {}",
        if quick { "quick" } else { "full" },
        if durable {
            "SQLite file, synchronous=FULL (default file store)"
        } else {
            "SQLite file, synchronous=OFF (ephemeral store)"
        }
    );
    let small = pool(app).await;
    let large = pool(app).await;
    let now = s.state.clock.now();
    let store = s.state.store.clone();

    // `small`, by the engine; its slots must be the layout `large` is filled with.
    let batches = {
        let (store, pool) = (store.clone(), small.clone());
        tokio::task::spawn_blocking(move || engine_fill(&*store, &pool, SMALL, now)).await.unwrap()
    };
    let took: Duration = batches.iter().map(|(_, d)| *d).sum();
    println!(
        "fill of small by the engine (allocate_next): {SMALL} allocations in {:.2} s, {:.0} allocations/s, {:.1} µs each",
        took.as_secs_f64(),
        SMALL as f64 / took.as_secs_f64(),
        took.as_secs_f64() * 1e6 / SMALL as f64
    );
    assert_eq!(
        slots_of(&*store, &small),
        tiling(SMALL).collect::<Vec<_>>(),
        "the engine's slots after {SMALL} allocations"
    );

    // `large`, with the store's size and the process's memory before and after.
    let (db_before, wal_before) = store_bytes(&s.db);
    let (rss_before, _) = memory();
    let (fill_time, tenths) = if engine_fill_large {
        let batches = {
            let (store, pool) = (store.clone(), large.clone());
            tokio::task::spawn_blocking(move || engine_fill(&*store, &pool, n, now)).await.unwrap()
        };
        // The engine's own cost as the pool grows: the first and the last tenth.
        let tenth = (batches.len() / 10).max(1);
        let per = |b: &[(usize, Duration)]| {
            let (k, d) = b.iter().fold((0usize, Duration::ZERO), |(k, d), (k2, d2)| (k + k2, d + *d2));
            d.as_secs_f64() * 1e6 / k as f64
        };
        let tenths = (per(&batches[..tenth]), per(&batches[batches.len() - tenth..]));
        (batches.iter().map(|(_, d)| *d).sum(), Some(tenths))
    } else {
        let (store, pool) = (store.clone(), large.clone());
        (tokio::task::spawn_blocking(move || tiling_fill(&*store, &pool, n, now)).await.unwrap(), None)
    };
    let (rss_after, hwm_after) = memory();
    let (db_after, wal_after) = store_bytes(&s.db);
    assert_eq!((wal_before, wal_after), (0, 0), "the checkpoint left a WAL");
    println!(
        "fill of large {}: {n} allocations in {:.1} s, {:.0} allocations/s, {:.1} µs each",
        if engine_fill_large { "by the engine (allocate_next)" } else { "by writing the engine's layout" },
        fill_time.as_secs_f64(),
        n as f64 / fill_time.as_secs_f64(),
        fill_time.as_secs_f64() * 1e6 / n as f64
    );
    if let Some((first, last)) = tenths {
        println!("  per allocation (transactions of {BATCH}): first tenth {first:.1} µs, last tenth {last:.1} µs");
    }
    let per_million = |after: u64, before: u64| (after as f64 - before as f64) / n as f64 * 1e6;
    println!(
        "store: database {:.1} MiB before, {:.1} MiB after (page_count x page_size, after wal_checkpoint(TRUNCATE)): {:.1} MiB per million allocations ({:.0} bytes each)",
        mib(db_before as f64),
        mib(db_after as f64),
        mib(per_million(db_after, db_before)),
        per_million(db_after, db_before) / 1e6
    );
    println!(
        "memory: VmRSS {:.1} MiB before the fill, {:.1} MiB after (peak {:.1} MiB): {:.1} MiB per million allocations",
        mib(rss_before as f64),
        mib(rss_after as f64),
        mib(hwm_after as f64),
        mib(per_million(rss_after, rss_before))
    );

    // The router sees the fills: the next block of each pool is the one after its last.
    for (p, held) in [(&small, SMALL), (&large, n)] {
        let xml = call(app, &first_page_request(p)).await;
        assert_eq!(xml.matches("<ipamPoolAllocationId>").count(), 1000, "a first page of 1000");
        assert!(xml.contains("<resourceType>custom</resourceType>"));
        let t = Instant::now();
        let (_, got) = allocate_release(app, p).await;
        assert_eq!(got, nth_block(held), "the next block of a pool of {held}");
        println!("first allocation in the pool of {held}: {got}, {:.3} ms", t.elapsed().as_secs_f64() * 1e3);
    }

    // In turns: one request in small, one in large, …; a first page of each every few.
    let (rounds, allocations, pages) = if quick { (10, 30, 6) } else { (20, 100, 20) };
    let budget = Duration::from_secs(if quick { 20 } else { 120 });
    for p in [&small, &large, &small, &large] {
        allocate_release(app, p).await;
        first_page(app, p).await;
    }
    let mut alloc_samples = [Vec::new(), Vec::new()];
    let mut page_samples = [Vec::new(), Vec::new()];
    let t = Instant::now();
    'rounds: for _ in 0..rounds {
        for j in 0..allocations {
            for (i, p) in [&small, &large].into_iter().enumerate() {
                alloc_samples[i].push(allocate_release(app, p).await.0);
            }
            if j % (allocations / pages) == 0 {
                for (i, p) in [&small, &large].into_iter().enumerate() {
                    page_samples[i].push(first_page(app, p).await);
                }
            }
            if t.elapsed() > budget && alloc_samples[1].len() >= MIN_SAMPLES && page_samples[1].len() >= MIN_SAMPLES {
                println!("(time budget of {} s spent: sampling stopped early)", budget.as_secs());
                break 'rounds;
            }
        }
    }
    let measuring = t.elapsed();
    let [alloc_small, alloc_large] = alloc_samples;
    let [page_small, page_large] = page_samples;
    let a_small = report(&format!("AllocateIpamPoolCidr /28, pool of {SMALL}"), alloc_small);
    let a_large = report(&format!("AllocateIpamPoolCidr /28, pool of {n}"), alloc_large);
    let p_small = report(&format!("GetIpamPoolAllocations first page (1000), pool of {SMALL}"), page_small);
    let p_large = report(&format!("GetIpamPoolAllocations first page (1000), pool of {n}"), page_large);
    println!(
        "(each allocation released again, untimed, so the pools keep {SMALL} and {n}; measured for {:.1} s)",
        measuring.as_secs_f64()
    );

    targets.at_most(&format!("allocation, pool of {n} / pool of {SMALL}"), ratio(&a_large, &a_small), LIMIT_ALLOCATE);
    targets.at_most(&format!("first page, pool of {n} / pool of {SMALL}"), ratio(&p_large, &p_small), LIMIT_FIRST_PAGE);
    println!("run time {:.1} s", began.elapsed().as_secs_f64());

    targets.finish();
}
