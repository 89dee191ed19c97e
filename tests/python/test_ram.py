"""AWS RAM against Reservoir with boto3: resource shares, invitations between accounts,
what each account sees, pagination, every error at its code and status (changing
nothing), and the organization setting (`--ram-organization`).

Sharing is checked by its effect too: a capacity reservation shared with an account is
visible to that account's EC2 only while it has access (accepted, associated, share
active).
"""

from __future__ import annotations

import re

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import HTTP_TIMEOUT, REGION, auth_header, error_code, http_status, make_client

OWNER = "111111111111"
B = "222222222222"
C = "333333333333"

SHARE_ARN = re.compile(r"^arn:aws:ram:us-east-1:111111111111:resource-share/[0-9a-f-]{36}$")
INVITATION_ARN = re.compile(r"^arn:aws:ram:us-east-1:111111111111:resource-share-invitation/[0-9a-f-]{36}$")
MISSING_SHARE = "arn:aws:ram:us-east-1:111111111111:resource-share/7ab63972-b505-4e2a-820d-6f5d3e9a1b2c"
MISSING_INVITATION = (
    "arn:aws:ram:us-east-1:111111111111:resource-share-invitation/7ab63972-b505-4e2a-820d-6f5d3e9a1b2c"
)


@pytest.fixture
def ram(client_factory):
    return client_factory("ram", key=OWNER)


@pytest.fixture
def ram_b(client_factory):
    return client_factory("ram", key=B)


@pytest.fixture
def ec2_owner(client_factory):
    return client_factory("ec2", key=OWNER)


@pytest.fixture
def ec2_b(client_factory):
    return client_factory("ec2", key=B)


def make_pool(ec2) -> tuple[str, str]:
    """An IPAM pool of the client's account: (ARN, id)."""
    ipam = ec2.create_ipam()["Ipam"]
    pool = ec2.create_ipam_pool(
        IpamScopeId=ipam["PrivateDefaultScopeId"], AddressFamily="ipv4", Locale=REGION
    )["IpamPool"]
    return pool["IpamPoolArn"], pool["IpamPoolId"]


def make_reservation(ec2) -> tuple[str, str]:
    r = ec2.create_capacity_reservation(
        InstanceType="t3.micro", InstancePlatform="Linux/UNIX", AvailabilityZone="us-east-1a", InstanceCount=2
    )["CapacityReservation"]
    return r["CapacityReservationArn"], r["CapacityReservationId"]


def sees_reservation(ec2, cr_id) -> bool:
    try:
        ec2.describe_capacity_reservations(CapacityReservationIds=[cr_id])
        return True
    except ClientError as e:
        assert error_code(e) == "InvalidCapacityReservationId.NotFound", e
        return False


def fails(code, fn, *args, **kw) -> ClientError:
    with pytest.raises(ClientError) as e:
        fn(*args, **kw)
    assert error_code(e.value) == code, e.value.response
    assert http_status(e.value) == 400, e.value.response
    return e.value


def associations(ram, kind, share=None):
    kw = {"associationType": kind}
    if share:
        kw["resourceShareArns"] = [share]
    return {a["associatedEntity"]: a for a in ram.get_resource_share_associations(**kw)["resourceShareAssociations"]}


def own_shares(ram, **kw):
    return ram.get_resource_shares(resourceOwner="SELF", **kw)["resourceShares"]


def shared_with_me(ram):
    return ram.get_resource_shares(resourceOwner="OTHER-ACCOUNTS")["resourceShares"]


def invitations(ram, **kw):
    return ram.get_resource_share_invitations(**kw)["resourceShareInvitations"]


# --- the story ------------------------------------------------------------------------------


