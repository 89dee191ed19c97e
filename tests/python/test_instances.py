"""Instances: RunInstances, DescribeInstances, DescribeInstanceStatus, Stop/Start/
TerminateInstances, Describe/ModifyInstanceAttribute — in the VPC network (a primary
interface with an address of the subnet, freed on termination), with AWS's states and
codes, filters, pagination, DryRun, tags, ClientToken, key pairs and user data, and every
error at its code and status, changing nothing. Capacity reservations are tested with
their family."""

import base64
import json
import re

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import DEFAULT_ACCOUNT, HTTP_TIMEOUT, error_code, http_status, make_client

INSTANCE_ID = re.compile(r"^i-0[0-9a-f]{16}$")
RESERVATION_ID = re.compile(r"^r-0[0-9a-f]{16}$")
IMAGE = "ami-0123456789abcdef0"
MISSING = "i-0123456789abcdef0"


def client_error(fn, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    return e.value


def run(ec2, n=1, **kw):
    kw.setdefault("ImageId", IMAGE)
    kw.setdefault("InstanceType", "t3.micro")
    return ec2.run_instances(MinCount=kw.pop("MinCount", n), MaxCount=kw.pop("MaxCount", n), **kw)


def one(ec2, instance_id):
    r = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    assert len(r) == 1 and len(r[0]["Instances"]) == 1, r
    return r[0]["Instances"][0]


def count_instances(ec2):
    return sum(len(r["Instances"]) for r in ec2.describe_instances()["Reservations"])


def default_subnet(ec2, zone="us-east-1a"):
    return ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]},
                                         {"Name": "availability-zone", "Values": [zone]}])["Subnets"][0]


def state_of(change):
    return (change["PreviousState"]["Name"], change["PreviousState"]["Code"],
            change["CurrentState"]["Name"], change["CurrentState"]["Code"])


def test_launch_into_the_default_subnet(ec2):
    before = default_subnet(ec2)["AvailableIpAddressCount"]
    r = run(ec2)
    assert RESERVATION_ID.match(r["ReservationId"]) and r["OwnerId"] == DEFAULT_ACCOUNT
    (i,) = r["Instances"]
    assert INSTANCE_ID.match(i["InstanceId"])
    assert i["State"] == {"Code": 0, "Name": "pending"}
    assert i["ImageId"] == IMAGE and i["InstanceType"] == "t3.micro" and i["AmiLaunchIndex"] == 0
    assert i["Placement"]["AvailabilityZone"] == "us-east-1a" and i["Placement"]["Tenancy"] == "default"
    subnet = default_subnet(ec2)
    assert i["SubnetId"] == subnet["SubnetId"] and i["VpcId"] == subnet["VpcId"]
    assert i["PrivateDnsName"] == "ip-" + i["PrivateIpAddress"].replace(".", "-") + ".ec2.internal"
    assert i["RootDeviceName"] == "/dev/xvda" and i["RootDeviceType"] == "ebs"
    assert i["PlatformDetails"] == "Linux/UNIX" and i["UsageOperation"] == "RunInstances"
    assert i["Architecture"] == "x86_64" and i["Hypervisor"] == "xen" and i["VirtualizationType"] == "hvm"
    assert i["Monitoring"] == {"State": "disabled"} and i["EbsOptimized"] is False and i["EnaSupport"] is True
    assert i["BlockDeviceMappings"][0]["Ebs"]["VolumeId"].startswith("vol-")
    assert i["SecurityGroups"][0]["GroupName"] == "default"
    assert i["CapacityReservationSpecification"] == {"CapacityReservationPreference": "open"}
    (eni,) = i["NetworkInterfaces"]
    assert eni["Attachment"]["DeviceIndex"] == 0 and eni["Attachment"]["DeleteOnTermination"] is True
    assert eni["PrivateIpAddress"] == i["PrivateIpAddress"] and eni["InterfaceType"] == "interface"
    assert eni["Status"] == "in-use" and eni["Description"] == ""
    # Stored running: a Describe (and a waiter) right after sees it.
    assert one(ec2, i["InstanceId"])["State"] == {"Code": 16, "Name": "running"}
    ec2.get_waiter("instance_running").wait(InstanceIds=[i["InstanceId"]], WaiterConfig={"Delay": 1})
    assert default_subnet(ec2)["AvailableIpAddressCount"] == before - 1
    described = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni["NetworkInterfaceId"]])
    assert described["NetworkInterfaces"][0]["Attachment"]["InstanceId"] == i["InstanceId"]


