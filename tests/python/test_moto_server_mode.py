"""Written the way moto's TEST_SERVER_MODE suites are: plain boto3 clients pointed at
the server, and a reset POSTed to `/moto-api/reset` before each test (as moto's
decorators do). This module has its own server, so nothing but `/moto-api/reset` keeps
the tests apart; the tests run in file order and the later ones check that nothing
leaked from the earlier ones."""

import boto3
import pytest
import requests

from conftest import start_server


@pytest.fixture(scope="module")
def moto_url():
    s = start_server("--ephemeral", "--listen", "127.0.0.1:0", "--vpc-quota", "100")
    yield s.url
    code = s.stop()
    s.cleanup()
    assert code == 0


@pytest.fixture(autouse=True)
def moto_reset(moto_url):
    r = requests.post(f"{moto_url}/moto-api/reset", timeout=20)
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}
    yield


def client(url, service):
    return boto3.client(
        service,
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_1_create_state(moto_url):
    ec2 = client(moto_url, "ec2")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]
    ec2.create_tags(Resources=[vpc["VpcId"]], Tags=[{"Key": "Name", "Value": "moto"}])
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["moto"]}])["Vpcs"]
    assert [v["VpcId"] for v in vpcs] == [vpc["VpcId"]]
    assert vpcs[0]["Tags"] == [{"Key": "Name", "Value": "moto"}]
    assert len(ec2.describe_vpcs()["Vpcs"]) == 2

    cognito = client(moto_url, "cognito-identity")
    pool = cognito.create_identity_pool(
        IdentityPoolName="moto_pool", AllowUnauthenticatedIdentities=True
    )
    pools = cognito.list_identity_pools(MaxResults=10)["IdentityPools"]
    assert [p["IdentityPoolId"] for p in pools] == [pool["IdentityPoolId"]]


def test_2_state_does_not_leak(moto_url):
    ec2 = client(moto_url, "ec2")
    vpcs = ec2.describe_vpcs()["Vpcs"]
    assert len(vpcs) == 1
    assert vpcs[0]["IsDefault"] is True
    assert ec2.describe_tags()["Tags"] == []
    cognito = client(moto_url, "cognito-identity")
    assert cognito.list_identity_pools(MaxResults=10)["IdentityPools"] == []


def test_3_create_again(moto_url):
    ec2 = client(moto_url, "ec2")
    ec2.create_vpc(CidrBlock="10.1.0.0/16")
    ec2.create_vpc(CidrBlock="10.2.0.0/16")
    assert len(ec2.describe_vpcs()["Vpcs"]) == 3


def test_4_still_clean(moto_url):
    ec2 = client(moto_url, "ec2")
    assert len(ec2.describe_vpcs()["Vpcs"]) == 1
