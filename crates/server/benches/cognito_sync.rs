//! Cognito Sync benchmark: usage is read from counters, never by scanning records.
//!
//! `cargo bench -p reservoir-server --bench cognito_sync` builds one in-process server on
//! the ephemeral store and two identity pools through the router (`CreateIdentityPool`):
//! `small`, with one identity holding one record, and `large`, with 1,000 identities of
//! 100 records each (100,000 records; 100 identities, 10,000 records, with `-- --quick`,
//! which the test command runs). The large pool is filled through the store with the
//! same rules `UpdateRecords` runs (`domain::cognito_sync::update_records` over
//! `TxSync`), 50 identities per transaction. Then, in turns, one request on each pool
//! after the other:
//! * `DescribeIdentityPoolUsage` of the pool;
//! * a sync: `ListRecords` then `UpdateRecords` of one key (the right SyncCount) in a
//!   dataset of one identity of the pool (in `large`, a dataset of 100 records).
//!
//! It prints medians and 90th percentiles, `UpdateRecords` per second on one dataset,
//! checks the targets and exits non-zero if one is missed. Targets are ratios of the two
//! pools timed in turns in the same run (2-core VM, release build, measured figure in
//! brackets):
//! * `DescribeIdentityPoolUsage` of `large` at most 2x that of `small` [1.0];
//! * a sync in `large` at most 2x one in `small` [1.0].
//!
//! Figures on that machine are in the note of the issue that added it.

use std::sync::Arc;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

use reservoir_domain::account::{AccountId, Scope};
use reservoir_domain::cognito::{self, IdentityPool};
use reservoir_domain::cognito_sync::{self as sync, Op, Patch, SyncError};
use reservoir_domain::ids::OsRandom;
use reservoir_domain::time::Timestamp;
use reservoir_server::{AppState, Config, http::router};
use reservoir_store::cognito_sync::TxSync;
use reservoir_store::{ReadTxExt, StoreError, TxExt};

const ACCOUNT: &str = "000000000000";
const REGION: &str = "us-east-1";
const RECORDS_PER_IDENTITY: usize = 100;
const IDENTITIES_PER_TX: usize = 50;
const LIMIT_USAGE: f64 = 2.0;
const LIMIT_SYNC: f64 = 2.0;

fn auth(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={ACCOUNT}/20261122/{REGION}/{service}/aws4_request, \
         SignedHeaders=host;x-amz-date, Signature={}",
        "0".repeat(64)
    )
}

async fn send(app: &axum::Router, request: Request<Body>) -> serde_json::Value {
    let what = format!("{} {}", request.method(), request.uri());
    let response = app.clone().oneshot(request).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    assert!(status.is_success(), "{what}: {status} {}", String::from_utf8_lossy(&bytes));
    if bytes.is_empty() { serde_json::Value::Null } else { serde_json::from_slice(&bytes).unwrap() }
}

async fn identity_call(app: &axum::Router, operation: &str, body: serde_json::Value) -> serde_json::Value {
    let request = Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "application/x-amz-json-1.1")
        .header("x-amz-target", format!("AWSCognitoIdentityService.{operation}"))
        .header("authorization", auth("cognito-identity"))
        .body(Body::from(body.to_string()))
        .unwrap();
    send(app, request).await
}

async fn sync_call(app: &axum::Router, method: &str, path: &str, body: Option<serde_json::Value>) -> serde_json::Value {
    let mut request = Request::builder().method(method).uri(path).header("authorization", auth("cognito-sync"));
    if body.is_some() {
        request = request.header("content-type", "application/json");
    }
    send(app, request.body(body.map_or_else(Body::empty, |b| Body::from(b.to_string()))).unwrap()).await
}

fn enc(id: &str) -> String {
    id.replace(':', "%3A")
}

fn scope() -> Scope {
    Scope::new(AccountId::parse(ACCOUNT).unwrap(), REGION)
}

#[derive(Debug)]
struct FillError(String);

impl From<SyncError> for FillError {
    fn from(e: SyncError) -> Self {
        FillError(e.to_string())
    }
}

impl From<StoreError> for FillError {
    fn from(e: StoreError) -> Self {
        FillError(e.to_string())
    }
}

/// `n` identities of the pool with `records` records each in dataset `d`, through the
/// store with `UpdateRecords`' rules; answers the identity ids.
fn fill(state: &AppState, pool_id: &str, n: usize, records: usize, now: Timestamp) -> Vec<String> {
    let scope = scope();
    let mut ids = Vec::with_capacity(n);
    while ids.len() < n {
        let k = IDENTITIES_PER_TX.min(n - ids.len());
        let made = reservoir_store::write(&*state.store, |tx| -> Result<Vec<String>, FillError> {
            let pool = tx.load::<IdentityPool>(&scope, pool_id)?.expect("the pool exists");
            let mut made = Vec::with_capacity(k);
            for _ in 0..k {
                let identity = cognito::new_identity(&pool, REGION, Vec::new(), now, &mut OsRandom);
                tx.create(&scope, &identity)?;
                let patches: Vec<Patch> = (0..records)
                    .map(|i| Patch {
                        op: Op::Replace(format!("value-{i:06}")),
                        key: format!("key-{i:06}"),
                        sync_count: 0,
                        device_last_modified: None,
                    })
                    .collect();
                let mut rows = TxSync::<FillError>::new(tx, &scope);
                sync::update_records(&mut rows, pool_id, &identity.id, "d", &patches, None, "bench", now)?;
                made.push(identity.id);
            }
            Ok(made)
        })
        .unwrap_or_else(|e| panic!("fill: {}", e.0));
        ids.extend(made);
    }
    ids
}

