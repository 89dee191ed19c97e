-- Reservoir schema, version 7 (SQLite): capacity reservations' counts, resources shared
-- with other accounts, and resources due to leave listings.
--
-- `capacity` holds what placement decides on for each capacity reservation, in its
-- owner's scope: the match key (instance type, platform, zone, tenancy), whether open
-- launches may use it, whether it takes launches at all, its end, its size and how much
-- of it is used. `capacity_usage` has one row per instance occupying a reservation. The
-- triggers keep `used` equal to that count (and each account's count in
-- `capacity_accounts`) in the same statement, and the CHECK refuses a count above the
-- size, so an over-committed reservation cannot be stored whatever a writer decided (and
-- shrinking below the use is refused the same way).
CREATE TABLE capacity (
    account   TEXT NOT NULL,
    region    TEXT NOT NULL,
    id        TEXT NOT NULL,
    match_key TEXT NOT NULL,
    open      INTEGER NOT NULL,
    usable    INTEGER NOT NULL,
    end_at    INTEGER,
    total     INTEGER NOT NULL CHECK (total >= 0),
    used      INTEGER NOT NULL DEFAULT 0 CHECK (used >= 0 AND used <= total),
    PRIMARY KEY (account, region, id)
) WITHOUT ROWID;

-- Open launches look for an open, usable reservation of their match key.
CREATE INDEX capacity_open ON capacity (account, region, match_key, id) WHERE open = 1 AND usable = 1;

CREATE TABLE capacity_usage (
    account      TEXT NOT NULL,
    region       TEXT NOT NULL,
    reservation  TEXT NOT NULL,
    instance     TEXT NOT NULL,
    user_account TEXT NOT NULL,
    PRIMARY KEY (account, region, reservation, instance)
) WITHOUT ROWID;

-- How many instances each account has in a reservation: `GetCapacityReservationUsage`
-- reads one row per account, whatever the reservation holds. Kept by the same triggers.
CREATE TABLE capacity_accounts (
    account      TEXT NOT NULL,
    region       TEXT NOT NULL,
    reservation  TEXT NOT NULL,
    user_account TEXT NOT NULL,
    used         INTEGER NOT NULL CHECK (used > 0),
    PRIMARY KEY (account, region, reservation, user_account)
) WITHOUT ROWID;

CREATE TRIGGER capacity_usage_occupy AFTER INSERT ON capacity_usage BEGIN
    UPDATE capacity SET used = used + 1
    WHERE account = NEW.account AND region = NEW.region AND id = NEW.reservation;
    INSERT INTO capacity_accounts (account, region, reservation, user_account, used)
    VALUES (NEW.account, NEW.region, NEW.reservation, NEW.user_account, 1)
    ON CONFLICT (account, region, reservation, user_account) DO UPDATE SET used = used + 1;
END;

CREATE TRIGGER capacity_usage_release AFTER DELETE ON capacity_usage BEGIN
    UPDATE capacity SET used = used - 1
    WHERE account = OLD.account AND region = OLD.region AND id = OLD.reservation;
    DELETE FROM capacity_accounts
    WHERE account = OLD.account AND region = OLD.region AND reservation = OLD.reservation
      AND user_account = OLD.user_account AND used = 1;
    UPDATE capacity_accounts SET used = used - 1
    WHERE account = OLD.account AND region = OLD.region AND reservation = OLD.reservation
      AND user_account = OLD.user_account;
END;

-- A resource another account shares with `account` (through a RAM resource share), in
-- the consumer's scope: "may I use it, and whose is it?" is one search of the primary
-- key; "what of this kind is shared with me?" one search of the index.
CREATE TABLE shared_resources (
    account  TEXT NOT NULL,
    region   TEXT NOT NULL,
    resource TEXT NOT NULL,
    share    TEXT NOT NULL,
    kind     TEXT NOT NULL,
    owner    TEXT NOT NULL,
    PRIMARY KEY (account, region, resource, share)
) WITHOUT ROWID;

CREATE INDEX shared_resources_by_kind ON shared_resources (account, region, kind, resource);

-- Resources that leave listings at a time (terminated instances, an hour after their
-- termination), oldest first: later writes remove a few of those due, so listings do not
-- keep passing over them.
CREATE TABLE expiring (
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    at      INTEGER NOT NULL,
    id      TEXT NOT NULL,
    PRIMARY KEY (account, region, kind, at, id)
) WITHOUT ROWID;