def test_launch_in_a_given_subnet_with_address_groups_key_and_user_data(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24", AvailabilityZone="us-east-1b")["Subnet"]
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    ec2.create_key_pair(KeyName="k1", KeyType="ed25519")
    r = run(ec2, SubnetId=subnet["SubnetId"], PrivateIpAddress="10.1.1.50", SecurityGroupIds=[sg],
            KeyName="k1", UserData="#!/bin/sh\necho hi\n",
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web"}]},
                               {"ResourceType": "network-interface", "Tags": [{"Key": "eni", "Value": "1"}]}])
    i = r["Instances"][0]
    assert i["PrivateIpAddress"] == "10.1.1.50" and i["SubnetId"] == subnet["SubnetId"] and i["VpcId"] == vpc
    assert i["Placement"]["AvailabilityZone"] == "us-east-1b"
    assert [g["GroupId"] for g in i["SecurityGroups"]] == [sg]
    assert i["KeyName"] == "k1" and i["Tags"] == [{"Key": "Name", "Value": "web"}]
    eni = ec2.describe_network_interfaces(NetworkInterfaceIds=[i["NetworkInterfaces"][0]["NetworkInterfaceId"]])
    assert eni["NetworkInterfaces"][0]["TagSet"] == [{"Key": "eni", "Value": "1"}]
    data = ec2.describe_instance_attribute(InstanceId=i["InstanceId"], Attribute="userData")["UserData"]["Value"]
    assert base64.b64decode(data) == b"#!/bin/sh\necho hi\n"
    got = ec2.describe_instances(Filters=[{"Name": "tag:Name", "Values": ["web"]}])["Reservations"]
    assert [x["InstanceId"] for x in got[0]["Instances"]] == [i["InstanceId"]]


def test_security_group_names_and_network_interface_specification(ec2):
    default_vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    sg = ec2.create_security_group(GroupName="named", Description="d", VpcId=default_vpc)["GroupId"]
    i = run(ec2, SecurityGroups=["named"])["Instances"][0]
    assert [g["GroupId"] for g in i["SecurityGroups"]] == [sg]
    subnet = default_subnet(ec2, "us-east-1c")["SubnetId"]
    i = run(ec2, NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "Groups": [sg],
                                     "DeleteOnTermination": False}])["Instances"][0]
    assert i["SubnetId"] == subnet and i["NetworkInterfaces"][0]["Attachment"]["DeleteOnTermination"] is False
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    i = run(ec2, NetworkInterfaces=[{"DeviceIndex": 0, "NetworkInterfaceId": eni}])["Instances"][0]
    assert i["NetworkInterfaces"][0]["NetworkInterfaceId"] == eni
    ec2.terminate_instances(InstanceIds=[i["InstanceId"]])
    # An existing interface is kept (detached) when its instance ends.
    kept = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
    assert kept["Status"] == "available"


