"""Subnets: CreateSubnet, DescribeSubnets, DeleteSubnet, ModifySubnetAttribute,
Associate/DisassociateSubnetCidrBlock, CreateDefaultSubnet, CreateDefaultVpc; the
default VPC's default subnets."""

import ipaddress
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, DEFAULT_ACCOUNT, REGION, SECRET_KEY, error_code, http_status
from ipam_helpers import allocations, create_pool, ipam, loose, scope_id  # noqa: F401 (fixtures)

SUBNET_ID = re.compile(r"^subnet-[0-9a-f]{17}$")
ASSOC_ID = re.compile(r"^subnet-cidr-assoc-[0-9a-f]{17}$")
MISSING_SUBNET = "subnet-0123456789abcdef0"
MISSING_VPC = "vpc-0123456789abcdef0"


def client_error(fn, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    return e.value


def make_vpc(ec2, cidr="10.0.0.0/16", **kw):
    return ec2.create_vpc(CidrBlock=cidr, **kw)["Vpc"]


def make_subnet(ec2, vpc_id, cidr="10.0.0.0/24", tags=None, **kw):
    if tags:
        kw["TagSpecifications"] = [
            {"ResourceType": "subnet", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    return ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, **kw)["Subnet"]


def describe(ec2, *ids, **kw):
    if ids:
        kw["SubnetIds"] = list(ids)
    return ec2.describe_subnets(**kw)["Subnets"]


def zones(ec2):
    """The region's Availability Zones (name, id), in order."""
    azs = ec2.describe_availability_zones(
        Filters=[{"Name": "zone-type", "Values": ["availability-zone"]}]
    )["AvailabilityZones"]
    return [(z["ZoneName"], z["ZoneId"]) for z in azs]


def default_vpc(ec2):
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    return vpcs[0] if vpcs else None


def default_subnets(ec2, vpc_id):
    return describe(ec2, Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])


@pytest.fixture
def vpc(ec2):
    return make_vpc(ec2)


@pytest.fixture
def vpc_id(vpc):
    return vpc["VpcId"]


def ipv6_vpc(ec2, scope_id, cidr="10.0.0.0/16"):
    """A VPC with an IPv6 /56 from an IPAM pool."""
    v6 = create_pool(ec2, scope_id, family="ipv6", cidrs=["fd00:1::/48"], Locale=REGION)
    return ec2.create_vpc(
        CidrBlock=cidr, Ipv6IpamPoolId=v6["IpamPoolId"], Ipv6NetmaskLength=56
    )["Vpc"]


def ipv6_block(v, n=0):
    """The nth /64 of the VPC's /56."""
    net = ipaddress.ip_network(v["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
    return str(ipaddress.ip_network((int(net.network_address) + (n << 64), 64)))


# --- CreateSubnet ------------------------------------------------------------------------------


def test_create_subnet_response(ec2, vpc_id):
    s = make_subnet(ec2, vpc_id, "10.0.1.0/24", AvailabilityZone="us-east-1b")
    assert SUBNET_ID.match(s["SubnetId"])
    assert s["VpcId"] == vpc_id
    assert s["CidrBlock"] == "10.0.1.0/24"
    assert s["AvailabilityZone"] == "us-east-1b"
    assert s["AvailabilityZoneId"] == dict(zones(ec2))["us-east-1b"]
    assert s["State"] == "available"
    assert s["AvailableIpAddressCount"] == 251
    assert s["DefaultForAz"] is False
    assert s["MapPublicIpOnLaunch"] is False
    assert s["AssignIpv6AddressOnCreation"] is False
    assert s["Ipv6Native"] is False
    assert s["EnableDns64"] is False
    assert s["OwnerId"] == DEFAULT_ACCOUNT
    assert s["SubnetArn"] == f"arn:aws:ec2:{REGION}:{DEFAULT_ACCOUNT}:subnet/{s['SubnetId']}"
    assert s["PrivateDnsNameOptionsOnLaunch"] == {
        "HostnameType": "ip-name",
        "EnableResourceNameDnsARecord": False,
        "EnableResourceNameDnsAAAARecord": False,
    }
    assert "Tags" not in s
    assert describe(ec2, s["SubnetId"]) == [s]


@pytest.mark.parametrize("cidr,available", [("10.0.0.0/28", 11), ("10.0.0.0/24", 251), ("10.0.0.0/16", 65531)])
def test_available_ip_address_count(ec2, vpc_id, cidr, available):
    s = make_subnet(ec2, vpc_id, cidr)
    assert s["AvailableIpAddressCount"] == available
    assert describe(ec2, s["SubnetId"])[0]["AvailableIpAddressCount"] == available


def test_host_bits_are_cleared(ec2, vpc_id):
    assert make_subnet(ec2, vpc_id, "10.0.3.77/24")["CidrBlock"] == "10.0.3.0/24"


@pytest.mark.parametrize(
    "cidr",
    ["10.1.0.0/24", "10.0.0.0/15", "10.0.0.0/29", "10.0.0.0/32", "192.168.0.0/24", "0.0.0.0/0"],
)
def test_block_outside_the_vpc_or_of_a_wrong_size(ec2, vpc_id, cidr):
    e = client_error(make_subnet, ec2, vpc_id, cidr)
    assert error_code(e) == "InvalidSubnet.Range"
    assert http_status(e) == 400
    assert describe(ec2, Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]) == []


@pytest.mark.parametrize("cidr", ["10.0.0.0/24", "10.0.0.128/25", "10.0.0.0/20", "10.0.0.0/16"])
def test_block_overlapping_a_sibling(ec2, vpc_id, cidr):
    make_subnet(ec2, vpc_id, "10.0.0.0/24")
    e = client_error(make_subnet, ec2, vpc_id, cidr)
    assert error_code(e) == "InvalidSubnet.Conflict"
    assert len(describe(ec2, Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])) == 1


def test_same_block_in_two_vpcs(ec2, vpc_id):
    other = make_vpc(ec2)["VpcId"]
    make_subnet(ec2, vpc_id, "10.0.0.0/24")
    make_subnet(ec2, other, "10.0.0.0/24")


def test_deleted_block_can_be_used_again(ec2, vpc_id):
    s = make_subnet(ec2, vpc_id, "10.0.0.0/24")
    ec2.delete_subnet(SubnetId=s["SubnetId"])
    make_subnet(ec2, vpc_id, "10.0.0.0/25")
    make_subnet(ec2, vpc_id, "10.0.0.128/25")


def test_subnet_in_a_secondary_block(ec2, vpc_id):
    ec2.associate_vpc_cidr_block(VpcId=vpc_id, CidrBlock="10.1.0.0/16")
    assert make_subnet(ec2, vpc_id, "10.1.2.0/24")["CidrBlock"] == "10.1.2.0/24"
    e = client_error(make_subnet, ec2, vpc_id, "10.0.0.0/15")
    assert error_code(e) == "InvalidSubnet.Range", "a block may not straddle two VPC blocks"


@pytest.mark.parametrize("cidr", ["10.0.0.0", "10.0.0.0/33", "10.0.0.256/24", "abc", "10.0.0.0/024"])
def test_malformed_cidr(ec2, vpc_id, cidr):
    e = client_error(make_subnet, ec2, vpc_id, cidr)
    assert error_code(e) == "InvalidParameterValue"


def test_missing_cidr(ec2, vpc_id):
    e = client_error(ec2.create_subnet, VpcId=vpc_id)
    assert error_code(e) == "MissingParameter"


def test_unknown_and_malformed_vpc(ec2):
    e = client_error(make_subnet, ec2, MISSING_VPC)
    assert error_code(e) == "InvalidVpcID.NotFound"
    e = client_error(make_subnet, ec2, "vpc-xyz")
    assert error_code(e) == "InvalidVpcID.Malformed"


def test_vpc_of_another_account_is_not_found(ec2, ec2_other, vpc_id):
    e = client_error(make_subnet, ec2_other, vpc_id)
    assert error_code(e) == "InvalidVpcID.NotFound"


def test_zone_by_id(ec2, vpc_id):
    name, zid = zones(ec2)[2]
    s = make_subnet(ec2, vpc_id, AvailabilityZoneId=zid)
    assert (s["AvailabilityZone"], s["AvailabilityZoneId"]) == (name, zid)


def test_zone_by_name_and_id_agreeing(ec2, vpc_id):
    name, zid = zones(ec2)[1]
    s = make_subnet(ec2, vpc_id, AvailabilityZone=name, AvailabilityZoneId=zid)
    assert (s["AvailabilityZone"], s["AvailabilityZoneId"]) == (name, zid)


def test_zone_by_name_and_id_disagreeing(ec2, vpc_id):
    (a, _), (_, b) = zones(ec2)[:2]
    e = client_error(make_subnet, ec2, vpc_id, AvailabilityZone=a, AvailabilityZoneId=b)
    assert error_code(e) == "InvalidParameterCombination"


@pytest.mark.parametrize("kw", [{"AvailabilityZone": "us-east-1z"}, {"AvailabilityZoneId": "use1-az99"}, {"AvailabilityZone": "eu-west-1a"}])
def test_unknown_zone(ec2, vpc_id, kw):
    e = client_error(make_subnet, ec2, vpc_id, **kw)
    assert error_code(e) == "InvalidParameterValue"
    assert "us-east-1a" in str(e) or "use1-az1" in str(e), "the message lists the zones"


def test_zone_chosen_when_none_is_given(ec2, vpc_id):
    """Reservoir's choice: the Availability Zones round-robin by the VPC's subnet count."""
    azs = zones(ec2)
    got = [make_subnet(ec2, vpc_id, f"10.0.{i}.0/24")["AvailabilityZone"] for i in range(len(azs) + 1)]
    assert got == [name for name, _ in azs] + [azs[0][0]]


def test_tags(ec2, vpc_id):
    s = make_subnet(ec2, vpc_id, tags={"Name": "web", "tier": "public"})
    assert {t["Key"]: t["Value"] for t in s["Tags"]} == {"Name": "web", "tier": "public"}
    d = describe(ec2, s["SubnetId"])[0]
    assert {t["Key"]: t["Value"] for t in d["Tags"]} == {"Name": "web", "tier": "public"}
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [s["SubnetId"]]}])["Tags"]
    assert {t["ResourceType"] for t in tags} == {"subnet"}


