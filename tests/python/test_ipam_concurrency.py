"""Concurrent allocation from a small IPAM pool: eight clients over-ask a pool of sixteen
/28s; every block is handed out once, the rest are refused, nothing overlaps.

Bounded: 32 allocation requests per test, each client making its four in turn.
"""


from botocore.exceptions import ClientError

from conftest import error_code, http_status, make_client, run_together
from ipam_helpers import (  # noqa: F401  (fixtures are used by name)
    allocations,
    assert_disjoint,
    create_pool,
    ipam,
    net,
    scope_id,
)

THREADS = 8
ASKS_PER_THREAD = 4
JOIN_TIMEOUT = 120


def run_clients(endpoint, work):
    """Runs work(client) -> list of outcomes on THREADS threads, each with its own boto3
    client (made here, on this thread), started together. Returns every outcome."""
    clients = [make_client(endpoint, "ec2") for _ in range(THREADS)]
    return run_together(clients, work, JOIN_TIMEOUT)


def test_eight_clients_over_asking_sixteen_blocks(ec2, endpoint, scope_id):
    pool = create_pool(ec2, scope_id, cidrs=["10.20.30.0/24"])["IpamPoolId"]

    def work(client):
        outcomes = []
        for _ in range(ASKS_PER_THREAD):
            try:
                a = client.allocate_ipam_pool_cidr(IpamPoolId=pool, NetmaskLength=28)
                outcomes.append(("ok", a["IpamPoolAllocation"]))
            except ClientError as e:
                outcomes.append(("error", (error_code(e), http_status(e))))
        return outcomes

    outcomes = run_clients(endpoint, work)
    assert len(outcomes) == THREADS * ASKS_PER_THREAD
    won = [v for kind, v in outcomes if kind == "ok"]
    lost = [v for kind, v in outcomes if kind == "error"]
    assert len(won) == 16
    assert len(lost) == 16
    assert set(lost) == {("InvalidParameterValue", 400)}

    cidrs = [a["Cidr"] for a in won]
    assert len(set(cidrs)) == 16
    assert_disjoint(cidrs)
    assert all(net(c).prefixlen == 28 and net(c).subnet_of(net("10.20.30.0/24")) for c in cidrs)
    ids = {a["IpamPoolAllocationId"] for a in won}
    assert len(ids) == 16

    listed = allocations(ec2, pool)
    assert {a["IpamPoolAllocationId"] for a in listed} == ids
    assert sorted(a["Cidr"] for a in listed) == sorted(cidrs)
    assert [a["Cidr"] for a in listed] == [str(n) for n in net("10.20.30.0/24").subnets(new_prefix=28)]


def test_eight_clients_asking_for_the_same_four_cidrs(ec2, endpoint, scope_id):
    pool = create_pool(ec2, scope_id, cidrs=["10.20.30.0/24"])["IpamPoolId"]
    wanted = ["10.20.30.0/28", "10.20.30.16/28", "10.20.30.32/28", "10.20.30.48/28"]

    def work(client):
        outcomes = []
        for cidr in wanted:
            try:
                a = client.allocate_ipam_pool_cidr(IpamPoolId=pool, Cidr=cidr)
                outcomes.append(("ok", a["IpamPoolAllocation"]))
            except ClientError as e:
                outcomes.append(("error", (error_code(e), http_status(e))))
        return outcomes

    outcomes = run_clients(endpoint, work)
    won = [v for kind, v in outcomes if kind == "ok"]
    lost = [v for kind, v in outcomes if kind == "error"]
    assert sorted(a["Cidr"] for a in won) == sorted(wanted)  # each exactly once
    assert len(lost) == THREADS * len(wanted) - len(wanted)
    assert set(lost) == {("InvalidParameterValue", 400)}
    listed = allocations(ec2, pool)
    assert {a["IpamPoolAllocationId"] for a in listed} == {a["IpamPoolAllocationId"] for a in won}
    assert [a["Cidr"] for a in listed] == wanted
