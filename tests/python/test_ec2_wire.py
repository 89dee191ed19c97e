"""The EC2 query protocol on the wire: envelopes, request ids, decoding and its errors."""

import xml.etree.ElementTree as ET

import requests

import pytest
from botocore.exceptions import ClientError

from conftest import (
    EC2_NS,
    EC2_VERSION,
    auth_header,
    ec2_error,
    error_code,
    http_status,
    raw_ec2,
)

V = f"Version={EC2_VERSION}"


def assert_ec2_error(resp, status, code):
    assert resp.status_code == status, (resp.status_code, resp.text)
    got_code, message, request_id = ec2_error(resp)
    assert got_code == code, resp.text
    assert resp.headers.get("x-amzn-RequestId") == request_id
    return message


def test_success_envelope_and_request_id(endpoint):
    resp = raw_ec2(endpoint, f"Action=DescribeRegions&{V}")
    assert resp.status_code == 200, resp.text
    root = ET.fromstring(resp.content)
    assert root.tag == f"{{{EC2_NS}}}DescribeRegionsResponse"
    request_id = root.findtext(f"{{{EC2_NS}}}requestId")
    assert request_id
    assert resp.headers["x-amzn-RequestId"] == request_id
    names = [e.text for e in root.iter(f"{{{EC2_NS}}}regionName")]
    assert "us-east-1" in names


def test_request_ids_are_unique(endpoint):
    ids = {raw_ec2(endpoint, f"Action=DescribeVpcs&{V}").headers["x-amzn-RequestId"] for _ in range(5)}
    assert len(ids) == 5


def test_create_vpc_envelope(endpoint):
    resp = raw_ec2(endpoint, f"Action=CreateVpc&{V}&CidrBlock=10.0.0.0%2F16")
    assert resp.status_code == 200, resp.text
    root = ET.fromstring(resp.content)
    assert root.tag == f"{{{EC2_NS}}}CreateVpcResponse"
    vpc = root.find(f"{{{EC2_NS}}}vpc")
    assert vpc is not None
    assert vpc.findtext(f"{{{EC2_NS}}}cidrBlock") == "10.0.0.0/16"
    assert root.findtext(f"{{{EC2_NS}}}requestId") == resp.headers["x-amzn-RequestId"]


def test_delete_vpc_returns_true(endpoint, ec2):
    vpc_id = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    resp = raw_ec2(endpoint, f"Action=DeleteVpc&{V}&VpcId={vpc_id}")
    assert resp.status_code == 200, resp.text
    root = ET.fromstring(resp.content)
    assert root.tag == f"{{{EC2_NS}}}DeleteVpcResponse"
    assert root.findtext(f"{{{EC2_NS}}}return") == "true"


def test_missing_action(endpoint):
    assert_ec2_error(raw_ec2(endpoint, f"{V}&Foo=bar"), 400, "MissingAction")


def test_invalid_action(endpoint):
    assert_ec2_error(raw_ec2(endpoint, f"Action=Nope&{V}"), 400, "InvalidAction")


@pytest.mark.parametrize("action", ["DescribeSnapshots", "DescribeVolumes", "DescribeNatGateways"])
def test_real_but_unserved_operation_is_not_implemented(endpoint, action):
    assert_ec2_error(raw_ec2(endpoint, f"Action={action}&{V}"), 501, "NotImplemented")


