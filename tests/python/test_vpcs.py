"""CreateVpc, DescribeVpcs, DeleteVpc: default VPCs, validation, filters, pagination."""

import re

import pytest
from botocore.exceptions import ClientError

from conftest import DEFAULT_ACCOUNT, OTHER_ACCOUNT, delete_default_vpc, error_code, http_status

VPC_ID = re.compile(r"^vpc-[0-9a-f]{17}$")
ASSOC_ID = re.compile(r"^vpc-cidr-assoc-[0-9a-f]{17}$")
DOPT_ID = re.compile(r"^dopt-[0-9a-f]{17}$")
MISSING_VPC = "vpc-0123456789abcdef0"


def vpc_ids(resp):
    return [v["VpcId"] for v in resp["Vpcs"]]


def create(ec2, cidr="10.0.0.0/16", tags=None, **kw):
    if tags:
        kw["TagSpecifications"] = [
            {"ResourceType": "vpc", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    return ec2.create_vpc(CidrBlock=cidr, **kw)["Vpc"]


def client_error(fn, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    return e.value


# --- default VPC ----------------------------------------------------------------------


def test_default_vpc_exists(ec2):
    vpcs = ec2.describe_vpcs()["Vpcs"]
    assert len(vpcs) == 1
    v = vpcs[0]
    assert v["CidrBlock"] == "172.31.0.0/16"
    assert v["IsDefault"] is True
    assert v["State"] == "available"
    assert v["OwnerId"] == DEFAULT_ACCOUNT
    assert v["InstanceTenancy"] == "default"
    assert VPC_ID.match(v["VpcId"])
    assert DOPT_ID.match(v["DhcpOptionsId"])
    assocs = v["CidrBlockAssociationSet"]
    assert len(assocs) == 1
    assert assocs[0]["CidrBlock"] == "172.31.0.0/16"
    assert assocs[0]["CidrBlockState"]["State"] == "associated"
    assert "Tags" not in v


def test_default_vpc_is_stable(ec2):
    first = vpc_ids(ec2.describe_vpcs())
    second = vpc_ids(ec2.describe_vpcs())
    assert first == second


def test_each_account_and_region_has_its_own_default_vpc(ec2, ec2_other, client_factory):
    mine = ec2.describe_vpcs()["Vpcs"]
    theirs = ec2_other.describe_vpcs()["Vpcs"]
    eu = client_factory("ec2", region="eu-west-1").describe_vpcs()["Vpcs"]
    assert len(mine) == len(theirs) == len(eu) == 1
    assert theirs[0]["OwnerId"] == OTHER_ACCOUNT
    assert theirs[0]["IsDefault"] is True
    assert len({mine[0]["VpcId"], theirs[0]["VpcId"], eu[0]["VpcId"]}) == 3


def test_accounts_do_not_see_each_others_vpcs(ec2, ec2_other):
    vpc = create(ec2)
    assert vpc["VpcId"] not in vpc_ids(ec2_other.describe_vpcs())
    e = client_error(ec2_other.describe_vpcs, VpcIds=[vpc["VpcId"]])
    assert error_code(e) == "InvalidVpcID.NotFound"
    e = client_error(ec2_other.delete_vpc, VpcId=vpc["VpcId"])
    assert error_code(e) == "InvalidVpcID.NotFound"
    assert vpc["VpcId"] in vpc_ids(ec2.describe_vpcs())


def test_regions_do_not_see_each_others_vpcs(ec2, client_factory):
    vpc = create(ec2)
    eu = client_factory("ec2", region="eu-west-1")
    assert vpc["VpcId"] not in vpc_ids(eu.describe_vpcs())


# --- CreateVpc --------------------------------------------------------------------------


def test_create_vpc_response(ec2):
    v = create(ec2, "10.0.0.0/16")
    assert VPC_ID.match(v["VpcId"]), v["VpcId"]
    assert v["State"] == "pending"
    assert v["CidrBlock"] == "10.0.0.0/16"
    assert v["InstanceTenancy"] == "default"
    assert v["IsDefault"] is False
    assert v["OwnerId"] == DEFAULT_ACCOUNT
    assert DOPT_ID.match(v["DhcpOptionsId"])
    assocs = v["CidrBlockAssociationSet"]
    assert len(assocs) == 1
    assert ASSOC_ID.match(assocs[0]["AssociationId"]), assocs
    assert assocs[0]["CidrBlock"] == "10.0.0.0/16"
    assert assocs[0]["CidrBlockState"]["State"] == "associated"
    assert "Tags" not in v


def test_created_vpc_is_available_when_described(ec2):
    v = create(ec2)
    described = ec2.describe_vpcs(VpcIds=[v["VpcId"]])["Vpcs"]
    assert len(described) == 1
    d = described[0]
    assert d["State"] == "available"
    assert d["CidrBlock"] == "10.0.0.0/16"
    assert d["IsDefault"] is False
    assert d["DhcpOptionsId"] == v["DhcpOptionsId"]
    assert d["CidrBlockAssociationSet"] == v["CidrBlockAssociationSet"]


def test_new_vpc_uses_the_default_dhcp_options(ec2):
    default = ec2.describe_vpcs()["Vpcs"][0]
    v = create(ec2)
    assert v["DhcpOptionsId"] == default["DhcpOptionsId"]


def test_vpc_ids_are_unique(ec2):
    ids = [create(ec2, f"10.{i}.0.0/16")["VpcId"] for i in range(6)]
    assert len(set(ids)) == 6
    assert all(VPC_ID.match(i) for i in ids)


def test_overlapping_cidrs_are_allowed(ec2):
    a = create(ec2, "10.0.0.0/16")
    b = create(ec2, "10.0.0.0/16")
    assert a["VpcId"] != b["VpcId"]


def test_dedicated_tenancy(ec2):
    v = create(ec2, InstanceTenancy="dedicated")
    assert v["InstanceTenancy"] == "dedicated"
    assert ec2.describe_vpcs(VpcIds=[v["VpcId"]])["Vpcs"][0]["InstanceTenancy"] == "dedicated"


def test_host_tenancy_is_refused(ec2):
    e = client_error(ec2.create_vpc, CidrBlock="10.0.0.0/16", InstanceTenancy="host")
    assert error_code(e) == "InvalidParameterValue"
    assert http_status(e) == 400
    assert len(ec2.describe_vpcs()["Vpcs"]) == 1


def test_tag_specifications(ec2):
    v = create(ec2, tags={"Name": "web", "env": "prod"})
    assert sorted(v["Tags"], key=lambda t: t["Key"]) == [
        {"Key": "Name", "Value": "web"},
        {"Key": "env", "Value": "prod"},
    ]
    d = ec2.describe_vpcs(VpcIds=[v["VpcId"]])["Vpcs"][0]
    assert sorted(d["Tags"], key=lambda t: t["Key"]) == sorted(v["Tags"], key=lambda t: t["Key"])


def test_tag_specification_for_another_resource_type(ec2):
    e = client_error(
        ec2.create_vpc,
        CidrBlock="10.0.0.0/16",
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "a", "Value": "b"}]}],
    )
    assert error_code(e) == "InvalidParameterValue"
    assert len(ec2.describe_vpcs()["Vpcs"]) == 1


