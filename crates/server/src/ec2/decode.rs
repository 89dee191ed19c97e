//! EC2 requests in: the form decoded into the operation's generated input, with EC2's
//! answers to requests that cannot be (`MissingAction`, `InvalidAction`,
//! `UnknownParameter`, `InvalidParameterValue`, `MissingParameter`, `NoSuchVersion`),
//! and the response written back as XML or as an EC2 error.

use axum::response::Response;
use bytes::Bytes;
use http::request::Parts;

use reservoir_domain::pagination;
use reservoir_wire::ec2::{API_VERSION, codes, query_error, violation_error};
use reservoir_wire::ec2_api as api;
use reservoir_wire::query::Node;

use super::dispatch::dispatch;
use super::shared::Call;
use crate::context::{Cx, Trace};
use crate::error::{ApiError, ApiResult};
use crate::respond::{Flavor, error_response, xml_response};

pub async fn handle(cx: Cx, parts: &Parts, body: Bytes, trace: &mut Trace) -> Response {
    let request_id = cx.request_id.clone();
    match run(cx, parts, &body, trace).await {
        Ok(xml) => xml_response(&request_id, xml),
        Err(e) => error_response(Flavor::Ec2, &request_id, &e, trace),
    }
}

async fn run(cx: Cx, parts: &Parts, body: &[u8], trace: &mut Trace) -> ApiResult<String> {
    let mut params = Node::from_form(body, parts.uri.query()).map_err(|e| {
        let (code, message) = query_error(&e);
        ApiError::new(code, message)
    })?;
    let action = params
        .take_value("Action")
        .ok_or_else(|| ApiError::new(codes::MISSING_ACTION, "The request must contain the parameter Action"))?;
    trace.operation = Some(action.clone());
    if let Some(version) = params.take_value("Version")
        && version != API_VERSION
    {
        return Err(ApiError::new(
            codes::NO_SUCH_VERSION,
            format!("The requested version ({version}) of service AmazonEC2 does not exist. Use {API_VERSION}."),
        ));
    }
    match api::operation_status(&action) {
        None => {
            return Err(ApiError::new(
                codes::INVALID_ACTION,
                format!("The action {action} is not valid for this web service."),
            ));
        }
        Some(false) => {
            return Err(ApiError::new(
                codes::NOT_IMPLEMENTED,
                format!("Reservoir does not implement ec2:{action} yet."),
            ));
        }
        Some(true) => {}
    }
    if !cx.signed {
        return Err(ApiError::new(
            codes::MISSING_AUTHENTICATION_TOKEN,
            "The request must contain valid credentials (a Signature Version 4 signature).",
        ));
    }
    let selection = fingerprint_without(&params, &["NextToken", "MaxResults", "DryRun"]);
    let parameters = fingerprint_without(&params, &["ClientToken", "DryRun"]);
    let request = api::decode(&action, params).expect("served operations decode").map_err(|e| {
        let (code, message) = query_error(&e);
        ApiError::new(code, message)
    })?;
    if let Some(v) = request.violations().first() {
        let (code, message) = violation_error(v);
        return Err(ApiError::new(code, message));
    }
    let call = Call { cx, selection, parameters, operation: request.operation() };
    dispatch(call, request).await
}

/// A fingerprint of every parameter except the top-level ones named.
fn fingerprint_without(params: &Node, skip: &[&str]) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    flatten(params, String::new(), &mut pairs);
    pairs.retain(|(k, _)| !skip.contains(&k.as_str()));
    pagination::fingerprint(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

fn flatten(node: &Node, prefix: String, out: &mut Vec<(String, String)>) {
    if let Some(v) = &node.value {
        out.push((prefix.clone(), v.clone()));
    }
    for (k, child) in &node.children {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        flatten(child, key, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_ignore_paging_and_dry_run() {
        let a =
            Node::from_form(b"Filter.1.Name=state&Filter.1.Value.1=available&MaxResults=5&DryRun=true", None).unwrap();
        let b = Node::from_form(b"Filter.1.Value.1=available&Filter.1.Name=state&NextToken=x", None).unwrap();
        let c = Node::from_form(b"Filter.1.Name=state&Filter.1.Value.1=pending", None).unwrap();
        let skip = ["NextToken", "MaxResults", "DryRun"];
        assert_eq!(fingerprint_without(&a, &skip), fingerprint_without(&b, &skip));
        assert_ne!(fingerprint_without(&a, &skip), fingerprint_without(&c, &skip));
    }
}
