"""Security groups and their rules: create, describe (every filter), delete, authorize,
revoke, rule ids and tags, modify, descriptions, references between groups, quotas."""

import re

import pytest
from botocore.exceptions import ClientError

from conftest import DEFAULT_ACCOUNT, error_code, http_status

SG_ID = re.compile(r"^sg-[0-9a-f]{17}$")
SGR_ID = re.compile(r"^sgr-[0-9a-f]{17}$")
MISSING_SG = "sg-0123456789abcdef0"
MISSING_SGR = "sgr-0123456789abcdef0"


def client_error(fn, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    return e.value


def vpc(ec2, cidr="10.0.0.0/16"):
    return ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]


def default_vpc(ec2):
    return ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]["VpcId"]


def group(ec2, name, vpc_id, description="a group", tags=None):
    kw = {}
    if tags:
        kw["TagSpecifications"] = [
            {"ResourceType": "security-group", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ]
    return ec2.create_security_group(GroupName=name, Description=description, VpcId=vpc_id, **kw)["GroupId"]


def describe(ec2, gid):
    return ec2.describe_security_groups(GroupIds=[gid])["SecurityGroups"][0]


def tcp(port, cidr="0.0.0.0/0", to=None, description=None):
    r = {"CidrIp": cidr}
    if description is not None:
        r["Description"] = description
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": to if to is not None else port, "IpRanges": [r]}


def from_group(port, gid, description=None):
    pair = {"GroupId": gid}
    if description is not None:
        pair["Description"] = description
    return {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "UserIdGroupPairs": [pair]}


def rules_of(ec2, gid):
    return ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [gid]}])[
        "SecurityGroupRules"
    ]


# --- create and describe --------------------------------------------------------------


def test_create_describe_delete(ec2):
    v = vpc(ec2)
    resp = ec2.create_security_group(
        GroupName="web",
        Description="Web servers",
        VpcId=v,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "Name", "Value": "web"}]}],
    )
    gid = resp["GroupId"]
    assert SG_ID.match(gid)
    assert resp["Tags"] == [{"Key": "Name", "Value": "web"}]
    assert resp["SecurityGroupArn"] == f"arn:aws:ec2:us-east-1:{DEFAULT_ACCOUNT}:security-group/{gid}"
    g = describe(ec2, gid)
    assert g["GroupName"] == "web"
    assert g["Description"] == "Web servers"
    assert g["VpcId"] == v
    assert g["OwnerId"] == DEFAULT_ACCOUNT
    assert g["Tags"] == [{"Key": "Name", "Value": "web"}]
    assert g["IpPermissions"] == []
    # A new group may send anything anywhere.
    assert g["IpPermissionsEgress"] == [
        {
            "IpProtocol": "-1",
            "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            "Ipv6Ranges": [],
            "PrefixListIds": [],
            "UserIdGroupPairs": [],
        }
    ]
    rules = rules_of(ec2, gid)
    assert len(rules) == 1
    assert rules[0]["IsEgress"] is True and rules[0]["CidrIpv4"] == "0.0.0.0/0"
    assert rules[0]["FromPort"] == -1 and rules[0]["ToPort"] == -1
    assert SGR_ID.match(rules[0]["SecurityGroupRuleId"])
    resp = ec2.delete_security_group(GroupId=gid)
    assert resp["Return"] is True and resp["GroupId"] == gid
    assert error_code(client_error(ec2.describe_security_groups, GroupIds=[gid])) == "InvalidGroup.NotFound"
    assert rules_of(ec2, gid) == []


def test_create_in_default_vpc_without_vpc_id(ec2):
    gid = ec2.create_security_group(GroupName="plain", Description="d")["GroupId"]
    assert describe(ec2, gid)["VpcId"] == default_vpc(ec2)
    # Default-VPC groups may be named by name.
    found = ec2.describe_security_groups(GroupNames=["plain"])["SecurityGroups"]
    assert [g["GroupId"] for g in found] == [gid]
    ec2.delete_security_group(GroupName="plain")
    assert error_code(client_error(ec2.describe_security_groups, GroupNames=["plain"])) == "InvalidGroup.NotFound"


def test_every_vpc_has_an_undeletable_default_group(ec2):
    v = vpc(ec2)
    groups = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [v]}])["SecurityGroups"]
    assert len(groups) == 1
    d = groups[0]
    assert d["GroupName"] == "default"
    assert d["Description"] == "default VPC security group"
    # All traffic in from itself, all traffic out.
    assert d["IpPermissions"][0]["IpProtocol"] == "-1"
    assert d["IpPermissions"][0]["UserIdGroupPairs"] == [{"GroupId": d["GroupId"], "UserId": DEFAULT_ACCOUNT}]
    assert d["IpPermissionsEgress"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    e = client_error(ec2.delete_security_group, GroupId=d["GroupId"])
    assert error_code(e) == "CannotDelete"
    assert http_status(e) == 400
    # The name is reserved, in any VPC.
    e = client_error(ec2.create_security_group, GroupName="default", Description="d", VpcId=v)
    assert error_code(e) == "InvalidGroup.Reserved"
    # The default VPC has one too.
    dv = default_vpc(ec2)
    names = [
        g["GroupName"]
        for g in ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [dv]}])["SecurityGroups"]
    ]
    assert names == ["default"]


