"""CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPair.

Fingerprints are checked against what OpenSSL, ssh-keygen and hashlib compute on this
machine, the way the EC2 User Guide says to verify them.
"""

import base64
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

import pytest
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, SECRET_KEY, error_code, http_status

KEY_ID = re.compile(r"^key-[0-9a-f]{17}$")
MISSING_ID = "key-0123456789abcdef0"


def client_error(fn, *args, **kwargs):
    with pytest.raises(ClientError) as e:
        fn(*args, **kwargs)
    return e.value


def run(*args, data=None):
    """Runs OpenSSL or ssh-keygen, the independent judges of the keys; a machine without
    them skips the tests that need them."""
    if shutil.which(args[0]) is None:
        pytest.skip(f"{args[0]} is not installed")
    return subprocess.run(args, input=data, capture_output=True, check=True).stdout


def hex_colons(digest):
    return ":".join(f"{b:02x}" for b in digest)


def ssh_keygen(tmp_path, kind, name="k"):
    """A key made by ssh-keygen (RSA in PEM, which OpenSSL reads): (private path, public line)."""
    path = tmp_path / name
    extra = ["-b", "2048", "-m", "PEM"] if kind == "rsa" else []
    run("ssh-keygen", "-q", "-t", kind, *extra, "-f", str(path), "-N", "", "-C", "test@example")
    return path, (tmp_path / f"{name}.pub").read_text()


def blob_of(public_line):
    return base64.b64decode(public_line.split()[1])


def ed25519_fingerprint(public_line):
    return base64.b64encode(hashlib.sha256(blob_of(public_line)).digest()).decode()


def describe_one(ec2, **kwargs):
    pairs = ec2.describe_key_pairs(**kwargs)["KeyPairs"]
    assert len(pairs) == 1, pairs
    return pairs[0]


def test_create_rsa_answers_a_pkcs1_pem_key_with_the_sha1_fingerprint_of_its_pkcs8_der(ec2, tmp_path):
    kp = ec2.create_key_pair(KeyName="rsa-key")
    assert KEY_ID.match(kp["KeyPairId"]), kp["KeyPairId"]
    assert kp["KeyName"] == "rsa-key"
    material = kp["KeyMaterial"]
    assert material.startswith("-----BEGIN RSA PRIVATE KEY-----\n")
    assert material.rstrip().endswith("-----END RSA PRIVATE KEY-----")
    path = tmp_path / "rsa.pem"
    path.write_text(material + "\n")
    pkcs8 = run("openssl", "pkcs8", "-in", str(path), "-inform", "PEM", "-outform", "DER", "-topk8", "-nocrypt")
    assert kp["KeyFingerprint"] == hex_colons(hashlib.sha1(pkcs8).digest())
    assert "2048 bit" in run("openssl", "rsa", "-in", str(path), "-noout", "-text").decode()

    info = describe_one(ec2, KeyNames=["rsa-key"], IncludePublicKey=True)
    assert info["KeyType"] == "rsa"
    assert info["KeyFingerprint"] == kp["KeyFingerprint"]
    path.chmod(0o600)
    derived = run("ssh-keygen", "-y", "-f", str(path)).decode()
    assert blob_of(info["PublicKey"]) == blob_of(derived), "the stored public key is the private key's"


def test_create_ed25519_answers_an_openssh_private_key(ec2, tmp_path):
    kp = ec2.create_key_pair(KeyName="ed-key", KeyType="ed25519", KeyFormat="pem")
    material = kp["KeyMaterial"]
    assert material.startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    path = tmp_path / "ed"
    path.write_text(material)
    path.chmod(0o600)
    derived = run("ssh-keygen", "-y", "-f", str(path)).decode()
    assert derived.startswith("ssh-ed25519 ")
    assert kp["KeyFingerprint"] == ed25519_fingerprint(derived)
    listed = run("ssh-keygen", "-l", "-f", str(path)).decode()
    assert "SHA256:" + kp["KeyFingerprint"].rstrip("=") in listed

    info = describe_one(ec2, KeyPairIds=[kp["KeyPairId"]], IncludePublicKey=True)
    assert info["KeyType"] == "ed25519"
    assert blob_of(info["PublicKey"]) == blob_of(derived)


