"""Outposts' local gateways, local gateway route tables, CoIP pools and CIDRs, and
GetCoipPoolUsage, with boto3: the catalogue and its filters, route table modes and
refusals, pools and CIDRs (overlaps refused, deletes refused while in use), usage
(filters with wildcards, paging, unknown/malformed pools, DryRun), every error with its
code and status (and that nothing changed), and a config file replacing the catalogue."""

import ipaddress
import subprocess

import pytest
from botocore.exceptions import ClientError

from conftest import (
    DEFAULT_ACCOUNT,
    OTHER_ACCOUNT,
    ec2_error,
    error_code,
    find_binary,
    http_status,
    raw_ec2,
)

MISSING_POOL = "ipv4pool-coip-0123456789abcdef0"
MISSING_RTB = "lgw-rtb-0123456789abcdef0"
MISSING_LGW = "lgw-0123456789abcdef0"


def expect(code, fn, *args, status=None, **kw):
    status = status or (412 if code == "DryRunOperation" else 400)
    with pytest.raises(ClientError) as e:
        fn(*args, **kw)
    assert (error_code(e.value), http_status(e.value)) == (code, status), e.value.response["Error"]
    return e.value.response["Error"]["Message"]


def lgw(ec2):
    (g,) = ec2.describe_local_gateways()["LocalGateways"]
    return g


def table(ec2, mode="coip", **kw):
    return ec2.create_local_gateway_route_table(LocalGatewayId=lgw(ec2)["LocalGatewayId"], Mode=mode, **kw)[
        "LocalGatewayRouteTable"
    ]


def pool(ec2, cidrs=(), **kw):
    rtb = table(ec2)["LocalGatewayRouteTableId"]
    p = ec2.create_coip_pool(LocalGatewayRouteTableId=rtb, **kw)["CoipPool"]
    for c in cidrs:
        ec2.create_coip_cidr(Cidr=c, CoipPoolId=p["PoolId"])
    return rtb, p["PoolId"]


def usage(ec2, pool_id, **kw):
    rows, token, pages = [], None, 0
    while True:
        if token:
            kw["NextToken"] = token
        r = ec2.get_coip_pool_usage(PoolId=pool_id, **kw)
        pages += 1
        rows.extend(r["CoipAddressUsages"])
        token = r.get("NextToken")
        if not token:
            return rows, pages


def allocation_works(ec2, pool_id):
    """Whether AllocateAddress(CustomerOwnedIpv4Pool) answers (built by another family)."""
    try:
        a = ec2.allocate_address(CustomerOwnedIpv4Pool=pool_id)
    except ClientError as e:
        if http_status(e) == 501:
            return None
        raise
    return a


# ----- the catalogue ------------------------------------------------------------------


def test_one_local_gateway_per_account_and_region(ec2, ec2_other, client_factory):
    g = lgw(ec2)
    assert g["LocalGatewayId"].startswith("lgw-") and len(g["LocalGatewayId"]) == 21
    assert g["OwnerId"] == DEFAULT_ACCOUNT and g["State"] == "available"
    outpost = g["OutpostArn"]
    assert outpost.startswith(f"arn:aws:outposts:us-east-1:{DEFAULT_ACCOUNT}:outpost/op-")
    assert len(outpost.rsplit("/", 1)[1]) == 20
    # Deterministic: the same on the next call; other accounts and regions differ.
    assert lgw(ec2) == g
    assert lgw(ec2_other)["LocalGatewayId"] != g["LocalGatewayId"]
    assert lgw(ec2_other)["OwnerId"] == OTHER_ACCOUNT
    west = lgw(client_factory("ec2", region="us-west-2"))
    assert west["LocalGatewayId"] != g["LocalGatewayId"] and ":us-west-2:" in west["OutpostArn"]


def test_local_gateway_ids_and_filters(ec2):
    g = lgw(ec2)
    gid = g["LocalGatewayId"]
    assert ec2.describe_local_gateways(LocalGatewayIds=[gid])["LocalGateways"] == [g]
    for name, value, n in [
        ("local-gateway-id", gid, 1),
        ("local-gateway-id", "lgw-*", 1),
        ("local-gateway-id", MISSING_LGW, 0),
        ("outpost-arn", g["OutpostArn"], 1),
        ("owner-id", DEFAULT_ACCOUNT, 1),
        ("owner-id", OTHER_ACCOUNT, 0),
        ("state", "available", 1),
        ("state", "pending", 0),
    ]:
        got = ec2.describe_local_gateways(Filters=[{"Name": name, "Values": [value]}])["LocalGateways"]
        assert len(got) == n, (name, value)
    expect("InvalidLocalGatewayID.NotFound", ec2.describe_local_gateways, LocalGatewayIds=[MISSING_LGW])
    expect("InvalidParameterValue", ec2.describe_local_gateways, LocalGatewayIds=["lgw-xyz"])
    expect("InvalidParameterValue", ec2.describe_local_gateways, Filters=[{"Name": "nope", "Values": ["x"]}])
    expect("DryRunOperation", ec2.describe_local_gateways, DryRun=True)
    r = ec2.describe_local_gateways(MaxResults=5)
    assert len(r["LocalGateways"]) == 1 and "NextToken" not in r


