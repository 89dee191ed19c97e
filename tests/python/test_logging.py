"""Request logs: one line per request, JSON when asked, never any secret."""

import json
import re

import boto3
import requests
from botocore.config import Config

from conftest import ACCESS_KEY, OTHER_ACCOUNT, SECRET_KEY, raw_ec2, start_server


def fields(obj):
    """A JSON log event with nested `fields`/`span` objects flattened in."""
    out = dict(obj)
    for nested in ("fields", "span"):
        if isinstance(obj.get(nested), dict):
            out.update(obj[nested])
    return out


def run_traffic(s, client=None):
    """Requests of every kind the logs must describe; `client(service, **kw)` makes the
    boto3 clients (the server's own helper unless given)."""
    client = client or s.client
    ec2 = client("ec2")
    ec2.create_vpc(CidrBlock="10.0.0.0/16")
    ec2.create_vpc(CidrBlock="10.1.0.0/16")
    try:
        ec2.delete_vpc(VpcId="vpc-0123456789abcdef0")
    except ec2.exceptions.ClientError:
        pass
    client("ec2", key=OTHER_ACCOUNT, region="eu-west-1").describe_vpcs()
    client("cognito-identity").create_identity_pool(
        IdentityPoolName="logged", AllowUnauthenticatedIdentities=True
    )
    raw_ec2(s.url, "Action=DescribeVpcs&Version=2016-11-15")


def stop_and_read(s):
    try:
        assert s.stop() == 0
        return s.stderr()
    finally:
        s.cleanup()


def test_json_logs_one_object_per_request():
    s = start_server("--ephemeral", "--listen", "127.0.0.1:0", "--log-format", "json")
    run_traffic(s)
    stderr = stop_and_read(s)
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines
    events = []
    for line in lines:
        obj = json.loads(line)  # every line is one JSON object
        assert isinstance(obj, dict), line
        events.append(fields(obj))

    def requests_for(op):
        return [e for e in events if e.get("operation") == op]

    creates = requests_for("CreateVpc")
    assert len(creates) == 2, creates
    for e in creates:
        assert e["account"] == "000000000000"
        assert e["region"] == "us-east-1"
        assert int(e["status"]) == 200
        assert float(e["duration_ms"]) >= 0

    (delete,) = requests_for("DeleteVpc")
    assert int(delete["status"]) == 400

    describes = requests_for("DescribeVpcs")
    assert any(
        e["account"] == OTHER_ACCOUNT and e["region"] == "eu-west-1" and int(e["status"]) == 200
        for e in describes
    ), describes
    assert len(describes) == 2

    (pool,) = requests_for("CreateIdentityPool")
    assert int(pool["status"]) == 200
    assert pool["region"] == "us-east-1"


SESSION_TOKEN = "IQoJb3JpZ2luX2VjEXAMPLE//////////wEaCXVzLWVhc3QtMSJHMEUCIQDsessiontoken"


def recording_clients(url, sent):
    """A client factory like `ServerProcess.client`, with temporary credentials (so
    botocore sends `X-Amz-Security-Token`), recording the headers of every request
    botocore sends into `sent`."""

    def record(request, **_):
        sent.append(dict(request.headers))

    def make(service, region="us-east-1", key=ACCESS_KEY):
        c = boto3.client(
            service,
            endpoint_url=url,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key=SECRET_KEY,
            aws_session_token=SESSION_TOKEN,
            config=Config(retries={"max_attempts": 1}),
        )
        c.meta.events.register("before-send", record)
        return c

    return make


def text(value):
    return value.decode() if isinstance(value, bytes) else value


def test_logs_never_contain_secrets():
    for fmt in ("json", "text"):
        s = start_server("--ephemeral", "--listen", "127.0.0.1:0", "--log-format", fmt, "--log-level", "debug")
        sent = []
        run_traffic(s, client=recording_clients(s.url, sent))
        stderr = stop_and_read(s)
        assert "CreateVpc" in stderr

        # What clients really send: a signature in Authorization, a session token.
        assert len(sent) == 5, sent
        for headers in sent:
            authorization = text(headers["Authorization"])
            (signature,) = re.findall(r"Signature=([0-9a-f]{64})$", authorization)
            assert signature not in stderr
            assert authorization not in stderr
            assert text(headers["X-Amz-Security-Token"]) == SESSION_TOKEN
        assert SESSION_TOKEN not in stderr
        assert "Signature=" not in stderr
        assert "a1b2c3d4" * 8 not in stderr  # the raw request's signature


def test_text_logs_one_line_per_request():
    s = start_server("--ephemeral", "--listen", "127.0.0.1:0")
    ec2 = s.client("ec2")
    for i in range(3):
        ec2.create_vpc(CidrBlock=f"10.{i}.0.0/16")
    requests.get(f"{s.url}/_reservoir/health", timeout=20)
    stderr = stop_and_read(s)
    lines = [line for line in stderr.splitlines() if "CreateVpc" in line]
    assert len(lines) == 3, stderr
    for line in lines:
        assert "000000000000" in line
        assert "us-east-1" in line
        assert "200" in line
        # Not JSON in the default format.
        try:
            json.loads(line)
            is_json = True
        except ValueError:
            is_json = False
        assert not is_json, line


def test_log_format_from_environment():
    s = start_server("--ephemeral", "--listen", "127.0.0.1:0", env={"RESERVOIR_LOG_FORMAT": "json"})
    s.client("ec2").describe_vpcs()
    stderr = stop_and_read(s)
    events = [fields(json.loads(line)) for line in stderr.splitlines() if line.strip()]
    assert any(e.get("operation") == "DescribeVpcs" for e in events)


def test_account_of_a_twelve_digit_key_is_logged():
    s = start_server("--ephemeral", "--listen", "127.0.0.1:0", "--log-format", "json")
    s.client("ec2", key=OTHER_ACCOUNT).describe_vpcs()
    stderr = stop_and_read(s)
    events = [fields(json.loads(line)) for line in stderr.splitlines() if line.strip()]
    (e,) = [e for e in events if e.get("operation") == "DescribeVpcs"]
    assert e["account"] == OTHER_ACCOUNT