def test_vpc_with_groups_cannot_be_deleted(ec2):
    v = vpc(ec2)
    gid = group(ec2, "app", v)
    assert error_code(client_error(ec2.delete_vpc, VpcId=v)) == "DependencyViolation"
    ec2.delete_security_group(GroupId=gid)
    ec2.delete_vpc(VpcId=v)
    assert ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [v]}])["SecurityGroups"] == []


@pytest.mark.parametrize(
    "name,description,code",
    [
        ("web", "x" * 256, "InvalidParameterValue"),
        ("w" * 256, "d", "InvalidParameterValue"),
        ("sg-web", "d", "InvalidParameterValue"),
        ("web%", "d", "InvalidParameterValue"),
        ("wéb", "d", "InvalidParameterValue"),
        ("web", "descrïption", "InvalidParameterValue"),
        ("default", "d", "InvalidGroup.Reserved"),
    ],
)
def test_create_validation(ec2, name, description, code):
    v = vpc(ec2)
    before = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [v]}])["SecurityGroups"]
    e = client_error(ec2.create_security_group, GroupName=name, Description=description, VpcId=v)
    assert error_code(e) == code
    assert ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [v]}])["SecurityGroups"] == before


def test_names_allow_aws_characters_up_to_255(ec2):
    v = vpc(ec2)
    group(ec2, "a-zA-Z0-9 ._-:/()#,@[]+=&;{}!$*", v)
    group(ec2, "n" * 255, v, description="d" * 255)


def test_duplicate_names_per_vpc(ec2):
    v1, v2 = vpc(ec2), vpc(ec2, "10.1.0.0/16")
    group(ec2, "web", v1)
    e = client_error(ec2.create_security_group, GroupName="web", Description="d", VpcId=v1)
    assert error_code(e) == "InvalidGroup.Duplicate"
    assert v1 in str(e)
    # Names are case-insensitive.
    e = client_error(ec2.create_security_group, GroupName="WEB", Description="d", VpcId=v1)
    assert error_code(e) == "InvalidGroup.Duplicate"
    # Another VPC may use it.
    group(ec2, "web", v2)


def test_create_vpc_errors(ec2):
    e = client_error(ec2.create_security_group, GroupName="g", Description="d", VpcId="vpc-0123456789abcdef0")
    assert error_code(e) == "InvalidVpcID.NotFound"
    e = client_error(ec2.create_security_group, GroupName="g", Description="d", VpcId="vpc-nope")
    assert error_code(e) == "InvalidVpcID.Malformed"
    e = client_error(
        ec2.create_security_group,
        GroupName="g",
        Description="d",
        VpcId=vpc(ec2),
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "a", "Value": "b"}]}],
    )
    assert error_code(e) == "InvalidParameterValue"


def test_create_without_default_vpc(ec2):
    dv = default_vpc(ec2)
    for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [dv]}])["Subnets"]:
        ec2.delete_subnet(SubnetId=s["SubnetId"])
    gateways = ec2.describe_internet_gateways(Filters=[{"Name": "attachment.vpc-id", "Values": [dv]}])
    for igw in gateways["InternetGateways"]:
        ec2.detach_internet_gateway(InternetGatewayId=igw["InternetGatewayId"], VpcId=dv)
        ec2.delete_internet_gateway(InternetGatewayId=igw["InternetGatewayId"])
    ec2.delete_vpc(VpcId=dv)
    e = client_error(ec2.create_security_group, GroupName="g", Description="d")
    assert error_code(e) == "VPCIdNotSpecified"


