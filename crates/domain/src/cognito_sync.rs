//! Cognito Sync: datasets of key/value records per identity, synced through sessions,
//! and the usage counters that `DescribeDataset`, `DescribeIdentityUsage` and
//! `DescribeIdentityPoolUsage` report.
//!
//! What AWS documents, and what Reservoir chose where it does not (docs/DECISIONS.md):
//! * A dataset is created by its first `UpdateRecords` ("Datasets are automatically
//!   created if they don't exist"), holds up to 1 MB of records and 1024 records; an
//!   identity has at most 20 datasets. Over a limit: `LimitExceededException`, nothing
//!   stored.
//! * Sync counts. A dataset's sync count moves forward by one with each `UpdateRecords`
//!   that changes it; every record written by that call takes the new count as its
//!   `SyncCount` (the mobile SDKs read it so: after a push, the records' highest count is
//!   the dataset's). `ListRecords(lastSyncCount)` answers the records whose count is
//!   greater, removed ones included (a removal keeps the key with no value: a
//!   tombstone), so a device learns of removals.
//! * Conflicts. A patch names the record's `SyncCount` as the device last saw it: 0 for a
//!   key it believes new. A count that is not the record's current one is a conflict
//!   (`ResourceConflictException`, nothing of the call stored). A tombstone also takes 0:
//!   a device may create again a key that was removed.
//! * `DataStorage` is the sum of the UTF-8 byte lengths of key and value of the live
//!   records (tombstones count nothing), at every level: dataset, identity, pool.
//! * `DatasetDeletedAfterRequestedSyncCount`: counts only grow while a dataset lives, so
//!   a `lastSyncCount` above the dataset's count (or any for a dataset that no longer
//!   exists) means the dataset was deleted after the device last synced.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::account::Scope;
use crate::ids::Random;
use crate::pagination::TokenCodec;
use crate::time::Timestamp;

/// "a dataset can hold up to 1MB of key-value pairs" (API reference, `Dataset`).
pub const MAX_DATASET_BYTES: u64 = 1024 * 1024;
/// Records in one dataset (Cognito quotas: "Maximum number of records per dataset").
pub const MAX_RECORDS_PER_DATASET: u64 = 1024;
/// Datasets of one identity (Cognito quotas).
pub const MAX_DATASETS_PER_IDENTITY: u64 = 20;
/// Patches in one `UpdateRecords`: no more than a dataset can hold.
pub const MAX_PATCHES: usize = 1024;
/// How long a `SyncSessionToken` may be committed with, from its `ListRecords`.
pub const SESSION_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// A record as stored: `value` `None` is a removed record (a tombstone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub key: String,
    pub value: Option<String>,
    pub sync_count: u64,
    pub last_modified: Timestamp,
    pub last_modified_by: String,
    pub device_last_modified: Option<Timestamp>,
}

impl Record {
    /// Bytes this record adds to `DataStorage`.
    pub fn bytes(&self) -> u64 {
        self.value.as_ref().map_or(0, |v| (self.key.len() + v.len()) as u64)
    }

    pub fn is_live(&self) -> bool {
        self.value.is_some()
    }
}

/// A dataset's own row: its identity, name and counters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dataset {
    pub pool_id: String,
    pub identity_id: String,
    pub name: String,
    pub created: Timestamp,
    pub last_modified: Timestamp,
    pub last_modified_by: String,
    pub sync_count: u64,
    /// Bytes of live records.
    pub data_storage: u64,
    /// Live records.
    pub num_records: u64,
}

/// An identity's usage (`DescribeIdentityUsage`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityUsage {
    pub pool_id: String,
    pub identity_id: String,
    pub dataset_count: u64,
    pub data_storage: u64,
    pub last_modified: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Replace(String),
    Remove,
}

