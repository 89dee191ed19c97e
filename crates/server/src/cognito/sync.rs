//! Cognito Sync (restJson1): routing by method and path, the data path (`ListRecords`,
//! `UpdateRecords`, datasets), usage, and the pool's push, stream and event settings.
//!
//! Identity pools and identities are Cognito Identity's; Cognito Sync sees the same ones
//! (in the same account and region). Records and datasets have their own tables, and the
//! usage counters (dataset, identity, pool) move in the transaction that moves the
//! records they count (`domain::cognito_sync`), so reading usage costs a row.
//!
//! Credentials, as each operation's documentation in the model says: the usage of a
//! pool, its settings and bulk publish take developer credentials only; the data path
//! and `DescribeIdentityUsage` take developer credentials or the identity's own
//! temporary credentials (for that identity only); `RegisterDevice`, `SubscribeToDataset`
//! and `UnsubscribeFromDataset` take an identity's temporary credentials only. Refusals
//! are `NotAuthorizedException` (403).
//!
//! What AWS would hand to other services is stored, validated and answered in AWS's
//! shapes, not delivered: push notifications (SNS), streams (Kinesis), and sync
//! triggers (Lambda) — docs/DECISIONS.md.

use std::collections::BTreeMap;

use axum::response::Response;
use bytes::Bytes;
use http::request::Parts;
use serde::{Deserialize, Serialize};

use reservoir_domain::account::Scope;
use reservoir_domain::cognito::{self, CognitoError, Identity, IdentityPool};
use reservoir_domain::cognito_sync::{self as domain, Op, Patch, SyncError};
use reservoir_domain::ids::OsRandom;
use reservoir_domain::pagination::Binding;
use reservoir_domain::time::Timestamp;
use reservoir_store::cognito_sync::TxSync;
use reservoir_store::{ReadTx, ReadTxExt, Tx};
use reservoir_wire::DateTime;
use reservoir_wire::WireEnum;
use reservoir_wire::cognito_sync::{self as api, Request};
use reservoir_wire::json::{RestRequest, RouteMatch, codes, match_route, parse_query};
use reservoir_wire::route::Service;

use super::{missing_authentication, page_of_pools, serialization_error, validation_message};
use crate::context::{Cx, Principal, Trace};
use crate::error::{ApiError, ApiResult, sync_error};
use crate::respond::{Flavor, error_response, json_response};

/// `ListIdentityPoolUsage` page size: the model gives no bounds; Reservoir takes 1–60
/// (Cognito's usual page bound) and answers 60 when none is asked for.
const MAX_PAGE: i32 = 60;
/// `ListRecords` pages: 1–1024 records (a dataset holds at most 1024 live ones), 1024
/// when none is asked for.
const MAX_RECORDS_PAGE: i32 = 1024;
/// `ListDatasets` pages: 1–20 (an identity has at most 20), 20 when none is asked for.
const MAX_DATASETS_PAGE: i32 = 20;
/// `BulkPublish` runs at most once per 24 hours (Cognito quotas).
const BULK_PUBLISH_MILLIS: i64 = 24 * 60 * 60 * 1000;

pub async fn handle(cx: Cx, parts: &Parts, body: Bytes, trace: &mut Trace) -> Response {
    let request_id = cx.request_id.clone();
    match run(cx, parts, &body, trace).await {
        Ok(out) => json_response(api::CONTENT_TYPE, &request_id, out),
        Err(e) => error_response(Flavor::of(&Service::CognitoSync), &request_id, &e, trace),
    }
}