def test_dry_run(ec2):
    v = vpc(ec2)
    e = client_error(ec2.create_security_group, GroupName="g", Description="d", VpcId=v, DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert http_status(e) == 412
    assert ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["g"]}])["SecurityGroups"] == []
    gid = group(ec2, "g", v)
    e = client_error(ec2.authorize_security_group_ingress, GroupId=gid, IpPermissions=[tcp(22)], DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert describe(ec2, gid)["IpPermissions"] == []
    # A dry run fails as the real call would.
    e = client_error(ec2.authorize_security_group_ingress, GroupId=MISSING_SG, IpPermissions=[tcp(22)], DryRun=True)
    assert error_code(e) == "InvalidGroup.NotFound"
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[tcp(22)])
    e = client_error(ec2.revoke_security_group_ingress, GroupId=gid, IpPermissions=[tcp(22)], DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert len(describe(ec2, gid)["IpPermissions"]) == 1
    e = client_error(ec2.delete_security_group, GroupId=gid, DryRun=True)
    assert error_code(e) == "DryRunOperation"
    e = client_error(ec2.describe_security_groups, DryRun=True)
    assert error_code(e) == "DryRunOperation"
    e = client_error(ec2.describe_security_group_rules, DryRun=True)
    assert error_code(e) == "DryRunOperation"
    describe(ec2, gid)


def test_describe_errors(ec2):
    assert error_code(client_error(ec2.describe_security_groups, GroupIds=["sg-zz"])) == "InvalidGroupId.Malformed"
    assert error_code(client_error(ec2.describe_security_groups, GroupIds=[MISSING_SG])) == "InvalidGroup.NotFound"
    assert error_code(client_error(ec2.describe_security_groups, GroupNames=["nothing"])) == "InvalidGroup.NotFound"
    e = client_error(ec2.describe_security_groups, Filters=[{"Name": "bogus", "Values": ["x"]}])
    assert error_code(e) == "InvalidParameterValue"
    e = client_error(ec2.describe_security_group_rules, SecurityGroupRuleIds=["sgr-zz"])
    assert error_code(e) == "InvalidSecurityGroupRuleId.Malformed"
    e = client_error(ec2.describe_security_group_rules, SecurityGroupRuleIds=[MISSING_SGR])
    assert error_code(e) == "InvalidSecurityGroupRuleId.NotFound"
    e = client_error(ec2.describe_security_group_rules, Filters=[{"Name": "vpc-id", "Values": ["x"]}])
    assert error_code(e) == "InvalidParameterValue"


# --- groups referencing groups --------------------------------------------------------


def test_web_behind_alb(ec2):
    v = vpc(ec2)
    alb = group(ec2, "alb", v, "load balancer")
    web = group(ec2, "web", v, "web servers")
    ec2.authorize_security_group_ingress(GroupId=alb, IpPermissions=[tcp(443)])
    resp = ec2.authorize_security_group_ingress(
        GroupId=web, IpPermissions=[from_group(8080, alb, description="from the ALB")]
    )
    assert resp["Return"] is True
    [rule] = resp["SecurityGroupRules"]
    assert rule["ReferencedGroupInfo"] == {"GroupId": alb, "UserId": DEFAULT_ACCOUNT}
    assert rule["Description"] == "from the ALB"
    assert rule["IsEgress"] is False and rule["IpProtocol"] == "tcp" and rule["FromPort"] == 8080
    # The ALB may only talk to the web servers.
    ec2.revoke_security_group_egress(
        GroupId=alb,
        IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    ec2.authorize_security_group_egress(GroupId=alb, IpPermissions=[from_group(8080, web)])

    w = describe(ec2, web)
    assert w["IpPermissions"] == [
        {
            "IpProtocol": "tcp",
            "FromPort": 8080,
            "ToPort": 8080,
            "UserIdGroupPairs": [{"Description": "from the ALB", "GroupId": alb, "UserId": DEFAULT_ACCOUNT}],
            "IpRanges": [],
            "Ipv6Ranges": [],
            "PrefixListIds": [],
        }
    ]
    a = describe(ec2, alb)
    assert a["IpPermissionsEgress"][0]["UserIdGroupPairs"][0]["GroupId"] == web

    # Each references the other: neither can go while the other's rule names it.
    for gid in (alb, web):
        e = client_error(ec2.delete_security_group, GroupId=gid)
        assert error_code(e) == "DependencyViolation"
    ec2.revoke_security_group_ingress(GroupId=web, IpPermissions=[from_group(8080, alb)])
    ec2.delete_security_group(GroupId=alb)  # its own rule named web: that goes with it
    ec2.delete_security_group(GroupId=web)


def test_reference_kept_while_any_rule_names_the_group(ec2):
    v = vpc(ec2)
    alb = group(ec2, "alb", v)
    web = group(ec2, "web", v)
    ec2.authorize_security_group_ingress(GroupId=web, IpPermissions=[from_group(80, alb), from_group(443, alb)])
    ec2.revoke_security_group_ingress(GroupId=web, IpPermissions=[from_group(80, alb)])
    assert error_code(client_error(ec2.delete_security_group, GroupId=alb)) == "DependencyViolation"
    [rule] = [r for r in rules_of(ec2, web) if not r["IsEgress"]]
    ec2.revoke_security_group_ingress(GroupId=web, SecurityGroupRuleIds=[rule["SecurityGroupRuleId"]])
    ec2.delete_security_group(GroupId=alb)


def test_self_reference_does_not_block_delete(ec2):
    v = vpc(ec2)
    g = group(ec2, "cluster", v)
    ec2.authorize_security_group_ingress(
        GroupId=g, IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": g}]}]
    )
    ec2.delete_security_group(GroupId=g)


def test_referenced_groups_must_exist_in_the_same_vpc(ec2):
    v1, v2 = vpc(ec2), vpc(ec2, "10.1.0.0/16")
    a = group(ec2, "a", v1)
    b = group(ec2, "b", v2)
    e = client_error(ec2.authorize_security_group_ingress, GroupId=a, IpPermissions=[from_group(80, MISSING_SG)])
    assert error_code(e) == "InvalidGroup.NotFound"
    e = client_error(ec2.authorize_security_group_ingress, GroupId=a, IpPermissions=[from_group(80, b)])
    assert error_code(e) == "InvalidGroup.NotFound"
    e = client_error(ec2.authorize_security_group_ingress, GroupId=a, IpPermissions=[from_group(80, "sg-bad")])
    assert error_code(e) == "InvalidGroupId.Malformed"


# --- authorize ------------------------------------------------------------------------


def test_authorize_every_peer_kind_and_protocol(ec2):
    v = vpc(ec2)
    g = group(ec2, "g", v)
    pl = ec2.describe_prefix_lists()["PrefixLists"][0]["PrefixListId"]
    resp = ec2.authorize_security_group_ingress(
        GroupId=g,
        IpPermissions=[
            {
                "IpProtocol": "tcp",
                "FromPort": 22,
                "ToPort": 22,
                "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "office"}, {"CidrIp": "192.168.1.7/24"}],
                "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32"}],
                "PrefixListIds": [{"PrefixListId": pl}],
            },
            {"IpProtocol": "icmp", "FromPort": 8, "ToPort": 0, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "icmpv6", "Ipv6Ranges": [{"CidrIpv6": "::/0"}]},
            {"IpProtocol": "17", "FromPort": 53, "ToPort": 53, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {"IpProtocol": "50", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        ],
    )
    rules = resp["SecurityGroupRules"]
    assert len(rules) == 8
    assert all(SGR_ID.match(r["SecurityGroupRuleId"]) for r in rules)
    # Canonical CIDRs and protocol names.
    assert {r.get("CidrIpv4") for r in rules} >= {"10.0.0.0/8", "192.168.1.0/24"}
    assert {r["IpProtocol"] for r in rules} == {"tcp", "icmp", "icmpv6", "udp", "50"}
    perms = describe(ec2, g)["IpPermissions"]
    ssh = next(p for p in perms if p["IpProtocol"] == "tcp")
    assert ssh["IpRanges"] == [{"CidrIp": "10.0.0.0/8", "Description": "office"}, {"CidrIp": "192.168.1.0/24"}]
    assert ssh["Ipv6Ranges"] == [{"CidrIpv6": "2001:db8::/32"}]
    assert ssh["PrefixListIds"] == [{"PrefixListId": pl}]
    esp = next(p for p in perms if p["IpProtocol"] == "50")
    assert "FromPort" not in esp
    icmpv6 = next(p for p in perms if p["IpProtocol"] == "icmpv6")
    assert icmpv6["FromPort"] == -1 and icmpv6["ToPort"] == -1


def test_old_top_level_form(ec2):
    """The form Ansible, boto2-era code and moto-style suites send."""
    g = ec2.create_security_group(GroupName="legacy", Description="d")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=g, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="10.0.0.0/8")
    src = ec2.create_security_group(GroupName="source", Description="d")["GroupId"]
    # By name in the default VPC, with a source group by name: all TCP, UDP and ICMP.
    ec2.authorize_security_group_ingress(GroupName="legacy", SourceSecurityGroupName="source")
    perms = describe(ec2, g)["IpPermissions"]
    assert {(p["IpProtocol"], p.get("FromPort"), p.get("ToPort")) for p in perms} == {
        ("tcp", 22, 22),
        ("tcp", 0, 65535),
        ("udp", 0, 65535),
        ("icmp", -1, -1),
    }
    assert any(p["UserIdGroupPairs"] == [{"GroupId": src, "UserId": DEFAULT_ACCOUNT}] for p in perms)
    e = client_error(
        ec2.authorize_security_group_ingress, GroupId=g, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="10.0.0.0/8"
    )
    assert error_code(e) == "InvalidPermission.Duplicate"
    ec2.revoke_security_group_ingress(GroupId=g, IpProtocol="tcp", FromPort=22, ToPort=22, CidrIp="10.0.0.0/8")
    e = client_error(
        ec2.authorize_security_group_ingress,
        GroupId=g,
        CidrIp="10.0.0.0/8",
        IpProtocol="tcp",
        FromPort=1,
        ToPort=1,
        IpPermissions=[tcp(1)],
    )
    assert error_code(e) == "InvalidParameterCombination"


def test_duplicates(ec2):
    g = group(ec2, "g", vpc(ec2))
    ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[tcp(22, description="one")])
    e = client_error(ec2.authorize_security_group_ingress, GroupId=g, IpPermissions=[tcp(22, description="two")])
    assert error_code(e) == "InvalidPermission.Duplicate"
    assert "peer: 0.0.0.0/0, TCP, from port: 22, to port: 22, ALLOW" in str(e)
    # The non-canonical form of an existing CIDR is the same rule.
    ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[tcp(80, "100.68.0.0/18")])
    e = client_error(ec2.authorize_security_group_ingress, GroupId=g, IpPermissions=[tcp(80, "100.68.0.18/18")])
    assert error_code(e) == "InvalidPermission.Duplicate"
    # A batch with one duplicate adds nothing.
    e = client_error(ec2.authorize_security_group_ingress, GroupId=g, IpPermissions=[tcp(443), tcp(22)])
    assert error_code(e) == "InvalidPermission.Duplicate"
    assert len(describe(ec2, g)["IpPermissions"]) == 2
    # The same rule twice in one request.
    e = client_error(ec2.authorize_security_group_ingress, GroupId=g, IpPermissions=[tcp(8443), tcp(8443)])
    assert error_code(e) == "InvalidParameterValue"
    # The new group's egress rule exists already.
    e = client_error(
        ec2.authorize_security_group_egress,
        GroupId=g,
        IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    assert error_code(e) == "InvalidPermission.Duplicate"


@pytest.mark.parametrize(
    "permission,code",
    [
        ({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/33"}]}, "InvalidPermission.Malformed"),
        ({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "banana"}]}, "InvalidPermission.Malformed"),
        ({"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "Ipv6Ranges": [{"CidrIpv6": "10.0.0.0/8"}]}, "InvalidPermission.Malformed"),
        ({"IpProtocol": "gre", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, "InvalidParameterValue"),
        ({"IpProtocol": "256", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, "InvalidParameterValue"),
        ({"IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, "InvalidParameterValue"),
        ({"IpProtocol": "tcp", "FromPort": 80, "ToPort": 22, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, "InvalidParameterValue"),
        ({"IpProtocol": "udp", "FromPort": 0, "ToPort": 65536, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, "InvalidParameterValue"),
        ({"IpProtocol": "icmp", "FromPort": -1, "ToPort": 4, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, "InvalidParameterValue"),
        ({"IpProtocol": "icmp", "FromPort": 300, "ToPort": 0, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, "InvalidParameterValue"),
        ({"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1}, "MissingParameter"),
        ({"FromPort": 1, "ToPort": 1, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}, "MissingParameter"),
        ({"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "bad\"quote"}]}, "InvalidParameterValue"),
        ({"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "PrefixListIds": [{"PrefixListId": "pl-zz"}]}, "InvalidPrefixListID.Malformed"),
        ({"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "PrefixListIds": [{"PrefixListId": "pl-0123abcd"}]}, "InvalidPrefixListId.NotFound"),
    ],
)
def test_authorize_validation(ec2, permission, code):
    g = group(ec2, "g", vpc(ec2))
    e = client_error(ec2.authorize_security_group_ingress, GroupId=g, IpPermissions=[permission])
    assert error_code(e) == code
    assert describe(ec2, g)["IpPermissions"] == []


def test_authorize_group_errors(ec2):
    e = client_error(ec2.authorize_security_group_ingress, GroupId="sg-1", IpPermissions=[tcp(22)])
    assert error_code(e) == "InvalidGroupId.Malformed"
    e = client_error(ec2.authorize_security_group_ingress, GroupId=MISSING_SG, IpPermissions=[tcp(22)])
    assert error_code(e) == "InvalidGroup.NotFound"
    e = client_error(ec2.authorize_security_group_ingress, GroupName="nothing", IpPermissions=[tcp(22)])
    assert error_code(e) == "InvalidGroup.NotFound"
    e = client_error(ec2.authorize_security_group_ingress, IpPermissions=[tcp(22)])
    assert error_code(e) == "MissingParameter"
    g = group(ec2, "g", vpc(ec2))
    e = client_error(ec2.authorize_security_group_ingress, GroupId=g)
    assert error_code(e) == "MissingParameter"
    e = client_error(
        ec2.authorize_security_group_ingress,
        GroupId=g,
        IpPermissions=[tcp(22)],
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "a", "Value": "b"}]}],
    )
    assert error_code(e) == "InvalidParameterValue"


# --- rules: ids, tags, describe, revoke, modify, descriptions -------------------------


def test_rule_tags(ec2):
    g = group(ec2, "g", vpc(ec2))
    resp = ec2.authorize_security_group_ingress(
        GroupId=g,
        IpPermissions=[tcp(22), tcp(443)],
        TagSpecifications=[{"ResourceType": "security-group-rule", "Tags": [{"Key": "team", "Value": "web"}]}],
    )
    ids = [r["SecurityGroupRuleId"] for r in resp["SecurityGroupRules"]]
    assert all(r["Tags"] == [{"Key": "team", "Value": "web"}] for r in resp["SecurityGroupRules"])
    found = ec2.describe_security_group_rules(Filters=[{"Name": "tag:team", "Values": ["web"]}])["SecurityGroupRules"]
    assert sorted(r["SecurityGroupRuleId"] for r in found) == sorted(ids)
    # CreateTags and DeleteTags work on rule ids.
    ec2.create_tags(Resources=[ids[0]], Tags=[{"Key": "Name", "Value": "ssh"}])
    [r] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[ids[0]])["SecurityGroupRules"]
    assert {"Key": "Name", "Value": "ssh"} in r["Tags"]
    assert r["SecurityGroupRuleArn"] == f"arn:aws:ec2:us-east-1:{DEFAULT_ACCOUNT}:security-group-rule/{ids[0]}"
    tagged = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["security-group-rule"]}])["Tags"]
    assert len(tagged) == 3
    # A revoked rule's tags go with it.
    ec2.revoke_security_group_ingress(GroupId=g, SecurityGroupRuleIds=[ids[0]])
    tagged = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["security-group-rule"]}])["Tags"]
    assert len(tagged) == 1


def test_revoke_by_ids(ec2):
    g = group(ec2, "g", vpc(ec2))
    resp = ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[tcp(22), tcp(80)])
    ids = [r["SecurityGroupRuleId"] for r in resp["SecurityGroupRules"]]
    egress_id = [r for r in rules_of(ec2, g) if r["IsEgress"]][0]["SecurityGroupRuleId"]
    # An egress rule is not an ingress rule: nothing is revoked.
    e = client_error(ec2.revoke_security_group_ingress, GroupId=g, SecurityGroupRuleIds=[ids[0], egress_id])
    assert error_code(e) == "InvalidSecurityGroupRuleId.NotFound"
    e = client_error(ec2.revoke_security_group_ingress, GroupId=g, SecurityGroupRuleIds=["sgr-zz"])
    assert error_code(e) == "InvalidSecurityGroupRuleId.Malformed"
    assert len(rules_of(ec2, g)) == 3
    resp = ec2.revoke_security_group_ingress(GroupId=g, SecurityGroupRuleIds=[ids[0]])
    assert resp["Return"] is True
    assert resp["RevokedSecurityGroupRules"][0]["SecurityGroupRuleId"] == ids[0]
    assert resp["RevokedSecurityGroupRules"][0]["CidrIpv4"] == "0.0.0.0/0"
    ec2.revoke_security_group_egress(GroupId=g, SecurityGroupRuleIds=[egress_id])
    g_desc = describe(ec2, g)
    assert g_desc["IpPermissionsEgress"] == []
    assert [p["FromPort"] for p in g_desc["IpPermissions"]] == [80]


def test_revoke_unknown_rule(ec2):
    g = group(ec2, "g", vpc(ec2))
    ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[tcp(22)])
    # A nondefault VPC: InvalidPermission.NotFound, and nothing is revoked.
    e = client_error(ec2.revoke_security_group_ingress, GroupId=g, IpPermissions=[tcp(22), tcp(23)])
    assert error_code(e) == "InvalidPermission.NotFound"
    assert len(describe(ec2, g)["IpPermissions"]) == 1
    # The default VPC: the known rules go, the others are answered.
    d = ec2.create_security_group(GroupName="d", Description="d")["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=d, IpPermissions=[tcp(22)])
    resp = ec2.revoke_security_group_ingress(GroupId=d, IpPermissions=[tcp(22), tcp(23)])
    assert resp["Return"] is True
    assert len(resp["RevokedSecurityGroupRules"]) == 1
    assert resp["UnknownIpPermissions"][0]["FromPort"] == 23
    assert describe(ec2, d)["IpPermissions"] == []


def test_modify_rule(ec2):
    v = vpc(ec2)
    g = group(ec2, "g", v)
    other = group(ec2, "other", v)
    resp = ec2.authorize_security_group_ingress(
        GroupId=g,
        IpPermissions=[tcp(22), tcp(80)],
        TagSpecifications=[{"ResourceType": "security-group-rule", "Tags": [{"Key": "k", "Value": "v"}]}],
    )
    first, second = [r["SecurityGroupRuleId"] for r in resp["SecurityGroupRules"]]
    ec2.modify_security_group_rules(
        GroupId=g,
        SecurityGroupRules=[
            {
                "SecurityGroupRuleId": first,
                "SecurityGroupRule": {
                    "IpProtocol": "tcp",
                    "FromPort": 2222,
                    "ToPort": 2222,
                    "ReferencedGroupId": other,
                    "Description": "moved",
                },
            }
        ],
    )
    [r] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[first])["SecurityGroupRules"]
    assert r["FromPort"] == 2222 and r["ReferencedGroupInfo"]["GroupId"] == other
    assert r["Description"] == "moved" and r["Tags"] == [{"Key": "k", "Value": "v"}]
    assert "CidrIpv4" not in r
    # The rule now references `other`.
    assert error_code(client_error(ec2.delete_security_group, GroupId=other)) == "DependencyViolation"
    # Into a rule that exists: refused.
    e = client_error(
        ec2.modify_security_group_rules,
        GroupId=g,
        SecurityGroupRules=[
            {
                "SecurityGroupRuleId": first,
                "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "CidrIpv4": "0.0.0.0/0"},
            }
        ],
    )
    assert error_code(e) == "InvalidPermission.Duplicate"
    e = client_error(
        ec2.modify_security_group_rules,
        GroupId=g,
        SecurityGroupRules=[
            {
                "SecurityGroupRuleId": MISSING_SGR,
                "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1, "CidrIpv4": "0.0.0.0/0"},
            }
        ],
    )
    assert error_code(e) == "InvalidSecurityGroupRuleId.NotFound"
    e = client_error(
        ec2.modify_security_group_rules,
        GroupId=g,
        SecurityGroupRules=[
            {
                "SecurityGroupRuleId": second,
                "SecurityGroupRule": {
                    "IpProtocol": "tcp",
                    "FromPort": 1,
                    "ToPort": 1,
                    "CidrIpv4": "0.0.0.0/0",
                    "CidrIpv6": "::/0",
                },
            }
        ],
    )
    assert error_code(e) == "InvalidParameterCombination"
    # Back to a CIDR: the reference goes.
    ec2.modify_security_group_rules(
        GroupId=g,
        SecurityGroupRules=[
            {
                "SecurityGroupRuleId": first,
                "SecurityGroupRule": {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "CidrIpv4": "10.0.0.0/8"},
            }
        ],
    )
    ec2.delete_security_group(GroupId=other)


def test_update_descriptions(ec2):
    g = group(ec2, "g", vpc(ec2))
    resp = ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[tcp(22, description="old")])
    rid = resp["SecurityGroupRules"][0]["SecurityGroupRuleId"]
    ec2.update_security_group_rule_descriptions_ingress(GroupId=g, IpPermissions=[tcp(22, description="new")])
    assert describe(ec2, g)["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0", "Description": "new"}]
    ec2.update_security_group_rule_descriptions_ingress(
        GroupId=g, SecurityGroupRuleDescriptions=[{"SecurityGroupRuleId": rid, "Description": "by id"}]
    )
    [r] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rid])["SecurityGroupRules"]
    assert r["Description"] == "by id"
    # Without a description: removed.
    ec2.update_security_group_rule_descriptions_ingress(GroupId=g, IpPermissions=[tcp(22)])
    assert describe(ec2, g)["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    e = client_error(ec2.update_security_group_rule_descriptions_ingress, GroupId=g, IpPermissions=[tcp(23, description="x")])
    assert error_code(e) == "InvalidPermission.NotFound"
    egress = [r for r in rules_of(ec2, g) if r["IsEgress"]][0]["SecurityGroupRuleId"]
    e = client_error(
        ec2.update_security_group_rule_descriptions_ingress,
        GroupId=g,
        SecurityGroupRuleDescriptions=[{"SecurityGroupRuleId": egress, "Description": "x"}],
    )
    assert error_code(e) == "InvalidSecurityGroupRuleId.NotFound"
    ec2.update_security_group_rule_descriptions_egress(
        GroupId=g, SecurityGroupRuleDescriptions=[{"SecurityGroupRuleId": egress, "Description": "out"}]
    )
    assert describe(ec2, g)["IpPermissionsEgress"][0]["IpRanges"][0]["Description"] == "out"


# --- filters ----------------------------------------------------------------------------


@pytest.fixture
def filter_world(ec2):
    v = vpc(ec2)
    pl = ec2.describe_prefix_lists()["PrefixLists"][0]["PrefixListId"]
    alb = group(ec2, "alb", v, "load balancer", tags={"tier": "edge"})
    web = group(ec2, "web", v, "web servers", tags={"tier": "app"})
    ec2.authorize_security_group_ingress(
        GroupId=web,
        IpPermissions=[
            from_group(8080, alb),
            {"IpProtocol": "udp", "FromPort": 53, "ToPort": 54, "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32"}]},
            {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.9.0.0/16"}]},
        ],
    )
    ec2.authorize_security_group_egress(
        GroupId=web,
        IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443, "PrefixListIds": [{"PrefixListId": pl}]},
            {"IpProtocol": "tcp", "FromPort": 5432, "ToPort": 5433, "UserIdGroupPairs": [{"GroupId": alb}]},
            {"IpProtocol": "tcp", "FromPort": 25, "ToPort": 25, "Ipv6Ranges": [{"CidrIpv6": "2001:db8:1::/48"}]},
        ],
    )
    return {"vpc": v, "alb": alb, "web": web, "pl": pl}