/// One `RecordPatch`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patch {
    pub op: Op,
    pub key: String,
    pub sync_count: i64,
    pub device_last_modified: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SyncError {
    #[error("Current SyncCount for: {key} is: {current} not: {given}")]
    Conflict { key: String, current: u64, given: i64 },
    #[error("The dataset {0} would exceed its maximum size of 1 MB (1048576 bytes).")]
    DatasetTooLarge(String),
    #[error("The dataset {0} would exceed its maximum of 1024 records.")]
    TooManyRecords(String),
    #[error("The identity {0} has the maximum number of datasets (20).")]
    TooManyDatasets(String),
    #[error("{0}")]
    InvalidPatch(String),
    #[error("{0}")]
    InvalidSession(String),
    #[error("Identity '{0}' not found.")]
    IdentityNotFound(String),
    #[error("Dataset '{0}' not found.")]
    DatasetNotFound(String),
    #[error("Device '{0}' not found.")]
    DeviceNotFound(String),
    /// The caller's credentials may not do this.
    #[error("{0}")]
    NotAuthorized(String),
    #[error("{0}")]
    InvalidParameter(String),
    /// `BulkPublish` without Cognito Streams configured.
    #[error("{0}")]
    InvalidConfiguration(String),
    /// `BulkPublish` less than 24 hours after the last one completed.
    #[error("{0}")]
    AlreadyStreamed(String),
}

/// What an `UpdateRecords` changes: the dataset's new row, the records it writes (to
/// store and to answer) and how the identity's and pool's counters move.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub dataset: Dataset,
    pub written: Vec<Record>,
    /// Change of `DataStorage` (dataset, identity and pool alike).
    pub storage_delta: i64,
    /// The dataset did not exist before (the identity has one more).
    pub created: bool,
}

/// Checks an `UpdateRecords` call's patches against the dataset as it is (`dataset`,
/// `None` when it does not exist yet; `current`, the stored records of the patched keys)
/// and answers what to store. Nothing is decided from anything but these rows, so the
/// caller runs it inside the transaction that read them.
#[allow(clippy::too_many_arguments)]
pub fn apply(
    pool_id: &str,
    identity_id: &str,
    name: &str,
    dataset: Option<&Dataset>,
    datasets_of_identity: u64,
    current: &BTreeMap<String, Record>,
    patches: &[Patch],
    who: &str,
    now: Timestamp,
) -> Result<Applied, SyncError> {
    if patches.len() > MAX_PATCHES {
        return Err(SyncError::InvalidPatch(format!(
            "An UpdateRecords call takes at most {MAX_PATCHES} record patches, not {}.",
            patches.len()
        )));
    }
    let mut seen = BTreeSet::new();
    for p in patches {
        if !seen.insert(p.key.as_str()) {
            return Err(SyncError::InvalidPatch(format!("The key {} is patched more than once.", p.key)));
        }
        if p.sync_count < 0 {
            return Err(SyncError::InvalidPatch(format!(
                "The SyncCount of {} must not be negative, not {}.",
                p.key, p.sync_count
            )));
        }
    }
    for p in patches {
        let now_count = current.get(&p.key).map_or(0, |r| r.sync_count);
        let is_tombstone = current.get(&p.key).is_some_and(|r| !r.is_live());
        let given = p.sync_count as u64;
        if given != now_count && !(is_tombstone && given == 0) {
            return Err(SyncError::Conflict { key: p.key.clone(), current: now_count, given: p.sync_count });
        }
    }
    if dataset.is_none() && datasets_of_identity >= MAX_DATASETS_PER_IDENTITY {
        return Err(SyncError::TooManyDatasets(identity_id.to_string()));
    }
    let mut ds = dataset.cloned().unwrap_or_else(|| Dataset {
        pool_id: pool_id.to_string(),
        identity_id: identity_id.to_string(),
        name: name.to_string(),
        created: now,
        last_modified: now,
        last_modified_by: who.to_string(),
        sync_count: 0,
        data_storage: 0,
        num_records: 0,
    });
    let next = ds.sync_count + 1;
    let mut delta: i64 = 0;
    let mut live: i64 = 0;
    let mut written = Vec::new();
    for p in patches {
        let old = current.get(&p.key);
        let value = match &p.op {
            Op::Replace(v) => Some(v.clone()),
            Op::Remove => None,
        };
        // Removing what is not there changes nothing.
        if value.is_none() && !old.is_some_and(Record::is_live) {
            continue;
        }
        let record = Record {
            key: p.key.clone(),
            value,
            sync_count: next,
            last_modified: now,
            last_modified_by: who.to_string(),
            device_last_modified: p.device_last_modified,
        };
        delta += record.bytes() as i64 - old.map_or(0, |r| r.bytes() as i64);
        live += i64::from(record.is_live()) - i64::from(old.is_some_and(Record::is_live));
        written.push(record);
    }
    let storage = ds.data_storage as i64 + delta;
    let records = ds.num_records as i64 + live;
    if storage as u64 > MAX_DATASET_BYTES {
        return Err(SyncError::DatasetTooLarge(name.to_string()));
    }
    if records as u64 > MAX_RECORDS_PER_DATASET {
        return Err(SyncError::TooManyRecords(name.to_string()));
    }
    if !written.is_empty() {
        ds.sync_count = next;
        ds.last_modified = now;
        ds.last_modified_by = who.to_string();
    }
    ds.data_storage = storage as u64;
    ds.num_records = records as u64;
    Ok(Applied { dataset: ds, written, storage_delta: delta, created: dataset.is_none() })
}

