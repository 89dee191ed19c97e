//! SQLite backend: a file (the default, durable) or memory (`--ephemeral`).
//!
//! * One writer connection behind a mutex: SQLite has one writer at a time anyway, and
//!   taking the write lock at `BEGIN IMMEDIATE` means a transaction never fails halfway
//!   for lack of it (writers queue instead of deadlocking on lock upgrades).
//! * File mode adds a few reader connections; WAL lets them read a consistent snapshot
//!   while the writer works. `synchronous=FULL`: a commit is on disk before the server
//!   acknowledges it, so a restart (or a power cut) loses nothing acknowledged.
//! * Ephemeral mode (`--ephemeral`) is the same database in a private temporary
//!   directory, removed when the store is dropped, with `synchronous=OFF`: nothing is
//!   flushed to disk (the operating system's page cache holds it), and readers still
//!   have their own connections and WAL snapshots, so a read never waits for a write.
//!   (SQLite's in-memory databases cannot give that: a private one has a single
//!   connection, and shared ones lock readers out while a writer holds its lock.)
//! * Migrations in `migrations/sqlite/` run at open, in one transaction, recorded in
//!   `schema_migrations`.

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use reservoir_domain::account::{AccountId, Scope};
use reservoir_domain::cognito_sync::{Dataset, IdentityUsage, Record as SyncRecord};
use reservoir_domain::ipam::ResourceCidr;
use reservoir_domain::space::{Allocation, Block, Family, Slot};
use reservoir_domain::time::Timestamp;
use reservoir_domain::vpc::Vpc;

use crate::{
    Abort, CapacityRow, IdempotencyRow, ReadTx, Record, Reference, SharedRow, Store, StoreError, StoreKind,
    StoreResult, TagRow, Tx,
};

/// (version, SQL) in order.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../migrations/sqlite/0001_init.sql")),
    (2, include_str!("../migrations/sqlite/0002_tags_without_rowid.sql")),
    (3, include_str!("../migrations/sqlite/0003_ip_slots.sql")),
    (4, include_str!("../migrations/sqlite/0004_cognito_sync.sql")),
    (5, include_str!("../migrations/sqlite/0005_references.sql")),
    (6, include_str!("../migrations/sqlite/0006_scope_versions.sql")),
    (7, include_str!("../migrations/sqlite/0007_capacity_and_sharing.sql")),
];

const READERS: usize = 4;

pub struct SqliteStore {
    kind: StoreKind,
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: AtomicUsize,
    closed: AtomicBool,
    /// Ephemeral mode's directory, removed (with the database) when the store is dropped.
    /// Declared last: the connections close first.
    _ephemeral_dir: Option<tempfile::TempDir>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore").field("kind", &self.kind).finish_non_exhaustive()
    }
}

fn err(e: rusqlite::Error) -> StoreError {
    match &e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            rusqlite::ErrorCode::ConstraintViolation => StoreError::Conflict(e.to_string()),
            rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked => {
                StoreError::Unavailable(e.to_string())
            }
            rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase => {
                StoreError::Corrupt(e.to_string())
            }
            _ => StoreError::Other(e.to_string()),
        },
        _ => StoreError::Other(e.to_string()),
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database file at `path`, and its directory.
    pub fn open_file(path: &Path) -> StoreResult<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::Unavailable(format!("creating {}: {e}", dir.display())))?;
        }
        Self::open(path, StoreKind::SqliteFile, None)
    }

    /// A private database that lives as long as the store: in a temporary directory,
    /// never flushed to disk, removed when the store is dropped.
    pub fn open_memory() -> StoreResult<SqliteStore> {
        let dir = tempfile::Builder::new()
            .prefix("reservoir-ephemeral-")
            .tempdir()
            .map_err(|e| StoreError::Unavailable(format!("creating a temporary directory: {e}")))?;
        let path = dir.path().join("ephemeral.db");
        Self::open(&path, StoreKind::SqliteMemory, Some(dir))
    }

    fn open(path: &Path, kind: StoreKind, dir: Option<tempfile::TempDir>) -> StoreResult<SqliteStore> {
        let durable = kind == StoreKind::SqliteFile;
        let writer = Connection::open(path).map_err(err)?;
        configure(&writer, Some(durable))?;
        migrate(&writer)?;
        let mut readers = Vec::with_capacity(READERS);
        for _ in 0..READERS {
            let c =
                Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                    .map_err(err)?;
            configure(&c, None)?;
            readers.push(Mutex::new(c));
        }
        Ok(SqliteStore {
            kind,
            writer: Mutex::new(writer),
            readers,
            next_reader: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            _ephemeral_dir: dir,
        })
    }

    /// A reader connection nobody holds, trying each once from `start`.
    fn free_reader(&self, start: usize) -> Option<std::sync::MutexGuard<'_, Connection>> {
        (0..self.readers.len()).find_map(|i| self.readers[(start + i) % self.readers.len()].try_lock().ok())
    }

    /// The private directory of an ephemeral store.
    pub fn ephemeral_dir(&self) -> Option<&Path> {
        self._ephemeral_dir.as_ref().map(|d| d.path())
    }

    fn check_open(&self) -> Result<(), Abort> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Abort::Store(StoreError::Unavailable("the store is closed".into())));
        }
        Ok(())
    }
}

/// `writer`: `Some(durable)` for the writer connection (durable: flush every commit).
fn configure(c: &Connection, writer: Option<bool>) -> StoreResult<()> {
    c.busy_timeout(std::time::Duration::from_secs(10)).map_err(err)?;
    if let Some(durable) = writer {
        c.pragma_update(None, "journal_mode", "WAL").map_err(err)?;
        c.pragma_update(None, "synchronous", if durable { "FULL" } else { "OFF" }).map_err(err)?;
    }
    c.pragma_update(None, "foreign_keys", "ON").map_err(err)?;
    c.set_prepared_statement_cache_capacity(64);
    Ok(())
}

/// Runs the migrations the database lacks, each in its own write transaction that
/// first re-reads the schema version: two processes opening a new file at once migrate
/// it once (the second waits for the first's lock, then finds nothing to do).
fn migrate(c: &Connection) -> StoreResult<()> {
    let newest = MIGRATIONS.last().map(|(v, _)| *v).unwrap_or(0);
    for (version, sql) in MIGRATIONS {
        c.execute_batch(
            "BEGIN IMMEDIATE; \
             CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied INTEGER NOT NULL);",
        )
        .map_err(err)?;
        let step = (|| {
            let current: i64 = c
                .query_row("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", [], |r| r.get(0))
                .map_err(err)?;
            if current > newest {
                return Err(StoreError::Other(format!(
                    "the database has schema version {current}, newer than this Reservoir knows ({newest}); use a \
                     newer Reservoir"
                )));
            }
            if current < *version {
                c.execute_batch(sql).map_err(err)?;
                if *version == 3 {
                    backfill_resource_cidrs(c)?;
                }
                c.execute(
                    "INSERT INTO schema_migrations (version, applied) VALUES (?1, strftime('%s','now'))",
                    params![version],
                )
                .map_err(err)?;
            }
            c.execute_batch("COMMIT").map_err(err)
        })();
        if step.is_err() {
            let _ = c.execute_batch("ROLLBACK");
        }
        step?;
    }
    Ok(())
}

