"""VPC endpoints, endpoint services and prefix lists: CreateVpcEndpoint,
DescribeVpcEndpoints, ModifyVpcEndpoint, DeleteVpcEndpoints, DescribeVpcEndpointServices,
DescribePrefixLists."""

import json
import re

import pytest
from botocore.exceptions import ClientError

from conftest import DEFAULT_ACCOUNT, error_code, http_status
from test_cli import aws  # noqa: F401  (the AWS CLI fixture)

REGION = "us-east-1"
S3 = f"com.amazonaws.{REGION}.s3"
DYNAMODB = f"com.amazonaws.{REGION}.dynamodb"
EC2 = f"com.amazonaws.{REGION}.ec2"
SQS = f"com.amazonaws.{REGION}.sqs"
VPCE_ID = re.compile(r"^vpce-[0-9a-f]{17}$")
SVC_ID = re.compile(r"^vpce-svc-[0-9a-f]{17}$")
PL_ID = re.compile(r"^pl-[0-9a-f]{8}$")
ENI_ID = re.compile(r"^eni-[0-9a-f]{17}$")
MISSING_VPCE = "vpce-0123456789abcdef0"
MISSING_RTB = "rtb-0123456789abcdef0"
MISSING_SUBNET = "subnet-0123456789abcdef0"
MISSING_SG = "sg-0123456789abcdef0"


def client_error(fn, *args, **kwargs) -> ClientError:
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    return e.value


def new_vpc(ec2, cidr="10.0.0.0/16", dns=False):
    vpc_id = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    if dns:
        ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    return vpc_id


def main_table(ec2, vpc_id):
    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["RouteTables"]
    return next(t["RouteTableId"] for t in tables if any(a.get("Main") for a in t.get("Associations", [])))


def new_table(ec2, vpc_id):
    return ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]


def subnet(ec2, vpc_id, cidr, zone):
    return ec2.create_subnet(VpcId=vpc_id, CidrBlock=cidr, AvailabilityZone=zone)["Subnet"]["SubnetId"]


def gateway(ec2, vpc_id, service=S3, tables=(), **kw):
    return ec2.create_vpc_endpoint(
        VpcId=vpc_id, ServiceName=service, RouteTableIds=list(tables), **kw
    )["VpcEndpoint"]


def interface(ec2, vpc_id, subnets=(), service=EC2, **kw):
    return ec2.create_vpc_endpoint(
        VpcEndpointType="Interface", VpcId=vpc_id, ServiceName=service, SubnetIds=list(subnets), **kw
    )["VpcEndpoint"]


def prefix_list_id(ec2, name):
    lists = ec2.describe_prefix_lists(Filters=[{"Name": "prefix-list-name", "Values": [name]}])["PrefixLists"]
    return lists[0]["PrefixListId"]


def endpoint_routes(ec2, table_id):
    table = ec2.describe_route_tables(RouteTableIds=[table_id])["RouteTables"][0]
    return [r for r in table["Routes"] if r.get("DestinationPrefixListId")]


def describe(ec2, *ids, **kw):
    if ids:
        kw["VpcEndpointIds"] = list(ids)
    return ec2.describe_vpc_endpoints(**kw)["VpcEndpoints"]


# --- DescribeVpcEndpointServices -----------------------------------------------------


def test_services_catalogue(ec2):
    resp = ec2.describe_vpc_endpoint_services()
    details = resp["ServiceDetails"]
    names = resp["ServiceNames"]
    assert "NextToken" not in resp
    assert len(names) == len(set(names))
    for required in ["s3", "dynamodb", "ec2", "ec2messages", "ssm", "ssmmessages", "sts", "kms", "logs",
                     "monitoring", "secretsmanager", "sqs", "sns", "ecr.api", "ecr.dkr", "ecs",
                     "elasticloadbalancing", "lambda", "execute-api", "kinesis-streams", "events",
                     "cognito-identity", "ram"]:
        assert f"com.amazonaws.{REGION}.{required}" in names
    zones = [z["ZoneName"] for z in ec2.describe_availability_zones()["AvailabilityZones"]]
    by_key = {(d["ServiceName"], d["ServiceType"][0]["ServiceType"]): d for d in details}
    assert (S3, "Gateway") in by_key and (S3, "Interface") in by_key and (DYNAMODB, "Gateway") in by_key
    for d in details:
        assert SVC_ID.match(d["ServiceId"])
        assert d["Owner"] == "amazon"
        assert d["AcceptanceRequired"] is False
        assert d["ManagesVpcEndpoints"] is False
        assert d["VpcEndpointPolicySupported"] is True
        assert d["ServiceRegion"] == REGION
        assert d["AvailabilityZones"] == zones
        assert "ipv4" in d["SupportedIpAddressTypes"]
        short = d["ServiceName"].removeprefix(f"com.amazonaws.{REGION}.")
        if d["ServiceType"][0]["ServiceType"] == "Interface":
            assert d["BaseEndpointDnsNames"] == [f"{short}.{REGION}.vpce.amazonaws.com"]
            assert d["PrivateDnsName"].endswith(f".{REGION}.amazonaws.com")
            assert d["PrivateDnsNames"] == [{"PrivateDnsName": d["PrivateDnsName"]}]
            assert d["PrivateDnsNameVerificationState"] == "verified"
        else:
            assert d["BaseEndpointDnsNames"] == [f"{short}.{REGION}.amazonaws.com"]
            assert "PrivateDnsName" not in d
    ec2_svc = by_key[(EC2, "Interface")]
    assert ec2_svc["PrivateDnsName"] == f"ec2.{REGION}.amazonaws.com"
    assert by_key[(S3, "Interface")]["PrivateDnsName"] == f"*.s3.{REGION}.amazonaws.com"