def test_local_gateways_take_tags(ec2):
    gid = lgw(ec2)["LocalGatewayId"]
    try:
        ec2.create_tags(Resources=[gid], Tags=[{"Key": "site", "Value": "lab"}])
    except ClientError as e:
        pytest.skip(f"tags on catalogue local gateways: {error_code(e)}")
    assert lgw(ec2)["Tags"] == [{"Key": "site", "Value": "lab"}]
    got = ec2.describe_local_gateways(Filters=[{"Name": "tag:site", "Values": ["lab"]}])["LocalGateways"]
    assert [g["LocalGatewayId"] for g in got] == [gid]


def test_max_results_range_is_checked(endpoint):
    for action in ("DescribeLocalGateways", "DescribeCoipPools", "DescribeLocalGatewayRouteTables"):
        for n in (4, 1001):
            r = raw_ec2(endpoint, f"Action={action}&Version=2016-11-15&MaxResults={n}")
            assert r.status_code == 400, r.text
            assert ec2_error(r)[0] == "InvalidParameterValue"
    r = raw_ec2(endpoint, f"Action=GetCoipPoolUsage&Version=2016-11-15&PoolId={MISSING_POOL}&MaxResults=4")
    assert r.status_code == 400 and ec2_error(r)[0] == "InvalidParameterValue"


def test_missing_parameters(endpoint):
    for body in (
        "Action=CreateLocalGatewayRouteTable&Version=2016-11-15",
        "Action=CreateCoipPool&Version=2016-11-15",
        "Action=GetCoipPoolUsage&Version=2016-11-15",
        f"Action=CreateCoipCidr&Version=2016-11-15&CoipPoolId={MISSING_POOL}",
        "Action=DeleteCoipPool&Version=2016-11-15",
        "Action=DeleteLocalGatewayRouteTable&Version=2016-11-15",
    ):
        r = raw_ec2(endpoint, body)
        assert r.status_code == 400, (body, r.text)
        assert ec2_error(r)[0] == "MissingParameter", (body, r.text)


# ----- route tables -------------------------------------------------------------------


def test_route_tables_in_both_modes(ec2):
    g = lgw(ec2)
    coip = table(ec2, TagSpecifications=[{"ResourceType": "local-gateway-route-table", "Tags": [{"Key": "k", "Value": "v"}]}])
    direct = table(ec2, mode="direct-vpc-routing")
    assert coip["Mode"] == "coip" and direct["Mode"] == "direct-vpc-routing"
    assert coip["LocalGatewayId"] == g["LocalGatewayId"] and coip["OutpostArn"] == g["OutpostArn"]
    assert coip["State"] == "available" and coip["OwnerId"] == DEFAULT_ACCOUNT
    assert coip["LocalGatewayRouteTableArn"] == (
        f"arn:aws:ec2:us-east-1:{DEFAULT_ACCOUNT}:local-gateway-route-table/{coip['LocalGatewayRouteTableId']}"
    )
    assert coip["Tags"] == [{"Key": "k", "Value": "v"}]
    ids = {coip["LocalGatewayRouteTableId"], direct["LocalGatewayRouteTableId"]}
    listed = ec2.describe_local_gateway_route_tables()["LocalGatewayRouteTables"]
    assert {t["LocalGatewayRouteTableId"] for t in listed} == ids

    def ids_for(name, value):
        got = ec2.describe_local_gateway_route_tables(Filters=[{"Name": name, "Values": [value]}])
        return {t["LocalGatewayRouteTableId"] for t in got["LocalGatewayRouteTables"]}

    assert ids_for("local-gateway-id", g["LocalGatewayId"]) == ids
    assert ids_for("local-gateway-route-table-id", coip["LocalGatewayRouteTableId"]) == {coip["LocalGatewayRouteTableId"]}
    assert ids_for("local-gateway-route-table-arn", coip["LocalGatewayRouteTableArn"]) == {coip["LocalGatewayRouteTableId"]}
    assert ids_for("outpost-arn", g["OutpostArn"]) == ids
    assert ids_for("owner-id", DEFAULT_ACCOUNT) == ids
    assert ids_for("state", "available") == ids
    assert ids_for("tag:k", "v") == {coip["LocalGatewayRouteTableId"]}
    assert ids_for("tag-key", "k") == {coip["LocalGatewayRouteTableId"]}
    # Paging.
    for _ in range(5):
        table(ec2)
    r = ec2.describe_local_gateway_route_tables(MaxResults=5)
    assert len(r["LocalGatewayRouteTables"]) == 5 and r["NextToken"]
    rest = ec2.describe_local_gateway_route_tables(MaxResults=5, NextToken=r["NextToken"])
    assert len(rest["LocalGatewayRouteTables"]) == 2 and "NextToken" not in rest
    # By id; unknown and malformed ids.
    got = ec2.describe_local_gateway_route_tables(LocalGatewayRouteTableIds=[coip["LocalGatewayRouteTableId"]])
    assert [t["Mode"] for t in got["LocalGatewayRouteTables"]] == ["coip"]
    expect("InvalidLocalGatewayRouteTableID.NotFound", ec2.describe_local_gateway_route_tables,
           LocalGatewayRouteTableIds=[MISSING_RTB])
    expect("InvalidParameterValue", ec2.describe_local_gateway_route_tables, LocalGatewayRouteTableIds=["rtb-1"])
    expect("DryRunOperation", ec2.describe_local_gateway_route_tables, DryRun=True)