impl Store for SqliteStore {
    fn kind(&self) -> StoreKind {
        self.kind
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), Abort>) -> Result<(), Abort> {
        self.check_open()?;
        let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let open = Open::begin(&conn, "BEGIN IMMEDIATE")?;
        let mut t = SqliteTx::new(&conn, None);
        f(&mut t)?; // an error drops `open`: rollback
        open.commit()?;
        Ok(())
    }

    fn read(&self, f: &mut dyn FnMut(&mut dyn ReadTx) -> Result<(), Abort>) -> Result<(), Abort> {
        self.check_open()?;
        // Take a free reader if there is one, else wait for the next in turn.
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let conn = match self.free_reader(start) {
            Some(g) => g,
            None => self.readers[start % self.readers.len()].lock().unwrap_or_else(|p| p.into_inner()),
        };
        let open = Open::begin(&conn, "BEGIN DEFERRED")?;
        let mut t = SqliteTx::new(&conn, None);
        f(&mut t)?;
        open.commit()?;
        Ok(())
    }

    fn read_quick(
        &self,
        max_rows: usize,
        f: &mut dyn FnMut(&mut dyn ReadTx) -> Result<(), Abort>,
    ) -> Result<(), Abort> {
        self.check_open()?;
        let start = self.next_reader.fetch_add(1, Ordering::Relaxed);
        let conn = self.free_reader(start).ok_or(Abort::WouldBlock)?;
        let open = Open::begin(&conn, "BEGIN DEFERRED")?;
        let mut t = SqliteTx::new(&conn, Some(max_rows));
        let r = f(&mut t);
        if t.over_budget {
            return Err(Abort::WouldBlock);
        }
        r?;
        open.commit()?;
        Ok(())
    }

    fn close(&self) -> StoreResult<()> {
        if self.closed.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        if self.kind == StoreKind::SqliteFile {
            // Fold the WAL into the main file so the database is one self-contained file.
            conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)").map_err(err)?;
        }
        Ok(())
    }
}

/// An open transaction: committed with [`Open::commit`], rolled back when dropped
/// otherwise. `BEGIN`, `COMMIT` and `ROLLBACK` are cached statements (rusqlite's own
/// `Transaction` prepares them afresh each time, which costs more than a small read).
struct Open<'c> {
    conn: &'c Connection,
    done: bool,
}

impl<'c> Open<'c> {
    fn begin(conn: &'c Connection, begin: &str) -> StoreResult<Open<'c>> {
        conn.prepare_cached(begin).and_then(|mut s| s.execute([])).map_err(err)?;
        Ok(Open { conn, done: false })
    }

    fn commit(mut self) -> StoreResult<()> {
        self.done = true;
        let committed = self.conn.prepare_cached("COMMIT").and_then(|mut s| s.execute([]));
        if committed.is_err() && !self.conn.is_autocommit() {
            let _ = self.conn.prepare_cached("ROLLBACK").and_then(|mut s| s.execute([]));
        }
        committed.map(|_| ()).map_err(err)
    }
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if !self.done && !self.conn.is_autocommit() {
            let _ = self.conn.prepare_cached("ROLLBACK").and_then(|mut s| s.execute([]));
        }
    }
}

struct SqliteTx<'c> {
    tx: &'c Connection,
    /// A quick read's rows left to list (`None`: no limit).
    budget: Option<usize>,
    /// Set when a quick read asked for more than its budget.
    over_budget: bool,
}

impl<'c> SqliteTx<'c> {
    fn new(tx: &'c Connection, budget: Option<usize>) -> SqliteTx<'c> {
        SqliteTx { tx, budget, over_budget: false }
    }

    /// The row limit to ask SQLite for: `n`, or within a quick read's budget one more
    /// than it has left, so that going over shows without reading further.
    fn cap(&self, n: usize) -> usize {
        match self.budget {
            Some(left) => n.min(left.saturating_add(1)),
            None => n,
        }
    }

    /// Runs a listing query whose last parameter is its row limit (capped to a quick
    /// read's budget) and counts what it returns against the budget.
    fn listing<T>(
        &mut self,
        sql: &str,
        params: &[&dyn rusqlite::ToSql],
        n: usize,
        row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> StoreResult<Vec<T>> {
        let capped = limit(self.cap(n));
        let mut all: Vec<&dyn rusqlite::ToSql> = params.to_vec();
        all.push(&capped);
        let rows: Vec<T> = self
            .tx
            .prepare_cached(sql)
            .map_err(err)?
            .query_map(all.as_slice(), row)
            .map_err(err)?
            .collect::<Result<_, _>>()
            .map_err(err)?;
        self.spend(rows.len())?;
        Ok(rows)
    }

    /// Counts `rows` listed against a quick read's budget.
    fn spend(&mut self, rows: usize) -> StoreResult<()> {
        if let Some(left) = &mut self.budget {
            if rows > *left {
                self.over_budget = true;
                return Err(StoreError::WouldBlock);
            }
            *left -= rows;
        }
        Ok(())
    }
}

fn scope_of(account: String, region: String) -> StoreResult<Scope> {
    let account = AccountId::parse(&account).ok_or_else(|| StoreError::Corrupt(format!("account id {account:?}")))?;
    Ok(Scope::new(account, region))
}

/// A row whose first columns are `seq, id, body`.
fn record(r: &rusqlite::Row<'_>) -> rusqlite::Result<Record> {
    Ok(Record { seq: r.get(0)?, id: r.get(1)?, body: r.get(2)? })
}

fn tag_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TagRow> {
    Ok(TagRow { resource_id: r.get(0)?, resource_type: r.get(1)?, key: r.get(2)?, value: r.get(3)? })
}

/// An address as stored: 16 bytes, big-endian.
fn addr(a: u128) -> [u8; 16] {
    a.to_be_bytes()
}

fn family_code(f: Family) -> i64 {
    match f {
        Family::Ipv4 => 4,
        Family::Ipv6 => 6,
    }
}

/// The columns a slot is read from, in [`slot`]'s order.
const SLOT_COLUMNS: &str = "family, start, prefix, root_prefix, alloc_id, resource_type, resource_id, \
                            resource_owner, resource_region, description, created";

/// A slot from a row of [`SLOT_COLUMNS`] (starting at column `at`).
fn slot_at(r: &rusqlite::Row<'_>, at: usize) -> rusqlite::Result<Slot> {
    let corrupt = |what: &str| {
        rusqlite::Error::FromSqlConversionFailure(at, rusqlite::types::Type::Blob, format!("bad slot {what}").into())
    };
    let family = match r.get::<_, i64>(at)? {
        4 => Family::Ipv4,
        6 => Family::Ipv6,
        _ => return Err(corrupt("family")),
    };
    let start: Vec<u8> = r.get(at + 1)?;
    let start = u128::from_be_bytes(start.as_slice().try_into().map_err(|_| corrupt("start"))?);
    let prefix: u8 = r.get(at + 2)?;
    let block = Block::new(family, start, prefix).ok_or_else(|| corrupt("block"))?;
    let id: Option<String> = r.get(at + 4)?;
    let holder = match id {
        None => None,
        Some(id) => Some(Allocation {
            id,
            resource_type: r.get(at + 5)?,
            resource_id: r.get(at + 6)?,
            resource_owner: r.get(at + 7)?,
            resource_region: r.get(at + 8)?,
            description: r.get(at + 9)?,
            created: Timestamp(r.get(at + 10)?),
        }),
    };
    Ok(Slot { block, root_prefix: r.get(at + 3)?, holder })
}

const CIDR_COLUMNS: &str = "family, start, prefix, resource_id, resource_type, vpc_id, pool_id";

fn resource_cidr(r: &rusqlite::Row<'_>) -> rusqlite::Result<ResourceCidr> {
    let corrupt =
        || rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, "bad resource cidr".into());
    let family = match r.get::<_, i64>(0)? {
        4 => Family::Ipv4,
        6 => Family::Ipv6,
        _ => return Err(corrupt()),
    };
    let start: Vec<u8> = r.get(1)?;
    let start = u128::from_be_bytes(start.as_slice().try_into().map_err(|_| corrupt())?);
    let block = Block::new(family, start, r.get(2)?).ok_or_else(corrupt)?;
    Ok(ResourceCidr { block, resource_id: r.get(3)?, resource_type: r.get(4)?, vpc_id: r.get(5)?, pool_id: r.get(6)? })
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

/// Version 3 indexes the CIDRs of the VPCs stored before it.
fn backfill_resource_cidrs(c: &Connection) -> StoreResult<()> {
    let vpcs: Vec<(String, String, String)> = c
        .prepare("SELECT account, region, body FROM resources WHERE kind = 'vpc'")
        .map_err(err)?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(err)?
        .collect::<Result<_, _>>()
        .map_err(err)?;
    let mut tx = SqliteTx::new(c, None);
    for (account, region, body) in vpcs {
        let scope = scope_of(account, region)?;
        let v: Vpc = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("vpc: {e}")))?;
        for row in vpc_cidrs(&v) {
            tx.put_resource_cidr(&scope, &row)?;
        }
    }
    Ok(())
}

