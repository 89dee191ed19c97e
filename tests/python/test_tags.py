"""CreateTags, DeleteTags, DescribeTags."""

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, http_status

MISSING_VPC = "vpc-0123456789abcdef0"


def client_error(fn, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    return e.value


def new_vpc(ec2, cidr="10.0.0.0/16"):
    return ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]


def tags_of(ec2, resource_id):
    rows = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [resource_id]}])["Tags"]
    return {r["Key"]: r["Value"] for r in rows}


def vpc_tags(ec2, vpc_id):
    v = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    return {t["Key"]: t["Value"] for t in v.get("Tags", [])}


def test_create_and_describe(ec2):
    vpc = new_vpc(ec2)
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "web"}, {"Key": "env", "Value": "prod"}])
    rows = ec2.describe_tags()["Tags"]
    assert rows == [
        {"Key": "Name", "ResourceId": vpc, "ResourceType": "vpc", "Value": "web"},
        {"Key": "env", "ResourceId": vpc, "ResourceType": "vpc", "Value": "prod"},
    ]
    assert vpc_tags(ec2, vpc) == {"Name": "web", "env": "prod"}


def test_tags_on_several_resources_at_once(ec2):
    a, b = new_vpc(ec2), new_vpc(ec2, "10.1.0.0/16")
    ec2.create_tags(Resources=[a, b], Tags=[{"Key": "team", "Value": "core"}])
    assert tags_of(ec2, a) == {"team": "core"}
    assert tags_of(ec2, b) == {"team": "core"}


def test_default_vpc_and_its_dhcp_options_are_taggable(ec2):
    default = ec2.describe_vpcs()["Vpcs"][0]
    dopt = default["DhcpOptionsId"]
    ec2.create_tags(Resources=[default["VpcId"], dopt], Tags=[{"Key": "k", "Value": "v"}])
    rows = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [dopt]}])["Tags"]
    assert rows == [{"Key": "k", "ResourceId": dopt, "ResourceType": "dhcp-options", "Value": "v"}]
    assert vpc_tags(ec2, default["VpcId"]) == {"k": "v"}
    rt = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["dhcp-options"]}])["Tags"]
    assert [r["ResourceId"] for r in rt] == [dopt]


def test_overwrite_value(ec2):
    vpc = new_vpc(ec2)
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "one"}])
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "Name", "Value": "two"}])
    assert tags_of(ec2, vpc) == {"Name": "two"}


def test_tag_without_value_is_empty_string(ec2):
    vpc = new_vpc(ec2)
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "flag"}])
    assert tags_of(ec2, vpc) == {"flag": ""}
    assert vpc_tags(ec2, vpc) == {"flag": ""}


def test_unknown_vpc(ec2):
    e = client_error(ec2.create_tags, Resources=[MISSING_VPC], Tags=[{"Key": "a", "Value": "b"}])
    assert error_code(e) == "InvalidVpcID.NotFound"
    assert http_status(e) == 400


def test_malformed_resource_id(ec2):
    e = client_error(ec2.create_tags, Resources=["foo-123"], Tags=[{"Key": "a", "Value": "b"}])
    assert error_code(e) == "InvalidID"
    assert http_status(e) == 400


def test_all_or_nothing(ec2):
    vpc = new_vpc(ec2)
    e = client_error(
        ec2.create_tags, Resources=[vpc, MISSING_VPC], Tags=[{"Key": "a", "Value": "b"}]
    )
    assert error_code(e) == "InvalidVpcID.NotFound"
    assert tags_of(ec2, vpc) == {}
    assert "Tags" not in ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]


def test_other_accounts_resources_are_not_found(ec2, ec2_other):
    vpc = new_vpc(ec2)
    e = client_error(ec2_other.create_tags, Resources=[vpc], Tags=[{"Key": "a", "Value": "b"}])
    assert error_code(e) == "InvalidVpcID.NotFound"
    assert tags_of(ec2, vpc) == {}


@pytest.mark.parametrize("key", ["aws:name", "aws:"])
def test_aws_prefix_is_reserved(ec2, key):
    vpc = new_vpc(ec2)
    e = client_error(ec2.create_tags, Resources=[vpc], Tags=[{"Key": key, "Value": "x"}])
    assert error_code(e) == "InvalidParameterValue"
    assert tags_of(ec2, vpc) == {}


