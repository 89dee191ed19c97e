"""The story of a capacity reservation, with boto3 and the server clock (on a server of its
own, as it moves the clock): create → launch 3
of 5 → usage shows 2 available → share with a second account through RAM → its launch
consumes the reservation → usage rows for both accounts → terminate → usage back → cancel
→ launches refused → a limited reservation expires when the clock is moved. Also: open
matching, `capacity-reservations-only`, stop/start, MinCount/MaxCount against a full
reservation, moving running instances, unsharing."""

import datetime

import pytest

from cognito_helpers import advance, expect_error, server_now
from conftest import OTHER_ACCOUNT, make_client

ZONE = "us-east-1a"
IMAGE = "ami-0123456789abcdef0"  # well formed, not in the catalogue: launches as Linux/UNIX


def reservation(ec2, count=5, **kw):
    args = dict(InstanceType="m5.large", InstancePlatform="Linux/UNIX", AvailabilityZone=ZONE, InstanceCount=count)
    args.update(kw)
    return ec2.create_capacity_reservation(**args)["CapacityReservation"]


def launch(ec2, n=1, target=None, preference=None, instance_type="m5.large", min_count=None, zone=ZONE):
    spec = {}
    if target:
        spec["CapacityReservationTarget"] = {"CapacityReservationId": target}
    if preference:
        spec["CapacityReservationPreference"] = preference
    kw = dict(
        ImageId=IMAGE,
        InstanceType=instance_type,
        MinCount=min_count or n,
        MaxCount=n,
        Placement={"AvailabilityZone": zone},
    )
    if spec:
        kw["CapacityReservationSpecification"] = spec
    return ec2.run_instances(**kw)["Instances"]


def usage(ec2, cid):
    u = ec2.get_capacity_reservation_usage(CapacityReservationId=cid)
    return u["AvailableInstanceCount"], {r["AccountId"]: r["UsedInstanceCount"] for r in u["InstanceUsages"]}


def share(client_factory, cid, principal=OTHER_ACCOUNT):
    """Shares the reservation with `principal` and accepts the invitation as it."""
    ram = client_factory("ram")
    arn = f"arn:aws:ec2:us-east-1:000000000000:capacity-reservation/{cid}"
    s = ram.create_resource_share(name="capacity", resourceArns=[arn], principals=[principal])["resourceShare"]
    other_ram = client_factory("ram", key=principal)
    invitations = other_ram.get_resource_share_invitations(resourceShareArns=[s["resourceShareArn"]])
    for inv in invitations["resourceShareInvitations"]:
        if inv["status"] == "PENDING":
            other_ram.accept_resource_share_invitation(resourceShareInvitationArn=inv["resourceShareInvitationArn"])
    return ram, s["resourceShareArn"], arn


