"""DescribeImages over the image catalogue: the lookups real code does, every filter,
ids, owners, pagination, DryRun, a configured catalogue, and the AWS CLI."""

import re
import subprocess

import pytest
from botocore.exceptions import ClientError

from conftest import OTHER_ACCOUNT, error_code, find_binary, http_status
from test_cli import aws  # noqa: F401 (the AWS CLI fixture)

AMI_ID = re.compile(r"^ami-0[0-9a-f]{16}$")
SNAP_ID = re.compile(r"^snap-0[0-9a-f]{16}$")
CANONICAL = "099720109477"
LISTED = 11  # the built-in catalogue (12 images) less its one deprecated image


def images(ec2, **kw):
    return ec2.describe_images(**kw)["Images"]


def by_name(ec2, pattern, **kw):
    return images(ec2, Filters=[{"Name": "name", "Values": [pattern]}], **kw)


def most_recent(found):
    return max(found, key=lambda i: i["CreationDate"])


def test_the_catalogue_has_every_platform(ec2):
    found = images(ec2)
    assert len(found) == LISTED
    assert len({i["ImageId"] for i in found}) == LISTED
    details = {i["PlatformDetails"] for i in found}
    assert details == {"Linux/UNIX", "Windows", "Red Hat Enterprise Linux", "SUSE Linux"}
    usage = {i["PlatformDetails"]: i["UsageOperation"] for i in found}
    assert usage == {
        "Linux/UNIX": "RunInstances",
        "Windows": "RunInstances:0002",
        "Red Hat Enterprise Linux": "RunInstances:0010",
        "SUSE Linux": "RunInstances:000g",
    }
    for i in found:
        assert AMI_ID.match(i["ImageId"]), i
        assert i["State"] == "available" and i["Public"] is True
        assert i["ImageType"] == "machine" and i["RootDeviceType"] == "ebs"
        assert i["VirtualizationType"] == "hvm" and i["Hypervisor"] == "xen"
        assert i["EnaSupport"] is True and i["SriovNetSupport"] == "simple"
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", i["CreationDate"])
        (bdm,) = i["BlockDeviceMappings"]
        assert bdm["DeviceName"] == i["RootDeviceName"]
        assert SNAP_ID.match(bdm["Ebs"]["SnapshotId"])
        assert bdm["Ebs"]["DeleteOnTermination"] is True and bdm["Ebs"]["Encrypted"] is False
        assert ("Platform" in i) == (i["PlatformDetails"] == "Windows")


def test_amazon_linux_2023_as_terraform_finds_it(ec2):
    """`data "aws_ami"` with owners = ["amazon"], most_recent = true and a name filter."""
    found = images(
        ec2,
        Owners=["amazon"],
        Filters=[
            {"Name": "name", "Values": ["al2023-ami-2023.*-x86_64"]},
            {"Name": "virtualization-type", "Values": ["hvm"]},
            {"Name": "root-device-type", "Values": ["ebs"]},
        ],
    )
    assert len(found) == 1, "the deprecated older release is left out"
    ami = most_recent(found)
    assert ami["Name"] == "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64"
    assert ami["OwnerId"] == "137112412989" and ami["ImageOwnerAlias"] == "amazon"
    assert ami["Architecture"] == "x86_64"
    assert ami["Description"] == "Amazon Linux 2023 AMI 2023.6.20241212.0 x86_64 HVM kernel-6.1"
    assert ami["ImageLocation"] == "amazon/" + ami["Name"]
    assert ami["RootDeviceName"] == "/dev/xvda"
    assert ami["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"] == 8
    assert ami["BlockDeviceMappings"][0]["Ebs"]["VolumeType"] == "gp3"
    assert ami["BootMode"] == "uefi-preferred"
    assert ami["PlatformDetails"] == "Linux/UNIX" and "Platform" not in ami

    both = images(ec2, Owners=["amazon"], IncludeDeprecated=True,
                  Filters=[{"Name": "name", "Values": ["al2023-ami-2023.*-x86_64"]}])
    assert len(both) == 2
    assert most_recent(both)["ImageId"] == ami["ImageId"]
    old = [i for i in both if i["ImageId"] != ami["ImageId"]][0]
    assert old["DeprecationTime"] < "2026"

    arm = by_name(ec2, "al2023-ami-2023.*-arm64", Owners=["amazon"])
    assert [i["Architecture"] for i in arm] == ["arm64"]


def test_ubuntu_by_canonical_owner(ec2):
    found = by_name(ec2, "ubuntu/images/hvm-ssd*/ubuntu-noble-24.04-amd64-server-*", Owners=[CANONICAL])
    assert len(found) == 1
    assert found[0]["OwnerId"] == CANONICAL and "ImageOwnerAlias" not in found[0]
    assert found[0]["Description"] == "Canonical, Ubuntu, 24.04, amd64 noble image"
    assert found[0]["RootDeviceName"] == "/dev/sda1"
    assert len(images(ec2, Owners=[CANONICAL])) == 3
    jammy = by_name(ec2, "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*", Owners=[CANONICAL])
    assert len(jammy) == 1


