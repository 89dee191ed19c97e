//! PostgreSQL backend: one database that several Reservoir processes share.
//!
//! * The queries are the ones every backend runs ([`crate::sql`]), turned into
//!   PostgreSQL's dialect once per statement and prepared once per connection.
//! * Write transactions are SERIALIZABLE: PostgreSQL lets them run at once and refuses
//!   (SQLSTATE 40001) any that could not have run one after another. A refused
//!   transaction is run again from the start — the closure re-reads what it decided on —
//!   up to [`ATTEMPTS`] times, after a random pause that grows with each attempt (full
//!   jitter, so that writers which collided do not collide again in step). Every write
//!   first takes one advisory lock, before its snapshot: shared for a first attempt (they
//!   run side by side), exclusive for a re-run, which therefore runs with no other writer
//!   on any node and commits; first attempts that arrive meanwhile wait behind it. Under
//!   contention a transaction is so tried at most twice, and never starved. Reads are
//!   REPEATABLE READ READ ONLY: one snapshot, never refused, never blocking writers.
//! * The schema refuses what must never happen whatever the transactions decided:
//!   overlapping address blocks (an exclusion constraint), an over-committed capacity
//!   reservation (a CHECK kept true by triggers), a second holder of a key.
//! * Nothing is kept in the process but connections and their prepared statements, so
//!   any number of processes may serve the same database.
//! * Migrations in `migrations/postgres/` run at open, under an advisory lock, so nodes
//!   starting together migrate once.

use std::collections::HashMap;
use std::error::Error as StdError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use postgres::error::SqlState;
use postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, NoTls, Statement};

use crate::sql::{Conn, P, Row, SqlTx, postgres_dialect};
use crate::{Abort, ReadTx, Store, StoreError, StoreKind, StoreResult, Tx};

/// (version, SQL) in order. A new database goes straight to version 7 (the SQLite
/// schema's first seven versions in one file); later versions come one file each, as
/// for SQLite.
const MIGRATIONS: &[(i64, &str)] = &[(7, include_str!("../migrations/postgres/0007_schema.sql"))];

/// How many times a write transaction is tried before the caller is told to retry.
pub const ATTEMPTS: u32 = 20;
/// The first retry's pause is up to this long; each later one up to twice the last.
const BACKOFF_FIRST: Duration = Duration::from_millis(2);
/// No pause is longer than this.
const BACKOFF_CAP: Duration = Duration::from_millis(250);
/// A constraint violation (a row another transaction committed first) is retried this
/// many times: the next attempt's snapshot sees that row and decides accordingly.
const CONFLICT_ATTEMPTS: u32 = 3;
/// How long a transaction waits for a free connection.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections each process opens at most, unless configured.
pub const DEFAULT_POOL_SIZE: usize = 8;
/// The writers' advisory lock: shared by first attempts, exclusive for re-runs (see
/// [`PostgresStore::write`]).
const WRITERS_LOCK: i64 = 0x5265_7365_7276_6f72; // "Reservor"
/// The advisory lock that migrations hold.
const MIGRATION_LOCK: i64 = 0x5265_7365_7276_6f69; // "Reservoi"

fn err(e: &postgres::Error) -> StoreError {
    let text = e.as_db_error().map_or_else(|| e.to_string(), |d| format!("{}: {}", d.code().code(), d.message()));
    match e.code() {
        Some(c) if c.code().starts_with("23") => StoreError::Conflict(text),
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED => {
            StoreError::Unavailable(text)
        }
        Some(c) if c.code().starts_with("08") || c.code().starts_with("57") || c.code().starts_with("53") => {
            StoreError::Unavailable(text)
        }
        Some(_) => StoreError::Other(text),
        None => StoreError::Unavailable(text),
    }
}

/// What a failed statement means for its transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Failure {
    /// Serialization failure or deadlock: run the transaction again.
    Retry,
    /// A constraint refused a row: maybe another transaction's, committed first.
    Constraint,
    /// Anything else.
    Other,
}

fn failure(e: &postgres::Error) -> Failure {
    match e.code() {
        Some(c) if *c == SqlState::T_R_SERIALIZATION_FAILURE || *c == SqlState::T_R_DEADLOCK_DETECTED => Failure::Retry,
        Some(c) if c.code().starts_with("23") => Failure::Constraint,
        _ => Failure::Other,
    }
}