fn stats(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (ms(samples[samples.len() / 2]), ms(samples[samples.len() * 9 / 10]))
}

/// One sync of key `key-000000` in the identity's dataset `d`: ListRecords (for the
/// session token), then UpdateRecords with the key's current SyncCount, which the
/// answer moves on.
async fn one_sync(app: &axum::Router, pool: &str, identity: &str, count: &mut i64) {
    let base = format!("/identitypools/{}/identities/{}/datasets/d", enc(pool), enc(identity));
    let listed = sync_call(app, "GET", &format!("{base}/records?maxResults=1"), None).await;
    let token = listed["SyncSessionToken"].as_str().unwrap().to_string();
    let body = serde_json::json!({
        "SyncSessionToken": token,
        "RecordPatches": [{"Op": "replace", "Key": "key-000000", "Value": format!("v{count}"), "SyncCount": *count}],
    });
    let out = sync_call(app, "POST", &base, Some(body)).await;
    *count = out["Records"][0]["SyncCount"].as_i64().unwrap();
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let began = Instant::now();
    let quick = std::env::args().any(|a| a == "--quick");
    let identities = if quick { 100 } else { 1_000 };
    let state = Arc::new(AppState::open(Config::ephemeral()).unwrap());
    let app = router(state.clone());
    println!(
        "Cognito Sync: pools of 1 identity (1 record) and {identities} identities ({} records); {} mode",
        identities * RECORDS_PER_IDENTITY,
        if quick { "quick" } else { "full" }
    );
    let mut pools = Vec::new();
    for name in ["small", "large"] {
        let out = identity_call(
            &app,
            "CreateIdentityPool",
            serde_json::json!({"IdentityPoolName": name, "AllowUnauthenticatedIdentities": true}),
        )
        .await;
        pools.push(out["IdentityPoolId"].as_str().unwrap().to_string());
    }
    let now = state.clock.now();
    let small_ids = fill(&state, &pools[0], 1, 1, now);
    let t = Instant::now();
    let large_ids = fill(&state, &pools[1], identities, RECORDS_PER_IDENTITY, now);
    let took = t.elapsed();
    println!(
        "fill: {} records in {:.2} s ({:.0} records/s)",
        identities * RECORDS_PER_IDENTITY,
        took.as_secs_f64(),
        (identities * RECORDS_PER_IDENTITY) as f64 / took.as_secs_f64()
    );
    let usage = sync_call(&app, "GET", &format!("/identitypools/{}", enc(&pools[1])), None).await;
    let bytes = usage["IdentityPoolUsage"]["DataStorage"].as_i64().unwrap();
    let expected: usize =
        identities * (0..RECORDS_PER_IDENTITY).map(|i| format!("key-{i:06}value-{i:06}").len()).sum::<usize>();
    assert_eq!(bytes as usize, expected, "DataStorage of the large pool");

    // Usage reads, in turns.
    let rounds = if quick { 400 } else { 2_000 };
    let (mut small_usage, mut large_usage) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for (pool, out) in [(&pools[0], &mut small_usage), (&pools[1], &mut large_usage)] {
            let t = Instant::now();
            sync_call(&app, "GET", &format!("/identitypools/{}", enc(pool)), None).await;
            out.push(t.elapsed());
        }
    }
    // Syncs, in turns.
    let rounds = if quick { 200 } else { 1_000 };
    let (mut small_sync, mut large_sync) = (Vec::new(), Vec::new());
    let target = &large_ids[large_ids.len() / 2];
    let mut update_time = Duration::ZERO;
    let (mut small_count, mut large_count) = (1, 1);
    for _ in 0..rounds {
        for (pool, identity, out, count) in [
            (&pools[0], &small_ids[0], &mut small_sync, &mut small_count),
            (&pools[1], target, &mut large_sync, &mut large_count),
        ] {
            let t = Instant::now();
            one_sync(&app, pool, identity, count).await;
            let d = t.elapsed();
            out.push(d);
            update_time += d;
        }
    }
    let (us, us90) = stats(&mut small_usage);
    let (ul, ul90) = stats(&mut large_usage);
    let (ss, ss90) = stats(&mut small_sync);
    let (sl, sl90) = stats(&mut large_sync);
    println!(
        "DescribeIdentityPoolUsage: small median {us:.3} ms (p90 {us90:.3}), large median {ul:.3} ms (p90 {ul90:.3})"
    );
    println!(
        "sync (ListRecords + UpdateRecords): small median {ss:.3} ms (p90 {ss90:.3}), large median {sl:.3} ms (p90 {sl90:.3})"
    );
    println!(
        "UpdateRecords on one dataset: {:.0} syncs/s (each a ListRecords and an UpdateRecords)",
        (2 * rounds) as f64 / update_time.as_secs_f64()
    );
    let check = |name: &str, ratio: f64, limit: f64| {
        let ok = ratio <= limit;
        println!("  target {name}: {ratio:.2}x <= {limit:.2}x {}", if ok { "ok" } else { "MISSED" });
        ok
    };
    let ok = check("DescribeIdentityPoolUsage, large / small", ul / us, LIMIT_USAGE)
        & check("sync, large / small", sl / ss, LIMIT_SYNC);
    // The counters equal a recount after the syncs.
    let pool = reservoir_store::read(&*state.store, |tx| -> Result<_, StoreError> {
        tx.load::<IdentityPool>(&scope(), &pools[1])
    })
    .unwrap()
    .unwrap();
    assert_eq!(pool.sync_sessions, rounds as u64, "one session per sync");
    println!("took {:.1} s", began.elapsed().as_secs_f64());
    if ok {
        println!("all targets met");
    } else {
        std::process::exit(1);
    }
}
