"""DescribeRegions and DescribeAvailabilityZones."""

import pytest
from botocore.exceptions import ClientError

from conftest import error_code, http_status


def region_names(resp):
    return [r["RegionName"] for r in resp["Regions"]]


def test_describe_regions_lists_enabled_regions(ec2):
    regions = ec2.describe_regions()["Regions"]
    names = [r["RegionName"] for r in regions]
    assert len(names) == len(set(names))
    assert len(names) >= 25
    for expected in ("us-east-1", "us-east-2", "us-west-2", "eu-west-1", "ap-southeast-2"):
        assert expected in names
    us_east_1 = next(r for r in regions if r["RegionName"] == "us-east-1")
    assert us_east_1 == {
        "RegionName": "us-east-1",
        "Endpoint": "ec2.us-east-1.amazonaws.com",
        "OptInStatus": "opt-in-not-required",
    }
    for r in regions:
        assert r["Endpoint"] == f"ec2.{r['RegionName']}.amazonaws.com"
        assert r["OptInStatus"] in ("opt-in-not-required", "opted-in")


def test_opt_in_region_is_opted_in(ec2):
    regions = ec2.describe_regions(RegionNames=["af-south-1"])["Regions"]
    assert regions == [
        {
            "RegionName": "af-south-1",
            "Endpoint": "ec2.af-south-1.amazonaws.com",
            "OptInStatus": "opted-in",
        }
    ]


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
    all_names = set(region_names(ec2.describe_regions()))
    opted = region_names(
        ec2.describe_regions(Filters=[{"Name": "opt-in-status", "Values": ["opted-in"]}])
    )
    not_required = region_names(
        ec2.describe_regions(Filters=[{"Name": "opt-in-status", "Values": ["opt-in-not-required"]}])
    )
    assert "af-south-1" in opted
    assert "us-east-1" not in opted
    assert "us-east-1" in not_required
    assert "af-south-1" not in not_required
    assert set(opted) | set(not_required) == all_names
    assert not set(opted) & set(not_required)


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
    assert a["GroupName"] == "us-east-1"
    assert a["NetworkBorderGroup"] == "us-east-1"
    assert a["RegionName"] == "us-east-1"
    ids = {z["ZoneId"] for z in zones}
    assert ids == {f"use1-az{i}" for i in range(1, 7)}
    for z in zones:
        assert z["RegionName"] == "us-east-1"
        assert z["State"] == "available"


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
