"""--data: state survives a clean shutdown and restart, and a crash; signals end the
server cleanly."""

import signal

import requests

from conftest import OTHER_ACCOUNT, start_server, wait_until


def serve_data(path, *extra):
    return start_server("--listen", "127.0.0.1:0", "--data", str(path), *extra)


def test_state_survives_restart(tmp_path):
    db = tmp_path / "x.db"
    s = serve_data(db)
    try:
        assert requests.get(f"{s.url}/_reservoir/health", timeout=20).json()["store"] == "sqlite"
        ec2 = s.client("ec2")
        cognito = s.client("cognito-identity")
        default_before = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
        vpc = ec2.create_vpc(
            CidrBlock="10.0.0.0/16",
            TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "keep"}]}],
        )["Vpc"]["VpcId"]
        ec2.create_tags(Resources=[vpc], Tags=[{"Key": "env", "Value": "prod"}])
        deleted = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
        ec2.delete_vpc(VpcId=deleted)
        pool = cognito.create_identity_pool(
            IdentityPoolName="durable",
            AllowUnauthenticatedIdentities=False,
            SupportedLoginProviders={"graph.facebook.com": "123"},
            IdentityPoolTags={"team": "core"},
        )
        identity = cognito.get_id(
            IdentityPoolId=pool["IdentityPoolId"], Logins={"graph.facebook.com": "token-1"}
        )["IdentityId"]
        other_vpc = s.client("ec2", key=OTHER_ACCOUNT).create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
        assert s.stop() == 0
    finally:
        s.cleanup()
    assert db.exists()

    s = serve_data(db)
    try:
        ec2 = s.client("ec2")
        cognito = s.client("cognito-identity")
        vpcs = {v["VpcId"]: v for v in ec2.describe_vpcs()["Vpcs"]}
        assert set(vpcs) == {default_before, vpc}
        assert [v for v in vpcs.values() if v["IsDefault"]] == [vpcs[default_before]]
        assert vpcs[vpc]["State"] == "available"
        assert vpcs[vpc]["CidrBlock"] == "10.0.0.0/16"
        assert sorted(vpcs[vpc]["Tags"], key=lambda t: t["Key"]) == [
            {"Key": "Name", "Value": "keep"},
            {"Key": "env", "Value": "prod"},
        ]
        tags = ec2.describe_tags()["Tags"]
        assert {(t["ResourceId"], t["Key"], t["Value"]) for t in tags} == {
            (vpc, "Name", "keep"),
            (vpc, "env", "prod"),
        }
        d = cognito.describe_identity_pool(IdentityPoolId=pool["IdentityPoolId"])
        assert d["IdentityPoolName"] == "durable"
        assert d["SupportedLoginProviders"] == {"graph.facebook.com": "123"}
        assert d["IdentityPoolTags"] == {"team": "core"}
        again = cognito.get_id(
            IdentityPoolId=pool["IdentityPoolId"], Logins={"graph.facebook.com": "token-1"}
        )["IdentityId"]
        assert again == identity
        other = s.client("ec2", key=OTHER_ACCOUNT).describe_vpcs()["Vpcs"]
        assert sorted(v["IsDefault"] for v in other) == [False, True]
        assert other_vpc in [v["VpcId"] for v in other]
        # Still writable after the restart, and ids stay unique.
        new = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
        assert new not in (vpc, default_before, deleted)
        assert s.stop() == 0
    finally:
        s.cleanup()


def test_reset_is_durable(tmp_path):
    db = tmp_path / "x.db"
    s = serve_data(db)
    try:
        ec2 = s.client("ec2")
        ec2.create_vpc(CidrBlock="10.0.0.0/16")
        assert requests.post(f"{s.url}/_reservoir/reset", timeout=20).status_code == 200
        assert len(ec2.describe_vpcs()["Vpcs"]) == 1
        assert s.stop() == 0
    finally:
        s.cleanup()
    s = serve_data(db)
    try:
        vpcs = s.client("ec2").describe_vpcs()["Vpcs"]
        assert len(vpcs) == 1 and vpcs[0]["IsDefault"] is True
        assert s.stop() == 0
    finally:
        s.cleanup()


def test_default_vpc_created_lazily_is_not_duplicated_across_restarts(tmp_path):
    db = tmp_path / "nested" / "dir" / "x.db"  # the directory is created
    ids = []
    for _ in range(3):
        s = serve_data(db)
        try:
            vpcs = s.client("ec2").describe_vpcs()["Vpcs"]
            assert len(vpcs) == 1
            ids.append(vpcs[0]["VpcId"])
            assert s.stop() == 0
        finally:
            s.cleanup()
    assert len(set(ids)) == 1


def test_ephemeral_state_is_gone_after_restart():
    for _ in range(2):
        s = start_server("--listen", "127.0.0.1:0", "--ephemeral")
        try:
            ec2 = s.client("ec2")
            assert len(ec2.describe_vpcs()["Vpcs"]) == 1
            ec2.create_vpc(CidrBlock="10.0.0.0/16")
            assert s.stop() == 0
        finally:
            s.cleanup()


