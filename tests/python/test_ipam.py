"""VPC IPAM end to end: IPAMs, scopes, pools, provisioned CIDRs, allocations, VPCs from
pools, resource CIDRs. The whole story first, then each operation's happy paths.

Error cases are in test_ipam_errors.py, concurrent allocation in test_ipam_concurrency.py.
"""

import ipaddress
from itertools import islice

import pytest

from conftest import DEFAULT_ACCOUNT, OTHER_ACCOUNT, REGION, error_code, http_status
from ipam_helpers import (  # noqa: F401  (fixtures are used by name)
    ALLOC_ID,
    EU,
    IPAM_ID,
    POOL_CIDR_ID,
    POOL_ID,
    SCOPE_ID,
    WEST,
    alloc_rows,
    allocate,
    allocations,
    arn,
    assert_disjoint,
    cidr_states,
    client_error,
    create_ipam,
    create_pool,
    create_scope,
    describe_ipam,
    describe_pool,
    describe_scope,
    ipam,
    net,
    operating_regions,
    pool,
    pool_cidrs,
    pool_id,
    provision,
    release,
    resource_cidrs,
    scope_id,
    tag_specs,
    tags_of,
)
from test_cli import aws  # noqa: F401  (the AWS CLI fixture)


def ids(rows, key):
    return sorted(r[key] for r in rows)


# --- the whole story ---------------------------------------------------------------------------


def test_the_whole_story(ec2):
    # An IPAM and a custom scope.
    ipam = create_ipam(ec2, Description="story")
    ipam_id = ipam["IpamId"]
    scope = create_scope(ec2, ipam_id, Description="story scope")
    scope_id = scope["IpamScopeId"]
    assert scope["IpamScopeType"] == "private"
    assert scope["IsDefault"] is False
    assert describe_ipam(ec2, ipam_id)["ScopeCount"] == 3

    # A top-level pool with 10.0.0.0/8.
    top = create_pool(ec2, scope_id, Locale=REGION, Description="top")
    top_id = top["IpamPoolId"]
    assert top["PoolDepth"] == 1
    assert provision(ec2, top_id, "10.0.0.0/8")["State"] == "provisioned"

    # A nested pool takes a /16 of it: the parent lists that as an ipam-pool allocation.
    child = create_pool(
        ec2, scope_id, SourceIpamPoolId=top_id, Locale=REGION, Description="apps"
    )
    child_id = child["IpamPoolId"]
    assert child["PoolDepth"] == 2
    assert child["SourceIpamPoolId"] == top_id
    assert provision(ec2, child_id, netmask=16)["Cidr"] == "10.0.0.0/16"
    top_rows = allocations(ec2, top_id)
    assert [(a["Cidr"], a["ResourceType"], a["ResourceId"]) for a in top_rows] == [
        ("10.0.0.0/16", "ipam-pool", child_id)
    ]

    # Allocations by length and by CIDR, and a VPC from the nested pool.
    by_len = allocate(ec2, child_id, NetmaskLength=24, Description="by length")
    assert by_len["Cidr"] == "10.0.0.0/24"
    by_cidr = allocate(ec2, child_id, Cidr="10.0.5.0/24", Description="by cidr")
    assert by_cidr["Cidr"] == "10.0.5.0/24"
    vpc = ec2.create_vpc(Ipv4IpamPoolId=child_id, Ipv4NetmaskLength=20)["Vpc"]
    vpc_id = vpc["VpcId"]
    assert vpc["CidrBlock"] == "10.0.16.0/20"
    rows = allocations(ec2, child_id)
    assert [(a["Cidr"], a["ResourceType"]) for a in rows] == [
        ("10.0.0.0/24", "custom"),
        ("10.0.5.0/24", "custom"),
        ("10.0.16.0/20", "vpc"),
    ]
    vpc_row = rows[2]
    assert vpc_row["ResourceId"] == vpc_id
    assert vpc_row["ResourceOwner"] == DEFAULT_ACCOUNT
    assert vpc_row["ResourceRegion"] == REGION

    # Filters on the allocations.
    def filtered(name, *values):
        return [
            a["IpamPoolAllocationId"]
            for a in allocations(ec2, child_id, Filters=[{"Name": name, "Values": list(values)}])
        ]

    assert filtered("resource-type", "vpc") == [vpc_row["IpamPoolAllocationId"]]
    assert filtered("resource-type", "custom") == [
        by_len["IpamPoolAllocationId"],
        by_cidr["IpamPoolAllocationId"],
    ]
    assert filtered("resource-id", vpc_id) == [vpc_row["IpamPoolAllocationId"]]
    assert filtered("cidr", "10.0.5.0/24") == [by_cidr["IpamPoolAllocationId"]]
    assert filtered("description", "by length") == [by_len["IpamPoolAllocationId"]]
    assert filtered("ipam-pool-allocation-id", by_cidr["IpamPoolAllocationId"]) == [
        by_cidr["IpamPoolAllocationId"]
    ]

    # Paging over more than 1,000 allocations: a second nested pool, 1,100 /28s.
    bulk = create_pool(ec2, scope_id, SourceIpamPoolId=top_id, Locale=REGION, Description="bulk")
    bulk_id = bulk["IpamPoolId"]
    assert provision(ec2, bulk_id, netmask=16)["Cidr"] == "10.1.0.0/16"
    assert [(a["Cidr"], a["ResourceId"]) for a in allocations(ec2, top_id)] == [
        ("10.0.0.0/16", child_id),
        ("10.1.0.0/16", bulk_id),
    ]
    made = [allocate(ec2, bulk_id, NetmaskLength=28) for _ in range(1100)]
    expected = [str(n) for n in islice(net("10.1.0.0/16").subnets(new_prefix=28), 1100)]
    assert [a["Cidr"] for a in made] == expected  # the lowest free block each time
    first = ec2.get_ipam_pool_allocations(IpamPoolId=bulk_id, MaxResults=1000)
    assert len(first["IpamPoolAllocations"]) == 1000
    assert first.get("NextToken")
    second = ec2.get_ipam_pool_allocations(
        IpamPoolId=bulk_id, MaxResults=1000, NextToken=first["NextToken"]
    )
    assert len(second["IpamPoolAllocations"]) == 100
    assert not second.get("NextToken")
    paged = first["IpamPoolAllocations"] + second["IpamPoolAllocations"]
    paged_ids = [a["IpamPoolAllocationId"] for a in paged]
    assert len(set(paged_ids)) == 1100
    assert set(paged_ids) == {a["IpamPoolAllocationId"] for a in made}
    assert [a["Cidr"] for a in paged] == expected  # address order across pages
    assert_disjoint(a["Cidr"] for a in paged)
    assert all(net(a["Cidr"]).subnet_of(net("10.1.0.0/16")) for a in paged)
    pages = list(
        ec2.get_paginator("get_ipam_pool_allocations").paginate(
            IpamPoolId=bulk_id, PaginationConfig={"PageSize": 1000}
        )
    )
    assert [len(p["IpamPoolAllocations"]) for p in pages] == [1000, 100]
    assert [a["IpamPoolAllocationId"] for p in pages for a in p["IpamPoolAllocations"]] == paged_ids

    # GetIpamResourceCidrs: the pool's VPC is managed and compliant in the pool's scope;
    # two VPCs made outright with overlapping CIDRs overlap in the default private scope.
    listed = {r["ResourceId"]: r for r in resource_cidrs(ec2, scope_id)}
    mine = listed[vpc_id]
    assert mine["ResourceType"] == "vpc"
    assert mine["ResourceCidr"] == "10.0.16.0/20"
    assert mine["IpamPoolId"] == child_id
    assert mine["ManagementState"] == "managed"
    assert mine["ComplianceStatus"] == "compliant"
    big = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    small = ec2.create_vpc(CidrBlock="10.50.0.0/20")["Vpc"]["VpcId"]
    listed = {r["ResourceId"]: r for r in resource_cidrs(ec2, ipam["PrivateDefaultScopeId"])}
    for v, cidr in ((big, "10.50.0.0/16"), (small, "10.50.0.0/20")):
        assert listed[v]["ResourceCidr"] == cidr
        assert listed[v]["ManagementState"] == "unmanaged"
        assert listed[v]["ComplianceStatus"] == "unmanaged"
        assert listed[v]["OverlapStatus"] == "overlapping"

    # Release one allocation.
    assert release(ec2, child_id, by_len) is True
    assert [a["Cidr"] for a in allocations(ec2, child_id)] == ["10.0.5.0/24", "10.0.16.0/20"]

    # Deprovision: refused while allocations remain, done once they are gone.
    failed = ec2.deprovision_ipam_pool_cidr(IpamPoolId=child_id, Cidr="10.0.0.0/16")["IpamPoolCidr"]
    assert failed["State"] == "failed-deprovision"
    assert failed.get("FailureReason")
    assert cidr_states(ec2, child_id) == [("10.0.0.0/16", "provisioned")]
    assert release(ec2, child_id, by_cidr) is True
    ec2.delete_vpc(VpcId=vpc_id)
    assert allocations(ec2, child_id) == []
    done = ec2.deprovision_ipam_pool_cidr(IpamPoolId=child_id, Cidr="10.0.0.0/16")["IpamPoolCidr"]
    assert done["State"] == "deprovisioned"
    assert pool_cidrs(ec2, child_id) == []
    assert [a["ResourceId"] for a in allocations(ec2, top_id)] == [bulk_id]

    # DeleteIpam with Cascade takes everything with it.
    deleted = ec2.delete_ipam(IpamId=ipam_id, Cascade=True)["Ipam"]
    assert deleted["IpamId"] == ipam_id
    assert deleted["State"] == "delete-complete"
    assert ec2.describe_ipams()["Ipams"] == []
    for p in (top_id, child_id, bulk_id):
        e = client_error(ec2.describe_ipam_pools, IpamPoolIds=[p])
        assert error_code(e) == "InvalidIpamPoolId.NotFound"
    e = client_error(ec2.describe_ipam_scopes, IpamScopeIds=[scope_id])
    assert error_code(e) == "InvalidIpamScopeId.NotFound"


