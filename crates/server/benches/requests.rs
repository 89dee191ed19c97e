//! Request-path benchmark: whole requests (routing, decoding, validation, store
//! transaction, encoding) through the in-process router, and the same state served over
//! loopback HTTP as a client sees it.
//!
//! `cargo bench -p reservoir-server --bench requests` prints each scenario's median and
//! 99th-percentile latency and throughput, then checks the targets below and exits
//! non-zero if one is missed. `-- --quick` runs fewer iterations (about 10 s): the test
//! command runs it, so a regression fails the build. Targets are checked here, never as
//! timed assertions in tests.
//!
//! Targets are ratios to a baseline timed in the same run, in turns with it, so they hold
//! on a slower or busier machine; each is at most twice the figure measured when it was
//! set (2-core VM, release build; measured figure in brackets):
//! * over HTTP, 4 keep-alive connections (as `wrk -c4`): `DescribeRegions` serves at
//!   most 2.5x the requests per second of `DescribeVpcs` of an account with 5 VPCs [1.6–1.8,
//!   once 1.97 on a fresh clone; the limit was 2x, too close to the spread]
//!   and at most 30x that of one with 100 [13.5–15];
//! * in process: `DescribeVpcs` (5 VPCs) at most 6x `DescribeRegions` [3.1–3.4]; each
//!   more item of a `DescribeVpcs` (read, tags, decode, encode) at most 1.0x a whole
//!   `DescribeRegions` [0.5]; the 100-VPC listing with a tag filter at most 1.5x the one
//!   without [0.7–0.9]; `CreateVpc` + `DeleteVpc` on the ephemeral store at most 90x
//!   `DescribeRegions` [45–53; 17.5–19.6 before a VPC came with its main route table,
//!   default network ACL and default security group (two rules), which the pair now
//!   makes and removes: about 35 statements instead of 8];
//! * decoding a stored VPC and encoding it in a `DescribeVpcs` answer, per item, at most
//!   0.2x the best `DescribeRegions` [0.08–0.12; about 1.0 µs on that machine];
//! * one account's reads do not depend on other accounts' state: `DescribeVpcs` of a
//!   100-VPC account at most 2x as slow beside an account with 5,000 VPCs as alone
//!   [0.8–1.3], and the first page (5) of the 5,000-VPC account at most 2x `DescribeVpcs`
//!   of a 5-VPC account [1.2–1.5].

use std::sync::Arc;
use std::time::{Duration, Instant};

// The allocator the `reservoir` binary uses.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

use reservoir_domain::tags::Tag;
use reservoir_domain::vpc::Vpc;
use reservoir_server::{AppState, Config, Storage, http::router};
use reservoir_wire::xml::{XmlEncode, XmlWriter};

fn signed(region: &str, access_key: &str, body: String) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={access_key}/20261122/{region}/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature={}",
                "0".repeat(64)
            ),
        )
        .body(Body::from(body))
        .unwrap()
}

async fn call(app: &axum::Router, access_key: &str, body: &str) -> String {
    let response = app.clone().oneshot(signed("us-east-1", access_key, body.to_string())).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert!(status.is_success(), "{body}: {status} {}", String::from_utf8_lossy(&bytes));
    // Only the creates read the answer: keep the harness's own work per byte small.
    if body.starts_with("Action=CreateVpc") { String::from_utf8(bytes.to_vec()).unwrap() } else { String::new() }
}

/// A call whose answer is read.
async fn listing(app: &axum::Router, access_key: &str, body: &str) -> String {
    let response = app.clone().oneshot(signed("us-east-1", access_key, body.to_string())).await.unwrap();
    String::from_utf8(response.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap()
}

fn extract(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).expect(tag) + open.len();
    let end = xml[start..].find('<').unwrap() + start;
    xml[start..end].to_string()
}

struct Stats {
    median: Duration,
}

fn report(name: &str, mut samples: Vec<Duration>, busy: Duration) -> Stats {
    samples.sort();
    let median = samples[samples.len() / 2];
    let p99 = samples[samples.len() * 99 / 100];
    println!(
        "{name:<58} median {:>8.3} ms   p99 {:>8.3} ms   {:>8.0} req/s",
        median.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        samples.len() as f64 / busy.as_secs_f64()
    );
    Stats { median }
}

/// One request (or one pair of requests) to time.
#[derive(Clone, Copy)]
enum Work<'a> {
    /// An EC2 call by the account.
    Call(&'a axum::Router, &'a str, &'a str),
    /// `CreateVpc` then `DeleteVpc` of the VPC it made.
    CreateDelete(&'a axum::Router),
}

impl Work<'_> {
    async fn run(self) {
        match self {
            Work::Call(app, account, body) => {
                call(app, account, body).await;
            }
            Work::CreateDelete(app) => {
                let xml =
                    call(app, "111111111111", "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16").await;
                let id = extract(&xml, "vpcId");
                call(app, "111111111111", &format!("Action=DeleteVpc&Version=2016-11-15&VpcId={id}")).await;
            }
        }
    }
}

