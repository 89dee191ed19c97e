//! # reservoir-store: durable state behind one transactional trait
//!
//! [`Store`] runs a closure in a transaction: [`Store::write`] in a read-write one (all
//! or nothing: commit when the closure succeeds, rollback when it fails), [`Store::read`]
//! in a consistent read-only snapshot. The closure gets a [`Tx`] (or [`ReadTx`]) whose
//! methods are shaped by the domain's queries — a resource by id, a page of a kind
//! after a keyset cursor, the tags of some resources — never "load everything".
//!
//! Backends: [`sqlite::SqliteStore`] (a file, or in memory for ephemeral runs).
//! PostgreSQL will implement the same traits; the trait mentions no SQLite type and the
//! SQL is kept portable (row values, no `INSERT OR REPLACE`).
//!
//! **Invariants.** Every mutation the server acknowledges happened in one committed
//! transaction. Every key starts with the (account, region) [`Scope`]. The store knows
//! domain *types* (to serialize them, see [`typed`]) but no domain *rules*.
//!
//! Why closures rather than `begin`/`commit` objects: the transaction cannot outlive
//! the call, cannot be forgotten uncommitted, and a backend may re-run the closure when
//! its database asks for a retry (PostgreSQL serialization failures).

use reservoir_domain::account::Scope;
use reservoir_domain::cognito_sync::{Dataset, IdentityUsage, Record as SyncRecord};
use reservoir_domain::ipam::ResourceCidr;
use reservoir_domain::space::{Block, Family, Slot};
use reservoir_domain::vpc::Vpc;

pub mod cognito_sync;
pub mod postgres;
pub mod slots;
pub mod sql;
pub mod sqlite;
pub mod transfer;
pub mod typed;

pub use typed::{Entity, ReadTxExt, TxExt};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// A row with that key exists already.
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached or is busy beyond the timeout; retryable.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    /// Stored data could not be read back (a bug or a damaged file).
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("storage error: {0}")]
    Other(String),
    /// A quick read ([`Store::read_quick`]) would have to wait or read more than it may:
    /// the caller runs it again as an ordinary read.
    #[error("the read is too large to run quickly")]
    WouldBlock,
}

pub type StoreResult<T> = Result<T, StoreError>;

/// How a transaction closure ends without committing.
#[derive(Debug)]
pub enum Abort {
    /// The closure decided to roll back (its own error is kept by the caller).
    Rollback,
    Store(StoreError),
    /// A quick read gave up: no connection was free, or it went over its row budget.
    WouldBlock,
}

impl From<StoreError> for Abort {
    fn from(e: StoreError) -> Self {
        Abort::Store(e)
    }
}

/// Which backend, for the health endpoint and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreKind {
    SqliteFile,
    SqliteMemory,
    /// PostgreSQL, which several Reservoir processes may share.
    Postgres,
}

impl StoreKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StoreKind::SqliteFile => "sqlite",
            StoreKind::SqliteMemory => "sqlite-memory",
            StoreKind::Postgres => "postgres",
        }
    }

    /// Whether other processes may write the same state at any moment (so what a process
    /// read from the store, the server clock's offset included, may be stale at once).
    pub fn shared(self) -> bool {
        self == StoreKind::Postgres
    }
}

/// The resource CIDRs of a VPC (what `resource_cidrs` holds for it).
pub fn vpc_cidrs(v: &Vpc) -> Vec<ResourceCidr> {
    let row = |net: ipnet::IpNet, pool: Option<&str>| ResourceCidr {
        block: Block::of_net(net),
        resource_id: v.id.clone(),
        resource_type: "vpc".into(),
        vpc_id: v.id.clone(),
        pool_id: pool.map(str::to_string),
    };
    let v4 = v.cidr_associations.iter().map(|a| row(a.cidr.into(), a.ipam.as_ref().map(|h| h.pool_id.as_str())));
    let v6 = v.ipv6_associations.iter().map(|a| row(a.cidr.into(), a.ipam.as_ref().map(|h| h.pool_id.as_str())));
    v4.chain(v6).collect()
}

/// A stored entity row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Insertion order; the listing cursor.
    pub seq: i64,
    pub id: String,
    pub body: String,
}

/// A stored tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRow {
    pub resource_id: String,
    pub resource_type: String,
    pub key: String,
    pub value: String,
}