GROUP_FILTERS = [
    ("description", "web servers"),
    ("group-id", "{web}"),
    ("group-name", "web"),
    ("ip-permission.cidr", "10.9.0.0/16"),
    ("ip-permission.from-port", "53"),
    ("ip-permission.to-port", "54"),
    ("ip-permission.group-id", "{alb}"),
    ("ip-permission.group-name", "alb"),
    ("ip-permission.ipv6-cidr", "2001:db8::/32"),
    ("ip-permission.protocol", "udp"),
    ("egress.ip-permission.prefix-list-id", "{pl}"),
    ("egress.ip-permission.from-port", "5432"),
    ("egress.ip-permission.to-port", "5433"),
    ("egress.ip-permission.group-id", "{alb}"),
    ("egress.ip-permission.group-name", "alb"),
    ("egress.ip-permission.ipv6-cidr", "2001:db8:1::/48"),
    ("egress.ip-permission.user-id", DEFAULT_ACCOUNT),
    ("tag:tier", "app"),
    ("tag-value", "app"),
]


@pytest.mark.parametrize("name,value", GROUP_FILTERS)
def test_group_filter(ec2, filter_world, name, value):
    value = value.format(**filter_world)
    found = ec2.describe_security_groups(
        Filters=[{"Name": name, "Values": [value]}, {"Name": "vpc-id", "Values": [filter_world["vpc"]]}]
    )["SecurityGroups"]
    assert [g["GroupId"] for g in found] == [filter_world["web"]]