async fn run(cx: Cx, parts: &Parts, body: &[u8], trace: &mut Trace) -> ApiResult<Vec<u8>> {
    let (route, labels) = match match_route(api::ROUTES, parts.method.as_str(), parts.uri.path()) {
        RouteMatch::Found { route, labels } => (route, labels),
        RouteMatch::MethodNotAllowed => {
            return Err(ApiError::new(
                codes::UNKNOWN_OPERATION_METHOD,
                format!("Cognito Sync has no operation for {} {}.", parts.method, parts.uri.path()),
            ));
        }
        RouteMatch::NotFound => {
            return Err(ApiError::new(
                codes::UNKNOWN_OPERATION_PATH,
                format!("Cognito Sync has no operation at {}.", parts.uri.path()),
            ));
        }
    };
    trace.operation = Some(route.operation.to_string());
    if !cx.signed {
        return Err(missing_authentication());
    }
    let rest = RestRequest { labels, query: parse_query(parts.uri.query()), headers: &parts.headers, body };
    let request =
        api::decode(route.operation, &rest).expect("served operations decode").map_err(serialization_error)?;
    let violations = request.violations();
    if !violations.is_empty() {
        // Cognito Sync's model has no ValidationException: "InvalidParameterException:
        // Thrown when a request parameter does not comply with the associated
        // constraints." Same wording as the other JSON services' validation errors.
        return Err(ApiError::new(api::codes::INVALID_PARAMETER_EXCEPTION, validation_message(&violations)));
    }
    use reservoir_wire::json::to_body;
    Ok(match request {
        Request::DescribeIdentityPoolUsage(input) => to_body(&describe_identity_pool_usage(&cx, input).await?),
        Request::ListIdentityPoolUsage(input) => to_body(&list_identity_pool_usage(&cx, input).await?),
        Request::DescribeIdentityUsage(input) => to_body(&describe_identity_usage(&cx, input).await?),
        Request::ListRecords(input) => to_body(&list_records(&cx, input).await?),
        Request::UpdateRecords(input) => to_body(&update_records(&cx, input).await?),
        Request::ListDatasets(input) => to_body(&list_datasets(&cx, input).await?),
        Request::DescribeDataset(input) => to_body(&describe_dataset(&cx, input).await?),
        Request::DeleteDataset(input) => to_body(&delete_dataset(&cx, input).await?),
        Request::GetIdentityPoolConfiguration(input) => to_body(&get_identity_pool_configuration(&cx, input).await?),
        Request::SetIdentityPoolConfiguration(input) => to_body(&set_identity_pool_configuration(&cx, input).await?),
        Request::GetCognitoEvents(input) => to_body(&get_cognito_events(&cx, input).await?),
        Request::SetCognitoEvents(input) => {
            set_cognito_events(&cx, input).await?;
            b"{}".to_vec()
        }
        Request::BulkPublish(input) => to_body(&bulk_publish(&cx, input).await?),
        Request::GetBulkPublishDetails(input) => to_body(&get_bulk_publish_details(&cx, input).await?),
        Request::RegisterDevice(input) => to_body(&register_device(&cx, input).await?),
        Request::SubscribeToDataset(input) => {
            subscribe_to_dataset(&cx, input).await?;
            b"{}".to_vec()
        }
        Request::UnsubscribeFromDataset(input) => {
            unsubscribe_from_dataset(&cx, input).await?;
            b"{}".to_vec()
        }
    })
}

// ----- who may call ------------------------------------------------------------------

fn developer_only(cx: &Cx, operation: &str) -> ApiResult<()> {
    match &cx.principal {
        Principal::Developer => Ok(()),
        Principal::Identity { .. } => Err(SyncError::NotAuthorized(format!(
            "{operation} can only be called with developer credentials, not with the temporary credentials of a \
             Cognito identity."
        ))
        .into()),
    }
}

/// The identity whose temporary credentials signed the request (the only caller of
/// the push operations).
fn identity_only<'a>(cx: &'a Cx, operation: &str, pool_id: &str, identity_id: &str) -> ApiResult<&'a str> {
    match &cx.principal {
        Principal::Identity { identity_id: me, .. } => {
            own_data(cx, pool_id, identity_id)?;
            Ok(me)
        }
        Principal::Developer => Err(SyncError::NotAuthorized(format!(
            "{operation} can only be called with the temporary credentials of a Cognito identity, not with \
             developer credentials."
        ))
        .into()),
    }
}

/// An identity's credentials reach that identity's data only.
fn own_data(cx: &Cx, pool_id: &str, identity_id: &str) -> ApiResult<()> {
    match &cx.principal {
        Principal::Developer => Ok(()),
        Principal::Identity { pool_id: p, identity_id: i } if p == pool_id && i == identity_id => Ok(()),
        Principal::Identity { identity_id: i, .. } => Err(SyncError::NotAuthorized(format!(
            "The credentials of the identity {i} give access to that identity's data only, not to {identity_id}'s."
        ))
        .into()),
    }
}

/// Who a change is by (`LastModifiedBy`): the device, else the identity for its own
/// credentials, else the account.
fn author(cx: &Cx, device_id: Option<&str>) -> String {
    match (&cx.principal, device_id) {
        (_, Some(d)) => d.to_string(),
        (Principal::Identity { identity_id, .. }, None) => identity_id.clone(),
        (Principal::Developer, None) => cx.scope.account.to_string(),
    }
}

// ----- lookups -------------------------------------------------------------------------

fn load_pool(tx: &mut dyn ReadTx, scope: &Scope, pool_id: &str) -> ApiResult<IdentityPool> {
    tx.load::<IdentityPool>(scope, pool_id)?.ok_or_else(|| sync_error(CognitoError::PoolNotFound(pool_id.into())))
}

/// The pool and the identity, which must be the pool's. With an identity's own
/// credentials, an identity deleted since they were issued is not authorized any more.
fn load_identity(
    tx: &mut dyn ReadTx,
    cx_principal: &Principal,
    scope: &Scope,
    pool_id: &str,
    identity_id: &str,
) -> ApiResult<(IdentityPool, Identity)> {
    let pool = load_pool(tx, scope, pool_id)?;
    match tx.load::<Identity>(scope, identity_id)? {
        Some(identity) if identity.pool_id == pool_id => Ok((pool, identity)),
        _ if matches!(cx_principal, Principal::Identity { .. }) => Err(SyncError::NotAuthorized(format!(
            "The identity {identity_id} no longer exists: its credentials are not valid."
        ))
        .into()),
        _ => Err(SyncError::IdentityNotFound(identity_id.into()).into()),
    }
}