def test_invitation_story(ram, ram_b, ec2_owner, ec2_b):
    pool_arn, _ = make_pool(ec2_owner)
    cr_arn, cr_id = make_reservation(ec2_owner)
    share = ram.create_resource_share(
        name="capacity",
        resourceArns=[pool_arn, cr_arn],
        principals=[B],
        tags=[{"key": "team", "value": "core"}],
    )["resourceShare"]
    arn = share["resourceShareArn"]
    assert SHARE_ARN.match(arn), arn
    assert share["status"] == "ACTIVE"
    assert share["owningAccountId"] == OWNER
    assert share["allowExternalPrincipals"] is True
    assert share["featureSet"] == "STANDARD"
    assert share["tags"] == [{"key": "team", "value": "core"}]

    # Before B accepts: its association is ASSOCIATING and external, it has a pending
    # invitation, and nothing is shared with it yet.
    principal = associations(ram, "PRINCIPAL")[B]
    assert (principal["status"], principal["external"]) == ("ASSOCIATING", True)
    resources = associations(ram, "RESOURCE")
    assert {r: a["status"] for r, a in resources.items()} == {pool_arn: "ASSOCIATED", cr_arn: "ASSOCIATED"}
    [inv] = invitations(ram_b)
    assert INVITATION_ARN.match(inv["resourceShareInvitationArn"])
    assert inv["status"] == "PENDING"
    assert (inv["senderAccountId"], inv["receiverAccountId"]) == (OWNER, B)
    assert (inv["resourceShareArn"], inv["resourceShareName"]) == (arn, "capacity")
    assert invitations(ram) == [], "the owner received no invitation"
    assert shared_with_me(ram_b) == []
    assert ram_b.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"] == []
    assert not sees_reservation(ec2_b, cr_id)

    # B accepts: access begins.
    accepted = ram_b.accept_resource_share_invitation(
        resourceShareInvitationArn=inv["resourceShareInvitationArn"], clientToken="accept-1"
    )
    assert accepted["resourceShareInvitation"]["status"] == "ACCEPTED"
    assert accepted["clientToken"] == "accept-1"
    assert [s["resourceShareArn"] for s in shared_with_me(ram_b)] == [arn]
    listed = ram_b.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"]
    assert {(r["arn"], r["type"], r["resourceShareArn"], r["status"]) for r in listed} == {
        (pool_arn, "ec2:IpamPool", arn, "AVAILABLE"),
        (cr_arn, "ec2:CapacityReservation", arn, "AVAILABLE"),
    }
    assert [r["arn"] for r in ram_b.list_resources(resourceOwner="OTHER-ACCOUNTS", resourceType="ec2:IpamPool")["resources"]] == [pool_arn]
    assert sees_reservation(ec2_b, cr_id)
    assert associations(ram, "PRINCIPAL")[B]["status"] == "ASSOCIATED"
    assert [p["id"] for p in ram.list_principals(resourceOwner="SELF")["principals"]] == [B]
    assert [p["id"] for p in ram_b.list_principals(resourceOwner="OTHER-ACCOUNTS")["principals"]] == [B]
    assert invitations(ram_b)[0]["status"] == "ACCEPTED"
    fails(
        "ResourceShareInvitationAlreadyAcceptedException",
        ram_b.accept_resource_share_invitation,
        resourceShareInvitationArn=inv["resourceShareInvitationArn"],
    )
    fails(
        "ResourceShareInvitationAlreadyAcceptedException",
        ram_b.reject_resource_share_invitation,
        resourceShareInvitationArn=inv["resourceShareInvitationArn"],
    )

    # The reservation leaves the share: B loses it at once; back again, B has it at once.
    out = ram.disassociate_resource_share(resourceShareArn=arn, resourceArns=[cr_arn])
    assert [(a["associatedEntity"], a["status"]) for a in out["resourceShareAssociations"]] == [
        (cr_arn, "DISASSOCIATING")
    ]
    assert associations(ram, "RESOURCE")[cr_arn]["status"] == "DISASSOCIATED"
    assert not sees_reservation(ec2_b, cr_id)
    assert [r["arn"] for r in ram_b.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"]] == [pool_arn]
    out = ram.associate_resource_share(resourceShareArn=arn, resourceArns=[cr_arn])
    assert [(a["associatedEntity"], a["status"]) for a in out["resourceShareAssociations"]] == [
        (cr_arn, "ASSOCIATING")
    ]
    assert sees_reservation(ec2_b, cr_id)

    # B is removed: it sees nothing any more.
    ram.disassociate_resource_share(resourceShareArn=arn, principals=[B])
    assert associations(ram, "PRINCIPAL")[B]["status"] == "DISASSOCIATED"
    assert shared_with_me(ram_b) == []
    assert not sees_reservation(ec2_b, cr_id)
    assert ram.list_principals(resourceOwner="SELF")["principals"] == []

    # Deleted: kept, DELETED, every association DISASSOCIATED; deleting again is refused.
    assert ram.delete_resource_share(resourceShareArn=arn)["returnValue"] is True
    [deleted] = own_shares(ram, resourceShareStatus="DELETED")
    assert (deleted["resourceShareArn"], deleted["status"]) == (arn, "DELETED")
    assert own_shares(ram, resourceShareStatus="ACTIVE") == []
    assert {a["status"] for a in associations(ram, "RESOURCE").values()} == {"DISASSOCIATED"}
    fails("InvalidStateTransitionException", ram.delete_resource_share, resourceShareArn=arn)
    fails("InvalidStateTransitionException", ram.associate_resource_share, resourceShareArn=arn, principals=[C])


def test_reject_and_leave(ram, ram_b, ec2_owner, ec2_b):
    _, cr_id = make_reservation(ec2_owner)
    cr_arn = f"arn:aws:ec2:{REGION}:{OWNER}:capacity-reservation/{cr_id}"
    arn = ram.create_resource_share(name="r", resourceArns=[cr_arn], principals=[B])["resourceShare"]["resourceShareArn"]
    [inv] = invitations(ram_b, resourceShareArns=[arn])
    rejected = ram_b.reject_resource_share_invitation(resourceShareInvitationArn=inv["resourceShareInvitationArn"])
    assert rejected["resourceShareInvitation"]["status"] == "REJECTED"
    assert associations(ram, "PRINCIPAL")[B]["status"] == "DISASSOCIATED"
    assert not sees_reservation(ec2_b, cr_id)
    for op in (ram_b.accept_resource_share_invitation, ram_b.reject_resource_share_invitation):
        fails("ResourceShareInvitationAlreadyRejectedException", op, resourceShareInvitationArn=inv["resourceShareInvitationArn"])

    # Invited again: a new invitation; accepted, then B leaves the share itself.
    ram.associate_resource_share(resourceShareArn=arn, principals=[B])
    pending = [i for i in invitations(ram_b) if i["status"] == "PENDING"]
    assert len(pending) == 1 and pending[0]["resourceShareInvitationArn"] != inv["resourceShareInvitationArn"]
    ram_b.accept_resource_share_invitation(resourceShareInvitationArn=pending[0]["resourceShareInvitationArn"])
    assert sees_reservation(ec2_b, cr_id)
    fails("OperationNotPermittedException", ram_b.disassociate_resource_share, resourceShareArn=arn, resourceArns=[cr_arn])
    ram_b.disassociate_resource_share(resourceShareArn=arn, principals=[B])
    assert not sees_reservation(ec2_b, cr_id)
    assert shared_with_me(ram_b) == []
    assert associations(ram, "PRINCIPAL")[B]["status"] == "DISASSOCIATED"


def test_pending_invitations_are_withdrawn(ram, ram_b, client_factory):
    ram_c = client_factory("ram", key=C)
    arn = ram.create_resource_share(name="w", principals=[B, C])["resourceShare"]["resourceShareArn"]
    assert len(invitations(ram_b)) == 1 and len(invitations(ram_c)) == 1
    ram.disassociate_resource_share(resourceShareArn=arn, principals=[B])
    assert invitations(ram_b) == []
    ram.delete_resource_share(resourceShareArn=arn)
    assert invitations(ram_c) == []


def test_organization_setting(own_server):
    server = own_server("--ephemeral", "--listen", "127.0.0.1:0", "--ram-organization")
    ram = server.client("ram", key=OWNER)
    ram_b = server.client("ram", key=B)
    ec2 = server.client("ec2", key=OWNER)
    ec2_b = server.client("ec2", key=B)
    cr_arn, cr_id = make_reservation(ec2)
    pool_arn, _ = make_pool(ec2)
    arn = ram.create_resource_share(name="org", resourceArns=[cr_arn, pool_arn], principals=[B])["resourceShare"][
        "resourceShareArn"
    ]
    principal = associations(ram, "PRINCIPAL")[B]
    assert (principal["status"], principal["external"]) == ("ASSOCIATED", False)
    assert invitations(ram_b) == []
    assert [s["resourceShareArn"] for s in shared_with_me(ram_b)] == [arn]
    assert len(ram_b.list_resources(resourceOwner="OTHER-ACCOUNTS")["resources"]) == 2
    assert sees_reservation(ec2_b, cr_id)
    # Shared inside the organization: the principal cannot leave it.
    fails("OperationNotPermittedException", ram_b.disassociate_resource_share, resourceShareArn=arn, principals=[B])
    ram.delete_resource_share(resourceShareArn=arn)
    assert not sees_reservation(ec2_b, cr_id)
    assert shared_with_me(ram_b) == []


# --- pagination and filters ---------------------------------------------------------------------


def test_pagination_and_filters(ram, ram_b):
    made = [
        ram.create_resource_share(name=f"s{i}", principals=[B], tags=[{"key": "n", "value": str(i % 2)}])[
            "resourceShare"
        ]["resourceShareArn"]
        for i in range(5)
    ]
    seen, token, pages = [], None, 0
    while True:
        kw = {"resourceOwner": "SELF", "maxResults": 2}
        if token:
            kw["nextToken"] = token
        page = ram.get_resource_shares(**kw)
        pages += 1
        seen += [s["resourceShareArn"] for s in page["resourceShares"]]
        token = page.get("nextToken")
        if not token:
            break
    assert (seen, pages) == (made, 3)
    paginated = ram.get_paginator("get_resource_shares").paginate(resourceOwner="SELF", PaginationConfig={"PageSize": 2})
    assert [s["resourceShareArn"] for p in paginated for s in p["resourceShares"]] == made
    assert [s["name"] for s in own_shares(ram, name="s3")] == ["s3"]
    assert [s["name"] for s in own_shares(ram, tagFilters=[{"tagKey": "n", "tagValues": ["1"]}])] == ["s1", "s3"]
    assert [s["name"] for s in own_shares(ram, resourceShareArns=[made[4], made[0]])] == ["s0", "s4"]

    pages = list(
        ram.get_paginator("get_resource_share_associations").paginate(
            associationType="PRINCIPAL", PaginationConfig={"PageSize": 2}
        )
    )
    assert [len(p["resourceShareAssociations"]) for p in pages] == [2, 2, 1]
    pages = list(ram_b.get_paginator("get_resource_share_invitations").paginate(PaginationConfig={"PageSize": 3}))
    assert [len(p["resourceShareInvitations"]) for p in pages] == [3, 2]
    for inv in invitations(ram_b):
        ram_b.accept_resource_share_invitation(resourceShareInvitationArn=inv["resourceShareInvitationArn"])
    pages = list(
        ram_b.get_paginator("get_resource_shares").paginate(resourceOwner="OTHER-ACCOUNTS", PaginationConfig={"PageSize": 4})
    )
    assert [len(p["resourceShares"]) for p in pages] == [4, 1]
    pages = list(ram.get_paginator("list_principals").paginate(resourceOwner="SELF", PaginationConfig={"PageSize": 2}))
    assert [len(p["principals"]) for p in pages] == [2, 2, 1]

    first = ram.get_resource_shares(resourceOwner="SELF", maxResults=2)
    fails("InvalidNextTokenException", ram.get_resource_shares, resourceOwner="SELF", nextToken="garbage")
    # A token belongs to its request: another filter, or another account, refuses it.
    fails("InvalidNextTokenException", ram.get_resource_shares, resourceOwner="SELF", name="s1", nextToken=first["nextToken"])
    fails("InvalidNextTokenException", ram_b.get_resource_shares, resourceOwner="SELF", nextToken=first["nextToken"])
    fails("InvalidMaxResultsException", ram.get_resource_shares, resourceOwner="SELF", maxResults=501)


# --- errors ---------------------------------------------------------------------------------------


def test_create_errors_change_nothing(ram, ram_b, ec2_owner, ec2_b):
    pool_arn, pool_id = make_pool(ec2_owner)
    other_pool_arn, _ = make_pool(ec2_b)
    missing_pool = f"arn:aws:ec2::{OWNER}:ipam-pool/ipam-pool-0123456789abcdef0"
    cases = [
        ("MalformedArnException", {"resourceArns": ["not-an-arn"]}),
        ("MalformedArnException", {"resourceArns": [f"arn:aws:ec2::{OWNER}:ipam-pool/pool-x"]}),
        ("MalformedArnException", {"resourceArns": [f"arn:aws:ec2:{REGION}:{OWNER}:subnet/subnet-0123456789abcdef0"]}),
        ("UnknownResourceException", {"resourceArns": [missing_pool]}),
        ("UnknownResourceException", {"resourceArns": [other_pool_arn]}),
        ("UnknownResourceException", {"resourceArns": [f"arn:aws:ec2:us-west-2:{OWNER}:capacity-reservation/cr-0123456789abcdef0"]}),
        ("InvalidParameterException", {"principals": ["abc"]}),
        ("InvalidParameterException", {"principals": [OWNER]}),
        ("InvalidParameterException", {"principals": ["arn:aws:iam::222222222222:role/r"]}),
        ("InvalidParameterException", {"principals": ["ec2.amazonaws.com"]}),
        ("UnknownResourceException", {"principals": [f"arn:aws:organizations::{OWNER}:organization/o-abcdef1234"]}),
        ("UnknownResourceException", {"principals": [f"arn:aws:organizations::{OWNER}:ou/o-abcdef1234/ou-ab12-34567890"]}),
        ("OperationNotPermittedException", {"principals": [B], "allowExternalPrincipals": False}),
        ("InvalidParameterException", {"name": ""}),
        ("InvalidParameterException", {"tags": [{"key": "aws:x", "value": "y"}]}),
    ]
    for code, kw in cases:
        args = {"name": "bad", "resourceArns": [pool_arn], **kw}
        e = fails(code, ram.create_resource_share, **args)
        assert e.response["Error"]["Message"], kw
    assert own_shares(ram) == []
    assert invitations(ram_b) == []
    e = fails("InvalidParameterException", ram.create_resource_share, name="x", principals=["o-abc"])
    assert e.response["Error"]["Message"] == "Principal ID o-abc is malformed. Verify the ID and try again."
    e = fails("UnknownResourceException", ram.create_resource_share, name="x", resourceArns=[missing_pool])
    assert missing_pool in e.response["Error"]["Message"]
    # A share of no resource and no principal is fine.
    assert ram.create_resource_share(name="empty")["resourceShare"]["status"] == "ACTIVE"
    assert pool_id


def test_idempotency(ram):
    a = ram.create_resource_share(name="t", clientToken="tok-1")
    b = ram.create_resource_share(name="t", clientToken="tok-1")
    assert a["resourceShare"]["resourceShareArn"] == b["resourceShare"]["resourceShareArn"]
    assert a["clientToken"] == "tok-1"
    fails("IdempotentParameterMismatchException", ram.create_resource_share, name="other", clientToken="tok-1")
    fails("InvalidClientTokenException", ram.create_resource_share, name="t", clientToken="x" * 65)
    assert len(own_shares(ram)) == 1
    arn = a["resourceShare"]["resourceShareArn"]
    assert ram.delete_resource_share(resourceShareArn=arn, clientToken="del-1")["returnValue"] is True
    assert ram.delete_resource_share(resourceShareArn=arn, clientToken="del-1")["returnValue"] is True


def test_share_and_invitation_errors(ram, ram_b, ec2_owner):
    pool_arn, _ = make_pool(ec2_owner)
    arn = ram.create_resource_share(name="e", resourceArns=[pool_arn])["resourceShare"]["resourceShareArn"]
    before = associations(ram, "RESOURCE")
    fails("UnknownResourceException", ram.associate_resource_share, resourceShareArn=MISSING_SHARE, principals=[B])
    fails("MalformedArnException", ram.associate_resource_share, resourceShareArn="arn:aws:ram:x", principals=[B])
    fails("UnknownResourceException", ram_b.associate_resource_share, resourceShareArn=arn, principals=[C])
    fails("UnknownResourceException", ram.disassociate_resource_share, resourceShareArn=arn, principals=[B])
    fails("UnknownResourceException", ram.disassociate_resource_share, resourceShareArn=arn, resourceArns=[MISSING_SHARE])
    fails("UnknownResourceException", ram_b.delete_resource_share, resourceShareArn=arn)
    fails("UnknownResourceException", ram.delete_resource_share, resourceShareArn=MISSING_SHARE)
    # All or nothing: a bad principal after a good one adds neither.
    fails("InvalidParameterException", ram.associate_resource_share, resourceShareArn=arn, principals=[B, "nope"])
    assert associations(ram, "RESOURCE") == before
    assert associations(ram, "PRINCIPAL") == {}
    assert invitations(ram_b) == []

    fails("ResourceShareInvitationArnNotFoundException", ram_b.accept_resource_share_invitation, resourceShareInvitationArn=MISSING_INVITATION)
    fails("ResourceShareInvitationArnNotFoundException", ram_b.reject_resource_share_invitation, resourceShareInvitationArn=MISSING_INVITATION)
    fails("MalformedArnException", ram_b.accept_resource_share_invitation, resourceShareInvitationArn="nope")
    fails("ResourceShareInvitationArnNotFoundException", ram_b.get_resource_share_invitations, resourceShareInvitationArns=[MISSING_INVITATION])
    # Another account's invitation is not found.
    ram.associate_resource_share(resourceShareArn=arn, principals=[B])
    [inv] = invitations(ram_b)
    fails("ResourceShareInvitationArnNotFoundException", ram.accept_resource_share_invitation, resourceShareInvitationArn=inv["resourceShareInvitationArn"])
    assert invitations(ram_b)[0]["status"] == "PENDING"

    fails("InvalidParameterException", ram.get_resource_shares, resourceOwner="NOBODY")
    fails("InvalidResourceTypeException", ram.list_resources, resourceOwner="SELF", resourceType="ec2:Nope")
    fails("InvalidResourceTypeException", ram.list_principals, resourceOwner="SELF", resourceType="ec2:Nope")
    fails("InvalidParameterException", ram.get_resource_share_associations, associationType="PRINCIPAL", resourceArn=pool_arn)
    fails("InvalidParameterException", ram.get_resource_share_associations, associationType="RESOURCE", principal=B)
    fails("MalformedArnException", ram.get_resource_shares, resourceOwner="SELF", resourceShareArns=["nope"])


def test_wire_edges(ram, endpoint):
    # A member Reservoir does not implement, and an operation it does not serve: 501.
    with pytest.raises(ClientError) as e:
        ram.create_resource_share(name="p", permissionArns=["arn:aws:ram::aws:permission/AWSRAMDefaultPermissionIpamPool"])
    assert (error_code(e.value), http_status(e.value)) == ("NotImplemented", 501)
    with pytest.raises(ClientError) as e:
        ram.update_resource_share(resourceShareArn=MISSING_SHARE, name="n")
    assert http_status(e.value) == 501
    assert own_shares(ram) == []
    # A required member missing (botocore checks it first, so send the request by hand).
    headers = {
        "Authorization": auth_header(service="ram", key=OWNER),
        "X-Amz-Date": "20261122T000000Z",
        "Content-Type": "application/json",
    }
    r = requests.post(f"{endpoint}/createresourceshare", json={}, headers=headers, timeout=HTTP_TIMEOUT)
    assert r.status_code == 400
    assert r.json()["__type"] == "MissingRequiredParameterException"
    r = requests.post(f"{endpoint}/getresourceshares", json={}, headers=headers, timeout=HTTP_TIMEOUT)
    assert (r.status_code, r.json()["__type"]) == (400, "MissingRequiredParameterException")
    r = requests.post(f"{endpoint}/createresourceshare", json={"name": "x"}, timeout=HTTP_TIMEOUT)
    assert r.status_code == 403
    # Timestamps are epoch seconds.
    r = requests.post(f"{endpoint}/createresourceshare", json={"name": "x"}, headers=headers, timeout=HTTP_TIMEOUT)
    assert isinstance(r.json()["resourceShare"]["creationTime"], (int, float))
    assert make_client(endpoint, "ram", key=OWNER, region="us-west-2").get_resource_shares(resourceOwner="SELF")[
        "resourceShares"
    ] == [], "shares are regional"
