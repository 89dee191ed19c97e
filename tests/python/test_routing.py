"""Route tables, routes, internet gateways, network ACLs and DHCP options."""

import json
import os
import re
import subprocess
import sys

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, DEFAULT_ACCOUNT, SECRET_KEY, error_code, http_status

RTB_ID = re.compile(r"^rtb-[0-9a-f]{17}$")
RTBASSOC_ID = re.compile(r"^rtbassoc-[0-9a-f]{17}$")
IGW_ID = re.compile(r"^igw-[0-9a-f]{17}$")
ACL_ID = re.compile(r"^acl-[0-9a-f]{17}$")
ACLASSOC_ID = re.compile(r"^aclassoc-[0-9a-f]{17}$")
DOPT_ID = re.compile(r"^dopt-[0-9a-f]{17}$")
MISSING_RTB = "rtb-0123456789abcdef0"
MISSING_IGW = "igw-0123456789abcdef0"
MISSING_DOPT = "dopt-0123456789abcdef0"
MISSING_ENI = "eni-0123456789abcdef0"
LISTEN = ("--ephemeral", "--listen", "127.0.0.1:0")


@pytest.fixture
def unchecked(endpoint):
    """An EC2 client that sends what it is given (no client-side range checks)."""
    return boto3.client(
        "ec2",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        config=Config(parameter_validation=False, retries={"max_attempts": 1}),
    )


def client_error(fn, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    return e.value


def code_of(fn, *args, **kwargs):
    return error_code(client_error(fn, *args, **kwargs))


def tag_spec(resource_type, **tags):
    return [{"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


def new_vpc(ec2, cidr="10.0.0.0/16"):
    return ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]


def new_subnet(ec2, vpc_id, cidr):
    return ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr)["Subnet"]["SubnetId"]


def tables(ec2, **kw):
    return ec2.describe_route_tables(**kw)["RouteTables"]


def table(ec2, rtb_id):
    return tables(ec2, RouteTableIds=[rtb_id])[0]


def main_table(ec2, vpc_id):
    found = tables(
        ec2,
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "association.main", "Values": ["true"]}],
    )
    assert len(found) == 1
    return found[0]


def routes_by_dest(t):
    return {r.get("DestinationCidrBlock") or r.get("DestinationIpv6CidrBlock") or r.get("DestinationPrefixListId"): r for r in t["Routes"]}


def new_igw(ec2, vpc_id=None):
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    if vpc_id:
        ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    return igw


# --- the default VPC and new VPCs -------------------------------------------------------


def test_default_vpc_main_table_routes_to_its_gateway(ec2):
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    t = main_table(ec2, vpc["VpcId"])
    assert RTB_ID.match(t["RouteTableId"])
    assert t["OwnerId"] == DEFAULT_ACCOUNT
    routes = routes_by_dest(t)
    assert routes["172.31.0.0/16"]["GatewayId"] == "local"
    assert routes["172.31.0.0/16"]["Origin"] == "CreateRouteTable"
    assert routes["172.31.0.0/16"]["State"] == "active"
    igws = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc["VpcId"]]}]
    )["InternetGateways"]
    assert len(igws) == 1
    assert igws[0]["Attachments"] == [{"State": "available", "VpcId": vpc["VpcId"]}]
    assert routes["0.0.0.0/0"]["GatewayId"] == igws[0]["InternetGatewayId"]
    assert routes["0.0.0.0/0"]["State"] == "active"
    main = [a for a in t["Associations"] if a["Main"]]
    assert len(main) == 1 and "SubnetId" not in main[0]
    assert RTBASSOC_ID.match(main[0]["RouteTableAssociationId"])
    assert main[0]["AssociationState"]["State"] == "associated"


def test_new_vpc_has_a_main_table_with_the_local_route_only(ec2):
    vpc_id = new_vpc(ec2)
    t = main_table(ec2, vpc_id)
    assert [(r["DestinationCidrBlock"], r["GatewayId"]) for r in t["Routes"]] == [("10.0.0.0/16", "local")]
    assert [a["Main"] for a in t["Associations"]] == [True]


def test_local_routes_follow_secondary_cidrs(ec2):
    vpc_id = new_vpc(ec2)
    assoc = ec2.associate_vpc_cidr_block(VpcId=vpc_id, CidrBlock="10.1.0.0/16")["CidrBlockAssociation"]
    assert set(routes_by_dest(main_table(ec2, vpc_id))) == {"10.0.0.0/16", "10.1.0.0/16"}
    ec2.disassociate_vpc_cidr_block(AssociationId=assoc["AssociationId"])
    assert set(routes_by_dest(main_table(ec2, vpc_id))) == {"10.0.0.0/16"}


def test_main_table_cannot_be_deleted(ec2):
    vpc_id = new_vpc(ec2)
    t = main_table(ec2, vpc_id)
    assert code_of(ec2.delete_route_table, RouteTableId=t["RouteTableId"]) == "DependencyViolation"


def test_delete_vpc_takes_main_table_and_default_acl(ec2):
    vpc_id = new_vpc(ec2)
    rtb = main_table(ec2, vpc_id)["RouteTableId"]
    ec2.delete_vpc(VpcId=vpc_id)
    assert code_of(ec2.describe_route_tables, RouteTableIds=[rtb]) == "InvalidRouteTableID.NotFound"
    assert ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NetworkAcls"] == []


def test_vpc_with_custom_table_or_gateway_cannot_be_deleted(ec2):
    vpc_id = new_vpc(ec2)
    rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    assert code_of(ec2.delete_vpc, VpcId=vpc_id) == "DependencyViolation"
    ec2.delete_route_table(RouteTableId=rtb)
    igw = new_igw(ec2, vpc_id)
    assert code_of(ec2.delete_vpc, VpcId=vpc_id) == "DependencyViolation"
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    ec2.delete_vpc(VpcId=vpc_id)


# --- the public/private story ---------------------------------------------------------


