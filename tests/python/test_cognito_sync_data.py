"""Cognito Sync's data path (restJson1): records and datasets written through sync
sessions, the usage they add up to (dataset, identity, pool), the limits, and who may
call what — developer credentials or an identity's own temporary credentials.

Identities come from Cognito Identity (`GetId`), their credentials from
`GetCredentialsForIdentity`. Tests that move the server clock (session expiry,
credential expiry, BulkPublish's once-per-24-hours rule, dates) run their own server so
the shared one's clock never moves.
"""

import datetime

import pytest
from botocore.exceptions import ClientError

from cognito_helpers import (
    DAY,
    HOUR,
    MISSING_IDENTITY,
    MISSING_POOL,
    advance,
    all_records,
    client_with,
    credentials_of,
    dataset_of,
    expect_error,
    identity_client,
    identity_usage,
    listed_pool_usage,
    nbytes,
    new_identity,
    new_pool,
    patches_for,
    pool_usage,
    server_now,
    session,
    update,
    utc_now,
    write,
)
from conftest import DEFAULT_ACCOUNT, OTHER_ACCOUNT, error_code, http_status

LISTEN = ("--ephemeral", "--listen", "127.0.0.1:0")
SECOND = datetime.timedelta(seconds=1)
APP_ARN = "arn:aws:sns:us-east-1:000000000000:app/GCM/reservoir-app"
PUSH_ROLE = "arn:aws:iam::000000000000:role/CognitoPushRole"
STREAM_ROLE = "arn:aws:iam::000000000000:role/CognitoStreamsRole"
LAMBDA_ARN = "arn:aws:lambda:us-east-1:000000000000:function:sync-trigger"
# Cognito Sync's model has no ValidationException: a model constraint violated (pattern,
# length, enum, map size) is InvalidParameterException, 400, with the usual "1 validation
# error detected: …" message (docs/DECISIONS.md).
MODEL_VIOLATION = "InvalidParameterException"


def kv(records):
    """{key: value} of records as the wire gives them (None for a removed record)."""
    return {r["Key"]: r.get("Value") for r in records}


def within(t, start, end):
    """t was taken by the server between two wall-clock readings (milliseconds kept)."""
    return start - SECOND <= t <= end + SECOND


@pytest.fixture
def pool(cognito):
    return new_pool(cognito)


@pytest.fixture
def alice(cognito, pool):
    return new_identity(cognito, pool)


@pytest.fixture
def bob(cognito, pool):
    return new_identity(cognito, pool)


# ============================================================================================
# The story: usage follows the data, through developer and identity credentials
# ============================================================================================


def test_story_pool_usage_follows_the_records(endpoint, cognito, sync):
    start = utc_now()
    pool_id = new_pool(cognito, "story")
    alice, bob = new_identity(cognito, pool_id), new_identity(cognito, pool_id)
    assert alice != bob
    fresh = pool_usage(sync, pool_id)
    assert fresh["DataStorage"] == 0
    assert "SyncSessionsCount" not in fresh

    # Records in several datasets of two identities, each write its own sync session.
    profile = {"name": "Ada", "city": "Zürich"}
    settings = {"theme": "dark", "font": "Ünïcödé ✓"}
    bob_profile = {"name": "Bob"}
    first = write(sync, pool_id, alice, "profile", profile)
    assert kv(first["Records"]) == profile
    assert {r["SyncCount"] for r in first["Records"]} == {1}
    write(sync, pool_id, alice, "settings", settings)
    write(sync, pool_id, bob, "profile", bob_profile)
    end = utc_now()

    total = nbytes(profile) + nbytes(settings) + nbytes(bob_profile)
    # The UTF-8 bytes, not the characters.
    assert total > sum(len(k) + len(v) for d in (profile, settings, bob_profile) for k, v in d.items())
    usage = pool_usage(sync, pool_id)
    assert usage["IdentityPoolId"] == pool_id
    assert usage["DataStorage"] == total
    assert usage["SyncSessionsCount"] == 3
    assert within(usage["LastModifiedDate"], start, end)
    assert usage["LastModifiedDate"] >= fresh["LastModifiedDate"]
    assert listed_pool_usage(sync, pool_id) == usage

    a = identity_usage(sync, pool_id, alice)
    assert (a["IdentityId"], a["IdentityPoolId"]) == (alice, pool_id)
    assert (a["DatasetCount"], a["DataStorage"]) == (2, nbytes(profile) + nbytes(settings))
    b = identity_usage(sync, pool_id, bob)
    assert (b["DatasetCount"], b["DataStorage"]) == (1, nbytes(bob_profile))
    d = dataset_of(sync, pool_id, alice, "profile")
    assert (d["DataStorage"], d["NumRecords"]) == (nbytes(profile), 2)

    # A conflicting write (a stale SyncCount) is refused and changes nothing at all.
    token, current = session(sync, pool_id, alice, "profile")
    assert current["name"]["SyncCount"] == 1
    expect_error(
        "ResourceConflictException",
        409,
        update,
        sync,
        pool_id,
        alice,
        "profile",
        token,
        [
            {"Op": "replace", "Key": "age", "Value": "36", "SyncCount": 0},
            {"Op": "replace", "Key": "name", "Value": "Grace", "SyncCount": 0},
        ],
    )
    assert pool_usage(sync, pool_id) == usage
    assert dataset_of(sync, pool_id, alice, "profile") == d
    records, listed = all_records(sync, pool_id, alice, "profile")
    assert kv(records) == profile
    assert listed["DatasetSyncCount"] == 1

    # A record removed: its bytes leave every total. The same session commits now, and
    # is counted (the refused commit was not).
    removed = update(
        sync, pool_id, alice, "profile", token, [{"Op": "remove", "Key": "city", "SyncCount": 1}]
    )
    assert [(r["Key"], "Value" in r, r["SyncCount"]) for r in removed["Records"]] == [
        ("city", False, 2)
    ]
    city = nbytes({"city": profile["city"]})
    after_remove = pool_usage(sync, pool_id)
    assert after_remove["DataStorage"] == total - city
    assert after_remove["SyncSessionsCount"] == 4

    # A dataset deleted: answered as it was, and its bytes leave the totals.
    gone = sync.delete_dataset(IdentityPoolId=pool_id, IdentityId=alice, DatasetName="settings")
    assert http_status(gone) == 200
    assert gone["Dataset"]["DatasetName"] == "settings"
    assert (gone["Dataset"]["DataStorage"], gone["Dataset"]["NumRecords"]) == (nbytes(settings), 2)
    after_delete = pool_usage(sync, pool_id)
    assert after_delete["DataStorage"] == total - city - nbytes(settings)
    assert after_delete["SyncSessionsCount"] == 4
    assert after_delete["LastModifiedDate"] >= after_remove["LastModifiedDate"]
    assert listed_pool_usage(sync, pool_id) == after_delete
    a = identity_usage(sync, pool_id, alice)
    assert (a["DatasetCount"], a["DataStorage"]) == (1, nbytes({"name": "Ada"}))
    expect_error(
        "ResourceNotFoundException",
        404,
        sync.describe_dataset,
        IdentityPoolId=pool_id,
        IdentityId=alice,
        DatasetName="settings",
    )

    # The same data path, signed with Bob's own temporary credentials.
    bob_sync = identity_client(endpoint, cognito, bob)
    mine = write(bob_sync, pool_id, bob, "profile", {"name": "Robert", "lang": "fr"})
    assert kv(mine["Records"]) == {"name": "Robert", "lang": "fr"}
    assert {(r["SyncCount"], r["LastModifiedBy"]) for r in mine["Records"]} == {(2, bob)}
    records, listed = all_records(bob_sync, pool_id, bob, "profile")
    assert kv(records) == {"name": "Robert", "lang": "fr"}
    assert listed["LastModifiedBy"] == bob
    assert [x["DatasetName"] for x in bob_sync.list_datasets(IdentityPoolId=pool_id, IdentityId=bob)["Datasets"]] == ["profile"]
    own = identity_usage(bob_sync, pool_id, bob)
    assert (own["DatasetCount"], own["DataStorage"]) == (1, nbytes({"name": "Robert", "lang": "fr"}))
    final = pool_usage(sync, pool_id)
    assert final["DataStorage"] == (
        after_delete["DataStorage"] - nbytes(bob_profile) + nbytes({"name": "Robert", "lang": "fr"})
    )
    assert final["SyncSessionsCount"] == 5

    # Those credentials do not read the pool's usage, nor Alice's data.
    expect_error("NotAuthorizedException", 403, bob_sync.describe_identity_pool_usage, IdentityPoolId=pool_id)
    expect_error("NotAuthorizedException", 403, bob_sync.list_identity_pool_usage)
    expect_error(
        "NotAuthorizedException",
        403,
        bob_sync.list_records,
        IdentityPoolId=pool_id,
        IdentityId=alice,
        DatasetName="profile",
    )
    assert pool_usage(sync, pool_id) == final


# ============================================================================================
# ListRecords
# ============================================================================================


def test_list_records_of_a_missing_dataset(sync, pool, alice):
    resp = sync.list_records(IdentityPoolId=pool, IdentityId=alice, DatasetName="nothing-yet")
    assert http_status(resp) == 200
    assert resp["Records"] == []
    assert resp["Count"] == 0
    assert resp["DatasetSyncCount"] == 0
    assert resp["DatasetExists"] is False
    assert resp["DatasetDeletedAfterRequestedSyncCount"] is False
    assert "LastModifiedBy" not in resp
    assert "MergedDatasetNames" not in resp
    assert "NextToken" not in resp
    assert resp["SyncSessionToken"]
    # Listing creates nothing.
    expect_error(
        "ResourceNotFoundException",
        404,
        sync.describe_dataset,
        IdentityPoolId=pool,
        IdentityId=alice,
        DatasetName="nothing-yet",
    )
    assert identity_usage(sync, pool, alice)["DatasetCount"] == 0
    assert "SyncSessionsCount" not in pool_usage(sync, pool)