def test_import_rsa_key_made_by_ssh_keygen_has_the_md5_of_its_public_der(ec2, tmp_path):
    private, public = ssh_keygen(tmp_path, "rsa")
    der = run("openssl", "rsa", "-in", str(private), "-pubout", "-outform", "DER")
    expected = hex_colons(hashlib.md5(der).digest())
    out = ec2.import_key_pair(KeyName="imported", PublicKeyMaterial=public.encode())
    assert out["KeyFingerprint"] == expected
    assert KEY_ID.match(out["KeyPairId"])
    info = describe_one(ec2, KeyNames=["imported"], IncludePublicKey=True)
    assert (info["KeyType"], info["KeyFingerprint"]) == ("rsa", expected)
    assert blob_of(info["PublicKey"]) == blob_of(public)

    # The same key as a PEM SubjectPublicKeyInfo: the same fingerprint.
    pem = run("openssl", "rsa", "-in", str(private), "-pubout")
    again = ec2.import_key_pair(KeyName="imported-pem", PublicKeyMaterial=pem)
    assert again["KeyFingerprint"] == expected


def test_import_ed25519_key_made_by_ssh_keygen(ec2, tmp_path):
    _, public = ssh_keygen(tmp_path, "ed25519")
    out = ec2.import_key_pair(KeyName="imported-ed", PublicKeyMaterial=public.encode())
    assert out["KeyFingerprint"] == ed25519_fingerprint(public)
    assert describe_one(ec2, KeyNames=["imported-ed"])["KeyType"] == "ed25519"