def test_the_whole_story(own_server):
    # The story moves the clock: its own server, so the shared one's clock never moves.
    s = own_server("--ephemeral", "--listen", "127.0.0.1:0")
    url = s.url
    ec2, ec2_other = make_client(url, "ec2"), make_client(url, "ec2", key=OTHER_ACCOUNT)

    def client_factory(service, key="AKIDEXAMPLE"):
        return make_client(url, service, key=key)

    cr = reservation(ec2, count=5, InstanceMatchCriteria="targeted")
    cid = cr["CapacityReservationId"]

    mine = launch(ec2, 3, target=cid)
    assert all(i["CapacityReservationId"] == cid for i in mine)
    assert mine[0]["CapacityReservationSpecification"]["CapacityReservationTarget"]["CapacityReservationId"] == cid
    assert usage(ec2, cid) == (2, {"000000000000": 3})

    # Not shared yet: the other account cannot see it nor launch into it.
    expect_error("InvalidCapacityReservationId.NotFound", 400, launch, ec2_other, 1, target=cid)
    ram, share_arn, arn = share(client_factory, cid)
    seen = ec2_other.describe_capacity_reservations(CapacityReservationIds=[cid])["CapacityReservations"][0]
    assert seen["OwnerId"] == "000000000000" and seen["AvailableInstanceCount"] == 2
    theirs = launch(ec2_other, 1, target=cid)
    assert theirs[0]["CapacityReservationId"] == cid
    assert usage(ec2, cid) == (1, {"000000000000": 3, OTHER_ACCOUNT: 1})
    # The consumer cannot change nor read the usage of what it does not own.
    expect_error("UnauthorizedOperation", 403, ec2_other.cancel_capacity_reservation, CapacityReservationId=cid)
    expect_error("UnauthorizedOperation", 403, ec2_other.modify_capacity_reservation, CapacityReservationId=cid, InstanceCount=9)

    # Full now but for one slot: two more targeted launches do not fit.
    expect_error("ReservationCapacityExceeded", 400, launch, ec2, 2, target=cid)
    assert usage(ec2, cid) == (1, {"000000000000": 3, OTHER_ACCOUNT: 1})

    ec2.terminate_instances(InstanceIds=[i["InstanceId"] for i in mine])
    ec2_other.terminate_instances(InstanceIds=[theirs[0]["InstanceId"]])
    assert usage(ec2, cid) == (5, {})

    ec2.cancel_capacity_reservation(CapacityReservationId=cid)
    expect_error("ReservationCapacityExceeded", 400, launch, ec2, 1, target=cid)
    expect_error("ReservationCapacityExceeded", 400, launch, ec2_other, 1, target=cid)

    end = server_now(url) + datetime.timedelta(hours=2)
    limited = reservation(ec2, count=2, EndDateType="limited", EndDate=end)["CapacityReservationId"]
    assert launch(ec2, 1, target=limited)[0]["CapacityReservationId"] == limited
    advance(url, 2 * 3600 + 1)
    assert ec2.describe_capacity_reservations(CapacityReservationIds=[limited])["CapacityReservations"][0]["State"] == "expired"
    expect_error("ReservationCapacityExceeded", 400, launch, ec2, 1, target=limited)


def test_open_launches_match_type_platform_zone_and_fall_back_to_on_demand(ec2):
    cid = reservation(ec2, count=2)["CapacityReservationId"]
    # Another type and another zone do not match: on demand.
    other = launch(ec2, 1, instance_type="c5.large")
    assert "CapacityReservationId" not in other[0]
    assert usage(ec2, cid) == (2, {})
    # Matching open launches take it until it is full, then run on demand.
    got = launch(ec2, 3)
    assert [i.get("CapacityReservationId") for i in got] == [cid, cid, None]
    assert usage(ec2, cid) == (0, {"000000000000": 2})
    # `none` never uses a reservation; `capacity-reservations-only` fails without room.
    assert "CapacityReservationId" not in launch(ec2, 1, preference="none")[0]
    expect_error("ReservationCapacityExceeded", 400, launch, ec2, 1, preference="capacity-reservations-only")
    # Stop gives the slot back; start takes one again.
    first = got[0]["InstanceId"]
    ec2.stop_instances(InstanceIds=[first])
    assert usage(ec2, cid) == (1, {"000000000000": 1})
    assert launch(ec2, 1, preference="capacity-reservations-only")[0]["CapacityReservationId"] == cid
    ec2.start_instances(InstanceIds=[first])
    # No room left: it starts on demand.
    inst = ec2.describe_instances(InstanceIds=[first])["Reservations"][0]["Instances"][0]
    assert inst["State"]["Name"] == "running" and "CapacityReservationId" not in inst
    assert usage(ec2, cid) == (0, {"000000000000": 2})


def test_a_targeted_reservation_takes_only_targeting_launches(ec2):
    cid = reservation(ec2, count=2, InstanceMatchCriteria="targeted")["CapacityReservationId"]
    assert "CapacityReservationId" not in launch(ec2, 1)[0]
    assert usage(ec2, cid) == (2, {})
    # A target whose attributes differ from the launch is refused.
    expect_error("ReservationCapacityExceeded", 400, launch, ec2, 1, target=cid, instance_type="c5.large")
    expect_error("InvalidCapacityReservationId.NotFound", 400, launch, ec2, 1, target="cr-0123456789abcdef0")
    expect_error("InvalidCapacityReservationId.Malformed", 400, launch, ec2, 1, target="cr-1")


