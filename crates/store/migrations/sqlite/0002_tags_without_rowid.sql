-- Reservoir schema, version 2 (SQLite): tags are stored in their primary key's order.
--
-- A WITHOUT ROWID table is one B-tree keyed by (account, region, resource_id, key): the
-- tags of a resource are found, in key order, with a single search and no second lookup
-- into a table, which is what listings do for every item they return.
CREATE TABLE tags_by_resource (
    account       TEXT NOT NULL,
    region        TEXT NOT NULL,
    resource_id   TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    key           TEXT NOT NULL,
    value         TEXT NOT NULL,
    PRIMARY KEY (account, region, resource_id, key)
) WITHOUT ROWID;
INSERT INTO tags_by_resource (account, region, resource_id, resource_type, key, value)
    SELECT account, region, resource_id, resource_type, key, value FROM tags;
DROP TABLE tags;
ALTER TABLE tags_by_resource RENAME TO tags;
