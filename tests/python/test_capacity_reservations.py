"""Capacity reservations through boto3: create, describe (filters, pagination), modify,
cancel, expiry by the server clock, splitting and moving capacity, usage, and every error
with AWS's code and status, changing nothing."""

import datetime

import pytest
from botocore.exceptions import ClientError

from cognito_helpers import advance, expect_error, server_now
from conftest import make_client

ZONE = "us-east-1a"


def create(ec2, count=5, **kw):
    args = dict(InstanceType="m5.large", InstancePlatform="Linux/UNIX", AvailabilityZone=ZONE, InstanceCount=count)
    args.update(kw)
    return ec2.create_capacity_reservation(**args)["CapacityReservation"]


def describe(ec2, cr_id):
    return ec2.describe_capacity_reservations(CapacityReservationIds=[cr_id])["CapacityReservations"][0]


def test_create_answers_an_active_reservation_as_aws(ec2):
    cr = create(
        ec2,
        count=3,
        Tenancy="default",
        EbsOptimized=True,
        InstanceMatchCriteria="targeted",
        TagSpecifications=[{"ResourceType": "capacity-reservation", "Tags": [{"Key": "team", "Value": "a"}]}],
    )
    assert cr["CapacityReservationId"].startswith("cr-") and len(cr["CapacityReservationId"]) == 20
    assert cr["OwnerId"] == "000000000000"
    assert cr["CapacityReservationArn"] == f"arn:aws:ec2:us-east-1:000000000000:capacity-reservation/{cr['CapacityReservationId']}"
    assert cr["State"] == "active"
    assert (cr["TotalInstanceCount"], cr["AvailableInstanceCount"]) == (3, 3)
    assert cr["InstanceMatchCriteria"] == "targeted"
    assert cr["EndDateType"] == "unlimited" and "EndDate" not in cr
    assert cr["AvailabilityZone"] == ZONE and cr["AvailabilityZoneId"].startswith("use1-az")
    assert cr["EbsOptimized"] is True and cr["EphemeralStorage"] is False
    assert cr["Tags"] == [{"Key": "team", "Value": "a"}]
    assert describe(ec2, cr["CapacityReservationId"]) == cr


def test_zone_by_id_and_defaults(ec2):
    zone_id = ec2.describe_availability_zones(ZoneNames=[ZONE])["AvailabilityZones"][0]["ZoneId"]
    cr = ec2.create_capacity_reservation(
        InstanceType="c5.xlarge", InstancePlatform="Windows", AvailabilityZoneId=zone_id, InstanceCount=1
    )["CapacityReservation"]
    assert cr["AvailabilityZone"] == ZONE
    assert (cr["Tenancy"], cr["InstanceMatchCriteria"], cr["InstancePlatform"]) == ("default", "open", "Windows")


def test_client_token_replays_and_mismatch_is_refused(ec2):
    a = create(ec2, ClientToken="tok-1")
    b = create(ec2, ClientToken="tok-1")
    assert a["CapacityReservationId"] == b["CapacityReservationId"]
    expect_error("IdempotentParameterMismatch", 400, create, ec2, count=2, ClientToken="tok-1")
    assert len(ec2.describe_capacity_reservations()["CapacityReservations"]) == 1


@pytest.mark.parametrize(
    "kw, code",
    [
        (dict(InstanceCount=0), "InvalidParameterValue"),
        (dict(InstanceCount=1001), "InvalidParameterValue"),
        (dict(InstanceType="large"), "InvalidParameterValue"),
        (dict(InstancePlatform="Plan 9"), "InvalidParameterValue"),
        (dict(AvailabilityZone="us-east-1z"), "InvalidParameterValue"),
        (dict(EndDateType="limited"), "MissingParameter"),
        (dict(EndDateType="unlimited", EndDate=datetime.datetime(2099, 1, 1)), "InvalidParameterCombination"),
        (dict(EndDateType="limited", EndDate=datetime.datetime(2000, 1, 1)), "InvalidParameterValue"),
        (dict(InstanceMatchCriteria="sometimes"), "InvalidParameterValue"),
        (dict(Tenancy="shared"), "InvalidParameterValue"),
        (dict(TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "k", "Value": "v"}]}]), "InvalidParameterValue"),
    ],
)
def test_create_refuses_bad_input_and_changes_nothing(ec2, kw, code):
    expect_error(code, 400, create, ec2, **kw)
    assert ec2.describe_capacity_reservations()["CapacityReservations"] == []


def test_create_needs_its_required_members(ec2):
    expect_error(
        "MissingParameter",
        400,
        ec2.create_capacity_reservation,
        InstanceType="m5.large",
        InstancePlatform="Linux/UNIX",
        InstanceCount=1,
    )