def test_unserved_operation_via_boto3(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_snapshots()
    assert error_code(e.value) == "NotImplemented"
    assert http_status(e.value) == 501


@pytest.mark.parametrize(
    "extra",
    ["Foo=1", "Filter.1.Nme=x", "VpcIds.1=vpc-0123456789abcdef0"],
)
def test_unknown_parameter(endpoint, extra):
    assert_ec2_error(raw_ec2(endpoint, f"Action=DescribeVpcs&{V}&{extra}"), 400, "UnknownParameter")


@pytest.mark.parametrize("extra", ["DryRun=yes", "MaxResults=ten", "MaxResults=1001", "MaxResults=4"])
def test_bad_scalar_values(endpoint, extra):
    assert_ec2_error(
        raw_ec2(endpoint, f"Action=DescribeVpcs&{V}&{extra}"), 400, "InvalidParameterValue"
    )


def test_max_results_in_range_accepted(endpoint):
    for n in (5, 1000):
        resp = raw_ec2(endpoint, f"Action=DescribeVpcs&{V}&MaxResults={n}")
        assert resp.status_code == 200, resp.text


def test_max_results_over_range_via_boto3(ec2):
    with pytest.raises(ClientError) as e:
        ec2.describe_vpcs(MaxResults=1001)
    assert error_code(e.value) == "InvalidParameterValue"
    assert http_status(e.value) == 400


def test_unknown_version(endpoint):
    assert_ec2_error(
        raw_ec2(endpoint, "Action=DescribeVpcs&Version=2012-01-01"), 400, "NoSuchVersion"
    )


@pytest.mark.parametrize("encoded", ["a+b", "a%20b"])
def test_plus_and_percent20_decode_to_space(endpoint, ec2, encoded):
    body = (
        f"Action=CreateVpc&{V}&CidrBlock=10.0.0.0%2F16"
        "&TagSpecification.1.ResourceType=vpc"
        "&TagSpecification.1.Tag.1.Key=Name"
        f"&TagSpecification.1.Tag.1.Value={encoded}"
    )
    resp = raw_ec2(endpoint, body)
    assert resp.status_code == 200, resp.text
    vpc_id = ET.fromstring(resp.content).find(f".//{{{EC2_NS}}}vpcId").text
    vpc = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert vpc["Tags"] == [{"Key": "Name", "Value": "a b"}]


def test_percent_encoded_reserved_characters(endpoint, ec2):
    body = (
        f"Action=CreateVpc&{V}&CidrBlock=10.0.0.0%2F16"
        "&TagSpecification.1.ResourceType=vpc"
        "&TagSpecification.1.Tag.1.Key=k%26%3D"
        "&TagSpecification.1.Tag.1.Value=%2B%25%C3%A9"
    )
    resp = raw_ec2(endpoint, body)
    assert resp.status_code == 200, resp.text
    vpc_id = ET.fromstring(resp.content).find(f".//{{{EC2_NS}}}vpcId").text
    vpc = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert vpc["Tags"] == [{"Key": "k&=", "Value": "+%\u00e9"}]


def test_empty_list_as_bare_member_is_an_empty_list(endpoint):
    # aws-sdk-rust sends an empty list as `Filter.1.Value=`; a filter without values
    # is what EC2 then refuses.
    resp = raw_ec2(endpoint, f"Action=DescribeVpcs&{V}&Filter.1.Name=vpc-id&Filter.1.Value=")
    assert_ec2_error(resp, 400, "InvalidParameterValue")


def test_empty_vpc_id_list_is_accepted(endpoint):
    resp = raw_ec2(endpoint, f"Action=DescribeVpcs&{V}&VpcId=")
    assert resp.status_code == 200, resp.text
    root = ET.fromstring(resp.content)
    assert len(root.findall(f".//{{{EC2_NS}}}vpcSet/{{{EC2_NS}}}item")) == 1


def test_bad_percent_escape(endpoint):
    assert_ec2_error(
        raw_ec2(endpoint, f"Action=DescribeVpcs&{V}&Filter.1.Name=%zz"), 400, "MalformedQueryString"
    )


def test_unsigned_request_is_refused(endpoint):
    resp = raw_ec2(endpoint, f"Action=DescribeVpcs&{V}", signed=False)
    assert_ec2_error(resp, 401, "MissingAuthenticationToken")


def test_request_signed_for_another_service(endpoint):
    resp = raw_ec2(endpoint, f"Action=DescribeVpcs&{V}", service="s3")
    message = assert_ec2_error(resp, 400, "UnsupportedService")
    assert "'s3'" in message, message


def test_unknown_region_in_credential_scope(endpoint):
    resp = raw_ec2(endpoint, f"Action=DescribeVpcs&{V}", region="xx-fake-1")
    assert_ec2_error(resp, 401, "AuthFailure")


def test_unknown_region_via_boto3(client_factory):
    ec2 = client_factory("ec2", region="xx-fake-1")
    with pytest.raises(ClientError) as e:
        ec2.describe_vpcs()
    assert error_code(e.value) == "AuthFailure"
    assert http_status(e.value) == 401


def test_malformed_authorization_header(endpoint):
    resp = raw_ec2(
        endpoint,
        f"Action=DescribeVpcs&{V}",
        headers={"Authorization": "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/bad"},
    )
    assert 400 <= resp.status_code < 500, resp.text
    ec2_error(resp)


def test_errors_are_never_200(endpoint):
    for body in ("", "Action=Nope", f"Action=DescribeVpcs&{V}&Bogus=1", f"Action=DeleteVpc&{V}"):
        resp = raw_ec2(endpoint, body)
        assert 400 <= resp.status_code < 600, (body, resp.status_code)
        ec2_error(resp)


def test_missing_required_parameter(endpoint):
    assert_ec2_error(raw_ec2(endpoint, f"Action=DeleteVpc&{V}"), 400, "MissingParameter")


def test_query_string_parameters(endpoint):
    # EC2 also takes its parameters in the query string of a GET.
    resp = requests.get(
        endpoint + f"/?Action=DescribeRegions&{V}&RegionName.1=us-east-1",
        headers={"Authorization": auth_header(), "X-Amz-Date": "20261122T000000Z"},
        timeout=20,
    )
    assert resp.status_code == 200, resp.text
    root = ET.fromstring(resp.content)
    assert [e.text for e in root.iter(f"{{{EC2_NS}}}regionName")] == ["us-east-1"]


def test_body_larger_than_limit(own_server):
    s = own_server("--ephemeral", "--listen", "127.0.0.1:0", "--max-body-bytes", "1000")
    ok = raw_ec2(s.url, f"Action=DescribeVpcs&{V}")
    assert ok.status_code == 200, ok.text
    big = f"Action=DescribeVpcs&{V}&Filter.1.Name=tag%3AName&Filter.1.Value.1=" + "a" * 2000
    resp = raw_ec2(s.url, big)
    assert resp.headers["Content-Type"].startswith("text/xml"), resp.headers
    message = assert_ec2_error(resp, 413, "RequestEntityTooLarge")
    assert "1000" in message, message
    # A body just under the limit is still served.
    fits = f"Action=DescribeVpcs&{V}&Filter.1.Name=tag%3AName&Filter.1.Value.1="
    fits += "a" * (1000 - len(fits))
    assert len(fits) == 1000
    assert raw_ec2(s.url, fits).status_code == 200
    # Even a request that would be refused for other reasons gets the size error first.
    unsigned = raw_ec2(s.url, big, signed=False)
    assert_ec2_error(unsigned, 413, "RequestEntityTooLarge")
    # The server is still fine afterwards.
    assert raw_ec2(s.url, f"Action=DescribeVpcs&{V}").status_code == 200
