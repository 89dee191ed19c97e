"""Two server processes on one PostgreSQL database behave as one service.

Sixteen client threads, half on each node, started together:
- allocate /28s from one small IPAM pool: no CIDR handed out twice, none overlapping, the
  rest refused, and GetIpamPoolAllocations on either node lists exactly the successes;
- allocate customer-owned addresses from one CoIP pool of a /28: each of its 16 addresses
  handed out once, the rest refused with InsufficientAddressCapacity;
- launch into one targeted capacity reservation of 5: exactly 5 placed, the rest refused
  with ReservationCapacityExceeded, the usage equal to a recount on both nodes;
- add one to a Cognito Sync counter record (read its SyncCount, push count + 1, pull again
  on ResourceConflictException): no update lost, the usage equal to the recount.
Also: a write through one node is seen by the other at once, a NextToken from one node
pages on the other, moving the clock through one moves it for the other, and a reset
through one empties the other's view.

Runs when RESERVOIR_TEST_PG_URL names a PostgreSQL maintenance database (it makes a fresh
database and drops it after), once per run of the suite: in the SQLite-mode pass, skipped
in the PostgreSQL-mode pass (RESERVOIR_TEST_STORE=postgres), which the first already
covered for this file. The clients keep boto3's standard retries on: under contention the
servers retry serialization failures themselves and answer 503 only when those run out.

Bounded: 32 requests per concurrent part (the counter: at most 64 tries per device, about
150 in all), a few dozen elsewhere.
"""

from __future__ import annotations

import ipaddress
import json

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

import pg_support
from conftest import (
    ACCESS_KEY,
    HTTP_TIMEOUT,
    REGION,
    SECRET_KEY,
    all_pages,
    error_code,
    http_status,
    run_together,
    start_server,
)
from cognito_helpers import (
    all_records,
    nbytes,
    new_identity,
    new_pool,
    patches_for,
    pool_usage,
    session,
    update,
    write,
)
from test_capacity_story import IMAGE, ZONE, reservation
from test_coip_story import coip_pool
from test_coip_story import usage as coip_usage

pytestmark = [
    pytest.mark.skipif(pg_support.pg_url() is None, reason=pg_support.skip_reason_without_pg()),
    pytest.mark.skipif(
        pg_support.postgres_mode(),
        reason="PostgreSQL-specific: runs once per run of the suite, in the SQLite-mode pass "
        "(RESERVOIR_TEST_STORE unset) with RESERVOIR_TEST_PG_URL set",
    ),
]

CLIENTS = 16
ASKS_PER_CLIENT = 2
JOIN_TIMEOUT = 120
POOL_CIDR = "10.20.30.0/24"  # sixteen /28s for 32 asks
COIP_CIDR = "10.78.0.0/28"  # sixteen addresses for 32 asks
SLOTS = 5


def node_client(url, service, key=ACCESS_KEY):
    """A boto3 client with standard retries (a 503 is retried) and loopback timeouts."""
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=key,
        aws_secret_access_key=SECRET_KEY,
        config=Config(
            retries={"mode": "standard", "max_attempts": 5},
            connect_timeout=HTTP_TIMEOUT,
            read_timeout=HTTP_TIMEOUT,
        ),
    )


@pytest.fixture
def nodes():
    """Two servers on one fresh database; both stopped (exit code 0 checked) before the
    database is dropped."""
    with pg_support.pg_database() as url:
        servers = []
        try:
            servers.append(start_server("--listen", "127.0.0.1:0", "--store", url))
            servers.append(start_server("--listen", "127.0.0.1:0", "--store", url))
            a, b = servers
            assert a.port != b.port
            yield a, b
        finally:
            codes, logs = [], []
            for s in servers:
                if s.proc.poll() is None:
                    codes.append(s.stop())
                else:
                    codes.append(s.proc.returncode)
                logs.append(s.stderr()[-3000:])
                s.cleanup()
        assert all(c == 0 for c in codes), f"exit codes {codes}; stderr tails:\n" + "\n---\n".join(logs)


def run_split(a, b, work):
    """Runs work(ec2 client) on CLIENTS threads started together, even ones on node A and
    odd ones on node B; answers every outcome (the lists work returns, joined)."""
    clients = [node_client((a if i % 2 == 0 else b).url, "ec2") for i in range(CLIENTS)]
    return run_together(clients, work, JOIN_TIMEOUT)


def asking(n, call):
    """A work function: `call(client)` n times, each outcome ("ok", answer) or (code, status)."""

    def work(client):
        out = []
        for _ in range(n):
            try:
                out.append(("ok", call(client)))
            except ClientError as e:
                out.append((error_code(e), http_status(e)))
        return out

    return work