def test_windows_by_platform(ec2):
    found = images(ec2, Owners=["amazon"], Filters=[{"Name": "platform", "Values": ["windows"]}])
    assert sorted(i["Name"] for i in found) == [
        "Windows_Server-2019-English-Full-Base-2024.12.13",
        "Windows_Server-2022-English-Full-Base-2024.12.13",
    ]
    for i in found:
        assert i["Platform"] == "windows"
        assert i["PlatformDetails"] == "Windows" and i["UsageOperation"] == "RunInstances:0002"
        assert i["BlockDeviceMappings"][0]["Ebs"]["VolumeSize"] == 30
    ws2022 = by_name(ec2, "Windows_Server-2022-English-Full-Base-*", Owners=["amazon"])
    assert len(ws2022) == 1


@pytest.mark.parametrize(
    "owner,name,details",
    [
        ("309956199498", "RHEL-9*", "Red Hat Enterprise Linux"),
        ("013907871322", "suse-sles-15-*", "SUSE Linux"),
        ("136693071363", "debian-12-amd64-*", "Linux/UNIX"),
    ],
)
def test_vendor_images(ec2, owner, name, details):
    (found,) = by_name(ec2, name, Owners=[owner])
    assert found["OwnerId"] == owner
    assert found["PlatformDetails"] == details


def test_ids_are_stable_across_servers_and_differ_across_regions(ec2, own_server, client_factory):
    ids = {i["Name"]: i["ImageId"] for i in images(ec2)}
    other = own_server("--ephemeral", "--listen", "127.0.0.1:0").client("ec2")
    assert {i["Name"]: i["ImageId"] for i in images(other)} == ids
    eu = {i["Name"]: i["ImageId"] for i in images(client_factory("ec2", region="eu-west-1"))}
    assert eu.keys() == ids.keys()
    assert not set(eu.values()) & set(ids.values())


def test_image_ids(ec2, client_factory):
    every = images(ec2, IncludeDeprecated=True)
    deprecated = [i for i in every if "DeprecationTime" in i]
    assert len(deprecated) == 1
    two = [every[0]["ImageId"], deprecated[0]["ImageId"]]
    assert sorted(i["ImageId"] for i in images(ec2, ImageIds=two)) == sorted(two), \
        "an image named by id is answered even when deprecated"

    with pytest.raises(ClientError) as e:
        ec2.describe_images(ImageIds=[two[0], "ami-0123456789abcdef0"])
    assert error_code(e.value) == "InvalidAMIID.NotFound"
    assert http_status(e.value) == 400
    assert "ami-0123456789abcdef0" in str(e.value)

    with pytest.raises(ClientError) as e:
        ec2.describe_images(ImageIds=["ami-12345678"])
    assert error_code(e.value) == "InvalidAMIID.NotFound"

    for bad in ["ami-xyz", "ami-123", "img-0123456789abcdef0", "ami-0123456789ABCDEF0"]:
        with pytest.raises(ClientError) as e:
            ec2.describe_images(ImageIds=[bad])
        assert error_code(e.value) == "InvalidAMIID.Malformed", bad
        assert http_status(e.value) == 400

    # Another region's image is not found here.
    eu_id = images(client_factory("ec2", region="eu-west-1"))[0]["ImageId"]
    with pytest.raises(ClientError) as e:
        ec2.describe_images(ImageIds=[eu_id])
    assert error_code(e.value) == "InvalidAMIID.NotFound"


def test_owners_and_executable_users(ec2):
    assert images(ec2, Owners=["self"]) == []
    assert images(ec2, Owners=["aws-marketplace"]) == []
    assert images(ec2, Owners=["aws-backup-vault"]) == []
    assert len(images(ec2, Owners=["amazon"])) == 6
    assert len(images(ec2, Owners=["amazon", CANONICAL])) == 9
    assert len(images(ec2, Owners=["801119661308"])) == 2
    assert len(images(ec2, ExecutableUsers=["all"])) == LISTED
    assert images(ec2, ExecutableUsers=["self"]) == []
    assert images(ec2, ExecutableUsers=[OTHER_ACCOUNT]) == []
    assert len(images(ec2, IncludeDisabled=True)) == LISTED
    for kw in [{"Owners": ["canonical"]}, {"ExecutableUsers": ["everyone"]}]:
        with pytest.raises(ClientError) as e:
            ec2.describe_images(**kw)
        assert error_code(e.value) == "InvalidUserID.Malformed", kw