def test_group_filters_that_match_several(ec2, filter_world):
    w = filter_world
    by = lambda *f: sorted(  # noqa: E731
        g["GroupId"]
        for g in ec2.describe_security_groups(
            Filters=[{"Name": n, "Values": v} for n, v in f] + [{"Name": "vpc-id", "Values": [w["vpc"]]}]
        )["SecurityGroups"]
    )
    assert by(("tag-key", ["tier"])) == sorted([w["alb"], w["web"]])
    assert by(("owner-id", [DEFAULT_ACCOUNT])) == sorted([w["alb"], w["web"], default_group_of(ec2, w["vpc"])])
    # Every group sends somewhere: egress.ip-permission.cidr / protocol.
    assert by(("egress.ip-permission.cidr", ["0.0.0.0/0"])) == sorted([w["alb"], w["web"], default_group_of(ec2, w["vpc"])])
    assert by(("egress.ip-permission.protocol", ["tcp"])) == [w["web"]]
    # The default group's rule names the default group itself.
    assert by(("ip-permission.user-id", [DEFAULT_ACCOUNT])) == sorted([w["web"], default_group_of(ec2, w["vpc"])])
    assert by(("group-name", ["a*", "w?b"])) == sorted([w["alb"], w["web"]])
    assert by(("ip-permission.cidr", ["192.*"])) == []