def test_tag_specification_with_aws_prefix(ec2):
    e = client_error(
        ec2.create_vpc,
        CidrBlock="10.0.0.0/16",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "aws:x", "Value": "b"}]}],
    )
    assert error_code(e) == "InvalidParameterValue"
    assert len(ec2.describe_vpcs()["Vpcs"]) == 1


def test_missing_cidr_block(ec2):
    e = client_error(ec2.create_vpc)
    assert error_code(e) == "MissingParameter"
    assert http_status(e) == 400


@pytest.mark.parametrize(
    "cidr", ["10.0.0.0/15", "10.0.0.0/29", "10.0.0.0/8", "10.0.0.0/32", "10.0.0.1/29"]
)
def test_cidr_outside_allowed_sizes(ec2, cidr):
    e = client_error(ec2.create_vpc, CidrBlock=cidr)
    assert error_code(e) == "InvalidVpc.Range"
    assert http_status(e) == 400
    assert len(ec2.describe_vpcs()["Vpcs"]) == 1


@pytest.mark.parametrize(
    "cidr",
    [
        "banana",
        "10.0.0.0",
        "300.0.0.0/16",
        "10.0.0.0/abc",
        "010.0.0.0/16",
        "10.0.0.0/33",
        "2001:db8::/56",
    ],
)
def test_malformed_cidr(ec2, cidr):
    e = client_error(ec2.create_vpc, CidrBlock=cidr)
    assert error_code(e) == "InvalidParameterValue"
    assert http_status(e) == 400
    assert len(ec2.describe_vpcs()["Vpcs"]) == 1


