//! The store's queries, once, for every SQL backend.
//!
//! [`SqlTx`] implements [`ReadTx`] and [`Tx`] over a [`Conn`]: a connection inside an
//! open transaction that runs a statement with [`P`] parameters and hands back rows. The
//! statements are written once, in the SQL SQLite and PostgreSQL share (row values,
//! `ON CONFLICT`, partial indexes), with `?N` parameters; a backend's [`Conn`] turns
//! them into its dialect (PostgreSQL: `$N`, no `INDEXED BY` hints, `json_array_elements_text`
//! for `json_each`; see [`postgres_dialect`]). So a new query is written in one place and
//! every backend's conformance suite runs it.

use reservoir_domain::account::{AccountId, Scope};
use reservoir_domain::cognito_sync::{Dataset, IdentityUsage, Record as SyncRecord};
use reservoir_domain::ipam::ResourceCidr;
use reservoir_domain::space::{Allocation, Block, Family, Slot};
use reservoir_domain::time::Timestamp;

use crate::{CapacityRow, IdempotencyRow, ReadTx, Record, Reference, SharedRow, StoreError, StoreResult, TagRow, Tx};

/// A statement parameter.
#[derive(Debug, Clone, Copy)]
pub enum P<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Bytes(&'a [u8]),
}

impl<'a> From<&'a str> for P<'a> {
    fn from(v: &'a str) -> P<'a> {
        P::Text(v)
    }
}
impl<'a> From<&'a String> for P<'a> {
    fn from(v: &'a String) -> P<'a> {
        P::Text(v)
    }
}
impl<'a> From<Option<&'a str>> for P<'a> {
    fn from(v: Option<&'a str>) -> P<'a> {
        v.map_or(P::Null, P::Text)
    }
}
impl<'a> From<&'a Option<String>> for P<'a> {
    fn from(v: &'a Option<String>) -> P<'a> {
        v.as_deref().map_or(P::Null, P::Text)
    }
}
impl From<i64> for P<'_> {
    fn from(v: i64) -> Self {
        P::Int(v)
    }
}
impl From<Option<i64>> for P<'_> {
    fn from(v: Option<i64>) -> Self {
        v.map_or(P::Null, P::Int)
    }
}
impl From<u8> for P<'_> {
    fn from(v: u8) -> Self {
        P::Int(i64::from(v))
    }
}
impl From<u32> for P<'_> {
    fn from(v: u32) -> Self {
        P::Int(i64::from(v))
    }
}
impl From<u64> for P<'_> {
    fn from(v: u64) -> Self {
        P::Int(i64::try_from(v).unwrap_or(i64::MAX))
    }
}
impl From<bool> for P<'_> {
    fn from(v: bool) -> Self {
        P::Int(i64::from(v))
    }
}
impl<'a> From<&'a [u8; 16]> for P<'a> {
    fn from(v: &'a [u8; 16]) -> P<'a> {
        P::Bytes(v)
    }
}

/// `[p1, p2, …]` as `[P; N]`.
macro_rules! p {
    ($($v:expr),* $(,)?) => { [$(P::from($v)),*] };
}

/// A result row, read by column index.
pub trait Row {
    fn opt_int(&self, i: usize) -> StoreResult<Option<i64>>;
    fn opt_text(&self, i: usize) -> StoreResult<Option<String>>;
    fn bytes(&self, i: usize) -> StoreResult<Vec<u8>>;

    fn int(&self, i: usize) -> StoreResult<i64> {
        self.opt_int(i)?.ok_or_else(|| StoreError::Corrupt(format!("column {i} is NULL")))
    }
    fn text(&self, i: usize) -> StoreResult<String> {
        self.opt_text(i)?.ok_or_else(|| StoreError::Corrupt(format!("column {i} is NULL")))
    }
}

/// A connection inside an open transaction.
pub trait Conn {
    /// Runs a query, calling `each` for every row in order.
    fn query(
        &mut self,
        sql: &str,
        params: &[P<'_>],
        each: &mut dyn FnMut(&dyn Row) -> StoreResult<()>,
    ) -> StoreResult<()>;
    /// Runs a statement; returns the number of rows it changed.
    fn execute(&mut self, sql: &str, params: &[P<'_>]) -> StoreResult<u64>;
    /// After an import wrote rows with their own `seq`: new rows must come after them.
    /// (SQLite's AUTOINCREMENT follows explicit values by itself.)
    fn after_import(&mut self) -> StoreResult<()> {
        Ok(())
    }
}

/// The statements' text for PostgreSQL: `?N` becomes `$N`, SQLite's `INDEXED BY` hints go
/// (PostgreSQL's planner has statistics), `json_each` becomes `json_array_elements_text`.
pub fn postgres_dialect(sql: &str) -> String {
    let sql = sql.replace("json_each(", "json_array_elements_text(");
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql.as_str();
    while let Some(i) = rest.find("INDEXED BY ") {
        out.push_str(&rest[..i]);
        let after = &rest[i + "INDEXED BY ".len()..];
        let end = after.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(after.len());
        rest = after[end..].trim_start();
    }
    out.push_str(rest);
    let mut pg = String::with_capacity(out.len());
    let mut chars = out.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            pg.push('$');
        } else {
            pg.push(c);
        }
    }
    pg
}

/// What a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Int,
    Text,
    /// A 16-byte address (hexadecimal in exports).
    Bytes,
}

/// A table that holds state, as both schemas define it: its columns in order, the key
/// its rows are listed by, and what the schema itself derives (not loaded by an import:
/// triggers make it again from the rows it counts).
#[derive(Debug)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [(&'static str, ColumnType)],
    pub key: &'static str,
    /// Columns an import leaves to the schema.
    pub derived: &'static [&'static str],
    /// The whole table is made by triggers.
    pub derived_table: bool,
}

use ColumnType::{Bytes as B, Int as I, Text as T};