@pytest.mark.parametrize(
    "material",
    [b"not a key", b"ssh-rsa AAAA", b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA==", b""],
    ids=["text", "truncated-rsa", "short-ed25519", "empty"],
)
def test_import_malformed_key_is_invalid_key_format(ec2, material):
    e = client_error(ec2.import_key_pair, KeyName="bad", PublicKeyMaterial=material)
    assert error_code(e) == "InvalidKey.Format"
    assert ec2.describe_key_pairs()["KeyPairs"] == []


def test_import_rsa_key_of_512_bits_is_refused(ec2, tmp_path):
    path = tmp_path / "small.pem"
    run("openssl", "genrsa", "-out", str(path), "512")
    der = run("openssl", "rsa", "-in", str(path), "-pubout", "-outform", "DER")
    e = client_error(ec2.import_key_pair, KeyName="small", PublicKeyMaterial=der)
    assert error_code(e) == "InvalidKey.Format"


def test_duplicate_names_are_refused(ec2, tmp_path):
    ec2.create_key_pair(KeyName="dup", KeyType="ed25519")
    e = client_error(ec2.create_key_pair, KeyName="dup", KeyType="ed25519")
    assert error_code(e) == "InvalidKeyPair.Duplicate"
    _, public = ssh_keygen(tmp_path, "ed25519")
    e = client_error(ec2.import_key_pair, KeyName="dup", PublicKeyMaterial=public.encode())
    assert error_code(e) == "InvalidKeyPair.Duplicate"
    assert len(ec2.describe_key_pairs()["KeyPairs"]) == 1
    # Names are case-sensitive.
    ec2.create_key_pair(KeyName="DUP", KeyType="ed25519")


def test_names_are_1_to_255_ascii_characters(ec2):
    ec2.create_key_pair(KeyName="k" * 255, KeyType="ed25519")
    for bad in ["k" * 256, "clé"]:
        e = client_error(ec2.create_key_pair, KeyName=bad, KeyType="ed25519")
        assert error_code(e) == "InvalidParameterValue", bad


def test_unknown_names_and_ids_are_not_found(ec2):
    ec2.create_key_pair(KeyName="present", KeyType="ed25519")
    e = client_error(ec2.describe_key_pairs, KeyNames=["present", "absent"])
    assert error_code(e) == "InvalidKeyPair.NotFound"
    assert "absent" in str(e)
    e = client_error(ec2.describe_key_pairs, KeyPairIds=[MISSING_ID])
    assert error_code(e) == "InvalidKeyPair.NotFound"
    assert http_status(e) == 400


def test_names_and_ids_together_select_the_pairs_named_by_both(ec2):
    a = ec2.create_key_pair(KeyName="a", KeyType="ed25519")
    ec2.create_key_pair(KeyName="b", KeyType="ed25519")
    got = ec2.describe_key_pairs(KeyNames=["a", "b"], KeyPairIds=[a["KeyPairId"]])["KeyPairs"]
    assert [k["KeyName"] for k in got] == ["a"]


@pytest.fixture
def three_pairs(ec2):
    rsa = ec2.create_key_pair(
        KeyName="web-rsa",
        TagSpecifications=[{"ResourceType": "key-pair", "Tags": [{"Key": "team", "Value": "web"}]}],
    )
    ed = ec2.create_key_pair(
        KeyName="web-ed",
        KeyType="ed25519",
        TagSpecifications=[{"ResourceType": "key-pair", "Tags": [{"Key": "env", "Value": "prod"}]}],
    )
    other = ec2.create_key_pair(KeyName="db-ed", KeyType="ed25519")
    return rsa, ed, other


def names(ec2, filters):
    return sorted(k["KeyName"] for k in ec2.describe_key_pairs(Filters=filters)["KeyPairs"])


def test_filter_key_pair_id(ec2, three_pairs):
    rsa, _, _ = three_pairs
    assert names(ec2, [{"Name": "key-pair-id", "Values": [rsa["KeyPairId"]]}]) == ["web-rsa"]


def test_filter_key_name(ec2, three_pairs):
    assert names(ec2, [{"Name": "key-name", "Values": ["web-*"]}]) == ["web-ed", "web-rsa"]


def test_filter_fingerprint(ec2, three_pairs):
    _, ed, _ = three_pairs
    assert names(ec2, [{"Name": "fingerprint", "Values": [ed["KeyFingerprint"]]}]) == ["web-ed"]


def test_filter_key_type(ec2, three_pairs):
    assert names(ec2, [{"Name": "key-type", "Values": ["ed25519"]}]) == ["db-ed", "web-ed"]


def test_filter_tag(ec2, three_pairs):
    assert names(ec2, [{"Name": "tag:team", "Values": ["web"]}]) == ["web-rsa"]


def test_filter_tag_key(ec2, three_pairs):
    assert names(ec2, [{"Name": "tag-key", "Values": ["env"]}]) == ["web-ed"]


def test_filter_tag_value(ec2, three_pairs):
    assert names(ec2, [{"Name": "tag-value", "Values": ["prod", "web"]}]) == ["web-ed", "web-rsa"]


def test_unknown_filter_is_refused(ec2):
    e = client_error(ec2.describe_key_pairs, Filters=[{"Name": "owner-id", "Values": ["x"]}])
    assert error_code(e) == "InvalidParameterValue"


def test_public_key_only_when_asked(ec2):
    ec2.create_key_pair(KeyName="k", KeyType="ed25519")
    assert "PublicKey" not in describe_one(ec2)
    public = describe_one(ec2, IncludePublicKey=True)["PublicKey"]
    assert public.startswith("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5")


def test_create_time_is_the_server_clock(ec2):
    before = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    ec2.create_key_pair(KeyName="k", KeyType="ed25519")
    created = describe_one(ec2)["CreateTime"]
    assert before <= created <= datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)


def test_tags_from_tag_specifications_and_create_tags(ec2, tmp_path):
    kp = ec2.create_key_pair(
        KeyName="tagged",
        KeyType="ed25519",
        TagSpecifications=[{"ResourceType": "key-pair", "Tags": [{"Key": "a", "Value": "1"}]}],
    )
    assert kp["Tags"] == [{"Key": "a", "Value": "1"}]
    ec2.create_tags(Resources=[kp["KeyPairId"]], Tags=[{"Key": "b", "Value": "2"}])
    tags = {t["Key"]: t["Value"] for t in describe_one(ec2, KeyNames=["tagged"])["Tags"]}
    assert tags == {"a": "1", "b": "2"}
    rows = ec2.describe_tags(Filters=[{"Name": "resource-type", "Values": ["key-pair"]}])["Tags"]
    assert {(r["ResourceId"], r["Key"]) for r in rows} == {(kp["KeyPairId"], "a"), (kp["KeyPairId"], "b")}

    _, public = ssh_keygen(tmp_path, "ed25519")
    out = ec2.import_key_pair(
        KeyName="imported",
        PublicKeyMaterial=public.encode(),
        TagSpecifications=[{"ResourceType": "key-pair", "Tags": [{"Key": "c", "Value": "3"}]}],
    )
    assert out["Tags"] == [{"Key": "c", "Value": "3"}]

    e = client_error(
        ec2.create_key_pair,
        KeyName="wrong-type",
        TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "a", "Value": "1"}]}],
    )
    assert error_code(e) == "InvalidParameterValue"