/// The rows Cognito Sync's operations read and write, each method one indexed lookup or
/// one row written: the store implements it over a transaction
/// (`store::cognito_sync::TxSync`), [`MemorySync`] in memory for the tests. The
/// operations below decide from these rows only, so every counter moves in the
/// transaction that moves the records it counts.
pub trait SyncRows {
    type Error: From<SyncError>;
    fn dataset(&mut self, identity_id: &str, name: &str) -> Result<Option<Dataset>, Self::Error>;
    /// Stored records (tombstones included) of these keys.
    fn records_of(&mut self, identity_id: &str, name: &str, keys: &[&str]) -> Result<Vec<Record>, Self::Error>;
    fn identity(&mut self, identity_id: &str) -> Result<Option<IdentityUsage>, Self::Error>;
    fn put_dataset(&mut self, dataset: &Dataset) -> Result<(), Self::Error>;
    fn put_records(&mut self, identity_id: &str, name: &str, records: &[Record]) -> Result<(), Self::Error>;
    fn put_identity(&mut self, usage: &IdentityUsage) -> Result<(), Self::Error>;
    /// Removes a dataset row and its records.
    fn delete_dataset(&mut self, identity_id: &str, name: &str) -> Result<(), Self::Error>;
    /// Removes an identity's usage row, datasets and records.
    fn delete_identity(&mut self, identity_id: &str) -> Result<(), Self::Error>;
    /// Moves the pool's counters: bytes, sessions, and its last change.
    fn add_to_pool(&mut self, pool_id: &str, storage: i64, sessions: u64, now: Timestamp) -> Result<(), Self::Error>;
    /// `true` the first time a session commits (see [`SESSION_MILLIS`]).
    fn claim_session(&mut self, session: &str, expires: Timestamp, now: Timestamp) -> Result<bool, Self::Error>;
}

/// A committed `UpdateRecords`: [`apply`]'s answer, stored, with the dataset's, the
/// identity's and the pool's counters moved, and the session counted once.
#[allow(clippy::too_many_arguments)]
pub fn update_records<S: SyncRows>(
    s: &mut S,
    pool_id: &str,
    identity_id: &str,
    name: &str,
    patches: &[Patch],
    session: Option<(&str, Timestamp)>,
    who: &str,
    now: Timestamp,
) -> Result<Applied, S::Error> {
    let dataset = s.dataset(identity_id, name)?;
    let keys: Vec<&str> = patches.iter().map(|p| p.key.as_str()).collect();
    let current: BTreeMap<String, Record> =
        s.records_of(identity_id, name, &keys)?.into_iter().map(|r| (r.key.clone(), r)).collect();
    let mut usage = s.identity(identity_id)?.unwrap_or_else(|| IdentityUsage {
        pool_id: pool_id.to_string(),
        identity_id: identity_id.to_string(),
        dataset_count: 0,
        data_storage: 0,
        last_modified: None,
    });
    let applied =
        apply(pool_id, identity_id, name, dataset.as_ref(), usage.dataset_count, &current, patches, who, now)?;
    s.put_dataset(&applied.dataset)?;
    s.put_records(identity_id, name, &applied.written)?;
    let changed = applied.created || !applied.written.is_empty();
    usage.dataset_count += u64::from(applied.created);
    usage.data_storage = (usage.data_storage as i64 + applied.storage_delta) as u64;
    if changed {
        usage.last_modified = Some(now);
    }
    s.put_identity(&usage)?;
    let counted = match session {
        Some((id, expires)) => s.claim_session(id, expires, now)?,
        None => false,
    };
    if changed || counted {
        s.add_to_pool(pool_id, applied.storage_delta, u64::from(counted), now)?;
    }
    Ok(applied)
}