fn date(t: Timestamp) -> DateTime {
    DateTime::from_unix_millis(t.millis())
}

fn dataset_to_wire(d: &domain::Dataset) -> api::Dataset {
    api::Dataset {
        identity_id: Some(d.identity_id.clone()),
        dataset_name: Some(d.name.clone()),
        creation_date: Some(date(d.created)),
        last_modified_date: Some(date(d.last_modified)),
        last_modified_by: Some(d.last_modified_by.clone()),
        data_storage: Some(d.data_storage as i64),
        num_records: Some(d.num_records as i64),
    }
}

fn record_to_wire(r: domain::Record) -> api::Record {
    api::Record {
        key: Some(r.key),
        value: r.value,
        sync_count: Some(r.sync_count as i64),
        last_modified_date: Some(date(r.last_modified)),
        last_modified_by: Some(r.last_modified_by),
        device_last_modified_date: r.device_last_modified.map(date),
    }
}

fn bad_token() -> ApiError {
    SyncError::InvalidParameter("The nextToken is not valid.".into()).into()
}

fn page_size(name: &str, asked: Option<i32>, max: i32) -> ApiResult<usize> {
    let n = asked.unwrap_or(max);
    if !(1..=max).contains(&n) {
        return Err(SyncError::InvalidParameter(format!("{name} must be between 1 and {max}, not {n}.")).into());
    }
    Ok(n as usize)
}

// ----- usage ---------------------------------------------------------------------------

fn to_wire(pool: &IdentityPool) -> api::IdentityPoolUsage {
    let u = cognito::usage(pool);
    api::IdentityPoolUsage {
        identity_pool_id: Some(u.pool_id),
        sync_sessions_count: u.sync_sessions.map(|n| n as i64),
        data_storage: Some(u.data_storage as i64),
        last_modified_date: Some(date(u.last_modified)),
    }
}

/// `DescribeIdentityPoolUsage`: developer credentials only.
pub async fn describe_identity_pool_usage(
    cx: &Cx,
    input: api::DescribeIdentityPoolUsageRequest,
) -> ApiResult<api::DescribeIdentityPoolUsageResponse> {
    developer_only(cx, "DescribeIdentityPoolUsage")?;
    let id = input.identity_pool_id.unwrap_or_default();
    let scope = cx.scope.clone();
    let pool = cx.read(move |tx| load_pool(tx, &scope, &id)).await?;
    Ok(api::DescribeIdentityPoolUsageResponse { identity_pool_usage: Some(to_wire(&pool)) })
}

/// `ListIdentityPoolUsage`, in creation order: developer credentials only.
pub async fn list_identity_pool_usage(
    cx: &Cx,
    input: api::ListIdentityPoolUsageRequest,
) -> ApiResult<api::ListIdentityPoolUsageResponse> {
    developer_only(cx, "ListIdentityPoolUsage")?;
    let max = page_size("maxResults", input.max_results, MAX_PAGE)?;
    let (pools, next_token) = page_of_pools(cx, "ListIdentityPoolUsage", input.next_token.as_deref(), max).await?;
    Ok(api::ListIdentityPoolUsageResponse {
        count: Some(pools.len() as i32),
        identity_pool_usages: Some(pools.iter().map(to_wire).collect()),
        max_results: Some(max as i32),
        next_token,
    })
}

/// `DescribeIdentityUsage`: developer credentials, or the identity's own.
async fn describe_identity_usage(
    cx: &Cx,
    input: api::DescribeIdentityUsageRequest,
) -> ApiResult<api::DescribeIdentityUsageResponse> {
    let (pool_id, identity_id) = (input.identity_pool_id.unwrap_or_default(), input.identity_id.unwrap_or_default());
    own_data(cx, &pool_id, &identity_id)?;
    let (scope, principal) = (cx.scope.clone(), cx.principal.clone());
    let (identity, usage) = cx
        .read(move |tx| {
            let (_, identity) = load_identity(tx, &principal, &scope, &pool_id, &identity_id)?;
            Ok((identity, tx.sync_identity(&scope, &identity_id)?))
        })
        .await?;
    Ok(api::DescribeIdentityUsageResponse {
        identity_usage: Some(api::IdentityUsage {
            identity_id: Some(identity.id.clone()),
            identity_pool_id: Some(identity.pool_id.clone()),
            last_modified_date: Some(date(usage.as_ref().and_then(|u| u.last_modified).unwrap_or(identity.created))),
            dataset_count: Some(usage.as_ref().map_or(0, |u| u.dataset_count as i32)),
            data_storage: Some(usage.as_ref().map_or(0, |u| u.data_storage as i64)),
        }),
    })
}

// ----- records ---------------------------------------------------------------------------

