//! Request-path benchmark: whole requests (routing, decoding, validation, store
//! transaction, encoding) through the in-process router, no sockets.
//!
//! `cargo bench -p reservoir-server --bench requests` prints, per scenario, the median
//! and 99th-percentile latency and the single-client throughput, and checks the targets
//! below. Targets are checked here, never as timed assertions in tests.
//!
//! Targets (release build):
//! * any read of one account's state does not depend on other accounts' state: the
//!   median `DescribeVpcs` of an account is within 2x whether or not another account in
//!   the same region holds 5,000 VPCs;
//! * median latencies: `DescribeRegions` < 0.5 ms, `DescribeVpcs` (100 VPCs, a tag
//!   filter) < 5 ms, `CreateVpc`+`DeleteVpc` on the in-memory store < 2 ms.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

use reservoir_server::{AppState, Config, Storage, http::router};

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
    let text = String::from_utf8_lossy(&bytes).into_owned();
    assert!(status.is_success(), "{body}: {status} {text}");
    text
}

fn extract(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).expect(tag) + open.len();
    let end = xml[start..].find('<').unwrap() + start;
    xml[start..end].to_string()
}

struct Stats {
    median: Duration,
    p99: Duration,
    per_sec: f64,
}

async fn measure<F, Fut, T>(name: &str, iterations: usize, mut f: F) -> Stats
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    for i in 0..iterations.min(20) {
        f(i).await; // warm up
    }
    let mut samples = Vec::with_capacity(iterations);
    let all = Instant::now();
    for i in 0..iterations {
        let t = Instant::now();
        f(i).await;
        samples.push(t.elapsed());
    }
    let total = all.elapsed();
    samples.sort();
    let stats = Stats {
        median: samples[samples.len() / 2],
        p99: samples[samples.len() * 99 / 100],
        per_sec: iterations as f64 / total.as_secs_f64(),
    };
    println!(
        "{name:<58} median {:>8.3} ms   p99 {:>8.3} ms   {:>8.0} req/s",
        stats.median.as_secs_f64() * 1e3,
        stats.p99.as_secs_f64() * 1e3,
        stats.per_sec
    );
    stats
}

fn app(storage: Storage) -> (axum::Router, Option<tempfile::TempDir>) {
    let mut config = Config::ephemeral();
    let dir = match storage {
        Storage::Memory => None,
        Storage::File(_) => {
            let dir = tempfile::tempdir().unwrap();
            config.storage = Storage::File(dir.path().join("bench.db"));
            Some(dir)
        }
    };
    (router(Arc::new(AppState::open(config).unwrap())), dir)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut failures = Vec::new();
    let (mem, _) = app(Storage::Memory);

    let regions =
        measure("DescribeRegions", 2000, |_| call(&mem, "111111111111", "Action=DescribeRegions&Version=2016-11-15"))
            .await;
    if regions.median > Duration::from_micros(500) {
        failures.push("DescribeRegions median >= 0.5 ms");
    }

    let create_delete = measure("CreateVpc + DeleteVpc (memory)", 1000, |_| async {
        let xml = call(&mem, "111111111111", "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16").await;
        let id = extract(&xml, "vpcId");
        call(&mem, "111111111111", &format!("Action=DeleteVpc&Version=2016-11-15&VpcId={id}")).await;
    })
    .await;
    if create_delete.median > Duration::from_millis(2) {
        failures.push("CreateVpc+DeleteVpc (memory) median >= 2 ms");
    }

    let (file, _dir) = app(Storage::File(Default::default()));
    measure("CreateVpc + DeleteVpc (SQLite file, synchronous=FULL)", 200, |_| async {
        let xml = call(&file, "111111111111", "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16").await;
        let id = extract(&xml, "vpcId");
        call(&file, "111111111111", &format!("Action=DeleteVpc&Version=2016-11-15&VpcId={id}")).await;
    })
    .await;

    // Account A: 100 tagged VPCs.
    for i in 0..100 {
        call(
            &mem,
            "222222222222",
            &format!(
                "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.{i}.0.0%2F16&TagSpecification.1.ResourceType=vpc&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=vpc-{i}"
            ),
        )
        .await;
    }
    let describe = "Action=DescribeVpcs&Version=2016-11-15&Filter.1.Name=tag%3AName&Filter.1.Value.1=vpc-5*";
    let before = measure("DescribeVpcs, 100 VPCs, tag filter", 500, |_| call(&mem, "222222222222", describe)).await;
    if before.median > Duration::from_millis(5) {
        failures.push("DescribeVpcs (100 VPCs, tag filter) median >= 5 ms");
    }
    measure("DescribeTags, 101 resources, all pages", 500, |_| {
        call(&mem, "222222222222", "Action=DescribeTags&Version=2016-11-15")
    })
    .await;

    // Account B in the same region: 5,000 VPCs. A's reads must not notice.
    for i in 0..5000 {
        call(
            &mem,
            "333333333333",
            &format!("Action=CreateVpc&Version=2016-11-15&CidrBlock=10.{}.{}.0%2F24", i / 256, i % 256),
        )
        .await;
    }
    let after =
        measure("DescribeVpcs, same, another account holds 5,000", 500, |_| call(&mem, "222222222222", describe)).await;
    if after.median > before.median * 2 {
        failures.push("DescribeVpcs depends on another account's state");
    }
    measure("DescribeVpcs first page (5) of an account with 5,000", 500, |_| {
        call(&mem, "333333333333", "Action=DescribeVpcs&Version=2016-11-15&MaxResults=5")
    })
    .await;

    if failures.is_empty() {
        println!("all targets met");
    } else {
        for f in &failures {
            println!("TARGET MISSED: {f}");
        }
        std::process::exit(1);
    }
}
