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