def test_sigint_exits_zero_and_keeps_state(tmp_path):
    db = tmp_path / "x.db"
    s = serve_data(db)
    try:
        vpc = s.client("ec2").create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
        assert s.signal(signal.SIGINT) == 0
    finally:
        s.cleanup()
    s = serve_data(db)
    try:
        assert vpc in [v["VpcId"] for v in s.client("ec2").describe_vpcs()["Vpcs"]]
        assert s.stop() == 0
    finally:
        s.cleanup()


def test_sigterm_exits_zero_when_idle():
    s = start_server("--listen", "127.0.0.1:0", "--ephemeral")
    try:
        assert s.stop() == 0
    finally:
        s.cleanup()


def test_sigterm_during_traffic_loses_no_acknowledged_write(tmp_path):
    import threading

    from botocore.exceptions import ClientError

    db = tmp_path / "x.db"
    s = serve_data(db, "--vpc-quota", "1000")
    acknowledged = []
    failed = []
    refused = []
    stop = threading.Event()

    def writer(n):
        c = s.client("ec2")
        i = 0
        while not stop.is_set() and i < 40:
            try:
                acknowledged.append(c.create_vpc(CidrBlock=f"10.{n}.{i}.0/24")["Vpc"]["VpcId"])
            except ClientError as e:
                if e.response["ResponseMetadata"]["HTTPStatusCode"] >= 500:
                    failed.append(n)  # e.g. unavailable while shutting down
                else:  # a client error answer is not expected here
                    refused.append(e.response["Error"])
                return
            except Exception:  # connection refused/reset once the server stops
                failed.append(n)
                return
            i += 1

    try:
        s.client("ec2").describe_vpcs()
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        # Let some writes land, then stop the server under load.
        assert wait_until(lambda: len(acknowledged) >= 8, timeout=15)
        assert s.stop() == 0
        stop.set()
        for t in threads:
            t.join(timeout=30)
    finally:
        stop.set()
        s.cleanup()

    assert refused == []
    s = serve_data(db, "--vpc-quota", "1000")
    try:
        stored = {v["VpcId"] for v in s.client("ec2").describe_vpcs()["Vpcs"] if not v["IsDefault"]}
        assert set(acknowledged) <= stored
        assert len(stored) <= len(acknowledged) + len(failed)
        assert s.stop() == 0
    finally:
        s.cleanup()


def test_sigkill_during_traffic_loses_no_acknowledged_write(tmp_path):
    """A crash, not a shutdown: SIGKILL while clients write. Every write that was answered
    200 is on disk when the server comes back on the same file."""
    import threading

    from botocore.exceptions import ClientError

    writers, per_writer = 4, 100  # far more than one default quota (5) of VPCs
    db = tmp_path / "x.db"
    s = serve_data(db, "--vpc-quota", "1000")
    acknowledged = {}  # VpcId -> CidrBlock, for every CreateVpc answered 200
    unanswered = []  # calls in flight when the server died (they may or may not have landed)
    refused = []
    finished = []
    lock = threading.Lock()

    def writer(n):
        c = s.client("ec2")
        for i in range(per_writer):
            cidr = f"10.{n}.{i}.0/24"
            try:
                vpc = c.create_vpc(CidrBlock=cidr)["Vpc"]
            except ClientError as e:
                with lock:
                    refused.append(e.response["Error"])
                return
            except Exception:  # the connection dies with the server
                with lock:
                    unanswered.append(cidr)
                return
            assert vpc["CidrBlock"] == cidr
            with lock:
                acknowledged[vpc["VpcId"]] = cidr
        with lock:
            finished.append(n)

    try:
        default = s.client("ec2").describe_vpcs()["Vpcs"]
        assert len(default) == 1 and default[0]["IsDefault"]
        threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
        for t in threads:
            t.start()
        assert wait_until(lambda: len(acknowledged) >= 100, timeout=60), len(acknowledged)
        assert s.signal(signal.SIGKILL) == -signal.SIGKILL
        for t in threads:
            t.join(timeout=30)
        assert not any(t.is_alive() for t in threads)
    finally:
        s.cleanup()

    assert refused == []
    assert len(finished) < writers, "the server died after the traffic, not during it"
    assert len(unanswered) == writers - len(finished)

    s = serve_data(db, "--vpc-quota", "1000")
    try:
        assert requests.get(f"{s.url}/_reservoir/health", timeout=20).status_code == 200
        ec2 = s.client("ec2")
        vpcs = ec2.describe_vpcs()["Vpcs"]
        defaults = [v["VpcId"] for v in vpcs if v["IsDefault"]]
        assert defaults == [default[0]["VpcId"]]
        stored = {v["VpcId"]: v["CidrBlock"] for v in vpcs if not v["IsDefault"]}
        missing = {vpc: cidr for vpc, cidr in acknowledged.items() if stored.get(vpc) != cidr}
        assert missing == {}, f"{len(missing)} of {len(acknowledged)} acknowledged VPCs lost"
        # Beyond those, at most the calls that were in flight.
        extra = set(stored) - set(acknowledged)
        assert len(extra) <= len(unanswered)
        assert {stored[v] for v in extra} <= set(unanswered)
        # Still writable, ids still unique.
        new = ec2.create_vpc(CidrBlock="10.200.0.0/16")["Vpc"]["VpcId"]
        assert new not in stored
        assert s.stop() == 0
    finally:
        s.cleanup()
