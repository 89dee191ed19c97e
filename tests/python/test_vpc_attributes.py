"""DescribeVpcAttribute, ModifyVpcAttribute, ModifyVpcTenancy and Amazon-provided IPv6
blocks (CreateVpc / AssociateVpcCidrBlock with AmazonProvidedIpv6CidrBlock)."""

import ipaddress

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, http_status

MISSING_VPC = "vpc-0123456789abcdef0"


def attr(ec2, vpc_id, name):
    key = name[0].upper() + name[1:]
    return ec2.describe_vpc_attribute(VpcId=vpc_id, Attribute=name)[key]["Value"]


def default_vpc(ec2):
    return ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]


def test_defaults_as_aws(ec2):
    d = default_vpc(ec2)
    assert attr(ec2, d, "enableDnsSupport") is True
    assert attr(ec2, d, "enableDnsHostnames") is True
    assert attr(ec2, d, "enableNetworkAddressUsageMetrics") is False
    v = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    assert attr(ec2, v, "enableDnsSupport") is True
    assert attr(ec2, v, "enableDnsHostnames") is False
    assert attr(ec2, v, "enableNetworkAddressUsageMetrics") is False
    resp = ec2.describe_vpc_attribute(VpcId=v, Attribute="enableDnsSupport")
    assert resp["VpcId"] == v
    assert "EnableDnsHostnames" not in resp


def test_modify_one_attribute_at_a_time(ec2):
    v = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=v, EnableDnsHostnames={"Value": True})
    assert attr(ec2, v, "enableDnsHostnames") is True
    ec2.modify_vpc_attribute(VpcId=v, EnableNetworkAddressUsageMetrics={"Value": True})
    assert attr(ec2, v, "enableNetworkAddressUsageMetrics") is True
    # DNS support cannot go while hostnames are on; hostnames off first, then support.
    with pytest.raises(ClientError) as e:
        ec2.modify_vpc_attribute(VpcId=v, EnableDnsSupport={"Value": False})
    assert error_code(e.value) == "InvalidParameterValue"
    assert attr(ec2, v, "enableDnsSupport") is True
    ec2.modify_vpc_attribute(VpcId=v, EnableDnsHostnames={"Value": False})
    ec2.modify_vpc_attribute(VpcId=v, EnableDnsSupport={"Value": False})
    assert attr(ec2, v, "enableDnsSupport") is False
    with pytest.raises(ClientError) as e:
        ec2.modify_vpc_attribute(VpcId=v, EnableDnsHostnames={"Value": True})
    assert error_code(e.value) == "InvalidParameterValue"


def test_modify_errors(ec2):
    v = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    with pytest.raises(ClientError) as e:
        ec2.modify_vpc_attribute(VpcId=v, EnableDnsSupport={"Value": True}, EnableDnsHostnames={"Value": True})
    assert error_code(e.value) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as e:
        ec2.modify_vpc_attribute(VpcId=v)
    assert error_code(e.value) == "MissingParameter"
    with pytest.raises(ClientError) as e:
        ec2.modify_vpc_attribute(VpcId=MISSING_VPC, EnableDnsSupport={"Value": True})
    assert error_code(e.value) == "InvalidVpcID.NotFound"
    with pytest.raises(ClientError) as e:
        ec2.modify_vpc_attribute(VpcId="vpc-nothex", EnableDnsSupport={"Value": True})
    assert error_code(e.value) == "InvalidVpcID.Malformed"


def test_describe_attribute_errors(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_vpc_attribute(VpcId=MISSING_VPC, Attribute="enableDnsSupport")
    assert error_code(e.value) == "InvalidVpcID.NotFound"
    with pytest.raises(ClientError) as e:
        ec2.describe_vpc_attribute(VpcId=default_vpc(ec2), Attribute="enableDnsSupport", DryRun=True)
    assert error_code(e.value) == "DryRunOperation"
    assert http_status(e.value) == 412


def test_modify_tenancy(ec2):
    v = ec2.create_vpc(CidrBlock="10.0.0.0/16", InstanceTenancy="dedicated")["Vpc"]["VpcId"]
    with pytest.raises(ClientError) as e:
        ec2.modify_vpc_tenancy(VpcId=v, InstanceTenancy="default", DryRun=True)
    assert error_code(e.value) == "DryRunOperation"
    assert ec2.describe_vpcs(VpcIds=[v])["Vpcs"][0]["InstanceTenancy"] == "dedicated"
    assert ec2.modify_vpc_tenancy(VpcId=v, InstanceTenancy="default")["ReturnValue"] is True
    assert ec2.describe_vpcs(VpcIds=[v])["Vpcs"][0]["InstanceTenancy"] == "default"
    with pytest.raises(ClientError) as e:
        ec2.modify_vpc_tenancy(VpcId=v, InstanceTenancy="dedicated")
    assert error_code(e.value) == "InvalidParameterValue"
    with pytest.raises(ClientError) as e:
        ec2.modify_vpc_tenancy(VpcId=MISSING_VPC, InstanceTenancy="default")
    assert error_code(e.value) == "InvalidVpcID.NotFound"


def amazon_block(vpc):
    blocks = [a for a in vpc.get("Ipv6CidrBlockAssociationSet", []) if a.get("Ipv6Pool") == "Amazon"]
    return blocks[0]["Ipv6CidrBlock"] if blocks else None


def test_amazon_provided_ipv6_blocks_are_never_handed_out_twice(ec2, ec2_other):
    seen = set()
    vpcs = []
    for client in (ec2, ec2_other, ec2):
        v = client.create_vpc(CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
        block = amazon_block(v)
        net = ipaddress.ip_network(block)
        assert net.prefixlen == 56
        assert block not in seen
        seen.add(block)
        vpcs.append((client, v["VpcId"]))
    client, vid = vpcs[0]
    described = client.describe_vpcs(VpcIds=[vid])["Vpcs"][0]
    a = described["Ipv6CidrBlockAssociationSet"][0]
    assert a["Ipv6CidrBlockState"]["State"] == "associated"
    assert a["Ipv6AddressAttribute"] == "public"
    # A second Amazon block on the same VPC, then both released with the VPC.
    assoc = client.associate_vpc_cidr_block(VpcId=vid, AmazonProvidedIpv6CidrBlock=True)
    second = assoc["Ipv6CidrBlockAssociation"]["Ipv6CidrBlock"]
    assert second not in seen
    client.disassociate_vpc_cidr_block(AssociationId=assoc["Ipv6CidrBlockAssociation"]["AssociationId"])
    # The freed /56 is the next one handed out (lowest free first).
    again = ec2_other.create_vpc(CidrBlock="10.1.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    assert amazon_block(again) == second


def test_amazon_ipv6_combinations(ec2):
    with pytest.raises(ClientError) as e:
        ec2.create_vpc(CidrBlock="10.0.0.0/16", Ipv6CidrBlockNetworkBorderGroup="us-east-1")
    assert error_code(e.value) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as e:
        ec2.create_vpc(
            CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True, Ipv6CidrBlockNetworkBorderGroup="us-west-2"
        )
    assert error_code(e.value) == "InvalidParameterValue"
    v = ec2.create_vpc(
        CidrBlock="10.0.0.0/16", AmazonProvidedIpv6CidrBlock=True, Ipv6CidrBlockNetworkBorderGroup="us-east-1"
    )["Vpc"]
    assert amazon_block(v)
