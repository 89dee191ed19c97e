"""DescribeRegions and DescribeAvailabilityZones; regions and Local Zones that need
opting in, as for a new AWS account."""

import subprocess

import pytest
from botocore.exceptions import ClientError

from conftest import ec2_error, error_code, find_binary, http_status, raw_ec2

# Regions a new AWS account must opt in to before using them.
OPT_IN_REGIONS = {
    "af-south-1",
    "ap-east-1",
    "ap-south-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ca-west-1",
    "eu-central-2",
    "eu-south-1",
    "eu-south-2",
    "il-central-1",
    "me-central-1",
    "me-south-1",
}
LISTEN = ("--ephemeral", "--listen", "127.0.0.1:0")
US_WEST_2_AZS = ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"]
LAX_ZONES = ["us-west-2-lax-1a", "us-west-2-lax-1b"]


def region_names(resp):
    return [r["RegionName"] for r in resp["Regions"]]


def zone_names(resp):
    return sorted(z["ZoneName"] for z in resp["AvailabilityZones"])


def test_describe_regions_lists_enabled_regions(ec2):
    regions = ec2.describe_regions()["Regions"]
    names = [r["RegionName"] for r in regions]
    assert len(names) == len(set(names))
    assert len(names) >= 17
    for expected in ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "ap-southeast-2"):
        assert expected in names
    us_east_1 = next(r for r in regions if r["RegionName"] == "us-east-1")
    assert us_east_1 == {
        "RegionName": "us-east-1",
        "Endpoint": "ec2.us-east-1.amazonaws.com",
        "OptInStatus": "opt-in-not-required",
    }
    # Nothing is opted in by default, so every listed region is one that needs no opt-in.
    assert not set(names) & OPT_IN_REGIONS
    for r in regions:
        assert r["Endpoint"] == f"ec2.{r['RegionName']}.amazonaws.com"
        assert r["OptInStatus"] == "opt-in-not-required"


def test_all_regions_adds_the_regions_not_opted_in(ec2):
    enabled = region_names(ec2.describe_regions())
    regions = ec2.describe_regions(AllRegions=True)["Regions"]
    names = [r["RegionName"] for r in regions]
    assert len(names) == len(set(names))
    assert set(names) == set(enabled) | OPT_IN_REGIONS
    for r in regions:
        assert r["Endpoint"] == f"ec2.{r['RegionName']}.amazonaws.com"
        expected = "not-opted-in" if r["RegionName"] in OPT_IN_REGIONS else "opt-in-not-required"
        assert r["OptInStatus"] == expected, r
    assert region_names(ec2.describe_regions(AllRegions=False)) == enabled


def test_opt_in_region_is_not_opted_in_by_default(ec2):
    regions = ec2.describe_regions(RegionNames=["af-south-1"])["Regions"]
    assert regions == [
        {
            "RegionName": "af-south-1",
            "Endpoint": "ec2.af-south-1.amazonaws.com",
            "OptInStatus": "not-opted-in",
        }
    ]


def test_region_names_may_name_regions_not_enabled(ec2):
    regions = ec2.describe_regions(RegionNames=["me-south-1", "us-east-1", "ap-east-1"])["Regions"]
    status = {r["RegionName"]: r["OptInStatus"] for r in regions}
    assert status == {
        "me-south-1": "not-opted-in",
        "us-east-1": "opt-in-not-required",
        "ap-east-1": "not-opted-in",
    }


def test_region_names_selection(ec2):
    resp = ec2.describe_regions(RegionNames=["eu-west-1", "us-west-2"])
    assert sorted(region_names(resp)) == ["eu-west-1", "us-west-2"]


