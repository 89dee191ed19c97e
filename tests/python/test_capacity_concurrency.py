"""Concurrent launches into one capacity reservation: sixteen clients of two accounts (the
owner and one it shares with) launch at once into a reservation of five. Exactly five
launches take a slot, the others are refused with `ReservationCapacityExceeded` (targeted)
or run on demand (open); the reservation is never over-committed and its usage equals a
recount of the instances in it.

Bounded: 32 RunInstances requests per test, each client making its two in turn.
"""


from botocore.exceptions import ClientError

from conftest import OTHER_ACCOUNT, error_code, http_status, make_client, run_together
from test_capacity_story import IMAGE, ZONE, reservation, share

CLIENTS = 16
LAUNCHES_PER_CLIENT = 2
JOIN_TIMEOUT = 120
OWNER = "000000000000"


def run_clients(endpoint, work):
    """Runs work(client) on CLIENTS threads started together, half of them as the owner and
    half as the account it shares with; answers every outcome."""
    keys = ["AKIDEXAMPLE" if i % 2 == 0 else OTHER_ACCOUNT for i in range(CLIENTS)]
    clients = [make_client(endpoint, "ec2", key=k) for k in keys]
    return run_together(clients, work, JOIN_TIMEOUT)


def launch_all(client, spec):
    outcomes = []
    for _ in range(LAUNCHES_PER_CLIENT):
        try:
            r = client.run_instances(
                ImageId=IMAGE,
                InstanceType="m5.large",
                MinCount=1,
                MaxCount=1,
                Placement={"AvailabilityZone": ZONE},
                CapacityReservationSpecification=spec,
            )
            outcomes.append(("ok", r["Instances"][0].get("CapacityReservationId")))
        except ClientError as e:
            outcomes.append((error_code(e), http_status(e)))
    return outcomes


def in_reservation(ec2_clients, cid):
    """A recount: the instances of both accounts that DescribeInstances shows in it."""
    n = {}
    for account, c in ec2_clients.items():
        got = c.describe_instances(Filters=[{"Name": "capacity-reservation-id", "Values": [cid]}])
        n[account] = sum(len(r["Instances"]) for r in got["Reservations"])
    return {a: k for a, k in n.items() if k}


def check_usage(ec2, ec2_other, cid, expected_used):
    u = ec2.get_capacity_reservation_usage(CapacityReservationId=cid)
    rows = {r["AccountId"]: r["UsedInstanceCount"] for r in u["InstanceUsages"]}
    assert u["AvailableInstanceCount"] == 5 - expected_used
    assert sum(rows.values()) == expected_used
    assert rows == in_reservation({OWNER: ec2, OTHER_ACCOUNT: ec2_other}, cid)


def test_targeted_launches_never_overcommit(ec2, ec2_other, endpoint, client_factory):
    cid = reservation(ec2, count=5, InstanceMatchCriteria="targeted")["CapacityReservationId"]
    share(client_factory, cid)
    outcomes = run_clients(endpoint, lambda c: launch_all(c, {"CapacityReservationTarget": {"CapacityReservationId": cid}}))
    placed = [o for o in outcomes if o[0] == "ok"]
    refused = [o for o in outcomes if o[0] != "ok"]
    assert len(placed) == 5 and all(o[1] == cid for o in placed)
    assert set(refused) == {("ReservationCapacityExceeded", 400)}
    assert len(refused) == CLIENTS * LAUNCHES_PER_CLIENT - 5
    check_usage(ec2, ec2_other, cid, 5)


def test_open_launches_fill_it_and_run_the_rest_on_demand(ec2, ec2_other, endpoint, client_factory):
    cid = reservation(ec2, count=5)["CapacityReservationId"]
    share(client_factory, cid)
    outcomes = run_clients(endpoint, lambda c: launch_all(c, {"CapacityReservationPreference": "open"}))
    assert all(o[0] == "ok" for o in outcomes), outcomes
    assert sum(1 for o in outcomes if o[1] == cid) == 5
    check_usage(ec2, ec2_other, cid, 5)
