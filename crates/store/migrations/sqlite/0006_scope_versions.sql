-- Reservoir schema, version 6 (SQLite): what each (account, region) was set up with.
--
-- A scope is set up on first use with what every AWS account has (default DHCP options,
-- a default VPC). When a new version of Reservoir gives accounts more (the default VPC's
-- subnets, gateway, route table, security group and network ACL came with version 2),
-- the scope's version says what is missing: the next write request in the scope adds it
-- in its own transaction, and moves the version on. Scopes recorded before this column
-- existed are version 1.
ALTER TABLE scopes ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