def test_fifty_tags_then_limit(ec2):
    vpc = new_vpc(ec2)
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert len(tags_of(ec2, vpc)) == 50
    # Overwriting an existing key does not count as a new tag.
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "k0", "Value": "new"}])
    e = client_error(ec2.create_tags, Resources=[vpc], Tags=[{"Key": "k50", "Value": "v"}])
    assert error_code(e) == "TagLimitExceeded"
    assert len(tags_of(ec2, vpc)) == 50


def test_more_than_fifty_in_one_call(ec2):
    vpc = new_vpc(ec2)
    e = client_error(
        ec2.create_tags, Resources=[vpc], Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(51)]
    )
    assert error_code(e) == "TagLimitExceeded"
    assert tags_of(ec2, vpc) == {}


def test_tag_key_too_long(ec2):
    vpc = new_vpc(ec2)
    e = client_error(ec2.create_tags, Resources=[vpc], Tags=[{"Key": "k" * 129, "Value": "v"}])
    assert error_code(e) == "InvalidParameterValue"
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": "k" * 128, "Value": "v" * 256}])
    assert tags_of(ec2, vpc) == {"k" * 128: "v" * 256}


def test_create_tags_dry_run(ec2):
    vpc = new_vpc(ec2)
    e = client_error(ec2.create_tags, Resources=[vpc], Tags=[{"Key": "a", "Value": "b"}], DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert http_status(e) == 412
    assert tags_of(ec2, vpc) == {}


# --- DeleteTags --------------------------------------------------------------------------


@pytest.fixture
def tagged(ec2):
    vpc = new_vpc(ec2)
    ec2.create_tags(
        Resources=[vpc],
        Tags=[
            {"Key": "a", "Value": "1"},
            {"Key": "b", "Value": "2"},
            {"Key": "c", "Value": ""},
            {"Key": "d", "Value": "4"},
        ],
    )
    return vpc


def test_delete_all_tags(ec2, tagged):
    ec2.delete_tags(Resources=[tagged])
    assert tags_of(ec2, tagged) == {}
    assert "Tags" not in ec2.describe_vpcs(VpcIds=[tagged])["Vpcs"][0]


def test_delete_by_key_regardless_of_value(ec2, tagged):
    ec2.delete_tags(Resources=[tagged], Tags=[{"Key": "a"}])
    assert tags_of(ec2, tagged) == {"b": "2", "c": "", "d": "4"}


def test_delete_with_value_only_if_it_matches(ec2, tagged):
    ec2.delete_tags(Resources=[tagged], Tags=[{"Key": "a", "Value": "nope"}, {"Key": "b", "Value": "2"}])
    assert tags_of(ec2, tagged) == {"a": "1", "c": "", "d": "4"}


def test_delete_with_empty_value_only_deletes_empty_valued(ec2, tagged):
    ec2.delete_tags(Resources=[tagged], Tags=[{"Key": "a", "Value": ""}, {"Key": "c", "Value": ""}])
    assert tags_of(ec2, tagged) == {"a": "1", "b": "2", "d": "4"}


def test_delete_missing_key_is_fine(ec2, tagged):
    ec2.delete_tags(Resources=[tagged], Tags=[{"Key": "zzz"}])
    assert len(tags_of(ec2, tagged)) == 4


def test_delete_tags_unknown_vpc(ec2):
    e = client_error(ec2.delete_tags, Resources=[MISSING_VPC], Tags=[{"Key": "a"}])
    assert error_code(e) == "InvalidVpcID.NotFound"


def test_delete_tags_dry_run(ec2, tagged):
    e = client_error(ec2.delete_tags, Resources=[tagged], DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert len(tags_of(ec2, tagged)) == 4


# --- DescribeTags ------------------------------------------------------------------------


@pytest.fixture
def two(ec2):
    a, b = new_vpc(ec2), new_vpc(ec2, "10.1.0.0/16")
    ec2.create_tags(Resources=[a], Tags=[{"Key": "Name", "Value": "alpha"}, {"Key": "env", "Value": "prod"}])
    ec2.create_tags(Resources=[b], Tags=[{"Key": "Name", "Value": "beta"}, {"Key": "owner", "Value": "ops"}])
    return a, b


def rows(ec2, filters=None):
    kw = {"Filters": filters} if filters is not None else {}
    return [(r["ResourceId"], r["Key"], r["Value"]) for r in ec2.describe_tags(**kw)["Tags"]]


def test_describe_tags_order(ec2, two):
    a, b = two
    got = rows(ec2)
    assert got == sorted(got)
    assert sorted(got) == sorted(
        [(a, "Name", "alpha"), (a, "env", "prod"), (b, "Name", "beta"), (b, "owner", "ops")]
    )


@pytest.mark.parametrize(
    "filters,expected",
    [
        ([{"Name": "key", "Values": ["Name"]}], [("a", "Name", "alpha"), ("b", "Name", "beta")]),
        ([{"Name": "key", "Values": ["env", "owner"]}], [("a", "env", "prod"), ("b", "owner", "ops")]),
        ([{"Name": "value", "Values": ["al*"]}], [("a", "Name", "alpha")]),
        ([{"Name": "value", "Values": ["?eta"]}], [("b", "Name", "beta")]),
        ([{"Name": "value", "Values": ["p*", "o*"]}], [("a", "env", "prod"), ("b", "owner", "ops")]),
        ([{"Name": "tag:Name", "Values": ["beta"]}], [("b", "Name", "beta"), ("b", "owner", "ops")]),
        ([{"Name": "resource-type", "Values": ["vpc"]}],
         [("a", "Name", "alpha"), ("a", "env", "prod"), ("b", "Name", "beta"), ("b", "owner", "ops")]),
        ([{"Name": "resource-type", "Values": ["subnet"]}], []),
        ([{"Name": "key", "Values": ["Name"]}, {"Name": "value", "Values": ["b*"]}], [("b", "Name", "beta")]),
    ],
)
def test_describe_tags_filters(ec2, two, filters, expected):
    ids = {"a": two[0], "b": two[1]}
    want = sorted((ids[r], k, v) for r, k, v in expected)
    assert sorted(rows(ec2, filters)) == want


def test_describe_tags_resource_id_filter(ec2, two):
    a, b = two
    assert rows(ec2, [{"Name": "resource-id", "Values": [b]}]) == [(b, "Name", "beta"), (b, "owner", "ops")]


def test_describe_tags_unknown_filter(ec2):
    e = client_error(ec2.describe_tags, Filters=[{"Name": "colour", "Values": ["x"]}])
    assert error_code(e) == "InvalidParameterValue"


def test_describe_tags_sees_only_own_account(ec2, ec2_other, two):
    assert ec2_other.describe_tags()["Tags"] == []


@pytest.mark.parametrize("n", [4, 1001])
def test_describe_tags_max_results_range(ec2, n):
    e = client_error(ec2.describe_tags, MaxResults=n)
    assert error_code(e) == "InvalidParameterValue"


def test_describe_tags_paging(ec2):
    vpc = new_vpc(ec2)
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": f"k{i:02d}", "Value": str(i)} for i in range(12)])
    seen = []
    token = None
    pages = 0
    while True:
        kw = {"MaxResults": 5}
        if token:
            kw["NextToken"] = token
        resp = ec2.describe_tags(**kw)
        pages += 1
        assert len(resp["Tags"]) <= 5
        seen.extend(r["Key"] for r in resp["Tags"])
        token = resp.get("NextToken")
        if not token:
            break
        assert pages < 10
    assert pages == 3
    assert seen == [f"k{i:02d}" for i in range(12)]


def test_describe_tags_paginator(ec2):
    vpcs = [new_vpc(ec2, f"10.{i}.0.0/16") for i in range(3)]
    for v in vpcs:
        ec2.create_tags(Resources=[v], Tags=[{"Key": f"t{i}", "Value": "x"} for i in range(4)])
    pages = list(ec2.get_paginator("describe_tags").paginate(PaginationConfig={"PageSize": 5}))
    got = [(r["ResourceId"], r["Key"]) for p in pages for r in p["Tags"]]
    assert len(pages) == 3
    assert len(got) == 12 == len(set(got))
    assert got == sorted(got)


def test_describe_tags_bad_token(ec2):
    e = client_error(ec2.describe_tags, MaxResults=5, NextToken="garbage")
    assert error_code(e) == "InvalidNextToken"


def test_create_tags_requires_resources_and_tags(ec2):
    vpc = new_vpc(ec2)
    e = client_error(ec2.create_tags, Resources=[], Tags=[{"Key": "a", "Value": "b"}])
    assert error_code(e) == "MissingParameter"
    e = client_error(ec2.create_tags, Resources=[vpc], Tags=[])
    assert error_code(e) == "MissingParameter"


def test_special_characters_in_tags(ec2):
    vpc = new_vpc(ec2)
    key, value = "k<&>\"'", "v \u00e9 <x/> & \u4e2d"
    ec2.create_tags(Resources=[vpc], Tags=[{"Key": key, "Value": value}])
    assert tags_of(ec2, vpc) == {key: value}
    assert rows(ec2, [{"Name": "value", "Values": [value]}]) == [(vpc, key, value)]
