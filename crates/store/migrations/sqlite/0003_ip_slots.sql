-- Reservoir schema, version 3 (SQLite): address spaces (domain::space).
--
-- A space (an IPAM pool, an IPAM scope; later a VPC, a subnet, a CoIP pool) is tiled by
-- slots: aligned CIDR blocks inside the space's provisioned roots, each free or held by
-- one allocation. Addresses are 16-byte big-endian BLOBs (IPv4 in the low 4 bytes), so
-- byte order is numeric order in SQLite and in PostgreSQL (bytea) alike.
--
-- The allocator reads slots only through these indexes: the slot at or before an address
-- (the primary key), the lowest free slot of a size (ip_slots_free), an allocation by id
-- (ip_slots_by_allocation). Two rules make an overlap impossible to commit, whatever a
-- writer decided: the primary key (no two slots share a start) and the trigger: the slot
-- with the greatest start at or before the new slot's last address must end before the
-- new slot begins. That one row is the only candidate: any slot starting inside the new
-- one, or reaching into it from before, would be it (slots are disjoint), so the check is
-- one index search.
CREATE TABLE ip_slots (
    account         TEXT NOT NULL,
    region          TEXT NOT NULL,
    space           TEXT NOT NULL,
    family          INTEGER NOT NULL CHECK (family IN (4, 6)),
    start           BLOB NOT NULL CHECK (length(start) = 16),
    last            BLOB NOT NULL CHECK (length(last) = 16 AND last >= start),
    prefix          INTEGER NOT NULL,
    root_prefix     INTEGER NOT NULL CHECK (root_prefix <= prefix),
    -- NULL: the slot is free. Otherwise the allocation holding it.
    alloc_id        TEXT,
    resource_type   TEXT,
    resource_id     TEXT,
    resource_owner  TEXT,
    resource_region TEXT,
    description     TEXT,
    created         INTEGER,
    PRIMARY KEY (account, region, space, family, start),
    CHECK (alloc_id IS NULL OR (resource_type IS NOT NULL AND resource_owner IS NOT NULL AND created IS NOT NULL))
) WITHOUT ROWID;

CREATE INDEX ip_slots_free ON ip_slots (account, region, space, family, prefix, start) WHERE alloc_id IS NULL;
CREATE UNIQUE INDEX ip_slots_by_allocation ON ip_slots (account, region, alloc_id) WHERE alloc_id IS NOT NULL;

CREATE TRIGGER ip_slots_no_overlap BEFORE INSERT ON ip_slots
WHEN (SELECT last FROM ip_slots
      WHERE account = NEW.account AND region = NEW.region AND space = NEW.space AND family = NEW.family
        AND start <= NEW.last
      ORDER BY start DESC LIMIT 1) >= NEW.start
BEGIN
    SELECT RAISE(ABORT, 'address block overlaps another block of its space');
END;

-- The CIDRs resources hold (VPC blocks today), for IPAM monitoring: which CIDRs
-- overlap, which a pool manages. Overlaps are what this table is for, so it has no rule
-- against them. Keyed by address, so that "what overlaps this CIDR" is a few index
-- searches: the rows starting inside it, and the rows at each shorter prefix that would
-- contain it. Filled from VPCs stored before version 3 when the migration runs.
CREATE TABLE resource_cidrs (
    account       TEXT NOT NULL,
    region        TEXT NOT NULL,
    family        INTEGER NOT NULL CHECK (family IN (4, 6)),
    start         BLOB NOT NULL CHECK (length(start) = 16),
    prefix        INTEGER NOT NULL,
    resource_id   TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    vpc_id        TEXT NOT NULL,
    pool_id       TEXT,
    PRIMARY KEY (account, region, family, start, prefix, resource_id)
) WITHOUT ROWID;