def default_group_of(ec2, vpc_id):
    return ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]


def test_vpc_id_filter(ec2):
    v1, v2 = vpc(ec2), vpc(ec2, "10.1.0.0/16")
    a = group(ec2, "a", v1)
    b = group(ec2, "b", v2)
    one = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [v1]}])["SecurityGroups"]
    assert a in [g["GroupId"] for g in one] and b not in [g["GroupId"] for g in one]
    both = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [v1, v2]}])["SecurityGroups"]
    assert {a, b} <= {g["GroupId"] for g in both}
    assert len(both) == 4


def test_rule_filters(ec2, filter_world):
    w = filter_world
    rules = rules_of(ec2, w["web"])
    assert len(rules) == 7  # three in, three out, and the first egress rule
    rid = rules[0]["SecurityGroupRuleId"]
    found = ec2.describe_security_group_rules(Filters=[{"Name": "security-group-rule-id", "Values": [rid]}])[
        "SecurityGroupRules"
    ]
    assert [r["SecurityGroupRuleId"] for r in found] == [rid]
    ec2.create_tags(Resources=[rid], Tags=[{"Key": "mark", "Value": "yes"}])
    for f in ({"Name": "tag:mark", "Values": ["yes"]}, {"Name": "tag-key", "Values": ["mark"]}, {"Name": "tag-value", "Values": ["yes"]}):
        found = ec2.describe_security_group_rules(Filters=[f])["SecurityGroupRules"]
        assert [r["SecurityGroupRuleId"] for r in found] == [rid]
    both = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [w["web"], w["alb"]]}])
    assert len(both["SecurityGroupRules"]) == 8
    wild = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [w["web"][:8] + "*"]}])
    assert {r["GroupId"] for r in wild["SecurityGroupRules"]} >= {w["web"]}