/// Times the scenarios in turns, a few iterations of each per round, so that a slow
/// spell of a shared machine falls on all of them alike and the ratios of their medians
/// stay steady. `iterations[i]` is scenario i's total.
async fn measure(scenarios: &[(&str, Work<'_>, usize)]) -> Vec<Stats> {
    const ROUNDS: usize = 20;
    for (_, work, n) in scenarios {
        for _ in 0..(*n / ROUNDS).clamp(1, 20) {
            work.run().await; // warm up
        }
    }
    let mut samples: Vec<Vec<Duration>> = scenarios.iter().map(|(_, _, n)| Vec::with_capacity(*n)).collect();
    let mut busy = vec![Duration::ZERO; scenarios.len()];
    for _ in 0..ROUNDS {
        for (i, (_, work, n)) in scenarios.iter().enumerate() {
            let round = Instant::now();
            for _ in 0..(*n / ROUNDS).max(1) {
                let t = Instant::now();
                work.run().await;
                samples[i].push(t.elapsed());
            }
            busy[i] += round.elapsed();
        }
    }
    scenarios.iter().zip(samples).zip(busy).map(|(((name, _, _), s), b)| report(name, s, b)).collect()
}

fn app(storage: Storage) -> (axum::Router, Arc<AppState>, Option<tempfile::TempDir>) {
    let mut config = Config::ephemeral();
    let dir = match storage {
        Storage::Memory => None,
        Storage::File(_) => {
            let dir = tempfile::tempdir().unwrap();
            config.storage = Storage::File(dir.path().join("bench.db"));
            Some(dir)
        }
        postgres @ Storage::Postgres { .. } => {
            config.storage = postgres;
            None
        }
    };
    let state = Arc::new(AppState::open(config).unwrap());
    (router(state.clone()), state, dir)
}

/// Makes `n` more tagged VPCs in the account.
async fn fill(app: &axum::Router, account: &str, n: usize) {
    for i in 0..n {
        call(
            app,
            account,
            &format!(
                "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.{}.{}.0%2F24&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=vpc-{i}",
                i / 256,
                i % 256
            ),
        )
        .await;
    }
}

/// Requests per second through loopback HTTP/1.1, as a client sees them: `CONNECTIONS`
/// keep-alive connections, each sending its requests one after another (what
/// `wrk -c4` does). The scenarios take turns in short slices, round after round, so a
/// slow spell of the machine falls on all of them alike.
async fn http_rates(addr: std::net::SocketAddr, scenarios: &[(&str, &str, &str)], total: Duration) -> Vec<f64> {
    const CONNECTIONS: usize = 4;
    const ROUNDS: u32 = 10;
    let mut conns = Vec::new();
    for _ in 0..CONNECTIONS {
        let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.set_nodelay(true).unwrap();
        let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
        tokio::spawn(conn);
        conns.push(sender);
    }
    let slice = total / (ROUNDS * scenarios.len() as u32);
    let mut counts = vec![0u64; scenarios.len()];
    let mut times = vec![Duration::ZERO; scenarios.len()];
    for _ in 0..ROUNDS {
        for (i, (_, account, body)) in scenarios.iter().enumerate() {
            let start = Instant::now();
            let deadline = start + slice;
            let tasks: Vec<_> = conns
                .drain(..)
                .map(|mut sender| {
                    let (account, body) = (account.to_string(), body.to_string());
                    tokio::spawn(async move {
                        let mut n = 0u64;
                        while Instant::now() < deadline {
                            let mut req = signed("us-east-1", &account, body.clone());
                            *req.uri_mut() = "/".parse().unwrap();
                            req.headers_mut().insert("host", "127.0.0.1".parse().unwrap());
                            let response = sender.send_request(req).await.unwrap();
                            assert!(response.status().is_success());
                            response.into_body().collect().await.unwrap();
                            n += 1;
                        }
                        (sender, n)
                    })
                })
                .collect();
            for t in tasks {
                let (sender, n) = t.await.unwrap();
                conns.push(sender);
                counts[i] += n;
            }
            times[i] += start.elapsed();
        }
    }
    scenarios
        .iter()
        .zip(counts.iter().zip(&times))
        .map(|((name, _, _), (n, t))| {
            let rate = *n as f64 / t.as_secs_f64();
            println!("{name:<58} {rate:>8.0} req/s over HTTP, {CONNECTIONS} connections");
            rate
        })
        .collect()
}

struct Targets {
    failures: Vec<String>,
}

impl Targets {
    fn at_most(&mut self, what: &str, value: f64, limit: f64, unit: &str) {
        let verdict = if value <= limit { "ok" } else { "MISSED" };
        println!("  target {what}: {value:.2}{unit} <= {limit:.2}{unit} {verdict}");
        if value > limit {
            self.failures.push(format!("{what}: {value:.2}{unit} > {limit:.2}{unit}"));
        }
    }
}

/// Targets set from measured figures (see the module documentation), twice the figure.
const LIMIT_5: f64 = 6.0;
const LIMIT_HTTP_100: f64 = 30.0;
const LIMIT_ITEM: f64 = 1.0;
const LIMIT_FILTERED: f64 = 1.5;
const LIMIT_CREATE_DELETE: f64 = 90.0;
const LIMIT_DECODE_ENCODE: f64 = 0.2;

fn ratio(a: &Stats, b: &Stats) -> f64 {
    a.median.as_secs_f64() / b.median.as_secs_f64()
}

/// The fastest of `n` runs of `f`: its cost on an undisturbed core.
async fn best_of<F: std::future::Future>(n: usize, mut f: impl FnMut() -> F) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..n {
        let t = Instant::now();
        f().await;
        best = best.min(t.elapsed());
    }
    best
}

/// Decoding stored VPCs (their JSON documents, and a tag each) and encoding them as a
/// `DescribeVpcs` answer, per item, in answers of 100 items.
fn decode_encode_per_item(batches: usize) -> Duration {
    let mut rng = reservoir_domain::ids::SeededRandom::new(7);
    let vpc = reservoir_domain::vpc::default_vpc(
        &reservoir_domain::account::AccountId::default_account(),
        "dopt-0123456789abcdef0",
        reservoir_domain::time::Timestamp(0),
        &mut rng,
    );
    let bodies: Vec<String> = (0..100).map(|_| serde_json::to_string(&vpc).unwrap()).collect();
    // The best of many short batches: the cost on an undisturbed core.
    let mut best = Duration::MAX;
    for _ in 0..batches {
        let start = Instant::now();
        let vpcs = bodies
            .iter()
            .map(|body| {
                let v: Vpc = serde_json::from_str(body).unwrap();
                let tags = vec![Tag { key: "Name".into(), value: "vpc-1".into() }];
                let state = v.state;
                reservoir_server::ec2::vpcs::to_wire(v, tags, state)
            })
            .collect();
        let out = reservoir_wire::ec2_api::DescribeVpcsResult { vpcs: Some(vpcs), next_token: None };
        let mut w = XmlWriter::new();
        out.encode_xml(&mut w);
        std::hint::black_box(w.into_string());
        best = best.min(start.elapsed() / 100);
    }
    best
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let n = |full: usize| if quick { full / 5 } else { full };
    let mut targets = Targets { failures: Vec::new() };
    let (mem, mem_state, _) = app(Storage::Memory);

    let describe = "Action=DescribeVpcs&Version=2016-11-15";
    let regions = "Action=DescribeRegions&Version=2016-11-15";
    let tag_filter = "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=vpc-5*";
    // Accounts holding 5, 100 and 1,000 VPCs (the default VPC included), all tagged.
    let sizes = [("222222222205", 5usize), ("222222222300", 100), ("222222223000", 1000)];
    for (account, size) in sizes {
        call(&mem, account, describe).await; // the default VPC
        fill(&mem, account, size - 1).await;
        let xml = listing(&mem, account, describe).await;
        assert_eq!(xml.matches("<vpcId>").count(), size, "{size} VPCs listed");
    }
    let stats = measure(&[
        ("DescribeRegions", Work::Call(&mem, "111111111111", regions), n(4000)),
        ("DescribeVpcs, 5 VPCs", Work::Call(&mem, sizes[0].0, describe), n(4000)),
        ("DescribeVpcs, 100 VPCs", Work::Call(&mem, sizes[1].0, describe), n(1000)),
        ("DescribeVpcs, 1,000 VPCs", Work::Call(&mem, sizes[2].0, describe), n(200)),
        ("DescribeVpcs, 100 VPCs, tag filter", Work::Call(&mem, sizes[1].0, tag_filter), n(1000)),
        ("CreateVpc + DeleteVpc (ephemeral)", Work::CreateDelete(&mem), n(1000)),
    ])
    .await;
    let [regions_s, five, hundred, thousand, filtered, create_delete] = &stats[..] else { unreachable!() };

    // The same state as a client sees it, over loopback HTTP (what `wrk` measures).
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(reservoir_server::serve(mem_state.clone(), listener, std::future::pending()));
    let rates = http_rates(
        addr,
        &[
            ("DescribeRegions", "111111111111", regions),
            ("DescribeVpcs, 5 VPCs", sizes[0].0, describe),
            (
                "DescribeVpcs, MaxResults=5 of 1,000 VPCs",
                sizes[2].0,
                "Action=DescribeVpcs&Version=2016-11-15&MaxResults=5",
            ),
            ("DescribeVpcs, 100 VPCs", sizes[1].0, describe),
        ],
        Duration::from_millis(if quick { 4000 } else { 8000 }),
    )
    .await;

    // Decoding and encoding alone, in turns with DescribeRegions: the best of each.
    let (mut decode_encode, mut regions_best) = (Duration::MAX, Duration::MAX);
    for _ in 0..20 {
        decode_encode = decode_encode.min(decode_encode_per_item(n(100)));
        regions_best = regions_best.min(best_of(n(100), || call(&mem, "111111111111", regions)).await);
    }
    println!("{:<58} {:>8.3} µs", "decode + encode one VPC (best batch)", decode_encode.as_secs_f64() * 1e6);
    println!("{:<58} {:>8.3} µs", "DescribeRegions (best)", regions_best.as_secs_f64() * 1e6);
    let per_item = (thousand.median.as_secs_f64() - hundred.median.as_secs_f64()) / 900.0;
    println!("{:<58} {:>8.3} µs", "DescribeVpcs, cost of one more item", per_item * 1e6);

    let us = |d: Duration| d.as_secs_f64() * 1e6;
    targets.at_most("HTTP: DescribeRegions rate / DescribeVpcs (5) rate", rates[0] / rates[1], 2.5, "x");
    targets.at_most("HTTP: DescribeRegions rate / DescribeVpcs (100) rate", rates[0] / rates[3], LIMIT_HTTP_100, "x");
    targets.at_most("DescribeVpcs (5) / DescribeRegions", ratio(five, regions_s), LIMIT_5, "x");
    targets.at_most(
        "DescribeVpcs per item / DescribeRegions",
        per_item / regions_s.median.as_secs_f64(),
        LIMIT_ITEM,
        "x",
    );
    targets.at_most("DescribeVpcs (100, tag filter) / (100)", ratio(filtered, hundred), LIMIT_FILTERED, "x");
    targets.at_most(
        "CreateVpc + DeleteVpc / DescribeRegions",
        ratio(create_delete, regions_s),
        LIMIT_CREATE_DELETE,
        "x",
    );
    targets.at_most(
        "decode + encode per item / DescribeRegions (best)",
        us(decode_encode) / us(regions_best),
        LIMIT_DECODE_ENCODE,
        "x",
    );
    let _ = thousand;

    let (file, _, _dir) = app(Storage::File(Default::default()));
    measure(&[("CreateVpc + DeleteVpc (SQLite file, synchronous=FULL)", Work::CreateDelete(&file), n(200))]).await;

    // One account's reads must not depend on other accounts' state: the 100-VPC account
    // again, in a store where another account of the same region holds 5,000 VPCs, timed
    // in turns with the store where it is alone; and a first page of the big account.
    let (crowded, _, _) = app(Storage::Memory);
    let big = "333333333333";
    call(&crowded, sizes[1].0, describe).await;
    fill(&crowded, sizes[1].0, sizes[1].1 - 1).await;
    fill(&crowded, big, 5000).await;
    let stats = measure(&[
        ("DescribeVpcs, 100 VPCs, alone", Work::Call(&mem, sizes[1].0, describe), n(1000)),
        ("DescribeVpcs, 100 VPCs, beside 5,000", Work::Call(&crowded, sizes[1].0, describe), n(1000)),
        ("DescribeVpcs, 5 VPCs", Work::Call(&mem, sizes[0].0, describe), n(2000)),
        (
            "DescribeVpcs first page (5) of an account with 5,000",
            Work::Call(&crowded, big, "Action=DescribeVpcs&Version=2016-11-15&MaxResults=5"),
            n(2000),
        ),
    ])
    .await;
    let [alone, beside, five_again, first_page] = &stats[..] else { unreachable!() };
    targets.at_most("DescribeVpcs (100) beside 5,000 / alone", ratio(beside, alone), 2.0, "x");
    targets.at_most("first page (5) of 5,000 / DescribeVpcs (5)", ratio(first_page, five_again), 2.0, "x");

    if targets.failures.is_empty() {
        println!("all targets met");
    } else {
        for f in &targets.failures {
            println!("TARGET MISSED: {f}");
        }
        std::process::exit(1);
    }
}