FILTERS = [
    ("architecture", ["arm64"], 2),
    ("architecture", ["x86_64"], 9),
    ("block-device-mapping.delete-on-termination", ["true"], LISTED),
    ("block-device-mapping.device-name", ["/dev/sda1"], 7),
    ("block-device-mapping.volume-size", ["10"], 2),
    ("block-device-mapping.volume-type", ["gp2"], 4),
    ("block-device-mapping.encrypted", ["false"], LISTED),
    ("block-device-mapping.encrypted", ["true"], 0),
    ("creation-date", ["2024-12-13T*"], 2),
    ("description", ["Canonical*"], 3),
    ("ena-support", ["true"], LISTED),
    ("free-tier-eligible", ["true"], LISTED),
    ("hypervisor", ["xen"], LISTED),
    ("hypervisor", ["ovm"], 0),
    ("image-allowed", ["true"], LISTED),
    ("image-type", ["machine"], LISTED),
    ("is-public", ["true"], LISTED),
    ("is-public", ["false"], 0),
    ("kernel-id", ["*"], 0),
    ("manifest-location", ["amazon/*"], 6),
    ("name", ["RHEL-9*", "debian-*"], 2),
    ("owner-alias", ["amazon"], 6),
    ("owner-id", ["136693071363"], 1),
    ("platform", ["windows"], 2),
    ("product-code", ["*"], 0),
    ("product-code.type", ["marketplace"], 0),
    ("ramdisk-id", ["*"], 0),
    ("root-device-name", ["/dev/xvda"], 4),
    ("root-device-type", ["ebs"], LISTED),
    ("source-image-id", ["*"], 0),
    ("source-image-region", ["*"], 0),
    ("source-instance-id", ["*"], 0),
    ("state", ["available"], LISTED),
    ("state-reason-code", ["*"], 0),
    ("state-reason-message", ["*"], 0),
    ("sriov-net-support", ["simple"], LISTED),
    ("virtualization-type", ["hvm"], LISTED),
    ("virtualization-type", ["paravirtual"], 0),
    ("tag:Name", ["*"], 0),
    ("tag-key", ["*"], 0),
    ("tag-value", ["*"], 0),
]


@pytest.mark.parametrize("name,values,count", FILTERS, ids=[f"{f[0]}={f[1][0]}" for f in FILTERS])
def test_filter(ec2, name, values, count):
    assert len(images(ec2, Filters=[{"Name": name, "Values": values}])) == count