def test_attached_interfaces_follow_the_instance(ec2):
    i = run(ec2)["Instances"][0]
    subnet = i["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    att = ec2.attach_network_interface(NetworkInterfaceId=eni, InstanceId=i["InstanceId"], DeviceIndex=1)
    e = client_error(ec2.attach_network_interface, NetworkInterfaceId=ec2.create_network_interface(
        SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"], InstanceId=i["InstanceId"], DeviceIndex=1)
    assert error_code(e) == "InvalidParameterValue"
    got = one(ec2, i["InstanceId"])["NetworkInterfaces"]
    assert [n["Attachment"]["DeviceIndex"] for n in got] == [0, 1]
    ec2.detach_network_interface(AttachmentId=att["AttachmentId"])
    assert len(one(ec2, i["InstanceId"])["NetworkInterfaces"]) == 1
    ec2.attach_network_interface(NetworkInterfaceId=eni, InstanceId=i["InstanceId"], DeviceIndex=2)
    # Groups changed on the primary interface are the instance's.
    vpc = i["VpcId"]
    sg = ec2.create_security_group(GroupName="g2", Description="d", VpcId=vpc)["GroupId"]
    primary = i["NetworkInterfaces"][0]["NetworkInterfaceId"]
    ec2.modify_network_interface_attribute(NetworkInterfaceId=primary, Groups=[sg])
    found = ec2.describe_instances(Filters=[{"Name": "instance.group-id", "Values": [sg]}])["Reservations"]
    assert found[0]["Instances"][0]["InstanceId"] == i["InstanceId"]
    ec2.terminate_instances(InstanceIds=[i["InstanceId"]])
    left = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni])["NetworkInterfaces"][0]
    assert left["Status"] == "available"
    e = client_error(ec2.describe_network_interfaces, NetworkInterfaceIds=[primary])
    assert error_code(e) == "InvalidNetworkInterfaceID.NotFound"
    e = client_error(ec2.attach_network_interface, NetworkInterfaceId=eni, InstanceId=i["InstanceId"],
                     DeviceIndex=1)
    assert error_code(e) == "IncorrectState"


def test_a_running_instance_keeps_its_subnet_and_groups(ec2):
    vpc = ec2.create_vpc(CidrBlock="10.3.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.3.0.0/24")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="busy", Description="d", VpcId=vpc)["GroupId"]
    i = run(ec2, SubnetId=subnet, SecurityGroupIds=[sg])["Instances"][0]["InstanceId"]
    e = client_error(ec2.delete_subnet, SubnetId=subnet)
    assert error_code(e) == "DependencyViolation"
    e = client_error(ec2.delete_security_group, GroupId=sg)
    assert error_code(e) == "DependencyViolation"
    ec2.terminate_instances(InstanceIds=[i])
    ec2.delete_security_group(GroupId=sg)
    ec2.delete_subnet(SubnetId=subnet)


def test_client_token_makes_the_launch_idempotent(ec2):
    a = run(ec2, n=2, ClientToken="tok-1")
    b = run(ec2, n=2, ClientToken="tok-1")
    assert a["ReservationId"] == b["ReservationId"]
    assert [i["InstanceId"] for i in a["Instances"]] == [i["InstanceId"] for i in b["Instances"]]
    assert a["Instances"][0]["ClientToken"] == "tok-1"
    assert count_instances(ec2) == 2
    e = client_error(run, ec2, n=1, ClientToken="tok-1")
    assert error_code(e) == "IdempotentParameterMismatch" and http_status(e) == 400
    assert count_instances(ec2) == 2


def test_min_and_max_count(ec2):
    r = run(ec2, MinCount=2, MaxCount=4)
    assert len(r["Instances"]) == 4
    assert [i["AmiLaunchIndex"] for i in r["Instances"]] == [0, 1, 2, 3]
    # A /28 subnet has 11 addresses: all-or-min semantics.
    vpc = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    small = ec2.create_subnet(VpcId=vpc, CidrBlock="10.2.0.0/28")["Subnet"]["SubnetId"]
    r = run(ec2, MinCount=5, MaxCount=20, SubnetId=small)
    assert len(r["Instances"]) == 11
    e = client_error(run, ec2, MinCount=1, MaxCount=1, SubnetId=small)
    assert error_code(e) == "InsufficientFreeAddressesInSubnet"
    assert count_instances(ec2) == 15
    for bad in [dict(MinCount=0, MaxCount=1), dict(MinCount=3, MaxCount=2)]:
        e = client_error(run, ec2, **bad)
        assert error_code(e) == "InvalidParameterValue" and http_status(e) == 400
    assert count_instances(ec2) == 15


