"""Helpers and fixtures shared by the VPC IPAM tests (test_ipam*.py).

Not a test module: the test files import what they use from here.
"""

from __future__ import annotations

import ipaddress
import re

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, DEFAULT_ACCOUNT, HTTP_TIMEOUT, REGION, SECRET_KEY, all_pages

IPAM_ID = re.compile(r"^ipam-[0-9a-f]{17}$")
SCOPE_ID = re.compile(r"^ipam-scope-[0-9a-f]{17}$")
POOL_ID = re.compile(r"^ipam-pool-[0-9a-f]{17}$")
ALLOC_ID = re.compile(r"^ipam-pool-alloc-0[0-9a-f]{32}$")
POOL_CIDR_ID = re.compile(r"^ipam-pool-cidr-[0-9a-f]{33}$")

MISSING_IPAM = "ipam-0123456789abcdef0"
MISSING_SCOPE = "ipam-scope-0123456789abcdef0"
MISSING_POOL = "ipam-pool-0123456789abcdef0"
MISSING_ALLOC = "ipam-pool-alloc-0" + "0123456789abcdef" * 2

WEST = "us-west-2"
EU = "eu-west-1"


def arn(kind: str, resource_id: str, account: str = DEFAULT_ACCOUNT) -> str:
    """IPAM ARNs have no region."""
    return f"arn:aws:ec2::{account}:{kind}/{resource_id}"