def test_list_records_shape(sync, pool, alice):
    device_date = datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc)
    token, _ = session(sync, pool, alice, "notes")
    start = utc_now()
    update(
        sync,
        pool,
        alice,
        "notes",
        token,
        [{"Op": "replace", "Key": "k", "Value": "v", "SyncCount": 0, "DeviceLastModifiedDate": device_date}],
    )
    end = utc_now()
    resp = sync.list_records(IdentityPoolId=pool, IdentityId=alice, DatasetName="notes")
    assert resp["Count"] == 1
    assert resp["DatasetSyncCount"] == 1
    assert resp["DatasetExists"] is True
    assert resp["DatasetDeletedAfterRequestedSyncCount"] is False
    assert resp["LastModifiedBy"] == DEFAULT_ACCOUNT
    [r] = resp["Records"]
    assert (r["Key"], r["Value"], r["SyncCount"], r["LastModifiedBy"]) == ("k", "v", 1, DEFAULT_ACCOUNT)
    assert r["DeviceLastModifiedDate"] == device_date
    assert within(r["LastModifiedDate"], start, end)


def test_every_list_records_gives_a_new_session_token(sync, pool, alice):
    tokens = {
        sync.list_records(IdentityPoolId=pool, IdentityId=alice, DatasetName="d")["SyncSessionToken"]
        for _ in range(3)
    }
    assert len(tokens) == 3


def seven_records_in_three_syncs(sync, pool, identity, dataset="pages"):
    write(sync, pool, identity, dataset, {"a": "1", "b": "2", "c": "3"})
    write(sync, pool, identity, dataset, {"d": "4", "e": "5"})
    write(sync, pool, identity, dataset, {"f": "6", "g": "7"})


def test_list_records_pages_in_sync_count_then_key_order(sync, pool, alice):
    seven_records_in_three_syncs(sync, pool, alice)
    pages = []
    token = None
    while True:
        kw = dict(IdentityPoolId=pool, IdentityId=alice, DatasetName="pages", MaxResults=3)
        if token:
            kw["NextToken"] = token
        resp = sync.list_records(**kw)
        assert resp["Count"] == len(resp["Records"])
        assert resp["DatasetSyncCount"] == 3
        assert resp["DatasetExists"] is True
        pages.append([(r["Key"], r["SyncCount"]) for r in resp["Records"]])
        token = resp.get("NextToken")
        if not token:
            break
        assert len(pages) < 10
    assert pages == [
        [("a", 1), ("b", 1), ("c", 1)],
        [("d", 2), ("e", 2), ("f", 3)],
        [("g", 3)],
    ]


def test_list_records_since_a_sync_count(sync, pool, alice):
    seven_records_in_three_syncs(sync, pool, alice)
    since_one, last = all_records(sync, pool, alice, "pages", LastSyncCount=1)
    assert [r["Key"] for r in since_one] == ["d", "e", "f", "g"]
    assert last["DatasetDeletedAfterRequestedSyncCount"] is False
    since_one_paged, _ = all_records(sync, pool, alice, "pages", LastSyncCount=1, MaxResults=1)
    assert [r["Key"] for r in since_one_paged] == ["d", "e", "f", "g"]
    since_three, last = all_records(sync, pool, alice, "pages", LastSyncCount=3)
    assert since_three == []
    assert last["Count"] == 0
    assert last["DatasetSyncCount"] == 3
    assert last["DatasetDeletedAfterRequestedSyncCount"] is False
    # A record written again moves to the end with the new count.
    write(sync, pool, alice, "pages", {"a": "one"})
    everything, _ = all_records(sync, pool, alice, "pages")
    assert [(r["Key"], r["SyncCount"]) for r in everything] == [
        ("b", 1), ("c", 1), ("d", 2), ("e", 2), ("f", 3), ("g", 3), ("a", 4)
    ]
    since_three, _ = all_records(sync, pool, alice, "pages", LastSyncCount=3)
    assert kv(since_three) == {"a": "one"}


def test_removed_records_are_reported_as_tombstones(sync, pool, alice):
    write(sync, pool, alice, "t", {"keep": "1", "drop": "22", "also": "333"})
    resp = write(sync, pool, alice, "t", remove=["drop", "also"])
    assert sorted((r["Key"], "Value" in r, r["SyncCount"]) for r in resp["Records"]) == [
        ("also", False, 2),
        ("drop", False, 2),
    ]
    # A device that last synced at count 1 learns of the removals.
    since, last = all_records(sync, pool, alice, "t", LastSyncCount=1)
    assert kv(since) == {"also": None, "drop": None}
    assert all("Value" not in r and r["SyncCount"] == 2 for r in since)
    assert last["DatasetSyncCount"] == 2
    # A full listing has them too; the dataset counts only the live record.
    full, _ = all_records(sync, pool, alice, "t")
    assert kv(full) == {"keep": "1", "also": None, "drop": None}
    d = dataset_of(sync, pool, alice, "t")
    assert (d["NumRecords"], d["DataStorage"]) == (1, nbytes({"keep": "1"}))


def test_list_records_bad_arguments(sync, pool, alice):
    write(sync, pool, alice, "d", {"a": "1", "b": "2"})
    for bad in (0, 1025, -1):
        expect_error(
            "InvalidParameterException",
            400,
            sync.list_records,
            IdentityPoolId=pool,
            IdentityId=alice,
            DatasetName="d",
            MaxResults=bad,
        )
    expect_error(
        "InvalidParameterException",
        400,
        sync.list_records,
        IdentityPoolId=pool,
        IdentityId=alice,
        DatasetName="d",
        LastSyncCount=-1,
    )
    expect_error(
        "InvalidParameterException",
        400,
        sync.list_records,
        IdentityPoolId=pool,
        IdentityId=alice,
        DatasetName="d",
        NextToken="not-a-token",
    )
    # A NextToken belongs to its listing: not to another lastSyncCount.
    first = sync.list_records(IdentityPoolId=pool, IdentityId=alice, DatasetName="d", MaxResults=1)
    assert first.get("NextToken")
    expect_error(
        "InvalidParameterException",
        400,
        sync.list_records,
        IdentityPoolId=pool,
        IdentityId=alice,
        DatasetName="d",
        MaxResults=1,
        LastSyncCount=1,
        NextToken=first["NextToken"],
    )
    # Nor to another dataset.
    expect_error(
        "InvalidParameterException",
        400,
        sync.list_records,
        IdentityPoolId=pool,
        IdentityId=alice,
        DatasetName="other",
        NextToken=first["NextToken"],
    )


# ============================================================================================
# UpdateRecords
# ============================================================================================