/// A resource that uses another: `source` uses `target` (an interface uses a security
/// group; a group's rule names another group). What a delete refused with
/// `DependencyViolation` looks up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    pub target: String,
    pub source: String,
    /// What the source is (`network-interface`, `security-group`, `vpc`…), for messages.
    pub kind: String,
}

/// What placement decides on for one capacity reservation (the `capacity` table, in its
/// owner's scope). `used` is the number of instances occupying it, kept by the schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapacityRow {
    pub id: String,
    /// Instance type, platform, zone and tenancy: what a launch must match.
    pub match_key: String,
    /// Open launches may use it (`InstanceMatchCriteria` `open`).
    pub open: bool,
    /// It takes launches (active, not cancelled).
    pub usable: bool,
    /// Milliseconds: it takes no launch at or after this time (a limited `EndDate`).
    pub end_at: Option<i64>,
    pub total: u32,
    /// Read only: written by the schema as instances occupy and release it.
    pub used: u32,
}

/// A resource another account shares with the scope's account (`shared_resources`),
/// one row per share that grants it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedRow {
    pub resource: String,
    /// The resource's kind (`ResourceKind::storage_name`).
    pub kind: String,
    /// The account that owns the resource.
    pub owner: String,
    /// The resource share granting it.
    pub share: String,
}

/// A stored `ClientToken` record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyRow {
    pub fingerprint: String,
    pub result: String,
    pub created: i64,
}

/// Reads, available in both kinds of transaction.
pub trait ReadTx {
    /// Rows of a state table (one of [`sql::TABLES`]) in key order, each as JSON values in
    /// the table's column order (addresses in hexadecimal): every account's, or one's.
    /// What `reservoir export` writes.
    fn export_rows(
        &mut self,
        table: &str,
        account: Option<&str>,
        each: &mut dyn FnMut(Vec<serde_json::Value>) -> StoreResult<()>,
    ) -> StoreResult<()>;
    /// Whether any account has any state (`meta` aside).
    fn has_state(&mut self) -> StoreResult<bool>;

