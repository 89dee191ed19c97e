//! Cognito Sync's data, as the other Cognito operations change it: an identity deleted,
//! merged into another, or a pool deleted takes its datasets and records with it, and the
//! usage counters move in the same transaction (`domain::cognito_sync`).

use reservoir_domain::account::Scope;
use reservoir_domain::cognito_sync::{self as domain, IdentityUsage, MAX_DATASETS_PER_IDENTITY, SyncError};
use reservoir_domain::time::Timestamp;
use reservoir_store::Tx;
use reservoir_store::cognito_sync::TxSync;

use crate::error::{ApiError, ApiResult};

/// Removes an identity's datasets and records and takes their bytes off its pool's usage.
pub fn forget_identity(tx: &mut dyn Tx, scope: &Scope, identity_id: &str, now: Timestamp) -> ApiResult<()> {
    domain::forget_identity(&mut TxSync::<ApiError>::new(tx, scope), identity_id, now)?;
    for namespace in
        [format!("cognito-sync-devices/{identity_id}"), format!("cognito-sync-device-tokens/{identity_id}")]
    {
        tx.delete_alias_namespace(scope, &namespace)?;
    }
    Ok(())
}

/// Removes the sync data of every identity of a pool (the pool is being deleted).
pub fn forget_pool(tx: &mut dyn Tx, scope: &Scope, pool_id: &str, now: Timestamp) -> ApiResult<()> {
    loop {
        let ids = tx.sync_identities_of_pool(scope, pool_id, None, 100)?;
        if ids.is_empty() {
            break;
        }
        for id in ids {
            forget_identity(tx, scope, &id, now)?;
        }
    }
    tx.delete_alias(scope, "cognito-sync-settings", pool_id)?;
    Ok(())
}

/// The name a merged dataset takes in its new identity when the name is taken there:
/// `<name>.<source identity id>` (within the 128 characters a name may have). Merged
/// datasets of `name` are reported by `ListRecords` as its `MergedDatasetNames`.
pub fn merged_name(name: &str, from: &str) -> String {
    let mut out = format!("{name}.{from}");
    out.truncate(128);
    out
}

/// `MergeDeveloperIdentities`: the source identity's datasets become the destination's
/// (renamed [`merged_name`] where the destination has one of the same name), with their
/// records; the pool's usage does not change. Refused (`LimitExceededException`) when
/// the destination would have more than 20 datasets.
pub fn merge_identity(tx: &mut dyn Tx, scope: &Scope, from: &str, into: &str, now: Timestamp) -> ApiResult<()> {
    if from == into {
        return Ok(());
    }
    let Some(source) = tx.sync_identity(scope, from)? else {
        return Ok(());
    };
    let mut target = tx.sync_identity(scope, into)?.unwrap_or_else(|| IdentityUsage {
        pool_id: source.pool_id.clone(),
        identity_id: into.to_string(),
        dataset_count: 0,
        data_storage: 0,
        last_modified: None,
    });
    if target.dataset_count + source.dataset_count > MAX_DATASETS_PER_IDENTITY {
        return Err(SyncError::TooManyDatasets(into.to_string()).into());
    }
    let datasets = tx.sync_datasets(scope, from, None, MAX_DATASETS_PER_IDENTITY as usize)?;
    for mut d in datasets {
        let old_name = d.name.clone();
        let name = if tx.sync_dataset(scope, into, &old_name)?.is_some() {
            merged_name(&old_name, from)
        } else {
            old_name.clone()
        };
        let mut after: Option<(u64, String)> = None;
        loop {
            let page =
                tx.sync_records_after(scope, from, &old_name, 0, after.as_ref().map(|(c, k)| (*c, k.as_str())), 500)?;
            let Some(last) = page.last() else { break };
            after = Some((last.sync_count, last.key.clone()));
            tx.put_sync_records(scope, into, &name, &page)?;
        }
        tx.delete_sync_dataset(scope, from, &old_name)?;
        d.identity_id = into.to_string();
        d.name = name;
        tx.put_sync_dataset(scope, &d)?;
    }
    target.dataset_count += source.dataset_count;
    target.data_storage += source.data_storage;
    target.last_modified = Some(now);
    tx.delete_sync_identity(scope, from)?;
    tx.put_sync_identity(scope, &target)?;
    Ok(())
}