/// `DeleteDataset`: the dataset and its records go, their bytes come off the identity's
/// and the pool's usage. Answers the dataset as it was, `None` if there was none.
pub fn delete_dataset<S: SyncRows>(
    s: &mut S,
    identity_id: &str,
    name: &str,
    now: Timestamp,
) -> Result<Option<Dataset>, S::Error> {
    let Some(dataset) = s.dataset(identity_id, name)? else {
        return Ok(None);
    };
    s.delete_dataset(identity_id, name)?;
    if let Some(mut usage) = s.identity(identity_id)? {
        usage.dataset_count = usage.dataset_count.saturating_sub(1);
        usage.data_storage = usage.data_storage.saturating_sub(dataset.data_storage);
        usage.last_modified = Some(now);
        s.put_identity(&usage)?;
    }
    s.add_to_pool(&dataset.pool_id, -(dataset.data_storage as i64), 0, now)?;
    Ok(Some(dataset))
}

/// An identity deleted (or its pool): its datasets and records go, their bytes come off
/// the pool's usage.
pub fn forget_identity<S: SyncRows>(s: &mut S, identity_id: &str, now: Timestamp) -> Result<(), S::Error> {
    let Some(usage) = s.identity(identity_id)? else {
        return Ok(());
    };
    s.delete_identity(identity_id)?;
    if usage.data_storage > 0 {
        s.add_to_pool(&usage.pool_id, -(usage.data_storage as i64), 0, now)?;
    }
    Ok(())
}

/// In-memory rows: the reference the store's rows are compared with.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MemorySync {
    pub datasets: BTreeMap<(String, String), Dataset>,
    pub records: BTreeMap<(String, String, String), Record>,
    pub identities: BTreeMap<String, IdentityUsage>,
    /// Pool id → (data storage, sync sessions, last modified).
    pub pools: BTreeMap<String, (i64, u64, Timestamp)>,
    pub sessions: BTreeMap<String, Timestamp>,
}

/// Usage recounted from records: per dataset (bytes, live records), per identity
/// (datasets, bytes), per pool (bytes).
pub type Recount = (BTreeMap<(String, String), (u64, u64)>, BTreeMap<String, (u64, u64)>, BTreeMap<String, u64>);

impl MemorySync {
    pub fn recount(&self) -> Recount {
        let mut per_dataset: BTreeMap<(String, String), (u64, u64)> = BTreeMap::new();
        for ((identity, name, _), r) in &self.records {
            let e = per_dataset.entry((identity.clone(), name.clone())).or_default();
            e.0 += r.bytes();
            e.1 += u64::from(r.is_live());
        }
        let mut per_identity: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut per_pool: BTreeMap<String, u64> = BTreeMap::new();
        for ((identity, name), d) in &self.datasets {
            let bytes = per_dataset.get(&(identity.clone(), name.clone())).map_or(0, |e| e.0);
            let e = per_identity.entry(identity.clone()).or_default();
            e.0 += 1;
            e.1 += bytes;
            *per_pool.entry(d.pool_id.clone()).or_default() += bytes;
        }
        (per_dataset, per_identity, per_pool)
    }
}

impl SyncRows for MemorySync {
    type Error = SyncError;

    fn dataset(&mut self, identity_id: &str, name: &str) -> Result<Option<Dataset>, SyncError> {
        Ok(self.datasets.get(&(identity_id.to_string(), name.to_string())).cloned())
    }

    fn records_of(&mut self, identity_id: &str, name: &str, keys: &[&str]) -> Result<Vec<Record>, SyncError> {
        Ok(keys
            .iter()
            .filter_map(|k| self.records.get(&(identity_id.to_string(), name.to_string(), k.to_string())).cloned())
            .collect())
    }

    fn identity(&mut self, identity_id: &str) -> Result<Option<IdentityUsage>, SyncError> {
        Ok(self.identities.get(identity_id).cloned())
    }

    fn put_dataset(&mut self, d: &Dataset) -> Result<(), SyncError> {
        self.datasets.insert((d.identity_id.clone(), d.name.clone()), d.clone());
        Ok(())
    }