def test_tag_specification_for_another_resource_type(ec2, vpc_id):
    e = client_error(
        ec2.create_subnet,
        VpcId=vpc_id,
        CidrBlock="10.0.0.0/24",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "a", "Value": "b"}]}],
    )
    assert error_code(e) == "InvalidParameterValue"
    assert describe(ec2, Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]) == []


def test_create_dry_run(ec2, vpc_id):
    e = client_error(make_subnet, ec2, vpc_id, DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert http_status(e) == 412
    assert describe(ec2, Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]) == []
    e = client_error(make_subnet, ec2, vpc_id, "10.9.0.0/24", DryRun=True)
    assert error_code(e) == "InvalidSubnet.Range", "a dry run reports the real error"


def test_outpost_arn_is_not_implemented(ec2, vpc_id):
    e = client_error(
        make_subnet, ec2, vpc_id, OutpostArn="arn:aws:outposts:us-east-1:123456789012:outpost/op-1"
    )
    assert error_code(e) == "NotImplemented"


def test_quota_off_by_default(ec2, vpc_id):
    for i in range(12):
        make_subnet(ec2, vpc_id, f"10.0.{i}.0/28")


# --- IPv6 ---------------------------------------------------------------------------------------


def test_dual_stack_subnet(ec2, scope_id):
    v = ipv6_vpc(ec2, scope_id)
    block = ipv6_block(v, 3)
    s = make_subnet(ec2, v["VpcId"], Ipv6CidrBlock=block)
    (a,) = s["Ipv6CidrBlockAssociationSet"]
    assert a["Ipv6CidrBlock"] == block
    assert ASSOC_ID.match(a["AssociationId"])
    assert a["Ipv6CidrBlockState"]["State"] == "associated"
    e = client_error(make_subnet, ec2, v["VpcId"], "10.0.1.0/24", Ipv6CidrBlock=block)
    assert error_code(e) == "InvalidSubnet.Conflict"
    e = client_error(make_subnet, ec2, v["VpcId"], "10.0.1.0/24", Ipv6CidrBlock="fd00:2::/64")
    assert error_code(e) == "InvalidSubnet.Range"
    e = client_error(make_subnet, ec2, v["VpcId"], "10.0.1.0/24", Ipv6CidrBlock=block.replace("/64", "/60"))
    assert error_code(e) == "InvalidSubnet.Range"