def test_public_private_routing(ec2):
    vpc_id = new_vpc(ec2)
    public = new_subnet(ec2, vpc_id, "10.0.0.0/24")
    private = new_subnet(ec2, vpc_id, "10.0.1.0/24")
    igw = new_igw(ec2, vpc_id)
    rt = ec2.create_route_table(VpcId=vpc_id, TagSpecifications=tag_spec("route-table", Name="public"))[
        "RouteTable"
    ]
    rtb = rt["RouteTableId"]
    assert RTB_ID.match(rtb) and rt["VpcId"] == vpc_id
    assert rt["Associations"] == []
    assert rt["Tags"] == [{"Key": "Name", "Value": "public"}]
    assert ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)["Return"] is True
    a = ec2.associate_route_table(RouteTableId=rtb, SubnetId=public)
    assert RTBASSOC_ID.match(a["AssociationId"])
    assert a["AssociationState"] == {"State": "associated"}

    t = table(ec2, rtb)
    r = routes_by_dest(t)["0.0.0.0/0"]
    assert (r["GatewayId"], r["Origin"], r["State"]) == (igw, "CreateRoute", "active")
    assert [(x["SubnetId"], x["Main"]) for x in t["Associations"]] == [(public, False)]

    # The private subnet uses the main table until it is given another.
    main = main_table(ec2, vpc_id)
    private_rt = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    b = ec2.associate_route_table(RouteTableId=private_rt, SubnetId=private)["AssociationId"]
    # Move the private subnet to the public table, then back.
    moved = ec2.replace_route_table_association(AssociationId=b, RouteTableId=rtb)["NewAssociationId"]
    assert moved != b and RTBASSOC_ID.match(moved)
    assert sorted(x["SubnetId"] for x in table(ec2, rtb)["Associations"]) == sorted([public, private])
    assert table(ec2, private_rt)["Associations"] == []
    assert code_of(ec2.disassociate_route_table, AssociationId=b) == "InvalidAssociationID.NotFound"
    ec2.disassociate_route_table(AssociationId=moved)

    # The main association moves to the public table.
    main_assoc = [x for x in main["Associations"] if x["Main"]][0]["RouteTableAssociationId"]
    new_main = ec2.replace_route_table_association(AssociationId=main_assoc, RouteTableId=rtb)["NewAssociationId"]
    assert main_table(ec2, vpc_id)["RouteTableId"] == rtb
    assert [x for x in table(ec2, rtb)["Associations"] if x["Main"]][0]["RouteTableAssociationId"] == new_main
    # The former main table is now an ordinary one, and can go.
    ec2.delete_route_table(RouteTableId=main["RouteTableId"])
    ec2.delete_route_table(RouteTableId=private_rt)

    # Tear down in AWS's order.
    assert code_of(ec2.delete_route_table, RouteTableId=rtb) == "DependencyViolation"
    assert code_of(ec2.delete_internet_gateway, InternetGatewayId=igw) == "DependencyViolation"
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    assert routes_by_dest(table(ec2, rtb))["0.0.0.0/0"]["State"] == "blackhole"
    ec2.delete_internet_gateway(InternetGatewayId=igw)
    assert routes_by_dest(table(ec2, rtb))["0.0.0.0/0"]["State"] == "blackhole"
    ec2.delete_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0")
    ec2.delete_subnet(SubnetId=public)
    ec2.delete_subnet(SubnetId=private)
    # The deleted subnet's association went with it.
    assert [x["Main"] for x in table(ec2, rtb)["Associations"]] == [True]


def test_deleting_a_subnet_frees_its_association(ec2):
    vpc_id = new_vpc(ec2)
    subnet = new_subnet(ec2, vpc_id, "10.0.0.0/24")
    rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)
    assert code_of(ec2.delete_route_table, RouteTableId=rtb) == "DependencyViolation"
    ec2.delete_subnet(SubnetId=subnet)
    assert table(ec2, rtb)["Associations"] == []
    ec2.delete_route_table(RouteTableId=rtb)


def test_gateway_edge_association(ec2):
    vpc_id = new_vpc(ec2)
    igw = new_igw(ec2, vpc_id)
    rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    a = ec2.associate_route_table(RouteTableId=rtb, GatewayId=igw)["AssociationId"]
    assoc = table(ec2, rtb)["Associations"][0]
    assert (assoc["GatewayId"], assoc["Main"], "SubnetId" in assoc) == (igw, False, False)
    other = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    assert code_of(ec2.associate_route_table, RouteTableId=other, GatewayId=igw) == "Resource.AlreadyAssociated"
    ec2.disassociate_route_table(AssociationId=a)


# --- routes ---------------------------------------------------------------------------


def test_route_to_network_interface_and_replace(ec2):
    vpc_id = new_vpc(ec2)
    subnet = new_subnet(ec2, vpc_id, "10.0.0.0/24")
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    igw = new_igw(ec2, vpc_id)
    rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="192.168.0.0/16", NetworkInterfaceId=eni)
    r = routes_by_dest(table(ec2, rtb))["192.168.0.0/16"]
    assert (r["NetworkInterfaceId"], r["State"]) == (eni, "active")
    ec2.replace_route(RouteTableId=rtb, DestinationCidrBlock="192.168.0.0/16", GatewayId=igw)
    r = routes_by_dest(table(ec2, rtb))["192.168.0.0/16"]
    assert (r.get("GatewayId"), "NetworkInterfaceId" in r) == (igw, False)
    ec2.replace_route(RouteTableId=rtb, DestinationCidrBlock="192.168.0.0/16", NetworkInterfaceId=eni)
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    assert routes_by_dest(table(ec2, rtb))["192.168.0.0/16"]["State"] == "blackhole"


def test_ipv6_route(ec2):
    vpc_id = new_vpc(ec2)
    igw = new_igw(ec2, vpc_id)
    rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=rtb, DestinationIpv6CidrBlock="::/0", GatewayId=igw)
    r = routes_by_dest(table(ec2, rtb))["::/0"]
    assert r["GatewayId"] == igw
    ec2.delete_route(RouteTableId=rtb, DestinationIpv6CidrBlock="::/0")
    assert "::/0" not in routes_by_dest(table(ec2, rtb))


