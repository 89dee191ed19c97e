"""Network interfaces: CreateNetworkInterface, DescribeNetworkInterfaces,
DeleteNetworkInterface, Attach/DetachNetworkInterface, Assign/UnassignPrivateIpAddresses,
ModifyNetworkInterfaceAttribute — addresses from the subnet's space, groups, filters,
pagination, DryRun, tags, idempotency, quotas and concurrency."""

import ipaddress
import re
import threading

import pytest
from botocore.exceptions import ClientError

from conftest import DEFAULT_ACCOUNT, ec2_error, error_code, http_status, make_client, raw_ec2
from test_cli import aws  # noqa: F401  (the AWS CLI fixture)

ENI_ID = re.compile(r"^eni-[0-9a-f]{17}$")
MAC = re.compile(r"^02(:[0-9a-f]{2}){5}$")
MISSING_ENI = "eni-0123456789abcdef0"
MISSING_SUBNET = "subnet-0123456789abcdef0"
MISSING_GROUP = "sg-0123456789abcdef0"
MISSING_INSTANCE = "i-0123456789abcdef0"
MISSING_ATTACHMENT = "eni-attach-0123456789abcdef0"


def client_error(fn, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    return e.value


def tag_spec(tags, resource_type="network-interface"):
    return [{"ResourceType": resource_type, "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]


@pytest.fixture
def vpc(ec2):
    return ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]


@pytest.fixture
def subnet(ec2, vpc):
    return ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]


def create(ec2, subnet_id, **kw):
    return ec2.create_network_interface(SubnetId=subnet_id, **kw)["NetworkInterface"]


def available(ec2, subnet_id):
    return ec2.describe_subnets(SubnetIds=[subnet_id])["Subnets"][0]["AvailableIpAddressCount"]


def addresses(eni):
    return [a["PrivateIpAddress"] for a in eni["PrivateIpAddresses"]]


def describe(ec2, eni_id):
    return ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]


def default_group(ec2, vpc):
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"]
    assert len(groups) == 1
    return groups[0]["GroupId"]


# --- CreateNetworkInterface ------------------------------------------------------------


def test_create_with_an_automatic_address(ec2, vpc, subnet):
    eni = create(ec2, subnet["SubnetId"], Description="first")
    assert ENI_ID.match(eni["NetworkInterfaceId"])
    # The subnet's first four addresses are reserved: the lowest free one is .4.
    assert eni["PrivateIpAddress"] == "10.0.1.4"
    assert eni["PrivateIpAddresses"] == [
        {"Primary": True, "PrivateIpAddress": "10.0.1.4", "PrivateDnsName": "ip-10-0-1-4.ec2.internal"}
    ]
    assert eni["PrivateDnsName"] == "ip-10-0-1-4.ec2.internal"
    assert MAC.match(eni["MacAddress"]), eni["MacAddress"]
    assert eni["Status"] == "available"
    assert eni["RequesterManaged"] is False
    assert eni["SourceDestCheck"] is True
    assert eni["OwnerId"] == DEFAULT_ACCOUNT
    assert eni["AvailabilityZone"] == "us-east-1a"
    assert eni["AvailabilityZoneId"] == subnet["AvailabilityZoneId"]
    assert eni["VpcId"] == vpc
    assert eni["SubnetId"] == subnet["SubnetId"]
    assert eni["InterfaceType"] == "interface"
    assert eni["Description"] == "first"
    assert eni["Groups"] == [{"GroupId": default_group(ec2, vpc), "GroupName": "default"}]
    assert "Attachment" not in eni
    assert describe(ec2, eni["NetworkInterfaceId"]) | {"TagSet": []} == eni | {"TagSet": []}


def test_create_with_a_chosen_address(ec2, subnet):
    eni = create(ec2, subnet["SubnetId"], PrivateIpAddress="10.0.1.50")
    assert eni["PrivateIpAddress"] == "10.0.1.50"
    e = client_error(create, ec2, subnet["SubnetId"], PrivateIpAddress="10.0.1.50")
    assert error_code(e) == "InvalidIPAddress.InUse"
    for outside in ["10.0.2.5", "10.0.1.0", "10.0.1.1", "10.0.1.3", "10.0.1.255"]:
        e = client_error(create, ec2, subnet["SubnetId"], PrivateIpAddress=outside)
        assert error_code(e) == "InvalidParameterValue", outside
    e = client_error(create, ec2, subnet["SubnetId"], PrivateIpAddress="10.0.1")
    assert error_code(e) == "InvalidParameterValue"


def test_other_regions_name_addresses_with_the_region(client_factory):
    ec2 = client_factory("ec2", region="eu-west-1")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    eni = create(ec2, subnet)
    assert eni["PrivateDnsName"] == "ip-10-0-1-4.eu-west-1.compute.internal"