def test_dry_run_changes_nothing(ec2, tmp_path):
    e = client_error(ec2.create_key_pair, KeyName="dry", KeyType="ed25519", DryRun=True)
    assert (error_code(e), http_status(e)) == ("DryRunOperation", 412)
    _, public = ssh_keygen(tmp_path, "ed25519")
    e = client_error(ec2.import_key_pair, KeyName="dry", PublicKeyMaterial=public.encode(), DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert ec2.describe_key_pairs()["KeyPairs"] == []

    ec2.create_key_pair(KeyName="dry", KeyType="ed25519")
    e = client_error(ec2.describe_key_pairs, DryRun=True)
    assert error_code(e) == "DryRunOperation"
    e = client_error(ec2.delete_key_pair, KeyName="dry", DryRun=True)
    assert error_code(e) == "DryRunOperation"
    assert len(ec2.describe_key_pairs()["KeyPairs"]) == 1
    # A dry run fails as the real call would.
    e = client_error(ec2.create_key_pair, KeyName="dry", KeyType="ed25519", DryRun=True)
    assert error_code(e) == "InvalidKeyPair.Duplicate"


def test_delete_by_name_and_by_id(ec2):
    a = ec2.create_key_pair(KeyName="a", KeyType="ed25519")
    b = ec2.create_key_pair(KeyName="b", KeyType="ed25519")
    out = ec2.delete_key_pair(KeyName="a")
    assert (out["Return"], out["KeyPairId"]) == (True, a["KeyPairId"])
    out = ec2.delete_key_pair(KeyPairId=b["KeyPairId"])
    assert (out["Return"], out["KeyPairId"]) == (True, b["KeyPairId"])
    assert ec2.describe_key_pairs()["KeyPairs"] == []
    # The name is free again.
    ec2.create_key_pair(KeyName="a", KeyType="ed25519")


def test_delete_of_an_unknown_key_pair_succeeds(ec2):
    out = ec2.delete_key_pair(KeyName="never-made")
    assert out["Return"] is True and "KeyPairId" not in out
    out = ec2.delete_key_pair(KeyPairId=MISSING_ID)
    assert out["Return"] is True and "KeyPairId" not in out


def test_ppk_and_unknown_values(ec2):
    e = client_error(ec2.create_key_pair, KeyName="k", KeyFormat="ppk")
    assert (error_code(e), http_status(e)) == ("NotImplemented", 501)
    e = client_error(ec2.create_key_pair, KeyName="k", KeyType="dsa")
    assert error_code(e) == "InvalidParameterValue"
    assert ec2.describe_key_pairs()["KeyPairs"] == []


def test_key_pairs_are_per_account(ec2, ec2_other):
    ec2.create_key_pair(KeyName="mine", KeyType="ed25519")
    assert ec2_other.describe_key_pairs()["KeyPairs"] == []
    ec2_other.create_key_pair(KeyName="mine", KeyType="ed25519")


def test_aws_cli(endpoint, tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and not k.startswith("RESERVOIR_")}
    (tmp_path / "config").write_text("")
    (tmp_path / "credentials").write_text("")
    env.update(
        AWS_ACCESS_KEY_ID=ACCESS_KEY,
        AWS_SECRET_ACCESS_KEY=SECRET_KEY,
        AWS_DEFAULT_REGION="us-east-1",
        AWS_CONFIG_FILE=str(tmp_path / "config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "credentials"),
        AWS_PAGER="",
        AWS_MAX_ATTEMPTS="1",
    )

    def aws(*args):
        proc = subprocess.run(
            [sys.executable, "-m", "awscli", "ec2", *args, "--endpoint-url", endpoint, "--output", "json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    _, public = ssh_keygen(tmp_path, "ed25519")
    out = aws("import-key-pair", "--key-name", "cli", "--public-key-material", f"fileb://{tmp_path / 'k.pub'}")
    assert out["KeyFingerprint"] == ed25519_fingerprint(public)
    listed = aws("describe-key-pairs", "--key-names", "cli")["KeyPairs"]
    assert [k["KeyPairId"] for k in listed] == [out["KeyPairId"]]
    assert aws("delete-key-pair", "--key-name", "cli")["Return"] is True