def test_route_errors(ec2):
    vpc_id = new_vpc(ec2)
    other_vpc = new_vpc(ec2, "10.9.0.0/16")
    igw = new_igw(ec2, vpc_id)
    foreign_igw = new_igw(ec2, other_vpc)
    rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]

    def create(**kw):
        return code_of(ec2.create_route, RouteTableId=rtb, **kw)

    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    assert create(DestinationCidrBlock="0.0.0.0/0", GatewayId=igw) == "RouteAlreadyExists"
    assert create(DestinationCidrBlock="10.0.0.0/16", GatewayId=igw) == "RouteAlreadyExists"
    assert create(DestinationCidrBlock="1.0.0.0/8", GatewayId=foreign_igw) == "InvalidParameterValue"
    assert create(DestinationCidrBlock="1.0.0.0/8", GatewayId=MISSING_IGW) == "InvalidGatewayID.NotFound"
    assert create(DestinationCidrBlock="1.0.0.0/8", GatewayId="nat-0123456789abcdef0") == "InvalidGatewayID.NotFound"
    assert create(DestinationCidrBlock="not-a-cidr", GatewayId=igw) == "InvalidParameterValue"
    assert create(DestinationCidrBlock="10.0.0.0/33", GatewayId=igw) == "InvalidParameterValue"
    assert create(DestinationIpv6CidrBlock="10.0.0.0/8", GatewayId=igw) == "InvalidParameterValue"
    assert create(GatewayId=igw) == "MissingParameter"
    assert create(DestinationCidrBlock="1.0.0.0/8") == "MissingParameter"
    assert create(DestinationCidrBlock="1.0.0.0/8", DestinationIpv6CidrBlock="::/0", GatewayId=igw) == (
        "InvalidParameterCombination"
    )
    assert create(DestinationCidrBlock="1.0.0.0/8", GatewayId=igw, NetworkInterfaceId=MISSING_ENI) == (
        "InvalidParameterCombination"
    )
    assert create(DestinationCidrBlock="1.0.0.0/8", NetworkInterfaceId=MISSING_ENI) == (
        "InvalidNetworkInterfaceID.NotFound"
    )
    assert create(DestinationCidrBlock="1.0.0.0/8", NetworkInterfaceId="eni-zz") == (
        "InvalidNetworkInterfaceID.Malformed"
    )
    assert create(DestinationCidrBlock="1.0.0.0/8", NatGatewayId="nat-0123456789abcdef0") == (
        "InvalidNatGatewayID.NotFound"
    )
    assert create(DestinationCidrBlock="1.0.0.0/8", TransitGatewayId="tgw-0123456789abcdef0") == (
        "InvalidTransitGatewayID.NotFound"
    )
    assert create(DestinationCidrBlock="1.0.0.0/8", VpcPeeringConnectionId="pcx-0123456789abcdef0") == (
        "InvalidVpcPeeringConnectionID.NotFound"
    )
    assert create(DestinationCidrBlock="1.0.0.0/8", CarrierGatewayId="cagw-0123456789abcdef0") == (
        "InvalidCarrierGatewayID.NotFound"
    )
    assert create(DestinationCidrBlock="1.0.0.0/8", LocalGatewayId="lgw-0123456789abcdef0") == (
        "InvalidLocalGatewayID.NotFound"
    )
    assert create(DestinationCidrBlock="1.0.0.0/8", InstanceId="i-0123456789abcdef0") == "InvalidInstanceID.NotFound"
    assert create(DestinationPrefixListId="pl-0123456789abcdef0", GatewayId=igw) == "InvalidPrefixListId.NotFound"
    assert create(DestinationPrefixListId="pl-x", GatewayId=igw) == "InvalidPrefixListID.Malformed"
    assert create(DestinationCidrBlock="1.0.0.0/8", VpcEndpointId="vpce-0123456789abcdef0") == (
        "InvalidVpcEndpointId.NotFound"
    )
    assert code_of(
        ec2.create_route, RouteTableId=MISSING_RTB, DestinationCidrBlock="1.0.0.0/8", GatewayId=igw
    ) == "InvalidRouteTableID.NotFound"
    assert code_of(
        ec2.create_route, RouteTableId="rtb-nope", DestinationCidrBlock="1.0.0.0/8", GatewayId=igw
    ) == "InvalidRouteTableId.Malformed"

    # The local route can be neither deleted nor replaced.
    assert code_of(ec2.delete_route, RouteTableId=rtb, DestinationCidrBlock="10.0.0.0/16") == "InvalidParameterValue"
    assert code_of(
        ec2.replace_route, RouteTableId=rtb, DestinationCidrBlock="10.0.0.0/16", GatewayId=igw
    ) == "InvalidParameterValue"
    assert code_of(ec2.delete_route, RouteTableId=rtb, DestinationCidrBlock="9.0.0.0/8") == "InvalidRoute.NotFound"
    assert code_of(
        ec2.replace_route, RouteTableId=rtb, DestinationCidrBlock="9.0.0.0/8", GatewayId=igw
    ) == "InvalidRoute.NotFound"
    # Nothing changed.
    assert set(routes_by_dest(table(ec2, rtb))) == {"10.0.0.0/16", "0.0.0.0/0"}


def test_association_errors(ec2):
    vpc_id = new_vpc(ec2)
    other_vpc = new_vpc(ec2, "10.9.0.0/16")
    subnet = new_subnet(ec2, vpc_id, "10.0.0.0/24")
    foreign_subnet = new_subnet(ec2, other_vpc, "10.9.0.0/24")
    rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    other_rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    foreign_rtb = ec2.create_route_table(VpcId=other_vpc)["RouteTable"]["RouteTableId"]
    a = ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)["AssociationId"]
    assert code_of(ec2.associate_route_table, RouteTableId=other_rtb, SubnetId=subnet) == "Resource.AlreadyAssociated"
    assert code_of(ec2.associate_route_table, RouteTableId=rtb, SubnetId=subnet) == "Resource.AlreadyAssociated"
    assert code_of(ec2.associate_route_table, RouteTableId=rtb, SubnetId=foreign_subnet) == "InvalidParameterValue"
    assert code_of(
        ec2.associate_route_table, RouteTableId=rtb, SubnetId="subnet-0123456789abcdef0"
    ) == "InvalidSubnetID.NotFound"
    assert code_of(ec2.associate_route_table, RouteTableId=MISSING_RTB, SubnetId=subnet) == (
        "InvalidRouteTableID.NotFound"
    )
    assert code_of(ec2.associate_route_table, RouteTableId=rtb) == "MissingParameter"
    assert code_of(
        ec2.associate_route_table, RouteTableId=rtb, SubnetId=subnet, GatewayId=MISSING_IGW
    ) == "InvalidParameterCombination"
    assert code_of(ec2.associate_route_table, RouteTableId=rtb, GatewayId=MISSING_IGW) == "InvalidGatewayID.NotFound"
    assert code_of(ec2.replace_route_table_association, AssociationId=a, RouteTableId=foreign_rtb) == (
        "InvalidParameterValue"
    )
    missing_assoc = "rtbassoc-0123456789abcdef0"
    assert code_of(ec2.disassociate_route_table, AssociationId=missing_assoc) == "InvalidAssociationID.NotFound"
    assert code_of(ec2.replace_route_table_association, AssociationId=missing_assoc, RouteTableId=rtb) == (
        "InvalidAssociationID.NotFound"
    )
    main_assoc = [x for x in main_table(ec2, vpc_id)["Associations"] if x["Main"]][0]["RouteTableAssociationId"]
    assert code_of(ec2.disassociate_route_table, AssociationId=main_assoc) == "InvalidParameterValue"
    assert code_of(ec2.create_route_table, VpcId="vpc-0123456789abcdef0") == "InvalidVpcID.NotFound"
    assert code_of(ec2.create_route_table, VpcId="vpc-x") == "InvalidVpcID.Malformed"
    assert code_of(ec2.delete_route_table, RouteTableId=MISSING_RTB) == "InvalidRouteTableID.NotFound"
    assert code_of(ec2.describe_route_tables, RouteTableIds=[MISSING_RTB]) == "InvalidRouteTableID.NotFound"


