//! AWS RAM (restJson1). Routing is complete — every RAM operation is recognised by method
//! and path — but Reservoir serves no RAM operation yet: each answers 501
//! `NotImplemented`, and paths RAM does not have answer 404 `UnknownOperationException`.

use std::sync::LazyLock;

use axum::response::Response;
use http::request::Parts;

use reservoir_wire::json::{RouteMatch, Segment, match_route};
use reservoir_wire::ram;
use reservoir_wire::route::Service;

use crate::error::ApiError;
use crate::http::{Cx, Flavor, Trace, error_response};

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
            ApiError::json("NotImplemented", 501, format!("Reservoir does not implement ram:{} yet.", route.operation))
        }
        RouteMatch::MethodNotAllowed => ApiError::json(
            "UnknownOperationException",
            405,
            format!("RAM has no operation for {} {}.", parts.method, parts.uri.path()),
        ),
        RouteMatch::NotFound => {
            ApiError::json("UnknownOperationException", 404, format!("RAM has no operation at {}.", parts.uri.path()))
        }
    };
    error_response(flavor, &cx.request_id, &err, trace)
}