/// `ListRecords`: the dataset's records with a sync count above `lastSyncCount` (all
/// without it), removed ones included, in (sync count, key) order, and a new
/// `SyncSessionToken`. A dataset that does not exist answers empty.
async fn list_records(cx: &Cx, input: api::ListRecordsRequest) -> ApiResult<api::ListRecordsResponse> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let identity_id = input.identity_id.unwrap_or_default();
    let name = input.dataset_name.unwrap_or_default();
    own_data(cx, &pool_id, &identity_id)?;
    let last = input.last_sync_count;
    if let Some(n) = last
        && n < 0
    {
        return Err(SyncError::InvalidParameter(format!("lastSyncCount must not be negative, not {n}.")).into());
    }
    let limit = page_size("maxResults", input.max_results, MAX_RECORDS_PAGE)?;
    let fingerprint = reservoir_domain::pagination::fingerprint([
        ("identity", identity_id.as_str()),
        ("dataset", name.as_str()),
        ("lastSyncCount", &last.unwrap_or(0).to_string()),
    ]);
    let binding = Binding { operation: "ListRecords", scope: &cx.scope, fingerprint: &fingerprint };
    let after: Option<(u64, String)> = match &input.next_token {
        Some(t) => {
            let cursor = cx.state.tokens.decode(&binding, t).map_err(|_| bad_token())?;
            let (count, key) = cursor.split_once(':').ok_or_else(bad_token)?;
            Some((count.parse().map_err(|_| bad_token())?, key.to_string()))
        }
        None => None,
    };
    let (scope, principal) = (cx.scope.clone(), cx.principal.clone());
    let (pid, iid, dname) = (pool_id.clone(), identity_id.clone(), name.clone());
    let (dataset, mut records, merged) = cx
        .read(move |tx| {
            load_identity(tx, &principal, &scope, &pid, &iid)?;
            let dataset = tx.sync_dataset(&scope, &iid, &dname)?;
            let min = last.unwrap_or(0) as u64;
            let cursor = after.as_ref().map(|(c, k)| (*c, k.as_str()));
            let records = match &dataset {
                Some(_) => tx.sync_records_after(&scope, &iid, &dname, min, cursor, limit + 1)?,
                None => Vec::new(),
            };
            // Datasets merged in from other identities under `<name>.<identity id>`.
            let prefix = format!("{dname}.");
            let merged: Vec<String> = tx
                .sync_datasets(&scope, &iid, Some(&prefix), MAX_DATASETS_PAGE as usize)?
                .into_iter()
                .map(|d| d.name)
                .filter(|n| n.strip_prefix(&prefix).is_some_and(|rest| rest.contains(':')))
                .collect();
            Ok((dataset, records, merged))
        })
        .await?;
    let next_token = if records.len() > limit {
        records.truncate(limit);
        records.last().map(|r| cx.state.tokens.encode(&binding, &format!("{}:{}", r.sync_count, r.key)))
    } else {
        None
    };
    let token = domain::session_token(&cx.state.tokens, &cx.scope, &identity_id, &name, cx.now, &mut OsRandom);
    Ok(api::ListRecordsResponse {
        count: Some(records.len() as i32),
        records: Some(records.into_iter().map(record_to_wire).collect()),
        next_token,
        dataset_sync_count: Some(dataset.as_ref().map_or(0, |d| d.sync_count as i64)),
        last_modified_by: dataset.as_ref().map(|d| d.last_modified_by.clone()),
        merged_dataset_names: (!merged.is_empty()).then_some(merged),
        dataset_exists: Some(dataset.is_some()),
        dataset_deleted_after_requested_sync_count: Some(domain::deleted_after(dataset.as_ref(), last)),
        sync_session_token: Some(token),
    })
}

fn patches(input: Vec<api::RecordPatch>) -> ApiResult<Vec<Patch>> {
    input
        .into_iter()
        .map(|p| {
            let key = p.key.unwrap_or_default();
            let op = match p.op {
                Some(api::OperationShape::Replace) => match p.value {
                    Some(v) => Op::Replace(v),
                    None => {
                        return Err(
                            SyncError::InvalidParameter(format!("The replace patch of {key} has no Value.")).into()
                        );
                    }
                },
                Some(api::OperationShape::Remove) => Op::Remove,
                Some(api::OperationShape::Unknown(o)) => {
                    return Err(SyncError::InvalidParameter(format!("Op must be replace or remove, not {o}.")).into());
                }
                None => return Err(SyncError::InvalidParameter(format!("The patch of {key} has no Op.")).into()),
            };
            Ok(Patch {
                op,
                key,
                sync_count: p.sync_count.unwrap_or(0),
                device_last_modified: p.device_last_modified_date.map(|d| Timestamp(d.unix_millis())),
            })
        })
        .collect()
}