def test_service_ids_are_stable_and_regional(ec2, client_factory):
    first = {d["ServiceId"] for d in ec2.describe_vpc_endpoint_services()["ServiceDetails"]}
    again = {d["ServiceId"] for d in ec2.describe_vpc_endpoint_services()["ServiceDetails"]}
    assert first == again
    other = client_factory("ec2", region="eu-west-1").describe_vpc_endpoint_services()
    assert "com.amazonaws.eu-west-1.s3" in other["ServiceNames"]
    assert not first & {d["ServiceId"] for d in other["ServiceDetails"]}


def test_services_by_name(ec2):
    resp = ec2.describe_vpc_endpoint_services(ServiceNames=[S3, SQS])
    assert resp["ServiceNames"] == [S3, SQS]
    assert [(d["ServiceName"], d["ServiceType"][0]["ServiceType"]) for d in resp["ServiceDetails"]] == [
        (S3, "Gateway"), (S3, "Interface"), (SQS, "Interface"),
    ]


@pytest.mark.parametrize("name", [f"com.amazonaws.{REGION}.nope", "com.amazonaws.eu-west-1.s3", "s3"])
def test_services_unknown_name(ec2, name):
    e = client_error(ec2.describe_vpc_endpoint_services, ServiceNames=[name])
    assert error_code(e) == "InvalidServiceName"
    assert http_status(e) == 400


@pytest.mark.parametrize(
    "name,values,expected",
    [
        ("service-name", [S3], {(S3, "Gateway"), (S3, "Interface")}),
        ("service-type", ["Gateway"], {(S3, "Gateway"), (DYNAMODB, "Gateway")}),
        ("service-region", ["eu-west-1"], set()),
        ("owner", ["123456789012"], set()),
        ("tag:Name", ["x"], set()),
        ("tag-key", ["Name"], set()),
    ],
)
def test_services_filters(ec2, name, values, expected):
    details = ec2.describe_vpc_endpoint_services(Filters=[{"Name": name, "Values": values}])["ServiceDetails"]
    assert {(d["ServiceName"], d["ServiceType"][0]["ServiceType"]) for d in details} == expected


def test_services_filter_owner_and_region_match_all(ec2):
    everything = ec2.describe_vpc_endpoint_services()["ServiceDetails"]
    for name, value in [("owner", "amazon"), ("service-region", REGION)]:
        got = ec2.describe_vpc_endpoint_services(Filters=[{"Name": name, "Values": [value]}])["ServiceDetails"]
        assert len(got) == len(everything)


def test_services_filter_supported_ip_address_types(ec2):
    v6 = ec2.describe_vpc_endpoint_services(
        Filters=[{"Name": "supported-ip-address-types", "Values": ["ipv6"]}]
    )["ServiceDetails"]
    assert v6 and all("ipv6" in d["SupportedIpAddressTypes"] for d in v6)
    assert (EC2, "Interface") in {(d["ServiceName"], d["ServiceType"][0]["ServiceType"]) for d in v6}
    assert all(d["ServiceType"][0]["ServiceType"] == "Interface" for d in v6)


def test_services_unknown_filter(ec2):
    e = client_error(ec2.describe_vpc_endpoint_services, Filters=[{"Name": "nope", "Values": ["x"]}])
    assert error_code(e) == "InvalidParameterValue"


def test_services_pagination(ec2):
    everything = ec2.describe_vpc_endpoint_services()["ServiceDetails"]
    seen, token, pages = [], None, 0
    while True:
        kw = {"MaxResults": 7}
        if token:
            kw["NextToken"] = token
        resp = ec2.describe_vpc_endpoint_services(**kw)
        assert len(resp["ServiceDetails"]) <= 7
        seen += resp["ServiceDetails"]
        pages += 1
        token = resp.get("NextToken")
        if not token:
            break
    assert pages > 1
    assert [d["ServiceId"] for d in seen] == [d["ServiceId"] for d in everything]
    # Larger than 1,000 answers at most 1,000.
    assert len(ec2.describe_vpc_endpoint_services(MaxResults=5000)["ServiceDetails"]) == len(everything)
    e = client_error(ec2.describe_vpc_endpoint_services, MaxResults=4)
    assert error_code(e) == "InvalidParameterValue"
    e = client_error(ec2.describe_vpc_endpoint_services, NextToken="garbage")
    assert error_code(e) == "InvalidNextToken"