@pytest.mark.parametrize(
    "given,canonical",
    [
        ("100.68.0.18/18", "100.68.0.0/18"),
        ("10.0.0.1/16", "10.0.0.0/16"),
        ("192.168.7.255/28", "192.168.7.240/28"),
        ("10.0.0.0/16", "10.0.0.0/16"),
    ],
)
def test_cidr_with_host_bits_is_stored_in_canonical_form(ec2, given, canonical):
    # EC2 clears the host bits of the address: the VPC's block is the network.
    v = create(ec2, given)
    assert v["CidrBlock"] == canonical
    assert [a["CidrBlock"] for a in v["CidrBlockAssociationSet"]] == [canonical]
    d = ec2.describe_vpcs(VpcIds=[v["VpcId"]])["Vpcs"][0]
    assert d["CidrBlock"] == canonical
    assert [a["CidrBlock"] for a in d["CidrBlockAssociationSet"]] == [canonical]
    assert ids_for(ec2, [{"Name": "cidr", "Values": [canonical]}]) == [v["VpcId"]]
    if given != canonical:
        assert ids_for(ec2, [{"Name": "cidr", "Values": [given]}]) == []


def test_boundary_cidr_sizes_are_accepted(ec2):
    assert create(ec2, "10.0.0.0/16")["CidrBlock"] == "10.0.0.0/16"
    assert create(ec2, "10.0.0.0/28")["CidrBlock"] == "10.0.0.0/28"