def test_create_route_table_tags_and_client_token(ec2):
    vpc_id = new_vpc(ec2)
    assert code_of(
        ec2.create_route_table, VpcId=vpc_id, TagSpecifications=tag_spec("vpc", Name="x")
    ) == "InvalidParameterValue"
    first = ec2.create_route_table(VpcId=vpc_id, ClientToken="tok-1")
    again = ec2.create_route_table(VpcId=vpc_id, ClientToken="tok-1")
    assert first["RouteTable"]["RouteTableId"] == again["RouteTable"]["RouteTableId"]
    assert first["ClientToken"] == "tok-1"
    assert len(tables(ec2, Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])) == 2
    assert code_of(ec2.create_route_table, VpcId=new_vpc(ec2, "10.5.0.0/16"), ClientToken="tok-1") == (
        "IdempotentParameterMismatch"
    )


def test_dry_run(ec2):
    vpc_id = new_vpc(ec2)
    subnet = new_subnet(ec2, vpc_id, "10.0.0.0/24")
    before = len(tables(ec2))
    e = client_error(ec2.create_route_table, VpcId=vpc_id, DryRun=True)
    assert (error_code(e), http_status(e)) == ("DryRunOperation", 412)
    assert len(tables(ec2)) == before
    assert code_of(ec2.create_internet_gateway, DryRun=True) == "DryRunOperation"
    assert code_of(ec2.describe_route_tables, DryRun=True) == "DryRunOperation"
    assert code_of(ec2.describe_internet_gateways, DryRun=True) == "DryRunOperation"
    assert code_of(ec2.describe_network_acls, DryRun=True) == "DryRunOperation"
    assert code_of(ec2.describe_dhcp_options, DryRun=True) == "DryRunOperation"
    rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    igw = new_igw(ec2)
    assert code_of(ec2.attach_internet_gateway, InternetGatewayId=igw, VpcId=vpc_id, DryRun=True) == "DryRunOperation"
    assert ec2.describe_internet_gateways(InternetGatewayIds=[igw])["InternetGateways"][0]["Attachments"] == []
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    assert code_of(
        ec2.create_route, RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw, DryRun=True
    ) == "DryRunOperation"
    assert "0.0.0.0/0" not in routes_by_dest(table(ec2, rtb))
    assert code_of(ec2.associate_route_table, RouteTableId=rtb, SubnetId=subnet, DryRun=True) == "DryRunOperation"
    assert table(ec2, rtb)["Associations"] == []
    assert code_of(ec2.delete_route_table, RouteTableId=rtb, DryRun=True) == "DryRunOperation"
    assert code_of(ec2.detach_internet_gateway, InternetGatewayId=igw, VpcId=vpc_id, DryRun=True) == "DryRunOperation"
    assert code_of(ec2.create_dhcp_options, DhcpConfigurations=[{"Key": "domain-name", "Values": ["a.example"]}], DryRun=True) == "DryRunOperation"
    # A dry run of a failing request answers the failure.
    assert code_of(ec2.delete_route_table, RouteTableId=MISSING_RTB, DryRun=True) == "InvalidRouteTableID.NotFound"
    table(ec2, rtb)


def test_gateway_endpoint_routes(ec2):
    vpc_id = new_vpc(ec2)
    rtb = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    e = ec2.create_vpc_endpoint(
        VpcId=vpc_id, ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway", RouteTableIds=[rtb]
    )["VpcEndpoint"]
    routes = [r for r in table(ec2, rtb)["Routes"] if "DestinationPrefixListId" in r]
    assert len(routes) == 1
    pl = routes[0]["DestinationPrefixListId"]
    assert (routes[0]["GatewayId"], routes[0]["State"]) == (e["VpcEndpointId"], "active")
    found = tables(ec2, Filters=[{"Name": "route.destination-prefix-list-id", "Values": [pl]}])
    assert [t["RouteTableId"] for t in found] == [rtb]
    # The endpoint's route is the endpoint's: not created, replaced or deleted by hand.
    assert code_of(ec2.create_route, RouteTableId=rtb, DestinationPrefixListId=pl, GatewayId=e["VpcEndpointId"]) == (
        "InvalidParameterValue"
    )
    assert code_of(ec2.delete_route, RouteTableId=rtb, DestinationPrefixListId=pl) == "InvalidParameterValue"
    ec2.delete_vpc_endpoints(VpcEndpointIds=[e["VpcEndpointId"]])
    assert [r for r in table(ec2, rtb)["Routes"] if "DestinationPrefixListId" in r] == []


# --- internet gateways ----------------------------------------------------------------