fn slot(r: &rusqlite::Row<'_>) -> rusqlite::Result<Slot> {
    slot_at(r, 0)
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

impl ReadTx for SqliteTx<'_> {
    fn get(&mut self, scope: &Scope, kind: &str, id: &str) -> StoreResult<Option<Record>> {
        self.tx
            .prepare_cached(
                "SELECT seq, id, body FROM resources WHERE account = ?1 AND region = ?2 AND id = ?3 AND kind = ?4",
            )
            .map_err(err)?
            .query_row(params![scope.account.as_str(), scope.region, id, kind], record)
            .optional()
            .map_err(err)
    }

    fn get_any_scope(&mut self, kind: &str, id: &str) -> StoreResult<Option<(Scope, Record)>> {
        let row = self
            .tx
            .prepare_cached("SELECT seq, id, body, account, region FROM resources WHERE id = ?1 AND kind = ?2")
            .map_err(err)?
            .query_row(params![id, kind], |r| Ok((r.get::<_, String>(3)?, r.get::<_, String>(4)?, record(r)?)))
            .optional()
            .map_err(err)?;
        match row {
            Some((a, region, rec)) => Ok(Some((scope_of(a, region)?, rec))),
            None => Ok(None),
        }
    }

    fn list(&mut self, scope: &Scope, kind: &str, after: i64, n: usize) -> StoreResult<Vec<Record>> {
        self.listing(
            "SELECT seq, id, body FROM resources WHERE account = ?1 AND region = ?2 AND kind = ?3 AND seq > ?4 \
             ORDER BY seq LIMIT ?5",
            params![scope.account.as_str(), scope.region, kind, after],
            n,
            record,
        )
    }

    fn list_tagged(
        &mut self,
        scope: &Scope,
        kind: &str,
        after: i64,
        n: usize,
    ) -> StoreResult<Vec<(Record, Vec<TagRow>)>> {
        let capped = self.cap(n);
        // The page of entities, then each one's tags by the tags' primary key: one
        // statement, an entity's columns repeated per tag (read once). No ORDER BY: the
        // page comes in seq order and each entity's tags in key order from the plan, and
        // sorting the joined rows would copy every body into a sorter; the order is made
        // certain below, at the cost of checking it.
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT r.seq, r.id, r.body, t.resource_type, t.key, t.value \
                 FROM (SELECT seq, id, body FROM resources \
                       WHERE account = ?1 AND region = ?2 AND kind = ?3 AND seq > ?4 ORDER BY seq LIMIT ?5) AS r \
                 LEFT JOIN tags AS t ON t.account = ?1 AND t.region = ?2 AND t.resource_id = r.id",
            )
            .map_err(err)?;
        let mut rows =
            stmt.query(params![scope.account.as_str(), scope.region, kind, after, limit(capped)]).map_err(err)?;
        let mut out: Vec<(Record, Vec<TagRow>)> = Vec::new();
        let mut in_order = true;
        while let Some(row) = rows.next().map_err(err)? {
            let seq: i64 = row.get(0).map_err(err)?;
            match out.last() {
                Some((r, _)) if r.seq == seq => {}
                last => {
                    in_order &= last.is_none_or(|(r, _)| r.seq < seq);
                    out.push((record(row).map_err(err)?, Vec::new()));
                }
            }
            if let Some(key) = row.get::<_, Option<String>>(4).map_err(err)? {
                let (rec, tags) = out.last_mut().expect("pushed above");
                tags.push(TagRow {
                    resource_id: rec.id.clone(),
                    resource_type: row.get(3).map_err(err)?,
                    key,
                    value: row.get(5).map_err(err)?,
                });
            }
        }
        if !in_order {
            out.sort_by_key(|(r, _)| r.seq);
            out.dedup_by(|later, earlier| {
                let same = later.0.seq == earlier.0.seq;
                if same {
                    earlier.1.append(&mut later.1);
                }
                same
            });
        }
        for (_, tags) in &mut out {
            if !tags.is_sorted_by(|a, b| a.key <= b.key) {
                tags.sort_by(|a, b| a.key.cmp(&b.key));
            }
        }
        drop(rows);
        drop(stmt);
        self.spend(out.len())?;
        Ok(out)
    }

    fn list_children(
        &mut self,
        scope: &Scope,
        kind: &str,
        parent: &str,
        after: i64,
        n: usize,
    ) -> StoreResult<Vec<Record>> {
        self.listing(
            "SELECT seq, id, body FROM resources WHERE account = ?1 AND region = ?2 AND kind = ?3 AND parent = ?4 \
             AND seq > ?5 ORDER BY seq LIMIT ?6",
            params![scope.account.as_str(), scope.region, kind, parent, after],
            n,
            record,
        )
    }

    fn count(&mut self, scope: &Scope, kind: &str) -> StoreResult<u64> {
        self.tx
            .prepare_cached("SELECT COUNT(*) FROM resources WHERE account = ?1 AND region = ?2 AND kind = ?3")
            .map_err(err)?
            .query_row(params![scope.account.as_str(), scope.region, kind], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(err)
    }

    fn count_children(&mut self, scope: &Scope, kind: &str, parent: &str) -> StoreResult<u64> {
        self.tx
            .prepare_cached(
                "SELECT COUNT(*) FROM resources WHERE account = ?1 AND region = ?2 AND kind = ?3 AND parent = ?4",
            )
            .map_err(err)?
            .query_row(params![scope.account.as_str(), scope.region, kind, parent], |r| r.get::<_, i64>(0))
            .map(|n| n as u64)
            .map_err(err)
    }

    fn tags_of(&mut self, scope: &Scope, resource_ids: &[&str]) -> StoreResult<Vec<TagRow>> {
        // One query for all the ids: they travel as one JSON array (sorted, without
        // repeats), unpacked by `json_each`, and each is found by the tags' primary key
        // prefix (account, region, resource id). CROSS JOIN keeps the ids as the outer
        // loop, so the rows come in (resource id, key) order without a sort.
        let mut ids: Vec<&str> = resource_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Other(e.to_string()))?;
        self.listing(
            "SELECT t.resource_id, t.resource_type, t.key, t.value \
             FROM json_each(?3) AS wanted \
             CROSS JOIN tags AS t ON t.account = ?1 AND t.region = ?2 AND t.resource_id = wanted.value \
             LIMIT ?4",
            params![scope.account.as_str(), scope.region, ids],
            usize::MAX,
            tag_row,
        )
    }

    fn list_tags(&mut self, scope: &Scope, after: Option<(&str, &str)>, n: usize) -> StoreResult<Vec<TagRow>> {
        let (after_id, after_key) = after.unwrap_or(("", ""));
        self.listing(
            "SELECT resource_id, resource_type, key, value FROM tags \
             WHERE account = ?1 AND region = ?2 AND (resource_id, key) > (?3, ?4) \
             ORDER BY resource_id, key LIMIT ?5",
            params![scope.account.as_str(), scope.region, after_id, after_key],
            n,
            tag_row,
        )
    }

    fn first_reference(&mut self, scope: &Scope, target: &str) -> StoreResult<Option<Reference>> {
        self.tx
            .prepare_cached(
                "SELECT source, kind FROM refs WHERE account = ?1 AND region = ?2 AND target = ?3 \
                 ORDER BY source LIMIT 1",
            )
            .map_err(err)?
            .query_row(params![scope.account.as_str(), scope.region, target], |r| {
                Ok(Reference { target: target.to_string(), source: r.get(0)?, kind: r.get(1)? })
            })
            .optional()
            .map_err(err)
    }

    fn get_alias(&mut self, scope: &Scope, namespace: &str, key: &str) -> StoreResult<Option<String>> {
        self.tx
            .prepare_cached(
                "SELECT target FROM aliases WHERE account = ?1 AND region = ?2 AND namespace = ?3 AND key = ?4",
            )
            .map_err(err)?
            .query_row(params![scope.account.as_str(), scope.region, namespace, key], |r| r.get(0))
            .optional()
            .map_err(err)
    }

    fn get_idempotency(&mut self, scope: &Scope, operation: &str, token: &str) -> StoreResult<Option<IdempotencyRow>> {
        self.tx
            .prepare_cached(
                "SELECT fingerprint, result, created FROM idempotency \
                 WHERE account = ?1 AND region = ?2 AND operation = ?3 AND token = ?4",
            )
            .map_err(err)?
            .query_row(params![scope.account.as_str(), scope.region, operation, token], |r| {
                Ok(IdempotencyRow { fingerprint: r.get(0)?, result: r.get(1)?, created: r.get(2)? })
            })
            .optional()
            .map_err(err)
    }

    fn scope_initialized(&mut self, scope: &Scope) -> StoreResult<bool> {
        self.tx
            .prepare_cached("SELECT 1 FROM scopes WHERE account = ?1 AND region = ?2")
            .map_err(err)?
            .query_row(params![scope.account.as_str(), scope.region], |_| Ok(()))
            .optional()
            .map(|o| o.is_some())
            .map_err(err)
    }

    fn scope_version(&mut self, scope: &Scope) -> StoreResult<Option<i64>> {
        self.tx
            .prepare_cached("SELECT version FROM scopes WHERE account = ?1 AND region = ?2")
            .map_err(err)?
            .query_row(params![scope.account.as_str(), scope.region], |r| r.get(0))
            .optional()
            .map_err(err)
    }

    fn get_meta(&mut self, key: &str) -> StoreResult<Option<String>> {
        self.tx
            .prepare_cached("SELECT value FROM meta WHERE key = ?1")
            .map_err(err)?
            .query_row(params![key], |r| r.get(0))
            .optional()
            .map_err(err)
    }

    fn slot_at_or_before(&mut self, scope: &Scope, space: &str, family: Family, at: u128) -> StoreResult<Option<Slot>> {
        let sql = format!(
            "SELECT {SLOT_COLUMNS} FROM ip_slots WHERE account = ?1 AND region = ?2 AND space = ?3 AND family = ?4 \
             AND start <= ?5 ORDER BY start DESC LIMIT 1"
        );
        self.one_slot(&sql, params![scope.account.as_str(), scope.region, space, family_code(family), addr(at)])
    }

    /// `INDEXED BY`: without statistics SQLite would walk the primary key from `from`,
    /// through every held slot, rather than search the index of free slots by size.
    fn first_free_slot(
        &mut self,
        scope: &Scope,
        space: &str,
        family: Family,
        prefix: u8,
        from: u128,
    ) -> StoreResult<Option<Slot>> {
        let sql = format!(
            "SELECT {SLOT_COLUMNS} FROM ip_slots INDEXED BY ip_slots_free WHERE account = ?1 AND region = ?2 \
             AND space = ?3 AND family = ?4 AND prefix = ?5 AND start >= ?6 AND alloc_id IS NULL ORDER BY start LIMIT 1"
        );
        self.one_slot(
            &sql,
            params![scope.account.as_str(), scope.region, space, family_code(family), prefix, addr(from)],
        )
    }

    fn any_held_slot(&mut self, scope: &Scope, space: &str, within: Block) -> StoreResult<bool> {
        self.tx
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM ip_slots WHERE account = ?1 AND region = ?2 AND space = ?3 \
                 AND family = ?4 AND start >= ?5 AND start <= ?6 AND alloc_id IS NOT NULL)",
            )
            .map_err(err)?
            .query_row(
                params![
                    scope.account.as_str(),
                    scope.region,
                    space,
                    family_code(within.family),
                    addr(within.start),
                    addr(within.last())
                ],
                |r| r.get(0),
            )
            .map_err(err)
    }

    fn held_slots(
        &mut self,
        scope: &Scope,
        space: &str,
        family: Family,
        after: Option<u128>,
        until: u128,
        n: usize,
    ) -> StoreResult<Vec<Slot>> {
        // `after` excludes its own start; from the beginning, the first possible address.
        // Two statements rather than an OR, so that each is one range search of the key.
        let (from, op) = match after {
            Some(a) => (a, ">"),
            None => (0, ">="),
        };
        let sql = format!(
            "SELECT {SLOT_COLUMNS} FROM ip_slots WHERE account = ?1 AND region = ?2 AND space = ?3 AND family = ?4 \
             AND start {op} ?5 AND start <= ?6 AND alloc_id IS NOT NULL ORDER BY start LIMIT ?7"
        );
        self.listing(
            &sql,
            params![scope.account.as_str(), scope.region, space, family_code(family), addr(from), addr(until)],
            n,
            slot,
        )
    }

    fn slot_of_allocation(&mut self, scope: &Scope, allocation_id: &str) -> StoreResult<Option<(String, Slot)>> {
        let sql =
            format!("SELECT space, {SLOT_COLUMNS} FROM ip_slots WHERE account = ?1 AND region = ?2 AND alloc_id = ?3");
        let found = self
            .tx
            .prepare_cached(&sql)
            .map_err(err)?
            .query_row(params![scope.account.as_str(), scope.region, allocation_id], |r| {
                Ok((r.get::<_, String>(0)?, slot_at(r, 1)?))
            })
            .optional()
            .map_err(err)?;
        self.spend(usize::from(found.is_some()))?;
        Ok(found)
    }

    fn resource_cidrs(
        &mut self,
        scope: &Scope,
        after: Option<&ResourceCidr>,
        n: usize,
    ) -> StoreResult<Vec<ResourceCidr>> {
        let (family, start, prefix, id) = match after {
            Some(a) => {
                (family_code(a.block.family), addr(a.block.start), i64::from(a.block.prefix), a.resource_id.as_str())
            }
            None => (0, addr(0), -1, ""),
        };
        let sql = format!(
            "SELECT {CIDR_COLUMNS} FROM resource_cidrs WHERE account = ?1 AND region = ?2 \
             AND (family, start, prefix, resource_id) > (?3, ?4, ?5, ?6) ORDER BY family, start, prefix, resource_id LIMIT ?7"
        );
        self.listing(&sql, params![scope.account.as_str(), scope.region, family, start, prefix, id], n, resource_cidr)
    }

    fn resource_cidrs_starting_in(&mut self, scope: &Scope, within: Block, n: usize) -> StoreResult<Vec<ResourceCidr>> {
        let sql = format!(
            "SELECT {CIDR_COLUMNS} FROM resource_cidrs WHERE account = ?1 AND region = ?2 AND family = ?3 \
             AND start >= ?4 AND start <= ?5 ORDER BY start, prefix, resource_id LIMIT ?6"
        );
        self.listing(
            &sql,
            params![
                scope.account.as_str(),
                scope.region,
                family_code(within.family),
                addr(within.start),
                addr(within.last())
            ],
            n,
            resource_cidr,
        )
    }

    fn resource_cidrs_exactly(&mut self, scope: &Scope, block: Block, n: usize) -> StoreResult<Vec<ResourceCidr>> {
        let sql = format!(
            "SELECT {CIDR_COLUMNS} FROM resource_cidrs WHERE account = ?1 AND region = ?2 AND family = ?3 \
             AND start = ?4 AND prefix = ?5 ORDER BY resource_id LIMIT ?6"
        );
        self.listing(
            &sql,
            params![scope.account.as_str(), scope.region, family_code(block.family), addr(block.start), block.prefix],
            n,
            resource_cidr,
        )
    }
    fn sync_dataset(&mut self, scope: &Scope, identity_id: &str, name: &str) -> StoreResult<Option<Dataset>> {
        let sql = format!(
            "SELECT {DATASET_COLUMNS} FROM sync_datasets WHERE account = ?1 AND region = ?2 AND identity_id = ?3 \
             AND name = ?4"
        );
        let found = self
            .tx
            .prepare_cached(&sql)
            .map_err(err)?
            .query_row(params![scope.account.as_str(), scope.region, identity_id, name], dataset_row)
            .optional()
            .map_err(err)?;
        self.spend(usize::from(found.is_some()))?;
        Ok(found)
    }

    fn sync_datasets(
        &mut self,
        scope: &Scope,
        identity_id: &str,
        after: Option<&str>,
        n: usize,
    ) -> StoreResult<Vec<Dataset>> {
        let sql = format!(
            "SELECT {DATASET_COLUMNS} FROM sync_datasets WHERE account = ?1 AND region = ?2 AND identity_id = ?3 \
             AND name > ?4 ORDER BY name LIMIT ?5"
        );
        self.listing(
            &sql,
            params![scope.account.as_str(), scope.region, identity_id, after.unwrap_or("")],
            n,
            dataset_row,
        )
    }

    fn sync_records_of(
        &mut self,
        scope: &Scope,
        identity_id: &str,
        dataset: &str,
        keys: &[&str],
    ) -> StoreResult<Vec<SyncRecord>> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM sync_records WHERE account = ?1 AND region = ?2 AND identity_id = ?3 \
             AND dataset = ?4 AND key = ?5"
        );
        let mut keys: Vec<&str> = keys.to_vec();
        keys.sort_unstable();
        keys.dedup();
        let mut out = Vec::new();
        for key in keys {
            let found = self
                .tx
                .prepare_cached(&sql)
                .map_err(err)?
                .query_row(params![scope.account.as_str(), scope.region, identity_id, dataset, key], record_row)
                .optional()
                .map_err(err)?;
            out.extend(found);
        }
        self.spend(out.len())?;
        Ok(out)
    }

    fn sync_records_after(
        &mut self,
        scope: &Scope,
        identity_id: &str,
        dataset: &str,
        min_count: u64,
        after: Option<(u64, &str)>,
        n: usize,
    ) -> StoreResult<Vec<SyncRecord>> {
        // Row values keep it one range of the (sync_count, key) index.
        let base = format!(
            "SELECT {RECORD_COLUMNS} FROM sync_records INDEXED BY sync_records_by_count \
             WHERE account = ?1 AND region = ?2 AND identity_id = ?3 AND dataset = ?4 AND "
        );
        match after {
            Some((count, key)) if count >= min_count => {
                let sql = format!("{base}(sync_count, key) > (?5, ?6) ORDER BY sync_count, key LIMIT ?7");
                let p = params![scope.account.as_str(), scope.region, identity_id, dataset, count as i64, key];
                self.listing(&sql, p, n, record_row)
            }
            _ => {
                let sql = format!("{base}sync_count > ?5 ORDER BY sync_count, key LIMIT ?6");
                let p = params![scope.account.as_str(), scope.region, identity_id, dataset, min_count as i64];
                self.listing(&sql, p, n, record_row)
            }
        }
    }

    fn sync_identity(&mut self, scope: &Scope, identity_id: &str) -> StoreResult<Option<IdentityUsage>> {
        let found = self
            .tx
            .prepare_cached(
                "SELECT pool_id, identity_id, dataset_count, data_storage, last_modified FROM sync_identities \
                 WHERE account = ?1 AND region = ?2 AND identity_id = ?3",
            )
            .map_err(err)?
            .query_row(params![scope.account.as_str(), scope.region, identity_id], |r| {
                Ok(IdentityUsage {
                    pool_id: r.get(0)?,
                    identity_id: r.get(1)?,
                    dataset_count: r.get::<_, i64>(2)? as u64,
                    data_storage: r.get::<_, i64>(3)? as u64,
                    last_modified: r.get::<_, Option<i64>>(4)?.map(Timestamp),
                })
            })
            .optional()
            .map_err(err)?;
        self.spend(usize::from(found.is_some()))?;
        Ok(found)
    }
    fn capacity(&mut self, owner: &Scope, id: &str) -> StoreResult<Option<CapacityRow>> {
        let found = self
            .tx
            .prepare_cached(
                "SELECT id, match_key, open, usable, end_at, total, used FROM capacity \
                 WHERE account = ?1 AND region = ?2 AND id = ?3",
            )
            .map_err(err)?
            .query_row(params![owner.account.as_str(), owner.region, id], capacity_row)
            .optional()
            .map_err(err)?;
        self.spend(usize::from(found.is_some()))?;
        Ok(found)
    }

    fn capacity_users(&mut self, owner: &Scope, id: &str) -> StoreResult<Vec<(String, u32)>> {
        self.listing(
            "SELECT user_account, used FROM capacity_accounts \
             WHERE account = ?1 AND region = ?2 AND reservation = ?3 ORDER BY user_account LIMIT ?4",
            params![owner.account.as_str(), owner.region, id],
            usize::MAX,
            |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u32)),
        )
    }

    fn capacity_instances(&mut self, owner: &Scope, id: &str, n: usize) -> StoreResult<Vec<(String, String)>> {
        self.listing(
            "SELECT instance, user_account FROM capacity_usage \
             WHERE account = ?1 AND region = ?2 AND reservation = ?3 ORDER BY instance LIMIT ?4",
            params![owner.account.as_str(), owner.region, id],
            n,
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    fn open_capacity(&mut self, consumer: &Scope, match_key: &str, now: i64) -> StoreResult<Option<(String, String)>> {
        let own = self
            .tx
            .prepare_cached(
                "SELECT id FROM capacity \
                 WHERE account = ?1 AND region = ?2 AND match_key = ?3 AND open = 1 AND usable = 1 \
                 AND used < total AND (end_at IS NULL OR end_at > ?4) ORDER BY id LIMIT 1",
            )
            .map_err(err)?
            .query_row(params![consumer.account.as_str(), consumer.region, match_key, now], |r| r.get::<_, String>(0))
            .optional()
            .map_err(err)?;
        if let Some(id) = own {
            self.spend(1)?;
            return Ok(Some((consumer.account.as_str().to_string(), id)));
        }
        let shared = self
            .tx
            .prepare_cached(
                "SELECT c.account, c.id FROM shared_resources AS s \
                 JOIN capacity AS c ON c.account = s.owner AND c.region = s.region AND c.id = s.resource \
                 WHERE s.account = ?1 AND s.region = ?2 AND s.kind = 'capacity-reservation' \
                 AND c.match_key = ?3 AND c.open = 1 AND c.usable = 1 AND c.used < c.total \
                 AND (c.end_at IS NULL OR c.end_at > ?4) ORDER BY c.id LIMIT 1",
            )
            .map_err(err)?
            .query_row(params![consumer.account.as_str(), consumer.region, match_key, now], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
            })
            .optional()
            .map_err(err)?;
        self.spend(usize::from(shared.is_some()))?;
        Ok(shared)
    }

    fn shared_with(&mut self, consumer: &Scope, resource: &str) -> StoreResult<Option<SharedRow>> {
        let found = self
            .tx
            .prepare_cached(
                "SELECT resource, kind, owner, share FROM shared_resources \
                 WHERE account = ?1 AND region = ?2 AND resource = ?3 ORDER BY share LIMIT 1",
            )
            .map_err(err)?
            .query_row(params![consumer.account.as_str(), consumer.region, resource], shared_row)
            .optional()
            .map_err(err)?;
        self.spend(usize::from(found.is_some()))?;
        Ok(found)
    }

    fn shared_of_kind(
        &mut self,
        consumer: &Scope,
        kind: &str,
        after: Option<&str>,
        n: usize,
    ) -> StoreResult<Vec<SharedRow>> {
        // One row per resource: the least share granting it.
        self.listing(
            "SELECT resource, kind, owner, MIN(share) FROM shared_resources \
             WHERE account = ?1 AND region = ?2 AND kind = ?3 AND resource > ?4 \
             GROUP BY resource ORDER BY resource LIMIT ?5",
            params![consumer.account.as_str(), consumer.region, kind, after.unwrap_or("")],
            n,
            shared_row,
        )
    }
}

