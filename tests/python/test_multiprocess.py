"""Two server processes on one SQLite file: each sees the other's writes, and a reset
through one leaves the other working."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from conftest import HTTP_TIMEOUT, OTHER_ACCOUNT


def vpc_ids(ec2, **kw):
    return sorted(v["VpcId"] for v in ec2.describe_vpcs(**kw)["Vpcs"])


def defaults(ec2):
    return [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"]]


@pytest.fixture
def pair(own_server, tmp_path):
    db = tmp_path / "shared.db"
    a = own_server("--listen", "127.0.0.1:0", "--data", str(db))
    b = own_server("--listen", "127.0.0.1:0", "--data", str(db))
    assert a.port != b.port
    return a, b


def test_each_process_sees_the_others_writes(pair):
    a, b = pair
    ea, eb = a.client("ec2"), b.client("ec2")
    from_a = ea.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    from_b = eb.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    assert vpc_ids(ea) == vpc_ids(eb)
    assert {from_a, from_b} < set(vpc_ids(eb))
    # One default VPC, whichever process made it.
    assert len(defaults(ea)) == 1 and defaults(ea) == defaults(eb)
    eb.create_tags(Resources=[from_a], Tags=[{"Key": "Name", "Value": "seen"}])
    found = ea.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["seen"]}])["Vpcs"]
    assert [v["VpcId"] for v in found] == [from_a]
    ea.delete_vpc(VpcId=from_b)
    assert from_b not in vpc_ids(eb)
    pool = a.client("cognito-identity").create_identity_pool(
        IdentityPoolName="shared", AllowUnauthenticatedIdentities=True
    )["IdentityPoolId"]
    d = b.client("cognito-identity").describe_identity_pool(IdentityPoolId=pool)
    assert d["IdentityPoolName"] == "shared"


def test_reset_through_one_process_leaves_the_other_working(pair):
    a, b = pair
    ea, eb = a.client("ec2"), b.client("ec2")
    old_default = defaults(ea)
    made = [ea.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"],
            eb.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]]
    assert len(vpc_ids(eb)) == 3

    r = requests.post(f"{a.url}/_reservoir/reset", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text

    # The other process: exactly one default VPC, made again on first use.
    vpcs = eb.describe_vpcs()["Vpcs"]
    assert len(vpcs) == 1, vpcs
    assert vpcs[0]["IsDefault"] is True
    assert vpcs[0]["VpcId"] not in old_default + made
    new = eb.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    # And the process that reset sees the same state and keeps working too.
    assert vpc_ids(ea) == vpc_ids(eb) == sorted([vpcs[0]["VpcId"], new])
    other = ea.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    assert other in vpc_ids(eb)
    assert len(defaults(ea)) == 1


def test_both_processes_racing_after_a_reset_make_one_default_vpc(pair):
    a, b = pair
    # Another account and region too, so that first use happens in both processes at once.
    clients = [
        s.client("ec2", key=OTHER_ACCOUNT, region="eu-west-1") for s in (a, b) for _ in range(4)
    ]
    clients[0].create_vpc(CidrBlock="10.0.0.0/16")
    r = requests.post(f"{b.url}/_reservoir/reset", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text

    def first_use(i):
        c = clients[i % len(clients)]
        if i % 2:
            c.create_vpc(CidrBlock=f"10.{i}.0.0/16")
        return tuple(v["VpcId"] for v in c.describe_vpcs()["Vpcs"] if v["IsDefault"])

    with ThreadPoolExecutor(8) as pool:
        seen = set(pool.map(first_use, range(16)))
    assert len(seen) == 1, seen
    (ids,) = seen
    assert len(ids) == 1
    for c in (clients[0], clients[-1]):
        vpcs = c.describe_vpcs()["Vpcs"]
        assert sum(v["IsDefault"] for v in vpcs) == 1
        assert len(vpcs) == 1 + 8


def test_reset_through_one_process_clears_cognito_state_for_both(pair):
    a, b = pair
    ca, cb = a.client("cognito-identity"), b.client("cognito-identity")
    ca.create_identity_pool(IdentityPoolName="x", AllowUnauthenticatedIdentities=True)
    assert len(cb.list_identity_pools(MaxResults=60)["IdentityPools"]) == 1
    r = requests.post(f"{b.url}/_reservoir/reset", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    assert ca.list_identity_pools(MaxResults=60)["IdentityPools"] == []
    pool = ca.create_identity_pool(IdentityPoolName="y", AllowUnauthenticatedIdentities=True)
    assert [p["IdentityPoolId"] for p in cb.list_identity_pools(MaxResults=60)["IdentityPools"]] == [
        pool["IdentityPoolId"]
    ]