def test_internet_gateway_lifecycle_and_errors(ec2):
    vpc_id = new_vpc(ec2)
    other = new_vpc(ec2, "10.9.0.0/16")
    g = ec2.create_internet_gateway(TagSpecifications=tag_spec("internet-gateway", Name="gw"))["InternetGateway"]
    igw = g["InternetGatewayId"]
    assert IGW_ID.match(igw)
    assert g["Attachments"] == [] and g["OwnerId"] == DEFAULT_ACCOUNT
    assert g["Tags"] == [{"Key": "Name", "Value": "gw"}]
    assert code_of(ec2.create_internet_gateway, TagSpecifications=tag_spec("vpc", Name="x")) == "InvalidParameterValue"
    assert code_of(ec2.detach_internet_gateway, InternetGatewayId=igw, VpcId=vpc_id) == "Gateway.NotAttached"
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    assert code_of(ec2.attach_internet_gateway, InternetGatewayId=igw, VpcId=other) == "Resource.AlreadyAssociated"
    assert code_of(ec2.attach_internet_gateway, InternetGatewayId=igw, VpcId=vpc_id) == "Resource.AlreadyAssociated"
    second = new_igw(ec2)
    assert code_of(ec2.attach_internet_gateway, InternetGatewayId=second, VpcId=vpc_id) == "InvalidParameterValue"
    assert code_of(ec2.detach_internet_gateway, InternetGatewayId=igw, VpcId=other) == "Gateway.NotAttached"
    assert code_of(ec2.delete_internet_gateway, InternetGatewayId=igw) == "DependencyViolation"
    assert code_of(ec2.attach_internet_gateway, InternetGatewayId=MISSING_IGW, VpcId=vpc_id) == (
        "InvalidInternetGatewayID.NotFound"
    )
    assert code_of(ec2.attach_internet_gateway, InternetGatewayId="igw-x", VpcId=vpc_id) == (
        "InvalidInternetGatewayId.Malformed"
    )
    assert code_of(ec2.attach_internet_gateway, InternetGatewayId=second, VpcId="vpc-0123456789abcdef0") == (
        "InvalidVpcID.NotFound"
    )
    assert code_of(ec2.delete_internet_gateway, InternetGatewayId=MISSING_IGW) == "InvalidInternetGatewayID.NotFound"
    assert code_of(ec2.describe_internet_gateways, InternetGatewayIds=[MISSING_IGW]) == (
        "InvalidInternetGatewayID.NotFound"
    )
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    ec2.attach_internet_gateway(InternetGatewayId=second, VpcId=vpc_id)
    ec2.delete_internet_gateway(InternetGatewayId=igw)
    assert code_of(ec2.describe_internet_gateways, InternetGatewayIds=[igw]) == "InvalidInternetGatewayID.NotFound"


@pytest.mark.parametrize(
    "name,value,expect",
    [
        ("attachment.state", "available", "attached"),
        ("attachment.vpc-id", "{vpc}", "attached"),
        ("internet-gateway-id", "{detached}", "detached"),
        ("owner-id", DEFAULT_ACCOUNT, "both"),
        ("tag:Role", "edge", "attached"),
        ("tag-key", "Role", "attached"),
        ("tag-value", "edge", "attached"),
    ],
)
def test_internet_gateway_filters(ec2, name, value, expect):
    vpc_id = new_vpc(ec2)
    attached = ec2.create_internet_gateway(TagSpecifications=tag_spec("internet-gateway", Role="edge"))[
        "InternetGateway"
    ]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=attached, VpcId=vpc_id)
    detached = new_igw(ec2)
    value = value.format(vpc=vpc_id, detached=detached)
    found = {
        g["InternetGatewayId"]
        for g in ec2.describe_internet_gateways(Filters=[{"Name": name, "Values": [value]}])["InternetGateways"]
    }
    mine = found & {attached, detached}
    assert mine == {"attached": {attached}, "detached": {detached}, "both": {attached, detached}}[expect]


def test_internet_gateway_pagination_and_quota(ec2, unchecked, own_server, tmp_path):
    for _ in range(6):
        new_igw(ec2)
    seen, token, pages = [], None, 0
    while True:
        kw = {"MaxResults": 5}
        if token:
            kw["NextToken"] = token
        page = ec2.describe_internet_gateways(**kw)
        seen += [g["InternetGatewayId"] for g in page["InternetGateways"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 2 and len(seen) == len(set(seen)) == 7
    assert code_of(unchecked.describe_internet_gateways, MaxResults=4) == "InvalidParameterValue"
    assert code_of(ec2.describe_internet_gateways, NextToken="garbage") == "InvalidNextToken"

    config = tmp_path / "reservoir.toml"
    config.write_text(
        "[quotas]\ninternet-gateways-per-region = 2\nroute-tables-per-vpc = 2\nroutes-per-route-table = 1\n"
    )
    s = own_server(*LISTEN, "--config", str(config))
    q = s.client("ec2")
    new_igw(q)  # the default VPC's gateway counts
    assert code_of(q.create_internet_gateway) == "InternetGatewayLimitExceeded"
    vpc_id = new_vpc(q)
    rtb = q.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]  # with the main table: 2
    assert code_of(q.create_route_table, VpcId=vpc_id) == "RouteTableLimitExceeded"
    igw = q.describe_internet_gateways(Filters=[{"Name": "attachment.state", "Values": ["available"]}])[
        "InternetGateways"
    ]
    assert len(igw) == 1
    spare = [g for g in q.describe_internet_gateways()["InternetGateways"] if not g["Attachments"]][0]
    q.attach_internet_gateway(InternetGatewayId=spare["InternetGatewayId"], VpcId=vpc_id)
    q.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=spare["InternetGatewayId"])
    assert code_of(
        q.create_route, RouteTableId=rtb, DestinationCidrBlock="1.0.0.0/8", GatewayId=spare["InternetGatewayId"]
    ) == "RouteLimitExceeded"


# --- route table filters and pagination ----------------------------------------------


@pytest.fixture
def routed(ec2):
    """A VPC with a tagged custom table: a subnet association, a route to a gateway,
    an IPv6 route; and a second, bare table."""
    vpc_id = new_vpc(ec2)
    subnet = new_subnet(ec2, vpc_id, "10.0.0.0/24")
    igw = new_igw(ec2, vpc_id)
    rtb = ec2.create_route_table(VpcId=vpc_id, TagSpecifications=tag_spec("route-table", Tier="web"))["RouteTable"][
        "RouteTableId"
    ]
    assoc = ec2.associate_route_table(RouteTableId=rtb, SubnetId=subnet)["AssociationId"]
    ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.create_route(RouteTableId=rtb, DestinationIpv6CidrBlock="::/0", GatewayId=igw)
    bare = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    main = main_table(ec2, vpc_id)["RouteTableId"]
    return dict(vpc=vpc_id, subnet=subnet, igw=igw, rtb=rtb, assoc=assoc, bare=bare, main=main)