# --- CreateIpam / DescribeIpams / ModifyIpam / DeleteIpam ------------------------------------


def test_create_ipam_response(ec2):
    ipam = create_ipam(ec2, Description="main")
    assert IPAM_ID.match(ipam["IpamId"]), ipam["IpamId"]
    assert ipam["IpamArn"] == arn("ipam", ipam["IpamId"])
    assert ipam["IpamRegion"] == REGION
    assert operating_regions(ipam) == [REGION]
    assert ipam["ScopeCount"] == 2
    assert SCOPE_ID.match(ipam["PublicDefaultScopeId"])
    assert SCOPE_ID.match(ipam["PrivateDefaultScopeId"])
    assert ipam["PublicDefaultScopeId"] != ipam["PrivateDefaultScopeId"]
    assert ipam["Tier"] == "advanced"
    assert ipam["OwnerId"] == DEFAULT_ACCOUNT
    assert ipam["State"] == "create-complete"
    assert ipam["Description"] == "main"
    assert "Tags" not in ipam or ipam["Tags"] == []


def test_created_ipam_is_described_the_same(ec2):
    ipam = create_ipam(ec2, regions=[WEST], Description="d", tags={"env": "prod"})
    d = describe_ipam(ec2, ipam["IpamId"])
    for key in (
        "IpamId",
        "IpamArn",
        "IpamRegion",
        "PublicDefaultScopeId",
        "PrivateDefaultScopeId",
        "ScopeCount",
        "Description",
        "State",
        "Tier",
        "OwnerId",
    ):
        assert d[key] == ipam[key], key
    assert operating_regions(d) == operating_regions(ipam)
    assert tags_of(d) == {"env": "prod"}


def test_home_region_is_always_an_operating_region(ec2):
    ipam = create_ipam(ec2, regions=[WEST, EU])
    assert operating_regions(ipam) == sorted([REGION, WEST, EU])
    assert operating_regions(describe_ipam(ec2, ipam["IpamId"])) == sorted([REGION, WEST, EU])


def test_home_region_listed_explicitly_is_listed_once(ec2):
    ipam = create_ipam(ec2, regions=[REGION, WEST])
    assert operating_regions(ipam) == sorted([REGION, WEST])


def test_create_ipam_free_tier(ec2):
    ipam = create_ipam(ec2, Tier="free")
    assert ipam["Tier"] == "free"
    assert describe_ipam(ec2, ipam["IpamId"])["Tier"] == "free"


def test_create_ipam_with_tags(ec2):
    ipam = create_ipam(ec2, tags={"Name": "net", "team": "core"})
    assert tags_of(ipam) == {"Name": "net", "team": "core"}


def test_create_ipam_client_token_is_idempotent(ec2):
    a = create_ipam(ec2, ClientToken="ipam-token-1", Description="x")
    b = create_ipam(ec2, ClientToken="ipam-token-1", Description="x")
    assert a["IpamId"] == b["IpamId"]
    assert [i["IpamId"] for i in ec2.describe_ipams()["Ipams"]] == [a["IpamId"]]


def test_default_scopes_of_a_new_ipam(ec2, ipam):
    scopes = ec2.describe_ipam_scopes(
        Filters=[{"Name": "ipam-id", "Values": [ipam["IpamId"]]}]
    )["IpamScopes"]
    by_id = {s["IpamScopeId"]: s for s in scopes}
    assert sorted(by_id) == sorted([ipam["PublicDefaultScopeId"], ipam["PrivateDefaultScopeId"]])
    public = by_id[ipam["PublicDefaultScopeId"]]
    private = by_id[ipam["PrivateDefaultScopeId"]]
    assert public["IpamScopeType"] == "public"
    assert private["IpamScopeType"] == "private"
    for s in (public, private):
        assert s["IsDefault"] is True
        assert s["PoolCount"] == 0
        assert s["IpamArn"] == ipam["IpamArn"]
        assert s["IpamRegion"] == REGION
        assert s["IpamScopeArn"] == arn("ipam-scope", s["IpamScopeId"])
        assert s["OwnerId"] == DEFAULT_ACCOUNT
        assert s["State"] == "create-complete"


def test_describe_ipams_by_id(ec2):
    a = create_ipam(ec2)["IpamId"]
    b = create_ipam(ec2)["IpamId"]
    create_ipam(ec2)
    assert ids(ec2.describe_ipams(IpamIds=[a, b])["Ipams"], "IpamId") == sorted([a, b])
    assert len(ec2.describe_ipams()["Ipams"]) == 3


@pytest.fixture
def three_ipams(ec2):
    a = create_ipam(ec2, regions=[WEST], Description="alpha", tags={"env": "prod"})
    b = create_ipam(ec2, Description="beta", Tier="free", tags={"env": "dev", "x": "1"})
    c = create_ipam(ec2, Description="gamma")
    return {"a": a, "b": b, "c": c}


@pytest.mark.parametrize(
    "name,values,expected",
    [
        ("ipam-region", [REGION], ["a", "b", "c"]),
        ("ipam-region", [WEST], []),
        ("owner-id", [DEFAULT_ACCOUNT], ["a", "b", "c"]),
        ("owner-id", [OTHER_ACCOUNT], []),
        ("state", ["create-complete"], ["a", "b", "c"]),
        ("state", ["delete-complete"], []),
        ("description", ["beta"], ["b"]),
        ("description", ["alpha", "gamma"], ["a", "c"]),
        ("tier", ["free"], ["b"]),
        ("tier", ["advanced"], ["a", "c"]),
        ("operating-region", [WEST], ["a"]),
        ("operating-region", [REGION], ["a", "b", "c"]),
        ("tag:env", ["prod"], ["a"]),
        ("tag:env", ["*"], ["a", "b"]),
        ("tag-key", ["x"], ["b"]),
    ],
)
def test_describe_ipams_filters(ec2, three_ipams, name, values, expected):
    found = ec2.describe_ipams(Filters=[{"Name": name, "Values": values}])["Ipams"]
    assert ids(found, "IpamId") == sorted(three_ipams[k]["IpamId"] for k in expected)


def test_describe_ipams_filter_by_ipam_id(ec2, three_ipams):
    wanted = three_ipams["b"]["IpamId"]
    found = ec2.describe_ipams(Filters=[{"Name": "ipam-id", "Values": [wanted]}])["Ipams"]
    assert ids(found, "IpamId") == [wanted]


def test_describe_ipams_pages(ec2):
    made = [create_ipam(ec2)["IpamId"] for _ in range(7)]
    first = ec2.describe_ipams(MaxResults=5)
    assert len(first["Ipams"]) == 5
    second = ec2.describe_ipams(MaxResults=5, NextToken=first["NextToken"])
    assert len(second["Ipams"]) == 2
    assert not second.get("NextToken")
    seen = [i["IpamId"] for i in first["Ipams"] + second["Ipams"]]
    assert sorted(seen) == sorted(made)


def test_modify_ipam(ec2):
    ipam = create_ipam(ec2, regions=[WEST], Description="before")
    changed = ec2.modify_ipam(
        IpamId=ipam["IpamId"],
        Description="after",
        AddOperatingRegions=[{"RegionName": EU}],
        RemoveOperatingRegions=[{"RegionName": WEST}],
        Tier="free",
    )["Ipam"]
    assert changed["Description"] == "after"
    assert operating_regions(changed) == sorted([REGION, EU])
    assert changed["Tier"] == "free"
    assert changed["State"] == "modify-complete"
    d = describe_ipam(ec2, ipam["IpamId"])
    assert d["Description"] == "after"
    assert operating_regions(d) == sorted([REGION, EU])
    assert d["Tier"] == "free"
    assert d["State"] == "modify-complete"


def test_private_gua_is_off_by_default_and_answered(ec2):
    ipam = create_ipam(ec2)
    assert ipam["EnablePrivateGua"] is False
    assert ipam["MeteredAccount"] == "ipam-owner"
    on = create_ipam(ec2, EnablePrivateGua=True, MeteredAccount="resource-owner")
    assert on["EnablePrivateGua"] is True
    assert on["MeteredAccount"] == "resource-owner"
    d = describe_ipam(ec2, on["IpamId"])
    assert d["EnablePrivateGua"] is True
    assert d["MeteredAccount"] == "resource-owner"


def test_private_scope_takes_gua_only_with_private_gua(ec2):
    ipam = create_ipam(ec2)
    private = ipam["PrivateDefaultScopeId"]
    pool = create_pool(ec2, private, family="ipv6")["IpamPoolId"]
    # ULA space is always private space.
    provision(ec2, pool, "fd00:1::/48")
    e = client_error(ec2.provision_ipam_pool_cidr, IpamPoolId=pool, Cidr="2001:db8::/32")
    assert error_code(e) == "InvalidParameterValue"
    assert "EnablePrivateGua" in e.response["Error"]["Message"]
    assert sorted(c["Cidr"] for c in pool_cidrs(ec2, pool)) == ["fd00:1::/48"]

    # The public scope is not concerned.
    public_pool = create_pool(ec2, ipam["PublicDefaultScopeId"], family="ipv6")["IpamPoolId"]
    provision(ec2, public_pool, "2001:db8:1::/48")

    modified = ec2.modify_ipam(IpamId=ipam["IpamId"], EnablePrivateGua=True)["Ipam"]
    assert modified["EnablePrivateGua"] is True
    provision(ec2, pool, "2001:db8::/48")
    child = create_pool(ec2, private, family="ipv6", SourceIpamPoolId=pool)["IpamPoolId"]
    provision(ec2, child, netmask=56)

    # Off again only once no private pool holds GUA space.
    e = client_error(ec2.modify_ipam, IpamId=ipam["IpamId"], EnablePrivateGua=False)
    assert error_code(e) == "InvalidParameterValue"
    assert describe_ipam(ec2, ipam["IpamId"])["EnablePrivateGua"] is True
    ec2.delete_ipam_pool(IpamPoolId=child, Cascade=True)
    ec2.deprovision_ipam_pool_cidr(IpamPoolId=pool, Cidr="2001:db8::/48")
    off = ec2.modify_ipam(IpamId=ipam["IpamId"], EnablePrivateGua=False)["Ipam"]
    assert off["EnablePrivateGua"] is False


