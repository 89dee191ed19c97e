//! Customer-owned IP benchmark: allocating and releasing an address, and reading a
//! filtered page of a pool's usage, cost the same in a pool of 10,000 allocated addresses
//! as in a pool of 100.
//!
//! `cargo bench -p reservoir-server --bench coip` builds one in-process server on the
//! SQLite *file* store (a file in a temporary directory, `synchronous=FULL`, as
//! `reservoir serve` keeps state) and, through the router, one local gateway route table
//! in `coip` mode with two pools: `small` (10.80.0.0/24) and `large` (10.96.0.0/16),
//! given 100 and N allocated addresses (10,000 in both modes; `--quick`, which the test
//! command runs, takes fewer samples) by `AllocateAddress CustomerOwnedIpv4Pool=…`.
//!
//! Then it times in turns, one request of each kind after the other, each side first
//! every other round:
//! * a pair `AllocateAddress` + `ReleaseAddress` in each pool (the address taken is the
//!   pool's lowest free one, found by one indexed lookup of the address-space engine);
//! * `GetCoipPoolUsage` with a filter (`coip-address-usage.co-ip` = `10.*`, matching every
//!   address) and `MaxResults=100`: the first page of each pool.
//!
//! It prints medians, 90th percentiles and pairs per second, checks the targets and exits
//! non-zero if one is missed. Targets are ratios of the two sides timed in turns in the
//! same run, never absolute times (2-core VM, release build; measured figures in
//! brackets):
//! * a pair in the pool of 10,000 at most 2x a pair in the pool of 100 [1.07x];
//! * the filtered page of the pool of 10,000 at most 2x the page of the pool of 100
//!   [1.33x]. A page that loaded the pool's allocations, or an allocation that walked
//!   them, would cost about a hundred times more in the large pool.
//!
//! Figures on that machine: a pair 0.64–0.68 ms (p90 0.80–0.82 ms), about 1,300 pairs/s;
//! a filtered page of 100 0.23 ms (pool of 100) and 0.31 ms (pool of 10,000); the fill
//! makes about 2,800 allocations/s through the router; the quick run takes 4 s after the
//! build.
//!
//! Flags: `--quick`.

use std::sync::Arc;
use std::time::{Duration, Instant};

// The allocator the `reservoir` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod common;

use common::{Targets, extract, ratio, report};
use reservoir_server::{AppState, Config, Storage, http::router};

const ACCOUNT: &str = "000000000000";
const SMALL: usize = 100;
const LARGE: usize = 10_000;
const MIN_SAMPLES: usize = 7;
const LIMIT_PAIR: f64 = 2.0;
const LIMIT_PAGE: f64 = 2.0;
const PAGE_FILTER: &str = "Filter.1.Name=coip-address-usage.co-ip&Filter.1.Value.1=10.%2A&MaxResults=100";

/// An EC2 call by the account that must succeed; answers the whole body.
async fn call(app: &axum::Router, body: &str) -> String {
    common::call(app, ACCOUNT, body).await
}

async fn pool(app: &axum::Router, rtb: &str, cidr: &str) -> String {
    let id = extract(&call(app, &format!("Action=CreateCoipPool&LocalGatewayRouteTableId={rtb}")).await, "poolId");
    call(app, &format!("Action=CreateCoipCidr&Cidr={}&CoipPoolId={id}", cidr.replace('/', "%2F"))).await;
    id
}

async fn allocate(app: &axum::Router, pool: &str) -> String {
    extract(&call(app, &format!("Action=AllocateAddress&CustomerOwnedIpv4Pool={pool}")).await, "allocationId")
}

/// An allocation and its release, timed together.
async fn pair(app: &axum::Router, pool: &str) -> Duration {
    let t = Instant::now();
    let id = allocate(app, pool).await;
    call(app, &format!("Action=ReleaseAddress&AllocationId={id}")).await;
    t.elapsed()
}

