"""The story of a customer-owned IP pool, with boto3: local gateway → route table (coip
mode) → pool → two CIDRs → allocate until exhausted → usage lists every address once,
filters and paging work → release → the address is reusable → deletes refused while in
use, allowed after; Elastic IPs allocate, associate with an instance, disassociate and
release. Also: sharing a pool through RAM, and sixteen clients allocating at once."""

import ipaddress

import pytest
from botocore.exceptions import ClientError

from conftest import DEFAULT_ACCOUNT, OTHER_ACCOUNT, error_code, http_status, make_client, run_together

CIDRS = ["10.77.0.0/29", "10.77.1.0/30"]  # 8 + 4 addresses
CLIENTS = 16
ALLOCATIONS_PER_CLIENT = 2
JOIN_TIMEOUT = 120


def local_gateway(ec2):
    (lgw,) = ec2.describe_local_gateways()["LocalGateways"]
    return lgw


def coip_pool(ec2, cidrs=CIDRS):
    lgw = local_gateway(ec2)
    rtb = ec2.create_local_gateway_route_table(LocalGatewayId=lgw["LocalGatewayId"], Mode="coip")[
        "LocalGatewayRouteTable"
    ]
    pool = ec2.create_coip_pool(LocalGatewayRouteTableId=rtb["LocalGatewayRouteTableId"])["CoipPool"]
    for c in cidrs:
        ec2.create_coip_cidr(Cidr=c, CoipPoolId=pool["PoolId"])
    return rtb["LocalGatewayRouteTableId"], pool["PoolId"]


def usage(ec2, pool, **kw):
    """Every usage row (all pages)."""
    rows, token = [], None
    for _ in range(1000):
        if token:
            kw["NextToken"] = token
        r = ec2.get_coip_pool_usage(PoolId=pool, **kw)
        rows.extend(r["CoipAddressUsages"])
        token = r.get("NextToken")
        if not token:
            return rows
    raise AssertionError("too many pages")


def expect(code, status, fn, *args, **kw):
    with pytest.raises(ClientError) as e:
        fn(*args, **kw)
    assert (error_code(e.value), http_status(e.value)) == (code, status), e.value.response["Error"]


def test_the_whole_story(ec2):
    rtb, pool = coip_pool(ec2)
    every = {str(a) for c in CIDRS for a in ipaddress.ip_network(c)}

    allocated = []
    while True:
        try:
            a = ec2.allocate_address(CustomerOwnedIpv4Pool=pool)
        except ClientError as e:
            assert http_status(e) == 400, e.response["Error"]
            break
        assert a["CustomerOwnedIpv4Pool"] == pool and a["AllocationId"].startswith("eipalloc-")
        allocated.append(a)
        assert len(allocated) <= len(every), "handed out more addresses than the pool has"
    ips = [a["CustomerOwnedIp"] for a in allocated]
    assert sorted(ips) == sorted(every) and len(set(ips)) == len(ips)

    u = ec2.get_coip_pool_usage(PoolId=pool)
    assert u["CoipPoolId"] == pool and u["LocalGatewayRouteTableId"] == rtb
    rows = usage(ec2, pool)
    assert sorted(r["CoIp"] for r in rows) == sorted(every)
    assert {r["AllocationId"] for r in rows} == {a["AllocationId"] for a in allocated}
    assert {r["AwsAccountId"] for r in rows} == {DEFAULT_ACCOUNT}
    assert all("AwsService" not in r for r in rows)
    # Paging: pages of 5 list every address once, in address order.
    paged = usage(ec2, pool, MaxResults=5)
    assert [r["CoIp"] for r in paged] == sorted(every, key=ipaddress.ip_address)
    # Filters, with wildcards.
    one = usage(ec2, pool, Filters=[{"Name": "coip-address-usage.co-ip", "Values": ["10.77.1.*"]}])
    assert sorted(r["CoIp"] for r in one) == sorted(str(a) for a in ipaddress.ip_network(CIDRS[1]))
    by_id = usage(ec2, pool, Filters=[{"Name": "coip-address-usage.allocation-id", "Values": [allocated[0]["AllocationId"]]}])
    assert [r["CoIp"] for r in by_id] == [allocated[0]["CustomerOwnedIp"]]
    assert usage(ec2, pool, Filters=[{"Name": "coip-address-usage.aws-account-id", "Values": ["99999999999?"]}]) == []

    # Release one: it is reusable, and asked for by address it comes back.
    freed = allocated.pop()
    ec2.release_address(AllocationId=freed["AllocationId"])
    assert freed["CustomerOwnedIp"] not in [r["CoIp"] for r in usage(ec2, pool)]
    again = ec2.allocate_address(CustomerOwnedIpv4Pool=pool, Address=freed["CustomerOwnedIp"])
    assert again["CustomerOwnedIp"] == freed["CustomerOwnedIp"]
    allocated.append(again)

    # Deletes refused while in use, allowed after.
    expect("DependencyViolation", 400, ec2.delete_coip_cidr, Cidr=CIDRS[0], CoipPoolId=pool)
    expect("DependencyViolation", 400, ec2.delete_coip_pool, CoipPoolId=pool)
    expect("DependencyViolation", 400, ec2.delete_local_gateway_route_table, LocalGatewayRouteTableId=rtb)
    for a in allocated:
        ec2.release_address(AllocationId=a["AllocationId"])
    assert usage(ec2, pool) == []
    for c in CIDRS:
        ec2.delete_coip_cidr(Cidr=c, CoipPoolId=pool)
    ec2.delete_coip_pool(CoipPoolId=pool)
    ec2.delete_local_gateway_route_table(LocalGatewayRouteTableId=rtb)
    assert ec2.describe_coip_pools()["CoipPools"] == []