def test_dry_run_checks_and_changes_nothing(ec2):
    expect_error("DryRunOperation", 412, create, ec2, DryRun=True)
    assert ec2.describe_capacity_reservations()["CapacityReservations"] == []
    cr = create(ec2)
    cid = cr["CapacityReservationId"]
    expect_error("DryRunOperation", 412, ec2.modify_capacity_reservation, CapacityReservationId=cid, InstanceCount=9, DryRun=True)
    expect_error("DryRunOperation", 412, ec2.cancel_capacity_reservation, CapacityReservationId=cid, DryRun=True)
    expect_error("DryRunOperation", 412, ec2.get_capacity_reservation_usage, CapacityReservationId=cid, DryRun=True)
    expect_error("DryRunOperation", 412, ec2.describe_capacity_reservations, DryRun=True)
    assert describe(ec2, cid) == cr


def test_describe_ids_filters_and_pagination(ec2):
    ids = [create(ec2, count=n + 1, InstanceType=t)["CapacityReservationId"] for n, t in enumerate(["m5.large", "m5.large", "c5.large"])]
    got = ec2.describe_capacity_reservations(Filters=[{"Name": "instance-type", "Values": ["m5.large"]}])
    assert sorted(c["CapacityReservationId"] for c in got["CapacityReservations"]) == sorted(ids[:2])
    got = ec2.describe_capacity_reservations(Filters=[{"Name": "state", "Values": ["active"]}, {"Name": "owner-id", "Values": ["000000000000"]}])
    assert len(got["CapacityReservations"]) == 3
    got = ec2.describe_capacity_reservations(Filters=[{"Name": "instance-match-criteria", "Values": ["targeted"]}])
    assert got["CapacityReservations"] == []
    pages = ec2.get_paginator("describe_capacity_reservations").paginate(PaginationConfig={"PageSize": 1})
    seen = [c["CapacityReservationId"] for p in pages for c in p["CapacityReservations"]]
    assert seen == ids
    expect_error("InvalidCapacityReservationId.NotFound", 400, ec2.describe_capacity_reservations, CapacityReservationIds=[ids[0], "cr-0123456789abcdef0"])
    expect_error("InvalidCapacityReservationId.Malformed", 400, ec2.describe_capacity_reservations, CapacityReservationIds=["cr-nope"])
    expect_error("InvalidParameterValue", 400, ec2.describe_capacity_reservations, Filters=[{"Name": "colour", "Values": ["red"]}])
    expect_error("InvalidParameterValue", 400, ec2.describe_capacity_reservations, MaxResults=1001)


def test_modify_count_end_date_and_criteria(ec2):
    cid = create(ec2, count=2)["CapacityReservationId"]
    assert ec2.modify_capacity_reservation(CapacityReservationId=cid, InstanceCount=4)["Return"] is True
    assert describe(ec2, cid)["TotalInstanceCount"] == 4
    end = server_now(ec2.meta.endpoint_url) + datetime.timedelta(days=2)
    ec2.modify_capacity_reservation(CapacityReservationId=cid, EndDateType="limited", EndDate=end)
    cr = describe(ec2, cid)
    assert cr["EndDateType"] == "limited" and abs((cr["EndDate"] - end).total_seconds()) < 1
    ec2.modify_capacity_reservation(CapacityReservationId=cid, EndDateType="unlimited")
    cr = describe(ec2, cid)
    assert cr["EndDateType"] == "unlimited" and "EndDate" not in cr
    ec2.modify_capacity_reservation(CapacityReservationId=cid, InstanceMatchCriteria="targeted")
    assert describe(ec2, cid)["InstanceMatchCriteria"] == "targeted"
    before = describe(ec2, cid)
    expect_error("MissingParameter", 400, ec2.modify_capacity_reservation, CapacityReservationId=cid)
    expect_error("InvalidParameterValue", 400, ec2.modify_capacity_reservation, CapacityReservationId=cid, InstanceCount=0)
    expect_error("InvalidCapacityReservationId.NotFound", 400, ec2.modify_capacity_reservation, CapacityReservationId="cr-0123456789abcdef0", InstanceCount=1)
    expect_error("InvalidCapacityReservationId.Malformed", 400, ec2.modify_capacity_reservation, CapacityReservationId="reservation", InstanceCount=1)
    assert describe(ec2, cid) == before


