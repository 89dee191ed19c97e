//! Endpoints outside the AWS protocols: health, reset and the server clock, in
//! Reservoir's own shape, and health and reset in the shapes of the tools people already
//! use (moto's server mode posts `/moto-api/reset` before each test; tools waiting for
//! LocalStack poll `/_localstack/health`), and the key set that verifies Cognito
//! Identity's OpenID tokens. Their transactions go through the same entry point as every
//! AWS operation ([`context::write`]).

use std::sync::Arc;

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use serde_json::json;

use reservoir_domain::time::advance_offset;
use reservoir_wire::DateTime;

use crate::error::ApiError;
use crate::respond::{plain_json, plain_json_status};
use crate::{AppState, clock, context};

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

fn failure(what: &str, e: ApiError) -> Response {
    tracing::error!("{what} failed: {e:?}");
    plain_json_status(StatusCode::INTERNAL_SERVER_ERROR, json!({ "error": format!("{what} failed") }))
}

async fn wipe(state: &Arc<AppState>) -> Result<(), Response> {
    match context::write(state, |tx| Ok(tx.reset()?)).await {
        Ok(()) => {
            tracing::info!("state reset");
            Ok(())
        }
        Err(e) => Err(failure("reset", e)),
    }
}

/// `POST /_reservoir/reset` (and `/_localstack/state/reset`): every account's and
/// region's state, in one transaction. The server clock is not moved back.
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

fn clock_body(state: &AppState) -> serde_json::Value {
    json!({
        "now": DateTime::from_unix_millis(state.clock.now().millis()).to_iso8601(),
        "offset_seconds": state.clock.offset_ms() / 1000,
    })
}

/// `GET /_reservoir/clock`: `{"now": "<RFC 3339>", "offset_seconds": N}`.
pub async fn clock(State(state): State<Arc<AppState>>) -> Response {
    if let Err(e) = context::clock_now(&state).await {
        return failure("reading the clock", e);
    }
    plain_json(clock_body(&state))
}

/// `POST /_reservoir/clock` with `{"advance_seconds": N}` (an integer, 0 or more): moves
/// the server clock forward and answers the new reading. Anything else is a 400 that
/// moves nothing.
pub async fn advance_clock(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let bad = |message: String| plain_json_status(StatusCode::BAD_REQUEST, json!({ "error": message }));
    let seconds = match serde_json::from_slice::<serde_json::Value>(&body) {
        Ok(serde_json::Value::Object(map)) if map.len() == 1 && map.contains_key("advance_seconds") => {
            match map["advance_seconds"].as_i64() {
                Some(n) => n,
                None => return bad(format!("advance_seconds must be an integer, not {}", map["advance_seconds"])),
            }
        }
        _ => return bad(r#"the body must be a JSON object {"advance_seconds": N}"#.to_string()),
    };
    let committed = context::write(&state, move |tx| {
        let current = clock::parse_offset(tx.get_meta(clock::OFFSET_KEY)?.as_deref());
        let next = advance_offset(current, seconds).map_err(|e| ApiError::invalid_parameter_value(e.to_string()))?;
        tx.put_meta(clock::OFFSET_KEY, &next.to_string())?;
        Ok(next)
    })
    .await;
    match committed {
        Ok(offset) => {
            state.clock.observe(offset);
            tracing::info!(advance_seconds = seconds, offset_ms = offset, "server clock moved");
            plain_json(clock_body(&state))
        }
        Err(ApiError::Aws { message, .. }) => bad(message),
        Err(e) => failure("moving the clock", e),
    }
}

/// `GET /_reservoir/cognito/jwks`: the public key of Cognito Identity's OpenID tokens
/// as a JSON Web Key Set, to verify them with (AWS publishes its own at
/// `https://cognito-identity.amazonaws.com/.well-known/jwks_uri`). The key is made here
/// if no token was issued yet.
pub async fn cognito_jwks(State(state): State<Arc<AppState>>) -> Response {
    match crate::cognito::openid::signing_key(&state).await.and_then(|k| crate::cognito::openid::jwks(&k)) {
        Ok(set) => plain_json(set),
        Err(e) => failure("reading the Cognito signing key", e),
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
    async fn jwks_serves_the_signing_key() {
        let state = Arc::new(AppState::open(Config::ephemeral()).unwrap());
        let body = cognito_jwks(State(state)).await.into_body().collect().await.unwrap().to_bytes();
        let set: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(set["keys"][0]["kty"], "RSA");
        assert_eq!(set["keys"][0]["alg"], "RS512");
        assert_eq!(set["keys"][0]["e"], "AQAB");
    }

    #[tokio::test]
    async fn health_reports_dropped_log_lines() {
        assert_eq!(health_of(Config::ephemeral()).await["log_lines_dropped"], 0);
        let config = Config { log_lines_dropped: DroppedLogLines::new(|| 42), ..Config::ephemeral() };
        assert_eq!(health_of(config).await["log_lines_dropped"], 42);
    }
}