# --- contention across the nodes -----------------------------------------------------------


def test_ipam_allocations_from_both_nodes_never_overlap(nodes):
    a, b = nodes
    ea, eb = node_client(a.url, "ec2"), node_client(b.url, "ec2")
    ipam = ea.create_ipam()["Ipam"]
    pool = eb.create_ipam_pool(IpamScopeId=ipam["PrivateDefaultScopeId"], AddressFamily="ipv4")["IpamPool"]["IpamPoolId"]
    ea.provision_ipam_pool_cidr(IpamPoolId=pool, Cidr=POOL_CIDR)

    outcomes = run_split(
        a, b, asking(ASKS_PER_CLIENT, lambda c: c.allocate_ipam_pool_cidr(IpamPoolId=pool, NetmaskLength=28)["IpamPoolAllocation"])
    )
    won = [v for kind, v in outcomes if kind == "ok"]
    lost = [o for o in outcomes if o[0] != "ok"]
    assert set(lost) <= {("InvalidParameterValue", 400)}, lost
    cidrs = [x["Cidr"] for x in won]
    assert len(set(cidrs)) == len(cidrs), sorted(cidrs)
    nets = sorted(ipaddress.ip_network(c) for c in cidrs)
    for x, y in zip(nets, nets[1:]):
        assert not x.overlaps(y), f"{x} overlaps {y}"
    assert all(n.prefixlen == 28 and n.subnet_of(ipaddress.ip_network(POOL_CIDR)) for n in nets)
    # Every refusal says the pool ran out: so it did, all sixteen blocks handed out.
    assert len(won) == 16 and len(lost) == CLIENTS * ASKS_PER_CLIENT - 16
    ids = {x["IpamPoolAllocationId"] for x in won}
    assert len(ids) == 16
    for ec2 in (ea, eb):
        listed = all_pages(ec2.get_ipam_pool_allocations, "IpamPoolAllocations", IpamPoolId=pool)
        assert {x["IpamPoolAllocationId"] for x in listed} == ids
        assert sorted(x["Cidr"] for x in listed) == sorted(cidrs)


def test_coip_addresses_from_both_nodes_each_handed_out_once(nodes):
    a, b = nodes
    ea, eb = node_client(a.url, "ec2"), node_client(b.url, "ec2")
    _, pool = coip_pool(ea, cidrs=[COIP_CIDR])

    outcomes = run_split(
        a, b, asking(ASKS_PER_CLIENT, lambda c: c.allocate_address(CustomerOwnedIpv4Pool=pool))
    )
    won = [v for kind, v in outcomes if kind == "ok"]
    lost = [o for o in outcomes if o[0] != "ok"]
    assert set(lost) <= {("InsufficientAddressCapacity", 400)}, lost
    ips = [x["CustomerOwnedIp"] for x in won]
    every = sorted(str(x) for x in ipaddress.ip_network(COIP_CIDR))
    assert len(set(ips)) == len(ips) <= 16, sorted(ips)
    assert set(ips) <= set(every)
    # Every refusal says the pool is exhausted: so it is.
    assert sorted(ips) == every
    by_id = {x["AllocationId"]: x["CustomerOwnedIp"] for x in won}
    for ec2 in (ea, eb):
        rows = coip_usage(ec2, pool)
        assert {r["AllocationId"]: r["CoIp"] for r in rows} == by_id
        listed = [x for x in ec2.describe_addresses()["Addresses"] if x.get("CustomerOwnedIpv4Pool") == pool]
        assert {x["AllocationId"]: x["CustomerOwnedIp"] for x in listed} == by_id