def test_ipv6_block_in_a_vpc_without_ipv6(ec2, vpc_id):
    e = client_error(make_subnet, ec2, vpc_id, Ipv6CidrBlock="fd00:1::/64")
    assert error_code(e) == "InvalidParameter"


def test_ipv6_only_subnet(ec2, scope_id):
    v = ipv6_vpc(ec2, scope_id)
    block = ipv6_block(v, 0)
    e = client_error(ec2.create_subnet, VpcId=v["VpcId"], Ipv6Native=True)
    assert error_code(e) == "MissingParameter"
    e = client_error(make_subnet, ec2, v["VpcId"], Ipv6Native=True, Ipv6CidrBlock=block)
    assert error_code(e) == "InvalidParameterCombination"
    s = ec2.create_subnet(VpcId=v["VpcId"], Ipv6Native=True, Ipv6CidrBlock=block)["Subnet"]
    assert "CidrBlock" not in s
    assert s["Ipv6Native"] is True
    assert s["AvailableIpAddressCount"] == 0
    assert s["AssignIpv6AddressOnCreation"] is True
    assert s["PrivateDnsNameOptionsOnLaunch"]["HostnameType"] == "resource-name"
    assert describe(ec2, Filters=[{"Name": "ipv6-native", "Values": ["true"]}]) == [s]
    ec2.delete_subnet(SubnetId=s["SubnetId"])