def test_delete_empty_ipam(ec2, ipam):
    deleted = ec2.delete_ipam(IpamId=ipam["IpamId"])["Ipam"]
    assert deleted["IpamId"] == ipam["IpamId"]
    assert deleted["State"] == "delete-complete"
    assert ec2.describe_ipams()["Ipams"] == []
    e = client_error(ec2.describe_ipams, IpamIds=[ipam["IpamId"]])
    assert error_code(e) == "InvalidIpamId.NotFound"
    e = client_error(ec2.describe_ipam_scopes, IpamScopeIds=[ipam["PrivateDefaultScopeId"]])
    assert error_code(e) == "InvalidIpamScopeId.NotFound"


def test_delete_ipam_cascade(ec2, ipam, pool_id):
    scope = create_scope(ec2, ipam["IpamId"])
    other = create_pool(ec2, scope["IpamScopeId"], cidrs=["10.0.0.0/16"])
    allocate(ec2, pool_id, NetmaskLength=24)
    allocate(ec2, other["IpamPoolId"], NetmaskLength=24)
    deleted = ec2.delete_ipam(IpamId=ipam["IpamId"], Cascade=True)["Ipam"]
    assert deleted["State"] == "delete-complete"
    for p in (pool_id, other["IpamPoolId"]):
        e = client_error(ec2.describe_ipam_pools, IpamPoolIds=[p])
        assert error_code(e) == "InvalidIpamPoolId.NotFound"
    e = client_error(ec2.describe_ipam_scopes, IpamScopeIds=[scope["IpamScopeId"]])
    assert error_code(e) == "InvalidIpamScopeId.NotFound"
    assert ec2.describe_ipam_pools()["IpamPools"] == []
    assert ec2.describe_ipam_scopes()["IpamScopes"] == []


# --- scopes ----------------------------------------------------------------------------------------


def test_create_scope(ec2, ipam):
    scope = create_scope(ec2, ipam["IpamId"], Description="mine", tags={"k": "v"})
    assert SCOPE_ID.match(scope["IpamScopeId"])
    assert scope["IpamScopeArn"] == arn("ipam-scope", scope["IpamScopeId"])
    assert scope["IpamArn"] == ipam["IpamArn"]
    assert scope["IpamRegion"] == REGION
    assert scope["IpamScopeType"] == "private"
    assert scope["IsDefault"] is False
    assert scope["PoolCount"] == 0
    assert scope["State"] == "create-complete"
    assert scope["Description"] == "mine"
    assert scope["OwnerId"] == DEFAULT_ACCOUNT
    assert tags_of(scope) == {"k": "v"}
    assert describe_ipam(ec2, ipam["IpamId"])["ScopeCount"] == 3
    d = describe_scope(ec2, scope["IpamScopeId"])
    assert d["Description"] == "mine"
    assert d["IsDefault"] is False


@pytest.fixture
def scopes(ec2):
    ipam = create_ipam(ec2)
    custom = create_scope(ec2, ipam["IpamId"], Description="custom", tags={"team": "net"})
    other_ipam = create_ipam(ec2)
    return {
        "ipam": ipam,
        "public": ipam["PublicDefaultScopeId"],
        "private": ipam["PrivateDefaultScopeId"],
        "custom": custom["IpamScopeId"],
        "other_public": other_ipam["PublicDefaultScopeId"],
        "other_private": other_ipam["PrivateDefaultScopeId"],
    }


def scope_ids_for(ec2, name, values):
    found = ec2.describe_ipam_scopes(Filters=[{"Name": name, "Values": values}])["IpamScopes"]
    return ids(found, "IpamScopeId")


def test_describe_scopes_filters(ec2, scopes):
    ipam = scopes["ipam"]
    mine = sorted([scopes["public"], scopes["private"], scopes["custom"]])
    assert scope_ids_for(ec2, "ipam-id", [ipam["IpamId"]]) == mine
    assert scope_ids_for(ec2, "ipam-arn", [ipam["IpamArn"]]) == mine
    assert scope_ids_for(ec2, "ipam-scope-id", [scopes["custom"]]) == [scopes["custom"]]
    assert scope_ids_for(ec2, "ipam-scope-type", ["public"]) == sorted(
        [scopes["public"], scopes["other_public"]]
    )
    assert scope_ids_for(ec2, "ipam-scope-type", ["private"]) == sorted(
        [scopes["private"], scopes["custom"], scopes["other_private"]]
    )
    assert scope_ids_for(ec2, "is-default", ["false"]) == [scopes["custom"]]
    assert len(scope_ids_for(ec2, "is-default", ["true"])) == 4
    assert scope_ids_for(ec2, "description", ["custom"]) == [scopes["custom"]]
    assert scope_ids_for(ec2, "tag:team", ["net"]) == [scopes["custom"]]
    assert scope_ids_for(ec2, "tag-key", ["team"]) == [scopes["custom"]]


def test_describe_scopes_by_id_and_pages(ec2, scopes):
    wanted = [scopes["custom"], scopes["public"]]
    found = ec2.describe_ipam_scopes(IpamScopeIds=wanted)["IpamScopes"]
    assert ids(found, "IpamScopeId") == sorted(wanted)
    create_scope(ec2, scopes["ipam"]["IpamId"])  # six scopes in all
    first = ec2.describe_ipam_scopes(MaxResults=5)
    assert len(first["IpamScopes"]) == 5
    assert first.get("NextToken")
    second = ec2.describe_ipam_scopes(MaxResults=5, NextToken=first["NextToken"])
    assert len(second["IpamScopes"]) == 1
    assert not second.get("NextToken")
    seen = [s["IpamScopeId"] for s in first["IpamScopes"] + second["IpamScopes"]]
    assert len(set(seen)) == 6


def test_modify_scope(ec2, ipam):
    scope = create_scope(ec2, ipam["IpamId"], Description="before")
    changed = ec2.modify_ipam_scope(IpamScopeId=scope["IpamScopeId"], Description="after")[
        "IpamScope"
    ]
    assert changed["Description"] == "after"
    assert changed["State"] == "modify-complete"
    assert describe_scope(ec2, scope["IpamScopeId"])["Description"] == "after"


def test_delete_scope(ec2, ipam):
    scope = create_scope(ec2, ipam["IpamId"])
    deleted = ec2.delete_ipam_scope(IpamScopeId=scope["IpamScopeId"])["IpamScope"]
    assert deleted["IpamScopeId"] == scope["IpamScopeId"]
    assert describe_ipam(ec2, ipam["IpamId"])["ScopeCount"] == 2
    e = client_error(ec2.describe_ipam_scopes, IpamScopeIds=[scope["IpamScopeId"]])
    assert error_code(e) == "InvalidIpamScopeId.NotFound"


# --- pools ----------------------------------------------------------------------------------------


def test_create_pool_response(ec2, ipam, scope_id):
    pool = create_pool(
        ec2,
        scope_id,
        Locale=REGION,
        Description="apps",
        AutoImport=True,
        AllocationMinNetmaskLength=16,
        AllocationMaxNetmaskLength=28,
        AllocationDefaultNetmaskLength=24,
        AllocationResourceTags=[{"Key": "team", "Value": "net"}],
        tags={"Name": "apps"},
    )
    assert POOL_ID.match(pool["IpamPoolId"]), pool["IpamPoolId"]
    assert pool["IpamPoolArn"] == arn("ipam-pool", pool["IpamPoolId"])
    assert pool["IpamScopeArn"] == arn("ipam-scope", scope_id)
    assert pool["IpamArn"] == ipam["IpamArn"]
    assert pool["IpamScopeType"] == "private"
    assert pool["IpamRegion"] == REGION
    assert pool["Locale"] == REGION
    assert pool["PoolDepth"] == 1
    assert "SourceIpamPoolId" not in pool
    assert pool["State"] == "create-complete"
    assert pool["Description"] == "apps"
    assert pool["AutoImport"] is True
    assert pool["AddressFamily"] == "ipv4"
    assert pool["AllocationMinNetmaskLength"] == 16
    assert pool["AllocationMaxNetmaskLength"] == 28
    assert pool["AllocationDefaultNetmaskLength"] == 24
    assert pool["AllocationResourceTags"] == [{"Key": "team", "Value": "net"}]
    assert pool["OwnerId"] == DEFAULT_ACCOUNT
    assert tags_of(pool) == {"Name": "apps"}
    d = describe_pool(ec2, pool["IpamPoolId"])
    for key in pool:
        if key != "Tags":
            assert d[key] == pool[key], key
    assert tags_of(d) == {"Name": "apps"}
    assert describe_scope(ec2, scope_id)["PoolCount"] == 1


def test_pool_without_locale(ec2, scope_id):
    pool = create_pool(ec2, scope_id, cidrs=["10.0.0.0/16"])
    assert pool["PoolDepth"] == 1
    assert allocate(ec2, pool["IpamPoolId"], NetmaskLength=24)["Cidr"] == "10.0.0.0/24"


def test_pool_with_locale_in_another_operating_region(ec2):
    ipam = create_ipam(ec2, regions=[WEST])
    pool = create_pool(ec2, ipam["PrivateDefaultScopeId"], Locale=WEST)
    assert pool["Locale"] == WEST
    assert pool["IpamRegion"] == REGION


def test_nested_pools_have_depth(ec2, scope_id, pool_id):
    child = create_pool(ec2, scope_id, SourceIpamPoolId=pool_id, Locale=REGION)
    grandchild = create_pool(ec2, scope_id, SourceIpamPoolId=child["IpamPoolId"], Locale=REGION)
    assert child["PoolDepth"] == 2
    assert child["SourceIpamPoolId"] == pool_id
    assert grandchild["PoolDepth"] == 3
    assert grandchild["SourceIpamPoolId"] == child["IpamPoolId"]
    assert describe_pool(ec2, grandchild["IpamPoolId"])["PoolDepth"] == 3