def test_unknown_region_name(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_regions(RegionNames=["us-east-1", "xx-nowhere-9"])
    assert error_code(e.value) == "InvalidParameterValue"
    assert http_status(e.value) == 400


def test_region_name_filter_with_wildcard(ec2):
    resp = ec2.describe_regions(Filters=[{"Name": "region-name", "Values": ["us-*"]}])
    names = region_names(resp)
    assert set(names) >= {"us-east-1", "us-east-2", "us-west-1", "us-west-2"}
    assert all(n.startswith("us-") for n in names)


def test_region_name_filter_question_mark(ec2):
    resp = ec2.describe_regions(Filters=[{"Name": "region-name", "Values": ["us-east-?"]}])
    assert sorted(region_names(resp)) == ["us-east-1", "us-east-2"]


def test_opt_in_status_filter(ec2):
    def by_status(status, **kw):
        return set(
            region_names(
                ec2.describe_regions(
                    Filters=[{"Name": "opt-in-status", "Values": [status]}], **kw
                )
            )
        )

    all_names = set(region_names(ec2.describe_regions(AllRegions=True)))
    enabled = set(region_names(ec2.describe_regions()))
    assert by_status("opt-in-not-required") == enabled
    assert by_status("opt-in-not-required", AllRegions=True) == enabled
    assert by_status("opted-in", AllRegions=True) == set()
    # Without AllRegions, the regions not opted in are not candidates at all.
    assert by_status("not-opted-in") == set()
    assert by_status("not-opted-in", AllRegions=True) == OPT_IN_REGIONS
    assert enabled | OPT_IN_REGIONS == all_names
    assert not enabled & OPT_IN_REGIONS


def test_endpoint_filter(ec2):
    resp = ec2.describe_regions(
        Filters=[{"Name": "endpoint", "Values": ["ec2.eu-west-1.amazonaws.com"]}]
    )
    assert region_names(resp) == ["eu-west-1"]


def test_filters_combine_with_region_names(ec2):
    resp = ec2.describe_regions(
        RegionNames=["us-east-1", "eu-west-1"],
        Filters=[{"Name": "region-name", "Values": ["eu-*"]}],
    )
    assert region_names(resp) == ["eu-west-1"]


def test_unknown_region_filter(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_regions(Filters=[{"Name": "colour", "Values": ["blue"]}])
    assert error_code(e.value) == "InvalidParameterValue"


def test_describe_regions_dry_run(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_regions(DryRun=True)
    assert error_code(e.value) == "DryRunOperation"
    assert http_status(e.value) == 412


# --- availability zones -------------------------------------------------------------


def test_us_east_1_zones(ec2):
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    by_name = {z["ZoneName"]: z for z in zones}
    assert sorted(by_name) == [f"us-east-1{c}" for c in "abcdef"]
    a = by_name["us-east-1a"]
    assert a["ZoneId"] == "use1-az1"
    assert a["State"] == "available"
    assert a["ZoneType"] == "availability-zone"
    assert a["GroupName"] == "us-east-1-zg-1"
    assert a["NetworkBorderGroup"] == "us-east-1"
    assert a["RegionName"] == "us-east-1"
    assert a["OptInStatus"] == "opt-in-not-required"
    ids = {z["ZoneId"] for z in zones}
    assert ids == {f"use1-az{i}" for i in range(1, 7)}
    for z in zones:
        assert z["RegionName"] == "us-east-1"
        assert z["State"] == "available"
        assert z["ZoneType"] == "availability-zone"
        assert z["GroupName"] == "us-east-1-zg-1"
        assert z["NetworkBorderGroup"] == "us-east-1"
        assert z["OptInStatus"] == "opt-in-not-required"
        assert "ParentZoneName" not in z and "ParentZoneId" not in z


def test_zones_follow_the_request_region(client_factory):
    ec2 = client_factory("ec2", region="eu-west-1")
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    assert sorted(z["ZoneName"] for z in zones) == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    assert {z["RegionName"] for z in zones} == {"eu-west-1"}
    assert all(z["ZoneId"].startswith("euw1-az") for z in zones)


def test_zone_names_selection(ec2):
    zones = ec2.describe_availability_zones(ZoneNames=["us-east-1b", "us-east-1d"])[
        "AvailabilityZones"
    ]
    assert sorted(z["ZoneName"] for z in zones) == ["us-east-1b", "us-east-1d"]


def test_zone_ids_selection(ec2):
    zones = ec2.describe_availability_zones(ZoneIds=["use1-az1"])["AvailabilityZones"]
    assert [z["ZoneName"] for z in zones] == ["us-east-1a"]


@pytest.mark.parametrize(
    "kwargs",
    [{"ZoneNames": ["us-east-1z"]}, {"ZoneIds": ["use1-az99"]}, {"ZoneNames": ["eu-west-1a"]}],
)
def test_unknown_zone(ec2, kwargs):
    with pytest.raises(ClientError) as e:
        ec2.describe_availability_zones(**kwargs)
    assert error_code(e.value) == "InvalidParameterValue"
    assert http_status(e.value) == 400


@pytest.mark.parametrize(
    "name,values,expected",
    [
        ("zone-name", ["us-east-1a", "us-east-1c"], ["us-east-1a", "us-east-1c"]),
        ("zone-name", ["*-1f"], ["us-east-1f"]),
        ("zone-id", ["use1-az2"], ["us-east-1b"]),
        ("state", ["available"], [f"us-east-1{c}" for c in "abcdef"]),
        ("state", ["unavailable"], []),
        ("region-name", ["us-east-1"], [f"us-east-1{c}" for c in "abcdef"]),
        ("region-name", ["eu-west-1"], []),
    ],
)
def test_zone_filters(ec2, name, values, expected):
    zones = ec2.describe_availability_zones(Filters=[{"Name": name, "Values": values}])[
        "AvailabilityZones"
    ]
    assert sorted(z["ZoneName"] for z in zones) == expected


def test_unknown_zone_filter(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_availability_zones(Filters=[{"Name": "flavour", "Values": ["x"]}])
    assert error_code(e.value) == "InvalidParameterValue"


def test_unknown_region_is_auth_failure(client_factory):
    ec2 = client_factory("ec2", region="xx-fake-1")
    with pytest.raises(ClientError) as e:
        ec2.describe_availability_zones()
    assert error_code(e.value) == "AuthFailure"
    assert http_status(e.value) == 401


# --- Local Zones ----------------------------------------------------------------------


@pytest.fixture
def usw2(client_factory):
    return client_factory("ec2", region="us-west-2")


def test_us_west_2_lists_its_availability_zones_only_by_default(usw2):
    zones = usw2.describe_availability_zones()["AvailabilityZones"]
    assert sorted(z["ZoneName"] for z in zones) == US_WEST_2_AZS
    for z in zones:
        assert z["ZoneType"] == "availability-zone"
        assert z["OptInStatus"] == "opt-in-not-required"
        assert z["GroupName"] == "us-west-2-zg-1"
        assert z["NetworkBorderGroup"] == "us-west-2"
        assert z["RegionName"] == "us-west-2"
        assert "ParentZoneName" not in z and "ParentZoneId" not in z
    assert sorted(z["ZoneId"] for z in zones) == [f"usw2-az{i}" for i in range(1, 5)]


def test_all_availability_zones_adds_the_local_zones(usw2):
    zones = usw2.describe_availability_zones(AllAvailabilityZones=True)["AvailabilityZones"]
    by_name = {z["ZoneName"]: z for z in zones}
    assert sorted(by_name) == sorted(US_WEST_2_AZS + LAX_ZONES)
    for name, zone_id in zip(LAX_ZONES, ["usw2-lax1-az1", "usw2-lax1-az2"]):
        z = by_name[name]
        assert z["ZoneId"] == zone_id
        assert z["ZoneType"] == "local-zone"
        assert z["GroupName"] == "us-west-2-lax-1"
        assert z["NetworkBorderGroup"] == "us-west-2-lax-1"
        assert z["ParentZoneName"] == "us-west-2d"
        assert z["ParentZoneId"] == "usw2-az4"
        assert z["OptInStatus"] == "not-opted-in"
        assert z["RegionName"] == "us-west-2"
        assert z["State"] == "available"
    for name in US_WEST_2_AZS:
        assert by_name[name]["OptInStatus"] == "opt-in-not-required"
    assert zone_names(usw2.describe_availability_zones(AllAvailabilityZones=False)) == US_WEST_2_AZS


@pytest.mark.parametrize(
    "kwargs,expected",
    [
        ({"ZoneNames": ["us-west-2-lax-1a"]}, ["us-west-2-lax-1a"]),
        ({"ZoneNames": ["us-west-2-lax-1b", "us-west-2a"]}, ["us-west-2-lax-1b", "us-west-2a"]),
        ({"ZoneIds": ["usw2-lax1-az2"]}, ["us-west-2-lax-1b"]),
    ],
)
def test_naming_a_zone_lists_it_whatever_its_status(usw2, kwargs, expected):
    zones = usw2.describe_availability_zones(**kwargs)["AvailabilityZones"]
    assert sorted(z["ZoneName"] for z in zones) == sorted(expected)


@pytest.mark.parametrize(
    "name,value",
    [
        ("parent-zone-id", "usw2-az4"),
        ("parent-zoneID", "usw2-az4"),
        ("parent-zone-name", "us-west-2d"),
        ("parent-zoneName", "us-west-2d"),
    ],
)
def test_parent_zone_filters_and_their_older_names(usw2, name, value):
    resp = usw2.describe_availability_zones(
        AllAvailabilityZones=True, Filters=[{"Name": name, "Values": [value]}]
    )
    assert zone_names(resp) == LAX_ZONES
    other = usw2.describe_availability_zones(
        AllAvailabilityZones=True, Filters=[{"Name": name, "Values": ["nothing-here"]}]
    )
    assert zone_names(other) == []


@pytest.mark.parametrize(
    "name,value,expected",
    [
        ("zone-type", "local-zone", LAX_ZONES),
        ("zone-type", "availability-zone", US_WEST_2_AZS),
        ("opt-in-status", "not-opted-in", LAX_ZONES),
        ("group-name", "us-west-2-lax-1", LAX_ZONES),
    ],
)
def test_local_zone_filters(usw2, name, value, expected):
    resp = usw2.describe_availability_zones(
        AllAvailabilityZones=True, Filters=[{"Name": name, "Values": [value]}]
    )
    assert zone_names(resp) == sorted(expected)


@pytest.mark.parametrize("name", ["parent-zoneid", "Parent-Zone-Id", "parent_zone_id"])
def test_unknown_parent_zone_filter_spellings(usw2, name):
    with pytest.raises(ClientError) as e:
        usw2.describe_availability_zones(Filters=[{"Name": name, "Values": ["usw2-az4"]}])
    assert error_code(e.value) == "InvalidParameterValue"
    assert e.value.response["Error"]["Message"] == f"The filter '{name}' is invalid"


def test_opting_in_to_a_local_zone_group(own_server):
    s = own_server(*LISTEN, "--opt-in-region", "us-west-2-lax-1")
    usw2 = s.client("ec2", region="us-west-2")
    zones = usw2.describe_availability_zones()["AvailabilityZones"]
    by_name = {z["ZoneName"]: z for z in zones}
    assert sorted(by_name) == sorted(US_WEST_2_AZS + LAX_ZONES)
    for name in LAX_ZONES:
        assert by_name[name]["OptInStatus"] == "opted-in"
    for name in US_WEST_2_AZS:
        assert by_name[name]["OptInStatus"] == "opt-in-not-required"
    # A Local Zone group is not a region: the region list is unchanged.
    regions = s.client("ec2").describe_regions(AllRegions=True)["Regions"]
    assert "us-west-2-lax-1" not in [r["RegionName"] for r in regions]
    assert not [r for r in regions if r["OptInStatus"] == "opted-in"]


# --- opting in to regions -----------------------------------------------------------


def test_opted_in_region_is_listed_and_usable(own_server):
    s = own_server(*LISTEN, "--opt-in-region", "af-south-1")
    ec2 = s.client("ec2")
    regions = {r["RegionName"]: r for r in ec2.describe_regions()["Regions"]}
    assert regions["af-south-1"] == {
        "RegionName": "af-south-1",
        "Endpoint": "ec2.af-south-1.amazonaws.com",
        "OptInStatus": "opted-in",
    }
    assert not set(regions) & (OPT_IN_REGIONS - {"af-south-1"})
    opted = ec2.describe_regions(
        AllRegions=True, Filters=[{"Name": "opt-in-status", "Values": ["opted-in"]}]
    )
    assert region_names(opted) == ["af-south-1"]

    af = s.client("ec2", region="af-south-1")
    vpcs = af.describe_vpcs()["Vpcs"]
    assert len(vpcs) == 1 and vpcs[0]["IsDefault"] is True
    zones = af.describe_availability_zones()["AvailabilityZones"]
    assert zones and {z["RegionName"] for z in zones} == {"af-south-1"}
    vpc = af.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    assert vpc in [v["VpcId"] for v in af.describe_vpcs()["Vpcs"]]
    pool = s.client("cognito-identity", region="af-south-1").create_identity_pool(
        IdentityPoolName="p", AllowUnauthenticatedIdentities=True
    )
    assert pool["IdentityPoolId"].startswith("af-south-1:")
    # Other opt-in regions stay closed.
    with pytest.raises(ClientError) as e:
        s.client("ec2", region="me-south-1").describe_vpcs()
    assert error_code(e.value) == "OptInRequired"


def test_opt_in_region_flag_is_repeatable(own_server):
    s = own_server(*LISTEN, "--opt-in-region", "af-south-1", "--opt-in-region", "eu-south-2")
    names = set(region_names(s.client("ec2").describe_regions()))
    assert {"af-south-1", "eu-south-2"} <= names
    assert not names & (OPT_IN_REGIONS - {"af-south-1", "eu-south-2"})
    for region in ("af-south-1", "eu-south-2"):
        assert len(s.client("ec2", region=region).describe_vpcs()["Vpcs"]) == 1


def test_opt_in_regions_from_environment(own_server):
    s = own_server(*LISTEN, env={"RESERVOIR_OPT_IN_REGIONS": "ap-east-1,il-central-1"})
    regions = s.client("ec2").describe_regions(AllRegions=True)["Regions"]
    status = {r["RegionName"]: r["OptInStatus"] for r in regions}
    assert status["ap-east-1"] == status["il-central-1"] == "opted-in"
    assert status["af-south-1"] == "not-opted-in"
    assert len(s.client("ec2", region="il-central-1").describe_vpcs()["Vpcs"]) == 1


def test_opt_in_regions_from_config_file(own_server, tmp_path):
    cfg = tmp_path / "reservoir.toml"
    cfg.write_text(
        'listen = "127.0.0.1:0"\nephemeral = true\n'
        'opt-in-regions = ["me-central-1", "us-west-2-lax-1"]\n'
    )
    s = own_server("--config", str(cfg), cwd=tmp_path)
    status = {
        r["RegionName"]: r["OptInStatus"]
        for r in s.client("ec2").describe_regions(AllRegions=True)["Regions"]
    }
    assert status["me-central-1"] == "opted-in"
    assert status["af-south-1"] == "not-opted-in"
    usw2 = s.client("ec2", region="us-west-2")
    assert zone_names(usw2.describe_availability_zones()) == sorted(US_WEST_2_AZS + LAX_ZONES)


@pytest.mark.parametrize("name", ["xx-nowhere-1", "af-south-9", "us-west-2-lax-9"])
def test_unknown_opt_in_region_refuses_to_start(tmp_path, name):
    r = subprocess.run(
        [str(find_binary()), "serve", *LISTEN, "--opt-in-region", name],
        capture_output=True,
        text=True,
        timeout=20,
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
    )
    assert r.returncode != 0
    assert name in r.stderr
    assert "listening on" not in r.stdout


# --- calls in regions not enabled -----------------------------------------------------


def test_ec2_call_in_a_region_not_opted_in(ec2, client_factory):
    af = client_factory("ec2", region="af-south-1")
    with pytest.raises(ClientError) as e:
        af.describe_vpcs()
    assert error_code(e.value) == "OptInRequired"
    assert http_status(e.value) == 403
    message = e.value.response["Error"]["Message"]
    assert "--opt-in-region" in message and "af-south-1" in message
    # Nothing was made there; the enabled regions are unaffected.
    assert len(ec2.describe_vpcs()["Vpcs"]) == 1


def test_ec2_opt_in_required_on_the_wire(endpoint):
    resp = raw_ec2(endpoint, "Action=CreateVpc&Version=2016-11-15&CidrBlock=10.0.0.0%2F16",
                   region="eu-central-2")
    assert resp.status_code == 403, resp.text
    code, message, request_id = ec2_error(resp)
    assert code == "OptInRequired"
    assert "--opt-in-region" in message and "eu-central-2" in message
    assert resp.headers.get("x-amzn-RequestId") == request_id


@pytest.mark.parametrize(
    "service,call",
    [
        (
            "cognito-identity",
            lambda c: c.create_identity_pool(
                IdentityPoolName="p", AllowUnauthenticatedIdentities=True
            ),
        ),
        ("cognito-identity", lambda c: c.list_identity_pools(MaxResults=10)),
        ("cognito-sync", lambda c: c.list_identity_pool_usage()),
    ],
    ids=["create_identity_pool", "list_identity_pools", "list_identity_pool_usage"],
)
def test_json_service_call_in_a_region_not_opted_in(client_factory, service, call):
    client = client_factory(service, region="af-south-1")
    with pytest.raises(ClientError) as e:
        call(client)
    assert error_code(e.value) == "UnrecognizedClientException"
    assert http_status(e.value) == 403
    message = e.value.response["Error"]["Message"]
    assert "--opt-in-region" in message and "af-south-1" in message
    headers = e.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers.get("x-amzn-errortype", "").startswith("UnrecognizedClientException")


def test_describe_regions_is_refused_in_a_region_not_opted_in(client_factory):
    ec2 = client_factory("ec2", region="me-south-1")
    with pytest.raises(ClientError) as e:
        ec2.describe_regions(AllRegions=True)
    assert error_code(e.value) == "OptInRequired"
    assert http_status(e.value) == 403
