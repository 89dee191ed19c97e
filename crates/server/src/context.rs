//! The context of one request, and the one way into the store.
//!
//! Every transaction of the server, AWS operations and admin endpoints alike, runs
//! through [`write`] or [`read`]: on a blocking thread (the store is synchronous), with
//! the store's own error turned into an [`ApiError`]. [`Cx`] adds what an AWS request
//! knows: its id, its caller's (account, region), the server clock's reading, and
//! `DryRun`.

use std::sync::Arc;

use reservoir_domain::account::Scope;
use reservoir_domain::time::Timestamp;
use reservoir_store::{ReadTx, Tx};

use crate::AppState;
use crate::error::{ApiError, ApiResult};

/// Runs `f` in one read-write transaction (all or nothing) on a blocking thread.
pub async fn write<T, F>(state: &Arc<AppState>, f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnMut(&mut dyn Tx) -> ApiResult<T> + Send + 'static,
{
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || reservoir_store::write(&*store, f))
        .await
        .map_err(|e| ApiError::Internal(format!("transaction task: {e}")))?
}

/// A read that lists at most this many rows runs on the request's own task (see [`read`]).
pub const QUICK_READ_ROWS: usize = 16;

/// Runs `f` in a read-only snapshot. A small read runs right here: if a reader
/// connection is free and `f` lists at most [`QUICK_READ_ROWS`] rows, it is done in well
/// under a millisecond, and handing it to another thread would cost more than the read
/// (a thread hand-off is 10–20 µs on a small machine). Anything larger, or a read that
/// would wait for a connection, gives up at once and runs again on a blocking thread:
/// the async workers never wait on the store and never do more than a small read's work.
pub async fn read<T, F>(state: &Arc<AppState>, mut f: F) -> ApiResult<T>
where
    T: Send + 'static,
    F: FnMut(&mut dyn ReadTx) -> ApiResult<T> + Send + 'static,
{
    if let Some(done) = reservoir_store::read_quick(&*state.store, QUICK_READ_ROWS, &mut f) {
        return done;
    }
    let store = state.store.clone();
    tokio::task::spawn_blocking(move || reservoir_store::read(&*store, f))
        .await
        .map_err(|e| ApiError::Internal(format!("transaction task: {e}")))?
}

/// Now, on the server clock. When other servers share the store (PostgreSQL), one of
/// them may have moved the clock a moment ago: the offset is read from the store first
/// (one small read), so every node answers with the same time.
pub async fn clock_now(state: &Arc<AppState>) -> ApiResult<Timestamp> {
    if state.store.kind().shared() {
        let store = state.store.clone();
        let stored = tokio::task::spawn_blocking(move || store.read_meta(crate::clock::OFFSET_KEY))
            .await
            .map_err(|e| ApiError::Internal(format!("clock task: {e}")))??;
        state.clock.observe(crate::clock::parse_offset(stored.as_deref()));
    }
    Ok(state.clock.now())
}

/// Who signed a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// An account's own (developer) credentials, or no signature.
    Developer,
    /// A Cognito identity's temporary credentials (`GetCredentialsForIdentity`): the
    /// request acts as that identity, in the identity's account and region.
    Identity { pool_id: String, identity_id: String },
}

/// The context of one AWS request.
#[derive(Clone)]
pub struct Cx {
    pub state: Arc<AppState>,
    pub request_id: String,
    /// The caller's account and the region the request is for.
    pub scope: Scope,
    /// Whether the request carried a SigV4 signature.
    pub signed: bool,
    /// Whose credentials signed it.
    pub principal: Principal,
    /// The server clock when the request arrived (see [`crate::clock`]).
    pub now: Timestamp,
}

impl Cx {
    /// Runs `f` in one read-write transaction. With `dry_run`, the whole operation runs
    /// — every check, every lookup — and then rolls back and answers `DryRunOperation`,
    /// so a dry run fails exactly when the real call would.
    pub async fn write<T, F>(&self, dry_run: bool, mut f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx) -> ApiResult<T> + Send + 'static,
    {
        write(&self.state, move |tx| {
            let value = f(tx)?;
            if dry_run { Err(ApiError::dry_run()) } else { Ok(value) }
        })
        .await
    }

    /// Runs `f` in a read-only snapshot.
    pub async fn read<T, F>(&self, f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn ReadTx) -> ApiResult<T> + Send + 'static,
    {
        read(&self.state, f).await
    }
}

/// What the request log line says.
#[derive(Debug, Default)]
pub struct Trace {
    pub service: Option<String>,
    pub operation: Option<String>,
    pub account: Option<String>,
    pub region: Option<String>,
    pub error: Option<&'static str>,
}