    fn put_records(&mut self, identity_id: &str, name: &str, records: &[Record]) -> Result<(), SyncError> {
        for r in records {
            self.records.insert((identity_id.to_string(), name.to_string(), r.key.clone()), r.clone());
        }
        Ok(())
    }

    fn put_identity(&mut self, usage: &IdentityUsage) -> Result<(), SyncError> {
        self.identities.insert(usage.identity_id.clone(), usage.clone());
        Ok(())
    }

    fn delete_dataset(&mut self, identity_id: &str, name: &str) -> Result<(), SyncError> {
        self.datasets.remove(&(identity_id.to_string(), name.to_string()));
        self.records.retain(|(i, n, _), _| !(i == identity_id && n == name));
        Ok(())
    }

    fn delete_identity(&mut self, identity_id: &str) -> Result<(), SyncError> {
        self.identities.remove(identity_id);
        self.datasets.retain(|(i, _), _| i != identity_id);
        self.records.retain(|(i, _, _), _| i != identity_id);
        Ok(())
    }

    fn add_to_pool(&mut self, pool_id: &str, storage: i64, sessions: u64, now: Timestamp) -> Result<(), SyncError> {
        let e = self.pools.entry(pool_id.to_string()).or_insert((0, 0, now));
        e.0 += storage;
        e.1 += sessions;
        e.2 = now;
        Ok(())
    }

    fn claim_session(&mut self, session: &str, expires: Timestamp, now: Timestamp) -> Result<bool, SyncError> {
        self.sessions.retain(|_, e| *e >= now);
        Ok(self.sessions.insert(session.to_string(), expires).is_none())
    }
}

const SESSION_PURPOSE: &str = "cognito-sync-session";

/// A sync session, as its token carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Unique per `ListRecords`: the session's identity for counting.
    pub id: String,
    pub expires: Timestamp,
}

/// The `SyncSessionToken` `ListRecords` hands out: bound to the account, region,
/// identity and dataset, and valid for [`SESSION_MILLIS`].
pub fn session_token(
    codec: &TokenCodec,
    scope: &Scope,
    identity_id: &str,
    dataset: &str,
    now: Timestamp,
    rng: &mut dyn Random,
) -> String {
    let mut nonce = [0u8; 12];
    rng.fill(&mut nonce);
    let id: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let expires = now.0 + SESSION_MILLIS;
    let payload = [scope.account.as_str(), &scope.region, identity_id, dataset, &id, &expires.to_string()].join("|");
    codec.seal(SESSION_PURPOSE, &payload)
}

/// The session of a token presented to `UpdateRecords` for this identity and dataset.
pub fn open_session(
    codec: &TokenCodec,
    scope: &Scope,
    identity_id: &str,
    dataset: &str,
    token: &str,
    now: Timestamp,
) -> Result<Session, SyncError> {
    let invalid = || SyncError::InvalidSession("The SyncSessionToken is not valid for this dataset.".into());
    let payload = codec.open(SESSION_PURPOSE, token).map_err(|_| invalid())?;
    let parts: Vec<&str> = payload.split('|').collect();
    let [account, region, identity, name, id, expires] = parts.as_slice() else {
        return Err(invalid());
    };
    if *account != scope.account.as_str() || *region != scope.region || *identity != identity_id || *name != dataset {
        return Err(invalid());
    }
    let expires = Timestamp(expires.parse().map_err(|_| invalid())?);
    if now.0 > expires.0 {
        return Err(SyncError::InvalidSession("The SyncSessionToken has expired.".into()));
    }
    Ok(Session { id: id.to_string(), expires })
}

/// `ListRecords`' `DatasetDeletedAfterRequestedSyncCount`.
pub fn deleted_after(dataset: Option<&Dataset>, last_sync_count: Option<i64>) -> bool {
    match (dataset, last_sync_count) {
        (_, None) | (_, Some(0)) => false,
        (None, Some(_)) => true,
        (Some(d), Some(n)) => n > 0 && n as u64 > d.sync_count,
    }
}

/// `LastModifiedBy`: the device that made the change, else the identity's credentials'
/// owner (the account for developer credentials, the identity for its own).
pub fn author(device_id: Option<&str>, caller: &str) -> String {
    device_id.map_or_else(|| caller.to_string(), str::to_string)
}

#[cfg(test)]
mod tests;
