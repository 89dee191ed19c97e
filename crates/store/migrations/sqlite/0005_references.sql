-- Reservoir schema, version 5 (SQLite): references between resources.
--
-- A row says that `source` uses `target` (a network interface uses a security group, a
-- group's rule names another group, a VPC uses a DHCP options set). "Is this resource
-- still used?" — the question every delete that AWS refuses with DependencyViolation
-- asks — is one search of the primary key; "what does this resource use?" one search of
-- the index by source, so a deleted resource takes its references with it.
CREATE TABLE refs (
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    target  TEXT NOT NULL,
    source  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    PRIMARY KEY (account, region, target, source)
) WITHOUT ROWID;

CREATE INDEX refs_by_source ON refs (account, region, source);