def test_id_and_snapshot_filters(ec2):
    first = images(ec2)[0]
    snap = first["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    for name, value in [("image-id", first["ImageId"]), ("block-device-mapping.snapshot-id", snap)]:
        assert [i["ImageId"] for i in images(ec2, Filters=[{"Name": name, "Values": [value]}])] == [first["ImageId"]]


def test_unknown_filter_is_refused(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_images(Filters=[{"Name": "flavour", "Values": ["x"]}])
    assert error_code(e.value) == "InvalidParameterValue"


def test_pagination(ec2):
    every = [i["ImageId"] for i in images(ec2)]
    seen, token, pages = [], None, 0
    while True:
        kw = {"MaxResults": 5, **({"NextToken": token} if token else {})}
        page = ec2.describe_images(**kw)
        assert len(page["Images"]) <= 5
        seen += [i["ImageId"] for i in page["Images"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert seen == every and pages == 3
    paged = [i["ImageId"] for p in ec2.get_paginator("describe_images").paginate(PaginationConfig={"PageSize": 5})
             for i in p["Images"]]
    assert paged == every
    for bad in [4, 1001]:
        with pytest.raises(ClientError) as e:
            ec2.describe_images(MaxResults=bad)
        assert error_code(e.value) == "InvalidParameterValue", bad
    token = ec2.describe_images(MaxResults=5)["NextToken"]
    with pytest.raises(ClientError) as e:
        ec2.describe_images(MaxResults=5, NextToken=token, Owners=["amazon"])
    assert error_code(e.value) == "InvalidNextToken"


def test_dry_run(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_images(DryRun=True)
    assert error_code(e.value) == "DryRunOperation"
    assert http_status(e.value) == 412
    with pytest.raises(ClientError) as e:
        ec2.describe_images(DryRun=True, ImageIds=["ami-xyz"])
    assert error_code(e.value) == "InvalidAMIID.Malformed"


CONFIG = """
listen = "127.0.0.1:0"
ephemeral = true
images-mode = "strict"

[[images]]
id = "ami-0123456789abcdef0"
name = "team-base-linux-2024.1"
description = "Our base image"
architecture = "arm64"

[[images]]
id = "ami-12345678"
name = "team-windows"
platform = "Windows"
regions = ["eu-west-1"]

[[images]]
id = "ami-0aaaaaaaaaaaaaaaa"
name = "private-rhel"
platform = "Red Hat Enterprise Linux"
owner = "000000000000"
public = false
creation-date = "2024-06-01T10:00:00Z"
"""


def test_a_config_file_replaces_the_catalogue(own_server, tmp_path):
    cfg = tmp_path / "reservoir.toml"
    cfg.write_text(CONFIG)
    s = own_server("--config", str(cfg), cwd=tmp_path)
    ec2 = s.client("ec2")
    found = {i["ImageId"]: i for i in images(ec2)}
    assert sorted(found) == ["ami-0123456789abcdef0", "ami-0aaaaaaaaaaaaaaaa"]
    base = found["ami-0123456789abcdef0"]
    assert base["Name"] == "team-base-linux-2024.1" and base["Description"] == "Our base image"
    assert base["Architecture"] == "arm64" and base["ImageOwnerAlias"] == "amazon"
    assert base["PlatformDetails"] == "Linux/UNIX" and base["OwnerId"] == "137112412989"
    private = found["ami-0aaaaaaaaaaaaaaaa"]
    assert private["Public"] is False and private["OwnerId"] == "000000000000"
    assert private["PlatformDetails"] == "Red Hat Enterprise Linux"
    assert private["UsageOperation"] == "RunInstances:0010"
    assert private["CreationDate"] == "2024-06-01T10:00:00.000Z"
    assert [i["ImageId"] for i in images(ec2, Owners=["self"])] == ["ami-0aaaaaaaaaaaaaaaa"]

    # The Windows image is offered in eu-west-1 only, with the id it was given.
    eu = s.client("ec2", region="eu-west-1")
    (win,) = images(eu, Filters=[{"Name": "platform", "Values": ["windows"]}])
    assert win["ImageId"] == "ami-12345678" and win["PlatformDetails"] == "Windows"
    with pytest.raises(ClientError) as e:
        ec2.describe_images(ImageIds=["ami-12345678"])
    assert error_code(e.value) == "InvalidAMIID.NotFound"

    # A private image is its owner's only.
    other = s.client("ec2", key=OTHER_ACCOUNT)
    assert [i["ImageId"] for i in images(other)] == ["ami-0123456789abcdef0"]
    with pytest.raises(ClientError) as e:
        other.describe_images(ImageIds=["ami-0aaaaaaaaaaaaaaaa"])
    assert error_code(e.value) == "InvalidAMIID.NotFound"


@pytest.mark.parametrize(
    "entry,message",
    [
        ('id = "ami-123"\nname = "x"', "ami-123"),
        ('id = "ami-12345678"\nname = "x"\nplatform = "Linux"', "unknown platform 'Linux'"),
        ('id = "ami-12345678"\nname = "x"\narchitecture = "amd64"', "amd64"),
        ('id = "ami-12345678"\nname = "x"\nregions = ["xx-nowhere-1"]', "xx-nowhere-1"),
        ('id = "ami-12345678"\nname = "x"\nowner = "canonical"', "canonical"),
        ('id = "ami-12345678"\nname = "x"\nflavour = "x"', "flavour"),
    ],
)
def test_a_bad_image_entry_stops_the_server(tmp_path, entry, message):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(f'listen = "127.0.0.1:0"\nephemeral = true\n[[images]]\n{entry}\n')
    r = subprocess.run([str(find_binary()), "serve", "--config", str(cfg)], capture_output=True, text=True,
                       timeout=20, cwd=tmp_path)
    assert r.returncode != 0
    assert message in r.stderr, r.stderr
    assert "listening on" not in r.stdout


def test_the_images_setting(own_server, tmp_path):
    r = subprocess.run([str(find_binary()), "serve", "--help"], capture_output=True, text=True, timeout=20)
    assert "--images" in r.stdout and "RESERVOIR_IMAGES" in r.stdout
    r = subprocess.run([str(find_binary()), "serve", "--ephemeral", "--listen", "127.0.0.1:0", "--images", "loose"],
                       capture_output=True, text=True, timeout=20, cwd=tmp_path)
    assert r.returncode != 0 and "loose" in r.stderr
    s = own_server("--ephemeral", "--listen", "127.0.0.1:0", "--images", "strict")
    assert len(images(s.client("ec2"))) == LISTED


def test_aws_cli(aws):  # noqa: F811
    out = aws("ec2", "describe-images", "--owners", "amazon",
              "--filters", "Name=name,Values=al2023-ami-2023.*-x86_64",
              "--query", "sort_by(Images, &CreationDate)[-1].[ImageId,Name]")
    assert AMI_ID.match(out[0])
    assert out[1] == "al2023-ami-2023.6.20241212.0-kernel-6.1-x86_64"