def test_associate_and_disassociate_subnet_cidr_block(ec2, scope_id):
    v = ipv6_vpc(ec2, scope_id)
    s = make_subnet(ec2, v["VpcId"])
    block = ipv6_block(v, 1)
    r = ec2.associate_subnet_cidr_block(SubnetId=s["SubnetId"], Ipv6CidrBlock=block)
    assert r["SubnetId"] == s["SubnetId"]
    a = r["Ipv6CidrBlockAssociation"]
    assert a["Ipv6CidrBlock"] == block and ASSOC_ID.match(a["AssociationId"])
    assert a["Ipv6CidrBlockState"]["State"] == "associating"
    d = describe(ec2, s["SubnetId"])[0]
    assert [x["Ipv6CidrBlock"] for x in d["Ipv6CidrBlockAssociationSet"]] == [block]
    assert d["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlockState"]["State"] == "associated"
    e = client_error(ec2.associate_subnet_cidr_block, SubnetId=s["SubnetId"], Ipv6CidrBlock=ipv6_block(v, 2))
    assert error_code(e) == "InvalidParameterValue", "one IPv6 block per subnet"
    other = make_subnet(ec2, v["VpcId"], "10.0.1.0/24")
    e = client_error(ec2.associate_subnet_cidr_block, SubnetId=other["SubnetId"], Ipv6CidrBlock=block)
    assert error_code(e) == "InvalidSubnet.Conflict"
    r = ec2.disassociate_subnet_cidr_block(AssociationId=a["AssociationId"])
    assert r["Ipv6CidrBlockAssociation"]["Ipv6CidrBlockState"]["State"] == "disassociating"
    assert describe(ec2, s["SubnetId"])[0]["Ipv6CidrBlockAssociationSet"] == []
    ec2.associate_subnet_cidr_block(SubnetId=other["SubnetId"], Ipv6CidrBlock=block)
    e = client_error(ec2.disassociate_subnet_cidr_block, AssociationId=a["AssociationId"])
    assert error_code(e) == "InvalidAssociationID.NotFound"
    e = client_error(ec2.disassociate_subnet_cidr_block, AssociationId="subnet-cidr-assoc-xyz")
    assert error_code(e) == "InvalidParameterValue"
    e = client_error(ec2.associate_subnet_cidr_block, SubnetId=MISSING_SUBNET, Ipv6CidrBlock=block)
    assert error_code(e) == "InvalidSubnetID.NotFound"


# --- IPAM pools -------------------------------------------------------------------------------


def test_block_from_an_ipam_pool(ec2, scope_id):
    pool = create_pool(ec2, scope_id, cidrs=["10.0.0.0/16"], Locale=REGION)["IpamPoolId"]
    v = make_vpc(ec2, "10.0.0.0/16")["VpcId"]
    given = make_subnet(ec2, v, "10.0.0.0/24")
    s = ec2.create_subnet(VpcId=v, Ipv4IpamPoolId=pool, Ipv4NetmaskLength=24)["Subnet"]
    assert s["CidrBlock"] == "10.0.1.0/24", "the pool's lowest block clear of the sibling"
    rows = allocations(ec2, pool)
    assert [(r["ResourceType"], r["ResourceId"], r["Cidr"]) for r in rows] == [
        ("subnet", s["SubnetId"], "10.0.1.0/24")
    ]
    ec2.delete_subnet(SubnetId=s["SubnetId"])
    assert allocations(ec2, pool) == [], "freed with the subnet"
    e = client_error(ec2.create_subnet, VpcId=v, Ipv4IpamPoolId=pool, Ipv4NetmaskLength=30)
    assert error_code(e) == "InvalidParameterValue"
    e = client_error(ec2.create_subnet, VpcId=v, Ipv4IpamPoolId="ipam-pool-0123456789abcdef0", Ipv4NetmaskLength=24)
    assert error_code(e) == "InvalidIpamPoolId.NotFound"
    e = client_error(ec2.create_subnet, VpcId=v, CidrBlock="10.0.5.0/24", Ipv4NetmaskLength=24)
    assert error_code(e) == "InvalidParameterCombination"
    assert given["SubnetId"] in [x["SubnetId"] for x in describe(ec2)]


# --- DescribeSubnets ----------------------------------------------------------------------------


def test_describe_unknown_ids(ec2, vpc_id):
    s = make_subnet(ec2, vpc_id)["SubnetId"]
    other = "subnet-0123456789abcdef1"
    e = client_error(describe, ec2, s, MISSING_SUBNET, other)
    assert error_code(e) == "InvalidSubnetID.NotFound"
    assert MISSING_SUBNET in str(e) and other in str(e) and s not in str(e)


@pytest.mark.parametrize("bad", ["subnet-xyz", "sg-0123456789abcdef0", "subnet-0123"])
def test_describe_malformed_id(ec2, bad):
    e = client_error(describe, ec2, bad)
    assert error_code(e) == "InvalidSubnetID.Malformed"