def test_services_dry_run(ec2):
    e = client_error(ec2.describe_vpc_endpoint_services, DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert http_status(e) == 412


# --- DescribePrefixLists ---------------------------------------------------------------


def test_prefix_lists(ec2, client_factory):
    lists = ec2.describe_prefix_lists()["PrefixLists"]
    names = [p["PrefixListName"] for p in lists]
    assert S3 in names and DYNAMODB in names
    for p in lists:
        assert PL_ID.match(p["PrefixListId"])
        assert p["Cidrs"] and all(re.match(r"^\d+\.\d+\.\d+\.\d+/\d+$", c) for c in p["Cidrs"])
    assert ec2.describe_prefix_lists()["PrefixLists"] == lists, "stable"
    other = client_factory("ec2", region="us-west-2").describe_prefix_lists()["PrefixLists"]
    assert {p["PrefixListId"] for p in other}.isdisjoint({p["PrefixListId"] for p in lists})
    assert "com.amazonaws.us-west-2.s3" in [p["PrefixListName"] for p in other]


def test_prefix_lists_by_id(ec2):
    s3 = prefix_list_id(ec2, S3)
    got = ec2.describe_prefix_lists(PrefixListIds=[s3])["PrefixLists"]
    assert [p["PrefixListName"] for p in got] == [S3]


def test_prefix_lists_errors(ec2):
    e = client_error(ec2.describe_prefix_lists, PrefixListIds=["pl-00000000"])
    assert error_code(e) == "InvalidPrefixListId.NotFound"
    e = client_error(ec2.describe_prefix_lists, PrefixListIds=["pl-xyz"])
    assert error_code(e) == "InvalidPrefixListID.Malformed"
    e = client_error(ec2.describe_prefix_lists, Filters=[{"Name": "owner-id", "Values": ["x"]}])
    assert error_code(e) == "InvalidParameterValue"


@pytest.mark.parametrize("name", ["prefix-list-id", "prefix-list-name"])
def test_prefix_lists_filters(ec2, name):
    s3 = next(p for p in ec2.describe_prefix_lists()["PrefixLists"] if p["PrefixListName"] == S3)
    value = s3["PrefixListId"] if name == "prefix-list-id" else S3
    got = ec2.describe_prefix_lists(Filters=[{"Name": name, "Values": [value]}])["PrefixLists"]
    assert got == [s3]
    assert ec2.describe_prefix_lists(Filters=[{"Name": name, "Values": ["nothing"]}])["PrefixLists"] == []


def test_prefix_lists_pagination_and_dry_run(ec2):
    everything = ec2.describe_prefix_lists()["PrefixLists"]
    assert len(everything) >= 2
    # Fewer than MaxResults in a region: one page, no token.
    resp = ec2.describe_prefix_lists(MaxResults=5)
    assert resp["PrefixLists"] == everything and "NextToken" not in resp
    for bad in (4, 1001):
        assert error_code(client_error(ec2.describe_prefix_lists, MaxResults=bad)) == "InvalidParameterValue"
    assert error_code(client_error(ec2.describe_prefix_lists, NextToken="garbage")) == "InvalidNextToken"
    e = client_error(ec2.describe_prefix_lists, DryRun=True)
    assert error_code(e) == "DryRunOperation"


# --- gateway endpoints ----------------------------------------------------------------


def test_gateway_endpoint_to_s3_with_routes(ec2):
    vpc_id = new_vpc(ec2)
    main = main_table(ec2, vpc_id)
    extra = new_table(ec2, vpc_id)
    e = gateway(
        ec2, vpc_id, tables=[main, extra],
        TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": [{"Key": "Name", "Value": "s3"}]}],
    )
    assert VPCE_ID.match(e["VpcEndpointId"])
    assert e["VpcEndpointType"] == "Gateway"
    assert e["VpcId"] == vpc_id
    assert e["ServiceName"] == S3
    assert e["State"] == "available"
    assert sorted(e["RouteTableIds"]) == sorted([main, extra])
    assert e["SubnetIds"] == [] and e["NetworkInterfaceIds"] == [] and e["DnsEntries"] == []
    assert e["PrivateDnsEnabled"] is False
    assert e["RequesterManaged"] is False
    assert e["OwnerId"] == DEFAULT_ACCOUNT
    assert e["Tags"] == [{"Key": "Name", "Value": "s3"}]
    policy = json.loads(e["PolicyDocument"])
    assert policy["Statement"] == [{"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]
    pl = prefix_list_id(ec2, S3)
    for table in (main, extra):
        routes = endpoint_routes(ec2, table)
        assert [(r["DestinationPrefixListId"], r["GatewayId"], r["State"]) for r in routes] == [
            (pl, e["VpcEndpointId"], "active")
        ]
    assert describe(ec2, e["VpcEndpointId"])[0]["RouteTableIds"] == e["RouteTableIds"]

    resp = ec2.delete_vpc_endpoints(VpcEndpointIds=[e["VpcEndpointId"]])
    assert resp["Unsuccessful"] == []
    assert endpoint_routes(ec2, main) == [] and endpoint_routes(ec2, extra) == []
    assert describe(ec2) == []


def test_gateway_endpoint_without_tables_and_default_type(ec2):
    vpc_id = new_vpc(ec2)
    e = ec2.create_vpc_endpoint(VpcId=vpc_id, ServiceName=DYNAMODB)["VpcEndpoint"]
    assert e["VpcEndpointType"] == "Gateway"
    assert e["RouteTableIds"] == []


def test_gateway_route_conflict(ec2):
    vpc_id = new_vpc(ec2)
    main = new_table(ec2, vpc_id)
    gateway(ec2, vpc_id, tables=[main])
    e = client_error(gateway, ec2, vpc_id, tables=[main])
    assert error_code(e) == "RouteAlreadyExists"
    assert len(describe(ec2)) == 1, "nothing made"
    gateway(ec2, vpc_id, service=DYNAMODB, tables=[main])
    assert len(endpoint_routes(ec2, main)) == 2


def test_gateway_route_table_errors(ec2):
    vpc_id = new_vpc(ec2)
    other_vpc = new_vpc(ec2, "10.1.0.0/16")
    e = client_error(gateway, ec2, vpc_id, tables=[MISSING_RTB])
    assert error_code(e) == "InvalidRouteTableID.NotFound"
    e = client_error(gateway, ec2, vpc_id, tables=[new_table(ec2, other_vpc)])
    assert error_code(e) == "InvalidRouteTableID.NotFound"
    e = client_error(gateway, ec2, vpc_id, tables=["rtb-nope"])
    assert error_code(e) == "InvalidRouteTableId.Malformed"
    assert describe(ec2) == []


def test_create_errors(ec2):
    vpc_id = new_vpc(ec2)
    cases = [
        (dict(VpcId="vpc-0123456789abcdef0", ServiceName=S3), "InvalidVpcID.NotFound"),
        (dict(VpcId="vpc-zz", ServiceName=S3), "InvalidVpcID.Malformed"),
        (dict(VpcId=vpc_id, ServiceName=f"com.amazonaws.{REGION}.nope"), "InvalidServiceName"),
        (dict(VpcId=vpc_id, ServiceName="com.amazonaws.eu-west-1.s3"), "InvalidServiceName"),
        # ec2 is offered as an interface service only.
        (dict(VpcId=vpc_id, ServiceName=EC2), "InvalidServiceName"),
        (dict(VpcId=vpc_id, ServiceName=DYNAMODB, VpcEndpointType="GatewayLoadBalancer"), "InvalidServiceName"),
        (dict(VpcId=vpc_id), "MissingParameter"),
        (dict(VpcId=vpc_id, ServiceName=S3, PolicyDocument="{not json"), "InvalidPolicyDocument"),
        (dict(VpcId=vpc_id, ServiceName=S3, PolicyDocument="[]"), "InvalidPolicyDocument"),
        (dict(VpcId=vpc_id, ServiceName=S3, SubnetIds=[MISSING_SUBNET]), "InvalidParameter"),
        (dict(VpcId=vpc_id, ServiceName=S3, SecurityGroupIds=[MISSING_SG]), "InvalidParameter"),
        (dict(VpcId=vpc_id, ServiceName=S3, PrivateDnsEnabled=True), "InvalidParameter"),
        (dict(VpcId=vpc_id, ServiceName=S3, IpAddressType="dualstack"), "InvalidParameter"),
        (dict(VpcId=vpc_id, ServiceName=SQS, VpcEndpointType="Interface", RouteTableIds=[MISSING_RTB]),
         "InvalidParameter"),
        (dict(VpcId=vpc_id, ServiceName=S3, VpcEndpointType="Resource"), "NotImplemented"),
        (dict(VpcId=vpc_id, ServiceName=S3, TagSpecifications=[{"ResourceType": "vpc", "Tags": []}]),
         "InvalidParameterValue"),
    ]
    for kw, code in cases:
        e = client_error(ec2.create_vpc_endpoint, **kw)
        assert error_code(e) == code, (kw, e.response)
    assert describe(ec2) == []


def test_custom_policy(ec2):
    vpc_id = new_vpc(ec2)
    doc = json.dumps({"Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]})
    e = gateway(ec2, vpc_id, PolicyDocument=doc)
    assert e["PolicyDocument"] == doc
    assert describe(ec2, e["VpcEndpointId"])[0]["PolicyDocument"] == doc


def test_create_dry_run(ec2):
    vpc_id = new_vpc(ec2)
    main = new_table(ec2, vpc_id)
    e = client_error(gateway, ec2, vpc_id, tables=[main], DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert http_status(e) == 412
    assert describe(ec2) == []
    assert endpoint_routes(ec2, main) == []
    # A dry run still checks everything.
    e = client_error(gateway, ec2, vpc_id, tables=[MISSING_RTB], DryRun=True)
    assert error_code(e) == "InvalidRouteTableID.NotFound"


def test_client_token(ec2):
    vpc_id = new_vpc(ec2)
    first = ec2.create_vpc_endpoint(VpcId=vpc_id, ServiceName=S3, ClientToken="tok-1")
    again = ec2.create_vpc_endpoint(VpcId=vpc_id, ServiceName=S3, ClientToken="tok-1")
    assert first["VpcEndpoint"]["VpcEndpointId"] == again["VpcEndpoint"]["VpcEndpointId"]
    assert first["ClientToken"] == "tok-1"
    assert len(describe(ec2)) == 1
    e = client_error(ec2.create_vpc_endpoint, VpcId=vpc_id, ServiceName=DYNAMODB, ClientToken="tok-1")
    assert error_code(e) == "IdempotentParameterMismatch"


def test_quota(own_server, tmp_path):
    cfg = tmp_path / "reservoir.toml"
    cfg.write_text('listen = "127.0.0.1:0"\nephemeral = true\n[quotas]\nvpc-endpoints-per-vpc = 2\n')
    s = own_server("--config", str(cfg))
    ec2 = s.client("ec2")
    vpc_id = new_vpc(ec2)
    gateway(ec2, vpc_id)
    gateway(ec2, vpc_id, service=DYNAMODB)
    e = client_error(gateway, ec2, vpc_id)
    assert error_code(e) == "VpcEndpointLimitExceeded"
    # Another VPC has its own count.
    gateway(ec2, new_vpc(ec2, "10.1.0.0/16"))


def test_vpc_with_endpoint_cannot_be_deleted(ec2):
    vpc_id = new_vpc(ec2)
    e = gateway(ec2, vpc_id)
    err = client_error(ec2.delete_vpc, VpcId=vpc_id)
    assert error_code(err) == "DependencyViolation"
    ec2.delete_vpc_endpoints(VpcEndpointIds=[e["VpcEndpointId"]])
    ec2.delete_vpc(VpcId=vpc_id)


# --- interface endpoints --------------------------------------------------------------


def test_interface_endpoint(ec2):
    vpc_id = new_vpc(ec2, dns=True)
    a = subnet(ec2, vpc_id, "10.0.1.0/24", "us-east-1a")
    b = subnet(ec2, vpc_id, "10.0.2.0/24", "us-east-1b")
    e = interface(ec2, vpc_id, [a, b])
    assert e["VpcEndpointType"] == "Interface"
    assert e["State"] == "available"
    assert sorted(e["SubnetIds"]) == sorted([a, b])
    assert len(e["NetworkInterfaceIds"]) == 2 and all(ENI_ID.match(n) for n in e["NetworkInterfaceIds"])
    assert e["RouteTableIds"] == []
    assert e["PrivateDnsEnabled"] is True
    assert e["IpAddressType"] == "ipv4"
    assert e["DnsOptions"]["DnsRecordIpType"] == "ipv4"
    default_sg = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]
    assert e["Groups"] == [{"GroupId": default_sg["GroupId"], "GroupName": "default"}]
    names = [d["DnsName"] for d in e["DnsEntries"]]
    vid = e["VpcEndpointId"]
    assert re.match(rf"^{vid}-[a-z0-9]{{8}}\.ec2\.{REGION}\.vpce\.amazonaws\.com$", names[0])
    assert any(n.startswith(f"{vid}-") and "-us-east-1a.ec2." in n for n in names)
    assert any("-us-east-1b.ec2." in n for n in names)
    assert f"ec2.{REGION}.amazonaws.com" in names
    assert all(d["HostedZoneId"].startswith("Z") for d in e["DnsEntries"])
    assert describe(ec2, vid)[0]["DnsEntries"] == e["DnsEntries"]


def test_interface_endpoint_in_the_default_vpc(ec2):
    vpc = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    subnets = ec2.describe_subnets(Filters=[{"Name": "default-for-az", "Values": ["true"]}])["Subnets"]
    by_zone = {s["AvailabilityZone"]: s["SubnetId"] for s in subnets}
    e = interface(ec2, vpc["VpcId"], [by_zone["us-east-1a"], by_zone["us-east-1b"]], service=SQS)
    # The default VPC has DNS hostnames on: private DNS is on by default.
    assert e["PrivateDnsEnabled"] is True
    assert f"sqs.{REGION}.amazonaws.com" in [d["DnsName"] for d in e["DnsEntries"]]


def test_interface_private_dns_needs_vpc_dns_hostnames(ec2):
    vpc_id = new_vpc(ec2)  # enableDnsHostnames is false in a new VPC
    a = subnet(ec2, vpc_id, "10.0.1.0/24", "us-east-1a")
    e = client_error(interface, ec2, vpc_id, [a])
    assert error_code(e) == "InvalidParameter"
    made = interface(ec2, vpc_id, [a], PrivateDnsEnabled=False)
    assert made["PrivateDnsEnabled"] is False
    assert f"ec2.{REGION}.amazonaws.com" not in [d["DnsName"] for d in made["DnsEntries"]]


def test_interface_private_dns_once_per_vpc(ec2):
    vpc_id = new_vpc(ec2, dns=True)
    interface(ec2, vpc_id)
    e = client_error(interface, ec2, vpc_id)
    assert error_code(e) == "InvalidParameter"
    interface(ec2, vpc_id, PrivateDnsEnabled=False)
    interface(ec2, vpc_id, service=SQS)


def test_interface_errors(ec2):
    vpc_id = new_vpc(ec2, dns=True)
    other = new_vpc(ec2, "10.1.0.0/16", dns=True)
    a = subnet(ec2, vpc_id, "10.0.1.0/24", "us-east-1a")
    a2 = subnet(ec2, vpc_id, "10.0.3.0/24", "us-east-1a")
    elsewhere = subnet(ec2, other, "10.1.1.0/24", "us-east-1a")
    other_sg = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [other]}])["SecurityGroups"][0]
    cases = [
        (dict(subnets=[a, a2]), "DuplicateSubnetsInSameZone"),
        (dict(subnets=[a, a]), "DuplicateSubnetsInSameZone"),
        (dict(subnets=[MISSING_SUBNET]), "InvalidSubnetID.NotFound"),
        (dict(subnets=["subnet-nope"]), "InvalidSubnetID.Malformed"),
        (dict(subnets=[elsewhere]), "InvalidParameter"),
        (dict(subnets=[a], SecurityGroupIds=[MISSING_SG]), "InvalidGroup.NotFound"),
        (dict(subnets=[a], SecurityGroupIds=["sg-nope"]), "InvalidGroupId.Malformed"),
        (dict(subnets=[a], SecurityGroupIds=[other_sg["GroupId"]]), "InvalidParameter"),
        (dict(subnets=[a], IpAddressType="dualstack"), "InvalidParameter"),
        (dict(subnets=[a], service=f"com.amazonaws.{REGION}.ram", IpAddressType="dualstack"), "InvalidParameter"),
        (dict(subnets=[a], DnsOptions={"DnsRecordIpType": "ipv6"}), "InvalidParameter"),
        (dict(subnets=[a], service=S3, DnsOptions={"PrivateDnsOnlyForInboundResolverEndpoint": True}),
         "InvalidParameter"),
        (dict(subnets=[a], service=EC2, DnsOptions={"PrivateDnsOnlyForInboundResolverEndpoint": True}),
         "InvalidParameter"),
        (dict(subnets=[a], service=DYNAMODB), "InvalidServiceName"),
    ]
    for kw, code in cases:
        subnets = kw.pop("subnets")
        e = client_error(interface, ec2, vpc_id, subnets, **kw)
        assert error_code(e) == code, (kw, e.response)
    assert describe(ec2) == []


def test_s3_interface_with_gateway_resolves_inbound_only(ec2):
    vpc_id = new_vpc(ec2, dns=True)
    a = subnet(ec2, vpc_id, "10.0.1.0/24", "us-east-1a")
    gateway(ec2, vpc_id, tables=[new_table(ec2, vpc_id)])
    e = interface(ec2, vpc_id, [a], service=S3, DnsOptions={"PrivateDnsOnlyForInboundResolverEndpoint": True})
    assert e["DnsOptions"]["PrivateDnsOnlyForInboundResolverEndpoint"] is True
    assert e["DnsEntries"][0]["DnsName"].startswith(f"*.{e['VpcEndpointId']}-")


def test_group_in_use_by_endpoint_cannot_be_deleted(ec2):
    vpc_id = new_vpc(ec2, dns=True)
    sg = ec2.create_security_group(VpcId=vpc_id, GroupName="endpoints", Description="endpoints")["GroupId"]
    e = interface(ec2, vpc_id, SecurityGroupIds=[sg])
    assert e["Groups"] == [{"GroupId": sg, "GroupName": "endpoints"}]
    assert error_code(client_error(ec2.delete_security_group, GroupId=sg)) == "DependencyViolation"
    ec2.delete_vpc_endpoints(VpcEndpointIds=[e["VpcEndpointId"]])
    ec2.delete_security_group(GroupId=sg)


def test_interface_network_interfaces_hold_subnet_addresses(ec2):
    vpc_id = new_vpc(ec2, dns=True)
    a = subnet(ec2, vpc_id, "10.0.1.0/28", "us-east-1a")
    free = ec2.describe_subnets(SubnetIds=[a])["Subnets"][0]["AvailableIpAddressCount"]
    e = interface(ec2, vpc_id, [a])
    [eni_id] = e["NetworkInterfaceIds"]
    eni = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
    assert eni["SubnetId"] == a
    assert eni["RequesterManaged"] is True
    assert eni["Description"] == f"VPC Endpoint Interface {e['VpcEndpointId']}"
    assert eni["PrivateIpAddress"] == "10.0.1.4"
    assert [g["GroupId"] for g in eni["Groups"]] == [g["GroupId"] for g in e["Groups"]]
    assert ec2.describe_subnets(SubnetIds=[a])["Subnets"][0]["AvailableIpAddressCount"] == free - 1
    assert eni["InterfaceType"] == "vpc_endpoint"
    assert error_code(client_error(ec2.delete_subnet, SubnetId=a)) == "DependencyViolation"
    # The endpoint's interface goes with the endpoint, not by itself.
    assert error_code(client_error(ec2.delete_network_interface, NetworkInterfaceId=eni_id)) == "OperationNotPermitted"
    ec2.delete_vpc_endpoints(VpcEndpointIds=[e["VpcEndpointId"]])
    assert ec2.describe_network_interfaces(Filters=[{"Name": "subnet-id", "Values": [a]}])["NetworkInterfaces"] == []
    assert ec2.describe_subnets(SubnetIds=[a])["Subnets"][0]["AvailableIpAddressCount"] == free
    ec2.delete_subnet(SubnetId=a)


def test_interface_in_a_full_subnet(ec2):
    vpc_id = new_vpc(ec2, dns=True)
    a = subnet(ec2, vpc_id, "10.0.1.0/28", "us-east-1a")
    for _ in range(11):
        ec2.create_network_interface(SubnetId=a)
    e = client_error(interface, ec2, vpc_id, [a])
    assert error_code(e) == "InsufficientFreeAddressesInSubnet"
    assert describe(ec2) == []


# --- DescribeVpcEndpoints --------------------------------------------------------------


def test_describe_by_id_errors(ec2):
    e = client_error(describe, ec2, MISSING_VPCE)
    assert error_code(e) == "InvalidVpcEndpointId.NotFound"
    e = client_error(describe, ec2, "vpce-nope")
    assert error_code(e) == "InvalidVpcEndpointId.Malformed"
    e = client_error(describe, ec2, Filters=[{"Name": "subnet-id", "Values": ["x"]}])
    assert error_code(e) == "InvalidParameterValue"


@pytest.fixture
def two_endpoints(ec2):
    vpc_id = new_vpc(ec2, dns=True)
    a = subnet(ec2, vpc_id, "10.0.1.0/24", "us-east-1a")
    g = gateway(ec2, vpc_id, TagSpecifications=[
        {"ResourceType": "vpc-endpoint", "Tags": [{"Key": "tier", "Value": "gw"}]}])
    i = interface(ec2, vpc_id, [a], service=SQS, TagSpecifications=[
        {"ResourceType": "vpc-endpoint", "Tags": [{"Key": "role", "Value": "queue"}]}])
    other = gateway(ec2, new_vpc(ec2, "10.1.0.0/16"), service=DYNAMODB)
    return vpc_id, g, i, other


@pytest.mark.parametrize(
    "name,value,expected",
    [
        ("ip-address-type", "ipv4", {"g", "i", "other"}),
        ("service-name", SQS, {"i"}),
        ("service-region", REGION, {"g", "i", "other"}),
        ("tag:tier", "gw", {"g"}),
        ("tag-key", "role", {"i"}),
        ("tag-value", "queue", {"i"}),
        ("vpc-id", None, {"g", "i"}),
        ("vpc-endpoint-id", "g", {"g"}),
        ("vpc-endpoint-state", "available", {"g", "i", "other"}),
        ("vpc-endpoint-type", "Interface", {"i"}),
        ("vpc-endpoint-type", "Gateway", {"g", "other"}),
    ],
)
def test_describe_filters(ec2, two_endpoints, name, value, expected):
    vpc_id, g, i, other = two_endpoints
    ids = {"g": g["VpcEndpointId"], "i": i["VpcEndpointId"], "other": other["VpcEndpointId"]}
    if value is None:
        value = vpc_id
    elif value in ids:
        value = ids[value]
    got = {e["VpcEndpointId"] for e in describe(ec2, Filters=[{"Name": name, "Values": [value]}])}
    assert got == {ids[k] for k in expected}


def test_describe_ids_with_filters(ec2, two_endpoints):
    _, g, i, _ = two_endpoints
    got = describe(ec2, g["VpcEndpointId"], i["VpcEndpointId"],
                   Filters=[{"Name": "vpc-endpoint-type", "Values": ["Gateway"]}])
    assert [e["VpcEndpointId"] for e in got] == [g["VpcEndpointId"]]


def test_describe_pagination(ec2):
    vpc_id = new_vpc(ec2)
    made = [gateway(ec2, vpc_id)["VpcEndpointId"] for _ in range(7)]
    seen, token = [], None
    while True:
        kw = {"MaxResults": 5}
        if token:
            kw["NextToken"] = token
        resp = ec2.describe_vpc_endpoints(**kw)
        assert len(resp["VpcEndpoints"]) <= 5
        seen += [e["VpcEndpointId"] for e in resp["VpcEndpoints"]]
        token = resp.get("NextToken")
        if not token:
            break
    assert seen == made
    paginated = [
        e["VpcEndpointId"]
        for page in ec2.get_paginator("describe_vpc_endpoints").paginate(PaginationConfig={"PageSize": 5})
        for e in page["VpcEndpoints"]
    ]
    assert paginated == made
    assert error_code(client_error(ec2.describe_vpc_endpoints, MaxResults=4)) == "InvalidParameterValue"
    assert len(ec2.describe_vpc_endpoints(MaxResults=2000)["VpcEndpoints"]) == 7
    assert error_code(client_error(ec2.describe_vpc_endpoints, NextToken="garbage")) == "InvalidNextToken"


def test_describe_dry_run(ec2):
    e = client_error(ec2.describe_vpc_endpoints, DryRun=True)
    assert error_code(e) == "DryRunOperation"


def test_tags_via_create_tags(ec2):
    vpc_id = new_vpc(ec2)
    e = gateway(ec2, vpc_id)
    ec2.create_tags(Resources=[e["VpcEndpointId"]], Tags=[{"Key": "k", "Value": "v"}])
    assert describe(ec2, e["VpcEndpointId"])[0]["Tags"] == [{"Key": "k", "Value": "v"}]
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [e["VpcEndpointId"]]}])["Tags"]
    assert tags[0]["ResourceType"] == "vpc-endpoint"