ROUTE_TABLE_FILTERS = [
    ("association.gateway-id", "{igw}", None),  # filled by a gateway association in the test
    ("association.route-table-association-id", "{assoc}", {"rtb"}),
    ("association.route-table-id", "{rtb}", {"rtb"}),
    ("association.subnet-id", "{subnet}", {"rtb"}),
    ("association.main", "true", {"main"}),
    ("association.main", "false", {"rtb"}),
    ("owner-id", DEFAULT_ACCOUNT, {"rtb", "bare", "main"}),
    ("route-table-id", "{bare}", {"bare"}),
    ("route.destination-cidr-block", "0.0.0.0/0", {"rtb"}),
    ("route.destination-cidr-block", "10.0.0.0/16", {"rtb", "bare", "main"}),
    ("route.destination-ipv6-cidr-block", "::/0", {"rtb"}),
    ("route.destination-prefix-list-id", "pl-*", set()),
    ("route.egress-only-internet-gateway-id", "*", set()),
    ("route.gateway-id", "{igw}", {"rtb"}),
    ("route.gateway-id", "local", {"rtb", "bare", "main"}),
    ("route.instance-id", "*", set()),
    ("route.nat-gateway-id", "*", set()),
    ("route.transit-gateway-id", "*", set()),
    ("route.origin", "CreateRoute", {"rtb"}),
    ("route.origin", "CreateRouteTable", {"rtb", "bare", "main"}),
    ("route.state", "active", {"rtb", "bare", "main"}),
    ("route.state", "blackhole", set()),
    ("route.vpc-peering-connection-id", "*", set()),
    ("tag:Tier", "web", {"rtb"}),
    ("tag-key", "Tier", {"rtb"}),
    ("tag-value", "we?", {"rtb"}),
    ("vpc-id", "{vpc}", {"rtb", "bare", "main"}),
]


@pytest.mark.parametrize("name,value,expect", ROUTE_TABLE_FILTERS)
def test_route_table_filters(ec2, routed, name, value, expect):
    if expect is None:
        ec2.associate_route_table(RouteTableId=routed["bare"], GatewayId=routed["igw"])
        expect = {"bare"}
    found = {
        t["RouteTableId"]
        for t in tables(ec2, Filters=[{"Name": name, "Values": [value.format(**routed)]}])
        if t["VpcId"] == routed["vpc"]
    }
    assert found == {routed[k] for k in expect}


def test_route_state_filter_sees_blackholes(ec2, routed):
    ec2.detach_internet_gateway(InternetGatewayId=routed["igw"], VpcId=routed["vpc"])
    found = [t["RouteTableId"] for t in tables(ec2, Filters=[{"Name": "route.state", "Values": ["blackhole"]}])]
    assert found == [routed["rtb"]]


def test_route_table_filter_errors(ec2):
    assert code_of(ec2.describe_route_tables, Filters=[{"Name": "route.colour", "Values": ["x"]}]) == (
        "InvalidParameterValue"
    )
    assert code_of(ec2.describe_route_tables, RouteTableIds=["rtb-x"]) == "InvalidRouteTableId.Malformed"