def test_launches_from_both_nodes_never_overcommit_a_reservation(nodes):
    a, b = nodes
    ea, eb = node_client(a.url, "ec2"), node_client(b.url, "ec2")
    cid = reservation(ea, count=SLOTS, InstanceMatchCriteria="targeted")["CapacityReservationId"]
    spec = {"CapacityReservationTarget": {"CapacityReservationId": cid}}

    def launch(c):
        r = c.run_instances(
            ImageId=IMAGE,
            InstanceType="m5.large",
            MinCount=1,
            MaxCount=1,
            Placement={"AvailabilityZone": ZONE},
            CapacityReservationSpecification=spec,
        )
        return r["Instances"][0]

    outcomes = run_split(a, b, asking(ASKS_PER_CLIENT, launch))
    placed = [v for kind, v in outcomes if kind == "ok"]
    refused = [o for o in outcomes if o[0] != "ok"]
    assert len(placed) == SLOTS, [i["InstanceId"] for i in placed]
    assert all(i.get("CapacityReservationId") == cid for i in placed)
    assert set(refused) == {("ReservationCapacityExceeded", 400)}
    assert len(refused) == CLIENTS * ASKS_PER_CLIENT - SLOTS
    placed_ids = sorted(i["InstanceId"] for i in placed)
    for ec2 in (ea, eb):
        u = ec2.get_capacity_reservation_usage(CapacityReservationId=cid)
        used = sum(r["UsedInstanceCount"] for r in u["InstanceUsages"])
        recount = sorted(
            i["InstanceId"]
            for r in all_pages(
                ec2.describe_instances,
                "Reservations",
                Filters=[{"Name": "capacity-reservation-id", "Values": [cid]}],
            )
            for i in r["Instances"]
            if i["State"]["Name"] in ("pending", "running")
        )
        assert recount == placed_ids
        assert used == len(recount) == SLOTS
        assert u["AvailableInstanceCount"] == 0
        (cr,) = ec2.describe_capacity_reservations(CapacityReservationIds=[cid])["CapacityReservations"]
        assert (cr["TotalInstanceCount"], cr["AvailableInstanceCount"]) == (SLOTS, 0)


def test_cognito_record_updates_from_both_nodes_lose_no_update(nodes):
    """16 devices, split between the nodes, each add one to a counter record of one
    dataset: each reads the record's SyncCount and pushes count + 1 with it, pulling again
    after a ResourceConflictException. Every push that was answered 200 is counted
    exactly once (no lost update), and the usage both nodes report equals the recount."""
    a, b = nodes
    cognito = node_client(a.url, "cognito-identity")
    pool = new_pool(cognito, "two_nodes")
    identity = new_identity(cognito, pool)
    sa = node_client(a.url, "cognito-sync")
    write(sa, pool, identity, "shared", {"n": "0"})

    def add_one(client):
        for attempt in range(CLIENTS * 4):
            token, current = session(client, pool, identity, "shared")
            n = int(current["n"]["Value"])
            try:
                update(client, pool, identity, "shared", token, patches_for(current, {"n": str(n + 1)}))
                return [("ok", attempt)]
            except ClientError as e:
                assert error_code(e) == "ResourceConflictException", e
        return [("gave up", None)]

    devices = [node_client((a if i % 2 == 0 else b).url, "cognito-sync") for i in range(CLIENTS)]
    outcomes = run_together(devices, add_one)
    assert [o for o, _ in outcomes] == ["ok"] * CLIENTS
    for node in (a, b):
        s = node_client(node.url, "cognito-sync")
        records, listed = all_records(s, pool, identity, "shared")
        assert [(r["Key"], r["Value"], r["SyncCount"]) for r in records] == [("n", str(CLIENTS), CLIENTS + 1)]
        assert listed["DatasetSyncCount"] == CLIENTS + 1
        usage = pool_usage(s, pool)
        assert (usage["DataStorage"], usage["SyncSessionsCount"]) == (nbytes({"n": str(CLIENTS)}), CLIENTS + 1)


# --- one state, one clock ----------------------------------------------------------------------


def test_a_write_on_one_node_is_seen_by_the_other_at_once(nodes):
    a, b = nodes
    ea, eb = node_client(a.url, "ec2"), node_client(b.url, "ec2")
    ca, cb = node_client(a.url, "cognito-identity"), node_client(b.url, "cognito-identity")
    for i in range(5):
        writer, reader = (ea, eb) if i % 2 == 0 else (eb, ea)
        vpc = writer.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"]
        (seen,) = reader.describe_vpcs(VpcIds=[vpc])["Vpcs"]
        assert seen["CidrBlock"] == f"10.{i}.0.0/16"
        writer.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": f"n{i}"}])
        found = reader.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": [f"n{i}"]}])["Vpcs"]
        assert [v["VpcId"] for v in found] == [vpc]
        reader.delete_vpc(VpcId=vpc)
        with pytest.raises(ClientError) as e:
            writer.describe_vpcs(VpcIds=[vpc])
        assert error_code(e.value) == "InvalidVpcID.NotFound"
    # One default VPC, whichever node made it.
    defaults = [v["VpcId"] for v in ea.describe_vpcs()["Vpcs"] if v["IsDefault"]]
    assert len(defaults) == 1 and defaults == [v["VpcId"] for v in eb.describe_vpcs()["Vpcs"] if v["IsDefault"]]
    pool = ca.create_identity_pool(IdentityPoolName="shared", AllowUnauthenticatedIdentities=True)["IdentityPoolId"]
    assert cb.describe_identity_pool(IdentityPoolId=pool)["IdentityPoolName"] == "shared"
    identity = cb.get_id(IdentityPoolId=pool)["IdentityId"]
    assert ca.describe_identity(IdentityId=identity)["IdentityId"] == identity


