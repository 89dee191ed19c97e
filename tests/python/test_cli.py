"""AWS CLI (v1, from requirements.txt) smoke test against the session server."""

import json
import os
import subprocess
import sys

import pytest

from conftest import ACCESS_KEY, SECRET_KEY


@pytest.fixture
def aws(endpoint, tmp_path):
    config = tmp_path / "config"
    creds = tmp_path / "credentials"
    config.write_text("")
    creds.write_text("")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_") and not k.startswith("RESERVOIR_")
    }
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(creds),
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
    )

    def run(*args, check=True):
        proc = subprocess.run(
            [sys.executable, "-m", "awscli", *args, "--endpoint-url", endpoint, "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check:
            assert proc.returncode == 0, proc.stderr
            return json.loads(proc.stdout) if proc.stdout.strip() else None
        return proc

    return run


def test_ec2_smoke(aws):
    regions = aws("ec2", "describe-regions")["Regions"]
    assert "us-east-1" in [r["RegionName"] for r in regions]

    vpc = aws(
        "ec2",
        "create-vpc",
        "--cidr-block",
        "10.1.0.0/16",
        "--tag-specifications",
        "ResourceType=vpc,Tags=[{Key=Name,Value=cli}]",
    )["Vpc"]
    assert vpc["CidrBlock"] == "10.1.0.0/16"
    assert vpc["Tags"] == [{"Key": "Name", "Value": "cli"}]
    vpc_id = vpc["VpcId"]

    found = aws("ec2", "describe-vpcs", "--filters", "Name=tag:Name,Values=cli")["Vpcs"]
    assert [v["VpcId"] for v in found] == [vpc_id]
    assert found[0]["State"] == "available"

    aws("ec2", "delete-vpc", "--vpc-id", vpc_id)
    assert aws("ec2", "describe-vpcs", "--filters", "Name=tag:Name,Values=cli")["Vpcs"] == []

    proc = aws("ec2", "delete-vpc", "--vpc-id", "vpc-0123456789abcdef0", check=False)
    assert proc.returncode != 0
    assert "InvalidVpcID.NotFound" in proc.stderr


def test_cli_pagination(aws):
    # The CLI pages through DescribeVpcs itself; --page-size forces several pages.
    for i in range(6):
        aws("ec2", "create-vpc", "--cidr-block", f"10.{i}.0.0/16")
    vpcs = aws("ec2", "describe-vpcs", "--page-size", "5")["Vpcs"]
    ids = [v["VpcId"] for v in vpcs]
    assert len(ids) == 7 == len(set(ids))


def test_cognito_smoke(aws):
    pool = aws(
        "cognito-identity",
        "create-identity-pool",
        "--identity-pool-name",
        "cli_pool",
        "--allow-unauthenticated-identities",
    )
    assert pool["IdentityPoolName"] == "cli_pool"
    assert pool["AllowUnauthenticatedIdentities"] is True
    pool_id = pool["IdentityPoolId"]
    assert pool_id.startswith("us-east-1:")

    listed = aws("cognito-identity", "list-identity-pools", "--max-results", "10")["IdentityPools"]
    assert [p["IdentityPoolId"] for p in listed] == [pool_id]

    usage = aws("cognito-sync", "describe-identity-pool-usage", "--identity-pool-id", pool_id)
    assert usage["IdentityPoolUsage"]["IdentityPoolId"] == pool_id
    assert usage["IdentityPoolUsage"]["DataStorage"] == 0

    proc = aws(
        "cognito-identity",
        "describe-identity-pool",
        "--identity-pool-id",
        "us-east-1:00000000-0000-4000-8000-000000000000",
        check=False,
    )
    assert proc.returncode != 0
    assert "ResourceNotFoundException" in proc.stderr
