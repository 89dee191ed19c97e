//! AWS RAM (restJson1). Routing is complete — every RAM operation is recognised by method
//! and path — but Reservoir serves no RAM operation yet: each answers 501
//! `NotImplemented`, and paths RAM does not have answer 404 `UnknownOperationException`.

use std::sync::LazyLock;

use axum::response::Response;
use http::request::Parts;

use reservoir_wire::json::{RouteMatch, Segment, codes, match_route};
use reservoir_wire::ram;
use reservoir_wire::route::Service;

use crate::context::{Cx, Trace};
use crate::error::ApiError;
use crate::respond::{Flavor, error_response};

/// RAM's operation paths (`/createresourceshare`, …), for routing unsigned requests.
pub static PATHS: LazyLock<Vec<String>> = LazyLock::new(|| {
    ram::ROUTES
        .iter()
        .map(|r| {
            r.segments
                .iter()
                .map(|s| match s {
                    Segment::Literal(l) => format!("/{l}"),
                    Segment::Label(l) => format!("/{{{l}}}"),
                })
                .collect::<String>()
        })
        .collect()
});

pub fn handle(cx: Cx, parts: &Parts, trace: &mut Trace) -> Response {
    let flavor = Flavor::of(&Service::Ram);
    let err = match match_route(ram::ROUTES, parts.method.as_str(), parts.uri.path()) {
        RouteMatch::Found { route, .. } => {
            trace.operation = Some(route.operation.to_string());
            ApiError::new(codes::NOT_IMPLEMENTED, format!("Reservoir does not implement ram:{} yet.", route.operation))
        }
        RouteMatch::MethodNotAllowed => ApiError::new(
            codes::UNKNOWN_OPERATION_METHOD,
            format!("RAM has no operation for {} {}.", parts.method, parts.uri.path()),
        ),
        RouteMatch::NotFound => {
            ApiError::new(codes::UNKNOWN_OPERATION_PATH, format!("RAM has no operation at {}.", parts.uri.path()))
        }
    };
    error_response(flavor, &cx.request_id, &err, trace)
}