def test_a_next_token_from_one_node_pages_on_the_other(nodes):
    a, b = nodes
    ea, eb = node_client(a.url, "ec2"), node_client(b.url, "ec2")
    made = {ea.create_vpc(CidrBlock=f"10.{i}.0.0/16")["Vpc"]["VpcId"] for i in range(7)}
    everything = sorted(v["VpcId"] for v in ea.describe_vpcs()["Vpcs"])
    assert made < set(everything) and len(everything) == 8  # and the default VPC

    # Alternate nodes page by page: A, B, A, ...
    seen, token, clients = [], None, [ea, eb]
    for page in range(10):
        kw = {"MaxResults": 5}
        if token:
            kw["NextToken"] = token
        r = clients[page % 2].describe_vpcs(**kw)
        seen.extend(v["VpcId"] for v in r["Vpcs"])
        token = r.get("NextToken")
        if not token:
            break
    assert page >= 1, "one page only: nothing was paged"
    assert sorted(seen) == everything and len(seen) == len(everything)

    ca, cb = node_client(a.url, "cognito-identity"), node_client(b.url, "cognito-identity")
    pools = {
        ca.create_identity_pool(IdentityPoolName=f"p{i}", AllowUnauthenticatedIdentities=True)["IdentityPoolId"]
        for i in range(3)
    }
    first = ca.list_identity_pools(MaxResults=2)
    assert first.get("NextToken"), first
    rest = cb.list_identity_pools(MaxResults=2, NextToken=first["NextToken"])
    assert "NextToken" not in rest
    assert {p["IdentityPoolId"] for p in first["IdentityPools"] + rest["IdentityPools"]} == pools


def read_clock(url):
    r = requests.get(f"{url}/_reservoir/clock", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def test_moving_the_clock_on_one_node_moves_it_on_the_other(nodes):
    a, b = nodes
    assert read_clock(a.url)["offset_seconds"] == read_clock(b.url)["offset_seconds"] == 0
    r = requests.post(
        f"{a.url}/_reservoir/clock",
        data=json.dumps({"advance_seconds": 86400}),
        headers={"Content-Type": "application/json"},
        timeout=HTTP_TIMEOUT,
    )
    assert r.status_code == 200, r.text
    assert read_clock(b.url)["offset_seconds"] == 86400
    r = requests.post(
        f"{b.url}/_reservoir/clock",
        data=json.dumps({"advance_seconds": 60}),
        headers={"Content-Type": "application/json"},
        timeout=HTTP_TIMEOUT,
    )
    assert r.status_code == 200, r.text
    assert read_clock(a.url)["offset_seconds"] == read_clock(b.url)["offset_seconds"] == 86400 + 60


def test_a_reset_on_one_node_empties_the_others_view(nodes):
    a, b = nodes
    ea, eb = node_client(a.url, "ec2"), node_client(b.url, "ec2")
    cb = node_client(b.url, "cognito-identity")
    old_default = [v["VpcId"] for v in eb.describe_vpcs()["Vpcs"] if v["IsDefault"]]
    vpc = eb.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    eb.create_ipam()
    cb.create_identity_pool(IdentityPoolName="gone", AllowUnauthenticatedIdentities=True)
    requests.post(
        f"{b.url}/_reservoir/clock",
        data=json.dumps({"advance_seconds": 3600}),
        headers={"Content-Type": "application/json"},
        timeout=HTTP_TIMEOUT,
    ).raise_for_status()

    r = requests.post(f"{a.url}/_reservoir/reset", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text

    vpcs = eb.describe_vpcs()["Vpcs"]
    assert len(vpcs) == 1 and vpcs[0]["IsDefault"], vpcs
    assert vpcs[0]["VpcId"] not in old_default + [vpc]
    assert eb.describe_ipams()["Ipams"] == []
    assert cb.list_identity_pools(MaxResults=60)["IdentityPools"] == []
    # The clock stays (a reset never moves it back), the same on both.
    assert read_clock(a.url)["offset_seconds"] == read_clock(b.url)["offset_seconds"] == 3600
    # Both keep working on the one state.
    new = ea.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    assert new in [v["VpcId"] for v in eb.describe_vpcs()["Vpcs"]]