def test_secondary_addresses(ec2, subnet):
    eni = create(ec2, subnet["SubnetId"], SecondaryPrivateIpAddressCount=2)
    assert addresses(eni) == ["10.0.1.4", "10.0.1.5", "10.0.1.6"]
    assert [a["Primary"] for a in eni["PrivateIpAddresses"]] == [True, False, False]

    listed = create(
        ec2,
        subnet["SubnetId"],
        PrivateIpAddresses=[
            {"PrivateIpAddress": "10.0.1.20", "Primary": False},
            {"PrivateIpAddress": "10.0.1.21", "Primary": True},
        ],
    )
    assert listed["PrivateIpAddress"] == "10.0.1.21"
    assert sorted(addresses(listed)) == ["10.0.1.20", "10.0.1.21"]

    both = create(ec2, subnet["SubnetId"], PrivateIpAddress="10.0.1.30", SecondaryPrivateIpAddressCount=1)
    assert addresses(both) == ["10.0.1.30", "10.0.1.7"]


def test_address_parameters_are_checked(ec2, subnet):
    sid = subnet["SubnetId"]
    two_primaries = [
        {"PrivateIpAddress": "10.0.1.20", "Primary": True},
        {"PrivateIpAddress": "10.0.1.21", "Primary": True},
    ]
    assert error_code(client_error(create, ec2, sid, PrivateIpAddresses=two_primaries)) == "InvalidParameterValue"
    e = client_error(
        create, ec2, sid, PrivateIpAddress="10.0.1.9", PrivateIpAddresses=[{"PrivateIpAddress": "10.0.1.20", "Primary": True}]
    )
    assert error_code(e) == "InvalidParameterCombination"
    e = client_error(
        create,
        ec2,
        sid,
        SecondaryPrivateIpAddressCount=1,
        PrivateIpAddresses=[{"PrivateIpAddress": "10.0.1.20"}, {"PrivateIpAddress": "10.0.1.21"}],
    )
    assert error_code(e) == "InvalidParameterCombination"
    e = client_error(create, ec2, sid, SecondaryPrivateIpAddressCount=-1)
    assert error_code(e) == "InvalidParameterValue"
    dup = [{"PrivateIpAddress": "10.0.1.20"}, {"PrivateIpAddress": "10.0.1.20"}]
    assert error_code(client_error(create, ec2, sid, PrivateIpAddresses=dup)) == "InvalidParameterValue"
    # A refused request holds nothing.
    assert ec2.describe_network_interfaces()["NetworkInterfaces"] == []
    assert available(ec2, sid) == 251


def test_a_failed_create_frees_what_it_took(ec2, subnet):
    sid = subnet["SubnetId"]
    create(ec2, sid, PrivateIpAddress="10.0.1.6")
    # .4 and .5 are taken for the request, then .6 is in use: all rolled back.
    e = client_error(create, ec2, sid, SecondaryPrivateIpAddressCount=1, PrivateIpAddresses=[{"PrivateIpAddress": "10.0.1.6"}])
    assert error_code(e) == "InvalidIPAddress.InUse"
    assert available(ec2, sid) == 250
    assert create(ec2, sid)["PrivateIpAddress"] == "10.0.1.4"


def test_addresses_are_never_repeated(ec2, subnet):
    sid = subnet["SubnetId"]
    seen = []
    enis = []
    for i in range(8):
        eni = create(ec2, sid, SecondaryPrivateIpAddressCount=i % 3)
        enis.append(eni["NetworkInterfaceId"])
        seen.extend(addresses(eni))
    assigned = ec2.assign_private_ip_addresses(NetworkInterfaceId=enis[0], SecondaryPrivateIpAddressCount=3)
    seen.extend(a["PrivateIpAddress"] for a in assigned["AssignedPrivateIpAddresses"])
    assert len(seen) == len(set(seen)), seen
    # A freed address is handed out again (the lowest free one first).
    ec2.delete_network_interface(NetworkInterfaceId=enis[1])
    again = create(ec2, sid)
    assert again["PrivateIpAddress"] == "10.0.1.5"
    listed = [a for e in ec2.describe_network_interfaces()["NetworkInterfaces"] for a in addresses(e)]
    assert len(listed) == len(set(listed))
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("10.0.1.0/24") for a in listed)


def test_available_address_count_moves_down_and_up(ec2, subnet):
    sid = subnet["SubnetId"]
    assert available(ec2, sid) == 251
    eni = create(ec2, sid, SecondaryPrivateIpAddressCount=2)["NetworkInterfaceId"]
    assert available(ec2, sid) == 248
    ec2.assign_private_ip_addresses(NetworkInterfaceId=eni, PrivateIpAddresses=["10.0.1.100", "10.0.1.101"])
    assert available(ec2, sid) == 246
    ec2.unassign_private_ip_addresses(NetworkInterfaceId=eni, PrivateIpAddresses=["10.0.1.100"])
    assert available(ec2, sid) == 247
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    assert available(ec2, sid) == 251