def test_describe_dry_run(ec2):
    e = client_error(ec2.describe_subnets, DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert http_status(e) == 412


@pytest.fixture
def fleet(ec2, scope_id):
    """Three subnets with different attributes, in a VPC of their own."""
    v = ipv6_vpc(ec2, scope_id, "10.20.0.0/16")
    azs = zones(ec2)
    a = make_subnet(ec2, v["VpcId"], "10.20.0.0/24", tags={"Name": "a", "env": "prod"}, AvailabilityZone=azs[0][0])
    b = make_subnet(
        ec2,
        v["VpcId"],
        "10.20.1.0/28",
        tags={"Name": "b"},
        AvailabilityZone=azs[1][0],
        Ipv6CidrBlock=ipv6_block(v, 0),
    )
    c = make_subnet(ec2, v["VpcId"], "10.20.2.0/24", AvailabilityZone=azs[1][0])
    ec2.modify_subnet_attribute(SubnetId=c["SubnetId"], MapPublicIpOnLaunch={"Value": True})
    ec2.modify_subnet_attribute(SubnetId=c["SubnetId"], EnableDns64={"Value": True})
    ec2.modify_subnet_attribute(SubnetId=c["SubnetId"], EnableLniAtDeviceIndex=1)
    ec2.modify_subnet_attribute(SubnetId=c["SubnetId"], PrivateDnsHostnameTypeOnLaunch="resource-name")
    ec2.modify_subnet_attribute(SubnetId=c["SubnetId"], EnableResourceNameDnsARecordOnLaunch={"Value": True})
    ec2.modify_subnet_attribute(SubnetId=b["SubnetId"], EnableResourceNameDnsAAAARecordOnLaunch={"Value": True})
    return {"vpc": v, "a": a, "b": b, "c": c, "azs": azs}


def found(ec2, fleet, name, *values):
    """The fleet's subnets (by letter) a filter keeps."""
    got = describe(
        ec2,
        Filters=[
            {"Name": "vpc-id", "Values": [fleet["vpc"]["VpcId"]]},
            {"Name": name, "Values": list(values)},
        ],
    )
    letters = {fleet[k]["SubnetId"]: k for k in "abc"}
    return "".join(sorted(letters[s["SubnetId"]] for s in got))


FILTER_CASES = [
    ("availability-zone", lambda f: [f["azs"][1][0]], "bc"),
    ("availabilityZone", lambda f: [f["azs"][0][0]], "a"),
    ("availability-zone-id", lambda f: [f["azs"][0][1]], "a"),
    ("availabilityZoneId", lambda f: [f["azs"][1][1]], "bc"),
    ("available-ip-address-count", lambda f: ["11"], "b"),
    ("available-ip-address-count", lambda f: ["251"], "ac"),
    ("cidr-block", lambda f: ["10.20.1.0/28"], "b"),
    ("cidr", lambda f: ["10.20.0.0/24", "10.20.2.0/24"], "ac"),
    ("cidrBlock", lambda f: ["10.20.*"], "abc"),
    ("customer-owned-ipv4-pool", lambda f: ["ipv4pool-coip-0123456789abcdef0"], ""),
    ("default-for-az", lambda f: ["false"], "abc"),
    ("defaultForAz", lambda f: ["true"], ""),
    ("enable-dns64", lambda f: ["true"], "c"),
    ("enable-lni-at-device-index", lambda f: ["1"], "c"),
    ("ipv6-cidr-block-association.ipv6-cidr-block", lambda f: [ipv6_block(f["vpc"], 0)], "b"),
    (
        "ipv6-cidr-block-association.association-id",
        lambda f: [f["b"]["Ipv6CidrBlockAssociationSet"][0]["AssociationId"]],
        "b",
    ),
    ("ipv6-cidr-block-association.state", lambda f: ["associated"], "b"),
    ("ipv6-native", lambda f: ["false"], "abc"),
    ("map-customer-owned-ip-on-launch", lambda f: ["false"], "abc"),
    ("map-public-ip-on-launch", lambda f: ["true"], "c"),
    ("outpost-arn", lambda f: ["*"], ""),
    ("owner-id", lambda f: [DEFAULT_ACCOUNT], "abc"),
    ("private-dns-name-options-on-launch.hostname-type", lambda f: ["resource-name"], "c"),
    ("private-dns-name-options-on-launch.enable-resource-name-dns-a-record", lambda f: ["true"], "c"),
    ("private-dns-name-options-on-launch.enable-resource-name-dns-aaaa-record", lambda f: ["true"], "b"),
    ("state", lambda f: ["available"], "abc"),
    ("subnet-arn", lambda f: [f"arn:aws:ec2:{REGION}:{DEFAULT_ACCOUNT}:subnet/{f['a']['SubnetId']}"], "a"),
    ("subnet-id", lambda f: [f["a"]["SubnetId"], f["c"]["SubnetId"]], "ac"),
    ("tag:Name", lambda f: ["b"], "b"),
    ("tag:env", lambda f: ["prod"], "a"),
    ("tag-key", lambda f: ["Name"], "ab"),
    ("tag-value", lambda f: ["prod", "b"], "ab"),
    ("vpc-id", lambda f: [f["vpc"]["VpcId"]], "abc"),
]


@pytest.mark.parametrize("name,values,expected", FILTER_CASES, ids=[f"{c[0]}={c[2]}" for c in FILTER_CASES])
def test_filter(ec2, fleet, name, values, expected):
    assert found(ec2, fleet, name, *values(fleet)) == expected


def test_filters_and_ids_combine(ec2, fleet):
    got = describe(
        ec2,
        fleet["a"]["SubnetId"],
        fleet["b"]["SubnetId"],
        Filters=[{"Name": "tag:Name", "Values": ["b"]}],
    )
    assert [s["SubnetId"] for s in got] == [fleet["b"]["SubnetId"]]


@pytest.mark.parametrize("name", ["cidr-blocks", "tag", "subnet-ids", "vpcId"])
def test_unknown_filter_name(ec2, name):
    e = client_error(ec2.describe_subnets, Filters=[{"Name": name, "Values": ["x"]}])
    assert error_code(e) == "InvalidParameterValue"


def test_max_results_pages(ec2, vpc_id):
    made = [make_subnet(ec2, vpc_id, f"10.0.{i}.0/24")["SubnetId"] for i in range(7)]
    filters = [{"Name": "vpc-id", "Values": [vpc_id]}]
    first = ec2.describe_subnets(Filters=filters, MaxResults=5)
    assert [s["SubnetId"] for s in first["Subnets"]] == made[:5]
    second = ec2.describe_subnets(Filters=filters, MaxResults=5, NextToken=first["NextToken"])
    assert [s["SubnetId"] for s in second["Subnets"]] == made[5:]
    assert "NextToken" not in second
    pages = ec2.get_paginator("describe_subnets").paginate(Filters=filters, PaginationConfig={"PageSize": 5})
    assert [s["SubnetId"] for p in pages for s in p["Subnets"]] == made


@pytest.mark.parametrize("n", [4, 1001, 0])
def test_max_results_out_of_range(loose, n):
    e = client_error(loose.describe_subnets, MaxResults=n)
    assert error_code(e) == "InvalidParameterValue"


def test_garbage_next_token(ec2):
    e = client_error(ec2.describe_subnets, MaxResults=5, NextToken="garbage")
    assert error_code(e) in ("InvalidNextToken", "InvalidPaginationToken")


def test_accounts_do_not_see_each_others_subnets(ec2, ec2_other, vpc_id):
    s = make_subnet(ec2, vpc_id)["SubnetId"]
    assert s not in [x["SubnetId"] for x in describe(ec2_other)]
    e = client_error(describe, ec2_other, s)
    assert error_code(e) == "InvalidSubnetID.NotFound"
    e = client_error(ec2_other.delete_subnet, SubnetId=s)
    assert error_code(e) == "InvalidSubnetID.NotFound"


# --- DeleteSubnet ----------------------------------------------------------------------------------


def test_delete_subnet(ec2, vpc_id):
    s = make_subnet(ec2, vpc_id)["SubnetId"]
    e = client_error(ec2.delete_subnet, SubnetId=s, DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert describe(ec2, s)
    ec2.delete_subnet(SubnetId=s)
    e = client_error(describe, ec2, s)
    assert error_code(e) == "InvalidSubnetID.NotFound"
    e = client_error(ec2.delete_subnet, SubnetId=s)
    assert error_code(e) == "InvalidSubnetID.NotFound"
    e = client_error(ec2.delete_subnet, SubnetId="subnet-1")
    assert error_code(e) == "InvalidSubnetID.Malformed"


def test_delete_subnet_with_a_network_interface(ec2, vpc_id):
    s = make_subnet(ec2, vpc_id, "10.0.0.0/28")["SubnetId"]
    try:
        eni = ec2.create_network_interface(SubnetId=s)["NetworkInterface"]
    except ClientError as e:
        if error_code(e) == "NotImplemented":
            pytest.skip("CreateNetworkInterface is not served yet")
        raise
    assert describe(ec2, s)[0]["AvailableIpAddressCount"] == 10
    e = client_error(ec2.delete_subnet, SubnetId=s)
    assert error_code(e) == "DependencyViolation"
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    assert describe(ec2, s)[0]["AvailableIpAddressCount"] == 11
    ec2.delete_subnet(SubnetId=s)


def test_vpc_with_subnets_cannot_be_deleted(ec2, vpc_id):
    s = make_subnet(ec2, vpc_id)["SubnetId"]
    e = client_error(ec2.delete_vpc, VpcId=vpc_id)
    assert error_code(e) == "DependencyViolation"
    ec2.delete_subnet(SubnetId=s)


# --- ModifySubnetAttribute --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw,field,value",
    [
        ({"MapPublicIpOnLaunch": {"Value": True}}, "MapPublicIpOnLaunch", True),
        ({"EnableDns64": {"Value": True}}, "EnableDns64", True),
        ({"EnableLniAtDeviceIndex": 1}, "EnableLniAtDeviceIndex", 1),
        (
            {"PrivateDnsHostnameTypeOnLaunch": "resource-name"},
            "PrivateDnsNameOptionsOnLaunch",
            {"HostnameType": "resource-name", "EnableResourceNameDnsARecord": False, "EnableResourceNameDnsAAAARecord": False},
        ),
        (
            {"EnableResourceNameDnsARecordOnLaunch": {"Value": True}},
            "PrivateDnsNameOptionsOnLaunch",
            {"HostnameType": "ip-name", "EnableResourceNameDnsARecord": True, "EnableResourceNameDnsAAAARecord": False},
        ),
    ],
)
def test_modify_attribute(ec2, vpc_id, kw, field, value):
    s = make_subnet(ec2, vpc_id)["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=s, **kw)
    assert describe(ec2, s)[0][field] == value


def test_modify_back_and_lni_disable(ec2, vpc_id):
    s = make_subnet(ec2, vpc_id)["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=s, MapPublicIpOnLaunch={"Value": True})
    ec2.modify_subnet_attribute(SubnetId=s, MapPublicIpOnLaunch={"Value": False})
    assert describe(ec2, s)[0]["MapPublicIpOnLaunch"] is False
    ec2.modify_subnet_attribute(SubnetId=s, EnableLniAtDeviceIndex=2)
    ec2.modify_subnet_attribute(SubnetId=s, DisableLniAtDeviceIndex={"Value": True})
    assert "EnableLniAtDeviceIndex" not in describe(ec2, s)[0]
    e = client_error(ec2.modify_subnet_attribute, SubnetId=s, EnableLniAtDeviceIndex=0)
    assert error_code(e) == "InvalidParameterValue"


def test_assign_ipv6_on_creation(ec2, scope_id):
    v = ipv6_vpc(ec2, scope_id)
    plain = make_subnet(ec2, v["VpcId"])["SubnetId"]
    e = client_error(ec2.modify_subnet_attribute, SubnetId=plain, AssignIpv6AddressOnCreation={"Value": True})
    assert error_code(e) == "InvalidParameter", "no IPv6 block"
    s = make_subnet(ec2, v["VpcId"], "10.0.1.0/24", Ipv6CidrBlock=ipv6_block(v, 0))["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=s, AssignIpv6AddressOnCreation={"Value": True})
    assert describe(ec2, s)[0]["AssignIpv6AddressOnCreation"] is True
    ec2.modify_subnet_attribute(SubnetId=s, EnableResourceNameDnsAAAARecordOnLaunch={"Value": True})
    assert describe(ec2, s)[0]["PrivateDnsNameOptionsOnLaunch"]["EnableResourceNameDnsAAAARecord"] is True


def test_modify_two_attributes_at_once(ec2, vpc_id):
    s = make_subnet(ec2, vpc_id)["SubnetId"]
    e = client_error(
        ec2.modify_subnet_attribute,
        SubnetId=s,
        MapPublicIpOnLaunch={"Value": True},
        EnableDns64={"Value": True},
    )
    assert error_code(e) == "InvalidRequest"
    assert "Only one subnet attribute can be modified at a time" in str(e)
    d = describe(ec2, s)[0]
    assert d["MapPublicIpOnLaunch"] is False and d["EnableDns64"] is False


def test_modify_nothing(ec2, vpc_id):
    s = make_subnet(ec2, vpc_id)["SubnetId"]
    e = client_error(ec2.modify_subnet_attribute, SubnetId=s)
    assert error_code(e) == "MissingParameter"


def test_modify_unknown_and_malformed(ec2):
    e = client_error(ec2.modify_subnet_attribute, SubnetId=MISSING_SUBNET, MapPublicIpOnLaunch={"Value": True})
    assert error_code(e) == "InvalidSubnetID.NotFound"
    e = client_error(ec2.modify_subnet_attribute, SubnetId="subnet-x", MapPublicIpOnLaunch={"Value": True})
    assert error_code(e) == "InvalidSubnetID.Malformed"


def test_customer_owned_ips_are_not_implemented(ec2, vpc_id):
    s = make_subnet(ec2, vpc_id)["SubnetId"]
    e = client_error(
        ec2.modify_subnet_attribute,
        SubnetId=s,
        MapCustomerOwnedIpOnLaunch={"Value": True},
        CustomerOwnedIpv4Pool="ipv4pool-coip-0123456789abcdef0",
    )
    assert error_code(e) == "NotImplemented"
    assert http_status(e) == 501


# --- the default VPC ------------------------------------------------------------------------------


def test_default_vpc_has_a_default_subnet_per_zone(ec2):
    v = default_vpc(ec2)
    subnets = sorted(default_subnets(ec2, v["VpcId"]), key=lambda s: ipaddress.ip_network(s["CidrBlock"]))
    azs = zones(ec2)
    assert [(s["AvailabilityZone"], s["AvailabilityZoneId"]) for s in subnets] == azs
    assert [s["CidrBlock"] for s in subnets] == [f"172.31.{16 * i}.0/20" for i in range(len(azs))]
    for s in subnets:
        assert s["DefaultForAz"] is True
        assert s["MapPublicIpOnLaunch"] is True
        assert s["AvailableIpAddressCount"] == 4091
    assert describe(ec2, Filters=[{"Name": "default-for-az", "Values": ["true"]}]) == describe(
        ec2, *[s["SubnetId"] for s in subnets]
    )


def test_create_default_subnet(ec2):
    v = default_vpc(ec2)
    name, zid = zones(ec2)[0]
    e = client_error(ec2.create_default_subnet, AvailabilityZone=name)
    assert error_code(e) == "DefaultSubnetAlreadyExistsInAvailabilityZone"
    e = client_error(ec2.create_default_subnet, AvailabilityZoneId=zid)
    assert error_code(e) == "DefaultSubnetAlreadyExistsInAvailabilityZone"
    first = [s for s in default_subnets(ec2, v["VpcId"]) if s["AvailabilityZone"] == name][0]
    ec2.delete_subnet(SubnetId=first["SubnetId"])
    e = client_error(ec2.create_default_subnet, AvailabilityZone=name, DryRun=True)
    assert error_code(e) == "DryRunOperation"
    s = ec2.create_default_subnet(AvailabilityZoneId=zid)["Subnet"]
    assert (s["AvailabilityZone"], s["CidrBlock"]) == (name, "172.31.0.0/20"), "the lowest free /20"
    assert s["DefaultForAz"] is True and s["MapPublicIpOnLaunch"] is True
    e = client_error(ec2.create_default_subnet, AvailabilityZone="us-east-1z")
    assert error_code(e) == "InvalidParameterValue"
    e = client_error(ec2.create_default_subnet)
    assert error_code(e) == "MissingParameter"


def remove_default_vpc(ec2):
    """Deletes the default VPC and what keeps it from being deleted."""
    v = default_vpc(ec2)
    for s in default_subnets(ec2, v["VpcId"]):
        ec2.delete_subnet(SubnetId=s["SubnetId"])
    try:
        gws = ec2.describe_internet_gateways(
            Filters=[{"Name": "attachment.vpc-id", "Values": [v["VpcId"]]}]
        )["InternetGateways"]
    except ClientError as e:
        if error_code(e) != "NotImplemented":
            raise
        gws = []
    for g in gws:
        ec2.detach_internet_gateway(InternetGatewayId=g["InternetGatewayId"], VpcId=v["VpcId"])
        ec2.delete_internet_gateway(InternetGatewayId=g["InternetGatewayId"])
    ec2.delete_vpc(VpcId=v["VpcId"])


def test_create_default_subnet_without_a_default_vpc(ec2):
    remove_default_vpc(ec2)
    e = client_error(ec2.create_default_subnet, AvailabilityZone=zones(ec2)[0][0])
    assert error_code(e) == "DefaultVpcNotFound"


def test_create_default_vpc(ec2):
    e = client_error(ec2.create_default_vpc)
    assert error_code(e) == "DefaultVpcAlreadyExists"
    remove_default_vpc(ec2)
    e = client_error(ec2.create_default_vpc, DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert default_vpc(ec2) is None
    v = ec2.create_default_vpc()["Vpc"]
    assert v["IsDefault"] is True and v["CidrBlock"] == "172.31.0.0/16"
    assert default_vpc(ec2)["VpcId"] == v["VpcId"]
    subnets = default_subnets(ec2, v["VpcId"])
    assert len(subnets) == len(zones(ec2))
    assert all(s["DefaultForAz"] and s["MapPublicIpOnLaunch"] for s in subnets)
    e = client_error(ec2.create_default_vpc)
    assert error_code(e) == "DefaultVpcAlreadyExists"


# --- AWS CLI -----------------------------------------------------------------------------------


def test_cli_create_and_describe_subnet(ec2, endpoint, tmp_path, vpc_id):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("RESERVOIR_")}
    (tmp_path / "config").write_text("")
    (tmp_path / "credentials").write_text("")
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION=REGION,
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
    )
    aws = Path(sys.executable).parent / "aws"

    def run(*args):
        proc = subprocess.run(
            [str(aws), *args, "--endpoint-url", endpoint, "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    s = run("ec2", "create-subnet", "--vpc-id", vpc_id, "--cidr-block", "10.0.7.0/28")["Subnet"]
    assert s["AvailableIpAddressCount"] == 11
    listed = run("ec2", "describe-subnets", "--filters", "Name=cidr-block,Values=10.0.7.0/28")["Subnets"]
    assert [x["SubnetId"] for x in listed] == [s["SubnetId"]]


# --- quota ---------------------------------------------------------------------------------------


def test_subnets_per_vpc_quota(own_server, tmp_path):
    config = tmp_path / "reservoir.toml"
    config.write_text("[quotas]\nsubnets-per-vpc = 2\n")
    s = own_server("--ephemeral", "--listen", "127.0.0.1:0", "--config", str(config))
    ec2 = s.client("ec2")
    v = make_vpc(ec2)["VpcId"]
    other = make_vpc(ec2, "10.1.0.0/16")["VpcId"]
    first = make_subnet(ec2, v, "10.0.0.0/24")["SubnetId"]
    make_subnet(ec2, v, "10.0.1.0/24")
    e = client_error(make_subnet, ec2, v, "10.0.2.0/24")
    assert error_code(e) == "SubnetLimitExceeded"
    assert http_status(e) == 400
    make_subnet(ec2, other, "10.1.0.0/24")  # the quota is per VPC
    ec2.delete_subnet(SubnetId=first)
    make_subnet(ec2, v, "10.0.2.0/24")