impl SqliteTx<'_> {
    fn one_slot(&mut self, sql: &str, params: &[&dyn rusqlite::ToSql]) -> StoreResult<Option<Slot>> {
        let found = self.tx.prepare_cached(sql).map_err(err)?.query_row(params, slot).optional().map_err(err)?;
        self.spend(usize::from(found.is_some()))?;
        Ok(found)
    }
}

impl Tx for SqliteTx<'_> {
    fn insert(&mut self, scope: &Scope, kind: &str, id: &str, parent: Option<&str>, body: &str) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO resources (account, region, kind, id, parent, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, kind, id, parent, body])
            .map(|_| ())
            .map_err(err)
    }

    fn update(&mut self, scope: &Scope, kind: &str, id: &str, body: &str) -> StoreResult<bool> {
        self.tx
            .prepare_cached(
                "UPDATE resources SET body = ?5 WHERE account = ?1 AND region = ?2 AND id = ?3 AND kind = ?4",
            )
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, id, kind, body])
            .map(|n| n > 0)
            .map_err(err)
    }

    fn delete(&mut self, scope: &Scope, kind: &str, id: &str) -> StoreResult<bool> {
        let n = self
            .tx
            .prepare_cached("DELETE FROM resources WHERE account = ?1 AND region = ?2 AND id = ?3 AND kind = ?4")
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, id, kind])
            .map_err(err)?;
        self.tx
            .prepare_cached("DELETE FROM tags WHERE account = ?1 AND region = ?2 AND resource_id = ?3")
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, id])
            .map_err(err)?;
        Ok(n > 0)
    }

    fn delete_children(&mut self, scope: &Scope, kind: &str, parent: &str) -> StoreResult<u64> {
        self.tx
            .prepare_cached(
                "DELETE FROM tags WHERE account = ?1 AND region = ?2 AND resource_id IN \
                 (SELECT id FROM resources WHERE account = ?1 AND region = ?2 AND kind = ?3 AND parent = ?4)",
            )
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, kind, parent])
            .map_err(err)?;
        self.tx
            .prepare_cached("DELETE FROM resources WHERE account = ?1 AND region = ?2 AND kind = ?3 AND parent = ?4")
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, kind, parent])
            .map(|n| n as u64)
            .map_err(err)
    }

    fn put_tag(&mut self, scope: &Scope, tag: &TagRow) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO tags (account, region, resource_id, resource_type, key, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (account, region, resource_id, key) DO UPDATE SET value = excluded.value",
            )
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, tag.resource_id, tag.resource_type, tag.key, tag.value])
            .map(|_| ())
            .map_err(err)
    }

    fn delete_tag(&mut self, scope: &Scope, resource_id: &str, key: &str) -> StoreResult<bool> {
        self.tx
            .prepare_cached("DELETE FROM tags WHERE account = ?1 AND region = ?2 AND resource_id = ?3 AND key = ?4")
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, resource_id, key])
            .map(|n| n > 0)
            .map_err(err)
    }

    fn put_reference(&mut self, scope: &Scope, r: &Reference) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO refs (account, region, target, source, kind) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (account, region, target, source) DO UPDATE SET kind = excluded.kind",
            )
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, r.target, r.source, r.kind])
            .map(|_| ())
            .map_err(err)
    }

    fn delete_reference(&mut self, scope: &Scope, target: &str, source: &str) -> StoreResult<bool> {
        self.tx
            .prepare_cached("DELETE FROM refs WHERE account = ?1 AND region = ?2 AND target = ?3 AND source = ?4")
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, target, source])
            .map(|n| n > 0)
            .map_err(err)
    }

    fn delete_references_from(&mut self, scope: &Scope, source: &str) -> StoreResult<u64> {
        self.tx
            .prepare_cached("DELETE FROM refs WHERE account = ?1 AND region = ?2 AND source = ?3")
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, source])
            .map(|n| n as u64)
            .map_err(err)
    }

    fn put_alias(&mut self, scope: &Scope, namespace: &str, key: &str, target: &str) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO aliases (account, region, namespace, key, target) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (account, region, namespace, key) DO UPDATE SET target = excluded.target",
            )
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, namespace, key, target])
            .map(|_| ())
            .map_err(err)
    }

    fn delete_alias(&mut self, scope: &Scope, namespace: &str, key: &str) -> StoreResult<bool> {
        self.tx
            .prepare_cached("DELETE FROM aliases WHERE account = ?1 AND region = ?2 AND namespace = ?3 AND key = ?4")
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, namespace, key])
            .map(|n| n > 0)
            .map_err(err)
    }

    fn delete_alias_namespace(&mut self, scope: &Scope, namespace: &str) -> StoreResult<()> {
        self.tx
            .prepare_cached("DELETE FROM aliases WHERE account = ?1 AND region = ?2 AND namespace = ?3")
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, namespace])
            .map(|_| ())
            .map_err(err)
    }

    fn put_idempotency(
        &mut self,
        scope: &Scope,
        operation: &str,
        token: &str,
        row: &IdempotencyRow,
    ) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO idempotency (account, region, operation, token, fingerprint, result, created) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .map_err(err)?
            .execute(params![
                scope.account.as_str(),
                scope.region,
                operation,
                token,
                row.fingerprint,
                row.result,
                row.created
            ])
            .map(|_| ())
            .map_err(err)
    }

    fn mark_scope_initialized(&mut self, scope: &Scope, now: i64) -> StoreResult<bool> {
        self.tx
            .prepare_cached("INSERT INTO scopes (account, region, created) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING")
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, now])
            .map(|n| n > 0)
            .map_err(err)
    }

    fn set_scope_version(&mut self, scope: &Scope, version: i64) -> StoreResult<()> {
        self.tx
            .prepare_cached("UPDATE scopes SET version = ?3 WHERE account = ?1 AND region = ?2")
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, version])
            .map(|_| ())
            .map_err(err)
    }

    fn put_meta(&mut self, key: &str, value: &str) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .map_err(err)?
            .execute(params![key, value])
            .map(|_| ())
            .map_err(err)
    }

    fn put_meta_if_absent(&mut self, key: &str, value: &str) -> StoreResult<bool> {
        self.tx
            .prepare_cached("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING")
            .map_err(err)?
            .execute(params![key, value])
            .map(|n| n > 0)
            .map_err(err)
    }

    fn insert_slot(&mut self, scope: &Scope, space: &str, slot: &Slot) -> StoreResult<()> {
        let b = slot.block;
        let h = slot.holder.as_ref();
        self.tx
            .prepare_cached(
                "INSERT INTO ip_slots (account, region, space, family, start, last, prefix, root_prefix, alloc_id, \
                 resource_type, resource_id, resource_owner, resource_region, description, created) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )
            .map_err(err)?
            .execute(params![
                scope.account.as_str(),
                scope.region,
                space,
                family_code(b.family),
                addr(b.start),
                addr(b.last()),
                b.prefix,
                slot.root_prefix,
                h.map(|h| h.id.as_str()),
                h.map(|h| h.resource_type.as_str()),
                h.and_then(|h| h.resource_id.as_deref()),
                h.map(|h| h.resource_owner.as_str()),
                h.and_then(|h| h.resource_region.as_deref()),
                h.and_then(|h| h.description.as_deref()),
                h.map(|h| h.created.0),
            ])
            .map(|_| ())
            .map_err(err)
    }

    fn delete_slot(&mut self, scope: &Scope, space: &str, family: Family, start: u128) -> StoreResult<bool> {
        self.tx
            .prepare_cached(
                "DELETE FROM ip_slots WHERE account = ?1 AND region = ?2 AND space = ?3 AND family = ?4 AND start = ?5",
            )
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, space, family_code(family), addr(start)])
            .map(|n| n > 0)
            .map_err(err)
    }

    fn delete_space(&mut self, scope: &Scope, space: &str) -> StoreResult<u64> {
        self.tx
            .prepare_cached(
                "DELETE FROM tags WHERE account = ?1 AND region = ?2 AND resource_id IN \
                 (SELECT alloc_id FROM ip_slots WHERE account = ?1 AND region = ?2 AND space = ?3 \
                  AND alloc_id IS NOT NULL)",
            )
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, space])
            .map_err(err)?;
        self.tx
            .prepare_cached("DELETE FROM ip_slots WHERE account = ?1 AND region = ?2 AND space = ?3")
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, space])
            .map(|n| n as u64)
            .map_err(err)
    }

    fn put_resource_cidr(&mut self, scope: &Scope, row: &ResourceCidr) -> StoreResult<()> {
        let b = row.block;
        self.tx
            .prepare_cached(
                "INSERT INTO resource_cidrs (account, region, family, start, prefix, resource_id, resource_type, \
                 vpc_id, pool_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .map_err(err)?
            .execute(params![
                scope.account.as_str(),
                scope.region,
                family_code(b.family),
                addr(b.start),
                b.prefix,
                row.resource_id,
                row.resource_type,
                row.vpc_id,
                row.pool_id
            ])
            .map(|_| ())
            .map_err(err)
    }

    fn delete_resource_cidr(&mut self, scope: &Scope, resource_id: &str, block: Block) -> StoreResult<bool> {
        self.tx
            .prepare_cached(
                "DELETE FROM resource_cidrs WHERE account = ?1 AND region = ?2 AND family = ?3 AND start = ?4 \
                 AND prefix = ?5 AND resource_id = ?6",
            )
            .map_err(err)?
            .execute(params![
                scope.account.as_str(),
                scope.region,
                family_code(block.family),
                addr(block.start),
                block.prefix,
                resource_id
            ])
            .map(|n| n > 0)
            .map_err(err)
    }

    fn put_sync_dataset(&mut self, scope: &Scope, d: &Dataset) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO sync_datasets (account, region, identity_id, name, pool_id, created, last_modified, \
                 last_modified_by, sync_count, data_storage, num_records) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
                 ON CONFLICT (account, region, identity_id, name) DO UPDATE SET last_modified = excluded.last_modified, \
                 last_modified_by = excluded.last_modified_by, sync_count = excluded.sync_count, \
                 data_storage = excluded.data_storage, num_records = excluded.num_records",
            )
            .map_err(err)?
            .execute(params![
                scope.account.as_str(),
                scope.region,
                d.identity_id,
                d.name,
                d.pool_id,
                d.created.0,
                d.last_modified.0,
                d.last_modified_by,
                d.sync_count as i64,
                d.data_storage as i64,
                d.num_records as i64
            ])
            .map(|_| ())
            .map_err(err)
    }

    fn delete_sync_dataset(&mut self, scope: &Scope, identity_id: &str, name: &str) -> StoreResult<bool> {
        self.tx
            .prepare_cached(
                "DELETE FROM sync_records WHERE account = ?1 AND region = ?2 AND identity_id = ?3 AND dataset = ?4",
            )
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, identity_id, name])
            .map_err(err)?;
        let n = self
            .tx
            .prepare_cached(
                "DELETE FROM sync_datasets WHERE account = ?1 AND region = ?2 AND identity_id = ?3 AND name = ?4",
            )
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, identity_id, name])
            .map_err(err)?;
        Ok(n > 0)
    }

    fn put_sync_records(
        &mut self,
        scope: &Scope,
        identity_id: &str,
        dataset: &str,
        records: &[SyncRecord],
    ) -> StoreResult<()> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "INSERT INTO sync_records (account, region, identity_id, dataset, key, value, sync_count, \
                 last_modified, last_modified_by, device_last_modified) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (account, region, identity_id, dataset, key) DO UPDATE SET value = excluded.value, \
                 sync_count = excluded.sync_count, last_modified = excluded.last_modified, \
                 last_modified_by = excluded.last_modified_by, device_last_modified = excluded.device_last_modified",
            )
            .map_err(err)?;
        for r in records {
            stmt.execute(params![
                scope.account.as_str(),
                scope.region,
                identity_id,
                dataset,
                r.key,
                r.value,
                r.sync_count as i64,
                r.last_modified.0,
                r.last_modified_by,
                r.device_last_modified.map(|t| t.0)
            ])
            .map_err(err)?;
        }
        Ok(())
    }

    fn put_sync_identity(&mut self, scope: &Scope, u: &IdentityUsage) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO sync_identities (account, region, identity_id, pool_id, dataset_count, data_storage, \
                 last_modified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
                 ON CONFLICT (account, region, identity_id) DO UPDATE SET pool_id = excluded.pool_id, \
                 dataset_count = excluded.dataset_count, data_storage = excluded.data_storage, \
                 last_modified = excluded.last_modified",
            )
            .map_err(err)?
            .execute(params![
                scope.account.as_str(),
                scope.region,
                u.identity_id,
                u.pool_id,
                u.dataset_count as i64,
                u.data_storage as i64,
                u.last_modified.map(|t| t.0)
            ])
            .map(|_| ())
            .map_err(err)
    }

    fn delete_sync_identity(&mut self, scope: &Scope, identity_id: &str) -> StoreResult<()> {
        for table in ["sync_records", "sync_datasets", "sync_identities"] {
            self.tx
                .prepare_cached(&format!("DELETE FROM {table} WHERE account = ?1 AND region = ?2 AND identity_id = ?3"))
                .map_err(err)?
                .execute(params![scope.account.as_str(), scope.region, identity_id])
                .map_err(err)?;
        }
        Ok(())
    }

    fn sync_identities_of_pool(
        &mut self,
        scope: &Scope,
        pool_id: &str,
        after: Option<&str>,
        n: usize,
    ) -> StoreResult<Vec<String>> {
        self.listing(
            "SELECT identity_id FROM sync_identities WHERE account = ?1 AND region = ?2 AND pool_id = ?3 \
             AND identity_id > ?4 ORDER BY identity_id LIMIT ?5",
            params![scope.account.as_str(), scope.region, pool_id, after.unwrap_or("")],
            n,
            |r| r.get(0),
        )
    }

    fn claim_sync_session(&mut self, scope: &Scope, session: &str, expires: i64, now: i64) -> StoreResult<bool> {
        self.tx
            .prepare_cached("DELETE FROM sync_sessions WHERE account = ?1 AND region = ?2 AND expires < ?3")
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, now])
            .map_err(err)?;
        let n = self
            .tx
            .prepare_cached(
                "INSERT INTO sync_sessions (account, region, session, expires) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (account, region, session) DO NOTHING",
            )
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, session, expires])
            .map_err(err)?;
        Ok(n == 1)
    }

    fn put_capacity(&mut self, owner: &Scope, row: &CapacityRow) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO capacity (account, region, id, match_key, open, usable, end_at, total) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (account, region, id) DO UPDATE SET match_key = excluded.match_key, \
                 open = excluded.open, usable = excluded.usable, end_at = excluded.end_at, total = excluded.total",
            )
            .map_err(err)?
            .execute(params![
                owner.account.as_str(),
                owner.region,
                row.id,
                row.match_key,
                row.open,
                row.usable,
                row.end_at,
                row.total
            ])
            .map(|_| ())
            .map_err(err)
    }

    fn delete_capacity(&mut self, owner: &Scope, id: &str) -> StoreResult<bool> {
        self.tx
            .prepare_cached("DELETE FROM capacity_usage WHERE account = ?1 AND region = ?2 AND reservation = ?3")
            .map_err(err)?
            .execute(params![owner.account.as_str(), owner.region, id])
            .map_err(err)?;
        self.tx
            .prepare_cached("DELETE FROM capacity WHERE account = ?1 AND region = ?2 AND id = ?3")
            .map_err(err)?
            .execute(params![owner.account.as_str(), owner.region, id])
            .map(|n| n > 0)
            .map_err(err)
    }

    fn occupy_capacity(&mut self, owner: &Scope, id: &str, instance: &str, account: &str) -> StoreResult<()> {
        if self.capacity(owner, id)?.is_none() {
            return Err(StoreError::Conflict(format!("no capacity reservation {id}")));
        }
        self.tx
            .prepare_cached(
                "INSERT INTO capacity_usage (account, region, reservation, instance, user_account) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(err)?
            .execute(params![owner.account.as_str(), owner.region, id, instance, account])
            .map(|_| ())
            .map_err(err)
    }

    fn release_capacity(&mut self, owner: &Scope, id: &str, instance: &str) -> StoreResult<bool> {
        self.tx
            .prepare_cached(
                "DELETE FROM capacity_usage WHERE account = ?1 AND region = ?2 AND reservation = ?3 AND instance = ?4",
            )
            .map_err(err)?
            .execute(params![owner.account.as_str(), owner.region, id, instance])
            .map(|n| n > 0)
            .map_err(err)
    }

    fn put_shared(&mut self, consumer: &Scope, row: &SharedRow) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO shared_resources (account, region, resource, share, kind, owner) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                 ON CONFLICT (account, region, resource, share) DO UPDATE SET kind = excluded.kind, owner = excluded.owner",
            )
            .map_err(err)?
            .execute(params![consumer.account.as_str(), consumer.region, row.resource, row.share, row.kind, row.owner])
            .map(|_| ())
            .map_err(err)
    }

    fn delete_shared(&mut self, consumer: &Scope, resource: &str, share: &str) -> StoreResult<bool> {
        self.tx
            .prepare_cached(
                "DELETE FROM shared_resources WHERE account = ?1 AND region = ?2 AND resource = ?3 AND share = ?4",
            )
            .map_err(err)?
            .execute(params![consumer.account.as_str(), consumer.region, resource, share])
            .map(|n| n > 0)
            .map_err(err)
    }

    fn put_expiry(&mut self, scope: &Scope, kind: &str, id: &str, at: i64) -> StoreResult<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO expiring (account, region, kind, at, id) VALUES (?1, ?2, ?3, ?4, ?5) \
                 ON CONFLICT (account, region, kind, at, id) DO NOTHING",
            )
            .map_err(err)?
            .execute(params![scope.account.as_str(), scope.region, kind, at, id])
            .map(|_| ())
            .map_err(err)
    }

    fn take_expired(&mut self, scope: &Scope, kind: &str, now: i64, n: usize) -> StoreResult<Vec<String>> {
        let due: Vec<(i64, String)> = self.listing(
            "SELECT at, id FROM expiring WHERE account = ?1 AND region = ?2 AND kind = ?3 AND at <= ?4 \
             ORDER BY at, id LIMIT ?5",
            params![scope.account.as_str(), scope.region, kind, now],
            n,
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        for (at, id) in &due {
            self.tx
                .prepare_cached(
                    "DELETE FROM expiring WHERE account = ?1 AND region = ?2 AND kind = ?3 AND at = ?4 AND id = ?5",
                )
                .map_err(err)?
                .execute(params![scope.account.as_str(), scope.region, kind, at, id])
                .map_err(err)?;
        }
        Ok(due.into_iter().map(|(_, id)| id).collect())
    }

    fn reset(&mut self) -> StoreResult<()> {
        self.tx
            .execute_batch("DELETE FROM resources; DELETE FROM tags; DELETE FROM aliases; DELETE FROM idempotency; DELETE FROM scopes; DELETE FROM ip_slots; DELETE FROM resource_cidrs; DELETE FROM sync_datasets; DELETE FROM sync_records; DELETE FROM sync_identities; DELETE FROM sync_sessions; DELETE FROM refs; DELETE FROM capacity; DELETE FROM capacity_usage; DELETE FROM capacity_accounts; DELETE FROM shared_resources; DELETE FROM expiring;")
            .map_err(err)
    }
}