@pytest.fixture
def pools(ec2, ipam, scope_id):
    top = create_pool(ec2, scope_id, Locale=REGION, Description="top", tags={"tier": "1"})
    child = create_pool(
        ec2,
        scope_id,
        SourceIpamPoolId=top["IpamPoolId"],
        Locale=REGION,  # a nested pool has its source's locale
        Description="child",
        tags={"tier": "2"},
    )
    v6 = create_pool(ec2, scope_id, family="ipv6", Description="six")
    custom = create_scope(ec2, ipam["IpamId"])
    elsewhere = create_pool(ec2, custom["IpamScopeId"], Locale=REGION, Description="custom")
    return {
        "top": top["IpamPoolId"],
        "child": child["IpamPoolId"],
        "v6": v6["IpamPoolId"],
        "custom": elsewhere["IpamPoolId"],
        "custom_scope": custom["IpamScopeId"],
        "scope": scope_id,
    }


def test_describe_pools_filters(ec2, pools):
    def found(name, *values):
        rows = ec2.describe_ipam_pools(Filters=[{"Name": name, "Values": list(values)}])
        return ids(rows["IpamPools"], "IpamPoolId")

    def expect(*keys):
        return sorted(pools[k] for k in keys)

    assert found("ipam-pool-id", pools["child"]) == expect("child")
    assert found("ipam-scope-id", pools["scope"]) == expect("top", "child", "v6")
    assert found("ipam-scope-id", pools["custom_scope"]) == expect("custom")
    assert found("ipam-scope-type", "private") == expect("top", "child", "v6", "custom")
    assert found("ipam-scope-type", "public") == []
    assert found("address-family", "ipv6") == expect("v6")
    assert found("address-family", "ipv4") == expect("top", "child", "custom")
    assert found("locale", REGION) == expect("top", "child", "custom")
    assert found("state", "create-complete") == expect("top", "child", "v6", "custom")
    assert found("description", "child", "six") == expect("child", "v6")
    assert found("pool-depth", "2") == expect("child")
    assert found("pool-depth", "1") == expect("top", "v6", "custom")
    assert found("source-ipam-pool-id", pools["top"]) == expect("child")
    assert found("owner-id", DEFAULT_ACCOUNT) == expect("top", "child", "v6", "custom")
    assert found("owner-id", OTHER_ACCOUNT) == []
    assert found("tag:tier", "2") == expect("child")
    assert found("tag-key", "tier") == expect("top", "child")


def test_describe_pools_by_id_and_pages(ec2, pools, scope_id):
    for _ in range(3):
        create_pool(ec2, scope_id)
    wanted = [pools["top"], pools["v6"]]
    assert ids(ec2.describe_ipam_pools(IpamPoolIds=wanted)["IpamPools"], "IpamPoolId") == sorted(
        wanted
    )
    first = ec2.describe_ipam_pools(MaxResults=5)
    assert len(first["IpamPools"]) == 5
    second = ec2.describe_ipam_pools(MaxResults=5, NextToken=first["NextToken"])
    assert len(second["IpamPools"]) == 2
    seen = [p["IpamPoolId"] for p in first["IpamPools"] + second["IpamPools"]]
    assert len(set(seen)) == 7


