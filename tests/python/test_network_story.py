"""The network infrastructure code builds first, end to end across the families: a VPC
with public and private subnets in two zones, an internet gateway, route tables and
associations, security groups that reference each other and interfaces with private
addresses; torn down in the order AWS demands, with every refusal on the way. And what
every account and every new VPC has from the start."""

import ipaddress

import pytest
from botocore.exceptions import ClientError

from conftest import delete_default_vpc, error_code, make_client


def refused(code, fn, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    assert error_code(e.value) == code, e.value.response["Error"]
    return e.value


def zones(ec2):
    return [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]


def subnet(ec2, vpc, cidr, zone, name):
    return ec2.create_subnet(
        VpcId=vpc,
        CidrBlock=cidr,
        AvailabilityZone=zone,
        TagSpecifications=[{"ResourceType": "subnet", "Tags": [{"Key": "Name", "Value": name}]}],
    )["Subnet"]["SubnetId"]


def group(ec2, vpc, name):
    return ec2.create_security_group(VpcId=vpc, GroupName=name, Description=f"{name} tier")["GroupId"]


def allow_from_group(ec2, group_id, port, source):
    perm = {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "UserIdGroupPairs": [{"GroupId": source}]}
    ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[perm])
    return perm


def available(ec2, subnet_id):
    return ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["AvailableIpAddressCount"]