def test_route_table_refusals_change_nothing(ec2, ec2_other):
    gid = lgw(ec2)["LocalGatewayId"]
    expect("InvalidLocalGatewayID.NotFound", ec2.create_local_gateway_route_table, LocalGatewayId=MISSING_LGW)
    # Another account's local gateway is not the caller's.
    expect("InvalidLocalGatewayID.NotFound", ec2_other.create_local_gateway_route_table, LocalGatewayId=gid)
    expect("InvalidParameterValue", ec2.create_local_gateway_route_table, LocalGatewayId="lgw-nope")
    expect("InvalidParameterValue", ec2.create_local_gateway_route_table, LocalGatewayId=gid,
           TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "a", "Value": "b"}]}])
    expect("DryRunOperation", ec2.create_local_gateway_route_table, LocalGatewayId=gid, DryRun=True)
    assert ec2.describe_local_gateway_route_tables()["LocalGatewayRouteTables"] == []
    assert ec2_other.describe_local_gateway_route_tables()["LocalGatewayRouteTables"] == []


def test_deleting_a_route_table(ec2, ec2_other):
    rtb, pool_id = pool(ec2)
    expect("InvalidLocalGatewayRouteTableID.NotFound", ec2_other.delete_local_gateway_route_table,
           LocalGatewayRouteTableId=rtb)
    expect("DependencyViolation", ec2.delete_local_gateway_route_table, LocalGatewayRouteTableId=rtb)
    ec2.delete_coip_pool(CoipPoolId=pool_id)
    expect("DryRunOperation", ec2.delete_local_gateway_route_table, LocalGatewayRouteTableId=rtb, DryRun=True)
    assert len(ec2.describe_local_gateway_route_tables()["LocalGatewayRouteTables"]) == 1
    gone = ec2.delete_local_gateway_route_table(LocalGatewayRouteTableId=rtb)["LocalGatewayRouteTable"]
    assert gone["State"] == "deleted" and gone["LocalGatewayRouteTableId"] == rtb
    assert ec2.describe_local_gateway_route_tables()["LocalGatewayRouteTables"] == []
    expect("InvalidLocalGatewayRouteTableID.NotFound", ec2.delete_local_gateway_route_table,
           LocalGatewayRouteTableId=rtb)
    expect("InvalidParameterValue", ec2.delete_local_gateway_route_table, LocalGatewayRouteTableId="lgw-rtb-x")


# ----- pools and CIDRs ----------------------------------------------------------------


def test_pools_on_coip_tables_only(ec2):
    direct = table(ec2, mode="direct-vpc-routing")["LocalGatewayRouteTableId"]
    expect("InvalidParameterValue", ec2.create_coip_pool, LocalGatewayRouteTableId=direct)
    expect("InvalidLocalGatewayRouteTableID.NotFound", ec2.create_coip_pool, LocalGatewayRouteTableId=MISSING_RTB)
    expect("InvalidParameterValue", ec2.create_coip_pool, LocalGatewayRouteTableId="lgw-rtb-zz")
    rtb = table(ec2)["LocalGatewayRouteTableId"]
    expect("DryRunOperation", ec2.create_coip_pool, LocalGatewayRouteTableId=rtb, DryRun=True)
    assert ec2.describe_coip_pools()["CoipPools"] == []
    p = ec2.create_coip_pool(
        LocalGatewayRouteTableId=rtb,
        TagSpecifications=[{"ResourceType": "coip-pool", "Tags": [{"Key": "team", "Value": "net"}]}],
    )["CoipPool"]
    assert p["PoolId"].startswith("ipv4pool-coip-") and p["LocalGatewayRouteTableId"] == rtb
    assert p["PoolArn"] == f"arn:aws:ec2:us-east-1:{DEFAULT_ACCOUNT}:coip-pool/{p['PoolId']}"
    assert p["Tags"] == [{"Key": "team", "Value": "net"}]


