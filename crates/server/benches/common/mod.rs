//! What the EC2 benchmarks share: signed requests through the in-process router, reading
//! an element of an answer, medians, and the targets they check.

#![allow(dead_code)]

use std::time::Duration;

use axum::body::Body;
use http::Request;
use http_body_util::BodyExt;
use tower::ServiceExt;

pub const REGION: &str = "us-east-1";

/// An EC2 form request signed (syntactically) by `account`.
pub fn signed(account: &str, body: String) -> Request<Body> {
    Request::builder()
        .method("POST")
        .uri("/")
        .header("content-type", "application/x-www-form-urlencoded; charset=utf-8")
        .header(
            "authorization",
            format!(
                "AWS4-HMAC-SHA256 Credential={account}/20261122/{REGION}/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature={}",
                "0".repeat(64)
            ),
        )
        .body(Body::from(body))
        .unwrap()
}

/// An EC2 call by `account`: its status and whole body.
pub async fn try_call(app: &axum::Router, account: &str, body: &str) -> (http::StatusCode, String) {
    let response = app.clone().oneshot(signed(account, format!("{body}&Version=2016-11-15"))).await.unwrap();
    let status = response.status();
    let bytes = response.into_body().collect().await.unwrap().to_bytes();
    (status, String::from_utf8(bytes.to_vec()).unwrap())
}

/// An EC2 call by `account` that must succeed; answers the whole body.
pub async fn call(app: &axum::Router, account: &str, body: &str) -> String {
    let (status, text) = try_call(app, account, body).await;
    assert!(status.is_success(), "{body}: {status} {text}");
    text
}

/// The text of the first `<tag>` element.
pub fn extract(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml.find(&open).unwrap_or_else(|| panic!("no <{tag}> in {xml}")) + open.len();
    let end = xml[start..].find('<').unwrap() + start;
    xml[start..end].to_string()
}

pub struct Stats {
    pub median: Duration,
}

/// Prints the median and 90th percentile of the samples.
pub fn report(name: &str, mut samples: Vec<Duration>) -> Stats {
    samples.sort();
    let median = samples[samples.len() / 2];
    let p90 = samples[samples.len() * 9 / 10];
    println!(
        "{name:<62} median {:>8.3} ms   p90 {:>8.3} ms   ({} samples)",
        median.as_secs_f64() * 1e3,
        p90.as_secs_f64() * 1e3,
        samples.len()
    );
    Stats { median }
}

pub fn ratio(a: &Stats, b: &Stats) -> f64 {
    a.median.as_secs_f64() / b.median.as_secs_f64()
}

/// The targets of a run: each checked as it is measured, the run failing at its end if
/// one was missed.
#[derive(Default)]
pub struct Targets {
    pub failures: Vec<String>,
}

impl Targets {
    /// Prints the verdict of `value` against `limit` and remembers a miss.
    pub fn at_most(&mut self, what: &str, value: f64, limit: f64) {
        let verdict = if value <= limit { "ok" } else { "MISSED" };
        println!("  target {what}: {value:.2}x <= {limit:.2}x {verdict}");
        if value > limit {
            self.failures.push(format!("{what}: {value:.2}x > {limit:.2}x"));
        }
    }

    /// Prints the verdict of `value` against a floor `limit` and remembers a miss.
    pub fn at_least(&mut self, what: &str, value: f64, limit: f64) {
        let verdict = if value >= limit { "ok" } else { "MISSED" };
        println!("  target {what}: {value:.2}x >= {limit:.2}x {verdict}");
        if value < limit {
            self.failures.push(format!("{what}: {value:.2}x < {limit:.2}x"));
        }
    }

    /// Exits 1, naming every target missed, if any was.
    pub fn finish(self) {
        if self.failures.is_empty() {
            println!("all targets met");
        } else {
            for f in &self.failures {
                println!("TARGET MISSED: {f}");
            }
            std::process::exit(1);
        }
    }
}
