//! EC2 (query protocol): decoding, dispatch, and what all EC2 handlers share.
//!
//! One file per operation family: [`regions`], [`tags`], [`vpc`]. A handler takes the
//! generated input type and returns the generated output type; this module turns the
//! form into the input (answering `MissingAction`, `InvalidAction`, `UnknownParameter`,
//! `InvalidParameterValue`, `MissingParameter` as EC2 does), and the output into XML.

use std::collections::HashMap;

use axum::response::Response;
use bytes::Bytes;
use http::request::Parts;

use reservoir_domain::filter::{Filter, FilterSchema, FilterSet, Filterable};
use reservoir_domain::idempotency::{self, Decision, IdempotencyRecord};
use reservoir_domain::ids::{OsRandom, ResourceKind};
use reservoir_domain::pagination::{self, Binding, UNBOUNDED_PAGE};
use reservoir_domain::tags::{Tag, TagError, validate_new_tags};
use reservoir_domain::time::Timestamp;
use reservoir_domain::vpc;
use reservoir_store::typed::DhcpOptions;
use reservoir_store::{Entity, IdempotencyRow, ReadTx, ReadTxExt, TagRow, Tx, TxExt};
use reservoir_wire::WireEnum;
use reservoir_wire::ec2::{API_VERSION, codes, query_error, response_body, violation_error};
use reservoir_wire::ec2_api::{self as api, Request};
use reservoir_wire::query::Node;
use reservoir_wire::xml::XmlEncode;

use crate::error::{ApiError, ApiResult, ec2_token_error};
use crate::http::{Cx, Flavor, Trace, error_response, xml_response};

pub mod regions;
pub mod tags;
pub mod vpcs;

/// An EC2 call after decoding: the context plus what binds its `NextToken`s.
pub struct Call {
    pub cx: Cx,
    /// Fingerprint of the request's selection (all parameters but `NextToken`,
    /// `MaxResults` and `DryRun`): a token is only valid for the request that made it.
    pub selection: String,
    /// Fingerprint of every parameter but `ClientToken` and `DryRun`: what a retry with
    /// the same client token must repeat.
    pub parameters: String,
    pub operation: &'static str,
}

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
        ApiError::ec2(code, message)
    })?;
    let action = params
        .take_value("Action")
        .ok_or_else(|| ApiError::ec2(codes::MISSING_ACTION, "The request must contain the parameter Action"))?;
    trace.operation = Some(action.clone());
    if let Some(version) = params.take_value("Version")
        && version != API_VERSION
    {
        return Err(ApiError::ec2(
            codes::NO_SUCH_VERSION,
            format!("The requested version ({version}) of service AmazonEC2 does not exist. Use {API_VERSION}."),
        ));
    }
    match api::operation_status(&action) {
        None => {
            return Err(ApiError::ec2(
                codes::INVALID_ACTION,
                format!("The action {action} is not valid for this web service."),
            ));
        }
        Some(false) => {
            return Err(ApiError::ec2(
                codes::NOT_IMPLEMENTED,
                format!("Reservoir does not implement ec2:{action} yet."),
            ));
        }
        Some(true) => {}
    }
    if !cx.signed {
        return Err(ApiError::ec2(
            codes::MISSING_AUTHENTICATION_TOKEN,
            "The request must contain valid credentials (a Signature Version 4 signature).",
        ));
    }
    let selection = fingerprint_without(&params, &["NextToken", "MaxResults", "DryRun"]);
    let parameters = fingerprint_without(&params, &["ClientToken", "DryRun"]);
    let request = api::decode(&action, params).expect("served operations decode").map_err(|e| {
        let (code, message) = query_error(&e);
        ApiError::ec2(code, message)
    })?;
    if let Some(v) = request.violations().first() {
        let (code, message) = violation_error(v);
        return Err(ApiError::ec2(code, message));
    }
    ensure_scope(&cx).await?;
    let call = Call { cx, selection, parameters, operation: request.operation() };
    dispatch(call, request).await
}