def test_exhausting_a_subnet(ec2, vpc):
    small = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.9.0/28")["Subnet"]["SubnetId"]
    eni = create(ec2, small, SecondaryPrivateIpAddressCount=10)
    assert len(addresses(eni)) == 11
    assert available(ec2, small) == 0
    e = client_error(create, ec2, small)
    assert error_code(e) == "InsufficientFreeAddressesInSubnet"
    e = client_error(ec2.assign_private_ip_addresses, NetworkInterfaceId=eni["NetworkInterfaceId"], SecondaryPrivateIpAddressCount=1)
    assert error_code(e) == "InsufficientFreeAddressesInSubnet"


def test_subnet_errors(ec2):
    e = client_error(create, ec2, MISSING_SUBNET)
    assert error_code(e) == "InvalidSubnetID.NotFound"
    assert http_status(e) == 400
    e = client_error(create, ec2, "subnet-nope")
    assert error_code(e) == "InvalidSubnetID.Malformed"


def test_description_is_at_most_255_characters(ec2, subnet):
    assert create(ec2, subnet["SubnetId"], Description="d" * 255)["Description"] == "d" * 255
    e = client_error(create, ec2, subnet["SubnetId"], Description="d" * 256)
    assert error_code(e) == "InvalidParameterValue"


def test_groups(ec2, vpc, subnet):
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    eni = create(ec2, subnet["SubnetId"], Groups=[sg])
    assert eni["Groups"] == [{"GroupId": sg, "GroupName": "web"}]
    e = client_error(create, ec2, subnet["SubnetId"], Groups=[MISSING_GROUP])
    assert error_code(e) == "InvalidGroup.NotFound"
    e = client_error(create, ec2, subnet["SubnetId"], Groups=["sg-nope"])
    assert error_code(e) == "InvalidGroupId.Malformed"
    other_vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    foreign = ec2.create_security_group(GroupName="other", Description="o", VpcId=other_vpc)["GroupId"]
    e = client_error(create, ec2, subnet["SubnetId"], Groups=[foreign])
    assert http_status(e) == 400
    assert len(ec2.describe_network_interfaces()["NetworkInterfaces"]) == 1


def test_a_group_in_use_cannot_be_deleted(ec2, vpc, subnet):
    sg = ec2.create_security_group(GroupName="used", Description="u", VpcId=vpc)["GroupId"]
    eni = create(ec2, subnet["SubnetId"], Groups=[sg])["NetworkInterfaceId"]
    e = client_error(ec2.delete_security_group, GroupId=sg)
    assert error_code(e) == "DependencyViolation"
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=[default_group(ec2, vpc)])
    ec2.delete_security_group(GroupId=sg)

    sg2 = ec2.create_security_group(GroupName="used2", Description="u", VpcId=vpc)["GroupId"]
    eni2 = create(ec2, subnet["SubnetId"], Groups=[sg2])["NetworkInterfaceId"]
    assert error_code(client_error(ec2.delete_security_group, GroupId=sg2)) == "DependencyViolation"
    ec2.delete_network_interface(NetworkInterfaceId=eni2)
    ec2.delete_security_group(GroupId=sg2)


def test_delete_subnet_is_refused_while_an_interface_exists(ec2, subnet):
    eni = create(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    e = client_error(ec2.delete_subnet, SubnetId=subnet["SubnetId"])
    assert error_code(e) == "DependencyViolation"
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    ec2.delete_subnet(SubnetId=subnet["SubnetId"])


def test_tags(ec2, subnet):
    eni = create(ec2, subnet["SubnetId"], TagSpecifications=tag_spec({"Name": "web", "team": "a"}))
    assert sorted((t["Key"], t["Value"]) for t in eni["TagSet"]) == [("Name", "web"), ("team", "a")]
    found = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [eni["NetworkInterfaceId"]]}])["Tags"]
    assert {t["ResourceType"] for t in found} == {"network-interface"}
    e = client_error(create, ec2, subnet["SubnetId"], TagSpecifications=tag_spec({"a": "b"}, "vpc"))
    assert error_code(e) == "InvalidParameterValue"
    ec2.create_tags(Resources=[eni["NetworkInterfaceId"]], Tags=[{"Key": "later", "Value": "x"}])
    tags = describe(ec2, eni["NetworkInterfaceId"])["TagSet"]
    assert ("later", "x") in [(t["Key"], t["Value"]) for t in tags]


def test_client_token(ec2, subnet):
    first = ec2.create_network_interface(SubnetId=subnet["SubnetId"], ClientToken="tok-1")
    again = ec2.create_network_interface(SubnetId=subnet["SubnetId"], ClientToken="tok-1")
    assert first["NetworkInterface"]["NetworkInterfaceId"] == again["NetworkInterface"]["NetworkInterfaceId"]
    assert first["ClientToken"] == "tok-1"
    assert len(ec2.describe_network_interfaces()["NetworkInterfaces"]) == 1
    e = client_error(ec2.create_network_interface, SubnetId=subnet["SubnetId"], ClientToken="tok-1", Description="x")
    assert error_code(e) == "IdempotentParameterMismatch"