def test_describe_pools(ec2):
    rtb1, p1 = pool(ec2, ["10.0.0.0/28"])
    rtb2, p2 = pool(ec2)
    ec2.create_tags(Resources=[p2], Tags=[{"Key": "env", "Value": "prod"}])
    (one,) = ec2.describe_coip_pools(PoolIds=[p1])["CoipPools"]
    assert one["PoolCidrs"] == ["10.0.0.0/28"] and one["LocalGatewayRouteTableId"] == rtb1

    def ids_for(name, value):
        got = ec2.describe_coip_pools(Filters=[{"Name": name, "Values": [value]}])["CoipPools"]
        return {p["PoolId"] for p in got}

    assert ids_for("coip-pool.pool-id", p1) == {p1}
    assert ids_for("coip-pool.pool-id", "ipv4pool-coip-*") == {p1, p2}
    assert ids_for("coip-pool.local-gateway-route-table-id", rtb2) == {p2}
    assert ids_for("tag:env", "prod") == {p2}
    assert ids_for("tag-value", "prod") == {p2}
    expect("InvalidParameterValue", ec2.describe_coip_pools, Filters=[{"Name": "pool-id", "Values": [p1]}])
    expect("InvalidPoolID.NotFound", ec2.describe_coip_pools, PoolIds=[MISSING_POOL])
    expect("InvalidPoolID.Malformed", ec2.describe_coip_pools, PoolIds=["ipv4pool-coip-nope"])
    expect("DryRunOperation", ec2.describe_coip_pools, DryRun=True)
    for _ in range(5):
        pool(ec2)
    r = ec2.describe_coip_pools(MaxResults=5)
    assert len(r["CoipPools"]) == 5 and r["NextToken"]
    rest = ec2.describe_coip_pools(MaxResults=5, NextToken=r["NextToken"])
    assert len(rest["CoipPools"]) == 2 and "NextToken" not in rest
    expect("InvalidNextToken", ec2.describe_coip_pools, NextToken="garbage")


def test_cidrs(ec2):
    rtb, p = pool(ec2)
    c = ec2.create_coip_cidr(Cidr="10.1.0.0/24", CoipPoolId=p)["CoipCidr"]
    assert c == {"Cidr": "10.1.0.0/24", "CoipPoolId": p, "LocalGatewayRouteTableId": rtb}
    # Host bits are cleared (canonical form).
    assert ec2.create_coip_cidr(Cidr="10.2.0.7/24", CoipPoolId=p)["CoipCidr"]["Cidr"] == "10.2.0.0/24"
    # Overlaps with the pool's own CIDRs are refused, whichever contains which.
    for bad in ("10.1.0.0/24", "10.1.0.128/25", "10.0.0.0/8", "10.2.0.5/32"):
        expect("InvalidParameterValue", ec2.create_coip_cidr, Cidr=bad, CoipPoolId=p)
    for bad in ("10.1.0.0/33", "not-a-cidr", "fd00::/64", "10.1.0.0"):
        expect("InvalidParameterValue", ec2.create_coip_cidr, Cidr=bad, CoipPoolId=p)
    expect("InvalidPoolID.NotFound", ec2.create_coip_cidr, Cidr="10.3.0.0/24", CoipPoolId=MISSING_POOL)
    expect("InvalidPoolID.Malformed", ec2.create_coip_cidr, Cidr="10.3.0.0/24", CoipPoolId="pool-1")
    expect("DryRunOperation", ec2.create_coip_cidr, Cidr="10.3.0.0/24", CoipPoolId=p, DryRun=True)
    (desc,) = ec2.describe_coip_pools(PoolIds=[p])["CoipPools"]
    assert desc["PoolCidrs"] == ["10.1.0.0/24", "10.2.0.0/24"]
    # Another pool of the same route table may not overlap it; one of another table may.
    same = ec2.create_coip_pool(LocalGatewayRouteTableId=rtb)["CoipPool"]["PoolId"]
    for bad in ("10.1.0.0/24", "10.1.0.64/26", "10.0.0.0/15"):
        expect("InvalidParameterValue", ec2.create_coip_cidr, Cidr=bad, CoipPoolId=same)
    assert ec2.describe_coip_pools(PoolIds=[same])["CoipPools"][0]["PoolCidrs"] == []
    ec2.create_coip_cidr(Cidr="10.3.0.0/24", CoipPoolId=same)
    _, other = pool(ec2)
    ec2.create_coip_cidr(Cidr="10.1.0.0/24", CoipPoolId=other)
    # Deleting.
    expect("InvalidParameterValue", ec2.delete_coip_cidr, Cidr="10.9.0.0/24", CoipPoolId=p)
    expect("DryRunOperation", ec2.delete_coip_cidr, Cidr="10.2.0.0/24", CoipPoolId=p, DryRun=True)
    gone = ec2.delete_coip_cidr(Cidr="10.2.0.0/24", CoipPoolId=p)["CoipCidr"]
    assert gone == {"Cidr": "10.2.0.0/24", "CoipPoolId": p, "LocalGatewayRouteTableId": rtb}
    (desc,) = ec2.describe_coip_pools(PoolIds=[p])["CoipPools"]
    assert desc["PoolCidrs"] == ["10.1.0.0/24"]
    # The space is free again, in the pool and in the route table.
    ec2.create_coip_cidr(Cidr="10.2.0.0/24", CoipPoolId=same)
    ec2.delete_coip_cidr(Cidr="10.2.0.0/24", CoipPoolId=same)
    ec2.create_coip_cidr(Cidr="10.2.0.0/23", CoipPoolId=p)
    # Deleting a pool frees its CIDRs in the route table.
    ec2.delete_coip_pool(CoipPoolId=same)
    ec2.create_coip_cidr(Cidr="10.3.0.0/24", CoipPoolId=p)