def test_describe_filters_and_pagination(ec2):
    a = run(ec2, n=3, InstanceType="t3.micro")
    b = run(ec2, n=2, InstanceType="m5.large", Placement={"AvailabilityZone": "us-east-1b"})
    ids_a = [i["InstanceId"] for i in a["Instances"]]
    ids_b = [i["InstanceId"] for i in b["Instances"]]
    res = ec2.describe_instances()["Reservations"]
    assert [r["ReservationId"] for r in res] == [a["ReservationId"], b["ReservationId"]]
    assert [i["InstanceId"] for i in res[0]["Instances"]] == ids_a

    def ids(filters):
        out = ec2.describe_instances(Filters=filters)["Reservations"]
        return [i["InstanceId"] for r in out for i in r["Instances"]]

    assert ids([{"Name": "instance-type", "Values": ["m5.large"]}]) == ids_b
    assert ids([{"Name": "availability-zone", "Values": ["us-east-1b"]}]) == ids_b
    assert ids([{"Name": "reservation-id", "Values": [a["ReservationId"]]}]) == ids_a
    assert ids([{"Name": "instance-state-name", "Values": ["running"]}]) == ids_a + ids_b
    assert ids([{"Name": "instance-state-code", "Values": ["16"]}]) == ids_a + ids_b
    assert ids([{"Name": "image-id", "Values": [IMAGE]}]) == ids_a + ids_b
    assert ids([{"Name": "private-ip-address", "Values": [a["Instances"][1]["PrivateIpAddress"]]}]) == [ids_a[1]]
    eni = a["Instances"][2]["NetworkInterfaces"][0]["NetworkInterfaceId"]
    assert ids([{"Name": "network-interface.network-interface-id", "Values": [eni]}]) == [ids_a[2]]
    assert ids([{"Name": "subnet-id", "Values": [b["Instances"][0]["SubnetId"]]}]) == ids_b
    assert ids([{"Name": "capacity-reservation-id", "Values": ["*"]}]) == []
    assert ids([{"Name": "platform-details", "Values": ["Linux/UNIX"]}]) == ids_a + ids_b
    sg = a["Instances"][0]["SecurityGroups"][0]["GroupId"]
    assert ids([{"Name": "instance.group-id", "Values": [sg]}]) == ids_a + ids_b
    paginator = ec2.get_paginator("describe_instances")
    pages = list(paginator.paginate(PaginationConfig={"PageSize": 5}))
    assert [i["InstanceId"] for p in pages for r in p["Reservations"] for i in r["Instances"]] == ids_a + ids_b
    first = ec2.describe_instances(MaxResults=5)
    assert "NextToken" not in first
    run(ec2, n=1)
    first = ec2.describe_instances(MaxResults=5)
    assert sum(len(r["Instances"]) for r in first["Reservations"]) == 5 and first["NextToken"]
    rest = ec2.describe_instances(MaxResults=5, NextToken=first["NextToken"])
    assert sum(len(r["Instances"]) for r in rest["Reservations"]) == 1 and "NextToken" not in rest


def test_stop_start_terminate_transitions(ec2):
    before = default_subnet(ec2)["AvailableIpAddressCount"]
    i = run(ec2)["Instances"][0]["InstanceId"]
    assert default_subnet(ec2)["AvailableIpAddressCount"] == before - 1
    (c,) = ec2.stop_instances(InstanceIds=[i])["StoppingInstances"]
    assert c["InstanceId"] == i and state_of(c) == ("running", 16, "stopping", 64)
    assert one(ec2, i)["State"] == {"Code": 80, "Name": "stopped"}
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[i], WaiterConfig={"Delay": 1})
    (c,) = ec2.stop_instances(InstanceIds=[i])["StoppingInstances"]
    assert state_of(c) == ("stopped", 80, "stopped", 80)
    (c,) = ec2.start_instances(InstanceIds=[i])["StartingInstances"]
    assert state_of(c) == ("stopped", 80, "pending", 0)
    assert one(ec2, i)["State"]["Name"] == "running"
    (c,) = ec2.terminate_instances(InstanceIds=[i])["TerminatingInstances"]
    assert state_of(c) == ("running", 16, "shutting-down", 32)
    gone = one(ec2, i)
    assert gone["State"] == {"Code": 48, "Name": "terminated"} and gone["NetworkInterfaces"] == []
    ec2.get_waiter("instance_terminated").wait(InstanceIds=[i], WaiterConfig={"Delay": 1})
    (c,) = ec2.terminate_instances(InstanceIds=[i])["TerminatingInstances"]
    assert state_of(c) == ("terminated", 48, "terminated", 48)
    # The interface and its address are freed.
    assert default_subnet(ec2)["AvailableIpAddressCount"] == before
    assert ec2.describe_network_interfaces(Filters=[{"Name": "attachment.instance-id", "Values": [i]}])[
        "NetworkInterfaces"] == []
    for op, key in [(ec2.start_instances, "started"), (ec2.stop_instances, "stopped")]:
        e = client_error(op, InstanceIds=[i])
        assert error_code(e) == "IncorrectInstanceState" and http_status(e) == 400 and key in str(e)
    status = ec2.describe_instance_status(InstanceIds=[i], IncludeAllInstances=True)["InstanceStatuses"]
    assert status[0]["InstanceState"]["Name"] == "terminated"