/// One arm per served operation; the match is exhaustive, so a newly served operation
/// does not compile until it has a handler.
async fn dispatch(call: Call, request: Request) -> ApiResult<String> {
    let id = call.cx.request_id.clone();
    let op = call.operation;
    let ok = |out: &dyn reservoir_wire::ec2::XmlEncodeDyn| response_body(op, &id, Some(out));
    let done = || response_body(op, &id, None);
    Ok(match request {
        Request::DescribeRegions(input) => ok(&regions::describe_regions(&call, input).await?),
        Request::DescribeAvailabilityZones(input) => ok(&regions::describe_availability_zones(&call, input).await?),
        Request::CreateTags(input) => {
            tags::create_tags(&call, input).await?;
            done()
        }
        Request::DeleteTags(input) => {
            tags::delete_tags(&call, input).await?;
            done()
        }
        Request::DescribeTags(input) => ok(&tags::describe_tags(&call, input).await?),
        Request::CreateVpc(input) => ok(&vpcs::create_vpc(&call, input).await?),
        Request::DescribeVpcs(input) => ok(&vpcs::describe_vpcs(&call, input).await?),
        Request::DeleteVpc(input) => {
            vpcs::delete_vpc(&call, input).await?;
            done()
        }
    })
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

/// Sets up an (account, region) the first time it is used: its default DHCP options and
/// its default VPC, as every AWS account has.
pub async fn ensure_scope(cx: &Cx) -> ApiResult<()> {
    if cx.state.scope_known(&cx.scope) {
        return Ok(());
    }
    let scope = cx.scope.clone();
    let now = cx.now;
    cx.write(false, move |tx| {
        if tx.scope_initialized(&scope)? {
            return Ok(());
        }
        let dhcp = DhcpOptions { id: ResourceKind::DhcpOptions.new_id(&mut OsRandom), is_default: true };
        tx.create(&scope, &dhcp)?;
        tx.create(&scope, &vpc::default_vpc(&scope.account, &dhcp.id, now, &mut OsRandom))?;
        tx.mark_scope_initialized(&scope, now.millis())?;
        Ok(())
    })
    .await?;
    cx.state.remember_scope(cx.scope.clone());
    Ok(())
}

/// The scope's default DHCP options set.
pub fn default_dhcp_options(tx: &mut dyn ReadTx, scope: &reservoir_domain::account::Scope) -> ApiResult<String> {
    let sets = tx.page::<DhcpOptions>(scope, 0, 100)?;
    sets.into_iter()
        .map(|(_, d)| d)
        .find(|d| d.is_default)
        .map(|d| d.id)
        .ok_or_else(|| ApiError::Internal(format!("scope {scope} has no default DHCP options")))
}

/// Refuses parameters of a served operation that Reservoir does not implement, with
/// 501 `NotImplemented`, rather than ignoring them.
pub fn supported(operation: &str, present: Vec<&'static str>, allowed: &[&str]) -> ApiResult<()> {
    match present.into_iter().find(|m| !allowed.contains(m)) {
        Some(member) => Err(ApiError::ec2_unsupported_parameter(operation, member)),
        None => Ok(()),
    }
}

/// The request's filters, checked against the operation's schema.
pub fn filter_set(filters: Option<Vec<api::Filter>>, schema: &FilterSchema) -> ApiResult<FilterSet> {
    let filters: Vec<Filter> = filters
        .unwrap_or_default()
        .into_iter()
        .map(|f| Filter { name: f.name, values: f.values.unwrap_or_default() })
        .collect();
    Ok(FilterSet::compile(&filters, schema)?)
}

/// The page size: `MaxResults` (already checked against the model's range), else a
/// page large enough that clients see everything, with `NextToken` beyond it.
pub fn page_size(max_results: Option<i32>) -> usize {
    max_results.map(|n| n.max(1) as usize).unwrap_or(UNBOUNDED_PAGE)
}

impl Call {
    fn binding(&self) -> Binding<'_> {
        Binding { operation: self.operation, scope: &self.cx.scope, fingerprint: &self.selection }
    }

    /// The cursor inside a `NextToken`, checked to belong to this request.
    pub fn cursor(&self, token: Option<&str>) -> ApiResult<Option<String>> {
        token.map(|t| self.cx.state.tokens.decode(&self.binding(), t).map_err(ec2_token_error)).transpose()
    }

    /// A sequence cursor (`0` when the listing starts).
    pub fn seq_cursor(&self, token: Option<&str>) -> ApiResult<i64> {
        match self.cursor(token)? {
            Some(c) => pagination::parse_seq_cursor(&c).map_err(ec2_token_error),
            None => Ok(0),
        }
    }

    pub fn next_token(&self, cursor: &str) -> String {
        self.cx.state.tokens.encode(&self.binding(), cursor)
    }
}

/// One page of a scan: entities with their tags, and the cursor of the next page.
pub struct Page<T> {
    pub items: Vec<(i64, T, Vec<Tag>)>,
    pub next: Option<i64>,
}