def test_deleting_pools(ec2, ec2_other):
    _, p = pool(ec2, ["10.5.0.0/30"])
    expect("InvalidPoolID.NotFound", ec2_other.delete_coip_pool, CoipPoolId=p)
    expect("DryRunOperation", ec2.delete_coip_pool, CoipPoolId=p, DryRun=True)
    assert len(ec2.describe_coip_pools()["CoipPools"]) == 1
    gone = ec2.delete_coip_pool(CoipPoolId=p)["CoipPool"]
    assert gone["PoolId"] == p and gone["PoolCidrs"] == ["10.5.0.0/30"]
    assert ec2.describe_coip_pools()["CoipPools"] == []
    expect("InvalidPoolID.NotFound", ec2.delete_coip_pool, CoipPoolId=p)
    expect("InvalidPoolID.Malformed", ec2.delete_coip_pool, CoipPoolId="ipv4pool-coip-1")


# ----- usage --------------------------------------------------------------------------


def test_usage_of_an_empty_pool_and_errors(ec2, ec2_other):
    rtb, p = pool(ec2, ["10.6.0.0/29"])
    r = ec2.get_coip_pool_usage(PoolId=p)
    assert r["CoipPoolId"] == p and r["LocalGatewayRouteTableId"] == rtb and r["CoipAddressUsages"] == []
    expect("DryRunOperation", ec2.get_coip_pool_usage, PoolId=p, DryRun=True)
    expect("InvalidPoolID.NotFound", ec2.get_coip_pool_usage, PoolId=MISSING_POOL)
    expect("InvalidPoolID.NotFound", ec2_other.get_coip_pool_usage, PoolId=p)
    expect("InvalidPoolID.Malformed", ec2.get_coip_pool_usage, PoolId="ipv4pool-coip-")
    expect("InvalidParameterValue", ec2.get_coip_pool_usage, PoolId=p, Filters=[{"Name": "co-ip", "Values": ["x"]}])
    expect("InvalidNextToken", ec2.get_coip_pool_usage, PoolId=p, NextToken="nope")


