"""IPAM pools shared through RAM: a consumer account sees the shared pool, allocates from
it and creates VPCs from it; the owner's `GetIpamPoolAllocations` lists those allocations
with the consumer as `ResourceOwner`. Without a share (before accepting, or after the
pool is unshared) the pool can be neither seen nor used."""

from conftest import DEFAULT_ACCOUNT, OTHER_ACCOUNT
from ipam_helpers import allocate, allocations, arn, client_error, create_ipam, create_pool


def setup(ec2):
    ipam = create_ipam(ec2)
    pool = create_pool(ec2, ipam["PrivateDefaultScopeId"], cidrs=["10.60.0.0/16"], Locale="us-east-1")
    return pool["IpamPoolId"]


def share_pool(client_factory, pool_id, accept=True):
    ram = client_factory("ram")
    s = ram.create_resource_share(
        name="ipam", resourceArns=[arn("ipam-pool", pool_id)], principals=[OTHER_ACCOUNT]
    )["resourceShare"]
    other_ram = client_factory("ram", key=OTHER_ACCOUNT)
    if accept:
        (inv,) = other_ram.get_resource_share_invitations(resourceShareArns=[s["resourceShareArn"]])[
            "resourceShareInvitations"
        ]
        other_ram.accept_resource_share_invitation(resourceShareInvitationArn=inv["resourceShareInvitationArn"])
    return ram, s["resourceShareArn"]


def test_a_shared_pool_is_seen_and_used_by_the_consumer(ec2, ec2_other, client_factory):
    pool = setup(ec2)
    # Not shared: invisible and unusable.
    assert ec2_other.describe_ipam_pools()["IpamPools"] == []
    e = client_error(ec2_other.allocate_ipam_pool_cidr, IpamPoolId=pool, NetmaskLength=24)
    assert e.response["Error"]["Code"] == "InvalidIpamPoolId.NotFound"
    # Shared but not accepted yet: still nothing.
    ram, share_arn = share_pool(client_factory, pool, accept=False)
    assert ec2_other.describe_ipam_pools()["IpamPools"] == []
    ram.delete_resource_share(resourceShareArn=share_arn)

    ram, share_arn = share_pool(client_factory, pool)
    seen = ec2_other.describe_ipam_pools()["IpamPools"]
    assert [p["IpamPoolId"] for p in seen] == [pool]
    assert seen[0]["OwnerId"] == DEFAULT_ACCOUNT
    assert ec2_other.describe_ipam_pools(IpamPoolIds=[pool])["IpamPools"][0]["IpamPoolId"] == pool

    mine = allocate(ec2, pool, NetmaskLength=24)
    theirs = allocate(ec2_other, pool, NetmaskLength=24, Description="consumer")
    assert mine["Cidr"] != theirs["Cidr"]
    vpc = ec2_other.create_vpc(Ipv4IpamPoolId=pool, Ipv4NetmaskLength=20)["Vpc"]
    assert vpc["OwnerId"] == OTHER_ACCOUNT

    rows = {a["Cidr"]: a for a in allocations(ec2, pool)}
    assert rows[mine["Cidr"]]["ResourceOwner"] == DEFAULT_ACCOUNT
    assert rows[theirs["Cidr"]]["ResourceOwner"] == OTHER_ACCOUNT
    assert rows[theirs["Cidr"]]["ResourceType"] == "custom"
    assert rows[vpc["CidrBlock"]]["ResourceOwner"] == OTHER_ACCOUNT
    assert rows[vpc["CidrBlock"]]["ResourceType"] == "vpc"
    assert rows[vpc["CidrBlock"]]["ResourceId"] == vpc["VpcId"]

    # Unshared: the consumer loses sight and use; what it holds stays allocated.
    ram.disassociate_resource_share(resourceShareArn=share_arn, resourceArns=[arn("ipam-pool", pool)])
    assert ec2_other.describe_ipam_pools()["IpamPools"] == []
    e = client_error(ec2_other.allocate_ipam_pool_cidr, IpamPoolId=pool, NetmaskLength=24)
    assert e.response["Error"]["Code"] == "InvalidIpamPoolId.NotFound"
    e = client_error(ec2_other.create_vpc, Ipv4IpamPoolId=pool, Ipv4NetmaskLength=20)
    assert e.response["Error"]["Code"] == "InvalidIpamPoolId.NotFound"
    assert len(allocations(ec2, pool)) == 3


def test_consumers_cannot_manage_a_shared_pool(ec2, ec2_other, client_factory):
    pool = setup(ec2)
    share_pool(client_factory, pool)
    for call in (
        lambda: ec2_other.delete_ipam_pool(IpamPoolId=pool),
        lambda: ec2_other.provision_ipam_pool_cidr(IpamPoolId=pool, Cidr="10.61.0.0/16"),
        lambda: ec2_other.modify_ipam_pool(IpamPoolId=pool, Description="mine now"),
    ):
        e = client_error(call)
        assert e.response["Error"]["Code"] == "InvalidIpamPoolId.NotFound"
    assert ec2.describe_ipam_pools(IpamPoolIds=[pool])["IpamPools"][0]["State"] == "create-complete"


def test_shared_pools_follow_the_consumers_own_across_pages(ec2, ec2_other, client_factory):
    pool = setup(ec2)
    share_pool(client_factory, pool)
    scope = create_ipam(ec2_other)["PrivateDefaultScopeId"]
    own = [create_pool(ec2_other, scope)["IpamPoolId"] for _ in range(5)]
    pages = list(ec2_other.get_paginator("describe_ipam_pools").paginate(PaginationConfig={"PageSize": 5}))
    assert [len(p["IpamPools"]) for p in pages] == [5, 1]
    assert [p["IpamPoolId"] for page in pages for p in page["IpamPools"]] == own + [pool]
    both = ec2_other.describe_ipam_pools(IpamPoolIds=[own[0], pool])["IpamPools"]
    assert sorted(p["IpamPoolId"] for p in both) == sorted([own[0], pool])
    e = client_error(ec2_other.describe_ipam_pools, IpamPoolIds=[own[0], "ipam-pool-0123456789abcdef0"])
    assert e.response["Error"]["Code"] == "InvalidIpamPoolId.NotFound"