/// One connection and the statements prepared on it.
struct PgConnection {
    client: Client,
    statements: HashMap<String, Statement>,
}

impl PgConnection {
    fn statement(&mut self, sql: &str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.statements.get(sql) {
            return Ok(s.clone());
        }
        let s = self.client.prepare(&postgres_dialect(sql))?;
        self.statements.insert(sql.to_string(), s.clone());
        Ok(s)
    }
}

struct Pool {
    idle: Vec<PgConnection>,
    /// Connections open, idle or in use.
    open: usize,
}

pub struct PostgresStore {
    config: postgres::Config,
    size: usize,
    pool: Mutex<Pool>,
    freed: Condvar,
    closed: AtomicBool,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("size", &self.size).finish_non_exhaustive()
    }
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://user[:password]@host[:port]/database`),
    /// runs the migrations it lacks, and keeps up to `pool_size` connections.
    pub fn open(url: &str, pool_size: usize) -> StoreResult<PostgresStore> {
        let mut config: postgres::Config =
            url.parse().map_err(|e| StoreError::Other(format!("the PostgreSQL address {url:?}: {e}")))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        if config.get_application_name().is_none() {
            config.application_name("reservoir");
        }
        let store = PostgresStore {
            config,
            size: pool_size.max(1),
            pool: Mutex::new(Pool { idle: Vec::new(), open: 0 }),
            freed: Condvar::new(),
            closed: AtomicBool::new(false),
        };
        let mut first = store.connect()?;
        migrate(&mut first.client)?;
        let mut pool = store.pool.lock().unwrap_or_else(|p| p.into_inner());
        pool.open = 1;
        pool.idle.push(first);
        drop(pool);
        Ok(store)
    }

    fn connect(&self) -> StoreResult<PgConnection> {
        let client = self.config.connect(NoTls).map_err(|e| StoreError::Unavailable(format!("connecting: {e}")))?;
        Ok(PgConnection { client, statements: HashMap::new() })
    }

    /// A connection: an idle one, a new one while the pool has room, else the next one
    /// given back (waiting at most [`CHECKOUT_TIMEOUT`]).
    fn checkout(&self) -> StoreResult<PgConnection> {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            if self.closed.load(Ordering::Acquire) {
                return Err(StoreError::Unavailable("the store is closed".into()));
            }
            if let Some(c) = pool.idle.pop() {
                return Ok(c);
            }
            if pool.open < self.size {
                pool.open += 1;
                drop(pool);
                return self.connect().inspect_err(|_| {
                    self.pool.lock().unwrap_or_else(|p| p.into_inner()).open -= 1;
                    self.freed.notify_one();
                });
            }
            let (p, timeout) = self.freed.wait_timeout(pool, CHECKOUT_TIMEOUT).unwrap_or_else(|p| p.into_inner());
            pool = p;
            if timeout.timed_out() && pool.idle.is_empty() {
                return Err(StoreError::Unavailable("no database connection was free in time".into()));
            }
        }
    }

    /// Gives a connection back, or forgets it if it broke.
    fn checkin(&self, c: PgConnection) {
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        if c.client.is_closed() || self.closed.load(Ordering::Acquire) {
            pool.open -= 1;
        } else {
            pool.idle.push(c);
        }
        drop(pool);
        self.freed.notify_one();
    }

    /// Runs one attempt of a transaction on `c`: what the closure answered and the first
    /// statement failure it met.
    fn attempt(
        c: &mut PgConnection,
        begin: &str,
        run: &mut dyn FnMut(&mut SqlTx<'_>) -> Result<(), Abort>,
    ) -> StoreResult<(Result<(), Abort>, Option<Failure>)> {
        c.client.batch_execute(begin).map_err(|e| err(&e))?;
        let mut conn = PgTx { c, failed: None };
        let mut t = SqlTx::new(&mut conn, None);
        let r = run(&mut t);
        Ok((r, conn.failed))
    }
}