    /// One entity by id.
    fn get(&mut self, scope: &Scope, kind: &str, id: &str) -> StoreResult<Option<Record>>;
    /// One entity by id, in whichever scope it lives (ids are globally unique).
    fn get_any_scope(&mut self, kind: &str, id: &str) -> StoreResult<Option<(Scope, Record)>>;
    /// Entities of a kind with `seq > after`, in `seq` order, at most `limit`.
    fn list(&mut self, scope: &Scope, kind: &str, after: i64, limit: usize) -> StoreResult<Vec<Record>>;
    /// As [`ReadTx::list`], each entity with its tags (ordered by key), in one query.
    fn list_tagged(
        &mut self,
        scope: &Scope,
        kind: &str,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<(Record, Vec<TagRow>)>>;
    /// Entities of a kind whose parent is `parent`, with `seq > after`, in `seq` order.
    fn list_children(
        &mut self,
        scope: &Scope,
        kind: &str,
        parent: &str,
        after: i64,
        limit: usize,
    ) -> StoreResult<Vec<Record>>;
    fn count(&mut self, scope: &Scope, kind: &str) -> StoreResult<u64>;
    fn count_children(&mut self, scope: &Scope, kind: &str, parent: &str) -> StoreResult<u64>;

    /// Tags of the given resources, ordered by (resource id, key), in one query.
    fn tags_of(&mut self, scope: &Scope, resource_ids: &[&str]) -> StoreResult<Vec<TagRow>>;
    /// All tags of the scope after the (resource id, key) cursor, in that order.
    fn list_tags(&mut self, scope: &Scope, after: Option<(&str, &str)>, limit: usize) -> StoreResult<Vec<TagRow>>;

    /// One resource that uses `target` (the least source id), if any: one index search.
    fn first_reference(&mut self, scope: &Scope, target: &str) -> StoreResult<Option<Reference>>;
    fn get_alias(&mut self, scope: &Scope, namespace: &str, key: &str) -> StoreResult<Option<String>>;
    fn get_idempotency(&mut self, scope: &Scope, operation: &str, token: &str) -> StoreResult<Option<IdempotencyRow>>;
    fn scope_initialized(&mut self, scope: &Scope) -> StoreResult<bool>;
    /// The version of the set-up a scope has (1 for scopes set up before versions were
    /// kept); `None` if it was never set up.
    fn scope_version(&mut self, scope: &Scope) -> StoreResult<Option<i64>>;
    fn get_meta(&mut self, key: &str) -> StoreResult<Option<String>>;

    // Address spaces (`domain::space`), each method one index search.
    /// The slot of the space with the greatest start ≤ `addr`.
    fn slot_at_or_before(
        &mut self,
        scope: &Scope,
        space: &str,
        family: Family,
        addr: u128,
    ) -> StoreResult<Option<Slot>>;
    /// The free slot of exactly `prefix` with the lowest start ≥ `from`.
    fn first_free_slot(
        &mut self,
        scope: &Scope,
        space: &str,
        family: Family,
        prefix: u8,
        from: u128,
    ) -> StoreResult<Option<Slot>>;
    /// Whether a held slot lies inside `within`.
    fn any_held_slot(&mut self, scope: &Scope, space: &str, within: Block) -> StoreResult<bool>;
    /// Held slots of the space starting after `after` (all when `None`) and at or before
    /// `until`, in address order, at most `limit`.
    fn held_slots(
        &mut self,
        scope: &Scope,
        space: &str,
        family: Family,
        after: Option<u128>,
        until: u128,
        limit: usize,
    ) -> StoreResult<Vec<Slot>>;
    /// The slot an allocation holds, with its space.
    fn slot_of_allocation(&mut self, scope: &Scope, allocation_id: &str) -> StoreResult<Option<(String, Slot)>>;

    // Resource CIDRs (IPAM monitoring), in (family, start, prefix, resource id) order.
    /// The scope's resource CIDRs after `after`, at most `limit`.
    fn resource_cidrs(
        &mut self,
        scope: &Scope,
        after: Option<&ResourceCidr>,
        limit: usize,
    ) -> StoreResult<Vec<ResourceCidr>>;
    /// Resource CIDRs whose first address lies inside `within` (of its family).
    fn resource_cidrs_starting_in(
        &mut self,
        scope: &Scope,
        within: Block,
        limit: usize,
    ) -> StoreResult<Vec<ResourceCidr>>;
    /// Resource CIDRs that are exactly `block`.
    fn resource_cidrs_exactly(&mut self, scope: &Scope, block: Block, limit: usize) -> StoreResult<Vec<ResourceCidr>>;

    // Cognito Sync (`domain::cognito_sync`): datasets by (identity, name), records by
    // (identity, dataset, key) and in (sync count, key) order.
    fn sync_dataset(&mut self, scope: &Scope, identity_id: &str, name: &str) -> StoreResult<Option<Dataset>>;
    /// An identity's datasets in name order, after `after`, at most `limit`.
    fn sync_datasets(
        &mut self,
        scope: &Scope,
        identity_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<Dataset>>;
    /// The stored records (removed ones included) of the given keys, in key order.
    fn sync_records_of(
        &mut self,
        scope: &Scope,
        identity_id: &str,
        dataset: &str,
        keys: &[&str],
    ) -> StoreResult<Vec<SyncRecord>>;
    /// Records of a dataset with a sync count above `min_count`, in (sync count, key)
    /// order after the cursor `after`, at most `limit`.
    fn sync_records_after(
        &mut self,
        scope: &Scope,
        identity_id: &str,
        dataset: &str,
        min_count: u64,
        after: Option<(u64, &str)>,
        limit: usize,
    ) -> StoreResult<Vec<SyncRecord>>;
    /// An identity's usage row (none before its first dataset).
    fn sync_identity(&mut self, scope: &Scope, identity_id: &str) -> StoreResult<Option<IdentityUsage>>;

    // Capacity reservations: each reservation's counts in its owner's scope.
    fn capacity(&mut self, owner: &Scope, id: &str) -> StoreResult<Option<CapacityRow>>;
    /// The accounts with instances in a reservation and how many each, in account order.
    fn capacity_users(&mut self, owner: &Scope, id: &str) -> StoreResult<Vec<(String, u32)>>;
    /// Instances in a reservation as (instance, account), in instance order, at most `limit`.
    fn capacity_instances(&mut self, owner: &Scope, id: &str, limit: usize) -> StoreResult<Vec<(String, String)>>;
    /// An open, usable reservation of `match_key` with room at `now` (milliseconds) that
    /// the consumer may use: its own (least id first), else one shared with it. Returns
    /// (owner account, id).
    fn open_capacity(&mut self, consumer: &Scope, match_key: &str, now: i64) -> StoreResult<Option<(String, String)>>;

    // Resources shared with the scope's account.
    /// One grant of `resource` to the consumer (the least share), if any: one search.
    fn shared_with(&mut self, consumer: &Scope, resource: &str) -> StoreResult<Option<SharedRow>>;
    /// Resources of `kind` shared with the consumer, one row per resource, in resource
    /// order after `after`, at most `limit`.
    fn shared_of_kind(
        &mut self,
        consumer: &Scope,
        kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<SharedRow>>;
}

/// Reads and writes, in a read-write transaction.
pub trait Tx: ReadTx {
    /// Inserts a new entity; `Conflict` if the id exists in the scope.
    fn insert(&mut self, scope: &Scope, kind: &str, id: &str, parent: Option<&str>, body: &str) -> StoreResult<()>;
    /// Replaces an entity's body; returns whether it existed.
    fn update(&mut self, scope: &Scope, kind: &str, id: &str, body: &str) -> StoreResult<bool>;
    /// Removes an entity and its tags; returns whether it existed.
    fn delete(&mut self, scope: &Scope, kind: &str, id: &str) -> StoreResult<bool>;
    /// Removes every entity of `kind` whose parent is `parent` (and their tags).
    fn delete_children(&mut self, scope: &Scope, kind: &str, parent: &str) -> StoreResult<u64>;

    /// Sets a tag (overwriting the value of an existing key).
    fn put_tag(&mut self, scope: &Scope, tag: &TagRow) -> StoreResult<()>;
    fn delete_tag(&mut self, scope: &Scope, resource_id: &str, key: &str) -> StoreResult<bool>;

    /// Records that `r.source` uses `r.target` (again: no change).
    fn put_reference(&mut self, scope: &Scope, r: &Reference) -> StoreResult<()>;
    /// Forgets one reference; returns whether it existed.
    fn delete_reference(&mut self, scope: &Scope, target: &str, source: &str) -> StoreResult<bool>;
    /// Forgets every reference `source` makes; returns how many.
    fn delete_references_from(&mut self, scope: &Scope, source: &str) -> StoreResult<u64>;
    fn put_alias(&mut self, scope: &Scope, namespace: &str, key: &str, target: &str) -> StoreResult<()>;
    /// Removes one alias; returns whether it existed.
    fn delete_alias(&mut self, scope: &Scope, namespace: &str, key: &str) -> StoreResult<bool>;
    fn delete_alias_namespace(&mut self, scope: &Scope, namespace: &str) -> StoreResult<()>;

    fn put_idempotency(&mut self, scope: &Scope, operation: &str, token: &str, row: &IdempotencyRow)
    -> StoreResult<()>;
    /// Claims the scope's set-up: `true` if this transaction recorded it, `false` if it
    /// was recorded already (the caller then makes no defaults).
    fn mark_scope_initialized(&mut self, scope: &Scope, now: i64) -> StoreResult<bool>;
    /// Records that a set-up scope now has what `version` gives.
    fn set_scope_version(&mut self, scope: &Scope, version: i64) -> StoreResult<()>;
    fn put_meta(&mut self, key: &str, value: &str) -> StoreResult<()>;
    /// Sets `key` only if it has no value: `true` if this transaction set it.
    fn put_meta_if_absent(&mut self, key: &str, value: &str) -> StoreResult<bool>;

    /// Adds a slot; `Conflict` if it shares a start with, or overlaps, a slot of its space
    /// (a schema rule, whatever the caller decided).
    fn insert_slot(&mut self, scope: &Scope, space: &str, slot: &Slot) -> StoreResult<()>;
    /// Removes the slot starting at `start`; returns whether it existed.
    fn delete_slot(&mut self, scope: &Scope, space: &str, family: Family, start: u128) -> StoreResult<bool>;
    /// Removes every slot of a space (and the tags of its allocations).
    fn delete_space(&mut self, scope: &Scope, space: &str) -> StoreResult<u64>;

    fn put_resource_cidr(&mut self, scope: &Scope, row: &ResourceCidr) -> StoreResult<()>;
    fn delete_resource_cidr(&mut self, scope: &Scope, resource_id: &str, block: Block) -> StoreResult<bool>;

    /// Writes a dataset's row (inserting or replacing it). `Conflict` past the schema's
    /// limits (1 MB, 1024 records).
    fn put_sync_dataset(&mut self, scope: &Scope, dataset: &Dataset) -> StoreResult<()>;
    /// Removes a dataset and its records; returns whether it existed.
    fn delete_sync_dataset(&mut self, scope: &Scope, identity_id: &str, name: &str) -> StoreResult<bool>;
    /// Writes records of a dataset (inserting or replacing each by key).
    fn put_sync_records(
        &mut self,
        scope: &Scope,
        identity_id: &str,
        dataset: &str,
        records: &[SyncRecord],
    ) -> StoreResult<()>;
    /// Writes an identity's usage row. `Conflict` past 20 datasets (a schema rule).
    fn put_sync_identity(&mut self, scope: &Scope, usage: &IdentityUsage) -> StoreResult<()>;
    /// Removes an identity's usage row, datasets and records.
    fn delete_sync_identity(&mut self, scope: &Scope, identity_id: &str) -> StoreResult<()>;
    /// Identities of a pool that have sync data, in id order after `after`.
    fn sync_identities_of_pool(
        &mut self,
        scope: &Scope,
        pool_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> StoreResult<Vec<String>>;
    /// Records that a sync session committed, unless it did already: `true` the first
    /// time. Also forgets sessions expired before `now` (they can no longer commit).
    fn claim_sync_session(&mut self, scope: &Scope, session: &str, expires: i64, now: i64) -> StoreResult<bool>;

    /// Writes a reservation's row (inserting or replacing everything but `used`).
    /// `Conflict` if `total` would fall below `used` (a schema rule).
    fn put_capacity(&mut self, owner: &Scope, row: &CapacityRow) -> StoreResult<()>;
    /// Removes a reservation's row and its usage rows.
    fn delete_capacity(&mut self, owner: &Scope, id: &str) -> StoreResult<bool>;
    /// Records that `instance` of `account` occupies the reservation. `Conflict` when the
    /// reservation is full, or the instance is in it already (schema rules).
    fn occupy_capacity(&mut self, owner: &Scope, id: &str, instance: &str, account: &str) -> StoreResult<()>;
    /// Gives an instance's slot back; returns whether it held one.
    fn release_capacity(&mut self, owner: &Scope, id: &str, instance: &str) -> StoreResult<bool>;
    /// Records a grant of a resource to the consumer (again: no change).
    fn put_shared(&mut self, consumer: &Scope, row: &SharedRow) -> StoreResult<()>;
    /// Removes one grant; returns whether it existed.
    fn delete_shared(&mut self, consumer: &Scope, resource: &str, share: &str) -> StoreResult<bool>;

    /// Queues `id` (of `kind`) to be removed at `at` (milliseconds); again: no change.
    fn put_expiry(&mut self, scope: &Scope, kind: &str, id: &str, at: i64) -> StoreResult<()>;
    /// Takes (removes from the queue and returns) up to `limit` ids of `kind` due at or
    /// before `now`, oldest first: one search of the queue's key.
    fn take_expired(&mut self, scope: &Scope, kind: &str, now: i64, limit: usize) -> StoreResult<Vec<String>>;

    /// Wipes every account's and region's state (not `meta`).
    fn reset(&mut self) -> StoreResult<()>;

    /// Loads one row of [`ReadTx::export_rows`] (values in the table's column order);
    /// what the schema derives (capacity counts) it makes again from the rows it counts.
    fn import_row(&mut self, table: &str, row: &[serde_json::Value]) -> StoreResult<()>;
    /// Ends an import: rows made later come after the imported ones.
    fn finish_import(&mut self) -> StoreResult<()>;
}

/// A storage backend.
///
/// **Isolation.** Write transactions are *serializable*: their effect is as if they ran
/// one at a time, in some order, so a check and the write that depends on it (a quota
/// count and the insert; "does this client token exist?" and its record; "is this
/// scope set up?" and its defaults) cannot interleave with another writer's, in this
/// process or in another one on the same database. Uniqueness that matters is also a
/// schema rule (primary keys on scopes, client tokens, meta keys), so a backend that
/// detects a conflict late refuses the write rather than keeping both. A backend whose
/// database reports a serialization failure runs the closure again (a bounded number
/// of times): closures must have no effect outside their transaction. Read transactions
/// see one consistent snapshot and never block writers for long.
///
/// SQLite gives this with one writer at a time (`BEGIN IMMEDIATE`, which also waits for
/// writers of other processes) and WAL snapshots for readers.
pub trait Store: Send + Sync + 'static {
    fn kind(&self) -> StoreKind;
    /// Runs `f` in a read-write transaction: commit on `Ok`, rollback on `Err`.
    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), Abort>) -> Result<(), Abort>;
    /// Runs `f` in a read-only snapshot.
    fn read(&self, f: &mut dyn FnMut(&mut dyn ReadTx) -> Result<(), Abort>) -> Result<(), Abort>;
    /// Runs `f` in a read-only snapshot on the caller's thread only if that never waits:
    /// a connection is free now, and the listings it makes return at most `max_rows`
    /// rows in all. Otherwise it gives up with [`Abort::WouldBlock`] (whatever `f`
    /// answered) and the caller runs `f` again with [`Store::read`], on a thread that may
    /// wait. Lets a server answer small reads without handing them to another thread.
    fn read_quick(
        &self,
        max_rows: usize,
        f: &mut dyn FnMut(&mut dyn ReadTx) -> Result<(), Abort>,
    ) -> Result<(), Abort> {
        let _ = (max_rows, f);
        Err(Abort::WouldBlock)
    }
    /// One server setting (`meta`), read on its own: what a request reads first when other
    /// servers share the store (the clock offset). A backend may do it in one round trip.
    fn read_meta(&self, key: &str) -> StoreResult<Option<String>> {
        let mut out = None;
        let r = self.read(&mut |tx| {
            out = Some(tx.get_meta(key)?);
            Ok(())
        });
        finish(r, out.map(Ok))
    }
    /// Flushes and closes; later calls fail with `Unavailable`.
    fn close(&self) -> StoreResult<()>;
}

/// Runs `f` in a read-write transaction and returns its result; its error rolls back.
pub fn write<T, E: From<StoreError>>(
    store: &dyn Store,
    mut f: impl FnMut(&mut dyn Tx) -> Result<T, E>,
) -> Result<T, E> {
    let mut out: Option<Result<T, E>> = None;
    let r = store.write(&mut |tx| keep(&mut out, f(tx)));
    finish(r, out)
}

/// Runs `f` in a read-only snapshot and returns its result.
pub fn read<T, E: From<StoreError>>(
    store: &dyn Store,
    mut f: impl FnMut(&mut dyn ReadTx) -> Result<T, E>,
) -> Result<T, E> {
    let mut out: Option<Result<T, E>> = None;
    let r = store.read(&mut |tx| keep(&mut out, f(tx)));
    finish(r, out)
}

/// Runs `f` as a quick read (see [`Store::read_quick`]); `None` when it gave up and
/// must be run as an ordinary read.
pub fn read_quick<T, E: From<StoreError>>(
    store: &dyn Store,
    max_rows: usize,
    mut f: impl FnMut(&mut dyn ReadTx) -> Result<T, E>,
) -> Option<Result<T, E>> {
    let mut out: Option<Result<T, E>> = None;
    match store.read_quick(max_rows, &mut |tx| keep(&mut out, f(tx))) {
        Err(Abort::WouldBlock) => None,
        r => Some(finish(r, out)),
    }
}

/// Keeps a closure's result for the caller; its error rolls the transaction back.
fn keep<T, E>(out: &mut Option<Result<T, E>>, result: Result<T, E>) -> Result<(), Abort> {
    let failed = result.is_err();
    *out = Some(result);
    if failed { Err(Abort::Rollback) } else { Ok(()) }
}

fn finish<T, E: From<StoreError>>(r: Result<(), Abort>, out: Option<Result<T, E>>) -> Result<T, E> {
    match r {
        Ok(()) | Err(Abort::Rollback) => {
            out.unwrap_or_else(|| Err(StoreError::Other("transaction ended without a result".into()).into()))
        }
        // The database could not run the transaction (PostgreSQL: serialization failures
        // on every attempt): whatever the closure made of it, the caller may retry.
        Err(Abort::Store(e @ StoreError::Unavailable(_))) => Err(e.into()),
        // Commit failed after the closure succeeded: the closure's result is void.
        Err(Abort::Store(e)) => match out {
            Some(Err(app)) => Err(app),
            _ => Err(e.into()),
        },
        Err(Abort::WouldBlock) => Err(StoreError::WouldBlock.into()),
    }
}