def test_protection_attributes(ec2):
    i = run(ec2, DisableApiTermination=True)["Instances"][0]["InstanceId"]
    e = client_error(ec2.terminate_instances, InstanceIds=[i])
    assert error_code(e) == "OperationNotPermitted" and http_status(e) == 400
    assert one(ec2, i)["State"]["Name"] == "running"
    ec2.modify_instance_attribute(InstanceId=i, DisableApiTermination={"Value": False})
    ec2.modify_instance_attribute(InstanceId=i, Attribute="disableApiStop", Value="true")
    e = client_error(ec2.stop_instances, InstanceIds=[i])
    assert error_code(e) == "OperationNotPermitted"
    got = ec2.describe_instance_attribute(InstanceId=i, Attribute="disableApiStop")
    assert got["DisableApiStop"] == {"Value": True}
    e = client_error(ec2.stop_instances, InstanceIds=[i], Hibernate=True)
    assert error_code(e) == "UnsupportedHibernationConfiguration"
    ec2.terminate_instances(InstanceIds=[i])


def test_instance_attributes(ec2):
    i = run(ec2)["Instances"][0]["InstanceId"]
    get = lambda a: ec2.describe_instance_attribute(InstanceId=i, Attribute=a)  # noqa: E731
    assert get("instanceType")["InstanceType"] == {"Value": "t3.micro"}
    assert get("instanceInitiatedShutdownBehavior")["InstanceInitiatedShutdownBehavior"] == {"Value": "stop"}
    assert get("sourceDestCheck")["SourceDestCheck"] == {"Value": True}
    assert get("rootDeviceName")["RootDeviceName"] == {"Value": "/dev/xvda"}
    assert get("ebsOptimized")["EbsOptimized"] == {"Value": False}
    assert get("groupSet")["Groups"][0]["GroupName"] == "default"
    assert get("blockDeviceMapping")["BlockDeviceMappings"][0]["DeviceName"] == "/dev/xvda"
    # instanceType and userData only when stopped.
    e = client_error(ec2.modify_instance_attribute, InstanceId=i, InstanceType={"Value": "m5.large"})
    assert error_code(e) == "IncorrectInstanceState" and http_status(e) == 400
    assert get("instanceType")["InstanceType"] == {"Value": "t3.micro"}
    ec2.stop_instances(InstanceIds=[i])
    ec2.modify_instance_attribute(InstanceId=i, InstanceType={"Value": "m5.large"})
    ec2.modify_instance_attribute(InstanceId=i, Attribute="instanceType", Value="m5.xlarge")
    assert one(ec2, i)["InstanceType"] == "m5.xlarge"
    ec2.modify_instance_attribute(InstanceId=i, UserData={"Value": b"hello"})
    assert base64.b64decode(get("userData")["UserData"]["Value"]) == b"hello"
    ec2.modify_instance_attribute(InstanceId=i, SourceDestCheck={"Value": False})
    assert get("sourceDestCheck")["SourceDestCheck"] == {"Value": False}
    ec2.modify_instance_attribute(InstanceId=i, InstanceInitiatedShutdownBehavior={"Value": "terminate"})
    vpc = one(ec2, i)["VpcId"]
    sg = ec2.create_security_group(GroupName="other", Description="d", VpcId=vpc)["GroupId"]
    ec2.modify_instance_attribute(InstanceId=i, Groups=[sg])
    assert [g["GroupId"] for g in get("groupSet")["Groups"]] == [sg]
    assert [g["GroupId"] for g in one(ec2, i)["SecurityGroups"]] == [sg]
    e = client_error(ec2.modify_instance_attribute, InstanceId=i, Attribute="bogus", Value="x")
    assert error_code(e) == "InvalidParameterValue"
    e = client_error(ec2.modify_instance_attribute, InstanceId=i,
                     SourceDestCheck={"Value": True}, DisableApiStop={"Value": True})
    assert error_code(e) == "InvalidParameterCombination"
    e = client_error(ec2.modify_instance_attribute, InstanceId=i, Groups=["sg-0123456789abcdef0"])
    assert error_code(e) == "InvalidGroup.NotFound"
    assert [g["GroupId"] for g in get("groupSet")["Groups"]] == [sg]