/// `UpdateRecords`: the patches of one sync session, all or nothing.
async fn update_records(cx: &Cx, input: api::UpdateRecordsRequest) -> ApiResult<api::UpdateRecordsResponse> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let identity_id = input.identity_id.unwrap_or_default();
    let name = input.dataset_name.unwrap_or_default();
    own_data(cx, &pool_id, &identity_id)?;
    let session = domain::open_session(
        &cx.state.tokens,
        &cx.scope,
        &identity_id,
        &name,
        input.sync_session_token.as_deref().unwrap_or_default(),
        cx.now,
    )?;
    let patches = patches(input.record_patches.unwrap_or_default())?;
    let who = author(cx, input.device_id.as_deref());
    let (scope, principal, now) = (cx.scope.clone(), cx.principal.clone(), cx.now);
    let applied = cx
        .write(false, move |tx| {
            load_identity(tx, &principal, &scope, &pool_id, &identity_id)?;
            let mut rows = TxSync::<ApiError>::new(tx, &scope);
            domain::update_records(
                &mut rows,
                &pool_id,
                &identity_id,
                &name,
                &patches,
                Some((&session.id, session.expires)),
                &who,
                now,
            )
        })
        .await?;
    Ok(api::UpdateRecordsResponse { records: Some(applied.written.into_iter().map(record_to_wire).collect()) })
}

// ----- datasets ----------------------------------------------------------------------------

async fn list_datasets(cx: &Cx, input: api::ListDatasetsRequest) -> ApiResult<api::ListDatasetsResponse> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let identity_id = input.identity_id.unwrap_or_default();
    own_data(cx, &pool_id, &identity_id)?;
    let limit = page_size("maxResults", input.max_results, MAX_DATASETS_PAGE)?;
    let fingerprint = reservoir_domain::pagination::fingerprint([("identity", identity_id.as_str())]);
    let binding = Binding { operation: "ListDatasets", scope: &cx.scope, fingerprint: &fingerprint };
    let after = match &input.next_token {
        Some(t) => Some(cx.state.tokens.decode(&binding, t).map_err(|_| bad_token())?),
        None => None,
    };
    let (scope, principal) = (cx.scope.clone(), cx.principal.clone());
    let mut datasets = cx
        .read(move |tx| {
            load_identity(tx, &principal, &scope, &pool_id, &identity_id)?;
            Ok(tx.sync_datasets(&scope, &identity_id, after.as_deref(), limit + 1)?)
        })
        .await?;
    let next_token = if datasets.len() > limit {
        datasets.truncate(limit);
        datasets.last().map(|d| cx.state.tokens.encode(&binding, &d.name))
    } else {
        None
    };
    Ok(api::ListDatasetsResponse {
        count: Some(datasets.len() as i32),
        datasets: Some(datasets.iter().map(dataset_to_wire).collect()),
        next_token,
    })
}

async fn describe_dataset(cx: &Cx, input: api::DescribeDatasetRequest) -> ApiResult<api::DescribeDatasetResponse> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let identity_id = input.identity_id.unwrap_or_default();
    let name = input.dataset_name.unwrap_or_default();
    own_data(cx, &pool_id, &identity_id)?;
    let (scope, principal) = (cx.scope.clone(), cx.principal.clone());
    let dataset = cx
        .read(move |tx| {
            load_identity(tx, &principal, &scope, &pool_id, &identity_id)?;
            tx.sync_dataset(&scope, &identity_id, &name)?.ok_or_else(|| SyncError::DatasetNotFound(name.clone()).into())
        })
        .await?;
    Ok(api::DescribeDatasetResponse { dataset: Some(dataset_to_wire(&dataset)) })
}

/// `DeleteDataset`: the dataset and its records, for good; answers it as it was.
async fn delete_dataset(cx: &Cx, input: api::DeleteDatasetRequest) -> ApiResult<api::DeleteDatasetResponse> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let identity_id = input.identity_id.unwrap_or_default();
    let name = input.dataset_name.unwrap_or_default();
    own_data(cx, &pool_id, &identity_id)?;
    let (scope, principal, now) = (cx.scope.clone(), cx.principal.clone(), cx.now);
    let dataset = cx
        .write(false, move |tx| {
            load_identity(tx, &principal, &scope, &pool_id, &identity_id)?;
            let found = domain::delete_dataset(&mut TxSync::<ApiError>::new(tx, &scope), &identity_id, &name, now)?;
            let dataset = found.ok_or_else(|| ApiError::from(SyncError::DatasetNotFound(name.clone())))?;
            tx.delete_alias_namespace(&scope, &subscriptions_namespace(&identity_id, &name))?;
            Ok(dataset)
        })
        .await?;
    Ok(api::DeleteDatasetResponse { dataset: Some(dataset_to_wire(&dataset)) })
}

// ----- the pool's settings ------------------------------------------------------------------