def test_dry_run(ec2, subnet):
    sid = subnet["SubnetId"]
    e = client_error(create, ec2, sid, DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert http_status(e) == 412
    assert ec2.describe_network_interfaces()["NetworkInterfaces"] == []
    assert available(ec2, sid) == 251
    # A dry run that would fail answers the failure.
    assert error_code(client_error(create, ec2, MISSING_SUBNET, DryRun=True)) == "InvalidSubnetID.NotFound"
    eni = create(ec2, sid)["NetworkInterfaceId"]
    assert error_code(client_error(ec2.describe_network_interfaces, DryRun=True)) == "DryRunOperation"
    e = client_error(ec2.modify_network_interface_attribute, NetworkInterfaceId=eni, Description={"Value": "x"}, DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert describe(ec2, eni)["Description"] == ""
    assert error_code(client_error(ec2.delete_network_interface, NetworkInterfaceId=eni, DryRun=True)) == "DryRunOperation"
    assert describe(ec2, eni)["NetworkInterfaceId"] == eni
    e = client_error(ec2.detach_network_interface, AttachmentId=MISSING_ATTACHMENT, DryRun=True)
    assert error_code(e) == "InvalidAttachmentID.NotFound"


# --- DescribeNetworkInterfaces ---------------------------------------------------------


def test_describe_by_id(ec2, subnet):
    a = create(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    b = create(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    got = ec2.describe_network_interfaces(NetworkInterfaceIds=[b, a])["NetworkInterfaces"]
    assert sorted(i["NetworkInterfaceId"] for i in got) == sorted([a, b])
    e = client_error(ec2.describe_network_interfaces, NetworkInterfaceIds=[a, MISSING_ENI])
    assert error_code(e) == "InvalidNetworkInterfaceID.NotFound"
    assert MISSING_ENI in e.response["Error"]["Message"]
    e = client_error(ec2.describe_network_interfaces, NetworkInterfaceIds=["eni-zz"])
    assert error_code(e) == "InvalidNetworkInterfaceID.Malformed"


def test_accounts_do_not_see_each_others_interfaces(ec2, ec2_other, subnet):
    eni = create(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    assert ec2_other.describe_network_interfaces()["NetworkInterfaces"] == []
    e = client_error(ec2_other.delete_network_interface, NetworkInterfaceId=eni)
    assert error_code(e) == "InvalidNetworkInterfaceID.NotFound"


def test_pagination(ec2, subnet, endpoint):
    made = [create(ec2, subnet["SubnetId"])["NetworkInterfaceId"] for _ in range(7)]
    first = ec2.describe_network_interfaces(MaxResults=5)
    assert len(first["NetworkInterfaces"]) == 5
    second = ec2.describe_network_interfaces(MaxResults=5, NextToken=first["NextToken"])
    assert len(second["NetworkInterfaces"]) == 2
    assert "NextToken" not in second
    got = [i["NetworkInterfaceId"] for i in first["NetworkInterfaces"] + second["NetworkInterfaces"]]
    assert got == made
    pages = ec2.get_paginator("describe_network_interfaces").paginate(PaginationConfig={"PageSize": 5})
    assert [i["NetworkInterfaceId"] for p in pages for i in p["NetworkInterfaces"]] == made
    e = client_error(ec2.describe_network_interfaces, MaxResults=1001)
    assert error_code(e) == "InvalidParameterValue"
    # botocore checks the minimum itself: send 4 as a raw request.
    code, _, _ = ec2_error(raw_ec2(endpoint, "Action=DescribeNetworkInterfaces&Version=2016-11-15&MaxResults=4"))
    assert code == "InvalidParameterValue"
    e = client_error(ec2.describe_network_interfaces, MaxResults=5, NextToken="garbage")
    assert error_code(e) == "InvalidNextToken"


@pytest.fixture
def filter_world(ec2, vpc, subnet):
    """Two interfaces that differ in every filtered field, and what each answers."""
    other_subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    a = create(
        ec2,
        subnet["SubnetId"],
        Description="alpha",
        PrivateIpAddress="10.0.1.10",
        SecondaryPrivateIpAddressCount=1,
        Groups=[sg],
        TagSpecifications=tag_spec({"Name": "a", "role": "x"}),
    )
    b = create(ec2, other_subnet["SubnetId"], Description="beta", TagSpecifications=tag_spec({"Name": "b"}))
    ec2.modify_network_interface_attribute(NetworkInterfaceId=b["NetworkInterfaceId"], SourceDestCheck={"Value": False})
    return {"a": a, "b": b, "sg": sg, "vpc": vpc}


def only(ec2, name, values):
    got = ec2.describe_network_interfaces(Filters=[{"Name": name, "Values": values}])["NetworkInterfaces"]
    return sorted(i["NetworkInterfaceId"] for i in got)


FILTER_CASES = [
    # (filter name, value or callable(world) -> value, which interfaces match)
    ("addresses.private-ip-address", lambda w: w["a"]["PrivateIpAddresses"][1]["PrivateIpAddress"], ["a"]),
    ("addresses.primary", "true", ["a", "b"]),
    ("addresses.primary", "false", ["a"]),
    ("private-ip-address", "10.0.1.10", ["a"]),
    ("private-ip-address", "10.0.2.*", ["b"]),
    ("private-dns-name", "ip-10-0-1-10.ec2.internal", ["a"]),
    ("availability-zone", "us-east-1b", ["b"]),
    ("availability-zone-id", lambda w: w["b"]["AvailabilityZoneId"], ["b"]),
    ("description", "alpha", ["a"]),
    ("description", "*ta", ["b"]),
    ("group-id", lambda w: w["sg"], ["a"]),
    ("group-name", "default", ["b"]),
    ("group-name", "web", ["a"]),
    ("interface-type", "interface", ["a", "b"]),
    ("mac-address", lambda w: w["a"]["MacAddress"], ["a"]),
    ("network-interface-id", lambda w: w["b"]["NetworkInterfaceId"], ["b"]),
    ("owner-id", DEFAULT_ACCOUNT, ["a", "b"]),
    ("requester-managed", "false", ["a", "b"]),
    ("requester-id", "*", []),
    ("source-dest-check", "false", ["b"]),
    ("source-dest-check", "true", ["a"]),
    ("status", "available", ["a", "b"]),
    ("status", "in-use", []),
    ("subnet-id", lambda w: w["a"]["SubnetId"], ["a"]),
    ("vpc-id", lambda w: w["vpc"], ["a", "b"]),
    ("tag:Name", "b", ["b"]),
    ("tag-key", "role", ["a"]),
    ("tag-value", "x", ["a"]),
    ("ipv6-addresses.ipv6-address", "*", []),
    ("operator.managed", "false", ["a", "b"]),
    ("operator.principal", "*", []),
    ("attachment.attachment-id", "*", []),
    ("attachment.instance-id", "*", []),
    ("attachment.instance-owner-id", "*", []),
    ("attachment.device-index", "1", []),
    ("attachment.status", "attached", []),
    ("attachment.attach-time", "*", []),
    ("attachment.delete-on-termination", "true", []),
    ("association.allocation-id", "*", []),
    ("association.association-id", "*", []),
    ("association.ip-owner-id", "*", []),
    ("association.public-ip", "*", []),
    ("association.public-dns-name", "*", []),
    ("addresses.association.owner-id", "*", []),
    ("addresses.association.public-ip", "*", []),
]


@pytest.mark.parametrize(
    "name,value,expected", FILTER_CASES, ids=[f"{c[0]}={c[1] if isinstance(c[1], str) else 'x'}" for c in FILTER_CASES]
)
def test_filter(ec2, filter_world, name, value, expected):
    w = filter_world
    v = value(w) if callable(value) else value
    want = sorted(w[k]["NetworkInterfaceId"] for k in expected)
    assert only(ec2, name, [v]) == want


def test_filters_combine_and_unknown_ones_are_refused(ec2, filter_world):
    w = filter_world
    both = ec2.describe_network_interfaces(
        Filters=[{"Name": "status", "Values": ["available"]}, {"Name": "description", "Values": ["alpha", "beta"]}]
    )["NetworkInterfaces"]
    assert len(both) == 2
    got = ec2.describe_network_interfaces(
        NetworkInterfaceIds=[w["a"]["NetworkInterfaceId"], w["b"]["NetworkInterfaceId"]],
        Filters=[{"Name": "description", "Values": ["beta"]}],
    )["NetworkInterfaces"]
    assert [i["NetworkInterfaceId"] for i in got] == [w["b"]["NetworkInterfaceId"]]
    e = client_error(ec2.describe_network_interfaces, Filters=[{"Name": "nope", "Values": ["x"]}])
    assert error_code(e) == "InvalidParameterValue"


# --- DeleteNetworkInterface ------------------------------------------------------------


def test_delete(ec2, subnet):
    eni = create(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    assert ec2.describe_network_interfaces()["NetworkInterfaces"] == []
    e = client_error(ec2.delete_network_interface, NetworkInterfaceId=eni)
    assert error_code(e) == "InvalidNetworkInterfaceID.NotFound"
    e = client_error(ec2.delete_network_interface, NetworkInterfaceId="eni-bad")
    assert error_code(e) == "InvalidNetworkInterfaceID.Malformed"


# --- Attach / Detach (no instances yet) -------------------------------------------------


def test_attach_answers_instance_errors(ec2, subnet):
    eni = create(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    e = client_error(ec2.attach_network_interface, NetworkInterfaceId=eni, InstanceId=MISSING_INSTANCE, DeviceIndex=1)
    assert error_code(e) == "InvalidInstanceID.NotFound"
    e = client_error(ec2.attach_network_interface, NetworkInterfaceId=eni, InstanceId="i-nope", DeviceIndex=1)
    assert error_code(e) == "InvalidInstanceID.Malformed"
    e = client_error(ec2.attach_network_interface, NetworkInterfaceId=MISSING_ENI, InstanceId=MISSING_INSTANCE, DeviceIndex=1)
    assert error_code(e) == "InvalidNetworkInterfaceID.NotFound"
    assert describe(ec2, eni)["Status"] == "available"


def test_detach_of_an_unknown_attachment(ec2):
    e = client_error(ec2.detach_network_interface, AttachmentId=MISSING_ATTACHMENT)
    assert error_code(e) == "InvalidAttachmentID.NotFound"
    e = client_error(ec2.detach_network_interface, AttachmentId="eni-attach-zz")
    assert error_code(e) == "InvalidAttachmentID.Malformed"


# --- Assign / Unassign ------------------------------------------------------------------


def test_assign_and_unassign(ec2, subnet):
    eni = create(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    out = ec2.assign_private_ip_addresses(NetworkInterfaceId=eni, SecondaryPrivateIpAddressCount=2)
    assert out["NetworkInterfaceId"] == eni
    assert [a["PrivateIpAddress"] for a in out["AssignedPrivateIpAddresses"]] == ["10.0.1.5", "10.0.1.6"]
    out = ec2.assign_private_ip_addresses(NetworkInterfaceId=eni, PrivateIpAddresses=["10.0.1.77"])
    assert [a["PrivateIpAddress"] for a in out["AssignedPrivateIpAddresses"]] == ["10.0.1.77"]
    assert addresses(describe(ec2, eni)) == ["10.0.1.4", "10.0.1.5", "10.0.1.6", "10.0.1.77"]
    ec2.unassign_private_ip_addresses(NetworkInterfaceId=eni, PrivateIpAddresses=["10.0.1.5", "10.0.1.77"])
    assert addresses(describe(ec2, eni)) == ["10.0.1.4", "10.0.1.6"]


def test_assign_and_unassign_errors(ec2, subnet):
    eni = create(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    e = client_error(ec2.assign_private_ip_addresses, NetworkInterfaceId=eni, PrivateIpAddresses=["10.0.1.4"])
    assert error_code(e) == "InvalidIPAddress.InUse"
    e = client_error(ec2.assign_private_ip_addresses, NetworkInterfaceId=eni, PrivateIpAddresses=["10.0.7.4"])
    assert error_code(e) == "InvalidParameterValue"
    e = client_error(
        ec2.assign_private_ip_addresses, NetworkInterfaceId=eni, PrivateIpAddresses=["10.0.1.9"], SecondaryPrivateIpAddressCount=1
    )
    assert error_code(e) == "InvalidParameterCombination"
    e = client_error(ec2.assign_private_ip_addresses, NetworkInterfaceId=eni)
    assert error_code(e) == "MissingParameter"
    e = client_error(ec2.assign_private_ip_addresses, NetworkInterfaceId=MISSING_ENI, SecondaryPrivateIpAddressCount=1)
    assert error_code(e) == "InvalidNetworkInterfaceID.NotFound"
    # The primary address cannot be unassigned; an address not on the interface neither.
    e = client_error(ec2.unassign_private_ip_addresses, NetworkInterfaceId=eni, PrivateIpAddresses=["10.0.1.4"])
    assert error_code(e) == "InvalidParameterValue"
    assert "primary" in e.response["Error"]["Message"]
    e = client_error(ec2.unassign_private_ip_addresses, NetworkInterfaceId=eni, PrivateIpAddresses=["10.0.1.99"])
    assert error_code(e) == "InvalidParameterValue"
    assert addresses(describe(ec2, eni)) == ["10.0.1.4"]


def test_allow_reassignment_moves_a_secondary_address(ec2, subnet):
    sid = subnet["SubnetId"]
    a = create(ec2, sid, PrivateIpAddress="10.0.1.10")["NetworkInterfaceId"]
    b = create(ec2, sid, PrivateIpAddress="10.0.1.11")["NetworkInterfaceId"]
    ec2.assign_private_ip_addresses(NetworkInterfaceId=a, PrivateIpAddresses=["10.0.1.60"])
    e = client_error(ec2.assign_private_ip_addresses, NetworkInterfaceId=b, PrivateIpAddresses=["10.0.1.60"])
    assert error_code(e) == "InvalidIPAddress.InUse"
    before = available(ec2, sid)
    ec2.assign_private_ip_addresses(NetworkInterfaceId=b, PrivateIpAddresses=["10.0.1.60"], AllowReassignment=True)
    assert addresses(describe(ec2, a)) == ["10.0.1.10"]
    assert addresses(describe(ec2, b)) == ["10.0.1.11", "10.0.1.60"]
    assert available(ec2, sid) == before
    # A primary address never moves.
    e = client_error(
        ec2.assign_private_ip_addresses, NetworkInterfaceId=b, PrivateIpAddresses=["10.0.1.10"], AllowReassignment=True
    )
    assert error_code(e) == "InvalidIPAddress.InUse"


# --- ModifyNetworkInterfaceAttribute ----------------------------------------------------


def test_modify_attributes(ec2, vpc, subnet):
    eni = create(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Description={"Value": "changed"})
    assert describe(ec2, eni)["Description"] == "changed"
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, SourceDestCheck={"Value": False})
    assert describe(ec2, eni)["SourceDestCheck"] is False
    sg1 = ec2.create_security_group(GroupName="g1", Description="g", VpcId=vpc)["GroupId"]
    sg2 = ec2.create_security_group(GroupName="g2", Description="g", VpcId=vpc)["GroupId"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=[sg1, sg2])
    assert sorted(g["GroupName"] for g in describe(ec2, eni)["Groups"]) == ["g1", "g2"]
    e = client_error(ec2.modify_network_interface_attribute, NetworkInterfaceId=eni, Groups=[MISSING_GROUP])
    assert error_code(e) == "InvalidGroup.NotFound"
    assert sorted(g["GroupName"] for g in describe(ec2, eni)["Groups"]) == ["g1", "g2"]


def test_modify_errors(ec2, subnet):
    eni = create(ec2, subnet["SubnetId"])["NetworkInterfaceId"]
    e = client_error(
        ec2.modify_network_interface_attribute,
        NetworkInterfaceId=eni,
        Description={"Value": "x"},
        SourceDestCheck={"Value": False},
    )
    assert error_code(e) == "InvalidParameterCombination"
    e = client_error(ec2.modify_network_interface_attribute, NetworkInterfaceId=eni)
    assert error_code(e) == "MissingParameter"
    e = client_error(
        ec2.modify_network_interface_attribute,
        NetworkInterfaceId=eni,
        Attachment={"AttachmentId": MISSING_ATTACHMENT, "DeleteOnTermination": True},
    )
    assert error_code(e) == "InvalidAttachmentID.NotFound"
    e = client_error(ec2.modify_network_interface_attribute, NetworkInterfaceId=eni, Description={"Value": "d" * 256})
    assert error_code(e) == "InvalidParameterValue"
    e = client_error(ec2.modify_network_interface_attribute, NetworkInterfaceId=MISSING_ENI, Description={"Value": "x"})
    assert error_code(e) == "InvalidNetworkInterfaceID.NotFound"
    d = describe(ec2, eni)
    assert d["Description"] == "" and d["SourceDestCheck"] is True


# --- IPv6 ---------------------------------------------------------------------------------


def test_ipv6_needs_a_subnet_with_an_ipv6_block(ec2, subnet):
    e = client_error(create, ec2, subnet["SubnetId"], Ipv6AddressCount=1)
    assert error_code(e) == "InvalidParameterValue"
    e = client_error(create, ec2, subnet["SubnetId"], Ipv6AddressCount=1, Ipv6Addresses=[{"Ipv6Address": "2600::1"}])
    assert error_code(e) == "InvalidParameterCombination"


def test_ipv6_addresses_from_the_subnet_block(ec2):
    try:
        vpc = ec2.create_vpc(CidrBlock="10.5.0.0/16", AmazonProvidedIpv6CidrBlock=True)["Vpc"]
    except ClientError as e:
        if http_status(e) == 501:
            pytest.skip("Amazon-provided IPv6 blocks are not served")
        raise
    vpc = ec2.describe_vpcs(VpcIds=[vpc["VpcId"]])["Vpcs"][0]
    block = ipaddress.ip_network(vpc["Ipv6CidrBlockAssociationSet"][0]["Ipv6CidrBlock"])
    sub64 = str(next(block.subnets(new_prefix=64)))
    sid = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.5.1.0/24", Ipv6CidrBlock=sub64)["Subnet"]["SubnetId"]
    eni = create(ec2, sid, Ipv6AddressCount=2)
    got = [a["Ipv6Address"] for a in eni["Ipv6Addresses"]]
    assert len(set(got)) == 2
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network(sub64) for a in got)
    chosen = str(ipaddress.ip_network(sub64)[100])
    eni2 = create(ec2, sid, Ipv6Addresses=[{"Ipv6Address": chosen}])
    assert [a["Ipv6Address"] for a in eni2["Ipv6Addresses"]] == [chosen]
    assert error_code(client_error(create, ec2, sid, Ipv6Addresses=[{"Ipv6Address": chosen}])) == "InvalidIPAddress.InUse"
    assert only(ec2, "ipv6-addresses.ipv6-address", [chosen]) == [eni2["NetworkInterfaceId"]]
    ec2.delete_network_interface(NetworkInterfaceId=eni2["NetworkInterfaceId"])
    assert create(ec2, sid, Ipv6Addresses=[{"Ipv6Address": chosen}])["Ipv6Addresses"][0]["Ipv6Address"] == chosen


# --- quotas -------------------------------------------------------------------------------


def test_quotas(own_server, tmp_path):
    cfg = tmp_path / "reservoir.toml"
    cfg.write_text("[quotas]\nnetwork-interfaces-per-region = 2\nsecurity-groups-per-interface = 2\n")
    s = own_server("--ephemeral", "--listen", "127.0.0.1:0", "--config", str(cfg))
    ec2 = s.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sid = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    groups = [ec2.create_security_group(GroupName=f"g{i}", Description="g", VpcId=vpc)["GroupId"] for i in range(3)]
    e = client_error(create, ec2, sid, Groups=groups)
    assert error_code(e) == "SecurityGroupsPerInterfaceLimitExceeded"
    eni = create(ec2, sid, Groups=groups[:2])["NetworkInterfaceId"]
    e = client_error(ec2.modify_network_interface_attribute, NetworkInterfaceId=eni, Groups=groups)
    assert error_code(e) == "SecurityGroupsPerInterfaceLimitExceeded"
    create(ec2, sid)
    e = client_error(create, ec2, sid)
    assert error_code(e) == "NetworkInterfaceLimitExceeded"
    ec2.delete_network_interface(NetworkInterfaceId=eni)
    create(ec2, sid)


def test_private_address_quota(own_server, tmp_path):
    cfg = tmp_path / "reservoir.toml"
    cfg.write_text("[quotas]\nprivate-addresses-per-interface = 3\n")
    s = own_server("--ephemeral", "--listen", "127.0.0.1:0", "--config", str(cfg))
    ec2 = s.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    sid = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    e = client_error(create, ec2, sid, SecondaryPrivateIpAddressCount=3)
    assert error_code(e) == "PrivateIpAddressLimitExceeded"
    eni = create(ec2, sid, SecondaryPrivateIpAddressCount=1)["NetworkInterfaceId"]
    ec2.assign_private_ip_addresses(NetworkInterfaceId=eni, SecondaryPrivateIpAddressCount=1)
    e = client_error(ec2.assign_private_ip_addresses, NetworkInterfaceId=eni, SecondaryPrivateIpAddressCount=1)
    assert error_code(e) == "PrivateIpAddressLimitExceeded"
    # A refused call held nothing: the subnet lost exactly the three addresses in use.
    assert ec2.describe_subnets(SubnetIds=[sid])["Subnets"][0]["AvailableIpAddressCount"] == 251 - 3


# --- concurrency --------------------------------------------------------------------------


def test_concurrent_creates_in_a_small_subnet(ec2, vpc, endpoint):
    """16 clients create interfaces in one /28 at once: 11 succeed with distinct
    addresses (16 less AWS's 5 reserved), the rest answer InsufficientFreeAddressesInSubnet."""
    sid = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.3.0/28")["Subnet"]["SubnetId"]
    clients = [make_client(endpoint, "ec2") for _ in range(16)]
    barrier = threading.Barrier(16)
    results = [None] * 16

    def run(i):
        barrier.wait()
        try:
            results[i] = ("ok", create(clients[i], sid)["PrivateIpAddress"])
        except ClientError as e:
            results[i] = ("error", error_code(e))

    threads = [threading.Thread(target=run, args=(i,)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    ok = [r[1] for r in results if r[0] == "ok"]
    errors = [r[1] for r in results if r[0] == "error"]
    assert len(ok) == 11, results
    assert len(set(ok)) == 11, ok
    assert errors == ["InsufficientFreeAddressesInSubnet"] * 5, results
    assert all(ipaddress.ip_address(a) in ipaddress.ip_network("10.0.3.0/28") for a in ok)
    assert available(ec2, sid) == 0
    listed = ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [sid]}])["NetworkInterfaces"]
    assert sorted(i["PrivateIpAddress"] for i in listed) == sorted(ok)


# --- AWS CLI ------------------------------------------------------------------------------


def test_cli(aws, ec2, subnet):  # noqa: F811
    out = aws(
        "ec2",
        "create-network-interface",
        "--subnet-id",
        subnet["SubnetId"],
        "--description",
        "from the cli",
        "--secondary-private-ip-address-count",
        "1",
    )["NetworkInterface"]
    assert out["Description"] == "from the cli"
    assert len(out["PrivateIpAddresses"]) == 2
    found = aws("ec2", "describe-network-interfaces", "--filters", "Name=description,Values=from the cli")
    assert [i["NetworkInterfaceId"] for i in found["NetworkInterfaces"]] == [out["NetworkInterfaceId"]]
