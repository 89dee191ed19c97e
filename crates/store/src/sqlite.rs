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

use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags, params};

use reservoir_domain::vpc::Vpc;

use crate::sql::{Conn, P, Row, SqlTx, scope_of};
use crate::{Abort, ReadTx, Store, StoreError, StoreKind, StoreResult, Tx, vpc_cidrs};

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
        let mut c = SqliteConn(&conn);
        let mut t = SqlTx::new(&mut c, None);
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
        let mut c = SqliteConn(&conn);
        let mut t = SqlTx::new(&mut c, None);
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
        let mut c = SqliteConn(&conn);
        let mut t = SqlTx::new(&mut c, Some(max_rows));
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

/// A connection inside an open transaction, for [`SqlTx`]: statements are prepared once
/// per connection (rusqlite's statement cache).
struct SqliteConn<'c>(&'c Connection);

impl rusqlite::ToSql for P<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(match *self {
            P::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            P::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(i)),
            P::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            P::Bytes(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
        })
    }
}

struct SqliteRow<'a, 'b>(&'a rusqlite::Row<'b>);

impl Row for SqliteRow<'_, '_> {
    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        self.0.get(i).map_err(err)
    }
    fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        self.0.get(i).map_err(err)
    }
    fn bytes(&self, i: usize) -> StoreResult<Vec<u8>> {
        self.0.get(i).map_err(err)
    }
}

impl Conn for SqliteConn<'_> {
    fn query(
        &mut self,
        sql: &str,
        params: &[P<'_>],
        each: &mut dyn FnMut(&dyn Row) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let mut stmt = self.0.prepare_cached(sql).map_err(err)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params.iter())).map_err(err)?;
        while let Some(row) = rows.next().map_err(err)? {
            each(&SqliteRow(row))?;
        }
        Ok(())
    }

    fn execute(&mut self, sql: &str, params: &[P<'_>]) -> StoreResult<u64> {
        self.0
            .prepare_cached(sql)
            .map_err(err)?
            .execute(rusqlite::params_from_iter(params.iter()))
            .map(|n| n as u64)
            .map_err(err)
    }
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
    let mut conn = SqliteConn(c);
    let mut tx = SqlTx::new(&mut conn, None);
    for (account, region, body) in vpcs {
        let scope = scope_of(account, region)?;
        let v: Vpc = serde_json::from_str(&body).map_err(|e| StoreError::Corrupt(format!("vpc: {e}")))?;
        for row in vpc_cidrs(&v) {
            tx.put_resource_cidr(&scope, &row)?;
        }
    }
    Ok(())
}