def test_create_vpc_dry_run(ec2):
    e = client_error(ec2.create_vpc, CidrBlock="10.0.0.0/16", DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert http_status(e) == 412
    assert len(ec2.describe_vpcs()["Vpcs"]) == 1


def test_create_vpc_dry_run_with_invalid_input_reports_the_error(ec2):
    e = client_error(ec2.create_vpc, CidrBlock="banana", DryRun=True)
    assert error_code(e) == "InvalidParameterValue"


# --- DescribeVpcs ---------------------------------------------------------------------


def test_describe_unknown_vpc_id(ec2):
    e = client_error(ec2.describe_vpcs, VpcIds=[MISSING_VPC])
    assert error_code(e) == "InvalidVpcID.NotFound"
    assert http_status(e) == 400


def test_describe_known_and_unknown_vpc_id(ec2):
    v = create(ec2)
    e = client_error(ec2.describe_vpcs, VpcIds=[v["VpcId"], MISSING_VPC])
    assert error_code(e) == "InvalidVpcID.NotFound"
    assert MISSING_VPC in e.response["Error"]["Message"]


@pytest.mark.parametrize("bad", ["vpc-123", "subnet-0123456789abcdef0", "vpc-XYZ"])
def test_describe_malformed_vpc_id(ec2, bad):
    e = client_error(ec2.describe_vpcs, VpcIds=[bad])
    assert error_code(e) == "InvalidVpcID.Malformed"
    assert http_status(e) == 400


def test_describe_by_ids(ec2):
    a = create(ec2, "10.0.0.0/16")
    b = create(ec2, "10.1.0.0/16")
    create(ec2, "10.2.0.0/16")
    assert sorted(vpc_ids(ec2.describe_vpcs(VpcIds=[a["VpcId"], b["VpcId"]]))) == sorted(
        [a["VpcId"], b["VpcId"]]
    )


@pytest.fixture
def fleet(ec2):
    """Three VPCs besides the default one, with tags."""
    a = create(ec2, "10.0.0.0/16", tags={"Name": "alpha", "env": "prod"})
    b = create(ec2, "10.1.0.0/16", tags={"Name": "beta", "env": "dev"})
    c = create(ec2, "192.168.0.0/24", tags={"Name": "gamma"})
    default = [v for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"]][0]
    return {"a": a, "b": b, "c": c, "default": default}


def ids_for(ec2, filters):
    return sorted(vpc_ids(ec2.describe_vpcs(Filters=filters)))


def names(fleet, *keys):
    return sorted(fleet[k]["VpcId"] for k in keys)


@pytest.mark.parametrize(
    "filters,expected",
    [
        ([{"Name": "cidr", "Values": ["10.1.0.0/16"]}], ["b"]),
        ([{"Name": "cidr", "Values": ["10.1.0.0"]}], []),
        ([{"Name": "cidr-block-association.cidr-block", "Values": ["192.168.0.0/24"]}], ["c"]),
        ([{"Name": "cidr", "Values": ["10.*"]}], ["a", "b"]),
        ([{"Name": "cidr", "Values": ["10.?.0.0/16"]}], ["a", "b"]),
        ([{"Name": "cidr", "Values": ["10.0.0.0/16", "192.168.0.0/24"]}], ["a", "c"]),
        ([{"Name": "state", "Values": ["available"]}], ["a", "b", "c", "default"]),
        ([{"Name": "state", "Values": ["pending"]}], []),
        ([{"Name": "is-default", "Values": ["true"]}], ["default"]),
        ([{"Name": "is-default", "Values": ["false"]}], ["a", "b", "c"]),
        ([{"Name": "owner-id", "Values": [DEFAULT_ACCOUNT]}], ["a", "b", "c", "default"]),
        ([{"Name": "owner-id", "Values": [OTHER_ACCOUNT]}], []),
        ([{"Name": "tag:Name", "Values": ["alpha", "gamma"]}], ["a", "c"]),
        ([{"Name": "tag:Name", "Values": ["*a"]}], ["a", "b", "c"]),
        ([{"Name": "tag:Name", "Values": ["b?ta"]}], ["b"]),
        ([{"Name": "tag:env", "Values": ["*"]}], ["a", "b"]),
        ([{"Name": "tag-key", "Values": ["env"]}], ["a", "b"]),
        ([{"Name": "tag-key", "Values": ["Name"]}], ["a", "b", "c"]),
        ([{"Name": "tag:name", "Values": ["alpha"]}], []),
        # Older spellings EC2 still accepts, sent by widely used tools.
        ([{"Name": "isDefault", "Values": ["true"]}], ["default"]),
        ([{"Name": "isDefault", "Values": ["false"]}], ["a", "b", "c"]),
        ([{"Name": "cidr-block", "Values": ["10.1.0.0/16"]}], ["b"]),
        ([{"Name": "cidr-block", "Values": ["10.*"]}], ["a", "b"]),
        ([{"Name": "cidrBlock", "Values": ["192.168.0.0/24"]}], ["c"]),
        ([{"Name": "cidrBlock", "Values": ["172.31.0.0/16", "10.0.0.0/16"]}], ["a", "default"]),
        ([{"Name": "tag-value", "Values": ["prod"]}], ["a"]),
        ([{"Name": "tag-value", "Values": ["alpha", "dev"]}], ["a", "b"]),
        ([{"Name": "tag-value", "Values": ["*a"]}], ["a", "b", "c"]),
        ([{"Name": "tag-value", "Values": ["Name"]}], []),
        (
            [
                {"Name": "cidr", "Values": ["10.*"]},
                {"Name": "tag:env", "Values": ["prod", "staging"]},
            ],
            ["a"],
        ),
        (
            [
                {"Name": "is-default", "Values": ["false"]},
                {"Name": "tag-key", "Values": ["env"]},
                {"Name": "tag:Name", "Values": ["beta", "gamma"]},
            ],
            ["b"],
        ),
    ],
)
def test_filters(ec2, fleet, filters, expected):
    assert ids_for(ec2, filters) == names(fleet, *expected)


def test_filter_by_vpc_id_and_association_id(ec2, fleet):
    a = fleet["a"]
    assert ids_for(ec2, [{"Name": "vpc-id", "Values": [a["VpcId"]]}]) == [a["VpcId"]]
    assoc = a["CidrBlockAssociationSet"][0]["AssociationId"]
    assert ids_for(
        ec2, [{"Name": "cidr-block-association.association-id", "Values": [assoc]}]
    ) == [a["VpcId"]]
    assert ids_for(
        ec2, [{"Name": "vpc-id", "Values": [fleet["b"]["VpcId"], fleet["c"]["VpcId"]]}]
    ) == names(fleet, "b", "c")


def test_filter_by_dhcp_options_id(ec2, fleet):
    dopt = fleet["default"]["DhcpOptionsId"]
    assert ids_for(ec2, [{"Name": "dhcp-options-id", "Values": [dopt]}]) == names(
        fleet, "a", "b", "c", "default"
    )
    assert ids_for(ec2, [{"Name": "dhcp-options-id", "Values": ["dopt-0123456789abcdef0"]}]) == []


def test_filters_combine_with_vpc_ids(ec2, fleet):
    resp = ec2.describe_vpcs(
        VpcIds=[fleet["a"]["VpcId"], fleet["b"]["VpcId"]],
        Filters=[{"Name": "tag:env", "Values": ["dev"]}],
    )
    assert vpc_ids(resp) == [fleet["b"]["VpcId"]]


@pytest.mark.parametrize("name", ["colour", "cidr_block", "IsDefault", "is-Default"])
def test_unknown_filter_name(ec2, name):
    e = client_error(ec2.describe_vpcs, Filters=[{"Name": name, "Values": ["true"]}])
    assert error_code(e) == "InvalidParameterValue"
    assert http_status(e) == 400
    assert e.response["Error"]["Message"] == f"The filter '{name}' is invalid"


def test_ansible_style_lookup_by_name_tag_and_cidr_block(ec2):
    # What Ansible's amazon.aws.ec2_vpc_net sends to find an existing VPC.
    wanted = create(ec2, "10.10.0.0/16", tags={"Name": "app"})["VpcId"]
    create(ec2, "10.10.0.0/16", tags={"Name": "other"})
    create(ec2, "10.11.0.0/16", tags={"Name": "app"})
    create(ec2, "10.10.0.0/16")
    found = ec2.describe_vpcs(
        Filters=[
            {"Name": "tag:Name", "Values": ["app"]},
            {"Name": "cidr-block", "Values": ["10.10.0.0/16"]},
        ]
    )["Vpcs"]
    assert [v["VpcId"] for v in found] == [wanted]


def test_terraform_style_default_vpc_lookup(ec2):
    # The Terraform AWS provider's `data "aws_vpc" { default = true }` sends isDefault.
    default = [v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"]]
    assert len(default) == 1
    create(ec2, "10.0.0.0/16")
    create(ec2, "172.31.0.0/16")
    found = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    assert [v["VpcId"] for v in found] == default
    assert found[0]["IsDefault"] is True


def test_tags_shown_only_when_set(ec2, fleet):
    by_id = {v["VpcId"]: v for v in ec2.describe_vpcs()["Vpcs"]}
    assert "Tags" not in by_id[fleet["default"]["VpcId"]]
    assert by_id[fleet["c"]["VpcId"]]["Tags"] == [{"Key": "Name", "Value": "gamma"}]


# --- pagination ------------------------------------------------------------------------


def make_many(ec2, n):
    return [create(ec2, f"10.{i}.0.0/16")["VpcId"] for i in range(n)]


def test_max_results_pages(ec2):
    created = make_many(ec2, 11)  # 12 with the default VPC
    seen = []
    token = None
    pages = 0
    while True:
        kw = {"MaxResults": 5}
        if token:
            kw["NextToken"] = token
        resp = ec2.describe_vpcs(**kw)
        pages += 1
        assert len(resp["Vpcs"]) <= 5
        seen.extend(vpc_ids(resp))
        token = resp.get("NextToken")
        if not token:
            break
        assert pages < 10
    assert pages == 3
    assert len(seen) == 12 == len(set(seen))
    assert set(created) < set(seen)


def test_no_next_token_when_everything_fits(ec2):
    make_many(ec2, 4)
    resp = ec2.describe_vpcs(MaxResults=5)
    assert len(resp["Vpcs"]) == 5
    assert "NextToken" not in resp or not resp["NextToken"]


def test_paginator(ec2):
    created = make_many(ec2, 11)
    pages = list(ec2.get_paginator("describe_vpcs").paginate(PaginationConfig={"PageSize": 5}))
    ids = [i for p in pages for i in vpc_ids(p)]
    assert len(pages) == 3
    assert len(ids) == 12 == len(set(ids))
    assert set(created) < set(ids)


def test_paginator_with_filters(ec2):
    for i in range(8):
        create(ec2, f"10.{i}.0.0/16", tags={"team": "x" if i % 2 else "y"})
    pages = ec2.get_paginator("describe_vpcs").paginate(
        Filters=[{"Name": "tag:team", "Values": ["x"]}], PaginationConfig={"PageSize": 5}
    )
    ids = [i for p in pages for i in vpc_ids(p)]
    assert len(ids) == 4 == len(set(ids))


@pytest.mark.parametrize("token", ["garbage", "AAAA", "eyJ4IjoxfQ==", "a" * 300])
def test_garbage_next_token(ec2, token):
    e = client_error(ec2.describe_vpcs, MaxResults=5, NextToken=token)
    assert error_code(e) == "InvalidNextToken"
    assert http_status(e) == 400


def first_token(ec2, **kw):
    make_many(ec2, 6)
    resp = ec2.describe_vpcs(MaxResults=5, **kw)
    token = resp.get("NextToken")
    assert token
    return token


def test_tampered_next_token(ec2):
    token = first_token(ec2)
    # Flip one character in the middle of the token.
    i = len(token) // 2
    flipped = "A" if token[i] != "A" else "B"
    tampered = token[:i] + flipped + token[i + 1:]
    e = client_error(ec2.describe_vpcs, MaxResults=5, NextToken=tampered)
    assert error_code(e) == "InvalidNextToken"
    e = client_error(ec2.describe_vpcs, MaxResults=5, NextToken=token + "x")
    assert error_code(e) == "InvalidNextToken"


def test_token_is_bound_to_filters(ec2):
    token = first_token(ec2, Filters=[{"Name": "state", "Values": ["available"]}])
    e = client_error(
        ec2.describe_vpcs,
        MaxResults=5,
        NextToken=token,
        Filters=[{"Name": "is-default", "Values": ["false"]}],
    )
    assert error_code(e) == "InvalidNextToken"
    e = client_error(ec2.describe_vpcs, MaxResults=5, NextToken=token)
    assert error_code(e) == "InvalidNextToken"
    # The same filters accept it.
    resp = ec2.describe_vpcs(
        MaxResults=5, NextToken=token, Filters=[{"Name": "state", "Values": ["available"]}]
    )
    assert len(resp["Vpcs"]) == 2


def test_token_is_bound_to_the_account(ec2, ec2_other):
    token = first_token(ec2)
    e = client_error(ec2_other.describe_vpcs, MaxResults=5, NextToken=token)
    assert error_code(e) == "InvalidNextToken"


def test_token_is_bound_to_the_region(ec2, client_factory):
    token = first_token(ec2)
    eu = client_factory("ec2", region="eu-west-1")
    e = client_error(eu.describe_vpcs, MaxResults=5, NextToken=token)
    assert error_code(e) == "InvalidNextToken"


def test_creating_between_pages_never_duplicates(ec2):
    make_many(ec2, 9)  # 10 with the default
    first = ec2.describe_vpcs(MaxResults=5)
    seen = vpc_ids(first)
    token = first["NextToken"]
    for i in range(3):
        create(ec2, f"10.{100 + i}.0.0/16")
    while token:
        resp = ec2.describe_vpcs(MaxResults=5, NextToken=token)
        seen.extend(vpc_ids(resp))
        token = resp.get("NextToken")
    assert len(seen) == len(set(seen))
    assert len(seen) >= 10


def test_deleting_between_pages_never_duplicates(ec2):
    ids = make_many(ec2, 9)
    first = ec2.describe_vpcs(MaxResults=5)
    seen = vpc_ids(first)
    token = first["NextToken"]
    # Delete one already seen: the later pages still hold the other five.
    ec2.delete_vpc(VpcId=[i for i in seen if i in ids][0])
    while token:
        resp = ec2.describe_vpcs(MaxResults=5, NextToken=token)
        seen.extend(vpc_ids(resp))
        token = resp.get("NextToken")
    assert len(seen) == len(set(seen))
    assert len(seen) == 10


# --- DeleteVpc -----------------------------------------------------------------------------


def test_delete_vpc(ec2):
    v = create(ec2, tags={"Name": "doomed"})
    ec2.delete_vpc(VpcId=v["VpcId"])
    assert v["VpcId"] not in vpc_ids(ec2.describe_vpcs())
    e = client_error(ec2.describe_vpcs, VpcIds=[v["VpcId"]])
    assert error_code(e) == "InvalidVpcID.NotFound"
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [v["VpcId"]]}])["Tags"]
    assert tags == []
    e = client_error(ec2.delete_vpc, VpcId=v["VpcId"])
    assert error_code(e) == "InvalidVpcID.NotFound"