def test_cancel_then_nothing_changes_it(ec2):
    cid = create(ec2, count=2)["CapacityReservationId"]
    assert ec2.cancel_capacity_reservation(CapacityReservationId=cid)["Return"] is True
    cr = describe(ec2, cid)
    assert cr["State"] == "cancelled"
    expect_error("IncorrectState", 400, ec2.cancel_capacity_reservation, CapacityReservationId=cid)
    expect_error("IncorrectState", 400, ec2.modify_capacity_reservation, CapacityReservationId=cid, InstanceCount=5)
    assert describe(ec2, cid) == cr
    got = ec2.describe_capacity_reservations(Filters=[{"Name": "state", "Values": ["cancelled"]}])
    assert [c["CapacityReservationId"] for c in got["CapacityReservations"]] == [cid]


def test_a_limited_reservation_expires_by_the_clock(own_server):
    # Moves the clock: a server of its own, so the shared one's clock never moves.
    url = own_server("--ephemeral", "--listen", "127.0.0.1:0").url
    ec2 = make_client(url, "ec2")
    end = server_now(url) + datetime.timedelta(hours=1)
    cid = create(ec2, EndDateType="limited", EndDate=end)["CapacityReservationId"]
    assert describe(ec2, cid)["State"] == "active"
    advance(url, 3601)
    assert describe(ec2, cid)["State"] == "expired"
    assert ec2.get_capacity_reservation_usage(CapacityReservationId=cid)["State"] == "expired"
    expect_error("IncorrectState", 400, ec2.modify_capacity_reservation, CapacityReservationId=cid, InstanceCount=1)


def test_usage_of_an_unused_reservation(ec2):
    cid = create(ec2, count=5)["CapacityReservationId"]
    u = ec2.get_capacity_reservation_usage(CapacityReservationId=cid)
    assert (u["CapacityReservationId"], u["InstanceType"], u["State"]) == (cid, "m5.large", "active")
    assert (u["TotalInstanceCount"], u["AvailableInstanceCount"], u["InstanceUsages"]) == (5, 5, [])
    expect_error("InvalidCapacityReservationId.NotFound", 400, ec2.get_capacity_reservation_usage, CapacityReservationId="cr-0123456789abcdef0")
    expect_error("InvalidCapacityReservationId.Malformed", 400, ec2.get_capacity_reservation_usage, CapacityReservationId="cr-zz")
    expect_error("InvalidParameterValue", 400, ec2.get_capacity_reservation_usage, CapacityReservationId=cid, MaxResults=1001)


def test_split_and_move_available_capacity(ec2):
    src = create(ec2, count=5)["CapacityReservationId"]
    out = ec2.create_capacity_reservation_by_splitting(
        SourceCapacityReservationId=src,
        InstanceCount=2,
        TagSpecifications=[{"ResourceType": "capacity-reservation", "Tags": [{"Key": "split", "Value": "yes"}]}],
    )
    dst = out["DestinationCapacityReservation"]
    assert out["InstanceCount"] == 2
    assert out["SourceCapacityReservation"]["TotalInstanceCount"] == 3
    assert (dst["TotalInstanceCount"], dst["AvailableInstanceCount"], dst["InstanceType"]) == (2, 2, "m5.large")
    assert dst["Tags"] == [{"Key": "split", "Value": "yes"}]
    moved = ec2.move_capacity_reservation_instances(
        SourceCapacityReservationId=src, DestinationCapacityReservationId=dst["CapacityReservationId"], InstanceCount=1
    )
    assert moved["SourceCapacityReservation"]["TotalInstanceCount"] == 2
    assert moved["DestinationCapacityReservation"]["TotalInstanceCount"] == 3
    # The whole reservation cannot leave it; unlike reservations do not exchange capacity.
    expect_error("InvalidParameterValue", 400, ec2.create_capacity_reservation_by_splitting, SourceCapacityReservationId=src, InstanceCount=2)
    other = create(ec2, count=1, InstanceType="c5.large")["CapacityReservationId"]
    expect_error(
        "InvalidParameterValue",
        400,
        ec2.move_capacity_reservation_instances,
        SourceCapacityReservationId=src,
        DestinationCapacityReservationId=other,
        InstanceCount=1,
    )
    assert describe(ec2, src)["TotalInstanceCount"] == 2
    assert describe(ec2, other)["TotalInstanceCount"] == 1


def test_another_account_cannot_see_an_unshared_reservation(ec2, ec2_other):
    cid = create(ec2)["CapacityReservationId"]
    assert ec2_other.describe_capacity_reservations()["CapacityReservations"] == []
    for call in (
        lambda: ec2_other.describe_capacity_reservations(CapacityReservationIds=[cid]),
        lambda: ec2_other.get_capacity_reservation_usage(CapacityReservationId=cid),
        lambda: ec2_other.cancel_capacity_reservation(CapacityReservationId=cid),
    ):
        with pytest.raises(ClientError) as e:
            call()
        assert e.value.response["Error"]["Code"] == "InvalidCapacityReservationId.NotFound"
    assert describe(ec2, cid)["State"] == "active"