def test_accounts_are_isolated(ec2, ec2_other):
    e = gateway(ec2, new_vpc(ec2))
    assert ec2_other.describe_vpc_endpoints()["VpcEndpoints"] == []
    err = client_error(ec2_other.describe_vpc_endpoints, VpcEndpointIds=[e["VpcEndpointId"]])
    assert error_code(err) == "InvalidVpcEndpointId.NotFound"


# --- ModifyVpcEndpoint -----------------------------------------------------------------


def test_modify_gateway_cycle(ec2):
    vpc_id = new_vpc(ec2)
    main = new_table(ec2, vpc_id)
    extra = new_table(ec2, vpc_id)
    e = gateway(ec2, vpc_id, tables=[main])
    vid = e["VpcEndpointId"]
    pl = prefix_list_id(ec2, S3)

    assert ec2.modify_vpc_endpoint(VpcEndpointId=vid, AddRouteTableIds=[extra])["Return"] is True
    assert sorted(describe(ec2, vid)[0]["RouteTableIds"]) == sorted([main, extra])
    assert [r["DestinationPrefixListId"] for r in endpoint_routes(ec2, extra)] == [pl]

    ec2.modify_vpc_endpoint(VpcEndpointId=vid, RemoveRouteTableIds=[main])
    assert describe(ec2, vid)[0]["RouteTableIds"] == [extra]
    assert endpoint_routes(ec2, main) == []
    # Removing a table the endpoint does not have changes nothing.
    ec2.modify_vpc_endpoint(VpcEndpointId=vid, RemoveRouteTableIds=[main])
    assert describe(ec2, vid)[0]["RouteTableIds"] == [extra]

    doc = json.dumps({"Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "*"}]})
    ec2.modify_vpc_endpoint(VpcEndpointId=vid, PolicyDocument=doc)
    assert describe(ec2, vid)[0]["PolicyDocument"] == doc
    ec2.modify_vpc_endpoint(VpcEndpointId=vid, ResetPolicy=True)
    assert json.loads(describe(ec2, vid)[0]["PolicyDocument"])["Statement"][0]["Action"] == "*"


def test_modify_gateway_errors(ec2):
    vpc_id = new_vpc(ec2)
    vid = gateway(ec2, vpc_id)["VpcEndpointId"]
    cases = [
        (dict(VpcEndpointId=MISSING_VPCE), "InvalidVpcEndpointId.NotFound"),
        (dict(VpcEndpointId="vpce-zz"), "InvalidVpcEndpointId.Malformed"),
        (dict(VpcEndpointId=vid, AddRouteTableIds=[MISSING_RTB]), "InvalidRouteTableID.NotFound"),
        (dict(VpcEndpointId=vid, AddSubnetIds=[MISSING_SUBNET]), "InvalidParameter"),
        (dict(VpcEndpointId=vid, AddSecurityGroupIds=[MISSING_SG]), "InvalidParameter"),
        (dict(VpcEndpointId=vid, PrivateDnsEnabled=True), "InvalidParameter"),
        (dict(VpcEndpointId=vid, ResetPolicy=True, PolicyDocument="{}"), "InvalidParameterCombination"),
        (dict(VpcEndpointId=vid, PolicyDocument="nope"), "InvalidPolicyDocument"),
    ]
    for kw, code in cases:
        e = client_error(ec2.modify_vpc_endpoint, **kw)
        assert error_code(e) == code, (kw, e.response)


def test_modify_interface_cycle(ec2):
    vpc_id = new_vpc(ec2, dns=True)
    a = subnet(ec2, vpc_id, "10.0.1.0/24", "us-east-1a")
    b = subnet(ec2, vpc_id, "10.0.2.0/24", "us-east-1b")
    a2 = subnet(ec2, vpc_id, "10.0.3.0/24", "us-east-1a")
    sg = ec2.create_security_group(VpcId=vpc_id, GroupName="extra", Description="extra")["GroupId"]
    e = interface(ec2, vpc_id, [a])
    vid = e["VpcEndpointId"]
    default_sg = e["Groups"][0]["GroupId"]

    ec2.modify_vpc_endpoint(VpcEndpointId=vid, AddSubnetIds=[b])
    got = describe(ec2, vid)[0]
    assert sorted(got["SubnetIds"]) == sorted([a, b])
    assert len(got["NetworkInterfaceIds"]) == 2
    assert error_code(client_error(ec2.modify_vpc_endpoint, VpcEndpointId=vid, AddSubnetIds=[a2])) == (
        "DuplicateSubnetsInSameZone"
    )
    ec2.modify_vpc_endpoint(VpcEndpointId=vid, RemoveSubnetIds=[a], AddSubnetIds=[a2])
    assert sorted(describe(ec2, vid)[0]["SubnetIds"]) == sorted([a2, b])

    ec2.modify_vpc_endpoint(VpcEndpointId=vid, AddSecurityGroupIds=[sg], RemoveSecurityGroupIds=[default_sg])
    assert describe(ec2, vid)[0]["Groups"] == [{"GroupId": sg, "GroupName": "extra"}]
    e2 = client_error(ec2.modify_vpc_endpoint, VpcEndpointId=vid, RemoveSecurityGroupIds=[sg])
    assert error_code(e2) == "InvalidParameter"

    ec2.modify_vpc_endpoint(VpcEndpointId=vid, PrivateDnsEnabled=False)
    got = describe(ec2, vid)[0]
    assert got["PrivateDnsEnabled"] is False
    assert f"ec2.{REGION}.amazonaws.com" not in [d["DnsName"] for d in got["DnsEntries"]]
    # The private name is free again: another endpoint may take it, and then this one cannot.
    other = interface(ec2, vpc_id)
    e3 = client_error(ec2.modify_vpc_endpoint, VpcEndpointId=vid, PrivateDnsEnabled=True)
    assert error_code(e3) == "InvalidParameter"
    ec2.delete_vpc_endpoints(VpcEndpointIds=[other["VpcEndpointId"]])
    ec2.modify_vpc_endpoint(VpcEndpointId=vid, PrivateDnsEnabled=True)
    assert describe(ec2, vid)[0]["PrivateDnsEnabled"] is True

    e4 = client_error(ec2.modify_vpc_endpoint, VpcEndpointId=vid, AddRouteTableIds=[new_table(ec2, vpc_id)])
    assert error_code(e4) == "InvalidParameter"


def test_modify_dry_run(ec2):
    vpc_id = new_vpc(ec2)
    extra = new_table(ec2, vpc_id)
    vid = gateway(ec2, vpc_id)["VpcEndpointId"]
    e = client_error(ec2.modify_vpc_endpoint, VpcEndpointId=vid, AddRouteTableIds=[extra], DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert describe(ec2, vid)[0]["RouteTableIds"] == []
    assert endpoint_routes(ec2, extra) == []


# --- DeleteVpcEndpoints ----------------------------------------------------------------


def test_delete_with_unknown_ids(ec2):
    vpc_id = new_vpc(ec2)
    vid = gateway(ec2, vpc_id)["VpcEndpointId"]
    resp = ec2.delete_vpc_endpoints(VpcEndpointIds=[MISSING_VPCE, vid])
    assert resp["Unsuccessful"] == [
        {
            "Error": {"Code": "InvalidVpcEndpoint.NotFound", "Message": f"The VpcEndpoint Id '{MISSING_VPCE}' does not exist"},
            "ResourceId": MISSING_VPCE,
        }
    ]
    assert describe(ec2) == []
    again = ec2.delete_vpc_endpoints(VpcEndpointIds=[vid])["Unsuccessful"]
    assert [u["ResourceId"] for u in again] == [vid]


def test_delete_errors_and_dry_run(ec2):
    vid = gateway(ec2, new_vpc(ec2))["VpcEndpointId"]
    assert error_code(client_error(ec2.delete_vpc_endpoints, VpcEndpointIds=["vpce-zz"])) == (
        "InvalidVpcEndpointId.Malformed"
    )
    e = client_error(ec2.delete_vpc_endpoints, VpcEndpointIds=[vid], DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert len(describe(ec2)) == 1


def test_delete_interface_frees_private_dns_and_tags(ec2):
    vpc_id = new_vpc(ec2, dns=True)
    e = interface(ec2, vpc_id, TagSpecifications=[{"ResourceType": "vpc-endpoint", "Tags": [{"Key": "a", "Value": "b"}]}])
    ec2.delete_vpc_endpoints(VpcEndpointIds=[e["VpcEndpointId"]])
    assert ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [e["VpcEndpointId"]]}])["Tags"] == []
    interface(ec2, vpc_id)


# --- AWS CLI ----------------------------------------------------------------------------


def test_cli_gateway_endpoint(aws):  # noqa: F811
    vpc_id = aws("ec2", "create-vpc", "--cidr-block", "10.9.0.0/16")["Vpc"]["VpcId"]
    made = aws(
        "ec2", "create-vpc-endpoint", "--vpc-id", vpc_id, "--service-name", S3,
        "--tag-specifications", "ResourceType=vpc-endpoint,Tags=[{Key=Name,Value=cli}]",
    )["VpcEndpoint"]
    found = aws("ec2", "describe-vpc-endpoints", "--filters", "Name=tag:Name,Values=cli")["VpcEndpoints"]
    assert [e["VpcEndpointId"] for e in found] == [made["VpcEndpointId"]]
    services = aws("ec2", "describe-vpc-endpoint-services", "--service-names", S3)
    assert services["ServiceNames"] == [S3]
    out = aws("ec2", "delete-vpc-endpoints", "--vpc-endpoint-ids", made["VpcEndpointId"])
    assert out["Unsuccessful"] == []
