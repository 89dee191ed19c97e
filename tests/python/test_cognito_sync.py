"""Cognito Sync (restJson1): identity pool usage; operations not served; RAM."""

import datetime

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import OTHER_ACCOUNT, error_code, http_status

MISSING_POOL = "us-east-1:00000000-0000-4000-8000-000000000000"


def new_pool(cognito, name="pool"):
    return cognito.create_identity_pool(
        IdentityPoolName=name, AllowUnauthenticatedIdentities=True
    )["IdentityPoolId"]


def test_describe_identity_pool_usage(cognito, sync):
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=5)
    pool_id = new_pool(cognito)
    resp = sync.describe_identity_pool_usage(IdentityPoolId=pool_id)
    assert http_status(resp) == 200
    usage = resp["IdentityPoolUsage"]
    assert usage["IdentityPoolId"] == pool_id
    assert usage["DataStorage"] == 0
    assert isinstance(usage["LastModifiedDate"], datetime.datetime)
    after = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5)
    assert before <= usage["LastModifiedDate"] <= after
    assert "SyncSessionsCount" not in usage


def test_describe_usage_of_unknown_pool(sync):
    with pytest.raises(sync.exceptions.ResourceNotFoundException) as e:
        sync.describe_identity_pool_usage(IdentityPoolId=MISSING_POOL)
    assert http_status(e.value) == 404


def test_describe_usage_of_deleted_pool(cognito, sync):
    pool_id = new_pool(cognito)
    cognito.delete_identity_pool(IdentityPoolId=pool_id)
    with pytest.raises(sync.exceptions.ResourceNotFoundException):
        sync.describe_identity_pool_usage(IdentityPoolId=pool_id)


def test_usage_is_per_account(cognito, client_factory):
    pool_id = new_pool(cognito)
    other = client_factory("cognito-sync", key=OTHER_ACCOUNT)
    with pytest.raises(other.exceptions.ResourceNotFoundException):
        other.describe_identity_pool_usage(IdentityPoolId=pool_id)
    assert other.list_identity_pool_usage()["IdentityPoolUsages"] == []


def test_list_identity_pool_usage(cognito, sync):
    created = sorted(new_pool(cognito, f"p{i}") for i in range(3))
    resp = sync.list_identity_pool_usage()
    usages = resp["IdentityPoolUsages"]
    assert sorted(u["IdentityPoolId"] for u in usages) == created
    assert resp["Count"] == 3
    assert resp["MaxResults"] == 60
    assert not resp.get("NextToken")
    for u in usages:
        assert u["DataStorage"] == 0
        assert isinstance(u["LastModifiedDate"], datetime.datetime)
        assert "SyncSessionsCount" not in u


def test_list_identity_pool_usage_empty(sync):
    resp = sync.list_identity_pool_usage()
    assert resp["IdentityPoolUsages"] == []
    assert resp["Count"] == 0


def test_list_identity_pool_usage_paginates(cognito, sync):
    created = sorted(new_pool(cognito, f"p{i}") for i in range(5))
    seen = []
    token = None
    pages = 0
    while True:
        kw = {"MaxResults": 2}
        if token:
            kw["NextToken"] = token
        resp = sync.list_identity_pool_usage(**kw)
        pages += 1
        assert resp["MaxResults"] == 2
        assert resp["Count"] == len(resp["IdentityPoolUsages"]) <= 2
        seen.extend(u["IdentityPoolId"] for u in resp["IdentityPoolUsages"])
        token = resp.get("NextToken")
        if not token:
            break
        assert pages < 10
    assert pages == 3
    assert sorted(seen) == created


def test_unserved_ram_operation_is_not_implemented(client_factory):
    ram = client_factory("ram")
    with pytest.raises(ClientError) as e:
        ram.list_resource_types()
    assert error_code(e.value) == "NotImplemented"
    assert http_status(e.value) == 501


def test_unknown_service_is_refused(endpoint):
    # A service Reservoir does not serve at all (signed for "sqs").
    resp = requests.post(
        endpoint + "/",
        data=b'{"QueueName":"q"}',
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": "AmazonSQS.CreateQueue",
            "Authorization": (
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/us-east-1/sqs/aws4_request, "
                f"SignedHeaders=host;x-amz-date, Signature={'0' * 64}"
            ),
            "X-Amz-Date": "20261122T000000Z",
        },
        timeout=20,
    )
    assert resp.status_code == 400, resp.text
    assert "sqs" in resp.text
