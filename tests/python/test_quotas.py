"""Service quotas are opt-in: none by default; `--vpc-quota`, `--identity-pool-quota`
and `--aws-quotas` (every quota at AWS's default, overridable one by one)."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from conftest import OTHER_ACCOUNT, delete_default_vpc, error_code, http_status

LISTEN = ("--ephemeral", "--listen", "127.0.0.1:0")


def client_error(fn, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    return e.value


def vpc_count(ec2):
    return len(ec2.describe_vpcs()["Vpcs"])


def create_vpcs(ec2, n, start=0):
    return [ec2.create_vpc(CidrBlock=f"10.{start + i}.0.0/16")["Vpc"]["VpcId"] for i in range(n)]


def create_pool(cognito, name="pool"):
    return cognito.create_identity_pool(
        IdentityPoolName=name, AllowUnauthenticatedIdentities=True
    )["IdentityPoolId"]


def pool_count(cognito):
    return len(cognito.list_identity_pools(MaxResults=60)["IdentityPools"])


def assert_vpc_limit(ec2, cidr="10.200.0.0/16"):
    e = client_error(ec2.create_vpc, CidrBlock=cidr)
    assert error_code(e) == "VpcLimitExceeded", e.response
    assert http_status(e) == 400


def assert_pool_limit(cognito, name="one_too_many"):
    e = client_error(create_pool, cognito, name)
    assert error_code(e) == "LimitExceededException", e.response
    assert http_status(e) == 400


# --- no quota unless asked for ----------------------------------------------------------


def test_no_quota_by_default(own_server):
    s = own_server(*LISTEN)
    ec2 = s.client("ec2")
    create_vpcs(ec2, 12)
    assert vpc_count(ec2) == 13
    cognito = s.client("cognito-identity")
    for i in range(12):
        create_pool(cognito, f"p{i}")
    assert pool_count(cognito) == 12


# --- VPCs --------------------------------------------------------------------------------


def test_aws_quotas_allow_five_vpcs_per_account_and_region(own_server):
    s = own_server(*LISTEN, "--aws-quotas")
    ec2 = s.client("ec2")
    # The default VPC counts: four more fit, the fifth created one does not.
    create_vpcs(ec2, 4)
    assert_vpc_limit(ec2)
    assert vpc_count(ec2) == 5
    # The quota is per account and per region: both still have room.
    create_vpcs(s.client("ec2", key=OTHER_ACCOUNT), 1)
    create_vpcs(s.client("ec2", region="eu-west-1"), 1)
    assert vpc_count(ec2) == 5
    # Deleting one makes room again, for exactly one.
    victim = [v for v in ec2.describe_vpcs()["Vpcs"] if not v["IsDefault"]][0]
    ec2.delete_vpc(VpcId=victim["VpcId"])
    create_vpcs(ec2, 1, start=50)
    assert_vpc_limit(ec2)


def test_vpc_quota_flag(own_server):
    s = own_server(*LISTEN, "--vpc-quota", "3")
    ec2 = s.client("ec2")
    create_vpcs(ec2, 2)
    assert_vpc_limit(ec2)
    assert vpc_count(ec2) == 3
    # Only the VPC quota is on: identity pools are not limited.
    cognito = s.client("cognito-identity")
    for i in range(6):
        create_pool(cognito, f"p{i}")


def test_deleted_default_vpc_frees_its_place_in_the_quota(own_server):
    s = own_server(*LISTEN, "--vpc-quota", "3")
    ec2 = s.client("ec2")
    default = ec2.describe_vpcs()["Vpcs"][0]
    assert default["IsDefault"] is True
    delete_default_vpc(ec2)
    create_vpcs(ec2, 3)
    assert_vpc_limit(ec2)
    assert [v["IsDefault"] for v in ec2.describe_vpcs()["Vpcs"]] == [False] * 3


@pytest.mark.parametrize("quota", [3, 5])
def test_quota_holds_under_concurrent_creates(own_server, quota):
    s = own_server(*LISTEN, "--vpc-quota", str(quota))
    ec2 = s.client("ec2")
    ec2.describe_vpcs()  # the default VPC exists before the race

    def attempt(i):
        try:
            ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")
            return "ok"
        except ClientError as e:
            return error_code(e)

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(attempt, range(12)))
    assert outcomes.count("ok") == quota - 1, outcomes
    assert outcomes.count("VpcLimitExceeded") == 12 - (quota - 1), outcomes
    assert vpc_count(ec2) == quota


def test_concurrent_first_use_and_creates_respect_the_quota(own_server):
    # No request has made the default VPC yet: it is made by whichever create comes
    # first, and still counts.
    s = own_server(*LISTEN, "--vpc-quota", "5")
    ec2 = s.client("ec2")

    def attempt(i):
        try:
            ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")
            return "ok"
        except ClientError as e:
            return error_code(e)

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(attempt, range(12)))
    assert outcomes.count("ok") == 4, outcomes
    vpcs = ec2.describe_vpcs()["Vpcs"]
    assert len(vpcs) == 5
    assert sum(v["IsDefault"] for v in vpcs) == 1


# --- identity pools ------------------------------------------------------------------------


def test_identity_pool_quota(own_server):
    s = own_server(*LISTEN, "--identity-pool-quota", "2")
    cognito = s.client("cognito-identity")
    first = create_pool(cognito, "one")
    create_pool(cognito, "two")
    assert_pool_limit(cognito)
    assert pool_count(cognito) == 2
    # Per account and per region.
    create_pool(s.client("cognito-identity", key=OTHER_ACCOUNT))
    create_pool(s.client("cognito-identity", region="eu-west-1"))
    assert pool_count(cognito) == 2
    # Deleting one makes room again.
    cognito.delete_identity_pool(IdentityPoolId=first)
    create_pool(cognito, "three")
    assert_pool_limit(cognito)
    # Only the identity pool quota is on: VPCs are not limited.
    ec2 = s.client("ec2")
    create_vpcs(ec2, 8)
    assert vpc_count(ec2) == 9


def test_identity_pool_quota_holds_under_concurrent_creates(own_server):
    s = own_server(*LISTEN, "--identity-pool-quota", "3")
    cognito = s.client("cognito-identity")

    def attempt(i):
        try:
            create_pool(cognito, f"p{i}")
            return "ok"
        except ClientError as e:
            return error_code(e)

    with ThreadPoolExecutor(12) as pool:
        outcomes = list(pool.map(attempt, range(12)))
    assert outcomes.count("ok") == 3, outcomes
    assert outcomes.count("LimitExceededException") == 9, outcomes
    assert pool_count(cognito) == 3


def test_aws_quotas_allow_a_thousand_identity_pools(own_server):
    s = own_server(*LISTEN, "--aws-quotas")
    cognito = s.client("cognito-identity")

    def make(i):
        return create_pool(cognito, f"p{i}")

    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(make, range(1000)))
    assert len(set(ids)) == 1000
    assert_pool_limit(cognito)
    # Another region of the same account still has room.
    create_pool(s.client("cognito-identity", region="eu-west-1"))


def test_individual_quota_overrides_aws_defaults(own_server):
    s = own_server(*LISTEN, "--aws-quotas", "--vpc-quota", "7", "--identity-pool-quota", "2")
    ec2 = s.client("ec2")
    create_vpcs(ec2, 6)
    assert_vpc_limit(ec2)
    assert vpc_count(ec2) == 7
    cognito = s.client("cognito-identity")
    create_pool(cognito, "one")
    create_pool(cognito, "two")
    assert_pool_limit(cognito)


def test_aws_quotas_apply_to_quotas_not_given(own_server):
    # An individual quota replaces only its own default: the others stay at AWS's.
    s = own_server(*LISTEN, "--aws-quotas", "--identity-pool-quota", "2")
    ec2 = s.client("ec2")
    create_vpcs(ec2, 4)
    assert_vpc_limit(ec2)
    cognito = s.client("cognito-identity")
    create_pool(cognito, "one")
    create_pool(cognito, "two")
    assert_pool_limit(cognito)