def test_modify_pool(ec2, scope_id):
    pool = create_pool(
        ec2,
        scope_id,
        Description="before",
        AllocationResourceTags=[{"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}],
    )
    pid = pool["IpamPoolId"]
    changed = ec2.modify_ipam_pool(
        IpamPoolId=pid,
        Description="after",
        AutoImport=True,
        AllocationMinNetmaskLength=16,
        AllocationMaxNetmaskLength=28,
        AllocationDefaultNetmaskLength=24,
        AddAllocationResourceTags=[{"Key": "c", "Value": "3"}],
        RemoveAllocationResourceTags=[{"Key": "a", "Value": "1"}],
    )["IpamPool"]
    assert changed["Description"] == "after"
    assert changed["AutoImport"] is True
    assert changed["AllocationMinNetmaskLength"] == 16
    assert changed["AllocationMaxNetmaskLength"] == 28
    assert changed["AllocationDefaultNetmaskLength"] == 24
    assert tags_of({"Tags": changed["AllocationResourceTags"]}) == {"b": "2", "c": "3"}
    assert changed["State"] == "modify-complete"
    d = describe_pool(ec2, pid)
    assert d["Description"] == "after"
    assert d["AllocationDefaultNetmaskLength"] == 24
    assert d["State"] == "modify-complete"
    cleared = ec2.modify_ipam_pool(IpamPoolId=pid, ClearAllocationDefaultNetmaskLength=True)[
        "IpamPool"
    ]
    assert "AllocationDefaultNetmaskLength" not in cleared
    assert "AllocationDefaultNetmaskLength" not in describe_pool(ec2, pid)
    assert describe_pool(ec2, pid)["AllocationMaxNetmaskLength"] == 28


def test_delete_empty_pool(ec2, scope_id):
    pool = create_pool(ec2, scope_id)
    deleted = ec2.delete_ipam_pool(IpamPoolId=pool["IpamPoolId"])["IpamPool"]
    assert deleted["IpamPoolId"] == pool["IpamPoolId"]
    e = client_error(ec2.describe_ipam_pools, IpamPoolIds=[pool["IpamPoolId"]])
    assert error_code(e) == "InvalidIpamPoolId.NotFound"
    assert describe_scope(ec2, scope_id)["PoolCount"] == 0


def test_delete_pool_cascade_takes_cidrs_allocations_and_children(ec2, scope_id, pool_id):
    child = create_pool(ec2, scope_id, SourceIpamPoolId=pool_id, Locale=REGION)
    provision(ec2, child["IpamPoolId"], netmask=20)
    allocate(ec2, child["IpamPoolId"], NetmaskLength=24)
    allocate(ec2, pool_id, NetmaskLength=24)
    ec2.delete_ipam_pool(IpamPoolId=pool_id, Cascade=True)
    for p in (pool_id, child["IpamPoolId"]):
        e = client_error(ec2.describe_ipam_pools, IpamPoolIds=[p])
        assert error_code(e) == "InvalidIpamPoolId.NotFound"
    assert ec2.describe_ipam_pools()["IpamPools"] == []
    # The space is free again for a new pool in the scope.
    again = create_pool(ec2, scope_id, cidrs=["10.0.0.0/16"])
    assert cidr_states(ec2, again["IpamPoolId"]) == [("10.0.0.0/16", "provisioned")]


def test_delete_child_pool_cascade_returns_its_space_to_the_parent(ec2, scope_id, pool_id):
    child = create_pool(ec2, scope_id, SourceIpamPoolId=pool_id, Locale=REGION)
    provision(ec2, child["IpamPoolId"], netmask=20)
    allocate(ec2, child["IpamPoolId"], NetmaskLength=24)
    assert alloc_rows(ec2, pool_id) == [("10.0.0.0/20", "ipam-pool")]
    ec2.delete_ipam_pool(IpamPoolId=child["IpamPoolId"], Cascade=True)
    assert allocations(ec2, pool_id) == []
    assert allocate(ec2, pool_id, NetmaskLength=20)["Cidr"] == "10.0.0.0/20"


# --- provisioning --------------------------------------------------------------------------------


def test_provision_cidr(ec2, scope_id):
    pool = create_pool(ec2, scope_id)
    got = provision(ec2, pool["IpamPoolId"], "10.0.0.0/16")
    assert got["Cidr"] == "10.0.0.0/16"
    assert got["State"] == "provisioned"
    assert got["NetmaskLength"] == 16
    assert POOL_CIDR_ID.match(got["IpamPoolCidrId"]), got["IpamPoolCidrId"]
    assert "FailureReason" not in got
    (listed,) = pool_cidrs(ec2, pool["IpamPoolId"])
    assert listed["Cidr"] == "10.0.0.0/16"
    assert listed["State"] == "provisioned"
    assert listed["IpamPoolCidrId"] == got["IpamPoolCidrId"]
    assert listed["NetmaskLength"] == 16


def test_provision_clears_host_bits(ec2, scope_id):
    pool = create_pool(ec2, scope_id)
    assert provision(ec2, pool["IpamPoolId"], "10.0.0.5/16")["Cidr"] == "10.0.0.0/16"
    assert cidr_states(ec2, pool["IpamPoolId"]) == [("10.0.0.0/16", "provisioned")]


def test_provision_several_cidrs(ec2, scope_id):
    pool = create_pool(ec2, scope_id, cidrs=["10.0.0.0/16", "10.1.0.0/16", "192.168.0.0/24"])
    assert cidr_states(ec2, pool["IpamPoolId"]) == [
        ("10.0.0.0/16", "provisioned"),
        ("10.1.0.0/16", "provisioned"),
        ("192.168.0.0/24", "provisioned"),
    ]
    cidr_ids = [c["IpamPoolCidrId"] for c in pool_cidrs(ec2, pool["IpamPoolId"])]
    assert len(set(cidr_ids)) == 3


def test_provision_ipv6_cidr(ec2, scope_id):
    pool = create_pool(ec2, scope_id, family="ipv6")
    got = provision(ec2, pool["IpamPoolId"], "fd00:1::/48")
    assert got["Cidr"] == "fd00:1::/48"
    assert got["NetmaskLength"] == 48
    assert got["State"] == "provisioned"


def test_child_pool_provisioned_by_netmask_takes_the_lowest_free_block(ec2, scope_id):
    top = create_pool(ec2, scope_id, cidrs=["10.0.0.0/8"])["IpamPoolId"]
    child = create_pool(ec2, scope_id, SourceIpamPoolId=top)["IpamPoolId"]
    first = provision(ec2, child, netmask=16)
    second = provision(ec2, child, netmask=16)
    assert first["Cidr"] == "10.0.0.0/16"
    assert first["State"] == "provisioned"
    assert first["NetmaskLength"] == 16
    assert second["Cidr"] == "10.1.0.0/16"
    rows = allocations(ec2, top)
    assert [(a["Cidr"], a["ResourceType"], a["ResourceId"]) for a in rows] == [
        ("10.0.0.0/16", "ipam-pool", child),
        ("10.1.0.0/16", "ipam-pool", child),
    ]
    assert all(a["ResourceOwner"] == DEFAULT_ACCOUNT for a in rows)
    assert all(ALLOC_ID.match(a["IpamPoolAllocationId"]) for a in rows)


def test_child_pool_provisioned_by_cidr(ec2, scope_id):
    top = create_pool(ec2, scope_id, cidrs=["10.0.0.0/8"])["IpamPoolId"]
    child = create_pool(ec2, scope_id, SourceIpamPoolId=top)["IpamPoolId"]
    assert provision(ec2, child, "10.5.0.0/16")["Cidr"] == "10.5.0.0/16"
    assert provision(ec2, child, netmask=16)["Cidr"] == "10.0.0.0/16"
    assert alloc_rows(ec2, top) == [("10.0.0.0/16", "ipam-pool"), ("10.5.0.0/16", "ipam-pool")]
    # The child's space is allocatable in the child, not in the parent.
    assert allocate(ec2, child, NetmaskLength=24)["Cidr"] == "10.0.0.0/24"
    assert allocate(ec2, top, NetmaskLength=16)["Cidr"] == "10.1.0.0/16"


def test_two_pools_in_one_scope_refuse_overlapping_cidrs(ec2, ipam, scope_id, pool_id):
    other = create_pool(ec2, scope_id)["IpamPoolId"]
    for cidr in ("10.0.0.0/16", "10.0.128.0/17", "10.0.0.0/8", "10.0.3.0/24"):
        e = client_error(provision, ec2, other, cidr)
        assert error_code(e) == "InvalidParameterValue", cidr
        assert http_status(e) == 400
    assert pool_cidrs(ec2, other) == []
    assert provision(ec2, other, "10.1.0.0/16")["State"] == "provisioned"
    # Another scope is another address space.
    custom = create_scope(ec2, ipam["IpamId"])["IpamScopeId"]
    elsewhere = create_pool(ec2, custom)["IpamPoolId"]
    assert provision(ec2, elsewhere, "10.0.0.0/16")["State"] == "provisioned"


def test_deprovision_cidr(ec2, scope_id):
    pool = create_pool(ec2, scope_id)["IpamPoolId"]
    got = provision(ec2, pool, "10.0.0.0/16")
    provision(ec2, pool, "10.1.0.0/16")
    done = ec2.deprovision_ipam_pool_cidr(IpamPoolId=pool, Cidr="10.0.0.0/16")["IpamPoolCidr"]
    assert done["Cidr"] == "10.0.0.0/16"
    assert done["State"] == "deprovisioned"
    assert done["IpamPoolCidrId"] == got["IpamPoolCidrId"]
    assert cidr_states(ec2, pool) == [("10.1.0.0/16", "provisioned")]
    # The pool no longer hands out that space.
    assert allocate(ec2, pool, NetmaskLength=24)["Cidr"] == "10.1.0.0/24"


def test_deprovision_with_allocations_fails_and_the_cidr_stays_usable(ec2, pool_id):
    allocate(ec2, pool_id, NetmaskLength=24)
    failed = ec2.deprovision_ipam_pool_cidr(IpamPoolId=pool_id, Cidr="10.0.0.0/16")[
        "IpamPoolCidr"
    ]
    assert failed["Cidr"] == "10.0.0.0/16"
    assert failed["State"] == "failed-deprovision"
    assert failed.get("FailureReason")
    assert cidr_states(ec2, pool_id) == [("10.0.0.0/16", "provisioned")]
    assert allocate(ec2, pool_id, NetmaskLength=24)["Cidr"] == "10.0.1.0/24"


def test_child_pool_deprovision_returns_space_to_the_parent(ec2, scope_id, pool_id):
    child = create_pool(ec2, scope_id, SourceIpamPoolId=pool_id, Locale=REGION)["IpamPoolId"]
    assert provision(ec2, child, netmask=17)["Cidr"] == "10.0.0.0/17"
    assert alloc_rows(ec2, pool_id) == [("10.0.0.0/17", "ipam-pool")]
    done = ec2.deprovision_ipam_pool_cidr(IpamPoolId=child, Cidr="10.0.0.0/17")["IpamPoolCidr"]
    assert done["State"] == "deprovisioned"
    assert allocations(ec2, pool_id) == []
    assert allocate(ec2, pool_id, Cidr="10.0.0.0/17")["Cidr"] == "10.0.0.0/17"


def test_get_pool_cidrs_filters(ec2, scope_id):
    pool = create_pool(ec2, scope_id)["IpamPoolId"]
    a = provision(ec2, pool, "10.0.0.0/16")
    provision(ec2, pool, "10.1.0.0/16")
    provision(ec2, pool, "192.168.0.0/24")

    def found(name, *values):
        return sorted(
            c["Cidr"] for c in pool_cidrs(ec2, pool, Filters=[{"Name": name, "Values": list(values)}])
        )

    assert found("cidr", "10.*") == ["10.0.0.0/16", "10.1.0.0/16"]
    assert found("cidr", "192.168.0.0/24") == ["192.168.0.0/24"]
    assert found("cidr", "10.?.0.0/16") == ["10.0.0.0/16", "10.1.0.0/16"]
    assert found("state", "provisioned") == ["10.0.0.0/16", "10.1.0.0/16", "192.168.0.0/24"]
    assert found("state", "deprovisioned") == []
    assert found("ipam-pool-cidr-id", a["IpamPoolCidrId"]) == ["10.0.0.0/16"]


def test_get_pool_cidrs_pages(ec2, scope_id):
    pool = create_pool(ec2, scope_id, cidrs=[f"10.{i}.0.0/16" for i in range(7)])["IpamPoolId"]
    first = ec2.get_ipam_pool_cidrs(IpamPoolId=pool, MaxResults=5)
    assert len(first["IpamPoolCidrs"]) == 5
    second = ec2.get_ipam_pool_cidrs(IpamPoolId=pool, MaxResults=5, NextToken=first["NextToken"])
    assert len(second["IpamPoolCidrs"]) == 2
    assert not second.get("NextToken")
    seen = [c["Cidr"] for c in first["IpamPoolCidrs"] + second["IpamPoolCidrs"]]
    assert sorted(seen) == sorted(f"10.{i}.0.0/16" for i in range(7))


# --- AllocateIpamPoolCidr ---------------------------------------------------------------------


def test_allocation_response(ec2, pool_id):
    a = allocate(ec2, pool_id, NetmaskLength=24, Description="web tier")
    assert a["Cidr"] == "10.0.0.0/24"
    assert ALLOC_ID.match(a["IpamPoolAllocationId"]), a["IpamPoolAllocationId"]
    assert a["ResourceType"] == "custom"
    assert a["ResourceOwner"] == DEFAULT_ACCOUNT
    assert a["Description"] == "web tier"
    assert "ResourceId" not in a
    (listed,) = allocations(ec2, pool_id)
    assert listed["IpamPoolAllocationId"] == a["IpamPoolAllocationId"]
    assert listed["Cidr"] == "10.0.0.0/24"
    assert listed["ResourceType"] == "custom"
    assert listed["ResourceOwner"] == DEFAULT_ACCOUNT
    assert listed["Description"] == "web tier"


def test_allocate_by_cidr(ec2, pool_id):
    a = allocate(ec2, pool_id, Cidr="10.0.77.0/24")
    assert a["Cidr"] == "10.0.77.0/24"
    assert a["ResourceType"] == "custom"
    assert alloc_rows(ec2, pool_id) == [("10.0.77.0/24", "custom")]


def test_allocate_by_cidr_clears_host_bits(ec2, pool_id):
    assert allocate(ec2, pool_id, Cidr="10.0.77.9/24")["Cidr"] == "10.0.77.0/24"


def test_allocation_takes_the_lowest_free_aligned_block(ec2, pool_id):
    got = [
        allocate(ec2, pool_id, NetmaskLength=n)["Cidr"] for n in (24, 24, 28, 24, 28, 23, 26)
    ]
    assert got == [
        "10.0.0.0/24",
        "10.0.1.0/24",
        "10.0.2.0/28",
        "10.0.3.0/24",
        "10.0.2.16/28",
        "10.0.4.0/23",
        "10.0.2.64/26",
    ]
    assert_disjoint(got)


def test_allocation_by_length_goes_around_allocations_by_cidr(ec2, pool_id):
    allocate(ec2, pool_id, Cidr="10.0.0.64/26")
    assert allocate(ec2, pool_id, NetmaskLength=25)["Cidr"] == "10.0.0.128/25"
    assert allocate(ec2, pool_id, NetmaskLength=26)["Cidr"] == "10.0.0.0/26"
    assert allocate(ec2, pool_id, NetmaskLength=24)["Cidr"] == "10.0.1.0/24"


def test_allocation_uses_every_provisioned_cidr_lowest_first(ec2, scope_id):
    pool = create_pool(ec2, scope_id, cidrs=["10.2.0.0/24", "10.1.0.0/24"])["IpamPoolId"]
    assert allocate(ec2, pool, NetmaskLength=24)["Cidr"] == "10.1.0.0/24"
    assert allocate(ec2, pool, NetmaskLength=24)["Cidr"] == "10.2.0.0/24"


def test_allocations_listed_in_address_order(ec2, pool_id):
    for cidr in ("10.0.9.0/24", "10.0.2.0/24", "10.0.200.0/24", "10.0.10.0/24"):
        allocate(ec2, pool_id, Cidr=cidr)
    assert [a["Cidr"] for a in allocations(ec2, pool_id)] == [
        "10.0.2.0/24",
        "10.0.9.0/24",
        "10.0.10.0/24",
        "10.0.200.0/24",
    ]


def test_allowed_cidrs_restrict_the_search(ec2, pool_id):
    a = allocate(ec2, pool_id, NetmaskLength=24, AllowedCidrs=["10.0.8.0/21"])
    assert a["Cidr"] == "10.0.8.0/24"
    b = allocate(ec2, pool_id, NetmaskLength=24, AllowedCidrs=["10.0.8.0/21", "10.0.64.0/18"])
    assert b["Cidr"] == "10.0.9.0/24"
    # Only the search: the rest of the pool is still there.
    assert allocate(ec2, pool_id, NetmaskLength=24)["Cidr"] == "10.0.0.0/24"


def test_disallowed_cidrs_are_skipped(ec2, pool_id):
    a = allocate(ec2, pool_id, NetmaskLength=24, DisallowedCidrs=["10.0.0.0/22"])
    assert a["Cidr"] == "10.0.4.0/24"
    b = allocate(ec2, pool_id, NetmaskLength=23, DisallowedCidrs=["10.0.0.0/22", "10.0.6.0/24"])
    assert b["Cidr"] == "10.0.8.0/23"
    assert allocate(ec2, pool_id, NetmaskLength=24)["Cidr"] == "10.0.0.0/24"


def test_allowed_and_disallowed_together(ec2, pool_id):
    a = allocate(
        ec2,
        pool_id,
        NetmaskLength=24,
        AllowedCidrs=["10.0.8.0/21"],
        DisallowedCidrs=["10.0.8.0/23"],
    )
    assert a["Cidr"] == "10.0.10.0/24"


def test_preview_next_cidr(ec2, pool_id):
    allocate(ec2, pool_id, NetmaskLength=24)
    before = allocations(ec2, pool_id)
    p1 = allocate(ec2, pool_id, NetmaskLength=24, PreviewNextCidr=True)
    p2 = allocate(ec2, pool_id, NetmaskLength=24, PreviewNextCidr=True)
    assert p1["Cidr"] == p2["Cidr"] == "10.0.1.0/24"
    assert "IpamPoolAllocationId" not in p1
    assert "IpamPoolAllocationId" not in p2
    assert allocations(ec2, pool_id) == before
    real = allocate(ec2, pool_id, NetmaskLength=24)
    assert real["Cidr"] == "10.0.1.0/24"
    assert len(allocations(ec2, pool_id)) == 2


def test_preview_honours_allowed_and_disallowed(ec2, pool_id):
    p = allocate(
        ec2, pool_id, NetmaskLength=24, PreviewNextCidr=True, DisallowedCidrs=["10.0.0.0/20"]
    )
    assert p["Cidr"] == "10.0.16.0/24"
    assert allocations(ec2, pool_id) == []


def test_released_block_is_reused_at_once(ec2, pool_id):
    blocks = [allocate(ec2, pool_id, NetmaskLength=24) for _ in range(3)]
    assert [b["Cidr"] for b in blocks] == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]
    assert release(ec2, pool_id, blocks[1]) is True
    assert [a["Cidr"] for a in allocations(ec2, pool_id)] == ["10.0.0.0/24", "10.0.2.0/24"]
    again = allocate(ec2, pool_id, NetmaskLength=24)
    assert again["Cidr"] == "10.0.1.0/24"
    assert again["IpamPoolAllocationId"] != blocks[1]["IpamPoolAllocationId"]


def test_allocation_tags_are_listed_and_go_with_the_allocation(ec2, pool_id):
    a = allocate(ec2, pool_id, NetmaskLength=24, TagSpecifications=tag_specs("ipam-pool-allocation", team="net"))
    assert tags_of(a) == {"team": "net"}
    assert [tags_of(x) for x in allocations(ec2, pool_id)] == [{"team": "net"}]
    release(ec2, pool_id, a)
    b = allocate(ec2, pool_id, NetmaskLength=24)
    assert b["Cidr"] == a["Cidr"]
    assert "Tags" not in allocations(ec2, pool_id)[0], "a released allocation's tags are gone"


def test_released_cidr_can_be_allocated_by_cidr(ec2, pool_id):
    a = allocate(ec2, pool_id, Cidr="10.0.40.0/22")
    release(ec2, pool_id, a)
    assert allocate(ec2, pool_id, Cidr="10.0.40.0/22")["Cidr"] == "10.0.40.0/22"


def test_default_netmask_length(ec2, scope_id):
    pool = create_pool(
        ec2, scope_id, cidrs=["10.0.0.0/16"], Locale=REGION, AllocationDefaultNetmaskLength=24
    )["IpamPoolId"]
    assert allocate(ec2, pool)["Cidr"] == "10.0.0.0/24"
    assert allocate(ec2, pool, NetmaskLength=26)["Cidr"] == "10.0.1.0/26"
    assert allocate(ec2, pool, Cidr="10.0.9.0/25")["Cidr"] == "10.0.9.0/25"
    vpc = ec2.create_vpc(Ipv4IpamPoolId=pool)["Vpc"]
    assert vpc["CidrBlock"] == "10.0.2.0/24"


def test_netmask_bounds_are_inclusive(ec2, scope_id):
    pool = create_pool(
        ec2,
        scope_id,
        cidrs=["10.0.0.0/16"],
        AllocationMinNetmaskLength=20,
        AllocationMaxNetmaskLength=26,
    )["IpamPoolId"]
    assert allocate(ec2, pool, NetmaskLength=20)["Cidr"] == "10.0.0.0/20"
    assert allocate(ec2, pool, NetmaskLength=26)["Cidr"] == "10.0.16.0/26"
    assert allocate(ec2, pool, NetmaskLength=23)["Cidr"] == "10.0.18.0/23"


def test_client_token_retry_answers_the_same_allocation(ec2, pool_id):
    a = allocate(ec2, pool_id, NetmaskLength=24, ClientToken="retry-1")
    b = allocate(ec2, pool_id, NetmaskLength=24, ClientToken="retry-1")
    assert a["IpamPoolAllocationId"] == b["IpamPoolAllocationId"]
    assert a["Cidr"] == b["Cidr"] == "10.0.0.0/24"
    assert len(allocations(ec2, pool_id)) == 1
    c = allocate(ec2, pool_id, NetmaskLength=24, ClientToken="retry-2")
    assert c["Cidr"] == "10.0.1.0/24"
    assert len(allocations(ec2, pool_id)) == 2


def test_whole_pool_in_one_allocation(ec2, pool_id):
    assert allocate(ec2, pool_id, NetmaskLength=16)["Cidr"] == "10.0.0.0/16"


def test_get_allocations_filters(ec2, pool_id):
    one = allocate(ec2, pool_id, NetmaskLength=24, Description="one")
    two = allocate(ec2, pool_id, NetmaskLength=24, Description="two")
    vpc = ec2.create_vpc(Ipv4IpamPoolId=pool_id, Ipv4NetmaskLength=24)["Vpc"]["VpcId"]
    rows = {a["ResourceType"]: a for a in allocations(ec2, pool_id)}
    vpc_alloc = rows["vpc"]["IpamPoolAllocationId"]

    def found(name, *values):
        got = allocations(ec2, pool_id, Filters=[{"Name": name, "Values": list(values)}])
        return [a["IpamPoolAllocationId"] for a in got]

    assert found("resource-type", "custom") == [one["IpamPoolAllocationId"], two["IpamPoolAllocationId"]]
    assert found("resource-type", "vpc", "custom") == [
        one["IpamPoolAllocationId"],
        two["IpamPoolAllocationId"],
        vpc_alloc,
    ]
    assert found("resource-id", vpc) == [vpc_alloc]
    assert len(found("resource-owner", DEFAULT_ACCOUNT)) == 3
    assert found("resource-owner", OTHER_ACCOUNT) == []
    assert vpc_alloc in found("resource-region", REGION)
    assert found("resource-region", EU) == []
    assert found("description", "two") == [two["IpamPoolAllocationId"]]
    assert found("cidr", "10.0.1.0/24") == [two["IpamPoolAllocationId"]]
    assert found("cidr", "10.0.*") == [
        one["IpamPoolAllocationId"],
        two["IpamPoolAllocationId"],
        vpc_alloc,
    ]
    assert found("ipam-pool-allocation-id", two["IpamPoolAllocationId"]) == [
        two["IpamPoolAllocationId"]
    ]
    by_id = allocations(ec2, pool_id, IpamPoolAllocationId=one["IpamPoolAllocationId"])
    assert [a["Cidr"] for a in by_id] == ["10.0.0.0/24"]


# --- IPv6 ------------------------------------------------------------------------------------------


def test_ipv6_ula_48_hands_out_56s_and_64s(ec2, scope_id):
    pool = create_pool(ec2, scope_id, family="ipv6", cidrs=["fd00:1::/48"], Locale=REGION)[
        "IpamPoolId"
    ]
    got = [allocate(ec2, pool, NetmaskLength=n)["Cidr"] for n in (56, 64, 64, 56)]
    assert got == [
        "fd00:1::/56",
        "fd00:1:0:100::/64",
        "fd00:1:0:101::/64",
        "fd00:1:0:200::/56",
    ]
    listed = [a["Cidr"] for a in allocations(ec2, pool)]
    assert listed == ["fd00:1::/56", "fd00:1:0:100::/64", "fd00:1:0:101::/64", "fd00:1:0:200::/56"]
    assert_disjoint(listed)


def test_ipv6_32_pool_hands_out_64s(ec2, scope_id):
    pool = create_pool(
        ec2, scope_id, family="ipv6", cidrs=["fd12:3456::/32"], AllocationMaxNetmaskLength=64
    )["IpamPoolId"]
    got = [allocate(ec2, pool, NetmaskLength=64)["Cidr"] for _ in range(3)]
    assert got == ["fd12:3456::/64", "fd12:3456:0:1::/64", "fd12:3456:0:2::/64"]
    assert allocate(ec2, pool, Cidr="fd12:3456:ffff:ffff::/64")["Cidr"] == "fd12:3456:ffff:ffff::/64"


def test_ipv6_allocation_by_cidr_is_canonical(ec2, scope_id):
    pool = create_pool(ec2, scope_id, family="ipv6", cidrs=["fd00:1::/48"])["IpamPoolId"]
    a = allocate(ec2, pool, Cidr="FD00:0001:0000:0500:0000:0000:0000:0000/56")
    assert a["Cidr"] == str(ipaddress.ip_network("fd00:1:0:500::/56"))


# --- VPCs from pools ----------------------------------------------------------------------------


def test_create_vpc_from_pool_by_netmask(ec2, pool_id):
    vpc = ec2.create_vpc(Ipv4IpamPoolId=pool_id, Ipv4NetmaskLength=20)["Vpc"]
    assert vpc["CidrBlock"] == "10.0.0.0/20"
    (row,) = allocations(ec2, pool_id)
    assert row["Cidr"] == "10.0.0.0/20"
    assert row["ResourceType"] == "vpc"
    assert row["ResourceId"] == vpc["VpcId"]
    assert row["ResourceOwner"] == DEFAULT_ACCOUNT
    assert row["ResourceRegion"] == REGION
    assert ALLOC_ID.match(row["IpamPoolAllocationId"])
    d = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]
    assert d["CidrBlock"] == "10.0.0.0/20"