def test_allocations_usage_and_deletes_refused_while_in_use(ec2):
    cidrs = ["10.7.0.0/29", "10.7.1.0/30"]
    rtb, p = pool(ec2, cidrs)
    first = allocation_works(ec2, p)
    if first is None:
        pytest.skip("AllocateAddress(CustomerOwnedIpv4Pool) is not implemented yet")
    every = [str(a) for c in cidrs for a in ipaddress.ip_network(c)]
    # Every address of a CIDR is handed out, lowest first, network and broadcast included.
    assert first["CustomerOwnedIp"] == "10.7.0.0"
    allocated = [first]
    while True:
        try:
            allocated.append(ec2.allocate_address(CustomerOwnedIpv4Pool=p))
        except ClientError as e:
            assert (error_code(e), http_status(e)) == ("InsufficientAddressCapacity", 400)
            break
    assert [a["CustomerOwnedIp"] for a in allocated] == every
    rows, _ = usage(ec2, p)
    assert [r["CoIp"] for r in rows] == every
    assert {r["AwsAccountId"] for r in rows} == {DEFAULT_ACCOUNT}
    assert all("AwsService" not in r for r in rows)
    by_ip = {a["CustomerOwnedIp"]: a["AllocationId"] for a in allocated}
    assert {r["CoIp"]: r["AllocationId"] for r in rows} == by_ip
    # Paging: MaxResults=5 gives pages of five, in address order, each address once.
    paged, pages = usage(ec2, p, MaxResults=5)
    assert [r["CoIp"] for r in paged] == every and pages == 3
    # Filters with wildcards.
    f = lambda name, *v: [r["CoIp"] for r in usage(ec2, p, Filters=[{"Name": name, "Values": list(v)}])[0]]  # noqa: E731
    assert f("coip-address-usage.co-ip", "10.7.1.*") == every[8:]
    assert f("coip-address-usage.co-ip", "10.7.0.?") == every[:8]
    assert f("coip-address-usage.co-ip", "10.7.0.1", "10.7.1.3") == ["10.7.0.1", "10.7.1.3"]
    assert f("coip-address-usage.allocation-id", allocated[2]["AllocationId"]) == [every[2]]
    assert f("coip-address-usage.allocation-id", "eipalloc-*") == every
    assert f("coip-address-usage.aws-account-id", "0000000000??") == every
    assert f("coip-address-usage.aws-account-id", OTHER_ACCOUNT) == []
    assert f("coip-address-usage.aws-service", "*") == []
    filtered, pages = usage(ec2, p, MaxResults=5, Filters=[{"Name": "coip-address-usage.co-ip", "Values": ["10.7.*"]}])
    assert [r["CoIp"] for r in filtered] == every and pages == 3
    # Literal values (looked up one by one), paged, with other filters combined.
    asked = ["10.7.1.3", "10.7.0.0", "10.7.0.2", "10.9.9.9", "not-an-ip", "10.7.0.4", "10.7.0.6", "10.7.1.0"]
    lit, pages = usage(ec2, p, MaxResults=5, Filters=[{"Name": "coip-address-usage.co-ip", "Values": asked}])
    assert [r["CoIp"] for r in lit] == ["10.7.0.0", "10.7.0.2", "10.7.0.4", "10.7.0.6", "10.7.1.0", "10.7.1.3"]
    assert pages == 2
    ids = [a["AllocationId"] for a in allocated[::2]] + ["eipalloc-0123456789abcdef0"]
    lit, pages = usage(ec2, p, MaxResults=5, Filters=[{"Name": "coip-address-usage.allocation-id", "Values": ids}])
    assert [r["CoIp"] for r in lit] == every[::2] and pages == 2
    assert f("coip-address-usage.co-ip", "10.7.0.1") == ["10.7.0.1"]
    none = usage(ec2, p, Filters=[{"Name": "coip-address-usage.co-ip", "Values": ["10.7.0.1"]},
                                  {"Name": "coip-address-usage.aws-account-id", "Values": [OTHER_ACCOUNT]}])[0]
    assert none == []
    # A taken address, one outside the pool.
    expect("InvalidIPAddress.InUse", ec2.allocate_address, CustomerOwnedIpv4Pool=p, Address="10.7.0.3")
    expect("InvalidParameterValue", ec2.allocate_address, CustomerOwnedIpv4Pool=p, Address="10.9.9.9")
    # Deletes refused while in use; nothing changed.
    expect("DependencyViolation", ec2.delete_coip_cidr, Cidr=cidrs[0], CoipPoolId=p)
    expect("DependencyViolation", ec2.delete_coip_pool, CoipPoolId=p)
    expect("DependencyViolation", ec2.delete_local_gateway_route_table, LocalGatewayRouteTableId=rtb)
    (desc,) = ec2.describe_coip_pools(PoolIds=[p])["CoipPools"]
    assert desc["PoolCidrs"] == cidrs
    assert len(usage(ec2, p)[0]) == len(every)
    # Release one: the address comes back, and asked for by address it is taken again.
    freed = allocated.pop(3)
    ec2.release_address(AllocationId=freed["AllocationId"])
    assert freed["CustomerOwnedIp"] not in [r["CoIp"] for r in usage(ec2, p)[0]]
    again = ec2.allocate_address(CustomerOwnedIpv4Pool=p, Address=freed["CustomerOwnedIp"])
    assert again["CustomerOwnedIp"] == freed["CustomerOwnedIp"]
    allocated.append(again)
    # Releasing a whole CIDR's addresses lets it go while the other stays in use.
    for a in [a for a in allocated if a["CustomerOwnedIp"].startswith("10.7.1.")]:
        ec2.release_address(AllocationId=a["AllocationId"])
    ec2.delete_coip_cidr(Cidr=cidrs[1], CoipPoolId=p)
    expect("DependencyViolation", ec2.delete_coip_pool, CoipPoolId=p)
    for a in [a for a in allocated if a["CustomerOwnedIp"].startswith("10.7.0.")]:
        ec2.release_address(AllocationId=a["AllocationId"])
    assert usage(ec2, p)[0] == []
    ec2.delete_coip_pool(CoipPoolId=p)
    ec2.delete_local_gateway_route_table(LocalGatewayRouteTableId=rtb)


