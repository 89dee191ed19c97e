//! What every EC2 operation family shares: the call context with its transactions, the
//! scope's defaults, parameters Reservoir does not implement, filters, pagination and
//! scans, tags, and `ClientToken` idempotency.

use std::collections::HashMap;

use reservoir_domain::account::Scope;
use reservoir_domain::dhcp::DhcpOptions;
use reservoir_domain::filter::{Filter, FilterSchema, FilterSet, Filterable};
use reservoir_domain::idempotency::{self, Decision, IdempotencyRecord};
use reservoir_domain::ids::{OsRandom, ResourceKind};
use reservoir_domain::pagination::{self, Binding, UNBOUNDED_PAGE};
use reservoir_domain::region::Catalogue;
use reservoir_domain::tags::{Tag, TagError, validate_new_tags};
use reservoir_domain::time::Timestamp;
use reservoir_store::{Entity, IdempotencyRow, ReadTx, ReadTxExt, TagRow, Tx, TxExt};
use reservoir_wire::ec2::codes;
use reservoir_wire::ec2_api as api;
use reservoir_wire::xml::{XmlEncode, XmlWriter};
use reservoir_wire::{Members, WireEnum};

use crate::context::Cx;
use crate::error::{ApiError, ApiResult, ec2_token_error};

/// An EC2 call after decoding: the context plus what binds its `NextToken`s and client
/// tokens.
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

impl Call {
    /// Runs `f` in one read-write transaction of the caller's scope, set up first if the
    /// scope is new (see [`ensure_scope`]). With `dry_run`, everything runs and then
    /// rolls back, answering `DryRunOperation`.
    pub async fn write<T, F>(&self, dry_run: bool, mut f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn Tx) -> ApiResult<T> + Send + 'static,
    {
        let (scope, now, state) = (self.cx.scope.clone(), self.cx.now, self.cx.state.clone());
        self.cx
            .write(dry_run, move |tx| {
                ensure_scope(tx, &scope, &state.catalogue, now)?;
                f(tx)
            })
            .await
    }