/// Cognito Sync's settings of a pool, kept beside it (alias namespace
/// [`CONFIG_NAMESPACE`], keyed by pool id) and removed with it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct SyncSettings {
    push_sync: Option<PushSync>,
    streams: Option<Streams>,
    events: BTreeMap<String, String>,
    bulk_publish: Option<BulkPublish>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PushSync {
    application_arns: Vec<String>,
    role_arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Streams {
    stream_name: Option<String>,
    role_arn: Option<String>,
    status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct BulkPublish {
    started: Timestamp,
    completed: Timestamp,
}

const CONFIG_NAMESPACE: &str = "cognito-sync-settings";

fn settings(tx: &mut dyn ReadTx, scope: &Scope, pool_id: &str) -> ApiResult<SyncSettings> {
    match tx.get_alias(scope, CONFIG_NAMESPACE, pool_id)? {
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| ApiError::Internal(format!("stored Cognito Sync settings of {pool_id}: {e}"))),
        None => Ok(SyncSettings::default()),
    }
}

fn save_settings(tx: &mut dyn Tx, scope: &Scope, pool_id: &str, s: &SyncSettings) -> ApiResult<()> {
    let json = serde_json::to_string(s).map_err(|e| ApiError::Internal(e.to_string()))?;
    tx.put_alias(scope, CONFIG_NAMESPACE, pool_id, &json)?;
    Ok(())
}

fn push_to_wire(p: &PushSync) -> api::PushSync {
    api::PushSync { application_arns: Some(p.application_arns.clone()), role_arn: p.role_arn.clone() }
}

fn streams_to_wire(s: &Streams) -> api::CognitoStreams {
    api::CognitoStreams {
        stream_name: s.stream_name.clone(),
        role_arn: s.role_arn.clone(),
        streaming_status: Some(api::StreamingStatus::from_wire(&s.status)),
    }
}

/// An SNS platform application ARN: `arn:aws:sns:<region>:<account>:app/<PLATFORM>/<name>`.
fn check_application_arn(arn: &str) -> ApiResult<()> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let ok = parts.len() == 6
        && parts[0] == "arn"
        && parts[1].starts_with("aws")
        && parts[2] == "sns"
        && !parts[3].is_empty()
        && parts[4].len() == 12
        && parts[4].bytes().all(|b| b.is_ascii_digit())
        && parts[5].starts_with("app/")
        && parts[5].split('/').count() == 3;
    if ok {
        Ok(())
    } else {
        Err(SyncError::InvalidParameter(format!("{arn} is not an SNS platform application ARN.")).into())
    }
}

async fn get_identity_pool_configuration(
    cx: &Cx,
    input: api::GetIdentityPoolConfigurationRequest,
) -> ApiResult<api::GetIdentityPoolConfigurationResponse> {
    developer_only(cx, "GetIdentityPoolConfiguration")?;
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let scope = cx.scope.clone();
    let pid = pool_id.clone();
    let s = cx
        .read(move |tx| {
            load_pool(tx, &scope, &pid)?;
            settings(tx, &scope, &pid)
        })
        .await?;
    Ok(api::GetIdentityPoolConfigurationResponse {
        identity_pool_id: Some(pool_id),
        push_sync: s.push_sync.as_ref().map(push_to_wire),
        cognito_streams: s.streams.as_ref().map(streams_to_wire),
    })
}

/// `SetIdentityPoolConfiguration`: each of PushSync and CognitoStreams, when given,
/// replaces the pool's.
async fn set_identity_pool_configuration(
    cx: &Cx,
    input: api::SetIdentityPoolConfigurationRequest,
) -> ApiResult<api::SetIdentityPoolConfigurationResponse> {
    developer_only(cx, "SetIdentityPoolConfiguration")?;
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let push = match input.push_sync {
        Some(p) => {
            let arns = p.application_arns.unwrap_or_default();
            for arn in &arns {
                check_application_arn(arn)?;
            }
            if !arns.is_empty() && p.role_arn.is_none() {
                return Err(SyncError::InvalidParameter(
                    "PushSync needs a RoleArn that Cognito Sync can use to publish to the applications.".into(),
                )
                .into());
            }
            Some(PushSync { application_arns: arns, role_arn: p.role_arn })
        }
        None => None,
    };
    let streams = match input.cognito_streams {
        Some(s) => {
            let status = match s.streaming_status {
                Some(api::StreamingStatus::Unknown(v)) => {
                    return Err(SyncError::InvalidParameter(format!(
                        "StreamingStatus must be ENABLED or DISABLED, not {v}."
                    ))
                    .into());
                }
                Some(v) => v.as_str().to_string(),
                None => "ENABLED".to_string(),
            };
            if status == "ENABLED" && (s.stream_name.is_none() || s.role_arn.is_none()) {
                return Err(SyncError::InvalidParameter(
                    "Enabled CognitoStreams need a StreamName and a RoleArn.".into(),
                )
                .into());
            }
            Some(Streams { stream_name: s.stream_name, role_arn: s.role_arn, status })
        }
        None => None,
    };
    let scope = cx.scope.clone();
    let pid = pool_id.clone();
    let s = cx
        .write(false, move |tx| {
            load_pool(tx, &scope, &pid)?;
            let mut s = settings(tx, &scope, &pid)?;
            if let Some(p) = &push {
                s.push_sync = Some(p.clone());
            }
            if let Some(st) = &streams {
                s.streams = Some(st.clone());
            }
            save_settings(tx, &scope, &pid, &s)?;
            Ok(s)
        })
        .await?;
    Ok(api::SetIdentityPoolConfigurationResponse {
        identity_pool_id: Some(pool_id),
        push_sync: s.push_sync.as_ref().map(push_to_wire),
        cognito_streams: s.streams.as_ref().map(streams_to_wire),
    })
}