/// Scans entities of `T` after `after` in insertion order, keeping those that pass the
/// filters, until `limit` are found; `next` is set only when another match exists.
pub fn scan<T: Entity + Filterable>(
    tx: &mut dyn ReadTx,
    scope: &reservoir_domain::account::Scope,
    filters: &FilterSet,
    after: i64,
    limit: usize,
) -> ApiResult<Page<T>> {
    let chunk = (limit + 1).clamp(64, 1000);
    // Tags are read per scanned row only when a filter looks at them; otherwise only the
    // kept rows' tags are read, once, at the end.
    let tag_filters = filters.uses_tags();
    let mut cursor = after;
    let mut items: Vec<(i64, T, Vec<Tag>)> = Vec::new();
    'scan: loop {
        let rows = tx.page::<T>(scope, cursor, chunk)?;
        let exhausted = rows.len() < chunk;
        let mut tags =
            if tag_filters { tags_by_id(tx, scope, rows.iter().map(|(_, r)| r.id()))? } else { HashMap::new() };
        for (seq, row) in rows {
            cursor = seq;
            let row_tags = tags.remove(row.id()).unwrap_or_default();
            if filters.matches(&row, &row_tags) {
                items.push((seq, row, row_tags));
                if items.len() > limit {
                    break 'scan;
                }
            }
        }
        if exhausted {
            break;
        }
    }
    let mut page = Page::of(items, limit);
    if !tag_filters {
        let mut tags = tags_by_id(tx, scope, page.items.iter().map(|(_, r, _)| r.id()))?;
        for (_, row, row_tags) in &mut page.items {
            *row_tags = tags.remove(row.id()).unwrap_or_default();
        }
    }
    Ok(page)
}

impl<T> Page<T> {
    /// A page of `limit` from `matches` (in cursor order, at most one more than
    /// `limit`): the extra match, if any, says a next page exists.
    pub fn of(mut matches: Vec<(i64, T, Vec<Tag>)>, limit: usize) -> Page<T> {
        let next = if matches.len() > limit {
            matches.truncate(limit);
            matches.last().map(|(seq, _, _)| *seq)
        } else {
            None
        };
        Page { items: matches, next }
    }
}

/// The tags of the given resources, by resource id.
pub fn tags_by_id<'a>(
    tx: &mut dyn ReadTx,
    scope: &reservoir_domain::account::Scope,
    ids: impl Iterator<Item = &'a str>,
) -> ApiResult<HashMap<String, Vec<Tag>>> {
    let ids: Vec<&str> = ids.collect();
    Ok(group_tags(tx.tags_of(scope, &ids)?))
}

/// Tags by resource id.
fn group_tags(rows: Vec<TagRow>) -> HashMap<String, Vec<Tag>> {
    let mut out: HashMap<String, Vec<Tag>> = HashMap::new();
    for r in rows {
        out.entry(r.resource_id).or_default().push(Tag { key: r.key, value: r.value });
    }
    out
}

/// Tags in the wire shape; `None` when there are none (EC2 omits an empty `tagSet`).
pub fn wire_tags(tags: &[Tag]) -> Option<Vec<api::Tag>> {
    (!tags.is_empty())
        .then(|| tags.iter().map(|t| api::Tag { key: Some(t.key.clone()), value: Some(t.value.clone()) }).collect())
}

/// The tags of `TagSpecifications` for a resource of `kind` created by `operation`.
/// A specification for another resource type is refused, as EC2 refuses it.
pub fn tag_specifications(specs: Option<Vec<api::TagSpecification>>, kind: ResourceKind) -> ApiResult<Vec<Tag>> {
    let resource_type = kind.tag_resource_type().expect("taggable kind");
    let mut pairs: Vec<(Option<String>, Option<String>)> = Vec::new();
    for spec in specs.unwrap_or_default() {
        let rt = spec.resource_type.as_ref().map(|r| r.as_str().to_string());
        match rt.as_deref() {
            Some(t) if t == resource_type => {}
            Some(other) => {
                return Err(ApiError::invalid_parameter_value(format!(
                    "'{other}' is not a valid taggable resource type for this operation."
                )));
            }
            None => {
                return Err(ApiError::ec2(
                    codes::MISSING_PARAMETER,
                    "The request must contain the parameter TagSpecification.N.ResourceType",
                ));
            }
        }
        pairs.extend(spec.tags.unwrap_or_default().into_iter().map(|t| (t.key, t.value)));
    }
    let tags = validate_new_tags(&pairs)?;
    if tags.len() > reservoir_domain::tags::MAX_TAGS_PER_RESOURCE {
        return Err(TagError::TooMany { resource: format!("the new {resource_type}") }.into());
    }
    Ok(tags)
}

/// Stores the tags of a new resource.
pub fn put_tags(
    tx: &mut dyn Tx,
    scope: &reservoir_domain::account::Scope,
    id: &str,
    kind: ResourceKind,
    tags: &[Tag],
) -> ApiResult<()> {
    let resource_type = kind.tag_resource_type().expect("taggable kind");
    for t in tags {
        tx.put_tag(
            scope,
            &TagRow {
                resource_id: id.to_string(),
                resource_type: resource_type.to_string(),
                key: t.key.clone(),
                value: t.value.clone(),
            },
        )?;
    }
    Ok(())
}

/// Output members already encoded as XML: what an idempotent operation stores with its
/// client token, and answers again on a retry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded(pub String);

