-- Reservoir schema, version 1 (SQLite).
--
-- Every key starts with (account, region): isolation between accounts and regions is a
-- property of the schema. Entities are stored as JSON documents of their domain type,
-- with the columns queries need beside them.

-- Entities of every kind. `seq` is the insertion order: listings page through it with a
-- keyset cursor, so pages stay correct while others write. AUTOINCREMENT: a seq is never
-- reused, even after the newest row is deleted.
CREATE TABLE resources (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    id      TEXT NOT NULL,
    parent  TEXT,
    body    TEXT NOT NULL
);
CREATE UNIQUE INDEX resources_by_id ON resources (account, region, id);
CREATE INDEX resources_by_kind ON resources (account, region, kind, seq);
CREATE INDEX resources_by_parent ON resources (account, region, kind, parent, seq);
-- Ids are globally unique (random); some calls find a resource by id alone (GetId).
CREATE INDEX resources_global_id ON resources (id);

-- EC2 tags, one row per (resource, key).
CREATE TABLE tags (
    account       TEXT NOT NULL,
    region        TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (account, region, resource_id, key)
);

-- Secondary keys: (namespace, key) -> resource id (e.g. a Cognito login -> identity).
CREATE TABLE aliases (
    account   TEXT NOT NULL,
    region    TEXT NOT NULL,
    namespace TEXT NOT NULL,
    key       TEXT NOT NULL,
    target    TEXT NOT NULL,
    PRIMARY KEY (account, region, namespace, key)
);

-- ClientToken records: the first result of an idempotent request.
CREATE TABLE idempotency (
    account     TEXT NOT NULL,
    region      TEXT NOT NULL,
    operation   TEXT NOT NULL,
    token       TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    result      TEXT NOT NULL,
    created     INTEGER NOT NULL,
    PRIMARY KEY (account, region, operation, token)
);

-- (account, region) pairs already set up (default VPC made).
CREATE TABLE scopes (
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    created INTEGER NOT NULL,
    PRIMARY KEY (account, region)
);

-- Server-wide settings that must survive restarts (the NextToken key).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