# --- pagination -----------------------------------------------------------------------


def test_pagination(ec2):
    v = vpc(ec2)
    made = [group(ec2, f"g{i:02}", v) for i in range(12)]
    seen, token, pages = [], None, 0
    while True:
        kw = {"Filters": [{"Name": "vpc-id", "Values": [v]}], "MaxResults": 5}
        if token:
            kw["NextToken"] = token
        resp = ec2.describe_security_groups(**kw)
        pages += 1
        seen += [g["GroupId"] for g in resp["SecurityGroups"]]
        token = resp.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert seen[1:] == made and len(seen) == 13
    # The paginator over every group of the Region.
    paged = [
        g["GroupId"]
        for page in ec2.get_paginator("describe_security_groups").paginate(PaginationConfig={"PageSize": 5})
        for g in page["SecurityGroups"]
    ]
    assert set(made) <= set(paged) and len(paged) == len(set(paged))
    # A token belongs to its request.
    resp = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [v]}], MaxResults=5)
    e = client_error(ec2.describe_security_groups, MaxResults=5, NextToken=resp["NextToken"])
    assert error_code(e) == "InvalidNextToken"

    g = made[0]
    ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[tcp(p) for p in range(1000, 1011)])
    rule_ids = [r["SecurityGroupRuleId"] for r in rules_of(ec2, g)]
    assert len(rule_ids) == 12
    for kw in ({"Filters": [{"Name": "group-id", "Values": [g]}]}, {}):
        seen, token = [], None
        while True:
            resp = ec2.describe_security_group_rules(MaxResults=5, **kw, **({"NextToken": token} if token else {}))
            assert len(resp["SecurityGroupRules"]) <= 5
            seen += [r["SecurityGroupRuleId"] for r in resp["SecurityGroupRules"]]
            token = resp.get("NextToken")
            if not token:
                break
        assert set(rule_ids) <= set(seen) and len(seen) == len(set(seen))
    e = client_error(ec2.describe_security_group_rules, MaxResults=1001)
    assert error_code(e) == "InvalidParameterValue"