def test_create_vpc_from_pool_with_cidr_block(ec2, pool_id):
    vpc = ec2.create_vpc(Ipv4IpamPoolId=pool_id, CidrBlock="10.0.64.0/18")["Vpc"]
    assert vpc["CidrBlock"] == "10.0.64.0/18"
    assert alloc_rows(ec2, pool_id) == [("10.0.64.0/18", "vpc")]


def test_vpcs_and_custom_allocations_share_the_pool(ec2, pool_id):
    allocate(ec2, pool_id, NetmaskLength=24)
    vpc = ec2.create_vpc(Ipv4IpamPoolId=pool_id, Ipv4NetmaskLength=24)["Vpc"]
    assert vpc["CidrBlock"] == "10.0.1.0/24"
    assert allocate(ec2, pool_id, NetmaskLength=24)["Cidr"] == "10.0.2.0/24"


def test_delete_vpc_frees_its_allocation_at_once(ec2, pool_id):
    vpc = ec2.create_vpc(Ipv4IpamPoolId=pool_id, Ipv4NetmaskLength=24)["Vpc"]
    ec2.delete_vpc(VpcId=vpc["VpcId"])
    assert allocations(ec2, pool_id) == []
    assert allocate(ec2, pool_id, NetmaskLength=24)["Cidr"] == "10.0.0.0/24"