    /// Runs `f` in a read-only snapshot of the caller's scope. A scope not set up yet
    /// (its first request, or the first after a reset by any process) is set up, and `f`
    /// runs in that same transaction: the answer always includes the defaults.
    pub async fn read<T, F>(&self, mut f: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnMut(&mut dyn ReadTx) -> ApiResult<T> + Clone + Send + 'static,
    {
        let scope = self.cx.scope.clone();
        let mut again = f.clone();
        let first = self
            .cx
            .read(move |tx| if tx.scope_version(&scope)? >= Some(SCOPE_VERSION) { f(tx).map(Some) } else { Ok(None) })
            .await?;
        match first {
            Some(v) => Ok(v),
            None => self.write(false, move |tx| again(tx)).await,
        }
    }

    /// Refuses members of the input that the handler does not implement, with 501
    /// `NotImplemented`, rather than ignoring them.
    pub fn supported<I: Members>(&self, input: &I, implemented: &[I::Member]) -> ApiResult<()> {
        match input.first_unimplemented(implemented) {
            Some(member) => Err(ApiError::ec2_unsupported_parameter(self.operation, member)),
            None => Ok(()),
        }
    }

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

/// What a scope set up now has: 1, default DHCP options and a bare default VPC; 2, the
/// default VPC's subnets, internet gateway, main route table, network ACL and security
/// group, and every VPC's own main route table, ACL and default group.
pub const SCOPE_VERSION: i64 = 2;

/// Sets up a new (account, region) inside the caller's transaction: its default DHCP
/// options and its default VPC with its contents, as every AWS account has. The `scopes`
/// row is claimed first; its primary key decides between concurrent first requests (of
/// this process or another one on the same database), so the defaults are made exactly
/// once. A scope set up by an earlier version gets what it lacks (its version says what
/// that is). Nothing is cached in memory: a reset by any process is seen by the next
/// request.
fn ensure_scope(tx: &mut dyn Tx, scope: &Scope, catalogue: &Catalogue, now: Timestamp) -> ApiResult<()> {
    match tx.scope_version(scope)? {
        Some(v) if v >= SCOPE_VERSION => return Ok(()),
        Some(_) => super::vpcs::upgrade_scope_v1(tx, scope, catalogue, now)?,
        None => {
            if !tx.mark_scope_initialized(scope, now.millis())? {
                return Ok(());
            }
            let dhcp = DhcpOptions::default_set(&mut OsRandom);
            tx.create(scope, &dhcp)?;
            tx.put_alias(scope, DEFAULT_DHCP.0, DEFAULT_DHCP.1, &dhcp.id)?;
            super::vpcs::create_default_vpc_with_contents(tx, scope, catalogue, now)?;
        }
    }
    tx.set_scope_version(scope, SCOPE_VERSION)?;
    Ok(())
}

/// The alias naming a scope's default DHCP options set.
pub const DEFAULT_DHCP: (&str, &str) = ("default-dhcp-options", "");

/// The DHCP options a new VPC gets: the scope's default set (one lookup), or none
/// (`default`) once that set has been deleted.
pub fn default_dhcp_options(tx: &mut dyn ReadTx, scope: &Scope) -> ApiResult<String> {
    if let Some(id) = tx.get_alias(scope, DEFAULT_DHCP.0, DEFAULT_DHCP.1)?
        && tx.get(scope, ResourceKind::DhcpOptions.storage_name(), &id)?.is_some()
    {
        return Ok(id);
    }
    Ok(reservoir_domain::dhcp::NO_OPTIONS.to_string())
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

/// One page of a scan: entities with their tags, and the cursor of the next page.
pub struct Page<T> {
    pub items: Vec<(i64, T, Vec<Tag>)>,
    pub next: Option<i64>,
}

/// Scans entities of `T` after `after` in insertion order, keeping those that pass the
/// filters, until `limit` are found; `next` is set only when another match exists. Each
/// chunk of entities comes with its tags in one query.
pub fn scan<T: Entity + Filterable>(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    filters: &FilterSet,
    after: i64,
    limit: usize,
) -> ApiResult<Page<T>> {
    // Without filters every row is kept: read exactly one more than the page. With
    // filters, read in larger chunks, as most rows may be skipped.
    let chunk = if filters.is_empty() { limit + 1 } else { (limit + 1).max(64) }.min(1000);
    let mut cursor = after;
    let mut items: Vec<(i64, T, Vec<Tag>)> = Vec::new();
    'scan: loop {
        let rows = tx.page_tagged::<T>(scope, cursor, chunk)?;
        let exhausted = rows.len() < chunk;
        for (seq, row, tag_rows) in rows {
            cursor = seq;
            let row_tags: Vec<Tag> = tag_rows.into_iter().map(|t| Tag { key: t.key, value: t.value }).collect();
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
    Ok(Page::of(items, limit))
}

/// One page of a Describe call: of every entity when `ids` is empty (a [`scan`]), else of
/// the entities named, each of which must exist (`missing` makes the error naming those
/// that do not); the same filters and keyset paging apply either way. `ids` are sorted
/// and without repeats.
pub fn listing<T: Entity + Filterable>(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    ids: &[String],
    filters: &FilterSet,
    after: i64,
    limit: usize,
    missing: impl FnOnce(Vec<String>) -> ApiError,
) -> ApiResult<Page<T>> {
    if ids.is_empty() {
        return scan::<T>(tx, scope, filters, after, limit);
    }
    let mut found = Vec::with_capacity(ids.len());
    let mut unknown = Vec::new();
    for id in ids {
        match tx.get(scope, T::KIND.storage_name(), id)? {
            Some(rec) => found.push(rec),
            None => unknown.push(id.clone()),
        }
    }
    if !unknown.is_empty() {
        return Err(missing(unknown));
    }
    found.sort_by_key(|r| r.seq);
    let mut tags = tags_by_id(tx, scope, found.iter().map(|r| r.id.as_str()))?;
    let mut items = Vec::new();
    for rec in found.into_iter().filter(|r| r.seq > after) {
        let t = tags.remove(&rec.id).unwrap_or_default();
        let v: T = reservoir_store::typed::decode(&rec)?;
        if filters.matches(&v, &t) {
            items.push((rec.seq, v, t));
        }
    }
    Ok(Page::of(items, limit))
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

/// The tags of the given resources, by resource id, in one query.
pub fn tags_by_id<'a>(
    tx: &mut dyn ReadTx,
    scope: &Scope,
    ids: impl Iterator<Item = &'a str>,
) -> ApiResult<HashMap<String, Vec<Tag>>> {
    let ids: Vec<&str> = ids.collect();
    let mut out: HashMap<String, Vec<Tag>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    for r in tx.tags_of(scope, &ids)? {
        out.entry(r.resource_id).or_default().push(Tag { key: r.key, value: r.value });
    }
    Ok(out)
}

/// Tags in the wire shape; `None` when there are none (EC2 omits an empty `tagSet`).
pub fn wire_tags(tags: Vec<Tag>) -> Option<Vec<api::Tag>> {
    (!tags.is_empty()).then(|| tags.into_iter().map(|t| api::Tag { key: Some(t.key), value: Some(t.value) }).collect())
}

/// The tags of `TagSpecifications` for a resource of `kind`. A specification for
/// another resource type is refused, as EC2 refuses it.
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
                return Err(ApiError::new(
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
pub fn put_tags(tx: &mut dyn Tx, scope: &Scope, id: &str, kind: ResourceKind, tags: &[Tag]) -> ApiResult<()> {
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
    fn encode_xml(&self, w: &mut XmlWriter) {
        w.raw(&self.0);
    }
}

impl Encoded {
    pub fn of(out: &impl XmlEncode) -> Encoded {
        let mut w = XmlWriter::new();
        out.encode_xml(&mut w);
        Encoded(w.into_string())
    }
}

/// Runs a mutating operation that takes a `ClientToken` (EC2 "Ensuring idempotency"):
/// a retry with the same token and the same parameters answers the first result and
/// changes nothing; the same token with other parameters is `IdempotentParameterMismatch`.
/// The token's record commits in the same transaction as the mutation, and its key is
/// unique in the store: of two concurrent first uses, one commits and the other is
/// re-run by the store (serializable isolation) and replays. A dry run changes nothing,
/// so it records nothing.
pub async fn idempotent<F>(call: &Call, token: Option<String>, dry_run: bool, mut f: F) -> ApiResult<Encoded>
where
    F: FnMut(&mut dyn Tx) -> ApiResult<Encoded> + Send + 'static,
{
    let scope = call.cx.scope.clone();
    let operation = call.operation;
    let fingerprint = call.parameters.clone();
    let now = call.cx.now;
    call.write(dry_run, move |tx| {
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
            let row = IdempotencyRow { fingerprint: fingerprint.clone(), result: out.0.clone(), created: now.millis() };
            tx.put_idempotency(&scope, operation, token, &row)?;
        }
        Ok(out)
    })
    .await
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use reservoir_domain::account::AccountId;
    use reservoir_domain::vpc;

    use super::*;
    use crate::{AppState, Config, Storage};

    fn scope() -> Scope {
        Scope::new(AccountId::default_account(), "us-east-1")
    }

    fn call(state: &Arc<AppState>, parameters: &str) -> Call {
        Call {
            cx: Cx {
                state: state.clone(),
                request_id: "r".into(),
                scope: scope(),
                signed: true,
                principal: crate::context::Principal::Developer,
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
        let d = DhcpOptions { id: ResourceKind::DhcpOptions.new_id(&mut OsRandom), is_default: false };
        tx.create(&scope(), &d)?;
        Ok(Encoded(format!("<id>{}</id>", d.id)))
    }

    /// DHCP option sets made by `create_thing` (the scope's default one is not counted).
    async fn things(state: &Arc<AppState>) -> u64 {
        call(state, "").read(|tx| Ok(tx.count_of::<DhcpOptions>(&scope())? - 1)).await.unwrap()
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

    /// A scope set up by an earlier version (default DHCP options and a bare default VPC)
    /// gets the default VPC's contents at its next request, once.
    #[tokio::test]
    async fn a_scope_set_up_by_an_earlier_version_gets_what_it_lacks() {
        let state = Arc::new(AppState::open(Config::ephemeral()).unwrap());
        crate::context::write(&state, |tx| {
            assert!(tx.mark_scope_initialized(&scope(), 1)?);
            let dhcp = DhcpOptions::default_set(&mut OsRandom);
            tx.create(&scope(), &dhcp)?;
            tx.create(&scope(), &vpc::default_vpc(&scope().account, &dhcp.id, Timestamp(1), &mut OsRandom))?;
            Ok(())
        })
        .await
        .unwrap();
        let counts = |state: &Arc<AppState>| {
            let c = call(state, "");
            async move {
                c.read(|tx| {
                    let s = scope();
                    Ok([
                        tx.scope_version(&s)?.unwrap_or(0) as u64,
                        tx.count(&s, ResourceKind::Subnet.storage_name())?,
                        tx.count(&s, ResourceKind::SecurityGroup.storage_name())?,
                        tx.count(&s, ResourceKind::RouteTable.storage_name())?,
                        tx.count(&s, ResourceKind::InternetGateway.storage_name())?,
                        tx.count(&s, ResourceKind::Vpc.storage_name())?,
                    ])
                })
                .await
                .unwrap()
            }
        };
        let region = state.catalogue.region("us-east-1").unwrap();
        let zones = region.zones.iter().filter(|z| z.zone_type == "availability-zone").count() as u64;
        let upgraded = counts(&state).await;
        assert_eq!(
            upgraded,
            [SCOPE_VERSION as u64, zones, 1, 1, 1, 1],
            "version, subnets, groups, tables, gateways, VPCs"
        );
        call(&state, "").write(false, |_| Ok(())).await.unwrap();
        assert_eq!(counts(&state).await, upgraded, "once");
        let v = call(&state, "").read(|tx| super::super::vpcs::default_vpc(tx, &scope())).await.unwrap();
        assert!(v.is_some_and(|v| v.is_default), "the default VPC is found by its alias");
    }

    /// Two servers on one database file, as two processes would be.
    fn two_servers_on_one_file(dir: &tempfile::TempDir) -> (Arc<AppState>, Arc<AppState>) {
        let open = || {
            let mut config = Config::ephemeral();
            config.storage = Storage::File(dir.path().join("shared.db"));
            Arc::new(AppState::open(config).unwrap())
        };
        (open(), open())
    }

    /// Sixteen concurrent retries of one idempotent call, split between two servers on one
    /// database file: the operation acts once, every retry answers its result, none fails.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_retries_with_one_client_token_act_once() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = two_servers_on_one_file(&dir);
        let barrier = Arc::new(tokio::sync::Barrier::new(16));
        let tasks: Vec<_> = (0..16)
            .map(|i| {
                let state = if i % 2 == 0 { a.clone() } else { b.clone() };
                let barrier = barrier.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    idempotent(&call(&state, "params-A"), Some("token-1".into()), false, create_thing).await
                })
            })
            .collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap().expect("every retry succeeds"));
        }
        assert!(results.windows(2).all(|w| w[0] == w[1]), "every retry answers the first result: {results:?}");
        assert_eq!(things(&a).await, 1, "the operation acted once");
        assert_eq!(things(&b).await, 1);
    }

    /// A reset by one server is seen by another on the same database at its next request:
    /// nothing about a scope's set-up is cached in a process.
    #[tokio::test]
    async fn a_reset_elsewhere_is_seen_by_the_next_request() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = two_servers_on_one_file(&dir);
        let default_vpcs = |state: &Arc<AppState>| {
            let c = call(state, "");
            async move { c.read(|tx| Ok(tx.count_of::<vpc::Vpc>(&scope())?)).await.unwrap() }
        };
        assert_eq!(default_vpcs(&a).await, 1, "set up on first use");
        crate::context::write(&b, |tx| Ok(tx.reset()?)).await.unwrap();
        assert_eq!(default_vpcs(&a).await, 1, "set up again after another server's reset");
        assert_eq!(default_vpcs(&b).await, 1, "and only once");
        call(&a, "").write(false, |tx| default_dhcp_options(tx, &scope())).await.unwrap();
    }
}