def test_two_tier_network_is_built_and_torn_down_in_aws_order(ec2):
    a, b = zones(ec2)[:2]
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})

    public = [subnet(ec2, vpc, "10.20.0.0/24", a, "public-a"), subnet(ec2, vpc, "10.20.1.0/24", b, "public-b")]
    private = [subnet(ec2, vpc, "10.20.10.0/24", a, "private-a"), subnet(ec2, vpc, "10.20.11.0/24", b, "private-b")]
    for s in public:
        ec2.modify_subnet_attribute(SubnetId=s, MapPublicIpOnLaunch={"Value": True})
    refused("InvalidSubnet.Conflict", ec2.create_subnet, VpcId=vpc, CidrBlock="10.20.0.128/25", AvailabilityZone=a)
    refused("InvalidSubnet.Range", ec2.create_subnet, VpcId=vpc, CidrBlock="10.21.0.0/24", AvailabilityZone=a)

    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)

    public_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    refused(
        "RouteAlreadyExists",
        ec2.create_route,
        RouteTableId=public_rt,
        DestinationCidrBlock="0.0.0.0/0",
        GatewayId=igw,
    )
    public_assocs = [ec2.associate_route_table(RouteTableId=public_rt, SubnetId=s)["AssociationId"] for s in public]
    private_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    private_assocs = [ec2.associate_route_table(RouteTableId=private_rt, SubnetId=s)["AssociationId"] for s in private]
    refused("Resource.AlreadyAssociated", ec2.associate_route_table, RouteTableId=private_rt, SubnetId=public[0])

    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["RouteTables"]
    assert len(tables) == 3  # main, public, private
    rt = next(t for t in tables if t["RouteTableId"] == public_rt)
    assert {r["DestinationCidrBlock"]: r.get("GatewayId") for r in rt["Routes"]} == {
        "10.20.0.0/16": "local",
        "0.0.0.0/0": igw,
    }
    assert sorted(x["SubnetId"] for x in rt["Associations"]) == sorted(public)

    alb = group(ec2, vpc, "alb")
    web = group(ec2, vpc, "web")
    db = group(ec2, vpc, "db")
    ec2.authorize_security_group_ingress(
        GroupId=alb,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    web_from_alb = allow_from_group(ec2, web, 80, alb)
    db_from_web = allow_from_group(ec2, db, 5432, web)
    # The groups reference each other: the ALB may reach the web tier, which admits it.
    alb_to_web = {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "UserIdGroupPairs": [{"GroupId": web}]}
    ec2.authorize_security_group_egress(GroupId=alb, IpPermissions=[alb_to_web])
    refused("InvalidPermission.Duplicate", ec2.authorize_security_group_ingress, GroupId=web, IpPermissions=[web_from_alb])

    before = available(ec2, private[0])
    assert before == 251
    enis = [
        ec2.create_network_interface(SubnetId=private[0], Groups=[web])["NetworkInterface"],
        ec2.create_network_interface(SubnetId=private[1], Groups=[web])["NetworkInterface"],
        ec2.create_network_interface(SubnetId=private[0], Groups=[db], PrivateIpAddress="10.20.10.50")[
            "NetworkInterface"
        ],
    ]
    addresses = [e["PrivateIpAddress"] for e in enis]
    assert len(set(addresses)) == 3
    assert addresses[2] == "10.20.10.50"
    assert ipaddress.ip_address(addresses[0]) in ipaddress.ip_network("10.20.10.0/24")
    assert addresses[0] == "10.20.10.4", "the lowest address after AWS's four reserved at the start"
    assert available(ec2, private[0]) == before - 2
    refused(
        "InvalidIPAddress.InUse",
        ec2.create_network_interface,
        SubnetId=private[0],
        PrivateIpAddress="10.20.10.50",
    )

    # Tear-down: every refusal AWS gives on the way.
    refused("DependencyViolation", ec2.delete_vpc, VpcId=vpc)
    refused("DependencyViolation", ec2.delete_subnet, SubnetId=private[0])
    refused("DependencyViolation", ec2.delete_security_group, GroupId=web)  # used by interfaces, referenced
    refused("DependencyViolation", ec2.delete_internet_gateway, InternetGatewayId=igw)
    refused("DependencyViolation", ec2.delete_route_table, RouteTableId=public_rt)

    for e in enis:
        ec2.delete_network_interface(NetworkInterfaceId=e["NetworkInterfaceId"])
    assert available(ec2, private[0]) == before
    refused("DependencyViolation", ec2.delete_security_group, GroupId=web)  # still referenced by db and alb
    ec2.revoke_security_group_ingress(GroupId=db, IpPermissions=[db_from_web])
    ec2.revoke_security_group_egress(GroupId=alb, IpPermissions=[alb_to_web])
    refused("DependencyViolation", ec2.delete_security_group, GroupId=alb)  # web's rule names it
    ec2.delete_security_group(GroupId=web)
    ec2.delete_security_group(GroupId=alb)
    ec2.delete_security_group(GroupId=db)
    default_group = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    refused("CannotDelete", ec2.delete_security_group, GroupId=default_group)

    for assoc in public_assocs + private_assocs:
        ec2.disassociate_route_table(AssociationId=assoc)
    ec2.delete_route_table(RouteTableId=public_rt)
    ec2.delete_route_table(RouteTableId=private_rt)
    refused("DependencyViolation", ec2.delete_vpc, VpcId=vpc)  # the gateway is still attached
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    refused("Gateway.NotAttached", ec2.detach_internet_gateway, InternetGatewayId=igw, VpcId=vpc)
    ec2.delete_internet_gateway(InternetGatewayId=igw)
    for s in public + private:
        ec2.delete_subnet(SubnetId=s)
    ec2.delete_vpc(VpcId=vpc)

    # The VPC took its main route table, default group and default ACL with it.
    gone = [{"Name": "vpc-id", "Values": [vpc]}]
    assert ec2.describe_route_tables(Filters=gone)["RouteTables"] == []
    assert ec2.describe_security_groups(Filters=gone)["SecurityGroups"] == []
    assert ec2.describe_network_acls(Filters=gone)["NetworkAcls"] == []
    assert ec2.describe_subnets(Filters=gone)["Subnets"] == []
    refused("InvalidVpcID.NotFound", ec2.describe_vpcs, VpcIds=[vpc])


def test_a_new_account_has_the_default_vpc_with_all_its_contents(endpoint):
    ec2 = make_client(endpoint, "ec2", key="333333333333")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    assert len(vpc) == 1
    vpc = vpc[0]["VpcId"]
    only = [{"Name": "vpc-id", "Values": [vpc]}]

    names = zones(ec2)
    subnets = ec2.describe_subnets(Filters=only)["Subnets"]
    by_zone = {s["AvailabilityZone"]: s for s in subnets}
    assert sorted(by_zone) == sorted(names), "one default subnet per zone"
    for i, zone in enumerate(names):
        s = by_zone[zone]
        assert s["CidrBlock"] == f"172.31.{16 * i}.0/20", "/20s of 172.31.0.0/16 in zone order"
        assert s["DefaultForAz"] is True
        assert s["MapPublicIpOnLaunch"] is True
        assert s["AvailableIpAddressCount"] == 4091
        assert s["State"] == "available"

    igws = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [vpc]}])["InternetGateways"]
    assert len(igws) == 1
    igw = igws[0]["InternetGatewayId"]
    assert igws[0]["Attachments"] == [{"State": "available", "VpcId": vpc}]

    tables = ec2.describe_route_tables(Filters=only)["RouteTables"]
    assert len(tables) == 1
    main = tables[0]
    assert any(a.get("Main") for a in main["Associations"])
    routes = {r["DestinationCidrBlock"]: r.get("GatewayId") for r in main["Routes"] if "DestinationCidrBlock" in r}
    assert routes == {"172.31.0.0/16": "local", "0.0.0.0/0": igw}

    groups = ec2.describe_security_groups(Filters=only)["SecurityGroups"]
    assert [g["GroupName"] for g in groups] == ["default"]

    acls = ec2.describe_network_acls(Filters=only)["NetworkAcls"]
    assert len(acls) == 1 and acls[0]["IsDefault"] is True
    assert sorted(a["SubnetId"] for a in acls[0]["Associations"]) == sorted(s["SubnetId"] for s in subnets)

    dopt = ec2.describe_vpcs(VpcIds=[vpc])["Vpcs"][0]["DhcpOptionsId"]
    assert ec2.describe_dhcp_options(DhcpOptionsIds=[dopt])["DhcpOptions"][0]["DhcpOptionsId"] == dopt

    # Refused while the default VPC and its subnets exist.
    refused("DefaultVpcAlreadyExists", ec2.create_default_vpc)
    refused("DefaultSubnetAlreadyExistsInAvailabilityZone", ec2.create_default_subnet, AvailabilityZone=names[0])