def test_vpc_with_the_pools_required_tags(ec2, scope_id):
    pool = create_pool(
        ec2,
        scope_id,
        cidrs=["10.0.0.0/16"],
        Locale=REGION,
        AllocationResourceTags=[{"Key": "team", "Value": "net"}],
    )["IpamPoolId"]
    vpc = ec2.create_vpc(
        Ipv4IpamPoolId=pool,
        Ipv4NetmaskLength=24,
        TagSpecifications=tag_specs("vpc", team="net", Name="x"),
    )["Vpc"]
    assert vpc["CidrBlock"] == "10.0.0.0/24"
    assert [a["ResourceId"] for a in allocations(ec2, pool)] == [vpc["VpcId"]]


def test_create_vpc_with_ipv6_pool(ec2, scope_id):
    v6 = create_pool(ec2, scope_id, family="ipv6", cidrs=["fd00:1::/48"], Locale=REGION)[
        "IpamPoolId"
    ]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16", Ipv6IpamPoolId=v6, Ipv6NetmaskLength=56)["Vpc"]
    assert vpc["CidrBlock"] == "10.0.0.0/16"
    assert [a["Ipv6CidrBlock"] for a in vpc["Ipv6CidrBlockAssociationSet"]] == ["fd00:1::/56"]
    d = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]
    assert [a["Ipv6CidrBlock"] for a in d["Ipv6CidrBlockAssociationSet"]] == ["fd00:1::/56"]
    (row,) = allocations(ec2, v6)
    assert row["Cidr"] == "fd00:1::/56"
    assert row["ResourceType"] == "vpc"
    assert row["ResourceId"] == vpc["VpcId"]
    ec2.delete_vpc(VpcId=vpc["VpcId"])
    assert allocations(ec2, v6) == []


def test_create_vpc_in_the_pools_locale_region(ec2, client_factory):
    ipam = create_ipam(ec2, regions=[WEST])
    pool = create_pool(ec2, ipam["PrivateDefaultScopeId"], cidrs=["10.0.0.0/16"], Locale=WEST)[
        "IpamPoolId"
    ]
    west = client_factory("ec2", region=WEST)
    vpc = west.create_vpc(Ipv4IpamPoolId=pool, Ipv4NetmaskLength=24)["Vpc"]
    assert vpc["CidrBlock"] == "10.0.0.0/24"
    (row,) = allocations(ec2, pool)
    assert row["ResourceId"] == vpc["VpcId"]
    assert row["ResourceRegion"] == WEST


def test_associate_secondary_cidr_from_pool(ec2, pool_id):
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]
    got = ec2.associate_vpc_cidr_block(
        VpcId=vpc["VpcId"], Ipv4IpamPoolId=pool_id, Ipv4NetmaskLength=24
    )
    assoc = got["CidrBlockAssociation"]
    assert got["VpcId"] == vpc["VpcId"]
    assert assoc["CidrBlock"] == "10.0.0.0/24"
    d = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]
    assert "10.0.0.0/24" in [a["CidrBlock"] for a in d["CidrBlockAssociationSet"]]
    assert d["CidrBlock"] == "10.1.0.0/16"
    (row,) = allocations(ec2, pool_id)
    assert (row["Cidr"], row["ResourceType"], row["ResourceId"]) == (
        "10.0.0.0/24",
        "vpc",
        vpc["VpcId"],
    )
    ec2.disassociate_vpc_cidr_block(AssociationId=assoc["AssociationId"])
    assert allocations(ec2, pool_id) == []
    assert allocate(ec2, pool_id, NetmaskLength=24)["Cidr"] == "10.0.0.0/24"


def test_associate_secondary_ipv6_cidr_from_pool(ec2, scope_id):
    v6 = create_pool(ec2, scope_id, family="ipv6", cidrs=["fd00:1::/48"], Locale=REGION)[
        "IpamPoolId"
    ]
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]
    got = ec2.associate_vpc_cidr_block(
        VpcId=vpc["VpcId"], Ipv6IpamPoolId=v6, Ipv6NetmaskLength=56
    )
    assoc = got["Ipv6CidrBlockAssociation"]
    assert assoc["Ipv6CidrBlock"] == "fd00:1::/56"
    assert alloc_rows(ec2, v6) == [("fd00:1::/56", "vpc")]
    ec2.disassociate_vpc_cidr_block(AssociationId=assoc["AssociationId"])
    assert allocations(ec2, v6) == []


def test_associate_secondary_cidr_outright(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]
    got = ec2.associate_vpc_cidr_block(VpcId=vpc["VpcId"], CidrBlock="10.1.0.0/16")
    assoc = got["CidrBlockAssociation"]
    assert assoc["CidrBlock"] == "10.1.0.0/16"
    assert assoc["AssociationId"] != vpc["CidrBlockAssociationSet"][0]["AssociationId"]
    d = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]
    associated = [
        a["CidrBlock"]
        for a in d["CidrBlockAssociationSet"]
        if a["CidrBlockState"]["State"] == "associated"
    ]
    assert sorted(associated) == ["10.0.0.0/16", "10.1.0.0/16"]
    ec2.disassociate_vpc_cidr_block(AssociationId=assoc["AssociationId"])
    d = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]
    associated = [
        a["CidrBlock"]
        for a in d["CidrBlockAssociationSet"]
        if a["CidrBlockState"]["State"] == "associated"
    ]
    assert associated == ["10.0.0.0/16"]


# --- GetIpamResourceCidrs / ModifyIpamResourceCidr ----------------------------------------------


def by_resource(rows):
    return {(r["ResourceId"], r["ResourceCidr"]): r for r in rows}


def test_resource_cidrs_list_the_vpcs(ec2, ipam, scope_id, pool_id):
    default_vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    managed = ec2.create_vpc(Ipv4IpamPoolId=pool_id, Ipv4NetmaskLength=24)["Vpc"]["VpcId"]
    loose = ec2.create_vpc(CidrBlock="192.168.0.0/24")["Vpc"]["VpcId"]
    rows = by_resource(resource_cidrs(ec2, scope_id))
    assert sorted(rows) == sorted(
        [
            (default_vpc, "172.31.0.0/16"),
            (managed, "10.0.0.0/24"),
            (loose, "192.168.0.0/24"),
        ]
    )
    for (vpc_id, _), r in rows.items():
        assert r["ResourceType"] == "vpc"
        assert r["VpcId"] == vpc_id
        assert r["ResourceRegion"] == REGION
        assert r["ResourceOwnerId"] == DEFAULT_ACCOUNT
        assert r["IpamId"] == ipam["IpamId"]
        assert r["IpamScopeId"] == scope_id
        assert r["OverlapStatus"] == "nonoverlapping"
    m = rows[(managed, "10.0.0.0/24")]
    assert m["IpamPoolId"] == pool_id
    assert m["ManagementState"] == "managed"
    assert m["ComplianceStatus"] == "compliant"
    for key in [(default_vpc, "172.31.0.0/16"), (loose, "192.168.0.0/24")]:
        r = rows[key]
        assert "IpamPoolId" not in r
        assert r["ManagementState"] == "unmanaged"
        assert r["ComplianceStatus"] == "unmanaged"


def test_resource_cidrs_overlap(ec2, scope_id):
    big = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    small = ec2.create_vpc(CidrBlock="10.50.0.0/20")["Vpc"]["VpcId"]
    rows = by_resource(resource_cidrs(ec2, scope_id))
    assert rows[(big, "10.50.0.0/16")]["OverlapStatus"] == "overlapping"
    assert rows[(small, "10.50.0.0/20")]["OverlapStatus"] == "overlapping"
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    assert rows[(default_vpc["VpcId"], "172.31.0.0/16")]["OverlapStatus"] == "nonoverlapping"