/// The only Cognito event AWS defines.
const SYNC_TRIGGER: &str = "SyncTrigger";

async fn get_cognito_events(cx: &Cx, input: api::GetCognitoEventsRequest) -> ApiResult<api::GetCognitoEventsResponse> {
    developer_only(cx, "GetCognitoEvents")?;
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let scope = cx.scope.clone();
    let s = cx
        .read(move |tx| {
            load_pool(tx, &scope, &pool_id)?;
            settings(tx, &scope, &pool_id)
        })
        .await?;
    Ok(api::GetCognitoEventsResponse { events: Some(s.events) })
}

/// `SetCognitoEvents`: each event is set to a Lambda function ARN; an empty value
/// removes it.
async fn set_cognito_events(cx: &Cx, input: api::SetCognitoEventsRequest) -> ApiResult<()> {
    developer_only(cx, "SetCognitoEvents")?;
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let events = input.events.unwrap_or_default();
    for (event, function) in &events {
        if event != SYNC_TRIGGER {
            return Err(SyncError::InvalidParameter(format!(
                "{event} is not a Cognito event: the only one is {SYNC_TRIGGER}."
            ))
            .into());
        }
        if !function.is_empty() && !function.starts_with("arn:aws") {
            return Err(SyncError::InvalidParameter(format!("{function} is not a Lambda function ARN.")).into());
        }
        if !function.is_empty() && !function.contains(":lambda:") {
            return Err(SyncError::InvalidParameter(format!("{function} is not a Lambda function ARN.")).into());
        }
    }
    let scope = cx.scope.clone();
    cx.write(false, move |tx| {
        load_pool(tx, &scope, &pool_id)?;
        let mut s = settings(tx, &scope, &pool_id)?;
        for (event, function) in &events {
            if function.is_empty() {
                s.events.remove(event);
            } else {
                s.events.insert(event.clone(), function.clone());
            }
        }
        save_settings(tx, &scope, &pool_id, &s)
    })
    .await
}

/// `BulkPublish`: needs enabled Cognito Streams, and at most one per 24 hours of the
/// server clock. Nothing reaches Kinesis: the publish completes at once.
async fn bulk_publish(cx: &Cx, input: api::BulkPublishRequest) -> ApiResult<api::BulkPublishResponse> {
    developer_only(cx, "BulkPublish")?;
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let (scope, now) = (cx.scope.clone(), cx.now);
    let pid = pool_id.clone();
    cx.write(false, move |tx| {
        load_pool(tx, &scope, &pid)?;
        let mut s = settings(tx, &scope, &pid)?;
        if s.streams.as_ref().is_none_or(|st| st.status != "ENABLED") {
            return Err(SyncError::InvalidConfiguration(
                "Cognito Streams must be configured and enabled on the identity pool before a bulk publish.".into(),
            )
            .into());
        }
        if let Some(last) = &s.bulk_publish
            && now.0 < last.completed.0 + BULK_PUBLISH_MILLIS
        {
            return Err(SyncError::AlreadyStreamed(
                "A bulk publish completed less than 24 hours ago; the next may start 24 hours after it.".into(),
            )
            .into());
        }
        s.bulk_publish = Some(BulkPublish { started: now, completed: now });
        save_settings(tx, &scope, &pid, &s)
    })
    .await?;
    Ok(api::BulkPublishResponse { identity_pool_id: Some(pool_id) })
}

async fn get_bulk_publish_details(
    cx: &Cx,
    input: api::GetBulkPublishDetailsRequest,
) -> ApiResult<api::GetBulkPublishDetailsResponse> {
    developer_only(cx, "GetBulkPublishDetails")?;
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let scope = cx.scope.clone();
    let pid = pool_id.clone();
    let s = cx
        .read(move |tx| {
            load_pool(tx, &scope, &pid)?;
            settings(tx, &scope, &pid)
        })
        .await?;
    Ok(match s.bulk_publish {
        Some(b) => api::GetBulkPublishDetailsResponse {
            identity_pool_id: Some(pool_id),
            bulk_publish_start_time: Some(date(b.started)),
            bulk_publish_complete_time: Some(date(b.completed)),
            bulk_publish_status: Some(api::BulkPublishStatus::Succeeded),
            failure_message: None,
        },
        None => api::GetBulkPublishDetailsResponse {
            identity_pool_id: Some(pool_id),
            bulk_publish_start_time: None,
            bulk_publish_complete_time: None,
            bulk_publish_status: Some(api::BulkPublishStatus::NotStarted),
            failure_message: None,
        },
    })
}