def test_delete_unknown_vpc(ec2):
    e = client_error(ec2.delete_vpc, VpcId=MISSING_VPC)
    assert error_code(e) == "InvalidVpcID.NotFound"
    assert http_status(e) == 400


def test_delete_malformed_vpc_id(ec2):
    e = client_error(ec2.delete_vpc, VpcId="vpc-123")
    assert error_code(e) == "InvalidVpcID.Malformed"
    assert http_status(e) == 400


def test_delete_vpc_dry_run(ec2):
    v = create(ec2)
    e = client_error(ec2.delete_vpc, VpcId=v["VpcId"], DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert http_status(e) == 412
    assert v["VpcId"] in vpc_ids(ec2.describe_vpcs())


def test_delete_vpc_dry_run_of_unknown_vpc(ec2):
    e = client_error(ec2.delete_vpc, VpcId=MISSING_VPC, DryRun=True)
    assert error_code(e) == "InvalidVpcID.NotFound"


def test_default_vpc_can_be_deleted_and_stays_deleted_until_reset(ec2, endpoint):
    import requests

    default = ec2.describe_vpcs()["Vpcs"][0]
    with pytest.raises(ClientError) as e:
        ec2.delete_vpc(VpcId=default["VpcId"])
    assert error_code(e.value) == "DependencyViolation", "its subnets and gateway first, as AWS"
    assert delete_default_vpc(ec2) == default["VpcId"]
    assert ec2.describe_vpcs()["Vpcs"] == []
    assert ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"] == []
    v = create(ec2)
    assert vpc_ids(ec2.describe_vpcs()) == [v["VpcId"]]
    assert requests.post(f"{endpoint}/_reservoir/reset", timeout=20).status_code == 200
    vpcs = ec2.describe_vpcs()["Vpcs"]
    assert len(vpcs) == 1 and vpcs[0]["IsDefault"] is True


# --- more filter semantics -------------------------------------------------------------------


def test_escaped_wildcards_match_literally(ec2):
    star = create(ec2, tags={"Name": "a*b"})["VpcId"]
    plain = create(ec2, "10.1.0.0/16", tags={"Name": "axb"})["VpcId"]
    assert ids_for(ec2, [{"Name": "tag:Name", "Values": ["a\\*b"]}]) == [star]
    assert ids_for(ec2, [{"Name": "tag:Name", "Values": ["a*b"]}]) == sorted([star, plain])
    assert ids_for(ec2, [{"Name": "tag:Name", "Values": ["A*B"]}]) == []


def test_duplicate_vpc_ids_are_listed_once(ec2):
    v = create(ec2)["VpcId"]
    assert vpc_ids(ec2.describe_vpcs(VpcIds=[v, v])) == [v]


def test_xml_special_characters_round_trip(ec2):
    value = "<&>\"' \u00e9\u4e2d"
    v = create(ec2, tags={"x": value})["VpcId"]
    assert ec2.describe_vpcs(VpcIds=[v])["Vpcs"][0]["Tags"] == [{"Key": "x", "Value": value}]
    assert ids_for(ec2, [{"Name": "tag:x", "Values": [value]}]) == [v]


# --- concurrency -------------------------------------------------------------------------------


def test_first_use_of_an_account_makes_one_default_vpc(client_factory):
    from concurrent.futures import ThreadPoolExecutor

    def describe(_):
        c = client_factory("ec2", key="222222222222", region="us-west-2")
        return tuple(vpc_ids(c.describe_vpcs()))

    with ThreadPoolExecutor(12) as pool:
        results = set(pool.map(describe, range(12)))
    assert len(results) == 1
    (ids,) = results
    assert len(ids) == 1