def test_ignored_resource_cidr(ec2, scope_id):
    big = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    small = ec2.create_vpc(CidrBlock="10.50.0.0/20")["Vpc"]["VpcId"]
    got = ec2.modify_ipam_resource_cidr(
        ResourceId=small,
        ResourceCidr="10.50.0.0/20",
        ResourceRegion=REGION,
        CurrentIpamScopeId=scope_id,
        Monitored=False,
    )["IpamResourceCidr"]
    assert got["ResourceId"] == small
    assert got["ManagementState"] == "ignored"
    assert got["ComplianceStatus"] == "ignored"
    assert got["OverlapStatus"] == "ignored"
    rows = by_resource(resource_cidrs(ec2, scope_id))
    s = rows[(small, "10.50.0.0/20")]
    assert (s["ManagementState"], s["ComplianceStatus"], s["OverlapStatus"]) == (
        "ignored",
        "ignored",
        "ignored",
    )
    assert rows[(big, "10.50.0.0/16")]["OverlapStatus"] == "nonoverlapping"


def test_monitored_again_after_ignored(ec2, scope_id):
    big = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    small = ec2.create_vpc(CidrBlock="10.50.0.0/20")["Vpc"]["VpcId"]
    for monitored in (False, True):
        ec2.modify_ipam_resource_cidr(
            ResourceId=small,
            ResourceCidr="10.50.0.0/20",
            ResourceRegion=REGION,
            CurrentIpamScopeId=scope_id,
            Monitored=monitored,
        )
    rows = by_resource(resource_cidrs(ec2, scope_id))
    assert rows[(small, "10.50.0.0/20")]["ManagementState"] == "unmanaged"
    assert rows[(small, "10.50.0.0/20")]["OverlapStatus"] == "overlapping"
    assert rows[(big, "10.50.0.0/16")]["OverlapStatus"] == "overlapping"


def test_public_scope_lists_no_vpc(ec2, ipam):
    ec2.create_vpc(CidrBlock="10.50.0.0/16")
    assert resource_cidrs(ec2, ipam["PublicDefaultScopeId"]) == []


def test_resource_cidrs_selection_parameters(ec2, scope_id, pool_id):
    managed = ec2.create_vpc(Ipv4IpamPoolId=pool_id, Ipv4NetmaskLength=24)["Vpc"]["VpcId"]
    loose = ec2.create_vpc(CidrBlock="192.168.0.0/24")["Vpc"]["VpcId"]
    assert [r["ResourceId"] for r in resource_cidrs(ec2, scope_id, ResourceId=loose)] == [loose]
    assert [r["ResourceId"] for r in resource_cidrs(ec2, scope_id, IpamPoolId=pool_id)] == [managed]
    assert len(resource_cidrs(ec2, scope_id, ResourceType="vpc")) == 3
    assert len(resource_cidrs(ec2, scope_id, ResourceOwner=DEFAULT_ACCOUNT)) == 3
    assert resource_cidrs(ec2, scope_id, ResourceOwner=OTHER_ACCOUNT) == []


def test_resource_cidrs_pages(ec2, scope_id):
    for i in range(6):
        ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")
    first = ec2.get_ipam_resource_cidrs(IpamScopeId=scope_id, MaxResults=5)
    assert len(first["IpamResourceCidrs"]) == 5
    second = ec2.get_ipam_resource_cidrs(
        IpamScopeId=scope_id, MaxResults=5, NextToken=first["NextToken"]
    )
    assert len(second["IpamResourceCidrs"]) == 2
    assert not second.get("NextToken")
    seen = {r["ResourceId"] for r in first["IpamResourceCidrs"] + second["IpamResourceCidrs"]}
    assert len(seen) == 7


def test_resource_cidrs_lists_each_cidr_of_a_vpc(ec2, scope_id):
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="10.1.0.0/16")
    cidrs = sorted(r["ResourceCidr"] for r in resource_cidrs(ec2, scope_id, ResourceId=vpc))
    assert cidrs == ["10.0.0.0/16", "10.1.0.0/16"]


def test_resource_cidrs_cover_operating_regions_only(ec2, client_factory):
    ipam = create_ipam(ec2, regions=[WEST])
    scope = ipam["PrivateDefaultScopeId"]
    west_vpc = client_factory("ec2", region=WEST).create_vpc(CidrBlock="10.7.0.0/16")["Vpc"]
    eu_vpc = client_factory("ec2", region=EU).create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]
    rows = resource_cidrs(ec2, scope)
    listed = {r["ResourceId"]: r for r in rows}
    assert listed[west_vpc["VpcId"]]["ResourceRegion"] == WEST
    assert listed[west_vpc["VpcId"]]["ResourceCidr"] == "10.7.0.0/16"
    assert eu_vpc["VpcId"] not in listed
    assert {r["ResourceRegion"] for r in rows} == {REGION, WEST}


def test_resource_cidrs_leave_out_other_accounts(ec2, ec2_other, scope_id):
    theirs = ec2_other.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    rows = resource_cidrs(ec2, scope_id)
    assert theirs not in {r["ResourceId"] for r in rows}
    assert {r["ResourceOwnerId"] for r in rows} == {DEFAULT_ACCOUNT}


# --- regions, tags, the CLI ------------------------------------------------------------------


def test_ipam_is_managed_in_its_home_region_only(ec2, client_factory):
    ipam = create_ipam(ec2, regions=[WEST])
    create_pool(ec2, ipam["PrivateDefaultScopeId"], Locale=WEST)
    west = client_factory("ec2", region=WEST)
    assert west.describe_ipams()["Ipams"] == []
    assert west.describe_ipam_scopes()["IpamScopes"] == []
    assert west.describe_ipam_pools()["IpamPools"] == []
    assert [i["IpamId"] for i in ec2.describe_ipams()["Ipams"]] == [ipam["IpamId"]]


def test_allocation_calls_work_in_the_locale_and_the_home_region(ec2, client_factory):
    ipam = create_ipam(ec2, regions=[WEST])
    pool = create_pool(ec2, ipam["PrivateDefaultScopeId"], cidrs=["10.0.0.0/16"], Locale=WEST)[
        "IpamPoolId"
    ]
    west = client_factory("ec2", region=WEST)
    a = allocate(west, pool, NetmaskLength=24)
    b = allocate(ec2, pool, NetmaskLength=24)
    assert [a["Cidr"], b["Cidr"]] == ["10.0.0.0/24", "10.0.1.0/24"]
    assert [x["Cidr"] for x in allocations(west, pool)] == ["10.0.0.0/24", "10.0.1.0/24"]
    assert [x["Cidr"] for x in allocations(ec2, pool)] == ["10.0.0.0/24", "10.0.1.0/24"]
    assert release(west, pool, b) is True
    assert release(ec2, pool, a) is True
    assert allocations(west, pool) == []


def test_tags_on_ipam_scope_and_pool(ec2, ipam, scope_id, pool_id):
    resources = [ipam["IpamId"], scope_id, pool_id]
    ec2.create_tags(Resources=resources, Tags=[{"Key": "team", "Value": "net"}])
    rows = ec2.describe_tags(Filters=[{"Name": "key", "Values": ["team"]}])["Tags"]
    assert sorted((r["ResourceId"], r["ResourceType"], r["Value"]) for r in rows) == sorted(
        [
            (ipam["IpamId"], "ipam", "net"),
            (scope_id, "ipam-scope", "net"),
            (pool_id, "ipam-pool", "net"),
        ]
    )
    assert tags_of(describe_ipam(ec2, ipam["IpamId"])) == {"team": "net"}
    assert tags_of(describe_scope(ec2, scope_id)) == {"team": "net"}
    assert tags_of(describe_pool(ec2, pool_id)) == {"team": "net"}
    for rtype, rid in (("ipam", ipam["IpamId"]), ("ipam-scope", scope_id), ("ipam-pool", pool_id)):
        found = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": [rtype]}])["Tags"]
        assert [r["ResourceId"] for r in found] == [rid]


def test_tag_specifications_are_described_as_tags(ec2):
    ipam = create_ipam(ec2, tags={"a": "1"})
    scope = create_scope(ec2, ipam["IpamId"], tags={"b": "2"})
    pool = create_pool(ec2, scope["IpamScopeId"], tags={"c": "3"})
    rows = ec2.describe_tags()["Tags"]
    assert sorted((r["ResourceType"], r["Key"]) for r in rows) == [
        ("ipam", "a"),
        ("ipam-pool", "c"),
        ("ipam-scope", "b"),
    ]
    assert {r["ResourceId"] for r in rows} == {
        ipam["IpamId"],
        scope["IpamScopeId"],
        pool["IpamPoolId"],
    }


def test_cli_prints_the_allocations(aws, ec2, pool_id):  # noqa: F811
    a = allocate(ec2, pool_id, NetmaskLength=24, Description="from boto3")
    b = allocate(ec2, pool_id, Cidr="10.0.9.0/24")
    out = aws("ec2", "get-ipam-pool-allocations", "--ipam-pool-id", pool_id)
    rows = out["IpamPoolAllocations"]
    assert [(r["Cidr"], r["IpamPoolAllocationId"], r["ResourceType"]) for r in rows] == [
        ("10.0.0.0/24", a["IpamPoolAllocationId"], "custom"),
        ("10.0.9.0/24", b["IpamPoolAllocationId"], "custom"),
    ]
    assert rows[0]["Description"] == "from boto3"
    one = aws(
        "ec2",
        "get-ipam-pool-allocations",
        "--ipam-pool-id",
        pool_id,
        "--filters",
        f"Name=ipam-pool-allocation-id,Values={b['IpamPoolAllocationId']}",
    )["IpamPoolAllocations"]
    assert [r["Cidr"] for r in one] == ["10.0.9.0/24"]


def test_cli_allocates_and_releases(aws, pool_id):  # noqa: F811
    got = aws(
        "ec2", "allocate-ipam-pool-cidr", "--ipam-pool-id", pool_id, "--netmask-length", "24"
    )["IpamPoolAllocation"]
    assert got["Cidr"] == "10.0.0.0/24"
    out = aws(
        "ec2",
        "release-ipam-pool-allocation",
        "--ipam-pool-id",
        pool_id,
        "--cidr",
        got["Cidr"],
        "--ipam-pool-allocation-id",
        got["IpamPoolAllocationId"],
    )
    assert out["Success"] is True
    assert aws("ec2", "get-ipam-pool-allocations", "--ipam-pool-id", pool_id)[
        "IpamPoolAllocations"
    ] == []