def test_a_shared_pool(ec2, ec2_other, client_factory):
    _, p = pool(ec2, ["10.8.0.0/30"])
    mine = allocation_works(ec2, p)
    if mine is None:
        pytest.skip("AllocateAddress(CustomerOwnedIpv4Pool) is not implemented yet")
    expect("InvalidPoolID.NotFound", ec2_other.allocate_address, CustomerOwnedIpv4Pool=p)
    ram = client_factory("ram")
    share = ram.create_resource_share(
        name="coip", resourceArns=[f"arn:aws:ec2:us-east-1:{DEFAULT_ACCOUNT}:coip-pool/{p}"], principals=[OTHER_ACCOUNT]
    )["resourceShare"]
    other_ram = client_factory("ram", key=OTHER_ACCOUNT)
    (inv,) = other_ram.get_resource_share_invitations(resourceShareArns=[share["resourceShareArn"]])[
        "resourceShareInvitations"
    ]
    other_ram.accept_resource_share_invitation(resourceShareInvitationArn=inv["resourceShareInvitationArn"])
    theirs = ec2_other.allocate_address(CustomerOwnedIpv4Pool=p)
    rows = {r["CoIp"]: (r["AwsAccountId"], r["AllocationId"]) for r in usage(ec2, p)[0]}
    assert rows == {
        mine["CustomerOwnedIp"]: (DEFAULT_ACCOUNT, mine["AllocationId"]),
        theirs["CustomerOwnedIp"]: (OTHER_ACCOUNT, theirs["AllocationId"]),
    }
    assert [r["CoIp"] for r in usage(ec2, p, Filters=[
        {"Name": "coip-address-usage.aws-account-id", "Values": [OTHER_ACCOUNT]}])[0]] == [theirs["CustomerOwnedIp"]]
    # The owner cannot delete the pool while the consumer holds an address.
    ec2.release_address(AllocationId=mine["AllocationId"])
    expect("DependencyViolation", ec2.delete_coip_pool, CoipPoolId=p)
    ec2_other.release_address(AllocationId=theirs["AllocationId"])
    assert usage(ec2, p)[0] == []


def share_with_other(ram_client_factory, pool_ids):
    ram = ram_client_factory("ram")
    share = ram.create_resource_share(
        name="coip",
        resourceArns=[f"arn:aws:ec2:us-east-1:{DEFAULT_ACCOUNT}:coip-pool/{p}" for p in pool_ids],
        principals=[OTHER_ACCOUNT],
    )["resourceShare"]
    other_ram = ram_client_factory("ram", key=OTHER_ACCOUNT)
    (inv,) = other_ram.get_resource_share_invitations(resourceShareArns=[share["resourceShareArn"]])[
        "resourceShareInvitations"
    ]
    other_ram.accept_resource_share_invitation(resourceShareInvitationArn=inv["resourceShareInvitationArn"])


def test_shared_pools_are_described_to_the_consumer(ec2, ec2_other, client_factory):
    shared = sorted(pool(ec2, ["10.20.0.0/30"])[1] for _ in range(3))
    _, private = pool(ec2)
    ec2.create_tags(Resources=[shared[0]], Tags=[{"Key": "owner-only", "Value": "x"}])
    expect("InvalidPoolID.NotFound", ec2_other.describe_coip_pools, PoolIds=[shared[0]])
    assert ec2_other.describe_coip_pools()["CoipPools"] == []
    share_with_other(client_factory, shared)
    own = [pool(ec2_other)[1] for _ in range(3)]
    listed = ec2_other.describe_coip_pools()["CoipPools"]
    assert [p["PoolId"] for p in listed] == own + shared
    # The owner's tags stay the owner's.
    assert all(p["Tags"] == [] for p in listed if p["PoolId"] in shared)
    # Pages of five run across both.
    first = ec2_other.describe_coip_pools(MaxResults=5)
    second = ec2_other.describe_coip_pools(MaxResults=5, NextToken=first["NextToken"])
    assert [p["PoolId"] for p in first["CoipPools"] + second["CoipPools"]] == own + shared
    assert "NextToken" not in second
    # Exactly full own page: the next page holds the shared pools.
    own += [pool(ec2_other)[1] for _ in range(2)]
    got, token = [], None
    while True:
        r = ec2_other.describe_coip_pools(MaxResults=5, **({"NextToken": token} if token else {}))
        got += [p["PoolId"] for p in r["CoipPools"]]
        token = r.get("NextToken")
        if not token:
            break
    assert got == own + shared
    by_id = ec2_other.describe_coip_pools(PoolIds=[shared[1], own[0]])["CoipPools"]
    assert sorted(p["PoolId"] for p in by_id) == sorted([shared[1], own[0]])
    expect("InvalidPoolID.NotFound", ec2_other.describe_coip_pools, PoolIds=[private])
    filt = ec2_other.describe_coip_pools(Filters=[{"Name": "coip-pool.pool-id", "Values": [shared[2]]}])["CoipPools"]
    assert [p["PoolId"] for p in filt] == [shared[2]]
    # The consumer cannot manage the owner's pool.
    expect("InvalidPoolID.NotFound", ec2_other.create_coip_cidr, Cidr="10.30.0.0/24", CoipPoolId=shared[0])
    expect("InvalidPoolID.NotFound", ec2_other.delete_coip_pool, CoipPoolId=shared[0])


