//! Cognito Sync's [`SyncRows`] over a store transaction: what lets
//! `domain::cognito_sync` decide `UpdateRecords`, `DeleteDataset` and identity deletions
//! from indexed rows inside the caller's transaction, the pool's usage counters (kept on
//! the identity pool) included.

use std::marker::PhantomData;

use reservoir_domain::account::Scope;
use reservoir_domain::cognito::IdentityPool;
use reservoir_domain::cognito_sync::{Dataset, IdentityUsage, Record, SyncError, SyncRows};
use reservoir_domain::time::Timestamp;

use crate::{ReadTxExt, StoreError, Tx, TxExt};

/// The sync data of one (account, region) in a write transaction. `E` is the caller's
/// error type, which both the rules' and the store's errors become.
pub struct TxSync<'a, E> {
    tx: &'a mut dyn Tx,
    scope: &'a Scope,
    _error: PhantomData<fn() -> E>,
}

impl<'a, E> TxSync<'a, E> {
    pub fn new(tx: &'a mut dyn Tx, scope: &'a Scope) -> Self {
        TxSync { tx, scope, _error: PhantomData }
    }
}

impl<E: From<SyncError> + From<StoreError>> SyncRows for TxSync<'_, E> {
    type Error = E;

    fn dataset(&mut self, identity_id: &str, name: &str) -> Result<Option<Dataset>, E> {
        Ok(self.tx.sync_dataset(self.scope, identity_id, name)?)
    }

    fn records_of(&mut self, identity_id: &str, name: &str, keys: &[&str]) -> Result<Vec<Record>, E> {
        Ok(self.tx.sync_records_of(self.scope, identity_id, name, keys)?)
    }

    fn identity(&mut self, identity_id: &str) -> Result<Option<IdentityUsage>, E> {
        Ok(self.tx.sync_identity(self.scope, identity_id)?)
    }

    fn put_dataset(&mut self, dataset: &Dataset) -> Result<(), E> {
        Ok(self.tx.put_sync_dataset(self.scope, dataset)?)
    }

    fn put_records(&mut self, identity_id: &str, name: &str, records: &[Record]) -> Result<(), E> {
        Ok(self.tx.put_sync_records(self.scope, identity_id, name, records)?)
    }

    fn put_identity(&mut self, usage: &IdentityUsage) -> Result<(), E> {
        Ok(self.tx.put_sync_identity(self.scope, usage)?)
    }

    fn delete_dataset(&mut self, identity_id: &str, name: &str) -> Result<(), E> {
        self.tx.delete_sync_dataset(self.scope, identity_id, name)?;
        Ok(())
    }

    fn delete_identity(&mut self, identity_id: &str) -> Result<(), E> {
        Ok(self.tx.delete_sync_identity(self.scope, identity_id)?)
    }

    /// A pool that no longer exists (deleted in this transaction) has no counters to move.
    fn add_to_pool(&mut self, pool_id: &str, storage: i64, sessions: u64, now: Timestamp) -> Result<(), E> {
        let Some(mut pool) = self.tx.load::<IdentityPool>(self.scope, pool_id)? else {
            return Ok(());
        };
        pool.data_storage = u64::try_from(pool.data_storage as i64 + storage)
            .map_err(|_| StoreError::Corrupt(format!("DataStorage of {pool_id} would fall below zero")))?;
        pool.sync_sessions += sessions;
        pool.last_modified = now;
        Ok(self.tx.save(self.scope, &pool)?)
    }

    fn claim_session(&mut self, session: &str, expires: Timestamp, now: Timestamp) -> Result<bool, E> {
        Ok(self.tx.claim_sync_session(self.scope, session, expires.0, now.0)?)
    }
}