// ----- devices and subscriptions ------------------------------------------------------------

/// An identity's devices: device id → `platform|token`.
fn devices_namespace(identity_id: &str) -> String {
    format!("cognito-sync-devices/{identity_id}")
}

/// An identity's devices by `platform|token` → device id (registering again answers the
/// same device).
fn device_tokens_namespace(identity_id: &str) -> String {
    format!("cognito-sync-device-tokens/{identity_id}")
}

/// A dataset's subscribed devices: device id → "".
fn subscriptions_namespace(identity_id: &str, dataset: &str) -> String {
    format!("cognito-sync-subscriptions/{identity_id}/{dataset}")
}

fn require_push(s: &SyncSettings) -> ApiResult<()> {
    if s.push_sync.as_ref().is_some_and(|p| !p.application_arns.is_empty()) {
        Ok(())
    } else {
        Err(SyncError::InvalidConfiguration(
            "Push sync is not configured on the identity pool (SetIdentityPoolConfiguration PushSync).".into(),
        )
        .into())
    }
}

/// `RegisterDevice`: an identity's temporary credentials only; needs push sync.
async fn register_device(cx: &Cx, input: api::RegisterDeviceRequest) -> ApiResult<api::RegisterDeviceResponse> {
    let pool_id = input.identity_pool_id.unwrap_or_default();
    let identity_id = input.identity_id.unwrap_or_default();
    identity_only(cx, "RegisterDevice", &pool_id, &identity_id)?;
    let platform = match input.platform {
        Some(api::Platform::Unknown(p)) => {
            return Err(SyncError::InvalidParameter(format!(
                "Platform must be one of APNS, APNS_SANDBOX, GCM, ADM, not {p}."
            ))
            .into());
        }
        Some(p) => p.as_str().to_string(),
        None => return Err(SyncError::InvalidParameter("Platform is required.".into()).into()),
    };
    let token = input.token.unwrap_or_default();
    if token.is_empty() {
        return Err(SyncError::InvalidParameter("Token is required.".into()).into());
    }
    let (scope, principal) = (cx.scope.clone(), cx.principal.clone());
    let device_id = cx
        .write(false, move |tx| {
            load_identity(tx, &principal, &scope, &pool_id, &identity_id)?;
            require_push(&settings(tx, &scope, &pool_id)?)?;
            let key = format!("{platform}|{token}");
            if let Some(id) = tx.get_alias(&scope, &device_tokens_namespace(&identity_id), &key)? {
                return Ok(id);
            }
            let id = reservoir_domain::ids::new_request_id(&mut OsRandom);
            tx.put_alias(&scope, &device_tokens_namespace(&identity_id), &key, &id)?;
            tx.put_alias(&scope, &devices_namespace(&identity_id), &id, &key)?;
            Ok(id)
        })
        .await?;
    Ok(api::RegisterDeviceResponse { device_id: Some(device_id) })
}

async fn subscription(cx: &Cx, operation: &str, ids: [Option<String>; 4], subscribe: bool) -> ApiResult<()> {
    let [pool_id, identity_id, dataset, device_id] = ids.map(Option::unwrap_or_default);
    identity_only(cx, operation, &pool_id, &identity_id)?;
    let (scope, principal) = (cx.scope.clone(), cx.principal.clone());
    cx.write(false, move |tx| {
        load_identity(tx, &principal, &scope, &pool_id, &identity_id)?;
        require_push(&settings(tx, &scope, &pool_id)?)?;
        if tx.get_alias(&scope, &devices_namespace(&identity_id), &device_id)?.is_none() {
            return Err(SyncError::DeviceNotFound(device_id.clone()).into());
        }
        let namespace = subscriptions_namespace(&identity_id, &dataset);
        if subscribe {
            tx.put_alias(&scope, &namespace, &device_id, "")?;
        } else {
            tx.delete_alias(&scope, &namespace, &device_id)?;
        }
        Ok(())
    })
    .await
}

/// `SubscribeToDataset`: an identity's temporary credentials only; the device must be
/// the identity's. Subscribing twice is the same as once.
async fn subscribe_to_dataset(cx: &Cx, input: api::SubscribeToDatasetRequest) -> ApiResult<()> {
    let ids = [input.identity_pool_id, input.identity_id, input.dataset_name, input.device_id];
    subscription(cx, "SubscribeToDataset", ids, true).await
}

async fn unsubscribe_from_dataset(cx: &Cx, input: api::UnsubscribeFromDatasetRequest) -> ApiResult<()> {
    let ids = [input.identity_pool_id, input.identity_id, input.dataset_name, input.device_id];
    subscription(cx, "UnsubscribeFromDataset", ids, false).await
}
