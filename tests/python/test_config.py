"""Settings: --help, environment variables, the TOML config file and precedence."""

import json
import socket
import subprocess

import pytest
import requests

from conftest import find_binary, raw_ec2, wait_until

FLAGS = {
    "--listen": "RESERVOIR_LISTEN",
    "--data": "RESERVOIR_DATA",
    "--ephemeral": "RESERVOIR_EPHEMERAL",
    "--config": "RESERVOIR_CONFIG",
    "--log-format": "RESERVOIR_LOG_FORMAT",
    "--log-level": "RESERVOIR_LOG",
    "--default-region": "RESERVOIR_DEFAULT_REGION",
    "--vpc-quota": "RESERVOIR_VPC_QUOTA",
    "--identity-pool-quota": "RESERVOIR_IDENTITY_POOL_QUOTA",
    "--aws-quotas": "RESERVOIR_AWS_QUOTAS",
    "--opt-in-region": "RESERVOIR_OPT_IN_REGIONS",
    "--max-body-bytes": "RESERVOIR_MAX_BODY_BYTES",
    "--images": "RESERVOIR_IMAGES",
}


def run_binary(*args, cwd=None, timeout=20):
    return subprocess.run(
        [str(find_binary()), *args], capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(url):
    return requests.get(f"{url}/_reservoir/health", timeout=20).json()


def unsigned_request_region(s):
    """The region the server's JSON request log gives an unsigned EC2 request (the
    region of a request that names none is the default region)."""
    r = raw_ec2(s.url, "Action=DescribeRegions&Version=2016-11-15", signed=False)
    assert r.status_code == 401, r.text

    def find():
        for line in s.stderr().splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            event = {**event, **(event.get("fields") or {})}
            if event.get("operation") == "DescribeRegions" and int(event.get("status", 0)) == 401:
                return event
        return None

    assert wait_until(lambda: find() is not None, timeout=10), s.stderr()
    return find()["region"]


def fill_quota(ec2):
    """Creates VPCs until the quota stops it; returns how many exist then (default VPC
    included)."""
    from botocore.exceptions import ClientError

    for i in range(50):
        try:
            ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")
        except ClientError as e:
            assert e.response["Error"]["Code"] == "VpcLimitExceeded"
            return len(ec2.describe_vpcs()["Vpcs"])
    raise AssertionError("no quota")


def fill_pool_quota(cognito, limit=50):
    """Creates identity pools until the quota stops it; returns how many exist then."""
    from botocore.exceptions import ClientError

    for i in range(limit):
        try:
            cognito.create_identity_pool(
                IdentityPoolName=f"p{i}", AllowUnauthenticatedIdentities=True
            )
        except ClientError as e:
            assert e.response["Error"]["Code"] == "LimitExceededException"
            return len(cognito.list_identity_pools(MaxResults=60)["IdentityPools"])
    raise AssertionError("no quota")


def test_help_mentions_every_flag_and_env_var():
    top = run_binary("--help")
    serve = run_binary("serve", "--help")
    assert top.returncode == 0, top.stderr
    assert serve.returncode == 0, serve.stderr
    assert "serve" in top.stdout
    text = top.stdout + serve.stdout
    for flag, env in FLAGS.items():
        assert flag in text, flag
        assert env in text, env


def test_version():
    r = run_binary("--version")
    assert r.returncode == 0
    assert r.stdout.strip()


def test_unknown_flag_fails():
    r = run_binary("serve", "--no-such-flag")
    assert r.returncode != 0
    assert "--no-such-flag" in r.stderr


def test_listen_from_environment(own_server):
    port = free_port()
    s = own_server("--ephemeral", env={"RESERVOIR_LISTEN": f"127.0.0.1:{port}"})
    assert s.url == f"http://127.0.0.1:{port}"
    assert health(s.url)["status"] == "ok"


def test_flag_beats_environment(own_server):
    port = free_port()
    s = own_server("--ephemeral", "--listen", "127.0.0.1:0", env={"RESERVOIR_LISTEN": f"127.0.0.1:{port}"})
    assert s.port != port


def test_environment_settings(own_server, tmp_path):
    db = tmp_path / "env.db"
    s = own_server(
        env={
            "RESERVOIR_LISTEN": "127.0.0.1:0",
            "RESERVOIR_DATA": str(db),
            "RESERVOIR_VPC_QUOTA": "3",
        }
    )
    assert health(s.url)["store"] == "sqlite"
    assert fill_quota(s.client("ec2")) == 3
    assert db.exists()


def test_ephemeral_from_environment(own_server, tmp_path):
    s = own_server("--listen", "127.0.0.1:0", env={"RESERVOIR_EPHEMERAL": "true"}, cwd=tmp_path)
    assert health(s.url)["store"] == "sqlite-memory"
    s.client("ec2").describe_vpcs()
    assert not (tmp_path / "reservoir-data").exists()


def test_config_file_is_honoured(own_server, tmp_path):
    port = free_port()
    cfg = tmp_path / "reservoir.toml"
    cfg.write_text(
        f'listen = "127.0.0.1:{port}"\n'
        "ephemeral = true\n"
        'default-region = "eu-west-1"\n'
        'log-format = "json"\n'
        "\n[quotas]\nvpcs-per-region = 7\n"
    )
    s = own_server("--config", str(cfg), cwd=tmp_path)
    assert s.url == f"http://127.0.0.1:{port}"
    assert health(s.url)["store"] == "sqlite-memory"
    assert not (tmp_path / "reservoir-data").exists()
    assert fill_quota(s.client("ec2")) == 7
    assert unsigned_request_region(s) == "eu-west-1"


def test_config_file_from_environment(own_server, tmp_path):
    cfg = tmp_path / "reservoir.toml"
    cfg.write_text('listen = "127.0.0.1:0"\nephemeral = true\n[quotas]\nvpcs-per-region = 2\n')
    s = own_server(env={"RESERVOIR_CONFIG": str(cfg)}, cwd=tmp_path)
    assert fill_quota(s.client("ec2")) == 2


def test_flags_beat_the_file(own_server, tmp_path):
    port = free_port()
    cfg = tmp_path / "reservoir.toml"
    cfg.write_text(
        f'listen = "127.0.0.1:{port}"\nephemeral = true\n[quotas]\nvpcs-per-region = 7\n'
    )
    s = own_server("--config", str(cfg), "--listen", "127.0.0.1:0", "--vpc-quota", "3", cwd=tmp_path)
    assert s.port != port
    assert fill_quota(s.client("ec2")) == 3


def test_environment_beats_the_file(own_server, tmp_path):
    cfg = tmp_path / "reservoir.toml"
    cfg.write_text('listen = "127.0.0.1:0"\nephemeral = true\n[quotas]\nvpcs-per-region = 7\n')
    s = own_server("--config", str(cfg), env={"RESERVOIR_VPC_QUOTA": "4"}, cwd=tmp_path)
    assert fill_quota(s.client("ec2")) == 4


def test_quotas_from_environment(own_server):
    s = own_server(
        "--ephemeral",
        "--listen",
        "127.0.0.1:0",
        env={"RESERVOIR_IDENTITY_POOL_QUOTA": "2", "RESERVOIR_VPC_QUOTA": "3"},
    )
    assert fill_pool_quota(s.client("cognito-identity")) == 2
    assert fill_quota(s.client("ec2")) == 3


def test_aws_quotas_from_environment(own_server):
    s = own_server("--ephemeral", "--listen", "127.0.0.1:0", env={"RESERVOIR_AWS_QUOTAS": "true"})
    assert fill_quota(s.client("ec2")) == 5


def test_quotas_from_the_file(own_server, tmp_path):
    cfg = tmp_path / "reservoir.toml"
    cfg.write_text(
        'listen = "127.0.0.1:0"\nephemeral = true\n'
        "[quotas]\naws-defaults = true\nidentity-pools-per-region = 3\n"
    )
    s = own_server("--config", str(cfg), cwd=tmp_path)
    # aws-defaults gives AWS's 5 VPCs; the pool quota given beside it wins over 1000.
    assert fill_quota(s.client("ec2")) == 5
    assert fill_pool_quota(s.client("cognito-identity")) == 3


def test_vpc_quota_in_the_file_overrides_aws_defaults(own_server, tmp_path):
    cfg = tmp_path / "reservoir.toml"
    cfg.write_text(
        'listen = "127.0.0.1:0"\nephemeral = true\n'
        "[quotas]\naws-defaults = true\nvpcs-per-region = 7\n"
    )
    s = own_server("--config", str(cfg), cwd=tmp_path)
    assert fill_quota(s.client("ec2")) == 7


def test_aws_quotas_flag_with_a_file_quota(own_server, tmp_path):
    cfg = tmp_path / "reservoir.toml"
    cfg.write_text('listen = "127.0.0.1:0"\nephemeral = true\n[quotas]\nvpcs-per-region = 2\n')
    s = own_server("--config", str(cfg), "--aws-quotas", cwd=tmp_path)
    assert fill_quota(s.client("ec2")) == 2


@pytest.mark.parametrize(
    "text,key",
    [
        ('lisen = "127.0.0.1:0"\nephemeral = true\n', "lisen"),
        ('listen = "127.0.0.1:0"\nephemeral = true\n[quotas]\nvpcs = 3\n', "vpcs"),
    ],
)
def test_unknown_key_in_file_is_an_error(tmp_path, text, key):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    r = run_binary("serve", "--config", str(cfg), cwd=tmp_path)
    assert r.returncode != 0
    assert key in r.stderr
    assert "listening on" not in r.stdout


def test_missing_config_file_is_an_error(tmp_path):
    r = run_binary("serve", "--config", str(tmp_path / "absent.toml"), cwd=tmp_path)
    assert r.returncode != 0
    assert "absent.toml" in r.stderr


def test_default_region_flag(own_server):
    s = own_server(
        "--ephemeral", "--listen", "127.0.0.1:0", "--default-region", "ap-southeast-2",
        "--log-format", "json",
    )
    assert unsigned_request_region(s) == "ap-southeast-2"


def test_default_region_defaults_to_us_east_1(own_server):
    s = own_server("--ephemeral", "--listen", "127.0.0.1:0", "--log-format", "json")
    assert unsigned_request_region(s) == "us-east-1"