fn capacity_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CapacityRow> {
    Ok(CapacityRow {
        id: r.get(0)?,
        match_key: r.get(1)?,
        open: r.get(2)?,
        usable: r.get(3)?,
        end_at: r.get(4)?,
        total: r.get::<_, i64>(5)? as u32,
        used: r.get::<_, i64>(6)? as u32,
    })
}

fn shared_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SharedRow> {
    Ok(SharedRow { resource: r.get(0)?, kind: r.get(1)?, owner: r.get(2)?, share: r.get(3)? })
}

const DATASET_COLUMNS: &str = "pool_id, identity_id, name, created, last_modified, last_modified_by, sync_count, \
                               data_storage, num_records";

fn dataset_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Dataset> {
    Ok(Dataset {
        pool_id: r.get(0)?,
        identity_id: r.get(1)?,
        name: r.get(2)?,
        created: Timestamp(r.get(3)?),
        last_modified: Timestamp(r.get(4)?),
        last_modified_by: r.get(5)?,
        sync_count: r.get::<_, i64>(6)? as u64,
        data_storage: r.get::<_, i64>(7)? as u64,
        num_records: r.get::<_, i64>(8)? as u64,
    })
}

const RECORD_COLUMNS: &str = "key, value, sync_count, last_modified, last_modified_by, device_last_modified";

fn record_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SyncRecord> {
    Ok(SyncRecord {
        key: r.get(0)?,
        value: r.get(1)?,
        sync_count: r.get::<_, i64>(2)? as u64,
        last_modified: Timestamp(r.get(3)?),
        last_modified_by: r.get(4)?,
        device_last_modified: r.get::<_, Option<i64>>(5)?.map(Timestamp),
    })
}
