-- Reservoir schema, version 4 (SQLite): Cognito Sync data (domain::cognito_sync).
--
-- Records are read by dataset, in sync-count order (ListRecords with lastSyncCount) and
-- by key (UpdateRecords' conflict checks), so they have their own table keyed by
-- (identity, dataset, key) with an index in (sync_count, key) order. Each dataset's and
-- identity's usage counters are rows of their own, changed in the transaction that
-- changes the records they count; the pool's are on the pool. AWS's limits are also
-- schema rules here (1 MB and 1024 records per dataset, 20 datasets per identity), so
-- no writer can commit past them whatever it decided.
CREATE TABLE sync_datasets (
    account          TEXT NOT NULL,
    region           TEXT NOT NULL,
    identity_id      TEXT NOT NULL,
    name             TEXT NOT NULL,
    pool_id          TEXT NOT NULL,
    created          INTEGER NOT NULL,
    last_modified    INTEGER NOT NULL,
    last_modified_by TEXT NOT NULL,
    sync_count       INTEGER NOT NULL CHECK (sync_count >= 0),
    data_storage     INTEGER NOT NULL CHECK (data_storage BETWEEN 0 AND 1048576),
    num_records      INTEGER NOT NULL CHECK (num_records BETWEEN 0 AND 1024),
    PRIMARY KEY (account, region, identity_id, name)
) WITHOUT ROWID;

-- value NULL: a removed record (kept so later syncs learn of the removal).
CREATE TABLE sync_records (
    account              TEXT NOT NULL,
    region               TEXT NOT NULL,
    identity_id          TEXT NOT NULL,
    dataset              TEXT NOT NULL,
    key                  TEXT NOT NULL,
    value                TEXT,
    sync_count           INTEGER NOT NULL CHECK (sync_count >= 1),
    last_modified        INTEGER NOT NULL,
    last_modified_by     TEXT NOT NULL,
    device_last_modified INTEGER,
    PRIMARY KEY (account, region, identity_id, dataset, key)
) WITHOUT ROWID;

CREATE INDEX sync_records_by_count ON sync_records (account, region, identity_id, dataset, sync_count, key);

CREATE TABLE sync_identities (
    account       TEXT NOT NULL,
    region        TEXT NOT NULL,
    identity_id   TEXT NOT NULL,
    pool_id       TEXT NOT NULL,
    dataset_count INTEGER NOT NULL CHECK (dataset_count BETWEEN 0 AND 20),
    data_storage  INTEGER NOT NULL CHECK (data_storage >= 0),
    last_modified INTEGER,
    PRIMARY KEY (account, region, identity_id)
) WITHOUT ROWID;

CREATE INDEX sync_identities_by_pool ON sync_identities (account, region, pool_id, identity_id);

-- Sync sessions committed with (one row per SyncSessionToken): a session is counted in
-- the pool's SyncSessionsCount when its row is first inserted. Rows of sessions whose
-- tokens have expired can no longer be used and are removed.
CREATE TABLE sync_sessions (
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    session TEXT NOT NULL,
    expires INTEGER NOT NULL,
    PRIMARY KEY (account, region, session)
) WITHOUT ROWID;

CREATE INDEX sync_sessions_by_expiry ON sync_sessions (account, region, expires);