# ----- configuration ------------------------------------------------------------------

CONFIG = """
listen = "127.0.0.1:0"
ephemeral = true

[[outposts]]
region = "us-east-1"
outpost-id = "op-0aaaaaaaaaaaaaaaa"
local-gateway-id = "lgw-0aaaaaaaaaaaaaaaa"

[[outposts]]
region = "us-east-1"
outpost-id = "op-0bbbbbbbbbbbbbbbb"
local-gateway-id = "lgw-0bbbbbbbbbbbbbbbb"
owner = "111111111111"

[[outposts]]
region = "eu-west-1"
outpost-id = "op-0cccccccccccccccc"
local-gateway-id = "lgw-0cccccccccccccccc"
"""


def test_a_config_file_replaces_the_catalogue(own_server, tmp_path):
    cfg = tmp_path / "reservoir.toml"
    cfg.write_text(CONFIG)
    s = own_server("--config", str(cfg), cwd=tmp_path)
    ec2 = s.client("ec2")
    (g,) = ec2.describe_local_gateways()["LocalGateways"]
    assert g["LocalGatewayId"] == "lgw-0aaaaaaaaaaaaaaaa"
    assert g["OutpostArn"] == f"arn:aws:outposts:us-east-1:{DEFAULT_ACCOUNT}:outpost/op-0aaaaaaaaaaaaaaaa"
    assert g["OwnerId"] == DEFAULT_ACCOUNT
    other = s.client("ec2", key=OTHER_ACCOUNT)
    got = sorted(x["LocalGatewayId"] for x in other.describe_local_gateways()["LocalGateways"])
    assert got == ["lgw-0aaaaaaaaaaaaaaaa", "lgw-0bbbbbbbbbbbbbbbb"]
    expect("InvalidLocalGatewayID.NotFound", ec2.create_local_gateway_route_table,
           LocalGatewayId="lgw-0bbbbbbbbbbbbbbbb")
    eu = s.client("ec2", region="eu-west-1")
    assert [x["LocalGatewayId"] for x in eu.describe_local_gateways()["LocalGateways"]] == ["lgw-0cccccccccccccccc"]
    assert s.client("ec2", region="us-west-2").describe_local_gateways()["LocalGateways"] == []
    rtb = ec2.create_local_gateway_route_table(LocalGatewayId="lgw-0aaaaaaaaaaaaaaaa", Mode="coip")
    assert rtb["LocalGatewayRouteTable"]["OutpostArn"] == g["OutpostArn"]


@pytest.mark.parametrize(
    "entry,message",
    [
        ('region = "us-east-1"\noutpost-id = "op-1"\nlocal-gateway-id = "lgw-0aaaaaaaaaaaaaaaa"', "op-1"),
        ('region = "us-east-1"\noutpost-id = "op-0aaaaaaaaaaaaaaaa"\nlocal-gateway-id = "lgw-1"', "lgw-1"),
        ('region = "xx-nowhere-1"\noutpost-id = "op-0aaaaaaaaaaaaaaaa"\nlocal-gateway-id = "lgw-0aaaaaaaaaaaaaaaa"',
         "xx-nowhere-1"),
        ('region = "us-east-1"\noutpost-id = "op-0aaaaaaaaaaaaaaaa"\nlocal-gateway-id = "lgw-0aaaaaaaaaaaaaaaa"\n'
         'owner = "me"', "me"),
        ('region = "us-east-1"\noutpost-id = "op-0aaaaaaaaaaaaaaaa"\nlocal-gateway-id = "lgw-0aaaaaaaaaaaaaaaa"\n'
         'colour = "x"', "colour"),
    ],
)
def test_a_bad_outpost_entry_stops_the_server(tmp_path, entry, message):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(f'listen = "127.0.0.1:0"\nephemeral = true\n[[outposts]]\n{entry}\n')
    r = subprocess.run([str(find_binary()), "serve", "--config", str(cfg)], capture_output=True, text=True,
                       timeout=20, cwd=tmp_path)
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