# --- quotas -----------------------------------------------------------------------------


def test_quotas(own_server, tmp_path):
    cfg = tmp_path / "reservoir.toml"
    cfg.write_text(
        'listen = "127.0.0.1:0"\nephemeral = true\n[quotas]\n'
        "security-groups-per-region = 4\nrules-per-security-group = 3\n"
    )
    s = own_server("--config", str(cfg), cwd=tmp_path)
    ec2 = s.client("ec2")
    v = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    # Two default groups (the default VPC's and this VPC's) count.
    g = group(ec2, "a", v)
    group(ec2, "b", v)
    e = client_error(ec2.create_security_group, GroupName="c", Description="d", VpcId=v)
    assert error_code(e) == "SecurityGroupLimitExceeded"
    ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[tcp(1), tcp(2)])
    e = client_error(ec2.authorize_security_group_ingress, GroupId=g, IpPermissions=[tcp(3), tcp(4)])
    assert error_code(e) == "RulesPerSecurityGroupLimitExceeded"
    ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[tcp(3)])
    # Egress counts apart: one there already.
    ec2.authorize_security_group_egress(GroupId=g, IpPermissions=[tcp(1), tcp(2)])
    e = client_error(ec2.authorize_security_group_egress, GroupId=g, IpPermissions=[tcp(3)])
    assert error_code(e) == "RulesPerSecurityGroupLimitExceeded"


# --- AWS CLI ----------------------------------------------------------------------------


def test_cli(endpoint, tmp_path):
    import json
    import os
    import subprocess
    import sys

    from conftest import ACCESS_KEY, SECRET_KEY

    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    (tmp_path / "c").write_text("")
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "c"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "c"),
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
    )

    def aws(*args):
        proc = subprocess.run(
            [sys.executable, "-m", "awscli", "ec2", *args, "--endpoint-url", endpoint, "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    gid = aws("create-security-group", "--group-name", "cli", "--description", "from the CLI")["GroupId"]
    aws("authorize-security-group-ingress", "--group-id", gid, "--protocol", "tcp", "--port", "22", "--cidr", "203.0.113.0/24")
    g = aws("describe-security-groups", "--group-ids", gid)["SecurityGroups"][0]
    assert g["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "203.0.113.0/24"}]
    assert g["IpPermissions"][0]["FromPort"] == 22
    aws("delete-security-group", "--group-id", gid)


def test_group_used_by_a_network_interface_cannot_be_deleted(ec2):
    v = vpc(ec2)
    g = group(ec2, "eni-group", v)
    subnet = ec2.create_subnet(VpcId=v, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=subnet, Groups=[g])["NetworkInterface"]
    assert [x["GroupId"] for x in eni["Groups"]] == [g]
    e = client_error(ec2.delete_security_group, GroupId=g)
    assert error_code(e) == "DependencyViolation"
    ec2.delete_network_interface(NetworkInterfaceId=eni["NetworkInterfaceId"])
    ec2.delete_security_group(GroupId=g)