def test_route_table_pagination(ec2, unchecked):
    vpc_id = new_vpc(ec2)
    made = {ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"] for _ in range(7)}
    seen, token = [], None
    while True:
        kw = {"MaxResults": 5, "Filters": [{"Name": "vpc-id", "Values": [vpc_id]}]}
        if token:
            kw["NextToken"] = token
        page = ec2.describe_route_tables(**kw)
        assert len(page["RouteTables"]) <= 5
        seen += [t["RouteTableId"] for t in page["RouteTables"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == len(set(seen)) == 8 and made < set(seen)
    assert code_of(unchecked.describe_route_tables, MaxResults=101) == "InvalidParameterValue"
    assert code_of(unchecked.describe_route_tables, MaxResults=4) == "InvalidParameterValue"
    paginated = [
        t["RouteTableId"]
        for p in ec2.get_paginator("describe_route_tables").paginate(PaginationConfig={"PageSize": 5})
        for t in p["RouteTables"]
    ]
    assert len(paginated) == len(tables(ec2))


# --- network ACLs ---------------------------------------------------------------------


def test_default_network_acl_contents(ec2):
    vpc_id = new_vpc(ec2)
    s1 = new_subnet(ec2, vpc_id, "10.0.0.0/24")
    s2 = new_subnet(ec2, vpc_id, "10.0.1.0/24")
    acls = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NetworkAcls"]
    assert len(acls) == 1
    acl = acls[0]
    assert ACL_ID.match(acl["NetworkAclId"]) and acl["IsDefault"] is True and acl["OwnerId"] == DEFAULT_ACCOUNT
    entries = [(e["Egress"], e["RuleNumber"], e["RuleAction"], e["Protocol"], e["CidrBlock"]) for e in acl["Entries"]]
    assert entries == [
        (True, 100, "allow", "-1", "0.0.0.0/0"),
        (True, 32767, "deny", "-1", "0.0.0.0/0"),
        (False, 100, "allow", "-1", "0.0.0.0/0"),
        (False, 32767, "deny", "-1", "0.0.0.0/0"),
    ]
    assocs = acl["Associations"]
    assert sorted(a["SubnetId"] for a in assocs) == sorted([s1, s2])
    assert all(ACLASSOC_ID.match(a["NetworkAclAssociationId"]) for a in assocs)
    assert all(a["NetworkAclId"] == acl["NetworkAclId"] for a in assocs)
    # Associations are stable.
    again = ec2.describe_network_acls(NetworkAclIds=[acl["NetworkAclId"]])["NetworkAcls"][0]
    assert again["Associations"] == assocs
    ec2.delete_subnet(SubnetId=s2)
    after = ec2.describe_network_acls(NetworkAclIds=[acl["NetworkAclId"]])["NetworkAcls"][0]
    assert [a["SubnetId"] for a in after["Associations"]] == [s1]


def test_default_vpc_acl_covers_its_default_subnets(ec2):
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnets = {s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]}
    acl = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["NetworkAcls"][0]
    assert {a["SubnetId"] for a in acl["Associations"]} == subnets


ACL_FILTERS = [
    ("association.association-id", "{assoc}", True),
    ("association.network-acl-id", "{acl}", True),
    ("association.subnet-id", "{subnet}", True),
    ("default", "true", True),
    ("default", "false", False),
    ("entry.cidr", "0.0.0.0/0", True),
    ("entry.icmp.code", "*", False),
    ("entry.icmp.type", "*", False),
    ("entry.ipv6-cidr", "::/0", False),
    ("entry.port-range.from", "*", False),
    ("entry.port-range.to", "*", False),
    ("entry.protocol", "-1", True),
    ("entry.rule-action", "deny", True),
    ("entry.rule-number", "32767", True),
    ("entry.rule-number", "101", False),
    ("entry.egress", "true", True),
    ("network-acl-id", "{acl}", True),
    ("owner-id", DEFAULT_ACCOUNT, True),
    ("tag:Name", "acl", False),
    ("tag-key", "Name", False),
    ("tag-value", "acl", False),
    ("vpc-id", "{vpc}", True),
]


@pytest.mark.parametrize("name,value,found", ACL_FILTERS)
def test_network_acl_filters(ec2, name, value, found):
    vpc_id = new_vpc(ec2)
    subnet = new_subnet(ec2, vpc_id, "10.0.0.0/24")
    acl = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NetworkAcls"][0]
    ids = dict(vpc=vpc_id, subnet=subnet, acl=acl["NetworkAclId"], assoc=acl["Associations"][0]["NetworkAclAssociationId"])
    got = ec2.describe_network_acls(Filters=[{"Name": name, "Values": [value.format(**ids)]}])["NetworkAcls"]
    assert (acl["NetworkAclId"] in [a["NetworkAclId"] for a in got]) is found


def test_network_acl_tag_filters_and_errors(ec2):
    vpc_id = new_vpc(ec2)
    acl = ec2.describe_network_acls(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["NetworkAcls"][0]["NetworkAclId"]
    ec2.create_tags(Resources=[acl], Tags=[{"Key": "Name", "Value": "acl"}])
    for name, value in [("tag:Name", "acl"), ("tag-key", "Name"), ("tag-value", "acl")]:
        got = ec2.describe_network_acls(Filters=[{"Name": name, "Values": [value]}])["NetworkAcls"]
        assert [a["NetworkAclId"] for a in got] == [acl]
    assert code_of(ec2.describe_network_acls, NetworkAclIds=["acl-0123456789abcdef0"]) == "InvalidNetworkAclID.NotFound"
    assert code_of(ec2.describe_network_acls, NetworkAclIds=["acl-x"]) == "InvalidNetworkAclId.Malformed"
    assert code_of(ec2.describe_network_acls, Filters=[{"Name": "nope", "Values": ["x"]}]) == "InvalidParameterValue"


def test_network_acl_pagination(ec2, unchecked):
    for i in range(6):
        new_vpc(ec2, f"10.{i}.0.0/16")
    seen, token = [], None
    while True:
        kw = {"MaxResults": 5}
        if token:
            kw["NextToken"] = token
        page = ec2.describe_network_acls(**kw)
        seen += [a["NetworkAclId"] for a in page["NetworkAcls"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == len(set(seen)) == 7
    assert code_of(unchecked.describe_network_acls, MaxResults=4) == "InvalidParameterValue"


# --- DHCP options ---------------------------------------------------------------------


def test_default_dhcp_options(ec2):
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    d = ec2.describe_dhcp_options(DhcpOptionsIds=[vpc["DhcpOptionsId"]])["DhcpOptions"][0]
    assert d["OwnerId"] == DEFAULT_ACCOUNT
    conf = {c["Key"]: [v["Value"] for v in c["Values"]] for c in d["DhcpConfigurations"]}
    assert conf == {"domain-name": ["ec2.internal"], "domain-name-servers": ["AmazonProvidedDNS"]}


def test_dhcp_options_full_cycle(ec2):
    vpc_id = new_vpc(ec2)
    d = ec2.create_dhcp_options(
        DhcpConfigurations=[
            {"Key": "domain-name", "Values": ["corp.example.com"]},
            {"Key": "domain-name-servers", "Values": ["10.0.0.2", "AmazonProvidedDNS"]},
            {"Key": "ntp-servers", "Values": ["169.254.169.123"]},
            {"Key": "netbios-name-servers", "Values": ["10.0.0.3"]},
            {"Key": "netbios-node-type", "Values": ["2"]},
            {"Key": "ipv6-address-preferred-lease-time", "Values": ["3600"]},
        ],
        TagSpecifications=tag_spec("dhcp-options", Name="corp"),
    )["DhcpOptions"]
    dopt = d["DhcpOptionsId"]
    assert DOPT_ID.match(dopt) and d["OwnerId"] == DEFAULT_ACCOUNT
    assert d["Tags"] == [{"Key": "Name", "Value": "corp"}]
    conf = {c["Key"]: [v["Value"] for v in c["Values"]] for c in d["DhcpConfigurations"]}
    assert conf["domain-name-servers"] == ["10.0.0.2", "AmazonProvidedDNS"]
    assert conf["netbios-node-type"] == ["2"]
    described = ec2.describe_dhcp_options(DhcpOptionsIds=[dopt])["DhcpOptions"][0]
    assert described["DhcpConfigurations"] == d["DhcpConfigurations"]

    ec2.associate_dhcp_options(DhcpOptionsId=dopt, VpcId=vpc_id)
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["DhcpOptionsId"] == dopt
    assert code_of(ec2.delete_dhcp_options, DhcpOptionsId=dopt) == "DependencyViolation"
    ec2.associate_dhcp_options(DhcpOptionsId="default", VpcId=vpc_id)
    assert ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["DhcpOptionsId"] == "default"
    ec2.delete_dhcp_options(DhcpOptionsId=dopt)
    assert code_of(ec2.describe_dhcp_options, DhcpOptionsIds=[dopt]) == "InvalidDhcpOptionID.NotFound"


def test_default_dhcp_options_in_use_cannot_be_deleted(ec2):
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    assert code_of(ec2.delete_dhcp_options, DhcpOptionsId=vpc["DhcpOptionsId"]) == "DependencyViolation"


def test_deleting_a_vpc_releases_its_dhcp_options(ec2):
    vpc_id = new_vpc(ec2)
    dopt = ec2.create_dhcp_options(DhcpConfigurations=[{"Key": "domain-name", "Values": ["x.example"]}])[
        "DhcpOptions"
    ]["DhcpOptionsId"]
    ec2.associate_dhcp_options(DhcpOptionsId=dopt, VpcId=vpc_id)
    ec2.delete_vpc(VpcId=vpc_id)
    ec2.delete_dhcp_options(DhcpOptionsId=dopt)


@pytest.mark.parametrize(
    "configs,code",
    [
        ([], "MissingParameter"),
        ([{"Key": "colour", "Values": ["blue"]}], "InvalidParameterValue"),
        ([{"Key": "domain-name-servers", "Values": ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5"]}], "InvalidParameterValue"),
        ([{"Key": "domain-name-servers", "Values": ["dns.example"]}], "InvalidParameterValue"),
        ([{"Key": "ntp-servers", "Values": ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5"]}], "InvalidParameterValue"),
        ([{"Key": "netbios-name-servers", "Values": ["1.1.1.1", "1.1.1.2", "1.1.1.3", "1.1.1.4", "1.1.1.5"]}], "InvalidParameterValue"),
        ([{"Key": "netbios-node-type", "Values": ["3"]}], "InvalidParameterValue"),
        ([{"Key": "ipv6-address-preferred-lease-time", "Values": ["100"]}], "InvalidParameterValue"),
        ([{"Key": "domain-name", "Values": ["a.example", "b.example"]}], "InvalidParameterValue"),
        ([{"Key": "domain-name", "Values": ["a.example"]}, {"Key": "domain-name", "Values": ["b.example"]}], "InvalidParameterValue"),
    ],
)
def test_dhcp_options_validation(ec2, configs, code):
    before = len(ec2.describe_dhcp_options()["DhcpOptions"])
    assert code_of(ec2.create_dhcp_options, DhcpConfigurations=configs) == code
    assert len(ec2.describe_dhcp_options()["DhcpOptions"]) == before


def test_dhcp_options_errors(ec2):
    vpc_id = new_vpc(ec2)
    assert code_of(ec2.associate_dhcp_options, DhcpOptionsId=MISSING_DOPT, VpcId=vpc_id) == "InvalidDhcpOptionID.NotFound"
    assert code_of(ec2.associate_dhcp_options, DhcpOptionsId="dopt-x", VpcId=vpc_id) == "InvalidDhcpOptionsId.Malformed"
    assert code_of(ec2.associate_dhcp_options, DhcpOptionsId="default", VpcId="vpc-0123456789abcdef0") == (
        "InvalidVpcID.NotFound"
    )
    assert code_of(ec2.delete_dhcp_options, DhcpOptionsId=MISSING_DOPT) == "InvalidDhcpOptionID.NotFound"
    assert code_of(
        ec2.create_dhcp_options,
        DhcpConfigurations=[{"Key": "domain-name", "Values": ["a.example"]}],
        TagSpecifications=tag_spec("vpc", Name="x"),
    ) == "InvalidParameterValue"


@pytest.mark.parametrize(
    "name,value,expect",
    [
        ("dhcp-options-id", "{mine}", True),
        ("key", "ntp-servers", True),
        ("key", "netbios-node-type", False),
        ("value", "169.254.*", True),
        ("owner-id", DEFAULT_ACCOUNT, True),
        ("tag:Env", "prod", True),
        ("tag-key", "Env", True),
        ("tag-value", "prod", True),
    ],
)
def test_dhcp_options_filters(ec2, name, value, expect):
    mine = ec2.create_dhcp_options(
        DhcpConfigurations=[{"Key": "ntp-servers", "Values": ["169.254.169.123"]}],
        TagSpecifications=tag_spec("dhcp-options", Env="prod"),
    )["DhcpOptions"]["DhcpOptionsId"]
    got = ec2.describe_dhcp_options(Filters=[{"Name": name, "Values": [value.format(mine=mine)]}])["DhcpOptions"]
    assert (mine in [d["DhcpOptionsId"] for d in got]) is expect


def test_dhcp_options_pagination(ec2, unchecked):
    for i in range(6):
        ec2.create_dhcp_options(DhcpConfigurations=[{"Key": "domain-name", "Values": [f"d{i}.example"]}])
    seen, token = [], None
    while True:
        kw = {"MaxResults": 5}
        if token:
            kw["NextToken"] = token
        page = ec2.describe_dhcp_options(**kw)
        seen += [d["DhcpOptionsId"] for d in page["DhcpOptions"]]
        token = page.get("NextToken")
        if not token:
            break
    assert len(seen) == len(set(seen)) == 7
    assert code_of(unchecked.describe_dhcp_options, MaxResults=1001) == "InvalidParameterValue"


# --- the AWS CLI ----------------------------------------------------------------------


def test_cli_route_table(endpoint, tmp_path, ec2):
    vpc_id = new_vpc(ec2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("RESERVOIR_")}
    (tmp_path / "config").write_text("")
    (tmp_path / "credentials").write_text("")
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "awscli", "ec2", "create-route-table", "--vpc-id", vpc_id,
         "--endpoint-url", endpoint, "--output", "json"],
        env=env, capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    rt = json.loads(proc.stdout)["RouteTable"]
    assert rt["VpcId"] == vpc_id
    assert [r["GatewayId"] for r in rt["Routes"]] == ["local"]


def test_concurrent_associations_of_one_subnet_admit_one(ec2, client_factory):
    from concurrent.futures import ThreadPoolExecutor

    vpc_id = new_vpc(ec2)
    subnet = new_subnet(ec2, vpc_id, "10.0.0.0/24")
    rtbs = [ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"] for _ in range(8)]

    def attempt(rtb):
        client = client_factory("ec2")
        try:
            return client.associate_route_table(RouteTableId=rtb, SubnetId=subnet)["AssociationId"]
        except ClientError as e:
            return error_code(e)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(attempt, rtbs))
    won = [r for r in results if RTBASSOC_ID.match(r)]
    assert len(won) == 1, results
    assert sorted(set(results) - set(won)) == ["Resource.AlreadyAssociated"]
    found = tables(ec2, Filters=[{"Name": "association.subnet-id", "Values": [subnet]}])
    assert len(found) == 1 and len(found[0]["Associations"]) == 1