def client_error(fn, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    return e.value


def tag_specs(resource_type: str, **tags) -> list:
    return [
        {"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
    ]


def tags_of(item) -> dict:
    return {t["Key"]: t["Value"] for t in item.get("Tags", [])}


def net(cidr: str):
    return ipaddress.ip_network(cidr)


def assert_disjoint(cidrs) -> None:
    """No two of the CIDRs overlap."""
    nets = sorted((net(c) for c in cidrs), key=lambda n: (n.version, n.network_address))
    for a, b in zip(nets, nets[1:]):
        assert not a.overlaps(b), f"{a} overlaps {b}"


# --- creating things ------------------------------------------------------------------------


def create_ipam(ec2, regions=(), tags=None, **kw) -> dict:
    if regions:
        kw["OperatingRegions"] = [{"RegionName": r} for r in regions]
    if tags:
        kw["TagSpecifications"] = tag_specs("ipam", **tags)
    return ec2.create_ipam(**kw)["Ipam"]


def operating_regions(ipam: dict) -> list:
    return sorted(r["RegionName"] for r in ipam.get("OperatingRegions", []))


def create_scope(ec2, ipam_id: str, tags=None, **kw) -> dict:
    if tags:
        kw["TagSpecifications"] = tag_specs("ipam-scope", **tags)
    return ec2.create_ipam_scope(IpamId=ipam_id, **kw)["IpamScope"]


def create_pool(ec2, scope_id: str, family="ipv4", cidrs=(), tags=None, **kw) -> dict:
    """Creates a pool in the scope and provisions each of `cidrs` to it."""
    if tags:
        kw["TagSpecifications"] = tag_specs("ipam-pool", **tags)
    pool = ec2.create_ipam_pool(IpamScopeId=scope_id, AddressFamily=family, **kw)["IpamPool"]
    for c in cidrs:
        provision(ec2, pool["IpamPoolId"], c)
    return pool


def provision(ec2, pool_id: str, cidr=None, netmask=None, **kw) -> dict:
    if cidr is not None:
        kw["Cidr"] = cidr
    if netmask is not None:
        kw["NetmaskLength"] = netmask
    return ec2.provision_ipam_pool_cidr(IpamPoolId=pool_id, **kw)["IpamPoolCidr"]


def allocate(ec2, pool_id: str, **kw) -> dict:
    return ec2.allocate_ipam_pool_cidr(IpamPoolId=pool_id, **kw)["IpamPoolAllocation"]


def release(ec2, pool_id: str, alloc: dict) -> bool:
    return ec2.release_ipam_pool_allocation(
        IpamPoolId=pool_id, Cidr=alloc["Cidr"], IpamPoolAllocationId=alloc["IpamPoolAllocationId"]
    )["Success"]


# --- reading things -------------------------------------------------------------------------


def allocations(ec2, pool_id: str, **kw) -> list:
    """Every allocation of the pool (all pages), in the server's order."""
    return all_pages(
        ec2.get_ipam_pool_allocations, "IpamPoolAllocations", IpamPoolId=pool_id, **kw
    )


def alloc_rows(ec2, pool_id: str, **kw) -> list:
    """(Cidr, ResourceType) of every allocation of the pool, in the server's order."""
    return [(a["Cidr"], a["ResourceType"]) for a in allocations(ec2, pool_id, **kw)]


def pool_cidrs(ec2, pool_id: str, **kw) -> list:
    return all_pages(ec2.get_ipam_pool_cidrs, "IpamPoolCidrs", IpamPoolId=pool_id, **kw)


def cidr_states(ec2, pool_id: str, **kw) -> list:
    return sorted((c["Cidr"], c["State"]) for c in pool_cidrs(ec2, pool_id, **kw))


def resource_cidrs(ec2, scope_id: str, **kw) -> list:
    return all_pages(
        ec2.get_ipam_resource_cidrs, "IpamResourceCidrs", IpamScopeId=scope_id, **kw
    )


def describe_pool(ec2, pool_id: str) -> dict:
    (pool,) = ec2.describe_ipam_pools(IpamPoolIds=[pool_id])["IpamPools"]
    return pool


def describe_scope(ec2, scope_id: str) -> dict:
    (scope,) = ec2.describe_ipam_scopes(IpamScopeIds=[scope_id])["IpamScopes"]
    return scope


def describe_ipam(ec2, ipam_id: str) -> dict:
    (ipam,) = ec2.describe_ipams(IpamIds=[ipam_id])["Ipams"]
    return ipam


def snapshot(ec2) -> dict:
    """Everything IPAM (and VPC) the caller can see in its region, to compare before and
    after a call that must change nothing."""
    ipams = sorted(ec2.describe_ipams()["Ipams"], key=lambda i: i["IpamId"])
    scopes = sorted(ec2.describe_ipam_scopes()["IpamScopes"], key=lambda s: s["IpamScopeId"])
    pools = sorted(ec2.describe_ipam_pools()["IpamPools"], key=lambda p: p["IpamPoolId"])
    cidrs = {p["IpamPoolId"]: cidr_states(ec2, p["IpamPoolId"]) for p in pools}
    allocs = {
        p["IpamPoolId"]: sorted(
            (a["Cidr"], a["IpamPoolAllocationId"], a["ResourceType"], a.get("ResourceId"))
            for a in allocations(ec2, p["IpamPoolId"])
        )
        for p in pools
    }
    vpcs = sorted(
        (
            v["VpcId"],
            tuple(
                sorted(
                    (a["CidrBlock"], a["CidrBlockState"]["State"])
                    for a in v.get("CidrBlockAssociationSet", [])
                )
            ),
            tuple(
                sorted(
                    (a["Ipv6CidrBlock"], a["Ipv6CidrBlockState"]["State"])
                    for a in v.get("Ipv6CidrBlockAssociationSet", [])
                )
            ),
        )
        for v in ec2.describe_vpcs()["Vpcs"]
    )
    resources = {
        i["IpamId"]: sorted(
            (r["ResourceId"], r["ResourceCidr"], r.get("ManagementState"))
            for r in resource_cidrs(ec2, i["PrivateDefaultScopeId"])
        )
        for i in ipams
    }
    return {
        "ipams": ipams,
        "scopes": scopes,
        "pools": pools,
        "cidrs": cidrs,
        "allocations": allocs,
        "vpcs": vpcs,
        "resources": resources,
    }


# --- clients ----------------------------------------------------------------------------------


def unvalidated_client(endpoint: str, region=REGION, key=ACCESS_KEY):
    """An EC2 client that sends what boto3 would refuse (missing members, out-of-range
    numbers)."""
    return boto3.client(
        "ec2",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=SECRET_KEY,
        config=Config(
            parameter_validation=False,
            retries={"max_attempts": 1},
            connect_timeout=HTTP_TIMEOUT,
            read_timeout=HTTP_TIMEOUT,
        ),
    )


# --- fixtures (import them into a test module to use them) ------------------------------------


@pytest.fixture
def ipam(ec2):
    """An IPAM in us-east-1 operating in us-east-1 only."""
    return create_ipam(ec2)


@pytest.fixture
def scope_id(ipam):
    """The IPAM's default private scope."""
    return ipam["PrivateDefaultScopeId"]


@pytest.fixture
def pool(ec2, scope_id):
    """A top-level IPv4 pool (locale us-east-1) with 10.0.0.0/16 provisioned."""
    return create_pool(ec2, scope_id, cidrs=["10.0.0.0/16"], Locale=REGION)


@pytest.fixture
def pool_id(pool):
    return pool["IpamPoolId"]


@pytest.fixture
def loose(endpoint):
    """An EC2 client without boto3's parameter validation."""
    return unvalidated_client(endpoint)
