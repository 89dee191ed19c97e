"""Helpers shared by the Cognito Sync data tests (test_cognito_sync_data.py).

Not a test module: the test files import what they use from here. Every client talks to
a Reservoir server on loopback.
"""

from __future__ import annotations

import datetime
import json

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import HTTP_TIMEOUT, REGION, error_code, http_status

MISSING_POOL = "us-east-1:00000000-0000-4000-8000-000000000000"
MISSING_IDENTITY = "us-east-1:00000000-0000-4000-8000-00000000abcd"
DAY = 86400
HOUR = 3600


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


# --- identities and credentials -------------------------------------------------------------


UNAUTH_ROLE = "arn:aws:iam::000000000000:role/CognitoUnauthenticated"


def new_pool(cognito, name="sync-pool", **kw) -> str:
    """A pool that allows unauthenticated identities, with an unauthenticated role (as
    in AWS, GetCredentialsForIdentity needs a role that applies)."""
    pool_id = cognito.create_identity_pool(
        IdentityPoolName=name, AllowUnauthenticatedIdentities=True, **kw
    )["IdentityPoolId"]
    cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"unauthenticated": UNAUTH_ROLE})
    return pool_id


def new_identity(cognito, pool_id: str) -> str:
    """A new unauthenticated identity of the pool (GetId without logins)."""
    return cognito.get_id(IdentityPoolId=pool_id)["IdentityId"]


def credentials_of(cognito, identity_id: str) -> dict:
    """The identity's temporary credentials (GetCredentialsForIdentity)."""
    resp = cognito.get_credentials_for_identity(IdentityId=identity_id)
    assert resp["IdentityId"] == identity_id
    return resp["Credentials"]


def client_with(url: str, service: str, creds: dict, region: str = REGION):
    """A boto3 client that signs with an identity's temporary credentials."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=region,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretKey"],
        aws_session_token=creds["SessionToken"],
        config=Config(
            retries={"max_attempts": 1},
            connect_timeout=HTTP_TIMEOUT,
            read_timeout=HTTP_TIMEOUT,
        ),
    )


def identity_client(url: str, cognito, identity_id: str, service: str = "cognito-sync"):
    return client_with(url, service, credentials_of(cognito, identity_id))


# --- records -----------------------------------------------------------------------------------


def nbytes(records: dict) -> int:
    """DataStorage of live records: UTF-8 bytes of key and value."""
    return sum(len(k.encode("utf-8")) + len(v.encode("utf-8")) for k, v in records.items())


def all_records(sync, pool_id, identity_id, dataset, **kw) -> tuple[list, dict]:
    """Every record of a dataset (following NextToken) and the last page's response."""
    records = []
    token = None
    for _ in range(100):
        args = dict(IdentityPoolId=pool_id, IdentityId=identity_id, DatasetName=dataset, **kw)
        if token:
            args["NextToken"] = token
        resp = sync.list_records(**args)
        records.extend(resp["Records"])
        token = resp.get("NextToken")
        if not token:
            return records, resp
    raise AssertionError("ListRecords did not stop paging")


def session(sync, pool_id, identity_id, dataset) -> tuple[str, dict]:
    """A new sync session: its token and the current records by key."""
    resp = sync.list_records(
        IdentityPoolId=pool_id, IdentityId=identity_id, DatasetName=dataset
    )
    token = resp["SyncSessionToken"]
    records = {r["Key"]: r for r in resp["Records"]}
    # Follow the pages (big datasets) with the same session.
    while resp.get("NextToken"):
        resp = sync.list_records(
            IdentityPoolId=pool_id,
            IdentityId=identity_id,
            DatasetName=dataset,
            NextToken=resp["NextToken"],
        )
        records.update({r["Key"]: r for r in resp["Records"]})
    return token, records


def patches_for(current: dict, put: dict | None = None, remove=()) -> list:
    """Patches that replace `put` and remove `remove`, each naming the record's current
    SyncCount (0 for a key not there)."""
    out = []
    for k, v in (put or {}).items():
        out.append(
            {"Op": "replace", "Key": k, "Value": v, "SyncCount": current.get(k, {}).get("SyncCount", 0)}
        )
    for k in remove:
        out.append({"Op": "remove", "Key": k, "SyncCount": current.get(k, {}).get("SyncCount", 0)})
    return out


def write(sync, pool_id, identity_id, dataset, put: dict | None = None, remove=(), **kw) -> dict:
    """One sync: ListRecords for a session token, then UpdateRecords with the patches."""
    token, current = session(sync, pool_id, identity_id, dataset)
    return sync.update_records(
        IdentityPoolId=pool_id,
        IdentityId=identity_id,
        DatasetName=dataset,
        SyncSessionToken=token,
        RecordPatches=patches_for(current, put, remove),
        **kw,
    )


def update(sync, pool_id, identity_id, dataset, token, patches, **kw) -> dict:
    return sync.update_records(
        IdentityPoolId=pool_id,
        IdentityId=identity_id,
        DatasetName=dataset,
        SyncSessionToken=token,
        RecordPatches=patches,
        **kw,
    )


# --- usage ---------------------------------------------------------------------------------------


def pool_usage(sync, pool_id) -> dict:
    return sync.describe_identity_pool_usage(IdentityPoolId=pool_id)["IdentityPoolUsage"]


def listed_pool_usage(sync, pool_id) -> dict:
    found = [
        u
        for u in sync.list_identity_pool_usage(MaxResults=60)["IdentityPoolUsages"]
        if u["IdentityPoolId"] == pool_id
    ]
    assert len(found) == 1, found
    return found[0]


def identity_usage(sync, pool_id, identity_id) -> dict:
    return sync.describe_identity_usage(IdentityPoolId=pool_id, IdentityId=identity_id)[
        "IdentityUsage"
    ]


def dataset_of(sync, pool_id, identity_id, dataset) -> dict:
    return sync.describe_dataset(
        IdentityPoolId=pool_id, IdentityId=identity_id, DatasetName=dataset
    )["Dataset"]


# --- errors and the clock ---------------------------------------------------------------------


def expect_error(code: str, status: int, fn, *args, **kwargs) -> ClientError:
    """Calls fn, which must fail with this AWS error code and HTTP status."""
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    got = (error_code(e.value), http_status(e.value))
    assert got == (code, status), f"{got} != {(code, status)}: {e.value.response.get('Error')}"
    return e.value


def advance(url: str, seconds: int) -> datetime.datetime:
    """Moves the server clock forward; answers the server's new `now`."""
    r = requests.post(
        f"{url}/_reservoir/clock",
        data=json.dumps({"advance_seconds": seconds}),
        headers={"Content-Type": "application/json"},
        timeout=HTTP_TIMEOUT,
    )
    assert r.status_code == 200, r.text
    return datetime.datetime.fromisoformat(r.json()["now"].replace("Z", "+00:00"))


def server_now(url: str) -> datetime.datetime:
    r = requests.get(f"{url}/_reservoir/clock", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    return datetime.datetime.fromisoformat(r.json()["now"].replace("Z", "+00:00"))