/// Runs the migrations the database lacks, in one transaction under an advisory lock.
fn migrate(client: &mut Client) -> StoreResult<()> {
    let newest = MIGRATIONS.last().map(|(v, _)| *v).unwrap_or(0);
    let step = (|| -> Result<(), StoreError> {
        let ctx = |e: postgres::Error| StoreError::Other(format!("migrating the PostgreSQL schema: {}", err(&e)));
        client
            .batch_execute(&format!(
                "BEGIN; SELECT pg_advisory_xact_lock({MIGRATION_LOCK}); \
                 CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, applied BIGINT NOT NULL);"
            ))
            .map_err(ctx)?;
        let current: i64 =
            client.query_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations", &[]).map_err(ctx)?.get(0);
        if current > newest {
            return Err(StoreError::Other(format!(
                "the database has schema version {current}, newer than this Reservoir knows ({newest}); use a newer \
                 Reservoir"
            )));
        }
        for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
            client.batch_execute(sql).map_err(ctx)?;
            client
                .execute(
                    "INSERT INTO schema_migrations (version, applied) VALUES ($1, EXTRACT(EPOCH FROM now())::bigint)",
                    &[version],
                )
                .map_err(ctx)?;
        }
        client.batch_execute("COMMIT").map_err(ctx)
    })();
    if step.is_err() {
        let _ = client.batch_execute("ROLLBACK");
    }
    step
}

/// A pause before attempt `attempt` (1 for the first retry): uniformly random up to
/// `BACKOFF_FIRST × 2^(attempt−1)`, at most [`BACKOFF_CAP`].
fn backoff(attempt: u32) -> Duration {
    let ceiling = BACKOFF_FIRST.saturating_mul(1 << attempt.saturating_sub(1).min(16)).min(BACKOFF_CAP);
    let r = getrandom::u64().unwrap_or(0x9e37_79b9_7f4a_7c15);
    Duration::from_nanos(r % (ceiling.as_nanos() as u64).max(1))
}

impl Store for PostgresStore {
    fn kind(&self) -> StoreKind {
        StoreKind::Postgres
    }

    fn write(&self, f: &mut dyn FnMut(&mut dyn Tx) -> Result<(), Abort>) -> Result<(), Abort> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            // The writers' lock, taken before the transaction's snapshot: shared by first
            // attempts, which run side by side; held alone by a re-run, which therefore
            // meets no concurrent writer and commits (new first attempts queue behind it).
            let (lock, unlock) = if attempt == 1 {
                ("pg_advisory_lock_shared", "pg_advisory_unlock_shared")
            } else {
                ("pg_advisory_lock", "pg_advisory_unlock")
            };
            let mut c = self.checkout()?;
            // Its own statement: in one batch with BEGIN it would be the transaction's
            // first query, and take the snapshot before waiting.
            if let Err(e) = c.client.batch_execute(&format!("SELECT {lock}({WRITERS_LOCK})")) {
                let _ = c.client.batch_execute("SELECT pg_advisory_unlock_all()");
                self.checkin(c);
                return Err(Abort::Store(err(&e)));
            }
            let outcome = Self::attempt(&mut c, "BEGIN ISOLATION LEVEL SERIALIZABLE", &mut |t| f(t));
            let (r, failed) = match outcome {
                Ok(o) => o,
                Err(e) => {
                    let _ = c.client.batch_execute("ROLLBACK; SELECT pg_advisory_unlock_all()");
                    self.checkin(c);
                    return Err(Abort::Store(e));
                }
            };
            // End the transaction and give the lock back in one round trip. If COMMIT
            // fails the batch stops there (the transaction is over): the lock is given
            // back on its own.
            let end = match (failed, &r) {
                (None, Ok(())) => c.client.batch_execute(&format!("COMMIT; SELECT {unlock}({WRITERS_LOCK})")),
                _ => c.client.batch_execute(&format!("ROLLBACK; SELECT {unlock}({WRITERS_LOCK})")),
            };
            if end.is_err() {
                let _ = c.client.batch_execute("ROLLBACK; SELECT pg_advisory_unlock_all()");
            }
            self.checkin(c);
            // What to do with the attempt: it committed, or give the closure's answer, or retry.
            let retry = match (failed, &r) {
                (None, Ok(())) => match end {
                    Ok(()) => return Ok(()),
                    Err(e) if failure(&e) == Failure::Retry => true,
                    Err(e) => return Err(Abort::Store(err(&e))),
                },
                (None, Err(_)) => false,
                (Some(Failure::Retry), _) => true,
                (Some(Failure::Constraint), _) => attempt < CONFLICT_ATTEMPTS,
                (Some(Failure::Other), _) => false,
            };
            if retry && attempt < ATTEMPTS {
                std::thread::sleep(backoff(attempt));
                continue;
            }
            return match (failed, r) {
                (Some(Failure::Retry), _) | (None, Ok(())) => Err(Abort::Store(StoreError::Unavailable(format!(
                    "the transaction conflicted with others {attempt} times; try again"
                )))),
                // A statement failed (the transaction is void) but the closure went on.
                (Some(Failure::Constraint), Ok(())) => {
                    Err(Abort::Store(StoreError::Conflict("a write was refused by the schema".into())))
                }
                (Some(Failure::Other), Ok(())) => {
                    Err(Abort::Store(StoreError::Other("a statement failed inside the transaction".into())))
                }
                (_, Err(a)) => Err(a),
            };
        }
    }

    fn read(&self, f: &mut dyn FnMut(&mut dyn ReadTx) -> Result<(), Abort>) -> Result<(), Abort> {
        let mut c = self.checkout()?;
        let outcome = Self::attempt(&mut c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", &mut |t| f(t));
        let r = match outcome {
            Ok((r, _)) => r.and_then(|()| c.client.batch_execute("COMMIT").map_err(|e| Abort::Store(err(&e)))),
            Err(e) => Err(Abort::Store(e)),
        };
        if r.is_err() {
            let _ = c.client.batch_execute("ROLLBACK");
        }
        self.checkin(c);
        r
    }

    /// One statement outside an explicit transaction (its own snapshot): one round trip.
    fn read_meta(&self, key: &str) -> StoreResult<Option<String>> {
        const SQL: &str = "SELECT value FROM meta WHERE key = ?1";
        let mut c = self.checkout()?;
        let r = c.statement(SQL).and_then(|s| c.client.query_opt(&s, &[&P::Text(key)]));
        self.checkin(c);
        let row = r.map_err(|e| err(&e))?;
        row.map(|r| PgRow(&r).text(0)).transpose()
    }

    fn close(&self) -> StoreResult<()> {
        self.closed.store(true, Ordering::Release);
        let mut pool = self.pool.lock().unwrap_or_else(|p| p.into_inner());
        let n = pool.idle.len();
        pool.idle.clear();
        pool.open -= n;
        drop(pool);
        self.freed.notify_all();
        Ok(())
    }
}