def test_every_new_vpc_has_a_main_route_table_a_default_group_and_a_default_acl(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    only = [{"Name": "vpc-id", "Values": [vpc]}]
    tables = ec2.describe_route_tables(Filters=only)["RouteTables"]
    assert len(tables) == 1
    assert [(r["DestinationCidrBlock"], r["GatewayId"]) for r in tables[0]["Routes"]] == [("10.30.0.0/16", "local")]
    assert tables[0]["Associations"][0]["Main"] is True

    groups = ec2.describe_security_groups(Filters=only)["SecurityGroups"]
    assert len(groups) == 1 and groups[0]["GroupName"] == "default"
    g = groups[0]
    assert g["IpPermissions"][0]["IpProtocol"] == "-1"
    assert g["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == g["GroupId"]
    assert g["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]

    acls = ec2.describe_network_acls(Filters=only)["NetworkAcls"]
    assert len(acls) == 1 and acls[0]["IsDefault"] is True
    rules = sorted((e["Egress"], e["RuleNumber"], e["RuleAction"]) for e in acls[0]["Entries"])
    assert rules == [(False, 100, "allow"), (False, 32767, "deny"), (True, 100, "allow"), (True, 32767, "deny")]

    # A secondary CIDR shows as a second local route.
    ec2.associate_vpc_cidr_block(VpcId=vpc, CidrBlock="10.31.0.0/16")
    routes = ec2.describe_route_tables(Filters=only)["RouteTables"][0]["Routes"]
    assert sorted(r["DestinationCidrBlock"] for r in routes) == ["10.30.0.0/16", "10.31.0.0/16"]

    # And the VPC deletes with them, nothing else being in it.
    ec2.delete_vpc(VpcId=vpc)
    assert ec2.describe_security_groups(Filters=only)["SecurityGroups"] == []


def test_create_default_vpc_after_deleting_it(endpoint):
    ec2 = make_client(endpoint, "ec2", key="444444444444")
    delete_default_vpc(ec2)
    assert ec2.describe_vpcs()["Vpcs"] == []
    refused("DefaultVpcNotFound", ec2.create_default_subnet, AvailabilityZone=zones(ec2)[0])

    new = ec2.create_default_vpc()["Vpc"]
    assert new["IsDefault"] is True and new["CidrBlock"] == "172.31.0.0/16"
    assert len(ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [new["VpcId"]]}])["Subnets"]) == len(
        zones(ec2)
    )
    first = zones(ec2)[0]
    first_subnet = ec2.describe_subnets(
        Filters=[{"Name": "default-for-az", "Values": ["true"]}, {"Name": "availability-zone", "Values": [first]}]
    )["Subnets"][0]["SubnetId"]
    ec2.delete_subnet(SubnetId=first_subnet)
    again = ec2.create_default_subnet(AvailabilityZone=first)["Subnet"]
    assert again["DefaultForAz"] is True and again["AvailabilityZone"] == first
    assert ipaddress.ip_network(again["CidrBlock"]).prefixlen == 20


def test_new_vpcs_take_the_default_dhcp_options_or_none_once_deleted(ec2):
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    dopt = default_vpc["DhcpOptionsId"]
    assert ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["DhcpOptionsId"] == dopt
    refused("DependencyViolation", ec2.delete_dhcp_options, DhcpOptionsId=dopt)
    for v in ec2.describe_vpcs()["Vpcs"]:
        ec2.associate_dhcp_options(DhcpOptionsId="default", VpcId=v["VpcId"])
    ec2.delete_dhcp_options(DhcpOptionsId=dopt)
    assert ec2.create_vpc(CidrBlock="10.51.0.0/16")["Vpc"]["DhcpOptionsId"] == "default"
