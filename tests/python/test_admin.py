"""Admin endpoints: health and reset, in Reservoir's, moto's and LocalStack's shapes."""

import math
import time

import pytest

import pg_support
import requests

from conftest import HTTP_TIMEOUT, OTHER_ACCOUNT

SERVICES = ["ec2", "cognito-identity", "cognito-sync", "ram"]


def get(url):
    return requests.get(url, timeout=HTTP_TIMEOUT)


def post(url):
    return requests.post(url, timeout=HTTP_TIMEOUT)


def test_health(endpoint):
    r = get(f"{endpoint}/_reservoir/health")
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert body["status"] == "ok"
    assert isinstance(body["version"], str) and body["version"]
    assert sorted(body["services"]) == sorted(SERVICES)
    assert body["store"] == ("postgres" if pg_support.postgres_mode() else "sqlite-memory")
    assert isinstance(body["uptime_seconds"], int) and body["uptime_seconds"] >= 0
    assert isinstance(body["log_lines_dropped"], int) and body["log_lines_dropped"] >= 0


def test_localstack_health(endpoint):
    r = get(f"{endpoint}/_localstack/health")
    assert r.status_code == 200
    body = r.json()
    assert body["services"] == {s: "running" for s in SERVICES}
    assert body["edition"] == "reservoir"
    assert body["version"] == get(f"{endpoint}/_reservoir/health").json()["version"]


def populate(client_factory):
    """Some state in two accounts and two regions."""
    made = []
    for key, region in [
        ("AKIDEXAMPLE", "us-east-1"),
        (OTHER_ACCOUNT, "us-east-1"),
        ("AKIDEXAMPLE", "eu-west-1"),
    ]:
        ec2 = client_factory("ec2", region=region, key=key)
        cognito = client_factory("cognito-identity", region=region, key=key)
        vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "x"}])
        cognito.create_identity_pool(IdentityPoolName="p", AllowUnauthenticatedIdentities=True)
        made.append((ec2, cognito, vpc))
    return made


def assert_pristine(made):
    for ec2, cognito, vpc in made:
        vpcs = ec2.describe_vpcs()["Vpcs"]
        assert len(vpcs) == 1 and vpcs[0]["IsDefault"] is True
        assert vpcs[0]["VpcId"] != vpc
        assert ec2.describe_tags()["Tags"] == []
        assert cognito.list_identity_pools(MaxResults=60)["IdentityPools"] == []


@pytest.mark.parametrize(
    "path,answer",
    [
        ("/_reservoir/reset", {"reset": True}),
        ("/moto-api/reset", {"status": "ok"}),
        ("/_localstack/state/reset", {"reset": True}),
    ],
)
def test_reset_wipes_every_account_and_region(endpoint, client_factory, path, answer):
    made = populate(client_factory)
    r = post(endpoint + path)
    assert r.status_code == 200, r.text
    assert r.json() == answer
    assert_pristine(made)


def test_reset_makes_a_fresh_default_vpc(endpoint, ec2):
    before = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    assert post(f"{endpoint}/_reservoir/reset").status_code == 200
    after = ec2.describe_vpcs()["Vpcs"]
    assert len(after) == 1 and after[0]["IsDefault"] is True
    assert after[0]["VpcId"] != before


def test_reset_is_idempotent(endpoint, ec2):
    for _ in range(3):
        assert post(f"{endpoint}/_reservoir/reset").status_code == 200
    assert len(ec2.describe_vpcs()["Vpcs"]) == 1


def test_health_uptime_grows_and_state_survives_health_checks(endpoint, ec2):
    def uptime():
        r = get(f"{endpoint}/_reservoir/health")
        assert r.status_code == 200, r.text
        return r.json()["uptime_seconds"]

    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    before = uptime()
    started = time.monotonic()
    # Whole seconds: just over a second later the count has moved on by at least one.
    time.sleep(1.1)
    for _ in range(3):
        assert get(f"{endpoint}/_localstack/health").status_code == 200
    after = uptime()
    waited = time.monotonic() - started
    assert before + 1 <= after <= before + math.ceil(waited) + 1, (before, after, waited)
    assert vpc in [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"]]
