//! # Reservoir
//!
//! An AWS-compatible server: unmodified boto3, the AWS CLI and aws-sdk-rust, pointed at it
//! with `endpoint_url`, get the answers AWS would give for customer-owned IP pools,
//! VPC IPAM, On-Demand Capacity Reservations and Cognito Sync usage.
//!
//! This crate is the `reservoir` binary and the library Rust tests embed. Both start
//! the server the same way, with [`start`]:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! // In memory, on a free loopback port; stopped when `server` is dropped.
//! let server = reservoir::start_ephemeral().await?;
//! let endpoint = server.url(); // "http://127.0.0.1:PORT": give it to the AWS SDK
//! # let _ = endpoint;
//! # Ok(()) }
//! ```

pub mod config;

pub use reservoir_server::{Config, DroppedLogLines, Quotas, RunningServer, StartError, Storage, open_store, start};

/// Starts Reservoir in the background on `127.0.0.1:0` (a free port) with an in-memory
/// store. Use [`RunningServer::url`] as the clients' endpoint; dropping the handle stops
/// the server.
pub async fn start_ephemeral() -> Result<RunningServer, StartError> {
    start(Config::ephemeral(), ([127, 0, 0, 1], 0).into()).await
}
