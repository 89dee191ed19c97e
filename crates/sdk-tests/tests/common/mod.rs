//! Starting Reservoir in-process and pointing aws-sdk-rust clients at it.

#![allow(dead_code)]

use aws_sdk_ec2::config::Credentials;
use reservoir::{Config, RunningServer};

/// An in-memory Reservoir on a free loopback port, with its defaults (no quota).
pub async fn server() -> RunningServer {
    server_with(Config::ephemeral()).await
}

/// A Reservoir with other settings.
pub async fn server_with(config: Config) -> RunningServer {
    reservoir::start(config, ([127, 0, 0, 1], 0).into()).await.expect("reservoir starts")
}

fn credentials(access_key: &str) -> Credentials {
    Credentials::new(access_key, "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", None, None, "reservoir-tests")
}

/// A client of SDK crate `$sdk` for `server`, signing with `access_key` for `region`,
/// over plain HTTP (no TLS stack is built for loopback).
macro_rules! client {
    ($sdk:ident, $server:expr, $access_key:expr, $region:expr) => {{
        let conf = $sdk::Config::builder()
            .behavior_version($sdk::config::BehaviorVersion::latest())
            .region($sdk::config::Region::new($region.to_string()))
            .credentials_provider(credentials($access_key))
            .endpoint_url($server.url())
            .http_client(aws_smithy_http_client::Builder::new().build_http())
            .build();
        $sdk::Client::from_conf(conf)
    }};
}

pub fn ec2(server: &RunningServer, access_key: &str, region: &str) -> aws_sdk_ec2::Client {
    client!(aws_sdk_ec2, server, access_key, region)
}

pub fn cognito_identity(server: &RunningServer, access_key: &str, region: &str) -> aws_sdk_cognitoidentity::Client {
    client!(aws_sdk_cognitoidentity, server, access_key, region)
}

pub fn ram(server: &RunningServer, access_key: &str, region: &str) -> aws_sdk_ram::Client {
    client!(aws_sdk_ram, server, access_key, region)
}

pub fn cognito_sync(server: &RunningServer, access_key: &str, region: &str) -> aws_sdk_cognitosync::Client {
    client!(aws_sdk_cognitosync, server, access_key, region)
}

/// The AWS error code and HTTP status of a failed call.
pub fn code_and_status<E, R>(err: &aws_sdk_ec2::error::SdkError<E, R>) -> (String, u16)
where
    E: aws_sdk_ec2::error::ProvideErrorMetadata,
    R: std::fmt::Debug + HasStatus,
{
    let code = err.as_service_error().and_then(|e| e.code()).unwrap_or("<no code>").to_string();
    let status = err.raw_response().map(HasStatus::status_code).unwrap_or(0);
    (code, status)
}

pub trait HasStatus {
    fn status_code(&self) -> u16;
}

impl HasStatus for aws_sdk_ec2::config::http::HttpResponse {
    fn status_code(&self) -> u16 {
        self.status().as_u16()
    }
}

/// Moves the server clock `seconds` forward (`POST /_reservoir/clock`) and answers the
/// server's new time in Unix milliseconds. Plain HTTP/1.1 over loopback.
pub async fn advance_clock(server: &RunningServer, seconds: i64) -> i64 {
    clock_request(server.addr(), format!("{{\"advance_seconds\": {seconds}}}")).await
}

/// The server clock now, in Unix milliseconds (`POST /_reservoir/clock` moving it 0 s).
pub async fn server_now(server: &RunningServer) -> i64 {
    clock_request(server.addr(), "{\"advance_seconds\": 0}".to_string()).await
}

/// The request runs on a blocking thread, so the server (on the test's runtime) answers it.
async fn clock_request(addr: std::net::SocketAddr, body: String) -> i64 {
    tokio::task::spawn_blocking(move || clock_request_blocking(addr, &body)).await.expect("clock request")
}

fn clock_request_blocking(addr: std::net::SocketAddr, body: &str) -> i64 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
    write!(
        s,
        "POST /_reservoir/clock HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        addr,
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let now = answer.split("\"now\":\"").nth(1).and_then(|r| r.split('"').next()).expect("now in the answer");
    aws_sdk_ec2::primitives::DateTime::from_str(now, aws_sdk_ec2::primitives::DateTimeFormat::DateTime)
        .expect("an ISO 8601 time")
        .to_millis()
        .unwrap()
}