def test_update_records_creates_the_dataset_and_answers_what_it_wrote(sync, pool, alice):
    device_date = datetime.datetime(2023, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    token, current = session(sync, pool, alice, "fresh")
    assert current == {}
    start = utc_now()
    resp = sync.update_records(
        IdentityPoolId=pool,
        IdentityId=alice,
        DatasetName="fresh",
        SyncSessionToken=token,
        DeviceId="device-1",
        ClientContext="eyJjbGllbnQiOnt9fQ==",
        RecordPatches=[
            {"Op": "replace", "Key": "x", "Value": "10", "SyncCount": 0, "DeviceLastModifiedDate": device_date},
            {"Op": "replace", "Key": "y", "Value": "", "SyncCount": 0},
        ],
    )
    end = utc_now()
    assert http_status(resp) == 200
    by_key = {r["Key"]: r for r in resp["Records"]}
    assert set(by_key) == {"x", "y"}
    assert by_key["x"]["Value"] == "10"
    assert by_key["y"]["Value"] == ""
    for r in by_key.values():
        assert r["SyncCount"] == 1
        assert r["LastModifiedBy"] == "device-1"
        assert within(r["LastModifiedDate"], start, end)
    assert by_key["x"]["DeviceLastModifiedDate"] == device_date
    d = dataset_of(sync, pool, alice, "fresh")
    assert d["IdentityId"] == alice
    assert d["DatasetName"] == "fresh"
    assert d["LastModifiedBy"] == "device-1"
    assert (d["NumRecords"], d["DataStorage"]) == (2, nbytes({"x": "10", "y": ""}))
    assert within(d["CreationDate"], start, end)
    assert d["LastModifiedDate"] == d["CreationDate"]


def test_each_sync_moves_the_dataset_count_by_one(sync, pool, alice):
    for n in range(1, 4):
        resp = write(sync, pool, alice, "counter", {"n": str(n), f"k{n}": "v"})
        assert {r["SyncCount"] for r in resp["Records"]} == {n}
        assert sync.list_records(IdentityPoolId=pool, IdentityId=alice, DatasetName="counter")["DatasetSyncCount"] == n
    records, _ = all_records(sync, pool, alice, "counter")
    assert {r["Key"]: r["SyncCount"] for r in records} == {"k1": 1, "k2": 2, "n": 3, "k3": 3}


@pytest.mark.parametrize(
    "patch",
    [
        {"Op": "replace", "Key": "a", "Value": "new", "SyncCount": 0},
        {"Op": "replace", "Key": "a", "Value": "new", "SyncCount": 2},
        {"Op": "remove", "Key": "a", "SyncCount": 0},
        {"Op": "remove", "Key": "a", "SyncCount": 7},
        {"Op": "replace", "Key": "brand-new", "Value": "v", "SyncCount": 1},
    ],
    ids=["replace-stale-0", "replace-ahead", "remove-stale-0", "remove-ahead", "new-key-nonzero"],
)
def test_conflicting_patch_is_refused_and_nothing_is_stored(sync, pool, alice, patch):
    write(sync, pool, alice, "c", {"a": "old", "b": "bee"})
    before_ds = dataset_of(sync, pool, alice, "c")
    before_pool = pool_usage(sync, pool)
    before_identity = identity_usage(sync, pool, alice)
    token, _ = session(sync, pool, alice, "c")
    good = {"Op": "replace", "Key": "z", "Value": "zed", "SyncCount": 0}
    e = expect_error("ResourceConflictException", 409, update, sync, pool, alice, "c", token, [good, patch])
    assert e.response["Error"]["Message"]
    records, listed = all_records(sync, pool, alice, "c")
    assert kv(records) == {"a": "old", "b": "bee"}
    assert listed["DatasetSyncCount"] == 1
    assert dataset_of(sync, pool, alice, "c") == before_ds
    assert pool_usage(sync, pool) == before_pool
    assert identity_usage(sync, pool, alice) == before_identity


def test_conflict_on_a_new_dataset_creates_nothing(sync, pool, alice):
    token, _ = session(sync, pool, alice, "never")
    expect_error(
        "ResourceConflictException",
        409,
        update,
        sync,
        pool,
        alice,
        "never",
        token,
        [{"Op": "replace", "Key": "k", "Value": "v", "SyncCount": 3}],
    )
    expect_error(
        "ResourceNotFoundException", 404, sync.describe_dataset, IdentityPoolId=pool, IdentityId=alice, DatasetName="never"
    )
    assert identity_usage(sync, pool, alice)["DatasetCount"] == 0
    assert "SyncSessionsCount" not in pool_usage(sync, pool)


def test_a_removed_key_may_be_written_again(sync, pool, alice):
    write(sync, pool, alice, "r", {"k": "first", "other": "x"})
    write(sync, pool, alice, "r", remove=["k"])
    # With 0, as for a key the device never saw…
    token, current = session(sync, pool, alice, "r")
    assert current["k"]["SyncCount"] == 2 and "Value" not in current["k"]
    resp = update(sync, pool, alice, "r", token, [{"Op": "replace", "Key": "k", "Value": "again", "SyncCount": 0}])
    assert [(r["Key"], r["Value"], r["SyncCount"]) for r in resp["Records"]] == [("k", "again", 3)]
    write(sync, pool, alice, "r", remove=["k"])
    # …or with the tombstone's own count.
    token, current = session(sync, pool, alice, "r")
    resp = update(
        sync, pool, alice, "r", token,
        [{"Op": "replace", "Key": "k", "Value": "third", "SyncCount": current["k"]["SyncCount"]}],
    )
    assert kv(resp["Records"]) == {"k": "third"}
    # A stale count that is neither is still a conflict.
    write(sync, pool, alice, "r", remove=["k"])
    token, _ = session(sync, pool, alice, "r")
    expect_error(
        "ResourceConflictException", 409, update, sync, pool, alice, "r", token,
        [{"Op": "replace", "Key": "k", "Value": "x", "SyncCount": 1}],
    )
    d = dataset_of(sync, pool, alice, "r")
    assert (d["NumRecords"], d["DataStorage"]) == (1, nbytes({"other": "x"}))


def test_removing_a_key_that_is_not_there_changes_nothing(sync, pool, alice):
    write(sync, pool, alice, "n", {"a": "1"})
    before = dataset_of(sync, pool, alice, "n")
    before_bytes = pool_usage(sync, pool)["DataStorage"]
    token, _ = session(sync, pool, alice, "n")
    resp = update(sync, pool, alice, "n", token, [{"Op": "remove", "Key": "ghost", "SyncCount": 0}])
    assert resp["Records"] == []
    assert dataset_of(sync, pool, alice, "n") == before
    listed = sync.list_records(IdentityPoolId=pool, IdentityId=alice, DatasetName="n")
    assert listed["DatasetSyncCount"] == 1
    assert kv(listed["Records"]) == {"a": "1"}
    assert pool_usage(sync, pool)["DataStorage"] == before_bytes


@pytest.mark.parametrize(
    "patches",
    [
        [
            {"Op": "replace", "Key": "dup", "Value": "1", "SyncCount": 0},
            {"Op": "replace", "Key": "dup", "Value": "2", "SyncCount": 0},
        ],
        [
            {"Op": "replace", "Key": "dup", "Value": "1", "SyncCount": 0},
            {"Op": "remove", "Key": "dup", "SyncCount": 0},
        ],
        [{"Op": "replace", "Key": "neg", "Value": "1", "SyncCount": -1}],
        [{"Op": "replace", "Key": "novalue", "SyncCount": 0}],
        [{"Op": "replace", "Key": f"k{i}", "Value": "v", "SyncCount": 0} for i in range(1025)],
    ],
    ids=["duplicate-key", "duplicate-key-mixed-ops", "negative-sync-count", "replace-without-value", "1025-patches"],
)
def test_invalid_patches(sync, pool, alice, patches):
    token, _ = session(sync, pool, alice, "inv")
    expect_error("InvalidParameterException", 400, update, sync, pool, alice, "inv", token, patches)
    expect_error(
        "ResourceNotFoundException", 404, sync.describe_dataset, IdentityPoolId=pool, IdentityId=alice, DatasetName="inv"
    )
    assert pool_usage(sync, pool)["DataStorage"] == 0


def test_two_devices_syncing_from_the_same_count_conflict(sync, pool, alice):
    """The mobile SDKs' flow: both devices pull at count 1; the first push wins, the
    second is refused until it pulls again and merges."""
    write(sync, pool, alice, "shared", {"k": "base", "other": "o"})
    token_a, seen_a = session(sync, pool, alice, "shared")
    token_b, seen_b = session(sync, pool, alice, "shared")
    assert seen_a == seen_b and seen_a["k"]["SyncCount"] == 1
    won = update(
        sync, pool, alice, "shared", token_a,
        [{"Op": "replace", "Key": "k", "Value": "from A", "SyncCount": 1}], DeviceId="device-a",
    )
    assert [(r["Key"], r["SyncCount"], r["LastModifiedBy"]) for r in won["Records"]] == [("k", 2, "device-a")]
    expect_error(
        "ResourceConflictException", 409, update, sync, pool, alice, "shared", token_b,
        [{"Op": "replace", "Key": "k", "Value": "from B", "SyncCount": 1}], DeviceId="device-b",
    )
    # B pulls what changed since it last synced, and pushes on top of it.
    changed, listed = all_records(sync, pool, alice, "shared", LastSyncCount=1)
    assert kv(changed) == {"k": "from A"} and listed["DatasetSyncCount"] == 2
    token_b, _ = session(sync, pool, alice, "shared")
    update(
        sync, pool, alice, "shared", token_b,
        [{"Op": "replace", "Key": "k", "Value": "from B", "SyncCount": 2}], DeviceId="device-b",
    )
    records, listed = all_records(sync, pool, alice, "shared")
    assert kv(records) == {"k": "from B", "other": "o"}
    assert listed["LastModifiedBy"] == "device-b"
    assert dataset_of(sync, pool, alice, "shared")["DataStorage"] == nbytes({"k": "from B", "other": "o"})


def test_key_and_value_lengths(sync, pool, alice):
    longest_key = "k" * 1024
    longest_value = "v" * (1024 * 1024 - 1024)
    write(sync, pool, alice, "len", {longest_key: longest_value})
    assert dataset_of(sync, pool, alice, "len")["DataStorage"] == 1024 * 1024
    sync.delete_dataset(IdentityPoolId=pool, IdentityId=alice, DatasetName="len")
    token, _ = session(sync, pool, alice, "len")
    e = expect_error(
        MODEL_VIOLATION, 400, update, sync, pool, alice, "len", token,
        [{"Op": "replace", "Key": "k" * 1025, "Value": "v", "SyncCount": 0}],
    )
    assert "1 validation error detected" in e.response["Error"]["Message"]
    expect_error(
        MODEL_VIOLATION, 400, update, sync, pool, alice, "len", token,
        [{"Op": "replace", "Key": "k", "Value": "v" * 1048576, "SyncCount": 0}],
    )
    assert pool_usage(sync, pool)["DataStorage"] == 0


def test_unknown_op_is_a_model_violation(sync, pool, alice):
    token, _ = session(sync, pool, alice, "inv")
    expect_error(
        MODEL_VIOLATION, 400, update, sync, pool, alice, "inv", token,
        [{"Op": "upsert", "Key": "k", "Value": "v", "SyncCount": 0}],
    )


def test_session_token_must_be_this_datasets(sync, pool, alice, bob):
    patch = [{"Op": "replace", "Key": "k", "Value": "v", "SyncCount": 0}]
    for token in ("garbage", "A" * 200):
        expect_error("InvalidParameterException", 400, update, sync, pool, alice, "d", token, patch)
    other_dataset, _ = session(sync, pool, alice, "other")
    expect_error("InvalidParameterException", 400, update, sync, pool, alice, "d", other_dataset, patch)
    other_identity, _ = session(sync, pool, bob, "d")
    expect_error("InvalidParameterException", 400, update, sync, pool, alice, "d", other_identity, patch)
    # A token that is almost right: one character changed.
    good, _ = session(sync, pool, alice, "d")
    i = len(good) // 2
    tampered = good[:i] + ("B" if good[i] != "B" else "C") + good[i + 1:]
    expect_error("InvalidParameterException", 400, update, sync, pool, alice, "d", tampered, patch)
    assert "SyncSessionsCount" not in pool_usage(sync, pool)
    # The right one works.
    update(sync, pool, alice, "d", good, patch)
    assert pool_usage(sync, pool)["SyncSessionsCount"] == 1


def test_session_token_is_bound_to_account_and_region(sync, client_factory, cognito, pool, alice):
    token, _ = session(sync, pool, alice, "d")
    patch = [{"Op": "replace", "Key": "k", "Value": "v", "SyncCount": 0}]
    for other in (
        client_factory("cognito-sync", key=OTHER_ACCOUNT),
        client_factory("cognito-sync", region="us-west-2"),
    ):
        with pytest.raises(ClientError) as e:
            update(other, pool, alice, "d", token, patch)
        # The token is not this account's/region's, nor is the pool: either answer refuses.
        assert (error_code(e.value), http_status(e.value)) in {
            ("InvalidParameterException", 400),
            ("ResourceNotFoundException", 404),
        }
    expect_error(
        "ResourceNotFoundException", 404, sync.describe_dataset, IdentityPoolId=pool, IdentityId=alice, DatasetName="d"
    )


# ============================================================================================
# Sync sessions
# ============================================================================================


def test_sync_sessions_are_counted_once_per_token(sync, pool, alice, bob):
    assert "SyncSessionsCount" not in pool_usage(sync, pool)
    token, _ = session(sync, pool, alice, "s")
    update(sync, pool, alice, "s", token, [{"Op": "replace", "Key": "a", "Value": "1", "SyncCount": 0}])
    assert pool_usage(sync, pool)["SyncSessionsCount"] == 1
    # The same token again: the same session.
    update(sync, pool, alice, "s", token, [{"Op": "replace", "Key": "b", "Value": "2", "SyncCount": 0}])
    assert pool_usage(sync, pool)["SyncSessionsCount"] == 1
    # Listing alone is no session.
    for _ in range(3):
        session(sync, pool, alice, "s")
    assert pool_usage(sync, pool)["SyncSessionsCount"] == 1
    # Two more tokens, two more sessions (another identity's counts in the same pool).
    t2, _ = session(sync, pool, alice, "s")
    t3, _ = session(sync, pool, bob, "s")
    update(sync, pool, alice, "s", t2, [{"Op": "replace", "Key": "c", "Value": "3", "SyncCount": 0}])
    update(sync, pool, bob, "s", t3, [{"Op": "replace", "Key": "c", "Value": "3", "SyncCount": 0}])
    usage = pool_usage(sync, pool)
    assert usage["SyncSessionsCount"] == 3
    assert listed_pool_usage(sync, pool)["SyncSessionsCount"] == 3
    assert usage["DataStorage"] == nbytes({"a": "1", "b": "2", "c": "3"}) + nbytes({"c": "3"})


def test_a_refused_commit_is_no_session(sync, pool, alice):
    write(sync, pool, alice, "s", {"a": "1"})
    assert pool_usage(sync, pool)["SyncSessionsCount"] == 1
    token, _ = session(sync, pool, alice, "s")
    for bad in (
        [{"Op": "replace", "Key": "a", "Value": "2", "SyncCount": 0}],  # conflict
        [{"Op": "replace", "Key": "x", "SyncCount": 0}],  # invalid
    ):
        with pytest.raises(ClientError):
            update(sync, pool, alice, "s", token, bad)
    assert pool_usage(sync, pool)["SyncSessionsCount"] == 1
    update(sync, pool, alice, "s", token, [{"Op": "replace", "Key": "a", "Value": "2", "SyncCount": 1}])
    assert pool_usage(sync, pool)["SyncSessionsCount"] == 2


def test_sessions_of_one_pool_do_not_count_in_another(cognito, sync):
    p1, p2 = new_pool(cognito, "one"), new_pool(cognito, "two")
    i1, i2 = new_identity(cognito, p1), new_identity(cognito, p2)
    write(sync, p1, i1, "d", {"k": "v"})
    write(sync, p1, i1, "d", {"k": "w"})
    write(sync, p2, i2, "d", {"long-key": "value"})
    u1, u2 = pool_usage(sync, p1), pool_usage(sync, p2)
    assert (u1["SyncSessionsCount"], u1["DataStorage"]) == (2, nbytes({"k": "w"}))
    assert (u2["SyncSessionsCount"], u2["DataStorage"]) == (1, nbytes({"long-key": "value"}))
    listed = {u["IdentityPoolId"]: u for u in sync.list_identity_pool_usage()["IdentityPoolUsages"]}
    assert listed == {p1: u1, p2: u2}


# ============================================================================================
# Datasets
# ============================================================================================


def test_list_datasets_shape_and_paging(sync, pool, alice, bob):
    assert sync.list_datasets(IdentityPoolId=pool, IdentityId=alice)["Datasets"] == []
    names = ["e-five", "a-one", "d-four", "b-two", "c-three"]
    start = utc_now()
    for n in names:
        write(sync, pool, alice, n, {n: "x" * len(n)})
    end = utc_now()
    write(sync, pool, bob, "bobs", {"k": "v"})
    resp = sync.list_datasets(IdentityPoolId=pool, IdentityId=alice)
    assert resp["Count"] == 5
    assert "NextToken" not in resp
    assert [d["DatasetName"] for d in resp["Datasets"]] == sorted(names)
    for d in resp["Datasets"]:
        n = d["DatasetName"]
        assert d["IdentityId"] == alice
        assert (d["NumRecords"], d["DataStorage"]) == (1, 2 * len(n))
        assert d["LastModifiedBy"] == DEFAULT_ACCOUNT
        assert within(d["CreationDate"], start, end)
        assert within(d["LastModifiedDate"], start, end)
        assert d == dataset_of(sync, pool, alice, n)
    pages, token = [], None
    while True:
        kw = dict(IdentityPoolId=pool, IdentityId=alice, MaxResults=2)
        if token:
            kw["NextToken"] = token
        page = sync.list_datasets(**kw)
        assert page["Count"] == len(page["Datasets"]) <= 2
        pages.append([d["DatasetName"] for d in page["Datasets"]])
        token = page.get("NextToken")
        if not token:
            break
        assert len(pages) < 10
    assert pages == [["a-one", "b-two"], ["c-three", "d-four"], ["e-five"]]


def test_list_datasets_bad_arguments(sync, pool, alice, bob):
    write(sync, pool, alice, "a", {"k": "v"})
    write(sync, pool, alice, "b", {"k": "v"})
    for bad in (0, 21):
        expect_error(
            "InvalidParameterException", 400, sync.list_datasets, IdentityPoolId=pool, IdentityId=alice, MaxResults=bad
        )
    expect_error(
        "InvalidParameterException", 400, sync.list_datasets, IdentityPoolId=pool, IdentityId=alice, NextToken="zzz"
    )
    # A NextToken of one identity's listing is not another's.
    token = sync.list_datasets(IdentityPoolId=pool, IdentityId=alice, MaxResults=1)["NextToken"]
    expect_error(
        "InvalidParameterException", 400, sync.list_datasets, IdentityPoolId=pool, IdentityId=bob, NextToken=token
    )


def test_describe_dataset_of_a_missing_dataset(sync, pool, alice):
    e = expect_error(
        "ResourceNotFoundException", 404, sync.describe_dataset, IdentityPoolId=pool, IdentityId=alice, DatasetName="none"
    )
    assert "none" in e.response["Error"]["Message"]


def test_delete_dataset(sync, pool, alice, bob):
    data = {"one": "1", "two": "22", "three": "333"}
    write(sync, pool, alice, "del", data)
    write(sync, pool, alice, "del", remove=["one"])
    write(sync, pool, alice, "keep", {"k": "v"})
    write(sync, pool, bob, "del", {"bob": "b"})
    before = dataset_of(sync, pool, alice, "del")
    pool_before = pool_usage(sync, pool)["DataStorage"]
    resp = sync.delete_dataset(IdentityPoolId=pool, IdentityId=alice, DatasetName="del")
    assert http_status(resp) == 200
    assert resp["Dataset"] == before
    assert (before["NumRecords"], before["DataStorage"]) == (2, nbytes({"two": "22", "three": "333"}))
    expect_error(
        "ResourceNotFoundException", 404, sync.describe_dataset, IdentityPoolId=pool, IdentityId=alice, DatasetName="del"
    )
    expect_error(
        "ResourceNotFoundException", 404, sync.delete_dataset, IdentityPoolId=pool, IdentityId=alice, DatasetName="del"
    )
    assert pool_usage(sync, pool)["DataStorage"] == pool_before - before["DataStorage"]
    u = identity_usage(sync, pool, alice)
    assert (u["DatasetCount"], u["DataStorage"]) == (1, nbytes({"k": "v"}))
    assert [d["DatasetName"] for d in sync.list_datasets(IdentityPoolId=pool, IdentityId=alice)["Datasets"]] == ["keep"]
    # Bob's dataset of the same name is his own.
    assert kv(all_records(sync, pool, bob, "del")[0]) == {"bob": "b"}

    # A device that synced before the deletion is told so.
    gone = sync.list_records(IdentityPoolId=pool, IdentityId=alice, DatasetName="del", LastSyncCount=2)
    assert gone["DatasetExists"] is False
    assert gone["DatasetDeletedAfterRequestedSyncCount"] is True
    assert (gone["Count"], gone["Records"], gone["DatasetSyncCount"]) == (0, [], 0)
    fresh = sync.list_records(IdentityPoolId=pool, IdentityId=alice, DatasetName="del")
    assert fresh["DatasetDeletedAfterRequestedSyncCount"] is False

    # The name can be used again: a new dataset, counting from the start, with no trace
    # of the old records.
    resp = write(sync, pool, alice, "del", {"new": "n"})
    assert {r["SyncCount"] for r in resp["Records"]} == {1}
    records, listed = all_records(sync, pool, alice, "del")
    assert kv(records) == {"new": "n"}
    assert listed["DatasetSyncCount"] == 1
    # A device at count 2 of the old dataset is still told it was deleted.
    assert sync.list_records(
        IdentityPoolId=pool, IdentityId=alice, DatasetName="del", LastSyncCount=2
    )["DatasetDeletedAfterRequestedSyncCount"] is True


# ============================================================================================
# DescribeIdentityUsage
# ============================================================================================


def test_identity_usage_of_an_identity_without_data(cognito, sync, pool):
    start = utc_now()
    identity = new_identity(cognito, pool)
    end = utc_now()
    u = identity_usage(sync, pool, identity)
    assert (u["IdentityId"], u["IdentityPoolId"]) == (identity, pool)
    assert (u["DatasetCount"], u["DataStorage"]) == (0, 0)
    # Never synced: the identity's creation time.
    assert within(u["LastModifiedDate"], start, end)


def test_identity_usage_follows_the_data(sync, pool, alice, bob):
    write(sync, pool, alice, "a", {"k1": "v1", "k2": "vv2"})
    write(sync, pool, alice, "b", {"ü": "ö"})
    write(sync, pool, bob, "a", {"x": "y"})
    start = utc_now()
    write(sync, pool, alice, "a", {"k1": "longer value"})
    end = utc_now()
    u = identity_usage(sync, pool, alice)
    expected = nbytes({"k1": "longer value", "k2": "vv2"}) + nbytes({"ü": "ö"})
    assert (u["DatasetCount"], u["DataStorage"]) == (2, expected)
    assert within(u["LastModifiedDate"], start, end)
    assert u["LastModifiedDate"] == dataset_of(sync, pool, alice, "a")["LastModifiedDate"]
    # Datasets add up to the identity, identities to the pool.
    datasets = sync.list_datasets(IdentityPoolId=pool, IdentityId=alice)["Datasets"]
    assert sum(d["DataStorage"] for d in datasets) == u["DataStorage"]
    assert pool_usage(sync, pool)["DataStorage"] == u["DataStorage"] + identity_usage(sync, pool, bob)["DataStorage"]


# ============================================================================================
# Limits
# ============================================================================================


def test_dataset_holds_at_most_one_megabyte(sync, pool, alice):
    limit = 1024 * 1024
    value = "v" * (limit // 4 - 2)
    big = {f"k{i}": value for i in range(4)}  # keys of 2 bytes: exactly 1 MB
    assert nbytes(big) == limit
    write(sync, pool, alice, "big", big)
    d = dataset_of(sync, pool, alice, "big")
    assert (d["DataStorage"], d["NumRecords"]) == (limit, 4)
    assert pool_usage(sync, pool)["DataStorage"] == limit

    # One byte more is refused, and nothing of the call is stored.
    e = expect_error("LimitExceededException", 400, write, sync, pool, alice, "big", {"z": ""})
    assert e.response["Error"]["Message"]
    expect_error(
        "LimitExceededException", 400, write, sync, pool, alice, "big", {"k0": value + "x", "new": "ok"}
    )
    assert dataset_of(sync, pool, alice, "big") == d
    # The limit is on the result: removing as much as is added fits.
    write(sync, pool, alice, "big", {"k4": value}, remove=["k0"])
    d = dataset_of(sync, pool, alice, "big")
    assert (d["DataStorage"], d["NumRecords"]) == (limit, 4)
    # Shrinking one value makes room for exactly as many bytes.
    write(sync, pool, alice, "big", {"k1": value[:-3]})
    write(sync, pool, alice, "big", {"abc": ""})
    assert dataset_of(sync, pool, alice, "big")["DataStorage"] == limit
    expect_error("LimitExceededException", 400, write, sync, pool, alice, "big", {"a": ""})
    assert pool_usage(sync, pool)["DataStorage"] == limit


def test_one_megabyte_is_counted_in_utf8_bytes(sync, pool, alice):
    limit = 1024 * 1024
    # 524287 two-byte characters: far fewer characters than the limit, 1 byte short of it
    # with the key.
    write(sync, pool, alice, "utf8", {"k": "é" * 524287})
    assert dataset_of(sync, pool, alice, "utf8")["DataStorage"] == limit - 1
    expect_error("LimitExceededException", 400, write, sync, pool, alice, "utf8", {"é": ""})
    write(sync, pool, alice, "utf8", {"m": ""})
    assert dataset_of(sync, pool, alice, "utf8")["DataStorage"] == limit
    # Another dataset of the same identity has its own megabyte.
    write(sync, pool, alice, "second", {"k": "x" * 1000})
    assert identity_usage(sync, pool, alice)["DataStorage"] == limit + 1001


def test_identity_has_at_most_twenty_datasets(sync, pool, alice, bob):
    for i in range(20):
        write(sync, pool, alice, f"ds{i:02}", {"k": str(i)})
    assert identity_usage(sync, pool, alice)["DatasetCount"] == 20
    listed = sync.list_datasets(IdentityPoolId=pool, IdentityId=alice)
    assert listed["Count"] == 20 and "NextToken" not in listed
    before = pool_usage(sync, pool)
    e = expect_error("LimitExceededException", 400, write, sync, pool, alice, "ds20", {"k": "20"})
    assert e.response["Error"]["Message"]
    expect_error(
        "ResourceNotFoundException", 404, sync.describe_dataset, IdentityPoolId=pool, IdentityId=alice, DatasetName="ds20"
    )
    assert pool_usage(sync, pool)["DataStorage"] == before["DataStorage"]
    # The existing ones still take writes; another identity has its own twenty.
    write(sync, pool, alice, "ds00", {"k": "again"})
    write(sync, pool, bob, "ds20", {"k": "20"})
    # One deleted makes room for one.
    sync.delete_dataset(IdentityPoolId=pool, IdentityId=alice, DatasetName="ds05")
    write(sync, pool, alice, "ds20", {"k": "20"})
    assert identity_usage(sync, pool, alice)["DatasetCount"] == 20
    expect_error("LimitExceededException", 400, write, sync, pool, alice, "ds21", {"k": "21"})


def test_dataset_holds_at_most_1024_records(sync, pool, alice):
    full = {f"key{i:04}": "v" for i in range(1024)}
    write(sync, pool, alice, "many", full)
    d = dataset_of(sync, pool, alice, "many")
    assert (d["NumRecords"], d["DataStorage"]) == (1024, nbytes(full))
    records, last = all_records(sync, pool, alice, "many")
    assert len(records) == 1024
    e = expect_error("LimitExceededException", 400, write, sync, pool, alice, "many", {"one-more": "v"})
    assert e.response["Error"]["Message"]
    assert dataset_of(sync, pool, alice, "many") == d
    # Replacing is no new record; a removed record (a tombstone) makes room for one.
    write(sync, pool, alice, "many", {"key0000": "changed"})
    write(sync, pool, alice, "many", remove=["key0001"])
    write(sync, pool, alice, "many", {"one-more": "v"})
    assert dataset_of(sync, pool, alice, "many")["NumRecords"] == 1024
    expect_error("LimitExceededException", 400, write, sync, pool, alice, "many", {"two-more": "v"})
    # Pages of ListRecords take at most 1024 records: the 1025 stored (one a tombstone)
    # come in two.
    page = sync.list_records(IdentityPoolId=pool, IdentityId=alice, DatasetName="many")
    assert page["Count"] == 1024 and page.get("NextToken")
    rest = sync.list_records(IdentityPoolId=pool, IdentityId=alice, DatasetName="many", NextToken=page["NextToken"])
    assert rest["Count"] == 1 and not rest.get("NextToken")


# ============================================================================================
# Not found: other pools, identities, accounts, regions
# ============================================================================================


def data_calls(pool_id, identity_id):
    return {
        "list_records": ("list_records", dict(IdentityPoolId=pool_id, IdentityId=identity_id, DatasetName="d")),
        "list_datasets": ("list_datasets", dict(IdentityPoolId=pool_id, IdentityId=identity_id)),
        "describe_dataset": ("describe_dataset", dict(IdentityPoolId=pool_id, IdentityId=identity_id, DatasetName="d")),
        "delete_dataset": ("delete_dataset", dict(IdentityPoolId=pool_id, IdentityId=identity_id, DatasetName="d")),
        "describe_identity_usage": ("describe_identity_usage", dict(IdentityPoolId=pool_id, IdentityId=identity_id)),
    }


DATA_OPS = ["list_records", "list_datasets", "describe_dataset", "delete_dataset", "describe_identity_usage"]


@pytest.mark.parametrize("op", DATA_OPS)
def test_unknown_identity_of_a_known_pool(sync, pool, op):
    name, kw = data_calls(pool, MISSING_IDENTITY)[op]
    expect_error("ResourceNotFoundException", 404, getattr(sync, name), **kw)


@pytest.mark.parametrize("op", DATA_OPS)
def test_unknown_pool(sync, alice, op):
    name, kw = data_calls(MISSING_POOL, alice)[op]
    expect_error("ResourceNotFoundException", 404, getattr(sync, name), **kw)


@pytest.mark.parametrize("op", DATA_OPS)
def test_identity_of_another_pool(cognito, sync, pool, op):
    other_pool = new_pool(cognito, "other")
    stranger = new_identity(cognito, other_pool)
    write(sync, other_pool, stranger, "d", {"k": "v"})
    name, kw = data_calls(pool, stranger)[op]
    expect_error("ResourceNotFoundException", 404, getattr(sync, name), **kw)
    assert kv(all_records(sync, other_pool, stranger, "d")[0]) == {"k": "v"}


@pytest.mark.parametrize("where", ["other-account", "other-region"])
def test_another_accounts_or_regions_data_is_not_found(client_factory, sync, pool, alice, where):
    write(sync, pool, alice, "d", {"k": "v"})
    other = (
        client_factory("cognito-sync", key=OTHER_ACCOUNT)
        if where == "other-account"
        else client_factory("cognito-sync", region="us-west-2")
    )
    for name, kw in data_calls(pool, alice).values():
        expect_error("ResourceNotFoundException", 404, getattr(other, name), **kw)
    for name in ("describe_identity_pool_usage", "get_identity_pool_configuration", "get_cognito_events",
                 "get_bulk_publish_details"):
        expect_error("ResourceNotFoundException", 404, getattr(other, name), IdentityPoolId=pool)
    assert pool not in {u["IdentityPoolId"] for u in other.list_identity_pool_usage()["IdentityPoolUsages"]}
    # Still there for its owner.
    assert kv(all_records(sync, pool, alice, "d")[0]) == {"k": "v"}
    assert pool_usage(sync, pool)["DataStorage"] == nbytes({"k": "v"})


# ============================================================================================
# Model constraints
# ============================================================================================


@pytest.mark.parametrize(
    "dataset",
    ["bad name", "slash/inside", "é", "x" * 129],
    ids=["space", "slash", "non-ascii", "too-long"],
)
def test_bad_dataset_names(sync, pool, alice, dataset):
    for name in ("list_records", "describe_dataset", "delete_dataset"):
        e = expect_error(
            MODEL_VIOLATION, 400, getattr(sync, name), IdentityPoolId=pool, IdentityId=alice, DatasetName=dataset
        )
        message = e.response["Error"]["Message"]
        assert message.startswith("1 validation error detected: ") and "'datasetName'" in message, message
    expect_error(
        MODEL_VIOLATION, 400, sync.update_records,
        IdentityPoolId=pool, IdentityId=alice, DatasetName=dataset, SyncSessionToken="t", RecordPatches=[],
    )


def test_longest_dataset_name_and_every_allowed_character(sync, pool, alice):
    for name in ("a" * 128, "Az09_.:-"):
        write(sync, pool, alice, name, {"k": "v"})
        assert dataset_of(sync, pool, alice, name)["DatasetName"] == name


@pytest.mark.parametrize("identity", ["no-colon-here", "us-east-1:XYZ", "us-east-1:" + "0" * 50])
def test_bad_identity_ids(sync, pool, identity):
    expect_error(MODEL_VIOLATION, 400, sync.describe_identity_usage, IdentityPoolId=pool, IdentityId=identity)
    expect_error(
        MODEL_VIOLATION, 400, sync.list_records, IdentityPoolId=pool, IdentityId=identity, DatasetName="d"
    )
    expect_error(MODEL_VIOLATION, 400, sync.list_datasets, IdentityPoolId=pool, IdentityId=identity)


def test_bad_pool_id(sync, alice):
    expect_error(MODEL_VIOLATION, 400, sync.describe_identity_pool_usage, IdentityPoolId="not a pool")
    expect_error(MODEL_VIOLATION, 400, sync.list_datasets, IdentityPoolId="nopool", IdentityId=alice)


# ============================================================================================
# Temporary credentials of an identity
# ============================================================================================


def test_credentials_for_identity(cognito, pool, alice):
    start = utc_now()
    creds = credentials_of(cognito, alice)
    end = utc_now()
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert creds["SecretKey"] and creds["SessionToken"]
    assert within(creds["Expiration"], start + datetime.timedelta(hours=1), end + datetime.timedelta(hours=1))
    again = credentials_of(cognito, alice)
    assert again["AccessKeyId"] != creds["AccessKeyId"]


def test_identity_credentials_reach_their_own_data(endpoint, cognito, sync, pool, alice):
    mine = identity_client(endpoint, cognito, alice)
    token, current = session(mine, pool, alice, "own")
    resp = mine.update_records(
        IdentityPoolId=pool, IdentityId=alice, DatasetName="own", SyncSessionToken=token,
        RecordPatches=patches_for(current, {"a": "1", "b": "2"}),
    )
    assert {r["LastModifiedBy"] for r in resp["Records"]} == {alice}
    # With a device id, the device is the author.
    resp = write(mine, pool, alice, "own", {"c": "3"}, DeviceId="phone")
    assert resp["Records"][0]["LastModifiedBy"] == "phone"
    d = dataset_of(mine, pool, alice, "own")
    assert (d["NumRecords"], d["DataStorage"], d["LastModifiedBy"]) == (3, 6, "phone")
    assert d == dataset_of(sync, pool, alice, "own")
    assert [x["DatasetName"] for x in mine.list_datasets(IdentityPoolId=pool, IdentityId=alice)["Datasets"]] == ["own"]
    assert identity_usage(mine, pool, alice) == identity_usage(sync, pool, alice)
    # Developer and identity work on the same records; sessions of both count.
    write(sync, pool, alice, "own", {"a": "one"})
    records, _ = all_records(mine, pool, alice, "own")
    assert kv(records) == {"a": "one", "b": "2", "c": "3"}
    assert pool_usage(sync, pool)["SyncSessionsCount"] == 3
    gone = mine.delete_dataset(IdentityPoolId=pool, IdentityId=alice, DatasetName="own")
    assert gone["Dataset"]["NumRecords"] == 3
    assert pool_usage(sync, pool)["DataStorage"] == 0


DEVELOPER_ONLY = {
    "describe_identity_pool_usage": lambda c, p: c.describe_identity_pool_usage(IdentityPoolId=p),
    "list_identity_pool_usage": lambda c, p: c.list_identity_pool_usage(),
    "get_identity_pool_configuration": lambda c, p: c.get_identity_pool_configuration(IdentityPoolId=p),
    "set_identity_pool_configuration": lambda c, p: c.set_identity_pool_configuration(
        IdentityPoolId=p, CognitoStreams={"StreamingStatus": "DISABLED"}
    ),
    "get_cognito_events": lambda c, p: c.get_cognito_events(IdentityPoolId=p),
    "set_cognito_events": lambda c, p: c.set_cognito_events(IdentityPoolId=p, Events={"SyncTrigger": LAMBDA_ARN}),
    "bulk_publish": lambda c, p: c.bulk_publish(IdentityPoolId=p),
    "get_bulk_publish_details": lambda c, p: c.get_bulk_publish_details(IdentityPoolId=p),
}


@pytest.mark.parametrize("op", sorted(DEVELOPER_ONLY))
def test_developer_only_operations_refuse_identity_credentials(endpoint, cognito, sync, pool, alice, op):
    mine = identity_client(endpoint, cognito, alice)
    expect_error("NotAuthorizedException", 403, DEVELOPER_ONLY[op], mine, pool)
    # Nothing was changed by the refused call.
    assert "CognitoStreams" not in sync.get_identity_pool_configuration(IdentityPoolId=pool)
    assert sync.get_cognito_events(IdentityPoolId=pool)["Events"] == {}


def other_identity_calls(pool_id, identity_id, token):
    return {
        "list_records": lambda c: c.list_records(IdentityPoolId=pool_id, IdentityId=identity_id, DatasetName="d"),
        "update_records": lambda c: c.update_records(
            IdentityPoolId=pool_id, IdentityId=identity_id, DatasetName="d", SyncSessionToken=token,
            RecordPatches=[{"Op": "replace", "Key": "evil", "Value": "x", "SyncCount": 0}],
        ),
        "list_datasets": lambda c: c.list_datasets(IdentityPoolId=pool_id, IdentityId=identity_id),
        "describe_dataset": lambda c: c.describe_dataset(IdentityPoolId=pool_id, IdentityId=identity_id, DatasetName="d"),
        "delete_dataset": lambda c: c.delete_dataset(IdentityPoolId=pool_id, IdentityId=identity_id, DatasetName="d"),
        "describe_identity_usage": lambda c: c.describe_identity_usage(IdentityPoolId=pool_id, IdentityId=identity_id),
        "register_device": lambda c: c.register_device(
            IdentityPoolId=pool_id, IdentityId=identity_id, Platform="GCM", Token="t"
        ),
        "subscribe_to_dataset": lambda c: c.subscribe_to_dataset(
            IdentityPoolId=pool_id, IdentityId=identity_id, DatasetName="d", DeviceId="dev"
        ),
        "unsubscribe_from_dataset": lambda c: c.unsubscribe_from_dataset(
            IdentityPoolId=pool_id, IdentityId=identity_id, DatasetName="d", DeviceId="dev"
        ),
    }


OTHER_IDENTITY_OPS = [
    "list_records", "update_records", "list_datasets", "describe_dataset", "delete_dataset",
    "describe_identity_usage", "register_device", "subscribe_to_dataset", "unsubscribe_from_dataset",
]


@pytest.mark.parametrize("op", OTHER_IDENTITY_OPS)
def test_identity_credentials_do_not_reach_another_identity(endpoint, cognito, sync, pool, alice, bob, op):
    write(sync, pool, bob, "d", {"bobs": "secret"})
    token, _ = session(sync, pool, bob, "d")
    mine = identity_client(endpoint, cognito, alice)
    expect_error("NotAuthorizedException", 403, other_identity_calls(pool, bob, token)[op], mine)
    records, listed = all_records(sync, pool, bob, "d")
    assert kv(records) == {"bobs": "secret"}
    assert listed["DatasetSyncCount"] == 1
    assert pool_usage(sync, pool)["SyncSessionsCount"] == 1


def test_identity_credentials_of_another_pool(endpoint, cognito, sync, pool, alice):
    other_pool = new_pool(cognito, "other")
    stranger = new_identity(cognito, other_pool)
    theirs = identity_client(endpoint, cognito, stranger)
    # Even naming itself, an identity does not reach into a pool that is not its own.
    expect_error(
        "NotAuthorizedException", 403, theirs.list_records, IdentityPoolId=pool, IdentityId=stranger, DatasetName="d"
    )
    expect_error("NotAuthorizedException", 403, theirs.list_datasets, IdentityPoolId=pool, IdentityId=alice)


@pytest.mark.parametrize("op", ["register_device", "subscribe_to_dataset", "unsubscribe_from_dataset"])
def test_push_operations_refuse_developer_credentials(sync, pool, alice, op):
    configure_push(sync, pool)
    expect_error("NotAuthorizedException", 403, other_identity_calls(pool, alice, "t")[op], sync)


def test_identity_credentials_are_refused_outside_cognito_sync(endpoint, cognito, pool, alice):
    creds = credentials_of(cognito, alice)
    ec2 = client_with(endpoint, "ec2", creds)
    expect_error("UnauthorizedOperation", 403, ec2.describe_vpcs)
    theirs = client_with(endpoint, "cognito-identity", creds)
    expect_error("NotAuthorizedException", 400, theirs.list_identity_pools, MaxResults=10)
    expect_error("NotAuthorizedException", 400, theirs.describe_identity_pool, IdentityPoolId=pool)
    # GetId needs no signature, so those credentials do not stand in its way.
    assert theirs.get_id(IdentityPoolId=pool)["IdentityId"]


def test_forged_identity_credentials_are_refused(endpoint, cognito, pool, alice):
    creds = dict(credentials_of(cognito, alice))
    token = creds["SessionToken"]
    i = len(token) * 3 // 4
    creds["SessionToken"] = token[:i] + ("B" if token[i] != "B" else "C") + token[i + 1:]
    forged = client_with(endpoint, "cognito-sync", creds)
    with pytest.raises(ClientError) as e:
        forged.list_records(IdentityPoolId=pool, IdentityId=alice, DatasetName="d")
    assert (error_code(e.value), http_status(e.value)) == ("UnrecognizedClientException", 403)
    # Credentials of one identity with the session token of another do not pass either.
    other = credentials_of(cognito, new_identity(cognito, pool))
    mixed = client_with(endpoint, "cognito-sync", dict(creds, SessionToken=other["SessionToken"]))
    with pytest.raises(ClientError) as e:
        mixed.list_records(IdentityPoolId=pool, IdentityId=alice, DatasetName="d")
    assert http_status(e.value) in (400, 403)


# ============================================================================================
# Identity pool configuration, Cognito events, bulk publish
# ============================================================================================


def configure_push(sync, pool_id):
    return sync.set_identity_pool_configuration(
        IdentityPoolId=pool_id, PushSync={"ApplicationArns": [APP_ARN], "RoleArn": PUSH_ROLE}
    )


def test_identity_pool_configuration(sync, pool):
    empty = sync.get_identity_pool_configuration(IdentityPoolId=pool)
    assert http_status(empty) == 200
    assert empty["IdentityPoolId"] == pool
    assert "PushSync" not in empty and "CognitoStreams" not in empty

    push = {"ApplicationArns": [APP_ARN, "arn:aws:sns:us-east-1:000000000000:app/APNS/ios-app"], "RoleArn": PUSH_ROLE}
    resp = sync.set_identity_pool_configuration(IdentityPoolId=pool, PushSync=push)
    assert resp["IdentityPoolId"] == pool
    assert resp["PushSync"] == push
    assert "CognitoStreams" not in resp

    streams = {"StreamName": "sync-stream", "RoleArn": STREAM_ROLE, "StreamingStatus": "ENABLED"}
    resp = sync.set_identity_pool_configuration(IdentityPoolId=pool, CognitoStreams=streams)
    # Each part, when given, replaces the pool's; the other stays.
    assert resp["PushSync"] == push
    assert resp["CognitoStreams"] == streams
    got = sync.get_identity_pool_configuration(IdentityPoolId=pool)
    assert (got["IdentityPoolId"], got["PushSync"], got["CognitoStreams"]) == (pool, push, streams)

    disabled = {"StreamingStatus": "DISABLED"}
    resp = sync.set_identity_pool_configuration(IdentityPoolId=pool, CognitoStreams=disabled)
    assert resp["CognitoStreams"]["StreamingStatus"] == "DISABLED"
    assert sync.get_identity_pool_configuration(IdentityPoolId=pool)["CognitoStreams"]["StreamingStatus"] == "DISABLED"


@pytest.mark.parametrize(
    "kw,code",
    [
        ({"PushSync": {"ApplicationArns": [APP_ARN]}}, "InvalidParameterException"),
        (
            {"PushSync": {"ApplicationArns": ["arn:aws:sns:us-east-1:123:app/GCM/x"], "RoleArn": PUSH_ROLE}},
            "InvalidParameterException",
        ),
        ({"PushSync": {"ApplicationArns": ["not-an-arn"], "RoleArn": PUSH_ROLE}}, MODEL_VIOLATION),
        ({"PushSync": {"ApplicationArns": [APP_ARN], "RoleArn": "arn:aws:iam::000000000000:user/x"}}, MODEL_VIOLATION),
        ({"CognitoStreams": {"StreamName": "s", "StreamingStatus": "ENABLED"}}, "InvalidParameterException"),
        ({"CognitoStreams": {"RoleArn": STREAM_ROLE, "StreamingStatus": "ENABLED"}}, "InvalidParameterException"),
        (
            {"CognitoStreams": {"StreamName": "s", "RoleArn": STREAM_ROLE, "StreamingStatus": "PAUSED"}},
            MODEL_VIOLATION,
        ),
    ],
    ids=[
        "push-without-role",
        "push-arn-short-account",
        "push-arn-pattern",
        "push-role-pattern",
        "streams-enabled-without-role",
        "streams-enabled-without-name",
        "streams-unknown-status",
    ],
)
def test_bad_identity_pool_configuration(sync, pool, kw, code):
    expect_error(code, 400, sync.set_identity_pool_configuration, IdentityPoolId=pool, **kw)
    got = sync.get_identity_pool_configuration(IdentityPoolId=pool)
    assert "PushSync" not in got and "CognitoStreams" not in got


def test_configuration_of_a_missing_pool(sync):
    expect_error("ResourceNotFoundException", 404, sync.get_identity_pool_configuration, IdentityPoolId=MISSING_POOL)
    expect_error(
        "ResourceNotFoundException", 404, sync.set_identity_pool_configuration,
        IdentityPoolId=MISSING_POOL, CognitoStreams={"StreamingStatus": "DISABLED"},
    )
    expect_error("ResourceNotFoundException", 404, sync.get_cognito_events, IdentityPoolId=MISSING_POOL)
    expect_error(
        "ResourceNotFoundException", 404, sync.set_cognito_events, IdentityPoolId=MISSING_POOL, Events={"SyncTrigger": ""}
    )
    expect_error("ResourceNotFoundException", 404, sync.bulk_publish, IdentityPoolId=MISSING_POOL)
    expect_error("ResourceNotFoundException", 404, sync.get_bulk_publish_details, IdentityPoolId=MISSING_POOL)


def test_cognito_events(sync, pool):
    resp = sync.get_cognito_events(IdentityPoolId=pool)
    assert http_status(resp) == 200
    assert resp["Events"] == {}
    resp = sync.set_cognito_events(IdentityPoolId=pool, Events={"SyncTrigger": LAMBDA_ARN})
    assert http_status(resp) == 200
    assert sync.get_cognito_events(IdentityPoolId=pool)["Events"] == {"SyncTrigger": LAMBDA_ARN}
    other = LAMBDA_ARN + "-v2"
    sync.set_cognito_events(IdentityPoolId=pool, Events={"SyncTrigger": other})
    assert sync.get_cognito_events(IdentityPoolId=pool)["Events"] == {"SyncTrigger": other}
    sync.set_cognito_events(IdentityPoolId=pool, Events={"SyncTrigger": ""})
    assert sync.get_cognito_events(IdentityPoolId=pool)["Events"] == {}
    # Removing what is not set is fine.
    sync.set_cognito_events(IdentityPoolId=pool, Events={"SyncTrigger": ""})
    assert sync.get_cognito_events(IdentityPoolId=pool)["Events"] == {}


@pytest.mark.parametrize(
    "events,code",
    [
        ({"DataChanged": LAMBDA_ARN}, "InvalidParameterException"),
        ({"SyncTrigger": "arn:aws:sns:us-east-1:000000000000:topic"}, "InvalidParameterException"),
        ({"SyncTrigger": "sync-trigger"}, "InvalidParameterException"),
        ({"SyncTrigger": LAMBDA_ARN, "Other": LAMBDA_ARN}, MODEL_VIOLATION),
    ],
    ids=["unknown-event", "not-lambda", "not-an-arn", "two-events"],
)
def test_bad_cognito_events(sync, pool, events, code):
    sync.set_cognito_events(IdentityPoolId=pool, Events={"SyncTrigger": LAMBDA_ARN})
    expect_error(code, 400, sync.set_cognito_events, IdentityPoolId=pool, Events=events)
    assert sync.get_cognito_events(IdentityPoolId=pool)["Events"] == {"SyncTrigger": LAMBDA_ARN}


def test_bulk_publish_needs_enabled_streams(sync, pool):
    details = sync.get_bulk_publish_details(IdentityPoolId=pool)
    assert details["IdentityPoolId"] == pool
    assert details["BulkPublishStatus"] == "NOT_STARTED"
    assert "BulkPublishStartTime" not in details and "BulkPublishCompleteTime" not in details
    expect_error("InvalidConfigurationException", 400, sync.bulk_publish, IdentityPoolId=pool)
    sync.set_identity_pool_configuration(IdentityPoolId=pool, CognitoStreams={"StreamingStatus": "DISABLED"})
    expect_error("InvalidConfigurationException", 400, sync.bulk_publish, IdentityPoolId=pool)
    assert sync.get_bulk_publish_details(IdentityPoolId=pool)["BulkPublishStatus"] == "NOT_STARTED"


def test_bulk_publish_once_per_day(own_server):
    s = own_server(*LISTEN)
    cognito, sync = s.client("cognito-identity"), s.client("cognito-sync")
    pool_id = new_pool(cognito)
    sync.set_identity_pool_configuration(
        IdentityPoolId=pool_id,
        CognitoStreams={"StreamName": "stream", "RoleArn": STREAM_ROLE, "StreamingStatus": "ENABLED"},
    )
    first_at = server_now(s.url)
    resp = sync.bulk_publish(IdentityPoolId=pool_id)
    assert http_status(resp) == 200
    assert resp["IdentityPoolId"] == pool_id
    details = sync.get_bulk_publish_details(IdentityPoolId=pool_id)
    assert details["BulkPublishStatus"] == "SUCCEEDED"
    assert "FailureMessage" not in details
    started, completed = details["BulkPublishStartTime"], details["BulkPublishCompleteTime"]
    assert first_at - SECOND <= started <= completed <= server_now(s.url) + SECOND

    expect_error("AlreadyStreamedException", 400, sync.bulk_publish, IdentityPoolId=pool_id)
    advance(s.url, DAY - 60)
    expect_error("AlreadyStreamedException", 400, sync.bulk_publish, IdentityPoolId=pool_id)
    assert sync.get_bulk_publish_details(IdentityPoolId=pool_id)["BulkPublishStartTime"] == started
    advance(s.url, 120)
    sync.bulk_publish(IdentityPoolId=pool_id)
    again = sync.get_bulk_publish_details(IdentityPoolId=pool_id)
    assert again["BulkPublishStatus"] == "SUCCEEDED"
    assert again["BulkPublishStartTime"] >= started + datetime.timedelta(days=1)
    expect_error("AlreadyStreamedException", 400, sync.bulk_publish, IdentityPoolId=pool_id)


# ============================================================================================
# Devices and subscriptions
# ============================================================================================


def test_register_device_needs_push_sync(endpoint, cognito, sync, pool, alice):
    mine = identity_client(endpoint, cognito, alice)
    expect_error(
        "InvalidConfigurationException", 400, mine.register_device,
        IdentityPoolId=pool, IdentityId=alice, Platform="GCM", Token="token-1",
    )
    # Streams alone are not push sync.
    sync.set_identity_pool_configuration(
        IdentityPoolId=pool,
        CognitoStreams={"StreamName": "stream", "RoleArn": STREAM_ROLE, "StreamingStatus": "ENABLED"},
    )
    expect_error(
        "InvalidConfigurationException", 400, mine.register_device,
        IdentityPoolId=pool, IdentityId=alice, Platform="GCM", Token="token-1",
    )


def test_devices_and_subscriptions(endpoint, cognito, sync, pool, alice, bob):
    configure_push(sync, pool)
    mine = identity_client(endpoint, cognito, alice)
    resp = mine.register_device(IdentityPoolId=pool, IdentityId=alice, Platform="APNS", Token="apns-token")
    assert http_status(resp) == 200
    device = resp["DeviceId"]
    assert device and len(device) <= 256
    # The same platform and token: the same device.
    assert mine.register_device(IdentityPoolId=pool, IdentityId=alice, Platform="APNS", Token="apns-token")[
        "DeviceId"
    ] == device
    others = {
        mine.register_device(IdentityPoolId=pool, IdentityId=alice, Platform=p, Token=t)["DeviceId"]
        for p, t in [("APNS_SANDBOX", "apns-token"), ("GCM", "apns-token"), ("ADM", "adm"), ("APNS", "other")]
    }
    assert len(others) == 4 and device not in others

    ids = dict(IdentityPoolId=pool, IdentityId=alice, DatasetName="profile", DeviceId=device)
    assert http_status(mine.subscribe_to_dataset(**ids)) == 200
    assert http_status(mine.subscribe_to_dataset(**ids)) == 200  # twice is once
    assert http_status(mine.unsubscribe_from_dataset(**ids)) == 200
    assert http_status(mine.unsubscribe_from_dataset(**ids)) == 200

    unknown = dict(ids, DeviceId="no-such-device")
    expect_error("ResourceNotFoundException", 404, mine.subscribe_to_dataset, **unknown)
    expect_error("ResourceNotFoundException", 404, mine.unsubscribe_from_dataset, **unknown)

    # Another identity's device is not this identity's.
    theirs = identity_client(endpoint, cognito, bob)
    bob_device = theirs.register_device(IdentityPoolId=pool, IdentityId=bob, Platform="APNS", Token="apns-token")[
        "DeviceId"
    ]
    assert bob_device != device
    expect_error(
        "ResourceNotFoundException", 404, theirs.subscribe_to_dataset,
        IdentityPoolId=pool, IdentityId=bob, DatasetName="profile", DeviceId=device,
    )
    theirs.subscribe_to_dataset(IdentityPoolId=pool, IdentityId=bob, DatasetName="profile", DeviceId=bob_device)


def test_register_device_bad_platform(endpoint, cognito, sync, pool, alice):
    configure_push(sync, pool)
    mine = identity_client(endpoint, cognito, alice)
    expect_error(
        MODEL_VIOLATION, 400, mine.register_device,
        IdentityPoolId=pool, IdentityId=alice, Platform="BLACKBERRY", Token="t",
    )


# ============================================================================================
# Identities deleted
# ============================================================================================


def test_deleting_an_identity_takes_its_bytes_off_the_pool(endpoint, cognito, sync, pool, alice, bob):
    alice_sync = identity_client(endpoint, cognito, alice)
    write(sync, pool, alice, "a1", {"k": "value", "ü": "ß"})
    write(sync, pool, alice, "a2", {"other": "data"})
    write(sync, pool, bob, "b1", {"bob": "keeps this"})
    bobs = nbytes({"bob": "keeps this"})
    before = pool_usage(sync, pool)
    assert before["DataStorage"] == nbytes({"k": "value", "ü": "ß"}) + nbytes({"other": "data"}) + bobs
    pending, _ = session(sync, pool, alice, "a1")
    try:
        resp = cognito.delete_identities(IdentityIdsToDelete=[alice])
    except ClientError as e:
        if error_code(e) == "NotImplemented":
            pytest.skip("Cognito Identity DeleteIdentities is not implemented by this server yet (501)")
        raise
    assert resp.get("UnprocessedIdentityIds", []) == []
    after = pool_usage(sync, pool)
    assert after["DataStorage"] == bobs
    assert after["SyncSessionsCount"] == before["SyncSessionsCount"]
    assert listed_pool_usage(sync, pool)["DataStorage"] == bobs
    # The identity and its data are gone …
    for name, kw in data_calls(pool, alice).values():
        expect_error("ResourceNotFoundException", 404, getattr(sync, name), **kw)
    expect_error(
        "ResourceNotFoundException", 404, update, sync, pool, alice, "a1", pending,
        [{"Op": "replace", "Key": "k", "Value": "v", "SyncCount": 1}],
    )
    # … its credentials no longer work …
    expect_error(
        "NotAuthorizedException", 403, alice_sync.list_records, IdentityPoolId=pool, IdentityId=alice, DatasetName="a1"
    )
    # … and Bob's data is untouched.
    assert kv(all_records(sync, pool, bob, "b1")[0]) == {"bob": "keeps this"}
    assert identity_usage(sync, pool, bob)["DataStorage"] == bobs


# ============================================================================================
# The server clock: session expiry, credential expiry, dates
# ============================================================================================


def test_sync_session_lasts_24_hours_of_the_server_clock(own_server):
    s = own_server(*LISTEN)
    cognito, sync = s.client("cognito-identity"), s.client("cognito-sync")
    pool_id = new_pool(cognito)
    identity = new_identity(cognito, pool_id)
    token, _ = session(sync, pool_id, identity, "d")
    update(sync, pool_id, identity, "d", token, [{"Op": "replace", "Key": "a", "Value": "1", "SyncCount": 0}])
    assert pool_usage(sync, pool_id)["SyncSessionsCount"] == 1
    # Nearly a day later the token still commits, and is still the same session.
    advance(s.url, DAY - 60)
    update(sync, pool_id, identity, "d", token, [{"Op": "replace", "Key": "a", "Value": "1", "SyncCount": 1}])
    assert pool_usage(sync, pool_id)["SyncSessionsCount"] == 1
    advance(s.url, 120)
    e = expect_error(
        "InvalidParameterException", 400, update, sync, pool_id, identity, "d", token,
        [{"Op": "replace", "Key": "b", "Value": "2", "SyncCount": 0}],
    )
    assert e.response["Error"]["Message"]
    records, listed = all_records(sync, pool_id, identity, "d")
    assert kv(records) == {"a": "1"} and listed["DatasetSyncCount"] == 2
    assert pool_usage(sync, pool_id)["SyncSessionsCount"] == 1
    # A new session works.
    write(sync, pool_id, identity, "d", {"b": "2"})
    assert pool_usage(sync, pool_id)["SyncSessionsCount"] == 2


def test_identity_credentials_expire_after_an_hour(own_server):
    s = own_server(*LISTEN)
    cognito, sync = s.client("cognito-identity"), s.client("cognito-sync")
    pool_id = new_pool(cognito)
    identity = new_identity(cognito, pool_id)
    now = server_now(s.url)
    creds = credentials_of(cognito, identity)
    assert now + datetime.timedelta(hours=1) - SECOND <= creds["Expiration"] <= server_now(s.url) + datetime.timedelta(
        hours=1
    ) + SECOND
    mine = client_with(s.url, "cognito-sync", creds)
    mine.list_datasets(IdentityPoolId=pool_id, IdentityId=identity)
    advance(s.url, HOUR - 60)
    mine.list_datasets(IdentityPoolId=pool_id, IdentityId=identity)
    advance(s.url, 120)
    with pytest.raises(ClientError) as e:
        mine.list_datasets(IdentityPoolId=pool_id, IdentityId=identity)
    assert (error_code(e.value), http_status(e.value)) == ("ExpiredTokenException", 400)
    # New credentials, from the moved clock, work for another hour.
    fresh = client_with(s.url, "cognito-sync", credentials_of(cognito, identity))
    fresh.list_datasets(IdentityPoolId=pool_id, IdentityId=identity)


def test_dates_follow_the_server_clock(own_server):
    s = own_server(*LISTEN)
    cognito, sync = s.client("cognito-identity"), s.client("cognito-sync")
    pool_id = new_pool(cognito)
    identity = new_identity(cognito, pool_id)
    created_pool = pool_usage(sync, pool_id)["LastModifiedDate"]

    t1 = advance(s.url, 10 * DAY)
    write(sync, pool_id, identity, "d", {"a": "1"})
    d1 = dataset_of(sync, pool_id, identity, "d")
    assert d1["CreationDate"] >= t1 - SECOND
    assert d1["CreationDate"] >= created_pool + datetime.timedelta(days=10)
    assert d1["LastModifiedDate"] == d1["CreationDate"]
    u1 = pool_usage(sync, pool_id)
    assert u1["LastModifiedDate"] == d1["LastModifiedDate"]
    assert identity_usage(sync, pool_id, identity)["LastModifiedDate"] == d1["LastModifiedDate"]
    [r1] = all_records(sync, pool_id, identity, "d")[0]
    assert r1["LastModifiedDate"] == d1["LastModifiedDate"]

    advance(s.url, DAY)
    write(sync, pool_id, identity, "d", {"b": "2"})
    d2 = dataset_of(sync, pool_id, identity, "d")
    assert d2["CreationDate"] == d1["CreationDate"]
    assert d2["LastModifiedDate"] >= d1["LastModifiedDate"] + datetime.timedelta(days=1)
    u2 = pool_usage(sync, pool_id)
    assert u2["LastModifiedDate"] == d2["LastModifiedDate"]
    records = {r["Key"]: r for r in all_records(sync, pool_id, identity, "d")[0]}
    assert records["a"]["LastModifiedDate"] == d1["LastModifiedDate"]
    assert records["b"]["LastModifiedDate"] == d2["LastModifiedDate"]

    # A refused write moves no date; a deletion does.
    advance(s.url, DAY)
    token, _ = session(sync, pool_id, identity, "d")
    expect_error(
        "ResourceConflictException", 409, update, sync, pool_id, identity, "d", token,
        [{"Op": "replace", "Key": "a", "Value": "x", "SyncCount": 0}],
    )
    assert pool_usage(sync, pool_id) == u2
    t3 = server_now(s.url)
    sync.delete_dataset(IdentityPoolId=pool_id, IdentityId=identity, DatasetName="d")
    u3 = pool_usage(sync, pool_id)
    assert u3["LastModifiedDate"] >= t3 - SECOND
    assert u3["LastModifiedDate"] >= u2["LastModifiedDate"] + datetime.timedelta(days=1)
    assert u3["DataStorage"] == 0
    assert identity_usage(sync, pool_id, identity)["LastModifiedDate"] == u3["LastModifiedDate"]