impl XmlEncode for Encoded {
    fn encode_xml(&self, w: &mut reservoir_wire::xml::XmlWriter) {
        w.raw(&self.0);
    }
}

impl Encoded {
    pub fn of(out: &impl XmlEncode) -> Encoded {
        let mut w = reservoir_wire::xml::XmlWriter::new();
        out.encode_xml(&mut w);
        Encoded(w.into_string())
    }
}

/// Runs a mutating operation that takes a `ClientToken` (EC2 "Ensuring idempotency"):
/// a retry with the same token and the same parameters answers the first result and
/// changes nothing; the same token with other parameters is `IdempotentParameterMismatch`.
/// The token's record commits in the same transaction as the mutation. A dry run
/// changes nothing, so it records nothing.
pub async fn idempotent<F>(call: &Call, token: Option<String>, dry_run: bool, mut f: F) -> ApiResult<Encoded>
where
    F: FnMut(&mut dyn Tx) -> ApiResult<Encoded> + Send + 'static,
{
    let scope = call.cx.scope.clone();
    let operation = call.operation;
    let fingerprint = call.parameters.clone();
    let now = call.cx.now;
    call.cx
        .write(dry_run, move |tx| {
            if let Some(token) = &token {
                let existing = tx.get_idempotency(&scope, operation, token)?.map(|r| IdempotencyRecord {
                    fingerprint: r.fingerprint,
                    result: r.result,
                    created: Timestamp(r.created),
                });
                if let Decision::Replay(result) = idempotency::decide(token, &fingerprint, existing.as_ref())? {
                    return Ok(Encoded(result));
                }
            }
            let out = f(tx)?;
            if let Some(token) = &token {
                let row =
                    IdempotencyRow { fingerprint: fingerprint.clone(), result: out.0.clone(), created: now.millis() };
                tx.put_idempotency(&scope, operation, token, &row)?;
            }
            Ok(out)
        })
        .await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use reservoir_domain::account::{AccountId, Scope};
    use reservoir_store::ReadTxExt;

    use super::*;
    use crate::{AppState, Config};

    fn call(state: &Arc<AppState>, parameters: &str) -> Call {
        Call {
            cx: Cx {
                state: state.clone(),
                request_id: "r".into(),
                scope: Scope::new(AccountId::default_account(), "us-east-1"),
                signed: true,
                now: Timestamp(1),
            },
            selection: String::new(),
            parameters: parameters.into(),
            operation: "CreateThing",
        }
    }

    /// The operation used to exercise the machinery: makes a DHCP options set and
    /// answers its id.
    fn create_thing(tx: &mut dyn Tx) -> ApiResult<Encoded> {
        let scope = Scope::new(AccountId::default_account(), "us-east-1");
        let d = DhcpOptions { id: ResourceKind::DhcpOptions.new_id(&mut OsRandom), is_default: false };
        tx.create(&scope, &d)?;
        Ok(Encoded(format!("<id>{}</id>", d.id)))
    }

    async fn things(state: &Arc<AppState>) -> u64 {
        let c = call(state, "");
        c.cx.read(|tx| Ok(tx.count_of::<DhcpOptions>(&Scope::new(AccountId::default_account(), "us-east-1"))?))
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn client_tokens_replay_the_first_result_and_refuse_other_parameters() {
        let state = Arc::new(AppState::open(Config::ephemeral()).unwrap());
        let first = idempotent(&call(&state, "params-A"), Some("token-1".into()), false, create_thing).await.unwrap();
        let retry = idempotent(&call(&state, "params-A"), Some("token-1".into()), false, create_thing).await.unwrap();
        assert_eq!(first, retry, "a retry answers the first result");
        assert_eq!(things(&state).await, 1, "and changes nothing");

        let err = idempotent(&call(&state, "params-B"), Some("token-1".into()), false, create_thing).await.unwrap_err();
        assert_eq!(err.code(), "IdempotentParameterMismatch");
        assert_eq!(things(&state).await, 1);

        // Without a token every call acts; another token acts once.
        idempotent(&call(&state, "params-A"), None, false, create_thing).await.unwrap();
        idempotent(&call(&state, "params-A"), Some("token-2".into()), false, create_thing).await.unwrap();
        assert_eq!(things(&state).await, 3);

        // A dry run records nothing: the token is still fresh afterwards.
        let err = idempotent(&call(&state, "params-C"), Some("token-3".into()), true, create_thing).await.unwrap_err();
        assert_eq!(err.code(), "DryRunOperation");
        assert_eq!(things(&state).await, 3);
        idempotent(&call(&state, "params-D"), Some("token-3".into()), false, create_thing).await.unwrap();
        assert_eq!(things(&state).await, 4);

        let err = idempotent(&call(&state, "params-A"), Some("x".repeat(65)), false, create_thing).await.unwrap_err();
        assert_eq!(err.code(), "InvalidParameterValue");
    }

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