def test_describe_instance_status(ec2):
    a, b = [x["InstanceId"] for x in run(ec2, n=2)["Instances"]]
    ec2.stop_instances(InstanceIds=[b])
    st = ec2.describe_instance_status()["InstanceStatuses"]
    assert [s["InstanceId"] for s in st] == [a]
    assert st[0]["InstanceStatus"]["Status"] == "ok" and st[0]["SystemStatus"]["Status"] == "ok"
    assert st[0]["InstanceStatus"]["Details"] == [{"Name": "reachability", "Status": "passed"}]
    st = ec2.describe_instance_status(IncludeAllInstances=True)["InstanceStatuses"]
    assert [s["InstanceId"] for s in st] == [a, b]
    assert st[1]["InstanceStatus"]["Status"] == "not-applicable"
    st = ec2.describe_instance_status(IncludeAllInstances=True,
                                      Filters=[{"Name": "instance-state-name", "Values": ["stopped"]}])
    assert [s["InstanceId"] for s in st["InstanceStatuses"]] == [b]
    ec2.get_waiter("instance_status_ok").wait(InstanceIds=[a], WaiterConfig={"Delay": 1})
    page = ec2.describe_instance_status(IncludeAllInstances=True, MaxResults=5)
    assert len(page["InstanceStatuses"]) == 2


def test_dry_run_changes_nothing(ec2):
    e = client_error(run, ec2, DryRun=True)
    assert error_code(e) == "DryRunOperation" and http_status(e) == 412
    assert count_instances(ec2) == 0
    i = run(ec2)["Instances"][0]["InstanceId"]
    for op in [ec2.stop_instances, ec2.terminate_instances]:
        e = client_error(op, InstanceIds=[i], DryRun=True)
        assert error_code(e) == "DryRunOperation"
    assert one(ec2, i)["State"]["Name"] == "running"
    e = client_error(ec2.describe_instances, DryRun=True)
    assert error_code(e) == "DryRunOperation"


def test_tags_on_instances(ec2):
    i = run(ec2)["Instances"][0]["InstanceId"]
    ec2.create_tags(Resources=[i], Tags=[{"Key": "env", "Value": "test"}])
    assert one(ec2, i)["Tags"] == [{"Key": "env", "Value": "test"}]
    got = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [i]}])["Tags"]
    assert got[0]["ResourceType"] == "instance"
    e = client_error(ec2.create_tags, Resources=[MISSING], Tags=[{"Key": "a", "Value": "b"}])
    assert error_code(e) == "InvalidInstanceID.NotFound"


def test_errors_change_nothing(ec2, ec2_other):
    i = run(ec2)["Instances"][0]["InstanceId"]
    free = default_subnet(ec2)["AvailableIpAddressCount"]
    cases = [
        (lambda: run(ec2, ImageId="ami-xyz"), "InvalidAMIID.Malformed"),
        (lambda: run(ec2, InstanceType="huge"), "InvalidParameterValue"),
        (lambda: run(ec2, KeyName="nope"), "InvalidKeyPair.NotFound"),
        (lambda: run(ec2, SubnetId="subnet-0123456789abcdef0"), "InvalidSubnetID.NotFound"),
        (lambda: run(ec2, SubnetId="subnet-x"), "InvalidSubnetID.Malformed"),
        (lambda: run(ec2, SecurityGroupIds=["sg-0123456789abcdef0"]), "InvalidGroup.NotFound"),
        (lambda: run(ec2, SecurityGroups=["nope"]), "InvalidGroup.NotFound"),
        (lambda: run(ec2, Placement={"AvailabilityZone": "us-east-1z"}), "InvalidParameterValue"),
        (lambda: run(ec2, PrivateIpAddress="10.9.9.9"), "InvalidParameterValue"),
        (lambda: run(ec2, n=2, PrivateIpAddress="172.31.0.40"), "InvalidParameterCombination"),
        (lambda: run(ec2, SubnetId=default_subnet(ec2)["SubnetId"],
                     NetworkInterfaces=[{"DeviceIndex": 0}]), "InvalidParameterCombination"),
        (lambda: run(ec2, UserData="x" * 20000), "InvalidParameterValue"),
        (lambda: run(ec2, InstanceInitiatedShutdownBehavior="halt"), "InvalidParameterValue"),
        (lambda: run(ec2, TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "a", "Value": "b"}]}]),
         "InvalidParameterValue"),
        (lambda: ec2.describe_instances(InstanceIds=[MISSING]), "InvalidInstanceID.NotFound"),
        (lambda: ec2.describe_instances(InstanceIds=["i-123"]), "InvalidInstanceID.Malformed"),
        (lambda: ec2.describe_instances(InstanceIds=[i], MaxResults=5), "InvalidParameterCombination"),
        (lambda: ec2.describe_instances(MaxResults=3), "InvalidParameterValue"),
        (lambda: ec2.describe_instances(Filters=[{"Name": "bogus", "Values": ["x"]}]), "InvalidParameterValue"),
        (lambda: ec2.stop_instances(InstanceIds=[i, MISSING]), "InvalidInstanceID.NotFound"),
        (lambda: ec2.terminate_instances(InstanceIds=["i-zz"]), "InvalidInstanceID.Malformed"),
        (lambda: ec2.describe_instance_attribute(InstanceId=MISSING, Attribute="instanceType"),
         "InvalidInstanceID.NotFound"),
        (lambda: ec2_other.describe_instances(InstanceIds=[i]), "InvalidInstanceID.NotFound"),
        (lambda: ec2_other.terminate_instances(InstanceIds=[i]), "InvalidInstanceID.NotFound"),
    ]
    for fn, code in cases:
        e = client_error(fn)
        assert (error_code(e), http_status(e)) == (code, 400), (code, e.response["Error"])
    e = client_error(ec2.stop_instances, InstanceIds=[i, MISSING])
    assert MISSING in e.response["Error"]["Message"]
    assert count_instances(ec2) == 1
    assert one(ec2, i)["State"]["Name"] == "running"
    assert default_subnet(ec2)["AvailableIpAddressCount"] == free