async fn page(app: &axum::Router, pool: &str) -> Duration {
    let t = Instant::now();
    let xml = call(app, &format!("Action=GetCoipPoolUsage&PoolId={pool}&{PAGE_FILTER}")).await;
    let took = t.elapsed();
    assert_eq!(xml.matches("<coIp>").count(), 100, "a full page");
    took
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let began = Instant::now();
    let quick = std::env::args().any(|a| a == "--quick");
    let rounds = if quick { 200 } else { 1_000 };
    let budget = Duration::from_secs(if quick { 20 } else { 120 });
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::ephemeral();
    config.storage = Storage::File(dir.path().join("coip.db"));
    let state = Arc::new(AppState::open(config).unwrap());
    let app = &router(state.clone());
    println!(
        "Customer-owned IPs: pools of {SMALL} and {LARGE} allocated addresses; {} mode; store: SQLite file, synchronous=FULL",
        if quick { "quick" } else { "full" }
    );

    let lgw = extract(&call(app, "Action=DescribeLocalGateways").await, "localGatewayId");
    let rtb = extract(
        &call(app, &format!("Action=CreateLocalGatewayRouteTable&LocalGatewayId={lgw}&Mode=coip")).await,
        "localGatewayRouteTableId",
    );
    let small = pool(app, &rtb, "10.80.0.0/24").await;
    let large = pool(app, &rtb, "10.96.0.0/16").await;
    let fill = Instant::now();
    for _ in 0..SMALL {
        allocate(app, &small).await;
    }
    for _ in 0..LARGE {
        allocate(app, &large).await;
    }
    let took = fill.elapsed();
    println!(
        "fill: {} AllocateAddress in {:.2} s ({:.0}/s)",
        SMALL + LARGE,
        took.as_secs_f64(),
        (SMALL + LARGE) as f64 / took.as_secs_f64()
    );

    for _ in 0..20 {
        pair(app, &small).await;
        pair(app, &large).await;
        page(app, &small).await;
        page(app, &large).await;
    }
    let (mut small_pair, mut large_pair, mut small_page, mut large_page) = (vec![], vec![], vec![], vec![]);
    let t = Instant::now();
    for round in 0..rounds {
        if round % 2 == 0 {
            small_pair.push(pair(app, &small).await);
            large_pair.push(pair(app, &large).await);
            small_page.push(page(app, &small).await);
            large_page.push(page(app, &large).await);
        } else {
            large_pair.push(pair(app, &large).await);
            small_pair.push(pair(app, &small).await);
            large_page.push(page(app, &large).await);
            small_page.push(page(app, &small).await);
        }
        if t.elapsed() > budget && small_pair.len() >= MIN_SAMPLES {
            break;
        }
    }
    let per_second = large_pair.len() as f64 / large_pair.iter().map(Duration::as_secs_f64).sum::<f64>();
    let small_pair = report(&format!("AllocateAddress + ReleaseAddress, pool of {SMALL}"), small_pair);
    let large_pair = report(&format!("AllocateAddress + ReleaseAddress, pool of {LARGE}"), large_pair);
    let small_page = report(&format!("GetCoipPoolUsage filtered page of 100, pool of {SMALL}"), small_page);
    let large_page = report(&format!("GetCoipPoolUsage filtered page of 100, pool of {LARGE}"), large_page);
    println!("allocate+release pairs in the pool of {LARGE}: {per_second:.0}/s");
    println!("done in {:.1} s", began.elapsed().as_secs_f64());
    let mut targets = Targets::default();
    targets.at_most(&format!("pair, pool of {LARGE} / of {SMALL}"), ratio(&large_pair, &small_pair), LIMIT_PAIR);
    targets.at_most(
        &format!("filtered page, pool of {LARGE} / of {SMALL}"),
        ratio(&large_page, &small_page),
        LIMIT_PAGE,
    );
    targets.finish();
}