impl Drop for PostgresStore {
    /// Connections close on a thread of their own: each client runs a runtime of its own,
    /// which cannot be dropped on a thread that drives async tasks.
    fn drop(&mut self) {
        let idle = std::mem::take(&mut self.pool.get_mut().unwrap_or_else(|p| p.into_inner()).idle);
        if !idle.is_empty() {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

/// A connection inside an open transaction, remembering the first statement that failed
/// (after which PostgreSQL refuses every statement of the transaction).
struct PgTx<'c> {
    c: &'c mut PgConnection,
    failed: Option<Failure>,
}

impl PgTx<'_> {
    fn note(&mut self, e: postgres::Error) -> StoreError {
        self.failed.get_or_insert(failure(&e));
        err(&e)
    }

    fn params<'a>(params: &'a [P<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
        params.iter().map(|p| p as &(dyn ToSql + Sync)).collect()
    }
}

impl Conn for PgTx<'_> {
    fn query(
        &mut self,
        sql: &str,
        params: &[P<'_>],
        each: &mut dyn FnMut(&dyn Row) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let stmt = self.c.statement(sql).map_err(|e| self.note(e))?;
        let rows = self.c.client.query(&stmt, &Self::params(params)).map_err(|e| self.note(e))?;
        for row in &rows {
            each(&PgRow(row))?;
        }
        Ok(())
    }

    fn execute(&mut self, sql: &str, params: &[P<'_>]) -> StoreResult<u64> {
        let stmt = self.c.statement(sql).map_err(|e| self.note(e))?;
        self.c.client.execute(&stmt, &Self::params(params)).map_err(|e| self.note(e))
    }

    fn after_import(&mut self) -> StoreResult<()> {
        self.c
            .client
            .batch_execute(
                "SELECT setval(pg_get_serial_sequence('resources', 'seq'), COALESCE(MAX(seq), 0) + 1, false) \
                 FROM resources",
            )
            .map_err(|e| self.note(e))
    }
}

impl ToSql for P<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match *self {
            P::Null => Ok(IsNull::Yes),
            P::Int(i) => match *ty {
                Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
                Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
                Type::BOOL => (i != 0).to_sql(ty, out),
                _ => i.to_sql(ty, out),
            },
            P::Text(t) => match *ty {
                // JSON's binary form is its text; JSONB's is a version byte and the text.
                Type::JSON => {
                    out.put_slice(t.as_bytes());
                    Ok(IsNull::No)
                }
                Type::JSONB => {
                    out.put_u8(1);
                    out.put_slice(t.as_bytes());
                    Ok(IsNull::No)
                }
                _ => t.to_sql(ty, out),
            },
            P::Bytes(b) => b.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

struct PgRow<'a>(&'a postgres::Row);

impl Row for PgRow<'_> {
    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>> {
        let ty = self.0.columns().get(i).map(|c| c.type_().clone());
        let r = match ty {
            Some(Type::INT4) => self.0.try_get::<_, Option<i32>>(i).map(|v| v.map(i64::from)),
            Some(Type::INT2) => self.0.try_get::<_, Option<i16>>(i).map(|v| v.map(i64::from)),
            Some(Type::BOOL) => self.0.try_get::<_, Option<bool>>(i).map(|v| v.map(i64::from)),
            _ => self.0.try_get::<_, Option<i64>>(i),
        };
        r.map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
    }

    fn opt_text(&self, i: usize) -> StoreResult<Option<String>> {
        self.0.try_get(i).map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
    }

    fn bytes(&self, i: usize) -> StoreResult<Vec<u8>> {
        self.0.try_get(i).map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
    }
}

/// The environment variable that points tests at a PostgreSQL server's maintenance
/// database (`postgres://postgres@127.0.0.1:5432/postgres`): tests that find it make
/// their own databases there.
pub const TEST_URL_VAR: &str = "RESERVOIR_TEST_PG_URL";

/// A database made for one test and dropped (with its connections) when this is dropped.
#[derive(Debug)]
pub struct ScratchDatabase {
    admin: postgres::Config,
    name: String,
    url: String,
}

impl ScratchDatabase {
    /// A new empty database on the server of `admin_url`, which must name a database the
    /// user may connect to and create databases from.
    pub fn create(admin_url: &str) -> StoreResult<ScratchDatabase> {
        let admin: postgres::Config = admin_url.parse().map_err(|e| StoreError::Other(format!("{admin_url}: {e}")))?;
        let mut client = admin.connect(NoTls).map_err(|e| StoreError::Unavailable(format!("{admin_url}: {e}")))?;
        let suffix = getrandom::u64().map_err(|e| StoreError::Other(e.to_string()))?;
        let name = format!("reservoir_test_{}_{suffix:016x}", std::process::id());
        client.batch_execute(&format!("CREATE DATABASE {name}")).map_err(|e| err(&e))?;
        let base = admin_url.split('?').next().unwrap_or(admin_url);
        let url = match base.rfind('/') {
            Some(i) if i > base.find("//").map_or(0, |j| j + 1) => format!("{}/{name}", &base[..i]),
            _ => format!("{base}/{name}"),
        };
        Ok(ScratchDatabase { admin, name, url })
    }

