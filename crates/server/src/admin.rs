//! Endpoints outside the AWS protocols: health and reset, in Reservoir's own shape and in
//! the shapes of the tools people already use (moto's server mode posts
//! `/moto-api/reset` before each test; tools waiting for LocalStack poll
//! `/_localstack/health`).

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;

use crate::AppState;
use crate::http::plain_json;

const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GET /_reservoir/health`: 200 once the server is ready (the store is open and
/// migrated before the listener accepts anything). `log_lines_dropped` counts the log
/// lines dropped because stderr was not read fast enough.
pub async fn health(State(state): State<Arc<AppState>>) -> Response {
    plain_json(json!({
        "status": "ok",
        "version": VERSION,
        "services": reservoir_wire::route::SERVED,
        "store": state.store_kind().as_str(),
        "uptime_seconds": state.started.elapsed().as_secs(),
        "log_lines_dropped": state.log_lines_dropped.get(),
    }))
}

/// `GET /_localstack/health`, in LocalStack's shape.
pub async fn localstack_health(State(_state): State<Arc<AppState>>) -> Response {
    let services: serde_json::Map<String, serde_json::Value> =
        reservoir_wire::route::SERVED.iter().map(|s| (s.to_string(), json!("running"))).collect();
    plain_json(json!({ "services": services, "edition": "reservoir", "version": VERSION }))
}

async fn wipe(state: &Arc<AppState>) -> Result<(), Response> {
    let store = state.store.clone();
    let result = tokio::task::spawn_blocking(move || reservoir_store::write(&*store, |tx| tx.reset())).await;
    // Forget set-up scopes after the wipe, so the next request makes its default VPC again.
    state.forget_scopes();
    match result {
        Ok(Ok(())) => {
            tracing::info!("state reset");
            Ok(())
        }
        Ok(Err(e)) => Err((StatusCode::INTERNAL_SERVER_ERROR, format!("reset failed: {e}")).into_response()),
        Err(e) => Err((StatusCode::INTERNAL_SERVER_ERROR, format!("reset failed: {e}")).into_response()),
    }
}

/// `POST /_reservoir/reset` (and `/_localstack/state/reset`): every account's and
/// region's state, in one transaction.
pub async fn reset(State(state): State<Arc<AppState>>) -> Response {
    match wipe(&state).await {
        Ok(()) => plain_json(json!({ "reset": true })),
        Err(r) => r,
    }
}

/// `POST /moto-api/reset`, answered as moto answers it.
pub async fn moto_reset(State(state): State<Arc<AppState>>) -> Response {
    match wipe(&state).await {
        Ok(()) => plain_json(json!({ "status": "ok" })),
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt;

    use super::*;
    use crate::{Config, DroppedLogLines};

    async fn health_of(config: Config) -> serde_json::Value {
        let state = Arc::new(AppState::open(config).unwrap());
        let body = health(State(state)).await.into_body().collect().await.unwrap().to_bytes();
        serde_json::from_slice(&body).unwrap()
    }

    #[tokio::test]
    async fn health_reports_dropped_log_lines() {
        assert_eq!(health_of(Config::ephemeral()).await["log_lines_dropped"], 0);
        let config = Config { log_lines_dropped: DroppedLogLines::new(|| 42), ..Config::ephemeral() };
        assert_eq!(health_of(config).await["log_lines_dropped"], 42);
    }
}