def test_unsupported_members_answer_501(ec2):
    e = client_error(run, ec2, IamInstanceProfile={"Name": "x"})
    assert error_code(e) == "NotImplemented" and http_status(e) == 501
    e = client_error(run, ec2, NetworkInterfaces=[{"DeviceIndex": 0, "AssociatePublicIpAddress": True}])
    assert http_status(e) == 501
    e = client_error(run, ec2, TagSpecifications=[{"ResourceType": "volume", "Tags": [{"Key": "a", "Value": "b"}]}])
    assert http_status(e) == 501
    assert count_instances(ec2) == 0


def test_no_default_vpc(ec2):
    from conftest import delete_default_vpc
    delete_default_vpc(ec2)
    e = client_error(run, ec2)
    assert error_code(e) == "VPCIdNotSpecified" and http_status(e) == 400
    assert count_instances(ec2) == 0


def test_terminated_instances_vanish_after_an_hour(own_server):
    s = own_server("--ephemeral", "--listen", "127.0.0.1:0")
    ec2 = make_client(s.url, "ec2")
    i = run(ec2)["Instances"][0]["InstanceId"]
    ec2.terminate_instances(InstanceIds=[i])

    def advance(seconds):
        r = requests.post(f"{s.url}/_reservoir/clock", data=json.dumps({"advance_seconds": seconds}),
                          headers={"Content-Type": "application/json"}, timeout=HTTP_TIMEOUT)
        assert r.status_code == 200, r.text

    advance(3000)
    assert one(ec2, i)["State"]["Name"] == "terminated"
    advance(700)
    assert ec2.describe_instances()["Reservations"] == []
    e = client_error(ec2.describe_instances, InstanceIds=[i])
    assert error_code(e) == "InvalidInstanceID.NotFound"
    e = client_error(ec2.terminate_instances, InstanceIds=[i])
    assert error_code(e) == "InvalidInstanceID.NotFound"
    # The next launch removes it for good (its tags with it): nothing can name it now.
    run(ec2)
    e = client_error(ec2.create_tags, Resources=[i], Tags=[{"Key": "k", "Value": "v"}])
    assert error_code(e) == "InvalidInstanceID.NotFound"


def test_strict_images(own_server):
    s = own_server("--ephemeral", "--listen", "127.0.0.1:0", "--images", "strict")
    ec2 = make_client(s.url, "ec2")
    e = client_error(run, ec2)
    assert error_code(e) == "InvalidAMIID.NotFound" and http_status(e) == 400
    image = ec2.describe_images(Filters=[{"Name": "platform", "Values": ["windows"]}])["Images"][0]
    i = run(ec2, ImageId=image["ImageId"])["Instances"][0]
    assert i["Platform"] == "windows" and i["PlatformDetails"] == "Windows"
    assert i["RootDeviceName"] == image["RootDeviceName"]