def test_min_and_max_count_against_a_targeted_reservation(ec2):
    cid = reservation(ec2, count=3, InstanceMatchCriteria="targeted")["CapacityReservationId"]
    # MaxCount 5, MinCount 2: the three that fit launch.
    got = launch(ec2, 5, target=cid, min_count=2)
    assert len(got) == 3
    assert usage(ec2, cid) == (0, {"000000000000": 3})
    # MinCount above what fits: nothing launches.
    before = len([i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]])
    expect_error("ReservationCapacityExceeded", 400, launch, ec2, 2, target=cid, min_count=1)
    after = len([i for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]])
    assert before == after


def test_moving_and_splitting_used_capacity_moves_the_instances(ec2):
    src = reservation(ec2, count=3, InstanceMatchCriteria="targeted")["CapacityReservationId"]
    ids = [i["InstanceId"] for i in launch(ec2, 3, target=src)]
    out = ec2.create_capacity_reservation_by_splitting(SourceCapacityReservationId=src, InstanceCount=2)
    dst = out["DestinationCapacityReservation"]["CapacityReservationId"]
    assert usage(ec2, src) == (0, {"000000000000": 1})
    assert usage(ec2, dst) == (0, {"000000000000": 2})
    placed = {
        i["InstanceId"]: i.get("CapacityReservationId")
        for r in ec2.describe_instances(InstanceIds=ids)["Reservations"]
        for i in r["Instances"]
    }
    assert sorted(placed.values()) == sorted([src, dst, dst])
    ec2.move_capacity_reservation_instances(SourceCapacityReservationId=dst, DestinationCapacityReservationId=src, InstanceCount=1)
    assert usage(ec2, src) == (0, {"000000000000": 2})
    assert usage(ec2, dst) == (0, {"000000000000": 1})
    # Lowering the count below the instances using it is refused.
    expect_error("InvalidParameterValue", 400, ec2.modify_capacity_reservation, CapacityReservationId=src, InstanceCount=1)


def test_instance_preference_changes_while_stopped(ec2):
    cid = reservation(ec2, count=1, InstanceMatchCriteria="targeted")["CapacityReservationId"]
    iid = launch(ec2, 1)[0]["InstanceId"]
    spec = {"CapacityReservationTarget": {"CapacityReservationId": cid}}
    expect_error(
        "IncorrectInstanceState",
        400,
        ec2.modify_instance_capacity_reservation_attributes,
        InstanceId=iid,
        CapacityReservationSpecification=spec,
    )
    ec2.stop_instances(InstanceIds=[iid])
    assert ec2.modify_instance_capacity_reservation_attributes(InstanceId=iid, CapacityReservationSpecification=spec)["Return"]
    ec2.start_instances(InstanceIds=[iid])
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert inst["CapacityReservationId"] == cid
    assert usage(ec2, cid) == (0, {"000000000000": 1})
    got = ec2.describe_instances(Filters=[{"Name": "capacity-reservation-id", "Values": [cid]}])
    assert [i["InstanceId"] for r in got["Reservations"] for i in r["Instances"]] == [iid]


def test_unsharing_hides_the_reservation_but_running_instances_keep_their_slots(ec2, ec2_other, client_factory):
    cid = reservation(ec2, count=3)["CapacityReservationId"]
    ram, share_arn, arn = share(client_factory, cid)
    theirs = launch(ec2_other, 1)  # open: finds the shared reservation
    assert theirs[0]["CapacityReservationId"] == cid
    ram.disassociate_resource_share(resourceShareArn=share_arn, resourceArns=[arn])
    expect_error("InvalidCapacityReservationId.NotFound", 400, ec2_other.describe_capacity_reservations, CapacityReservationIds=[cid])
    assert "CapacityReservationId" not in launch(ec2_other, 1)[0]
    assert usage(ec2, cid) == (2, {OTHER_ACCOUNT: 1})
    ec2_other.terminate_instances(InstanceIds=[theirs[0]["InstanceId"]])
    assert usage(ec2, cid) == (3, {})