    /// A database on the server [`TEST_URL_VAR`] names, or `None` when it is unset.
    pub fn from_env() -> Option<ScratchDatabase> {
        let admin = std::env::var(TEST_URL_VAR).ok().filter(|v| !v.is_empty())?;
        Some(ScratchDatabase::create(&admin).unwrap_or_else(|e| panic!("{TEST_URL_VAR}={admin}: {e}")))
    }

    /// The database's address.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    /// On a thread of its own: the client runs a runtime of its own, which cannot start
    /// on a thread that drives async tasks (a test's).
    fn drop(&mut self) {
        let (admin, name) = (&self.admin, &self.name);
        std::thread::scope(|s| {
            s.spawn(|| {
                if let Ok(mut c) = admin.connect(NoTls) {
                    let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
                }
            });
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_stays_under_its_cap() {
        for attempt in 1..30 {
            let ceiling = BACKOFF_FIRST.saturating_mul(1 << (attempt - 1).min(16)).min(BACKOFF_CAP);
            for _ in 0..50 {
                assert!(backoff(attempt) < ceiling.max(Duration::from_nanos(1)));
            }
        }
        // Jittered: not every pause of a late attempt is the same.
        let pauses: std::collections::BTreeSet<_> = (0..20).map(|_| backoff(8)).collect();
        assert!(pauses.len() > 1);
    }
}