def test_elastic_ips_with_an_instance(ec2):
    iid = ec2.run_instances(ImageId="ami-0123456789abcdef0", MinCount=1, MaxCount=1)["Instances"][0]["InstanceId"]
    eip = ec2.allocate_address(Domain="vpc")
    assert eip["Domain"] == "vpc" and ipaddress.ip_address(eip["PublicIp"]).is_global
    assoc = ec2.associate_address(AllocationId=eip["AllocationId"], InstanceId=iid)["AssociationId"]
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert inst["PublicIpAddress"] == eip["PublicIp"]
    (addr,) = ec2.describe_addresses(AllocationIds=[eip["AllocationId"]])["Addresses"]
    assert (addr["InstanceId"], addr["AssociationId"]) == (iid, assoc)
    ec2.disassociate_address(AssociationId=assoc)
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert "PublicIpAddress" not in inst
    ec2.release_address(AllocationId=eip["AllocationId"])
    assert ec2.describe_addresses()["Addresses"] == []


def test_a_shared_pool_is_used_by_the_consumer_and_shows_its_account(ec2, ec2_other, client_factory):
    rtb, pool = coip_pool(ec2)
    expect("InvalidPoolID.NotFound", 400, ec2_other.allocate_address, CustomerOwnedIpv4Pool=pool)
    ram = client_factory("ram")
    s = ram.create_resource_share(
        name="coip", resourceArns=[f"arn:aws:ec2:us-east-1:{DEFAULT_ACCOUNT}:coip-pool/{pool}"], principals=[OTHER_ACCOUNT]
    )["resourceShare"]
    other_ram = client_factory("ram", key=OTHER_ACCOUNT)
    (inv,) = other_ram.get_resource_share_invitations(resourceShareArns=[s["resourceShareArn"]])["resourceShareInvitations"]
    other_ram.accept_resource_share_invitation(resourceShareInvitationArn=inv["resourceShareInvitationArn"])
    theirs = ec2_other.allocate_address(CustomerOwnedIpv4Pool=pool)
    mine = ec2.allocate_address(CustomerOwnedIpv4Pool=pool)
    rows = {r["CoIp"]: r["AwsAccountId"] for r in usage(ec2, pool)}
    assert rows == {theirs["CustomerOwnedIp"]: OTHER_ACCOUNT, mine["CustomerOwnedIp"]: DEFAULT_ACCOUNT}
    # Only the allocating account sees and releases its address.
    assert [a["AllocationId"] for a in ec2.describe_addresses()["Addresses"]] == [mine["AllocationId"]]
    ec2_other.release_address(AllocationId=theirs["AllocationId"])
    assert [r["CoIp"] for r in usage(ec2, pool)] == [mine["CustomerOwnedIp"]]


def test_sixteen_clients_never_get_one_address_twice(ec2, endpoint):
    _, pool = coip_pool(ec2, cidrs=["10.78.0.0/28"])  # 16 addresses for 32 asks
    clients = [make_client(endpoint, "ec2") for _ in range(CLIENTS)]

    def work(client):
        out = []
        for _ in range(ALLOCATIONS_PER_CLIENT):
            try:
                out.append(("ok", client.allocate_address(CustomerOwnedIpv4Pool=pool)["CustomerOwnedIp"]))
            except ClientError as e:
                out.append((error_code(e), http_status(e)))
        return out

    outcomes = run_together(clients, work, JOIN_TIMEOUT)
    ips = [o[1] for o in outcomes if o[0] == "ok"]
    assert len(ips) == 16 and len(set(ips)) == 16
    assert sorted(ips) == sorted(str(a) for a in ipaddress.ip_network("10.78.0.0/28"))
    refused = {o for o in outcomes if o[0] != "ok"}
    assert len(refused) == 1 and next(iter(refused))[1] == 400
    assert sorted(r["CoIp"] for r in usage(ec2, pool)) == sorted(ips)