const fn table(name: &'static str, columns: &'static [(&'static str, ColumnType)], key: &'static str) -> Table {
    Table { name, columns, key, derived: &[], derived_table: false }
}

/// Every table of per-account state, in an order that loads (a table before the ones
/// whose triggers update it). `meta` (server-wide settings) is apart. The conformance
/// suite checks this list against each backend's schema, column for column.
pub const TABLES: &[Table] = &[
    table(
        "resources",
        &[("seq", I), ("account", T), ("region", T), ("kind", T), ("id", T), ("parent", T), ("body", T)],
        "seq",
    ),
    table(
        "tags",
        &[("account", T), ("region", T), ("resource_id", T), ("resource_type", T), ("key", T), ("value", T)],
        "account, region, resource_id, key",
    ),
    table(
        "aliases",
        &[("account", T), ("region", T), ("namespace", T), ("key", T), ("target", T)],
        "account, region, namespace, key",
    ),
    table(
        "idempotency",
        &[
            ("account", T),
            ("region", T),
            ("operation", T),
            ("token", T),
            ("fingerprint", T),
            ("result", T),
            ("created", I),
        ],
        "account, region, operation, token",
    ),
    table("scopes", &[("account", T), ("region", T), ("created", I), ("version", I)], "account, region"),
    table(
        "ip_slots",
        &[
            ("account", T),
            ("region", T),
            ("space", T),
            ("family", I),
            ("start", B),
            ("last", B),
            ("prefix", I),
            ("root_prefix", I),
            ("alloc_id", T),
            ("resource_type", T),
            ("resource_id", T),
            ("resource_owner", T),
            ("resource_region", T),
            ("description", T),
            ("created", I),
        ],
        "account, region, space, family, start",
    ),
    table(
        "resource_cidrs",
        &[
            ("account", T),
            ("region", T),
            ("family", I),
            ("start", B),
            ("prefix", I),
            ("resource_id", T),
            ("resource_type", T),
            ("vpc_id", T),
            ("pool_id", T),
        ],
        "account, region, family, start, prefix, resource_id",
    ),
    table(
        "sync_datasets",
        &[
            ("account", T),
            ("region", T),
            ("identity_id", T),
            ("name", T),
            ("pool_id", T),
            ("created", I),
            ("last_modified", I),
            ("last_modified_by", T),
            ("sync_count", I),
            ("data_storage", I),
            ("num_records", I),
        ],
        "account, region, identity_id, name",
    ),
    table(
        "sync_records",
        &[
            ("account", T),
            ("region", T),
            ("identity_id", T),
            ("dataset", T),
            ("key", T),
            ("value", T),
            ("sync_count", I),
            ("last_modified", I),
            ("last_modified_by", T),
            ("device_last_modified", I),
        ],
        "account, region, identity_id, dataset, key",
    ),
    table(
        "sync_identities",
        &[
            ("account", T),
            ("region", T),
            ("identity_id", T),
            ("pool_id", T),
            ("dataset_count", I),
            ("data_storage", I),
            ("last_modified", I),
        ],
        "account, region, identity_id",
    ),
    table(
        "sync_sessions",
        &[("account", T), ("region", T), ("session", T), ("expires", I)],
        "account, region, session",
    ),
    table(
        "refs",
        &[("account", T), ("region", T), ("target", T), ("source", T), ("kind", T)],
        "account, region, target, source",
    ),
    Table {
        name: "capacity",
        columns: &[
            ("account", T),
            ("region", T),
            ("id", T),
            ("match_key", T),
            ("open", I),
            ("usable", I),
            ("end_at", I),
            ("total", I),
            ("used", I),
        ],
        key: "account, region, id",
        derived: &["used"],
        derived_table: false,
    },
    table(
        "capacity_usage",
        &[("account", T), ("region", T), ("reservation", T), ("instance", T), ("user_account", T)],
        "account, region, reservation, instance",
    ),
    Table {
        name: "capacity_accounts",
        columns: &[("account", T), ("region", T), ("reservation", T), ("user_account", T), ("used", I)],
        key: "account, region, reservation, user_account",
        derived: &[],
        derived_table: true,
    },
    table(
        "shared_resources",
        &[("account", T), ("region", T), ("resource", T), ("share", T), ("kind", T), ("owner", T)],
        "account, region, resource, share",
    ),
    table(
        "expiring",
        &[("account", T), ("region", T), ("kind", T), ("at", I), ("id", T)],
        "account, region, kind, at, id",
    ),
];

/// The table named `name`.
pub fn table_named(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// The store's queries over a connection in a transaction.
pub struct SqlTx<'c> {
    conn: &'c mut dyn Conn,
    /// A quick read's rows left to list (`None`: no limit).
    budget: Option<usize>,
    /// Set when a quick read asked for more than its budget.
    pub over_budget: bool,
}

impl<'c> SqlTx<'c> {
    pub fn new(conn: &'c mut dyn Conn, budget: Option<usize>) -> SqlTx<'c> {
        SqlTx { conn, budget, over_budget: false }
    }

    /// The row limit to ask for: `n`, or within a quick read's budget one more than it
    /// has left, so that going over shows without reading further.
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
        params: &[P<'_>],
        n: usize,
        row: impl Fn(&dyn Row) -> StoreResult<T>,
    ) -> StoreResult<Vec<T>> {
        let capped = limit(self.cap(n));
        let mut all: Vec<P<'_>> = params.to_vec();
        all.push(P::Int(capped));
        let mut rows = Vec::new();
        self.conn.query(sql, &all, &mut |r| {
            rows.push(row(r)?);
            Ok(())
        })?;
        self.spend(rows.len())?;
        Ok(rows)
    }

    /// At most one row (the first), counted against a quick read's budget.
    fn one<T>(
        &mut self,
        sql: &str,
        params: &[P<'_>],
        row: impl Fn(&dyn Row) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let found = self.first(sql, params, row)?;
        self.spend(usize::from(found.is_some()))?;
        Ok(found)
    }

    /// The first row, not counted (existence checks, counts).
    fn first<T>(
        &mut self,
        sql: &str,
        params: &[P<'_>],
        row: impl Fn(&dyn Row) -> StoreResult<T>,
    ) -> StoreResult<Option<T>> {
        let mut found = None;
        self.conn.query(sql, params, &mut |r| {
            if found.is_none() {
                found = Some(row(r)?);
            }
            Ok(())
        })?;
        Ok(found)
    }

    fn exec(&mut self, sql: &str, params: &[P<'_>]) -> StoreResult<u64> {
        self.conn.execute(sql, params)
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

pub(crate) fn scope_of(account: String, region: String) -> StoreResult<Scope> {
    let account = AccountId::parse(&account).ok_or_else(|| StoreError::Corrupt(format!("account id {account:?}")))?;
    Ok(Scope::new(account, region))
}

/// A row whose first columns are `seq, id, body`.
fn record(r: &dyn Row) -> StoreResult<Record> {
    Ok(Record { seq: r.int(0)?, id: r.text(1)?, body: r.text(2)? })
}

fn tag_row(r: &dyn Row) -> StoreResult<TagRow> {
    Ok(TagRow { resource_id: r.text(0)?, resource_type: r.text(1)?, key: r.text(2)?, value: r.text(3)? })
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

fn family_of(code: i64) -> StoreResult<Family> {
    match code {
        4 => Ok(Family::Ipv4),
        6 => Ok(Family::Ipv6),
        _ => Err(StoreError::Corrupt(format!("address family {code}"))),
    }
}

fn address(r: &dyn Row, i: usize) -> StoreResult<u128> {
    let bytes = r.bytes(i)?;
    let bytes: [u8; 16] =
        bytes.as_slice().try_into().map_err(|_| StoreError::Corrupt(format!("an address of {} bytes", bytes.len())))?;
    Ok(u128::from_be_bytes(bytes))
}

fn small(r: &dyn Row, i: usize) -> StoreResult<u8> {
    let v = r.int(i)?;
    u8::try_from(v).map_err(|_| StoreError::Corrupt(format!("column {i}: {v} out of range")))
}

/// The columns a slot is read from, in [`slot_at`]'s order.
const SLOT_COLUMNS: &str = "family, start, prefix, root_prefix, alloc_id, resource_type, resource_id, \
                            resource_owner, resource_region, description, created";

/// A slot from a row of [`SLOT_COLUMNS`] (starting at column `at`).
fn slot_at(r: &dyn Row, at: usize) -> StoreResult<Slot> {
    let family = family_of(r.int(at)?)?;
    let start = address(r, at + 1)?;
    let prefix = small(r, at + 2)?;
    let block = Block::new(family, start, prefix).ok_or_else(|| StoreError::Corrupt("a slot's block".into()))?;
    let holder = match r.opt_text(at + 4)? {
        None => None,
        Some(id) => Some(Allocation {
            id,
            resource_type: r.text(at + 5)?,
            resource_id: r.opt_text(at + 6)?,
            resource_owner: r.text(at + 7)?,
            resource_region: r.opt_text(at + 8)?,
            description: r.opt_text(at + 9)?,
            created: Timestamp(r.int(at + 10)?),
        }),
    };
    Ok(Slot { block, root_prefix: small(r, at + 3)?, holder })
}

fn slot(r: &dyn Row) -> StoreResult<Slot> {
    slot_at(r, 0)
}

const CIDR_COLUMNS: &str = "family, start, prefix, resource_id, resource_type, vpc_id, pool_id";

fn resource_cidr(r: &dyn Row) -> StoreResult<ResourceCidr> {
    let block = Block::new(family_of(r.int(0)?)?, address(r, 1)?, small(r, 2)?)
        .ok_or_else(|| StoreError::Corrupt("a resource CIDR's block".into()))?;
    Ok(ResourceCidr {
        block,
        resource_id: r.text(3)?,
        resource_type: r.text(4)?,
        vpc_id: r.text(5)?,
        pool_id: r.opt_text(6)?,
    })
}

fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn capacity_row(r: &dyn Row) -> StoreResult<CapacityRow> {
    Ok(CapacityRow {
        id: r.text(0)?,
        match_key: r.text(1)?,
        open: r.int(2)? != 0,
        usable: r.int(3)? != 0,
        end_at: r.opt_int(4)?,
        total: r.int(5)? as u32,
        used: r.int(6)? as u32,
    })
}

fn shared_row(r: &dyn Row) -> StoreResult<SharedRow> {
    Ok(SharedRow { resource: r.text(0)?, kind: r.text(1)?, owner: r.text(2)?, share: r.text(3)? })
}

const DATASET_COLUMNS: &str = "pool_id, identity_id, name, created, last_modified, last_modified_by, sync_count, \
                               data_storage, num_records";

fn dataset_row(r: &dyn Row) -> StoreResult<Dataset> {
    Ok(Dataset {
        pool_id: r.text(0)?,
        identity_id: r.text(1)?,
        name: r.text(2)?,
        created: Timestamp(r.int(3)?),
        last_modified: Timestamp(r.int(4)?),
        last_modified_by: r.text(5)?,
        sync_count: r.int(6)? as u64,
        data_storage: r.int(7)? as u64,
        num_records: r.int(8)? as u64,
    })
}

const RECORD_COLUMNS: &str = "key, value, sync_count, last_modified, last_modified_by, device_last_modified";

fn record_row(r: &dyn Row) -> StoreResult<SyncRecord> {
    Ok(SyncRecord {
        key: r.text(0)?,
        value: r.opt_text(1)?,
        sync_count: r.int(2)? as u64,
        last_modified: Timestamp(r.int(3)?),
        last_modified_by: r.text(4)?,
        device_last_modified: r.opt_int(5)?.map(Timestamp),
    })
}

impl ReadTx for SqlTx<'_> {
    fn export_rows(
        &mut self,
        table: &str,
        account: Option<&str>,
        each: &mut dyn FnMut(Vec<serde_json::Value>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        self.table_rows(table, account, each)
    }

    fn has_state(&mut self) -> StoreResult<bool> {
        for t in TABLES {
            let sql = format!("SELECT 1 FROM {} LIMIT 1", t.name);
            if self.first(&sql, &[], |_| Ok(()))?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }
    fn get(&mut self, scope: &Scope, kind: &str, id: &str) -> StoreResult<Option<Record>> {
        self.first(
            "SELECT seq, id, body FROM resources WHERE account = ?1 AND region = ?2 AND id = ?3 AND kind = ?4",
            &p![scope.account.as_str(), &scope.region, id, kind],
            record,
        )
    }

    fn get_any_scope(&mut self, kind: &str, id: &str) -> StoreResult<Option<(Scope, Record)>> {
        let row = self.first(
            "SELECT seq, id, body, account, region FROM resources WHERE id = ?1 AND kind = ?2",
            &p![id, kind],
            |r| Ok((r.text(3)?, r.text(4)?, record(r)?)),
        )?;
        match row {
            Some((a, region, rec)) => Ok(Some((scope_of(a, region)?, rec))),
            None => Ok(None),
        }
    }

    fn list(&mut self, scope: &Scope, kind: &str, after: i64, n: usize) -> StoreResult<Vec<Record>> {
        self.listing(
            "SELECT seq, id, body FROM resources WHERE account = ?1 AND region = ?2 AND kind = ?3 AND seq > ?4 \
             ORDER BY seq LIMIT ?5",
            &p![scope.account.as_str(), &scope.region, kind, after],
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
        // page comes in seq order and each entity's tags in key order from SQLite's plan,
        // and sorting the joined rows would copy every body into a sorter; the order is
        // made certain below (PostgreSQL may hash the join), at the cost of checking it.
        let mut out: Vec<(Record, Vec<TagRow>)> = Vec::new();
        let mut in_order = true;
        self.conn.query(
            "SELECT r.seq, r.id, r.body, t.resource_type, t.key, t.value \
             FROM (SELECT seq, id, body FROM resources \
                   WHERE account = ?1 AND region = ?2 AND kind = ?3 AND seq > ?4 ORDER BY seq LIMIT ?5) AS r \
             LEFT JOIN tags AS t ON t.account = ?1 AND t.region = ?2 AND t.resource_id = r.id",
            &p![scope.account.as_str(), &scope.region, kind, after, limit(capped)],
            &mut |row| {
                let seq = row.int(0)?;
                match out.last() {
                    Some((r, _)) if r.seq == seq => {}
                    last => {
                        in_order &= last.is_none_or(|(r, _)| r.seq < seq);
                        out.push((record(row)?, Vec::new()));
                    }
                }
                if let Some(key) = row.opt_text(4)? {
                    let (rec, tags) = out.last_mut().expect("pushed above");
                    tags.push(TagRow {
                        resource_id: rec.id.clone(),
                        resource_type: row.text(3)?,
                        key,
                        value: row.text(5)?,
                    });
                }
                Ok(())
            },
        )?;
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
            &p![scope.account.as_str(), &scope.region, kind, parent, after],
            n,
            record,
        )
    }

    fn count(&mut self, scope: &Scope, kind: &str) -> StoreResult<u64> {
        let n = self.first(
            "SELECT COUNT(*) FROM resources WHERE account = ?1 AND region = ?2 AND kind = ?3",
            &p![scope.account.as_str(), &scope.region, kind],
            |r| r.int(0),
        )?;
        Ok(n.unwrap_or(0) as u64)
    }

    fn count_children(&mut self, scope: &Scope, kind: &str, parent: &str) -> StoreResult<u64> {
        let n = self.first(
            "SELECT COUNT(*) FROM resources WHERE account = ?1 AND region = ?2 AND kind = ?3 AND parent = ?4",
            &p![scope.account.as_str(), &scope.region, kind, parent],
            |r| r.int(0),
        )?;
        Ok(n.unwrap_or(0) as u64)
    }

    fn tags_of(&mut self, scope: &Scope, resource_ids: &[&str]) -> StoreResult<Vec<TagRow>> {
        // One query for all the ids: they travel as one JSON array (sorted, without
        // repeats), unpacked by `json_each`, and each is found by the tags' primary key
        // prefix (account, region, resource id). CROSS JOIN keeps the ids as SQLite's
        // outer loop, so the rows come in (resource id, key) order without a sort; the
        // order is checked (and made) below for planners that choose otherwise.
        let mut ids: Vec<&str> = resource_ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let ids = serde_json::to_string(&ids).map_err(|e| StoreError::Other(e.to_string()))?;
        let mut rows = self.listing(
            "SELECT t.resource_id, t.resource_type, t.key, t.value \
             FROM json_each(?3) AS wanted \
             CROSS JOIN tags AS t WHERE t.account = ?1 AND t.region = ?2 AND t.resource_id = wanted.value \
             LIMIT ?4",
            &p![scope.account.as_str(), &scope.region, ids.as_str()],
            usize::MAX,
            tag_row,
        )?;
        if !rows.is_sorted_by(|a, b| (&a.resource_id, &a.key) <= (&b.resource_id, &b.key)) {
            rows.sort_by(|a, b| (&a.resource_id, &a.key).cmp(&(&b.resource_id, &b.key)));
        }
        Ok(rows)
    }

    fn list_tags(&mut self, scope: &Scope, after: Option<(&str, &str)>, n: usize) -> StoreResult<Vec<TagRow>> {
        let (after_id, after_key) = after.unwrap_or(("", ""));
        self.listing(
            "SELECT resource_id, resource_type, key, value FROM tags \
             WHERE account = ?1 AND region = ?2 AND (resource_id, key) > (?3, ?4) \
             ORDER BY resource_id, key LIMIT ?5",
            &p![scope.account.as_str(), &scope.region, after_id, after_key],
            n,
            tag_row,
        )
    }

    fn first_reference(&mut self, scope: &Scope, target: &str) -> StoreResult<Option<Reference>> {
        self.first(
            "SELECT source, kind FROM refs WHERE account = ?1 AND region = ?2 AND target = ?3 \
             ORDER BY source LIMIT 1",
            &p![scope.account.as_str(), &scope.region, target],
            |r| Ok(Reference { target: target.to_string(), source: r.text(0)?, kind: r.text(1)? }),
        )
    }

    fn get_alias(&mut self, scope: &Scope, namespace: &str, key: &str) -> StoreResult<Option<String>> {
        self.first(
            "SELECT target FROM aliases WHERE account = ?1 AND region = ?2 AND namespace = ?3 AND key = ?4",
            &p![scope.account.as_str(), &scope.region, namespace, key],
            |r| r.text(0),
        )
    }

    fn get_idempotency(&mut self, scope: &Scope, operation: &str, token: &str) -> StoreResult<Option<IdempotencyRow>> {
        self.first(
            "SELECT fingerprint, result, created FROM idempotency \
             WHERE account = ?1 AND region = ?2 AND operation = ?3 AND token = ?4",
            &p![scope.account.as_str(), &scope.region, operation, token],
            |r| Ok(IdempotencyRow { fingerprint: r.text(0)?, result: r.text(1)?, created: r.int(2)? }),
        )
    }

    fn scope_initialized(&mut self, scope: &Scope) -> StoreResult<bool> {
        Ok(self.scope_version(scope)?.is_some())
    }

    fn scope_version(&mut self, scope: &Scope) -> StoreResult<Option<i64>> {
        self.first(
            "SELECT version FROM scopes WHERE account = ?1 AND region = ?2",
            &p![scope.account.as_str(), &scope.region],
            |r| r.int(0),
        )
    }

    fn get_meta(&mut self, key: &str) -> StoreResult<Option<String>> {
        self.first("SELECT value FROM meta WHERE key = ?1", &p![key], |r| r.text(0))
    }

    fn slot_at_or_before(&mut self, scope: &Scope, space: &str, family: Family, at: u128) -> StoreResult<Option<Slot>> {
        let sql = format!(
            "SELECT {SLOT_COLUMNS} FROM ip_slots WHERE account = ?1 AND region = ?2 AND space = ?3 AND family = ?4 \
             AND start <= ?5 ORDER BY start DESC LIMIT 1"
        );
        let at = addr(at);
        self.one(&sql, &p![scope.account.as_str(), &scope.region, space, family_code(family), &at], slot)
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
        let from = addr(from);
        self.one(&sql, &p![scope.account.as_str(), &scope.region, space, family_code(family), prefix, &from], slot)
    }

    fn any_held_slot(&mut self, scope: &Scope, space: &str, within: Block) -> StoreResult<bool> {
        let (start, last) = (addr(within.start), addr(within.last()));
        let found = self.first(
            "SELECT 1 FROM ip_slots WHERE account = ?1 AND region = ?2 AND space = ?3 \
             AND family = ?4 AND start >= ?5 AND start <= ?6 AND alloc_id IS NOT NULL LIMIT 1",
            &p![scope.account.as_str(), &scope.region, space, family_code(within.family), &start, &last],
            |_| Ok(()),
        )?;
        Ok(found.is_some())
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
        let (from, until) = (addr(from), addr(until));
        self.listing(
            &sql,
            &p![scope.account.as_str(), &scope.region, space, family_code(family), &from, &until],
            n,
            slot,
        )
    }

    fn slot_of_allocation(&mut self, scope: &Scope, allocation_id: &str) -> StoreResult<Option<(String, Slot)>> {
        let sql =
            format!("SELECT space, {SLOT_COLUMNS} FROM ip_slots WHERE account = ?1 AND region = ?2 AND alloc_id = ?3");
        self.one(&sql, &p![scope.account.as_str(), &scope.region, allocation_id], |r| Ok((r.text(0)?, slot_at(r, 1)?)))
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
        self.listing(&sql, &p![scope.account.as_str(), &scope.region, family, &start, prefix, id], n, resource_cidr)
    }

    fn resource_cidrs_starting_in(&mut self, scope: &Scope, within: Block, n: usize) -> StoreResult<Vec<ResourceCidr>> {
        let sql = format!(
            "SELECT {CIDR_COLUMNS} FROM resource_cidrs WHERE account = ?1 AND region = ?2 AND family = ?3 \
             AND start >= ?4 AND start <= ?5 ORDER BY start, prefix, resource_id LIMIT ?6"
        );
        let (start, last) = (addr(within.start), addr(within.last()));
        self.listing(
            &sql,
            &p![scope.account.as_str(), &scope.region, family_code(within.family), &start, &last],
            n,
            resource_cidr,
        )
    }

    fn resource_cidrs_exactly(&mut self, scope: &Scope, block: Block, n: usize) -> StoreResult<Vec<ResourceCidr>> {
        let sql = format!(
            "SELECT {CIDR_COLUMNS} FROM resource_cidrs WHERE account = ?1 AND region = ?2 AND family = ?3 \
             AND start = ?4 AND prefix = ?5 ORDER BY resource_id LIMIT ?6"
        );
        let start = addr(block.start);
        self.listing(
            &sql,
            &p![scope.account.as_str(), &scope.region, family_code(block.family), &start, block.prefix],
            n,
            resource_cidr,
        )
    }

    fn sync_dataset(&mut self, scope: &Scope, identity_id: &str, name: &str) -> StoreResult<Option<Dataset>> {
        let sql = format!(
            "SELECT {DATASET_COLUMNS} FROM sync_datasets WHERE account = ?1 AND region = ?2 AND identity_id = ?3 \
             AND name = ?4"
        );
        self.one(&sql, &p![scope.account.as_str(), &scope.region, identity_id, name], dataset_row)
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
        self.listing(&sql, &p![scope.account.as_str(), &scope.region, identity_id, after.unwrap_or("")], n, dataset_row)
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
            let found =
                self.first(&sql, &p![scope.account.as_str(), &scope.region, identity_id, dataset, key], record_row)?;
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
                let p = p![scope.account.as_str(), &scope.region, identity_id, dataset, count, key];
                self.listing(&sql, &p, n, record_row)
            }
            _ => {
                let sql = format!("{base}sync_count > ?5 ORDER BY sync_count, key LIMIT ?6");
                let p = p![scope.account.as_str(), &scope.region, identity_id, dataset, min_count];
                self.listing(&sql, &p, n, record_row)
            }
        }
    }

    fn sync_identity(&mut self, scope: &Scope, identity_id: &str) -> StoreResult<Option<IdentityUsage>> {
        self.one(
            "SELECT pool_id, identity_id, dataset_count, data_storage, last_modified FROM sync_identities \
             WHERE account = ?1 AND region = ?2 AND identity_id = ?3",
            &p![scope.account.as_str(), &scope.region, identity_id],
            |r| {
                Ok(IdentityUsage {
                    pool_id: r.text(0)?,
                    identity_id: r.text(1)?,
                    dataset_count: r.int(2)? as u64,
                    data_storage: r.int(3)? as u64,
                    last_modified: r.opt_int(4)?.map(Timestamp),
                })
            },
        )
    }

    fn capacity(&mut self, owner: &Scope, id: &str) -> StoreResult<Option<CapacityRow>> {
        self.one(
            "SELECT id, match_key, open, usable, end_at, total, used FROM capacity \
             WHERE account = ?1 AND region = ?2 AND id = ?3",
            &p![owner.account.as_str(), &owner.region, id],
            capacity_row,
        )
    }

    fn capacity_users(&mut self, owner: &Scope, id: &str) -> StoreResult<Vec<(String, u32)>> {
        self.listing(
            "SELECT user_account, used FROM capacity_accounts \
             WHERE account = ?1 AND region = ?2 AND reservation = ?3 ORDER BY user_account LIMIT ?4",
            &p![owner.account.as_str(), &owner.region, id],
            usize::MAX,
            |r| Ok((r.text(0)?, r.int(1)? as u32)),
        )
    }

    fn capacity_instances(&mut self, owner: &Scope, id: &str, n: usize) -> StoreResult<Vec<(String, String)>> {
        self.listing(
            "SELECT instance, user_account FROM capacity_usage \
             WHERE account = ?1 AND region = ?2 AND reservation = ?3 ORDER BY instance LIMIT ?4",
            &p![owner.account.as_str(), &owner.region, id],
            n,
            |r| Ok((r.text(0)?, r.text(1)?)),
        )
    }

    fn open_capacity(&mut self, consumer: &Scope, match_key: &str, now: i64) -> StoreResult<Option<(String, String)>> {
        let own = self.one(
            "SELECT id FROM capacity \
             WHERE account = ?1 AND region = ?2 AND match_key = ?3 AND open = 1 AND usable = 1 \
             AND used < total AND (end_at IS NULL OR end_at > ?4) ORDER BY id LIMIT 1",
            &p![consumer.account.as_str(), &consumer.region, match_key, now],
            |r| r.text(0),
        )?;
        if let Some(id) = own {
            return Ok(Some((consumer.account.as_str().to_string(), id)));
        }
        self.one(
            "SELECT c.account, c.id FROM shared_resources AS s \
             JOIN capacity AS c ON c.account = s.owner AND c.region = s.region AND c.id = s.resource \
             WHERE s.account = ?1 AND s.region = ?2 AND s.kind = 'capacity-reservation' \
             AND c.match_key = ?3 AND c.open = 1 AND c.usable = 1 AND c.used < c.total \
             AND (c.end_at IS NULL OR c.end_at > ?4) ORDER BY c.id LIMIT 1",
            &p![consumer.account.as_str(), &consumer.region, match_key, now],
            |r| Ok((r.text(0)?, r.text(1)?)),
        )
    }

    fn shared_with(&mut self, consumer: &Scope, resource: &str) -> StoreResult<Option<SharedRow>> {
        self.one(
            "SELECT resource, kind, owner, share FROM shared_resources \
             WHERE account = ?1 AND region = ?2 AND resource = ?3 ORDER BY share LIMIT 1",
            &p![consumer.account.as_str(), &consumer.region, resource],
            shared_row,
        )
    }

    fn shared_of_kind(
        &mut self,
        consumer: &Scope,
        kind: &str,
        after: Option<&str>,
        n: usize,
    ) -> StoreResult<Vec<SharedRow>> {
        // One row per resource: the least share granting it (a resource has one kind and
        // one owner, so grouping by them too changes nothing).
        self.listing(
            "SELECT resource, kind, owner, MIN(share) FROM shared_resources \
             WHERE account = ?1 AND region = ?2 AND kind = ?3 AND resource > ?4 \
             GROUP BY resource, kind, owner ORDER BY resource LIMIT ?5",
            &p![consumer.account.as_str(), &consumer.region, kind, after.unwrap_or("")],
            n,
            shared_row,
        )
    }
}

impl SqlTx<'_> {
    /// Rows of a state table in key order, each as JSON values in column order.
    pub fn table_rows(
        &mut self,
        table: &str,
        account: Option<&str>,
        each: &mut dyn FnMut(Vec<serde_json::Value>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        let t = table_named(table).ok_or_else(|| StoreError::Other(format!("no table {table}")))?;
        let columns: Vec<&str> = t.columns.iter().map(|(c, _)| *c).collect();
        let filter = if account.is_some() { " WHERE account = ?1" } else { "" };
        let sql = format!("SELECT {} FROM {}{filter} ORDER BY {}", columns.join(", "), t.name, t.key);
        let params: Vec<P<'_>> = account.map(P::Text).into_iter().collect();
        self.conn.query(&sql, &params, &mut |r| {
            let mut out = Vec::with_capacity(t.columns.len());
            for (i, (_, ty)) in t.columns.iter().enumerate() {
                out.push(match ty {
                    ColumnType::Int => r.opt_int(i)?.map_or(serde_json::Value::Null, serde_json::Value::from),
                    ColumnType::Text => r.opt_text(i)?.map_or(serde_json::Value::Null, serde_json::Value::from),
                    ColumnType::Bytes => serde_json::Value::from(hex(&r.bytes(i)?)),
                });
            }
            each(out)
        })
    }
}

/// A decoded import value.
enum Cell {
    Null,
    Int(i64),
    Text(String),
    Bytes(Vec<u8>),
}

impl Cell {
    fn decode(ty: ColumnType, v: &serde_json::Value) -> Result<Cell, String> {
        use serde_json::Value;
        Ok(match (ty, v) {
            (_, Value::Null) => Cell::Null,
            (ColumnType::Int, Value::Number(n)) => {
                Cell::Int(n.as_i64().ok_or_else(|| format!("{n} is not an integer"))?)
            }
            (ColumnType::Text, Value::String(s)) => Cell::Text(s.clone()),
            (ColumnType::Bytes, Value::String(s)) => {
                Cell::Bytes(unhex(s).ok_or_else(|| format!("{s:?} is not hexadecimal"))?)
            }
            (_, other) => return Err(format!("unexpected value {other}")),
        })
    }

    fn param(&self) -> P<'_> {
        match self {
            Cell::Null => P::Null,
            Cell::Int(i) => P::Int(*i),
            Cell::Text(t) => P::Text(t),
            Cell::Bytes(b) => P::Bytes(b),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok()).collect()
}

impl Tx for SqlTx<'_> {
    fn insert(&mut self, scope: &Scope, kind: &str, id: &str, parent: Option<&str>, body: &str) -> StoreResult<()> {
        self.exec(
            "INSERT INTO resources (account, region, kind, id, parent, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            &p![scope.account.as_str(), &scope.region, kind, id, parent, body],
        )
        .map(|_| ())
    }

    fn update(&mut self, scope: &Scope, kind: &str, id: &str, body: &str) -> StoreResult<bool> {
        self.exec(
            "UPDATE resources SET body = ?5 WHERE account = ?1 AND region = ?2 AND id = ?3 AND kind = ?4",
            &p![scope.account.as_str(), &scope.region, id, kind, body],
        )
        .map(|n| n > 0)
    }

    fn delete(&mut self, scope: &Scope, kind: &str, id: &str) -> StoreResult<bool> {
        let n = self.exec(
            "DELETE FROM resources WHERE account = ?1 AND region = ?2 AND id = ?3 AND kind = ?4",
            &p![scope.account.as_str(), &scope.region, id, kind],
        )?;
        self.exec(
            "DELETE FROM tags WHERE account = ?1 AND region = ?2 AND resource_id = ?3",
            &p![scope.account.as_str(), &scope.region, id],
        )?;
        Ok(n > 0)
    }

    fn delete_children(&mut self, scope: &Scope, kind: &str, parent: &str) -> StoreResult<u64> {
        self.exec(
            "DELETE FROM tags WHERE account = ?1 AND region = ?2 AND resource_id IN \
             (SELECT id FROM resources WHERE account = ?1 AND region = ?2 AND kind = ?3 AND parent = ?4)",
            &p![scope.account.as_str(), &scope.region, kind, parent],
        )?;
        self.exec(
            "DELETE FROM resources WHERE account = ?1 AND region = ?2 AND kind = ?3 AND parent = ?4",
            &p![scope.account.as_str(), &scope.region, kind, parent],
        )
    }

    fn put_tag(&mut self, scope: &Scope, tag: &TagRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO tags (account, region, resource_id, resource_type, key, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (account, region, resource_id, key) DO UPDATE SET value = excluded.value",
            &p![scope.account.as_str(), &scope.region, &tag.resource_id, &tag.resource_type, &tag.key, &tag.value],
        )
        .map(|_| ())
    }

    fn delete_tag(&mut self, scope: &Scope, resource_id: &str, key: &str) -> StoreResult<bool> {
        self.exec(
            "DELETE FROM tags WHERE account = ?1 AND region = ?2 AND resource_id = ?3 AND key = ?4",
            &p![scope.account.as_str(), &scope.region, resource_id, key],
        )
        .map(|n| n > 0)
    }

    fn put_reference(&mut self, scope: &Scope, r: &Reference) -> StoreResult<()> {
        self.exec(
            "INSERT INTO refs (account, region, target, source, kind) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (account, region, target, source) DO UPDATE SET kind = excluded.kind",
            &p![scope.account.as_str(), &scope.region, &r.target, &r.source, &r.kind],
        )
        .map(|_| ())
    }

    fn delete_reference(&mut self, scope: &Scope, target: &str, source: &str) -> StoreResult<bool> {
        self.exec(
            "DELETE FROM refs WHERE account = ?1 AND region = ?2 AND target = ?3 AND source = ?4",
            &p![scope.account.as_str(), &scope.region, target, source],
        )
        .map(|n| n > 0)
    }

    fn delete_references_from(&mut self, scope: &Scope, source: &str) -> StoreResult<u64> {
        self.exec(
            "DELETE FROM refs WHERE account = ?1 AND region = ?2 AND source = ?3",
            &p![scope.account.as_str(), &scope.region, source],
        )
    }

    fn put_alias(&mut self, scope: &Scope, namespace: &str, key: &str, target: &str) -> StoreResult<()> {
        self.exec(
            "INSERT INTO aliases (account, region, namespace, key, target) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (account, region, namespace, key) DO UPDATE SET target = excluded.target",
            &p![scope.account.as_str(), &scope.region, namespace, key, target],
        )
        .map(|_| ())
    }

    fn delete_alias(&mut self, scope: &Scope, namespace: &str, key: &str) -> StoreResult<bool> {
        self.exec(
            "DELETE FROM aliases WHERE account = ?1 AND region = ?2 AND namespace = ?3 AND key = ?4",
            &p![scope.account.as_str(), &scope.region, namespace, key],
        )
        .map(|n| n > 0)
    }

    fn delete_alias_namespace(&mut self, scope: &Scope, namespace: &str) -> StoreResult<()> {
        self.exec(
            "DELETE FROM aliases WHERE account = ?1 AND region = ?2 AND namespace = ?3",
            &p![scope.account.as_str(), &scope.region, namespace],
        )
        .map(|_| ())
    }

    fn put_idempotency(
        &mut self,
        scope: &Scope,
        operation: &str,
        token: &str,
        row: &IdempotencyRow,
    ) -> StoreResult<()> {
        self.exec(
            "INSERT INTO idempotency (account, region, operation, token, fingerprint, result, created) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            &p![scope.account.as_str(), &scope.region, operation, token, &row.fingerprint, &row.result, row.created],
        )
        .map(|_| ())
    }

    fn mark_scope_initialized(&mut self, scope: &Scope, now: i64) -> StoreResult<bool> {
        self.exec(
            "INSERT INTO scopes (account, region, created) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
            &p![scope.account.as_str(), &scope.region, now],
        )
        .map(|n| n > 0)
    }

    fn set_scope_version(&mut self, scope: &Scope, version: i64) -> StoreResult<()> {
        self.exec(
            "UPDATE scopes SET version = ?3 WHERE account = ?1 AND region = ?2",
            &p![scope.account.as_str(), &scope.region, version],
        )
        .map(|_| ())
    }

    fn put_meta(&mut self, key: &str, value: &str) -> StoreResult<()> {
        self.exec(
            "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &p![key, value],
        )
        .map(|_| ())
    }

    fn put_meta_if_absent(&mut self, key: &str, value: &str) -> StoreResult<bool> {
        self.exec("INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO NOTHING", &p![key, value])
            .map(|n| n > 0)
    }

    fn insert_slot(&mut self, scope: &Scope, space: &str, slot: &Slot) -> StoreResult<()> {
        let b = slot.block;
        let h = slot.holder.as_ref();
        let (start, last) = (addr(b.start), addr(b.last()));
        self.exec(
            "INSERT INTO ip_slots (account, region, space, family, start, last, prefix, root_prefix, alloc_id, \
             resource_type, resource_id, resource_owner, resource_region, description, created) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            &p![
                scope.account.as_str(),
                &scope.region,
                space,
                family_code(b.family),
                &start,
                &last,
                b.prefix,
                slot.root_prefix,
                h.map(|h| h.id.as_str()),
                h.map(|h| h.resource_type.as_str()),
                h.and_then(|h| h.resource_id.as_deref()),
                h.map(|h| h.resource_owner.as_str()),
                h.and_then(|h| h.resource_region.as_deref()),
                h.and_then(|h| h.description.as_deref()),
                h.map(|h| h.created.0),
            ],
        )
        .map(|_| ())
    }

    fn delete_slot(&mut self, scope: &Scope, space: &str, family: Family, start: u128) -> StoreResult<bool> {
        let start = addr(start);
        self.exec(
            "DELETE FROM ip_slots WHERE account = ?1 AND region = ?2 AND space = ?3 AND family = ?4 AND start = ?5",
            &p![scope.account.as_str(), &scope.region, space, family_code(family), &start],
        )
        .map(|n| n > 0)
    }

    fn delete_space(&mut self, scope: &Scope, space: &str) -> StoreResult<u64> {
        self.exec(
            "DELETE FROM tags WHERE account = ?1 AND region = ?2 AND resource_id IN \
             (SELECT alloc_id FROM ip_slots WHERE account = ?1 AND region = ?2 AND space = ?3 \
              AND alloc_id IS NOT NULL)",
            &p![scope.account.as_str(), &scope.region, space],
        )?;
        self.exec(
            "DELETE FROM ip_slots WHERE account = ?1 AND region = ?2 AND space = ?3",
            &p![scope.account.as_str(), &scope.region, space],
        )
    }

    fn put_resource_cidr(&mut self, scope: &Scope, row: &ResourceCidr) -> StoreResult<()> {
        let b = row.block;
        let start = addr(b.start);
        self.exec(
            "INSERT INTO resource_cidrs (account, region, family, start, prefix, resource_id, resource_type, \
             vpc_id, pool_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            &p![
                scope.account.as_str(),
                &scope.region,
                family_code(b.family),
                &start,
                b.prefix,
                &row.resource_id,
                &row.resource_type,
                &row.vpc_id,
                &row.pool_id
            ],
        )
        .map(|_| ())
    }

    fn delete_resource_cidr(&mut self, scope: &Scope, resource_id: &str, block: Block) -> StoreResult<bool> {
        let start = addr(block.start);
        self.exec(
            "DELETE FROM resource_cidrs WHERE account = ?1 AND region = ?2 AND family = ?3 AND start = ?4 \
             AND prefix = ?5 AND resource_id = ?6",
            &p![scope.account.as_str(), &scope.region, family_code(block.family), &start, block.prefix, resource_id],
        )
        .map(|n| n > 0)
    }

    fn put_sync_dataset(&mut self, scope: &Scope, d: &Dataset) -> StoreResult<()> {
        self.exec(
            "INSERT INTO sync_datasets (account, region, identity_id, name, pool_id, created, last_modified, \
             last_modified_by, sync_count, data_storage, num_records) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) \
             ON CONFLICT (account, region, identity_id, name) DO UPDATE SET last_modified = excluded.last_modified, \
             last_modified_by = excluded.last_modified_by, sync_count = excluded.sync_count, \
             data_storage = excluded.data_storage, num_records = excluded.num_records",
            &p![
                scope.account.as_str(),
                &scope.region,
                &d.identity_id,
                &d.name,
                &d.pool_id,
                d.created.0,
                d.last_modified.0,
                &d.last_modified_by,
                d.sync_count,
                d.data_storage,
                d.num_records
            ],
        )
        .map(|_| ())
    }

    fn delete_sync_dataset(&mut self, scope: &Scope, identity_id: &str, name: &str) -> StoreResult<bool> {
        self.exec(
            "DELETE FROM sync_records WHERE account = ?1 AND region = ?2 AND identity_id = ?3 AND dataset = ?4",
            &p![scope.account.as_str(), &scope.region, identity_id, name],
        )?;
        let n = self.exec(
            "DELETE FROM sync_datasets WHERE account = ?1 AND region = ?2 AND identity_id = ?3 AND name = ?4",
            &p![scope.account.as_str(), &scope.region, identity_id, name],
        )?;
        Ok(n > 0)
    }

    fn put_sync_records(
        &mut self,
        scope: &Scope,
        identity_id: &str,
        dataset: &str,
        records: &[SyncRecord],
    ) -> StoreResult<()> {
        for r in records {
            self.exec(
                "INSERT INTO sync_records (account, region, identity_id, dataset, key, value, sync_count, \
                 last_modified, last_modified_by, device_last_modified) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) \
                 ON CONFLICT (account, region, identity_id, dataset, key) DO UPDATE SET value = excluded.value, \
                 sync_count = excluded.sync_count, last_modified = excluded.last_modified, \
                 last_modified_by = excluded.last_modified_by, device_last_modified = excluded.device_last_modified",
                &p![
                    scope.account.as_str(),
                    &scope.region,
                    identity_id,
                    dataset,
                    &r.key,
                    &r.value,
                    r.sync_count,
                    r.last_modified.0,
                    &r.last_modified_by,
                    r.device_last_modified.map(|t| t.0)
                ],
            )?;
        }
        Ok(())
    }

    fn put_sync_identity(&mut self, scope: &Scope, u: &IdentityUsage) -> StoreResult<()> {
        self.exec(
            "INSERT INTO sync_identities (account, region, identity_id, pool_id, dataset_count, data_storage, \
             last_modified) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) \
             ON CONFLICT (account, region, identity_id) DO UPDATE SET pool_id = excluded.pool_id, \
             dataset_count = excluded.dataset_count, data_storage = excluded.data_storage, \
             last_modified = excluded.last_modified",
            &p![
                scope.account.as_str(),
                &scope.region,
                &u.identity_id,
                &u.pool_id,
                u.dataset_count,
                u.data_storage,
                u.last_modified.map(|t| t.0)
            ],
        )
        .map(|_| ())
    }

    fn delete_sync_identity(&mut self, scope: &Scope, identity_id: &str) -> StoreResult<()> {
        for sql in [
            "DELETE FROM sync_records WHERE account = ?1 AND region = ?2 AND identity_id = ?3",
            "DELETE FROM sync_datasets WHERE account = ?1 AND region = ?2 AND identity_id = ?3",
            "DELETE FROM sync_identities WHERE account = ?1 AND region = ?2 AND identity_id = ?3",
        ] {
            self.exec(sql, &p![scope.account.as_str(), &scope.region, identity_id])?;
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
            &p![scope.account.as_str(), &scope.region, pool_id, after.unwrap_or("")],
            n,
            |r| r.text(0),
        )
    }

    fn claim_sync_session(&mut self, scope: &Scope, session: &str, expires: i64, now: i64) -> StoreResult<bool> {
        self.exec(
            "DELETE FROM sync_sessions WHERE account = ?1 AND region = ?2 AND expires < ?3",
            &p![scope.account.as_str(), &scope.region, now],
        )?;
        let n = self.exec(
            "INSERT INTO sync_sessions (account, region, session, expires) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (account, region, session) DO NOTHING",
            &p![scope.account.as_str(), &scope.region, session, expires],
        )?;
        Ok(n == 1)
    }

    fn put_capacity(&mut self, owner: &Scope, row: &CapacityRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO capacity (account, region, id, match_key, open, usable, end_at, total) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
             ON CONFLICT (account, region, id) DO UPDATE SET match_key = excluded.match_key, \
             open = excluded.open, usable = excluded.usable, end_at = excluded.end_at, total = excluded.total",
            &p![
                owner.account.as_str(),
                &owner.region,
                &row.id,
                &row.match_key,
                row.open,
                row.usable,
                row.end_at,
                row.total
            ],
        )
        .map(|_| ())
    }

    fn delete_capacity(&mut self, owner: &Scope, id: &str) -> StoreResult<bool> {
        self.exec(
            "DELETE FROM capacity_usage WHERE account = ?1 AND region = ?2 AND reservation = ?3",
            &p![owner.account.as_str(), &owner.region, id],
        )?;
        self.exec(
            "DELETE FROM capacity WHERE account = ?1 AND region = ?2 AND id = ?3",
            &p![owner.account.as_str(), &owner.region, id],
        )
        .map(|n| n > 0)
    }

    fn occupy_capacity(&mut self, owner: &Scope, id: &str, instance: &str, account: &str) -> StoreResult<()> {
        if self.capacity(owner, id)?.is_none() {
            return Err(StoreError::Conflict(format!("no capacity reservation {id}")));
        }
        self.exec(
            "INSERT INTO capacity_usage (account, region, reservation, instance, user_account) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
            &p![owner.account.as_str(), &owner.region, id, instance, account],
        )
        .map(|_| ())
    }

    fn release_capacity(&mut self, owner: &Scope, id: &str, instance: &str) -> StoreResult<bool> {
        self.exec(
            "DELETE FROM capacity_usage WHERE account = ?1 AND region = ?2 AND reservation = ?3 AND instance = ?4",
            &p![owner.account.as_str(), &owner.region, id, instance],
        )
        .map(|n| n > 0)
    }

    fn put_shared(&mut self, consumer: &Scope, row: &SharedRow) -> StoreResult<()> {
        self.exec(
            "INSERT INTO shared_resources (account, region, resource, share, kind, owner) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
             ON CONFLICT (account, region, resource, share) DO UPDATE SET kind = excluded.kind, owner = excluded.owner",
            &p![consumer.account.as_str(), &consumer.region, &row.resource, &row.share, &row.kind, &row.owner],
        )
        .map(|_| ())
    }

    fn delete_shared(&mut self, consumer: &Scope, resource: &str, share: &str) -> StoreResult<bool> {
        self.exec(
            "DELETE FROM shared_resources WHERE account = ?1 AND region = ?2 AND resource = ?3 AND share = ?4",
            &p![consumer.account.as_str(), &consumer.region, resource, share],
        )
        .map(|n| n > 0)
    }

    fn put_expiry(&mut self, scope: &Scope, kind: &str, id: &str, at: i64) -> StoreResult<()> {
        self.exec(
            "INSERT INTO expiring (account, region, kind, at, id) VALUES (?1, ?2, ?3, ?4, ?5) \
             ON CONFLICT (account, region, kind, at, id) DO NOTHING",
            &p![scope.account.as_str(), &scope.region, kind, at, id],
        )
        .map(|_| ())
    }

    fn take_expired(&mut self, scope: &Scope, kind: &str, now: i64, n: usize) -> StoreResult<Vec<String>> {
        let due: Vec<(i64, String)> = self.listing(
            "SELECT at, id FROM expiring WHERE account = ?1 AND region = ?2 AND kind = ?3 AND at <= ?4 \
             ORDER BY at, id LIMIT ?5",
            &p![scope.account.as_str(), &scope.region, kind, now],
            n,
            |r| Ok((r.int(0)?, r.text(1)?)),
        )?;
        for (at, id) in &due {
            self.exec(
                "DELETE FROM expiring WHERE account = ?1 AND region = ?2 AND kind = ?3 AND at = ?4 AND id = ?5",
                &p![scope.account.as_str(), &scope.region, kind, *at, id],
            )?;
        }
        Ok(due.into_iter().map(|(_, id)| id).collect())
    }

    fn reset(&mut self) -> StoreResult<()> {
        for table in TABLES {
            self.exec(&format!("DELETE FROM {}", table.name), &[])?;
        }
        Ok(())
    }

    fn import_row(&mut self, table: &str, row: &[serde_json::Value]) -> StoreResult<()> {
        let t = table_named(table).ok_or_else(|| StoreError::Other(format!("no table {table}")))?;
        if t.derived_table {
            return Ok(());
        }
        if row.len() != t.columns.len() {
            return Err(StoreError::Other(format!("{table}: a row of {} values, not {}", row.len(), t.columns.len())));
        }
        // Decode first (bytes are hexadecimal), then bind.
        let mut names = Vec::new();
        let mut cells: Vec<Cell> = Vec::new();
        for ((name, ty), v) in t.columns.iter().zip(row) {
            if t.derived.contains(name) {
                continue;
            }
            names.push(*name);
            cells.push(Cell::decode(*ty, v).map_err(|e| StoreError::Other(format!("{table}.{name}: {e}")))?);
        }
        let marks: Vec<String> = (1..=names.len()).map(|i| format!("?{i}")).collect();
        let sql = format!("INSERT INTO {table} ({}) VALUES ({})", names.join(", "), marks.join(", "));
        let params: Vec<P<'_>> = cells.iter().map(Cell::param).collect();
        self.exec(&sql, &params).map(|_| ())
    }

    fn finish_import(&mut self) -> StoreResult<()> {
        self.conn.after_import()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_dialect_numbers_parameters_and_drops_sqlite_hints() {
        assert_eq!(
            postgres_dialect("SELECT a FROM t INDEXED BY t_free WHERE x = ?1 AND y > ?12 LIMIT ?3"),
            "SELECT a FROM t WHERE x = $1 AND y > $12 LIMIT $3"
        );
        assert_eq!(
            postgres_dialect("SELECT w.value FROM json_each(?3) AS w WHERE '?' = ?1"),
            "SELECT w.value FROM json_array_elements_text($3) AS w WHERE '?' = $1"
        );
    }

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        let bytes = [0u8, 1, 0xab, 0xff];
        assert_eq!(hex(&bytes), "0001abff");
        assert_eq!(unhex("0001abff").unwrap(), bytes);
        assert!(unhex("abc").is_none());
        assert!(unhex("zz").is_none());
    }

    #[test]
    fn every_table_lists_its_key_columns() {
        for t in TABLES {
            for key in t.key.split(", ") {
                assert!(t.columns.iter().any(|(c, _)| *c == key), "{}: key column {key}", t.name);
            }
            for d in t.derived {
                assert!(t.columns.iter().any(|(c, _)| c == d), "{}: derived column {d}", t.name);
            }
        }
    }
}
