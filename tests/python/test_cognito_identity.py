"""Cognito Identity (awsJson1.1): identity pools and GetId."""

import base64
import json
import re

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from conftest import OTHER_ACCOUNT, error_code, http_status

UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
POOL_ID = re.compile(rf"^us-east-1:{UUID}$")
IDENTITY_ID = re.compile(rf"^us-east-1:{UUID}$")
MISSING_POOL = "us-east-1:00000000-0000-4000-8000-000000000000"


def create_pool(cognito, name="pool", allow_unauth=True, **kw):
    return cognito.create_identity_pool(
        IdentityPoolName=name, AllowUnauthenticatedIdentities=allow_unauth, **kw
    )


def strip_meta(resp):
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


def jwt(claims):
    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'RS256', 'typ': 'JWT'})}.{b64(claims)}.c2lnbmF0dXJl"


# --- CreateIdentityPool / DescribeIdentityPool ---------------------------------------------


def test_create_echoes_configuration(cognito):
    spec = dict(
        IdentityPoolName="My pool",
        AllowUnauthenticatedIdentities=False,
        AllowClassicFlow=True,
        SupportedLoginProviders={"graph.facebook.com": "1234567890", "accounts.google.com": "abc"},
        DeveloperProviderName="login.example.dev",
        OpenIdConnectProviderARNs=["arn:aws:iam::000000000000:oidc-provider/example.com"],
        CognitoIdentityProviders=[
            {
                "ProviderName": "cognito-idp.us-east-1.amazonaws.com/us-east-1_abcdefghi",
                "ClientId": "1example23456789",
                "ServerSideTokenCheck": True,
            }
        ],
        SamlProviderARNs=["arn:aws:iam::000000000000:saml-provider/corp"],
        IdentityPoolTags={"team": "core", "env": "test"},
    )
    created = cognito.create_identity_pool(**spec)
    assert http_status(created) == 200
    pool_id = created["IdentityPoolId"]
    assert POOL_ID.match(pool_id), pool_id
    expected = dict(spec, IdentityPoolId=pool_id)
    assert strip_meta(created) == expected
    described = cognito.describe_identity_pool(IdentityPoolId=pool_id)
    assert strip_meta(described) == expected


def test_minimal_pool(cognito):
    created = create_pool(cognito, "minimal", allow_unauth=True)
    assert created["IdentityPoolName"] == "minimal"
    assert created["AllowUnauthenticatedIdentities"] is True
    assert POOL_ID.match(created["IdentityPoolId"])
    d = cognito.describe_identity_pool(IdentityPoolId=created["IdentityPoolId"])
    assert d["IdentityPoolName"] == "minimal"
    assert d["AllowUnauthenticatedIdentities"] is True
    assert d.get("SupportedLoginProviders", {}) == {}


def test_pool_ids_are_unique(cognito):
    ids = {create_pool(cognito, f"p{i}")["IdentityPoolId"] for i in range(5)}
    assert len(ids) == 5


def test_pool_id_uses_the_region(client_factory):
    eu = client_factory("cognito-identity", region="eu-west-1")
    pool_id = create_pool(eu)["IdentityPoolId"]
    assert re.match(rf"^eu-west-1:{UUID}$", pool_id), pool_id


def test_invalid_name(cognito):
    with pytest.raises(ClientError) as e:
        create_pool(cognito, "bad!")
    assert error_code(e.value) == "ValidationException"
    assert http_status(e.value) == 400
    assert e.value.response["Error"]["Message"] == (
        "1 validation error detected: Value 'bad!' at 'identityPoolName' failed to satisfy "
        "constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+"
    )
    assert cognito.list_identity_pools(MaxResults=60)["IdentityPools"] == []


def test_name_too_long(cognito):
    with pytest.raises(ClientError) as e:
        create_pool(cognito, "a" * 129)
    assert error_code(e.value) == "ValidationException"
    assert http_status(e.value) == 400
    assert "identityPoolName" in e.value.response["Error"]["Message"]
    assert create_pool(cognito, "a" * 128)["IdentityPoolName"] == "a" * 128


def test_name_with_allowed_punctuation(cognito):
    name = "Team pool_1 +=,.@-"
    assert create_pool(cognito, name)["IdentityPoolName"] == name


def test_describe_unknown_pool(cognito):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException) as e:
        cognito.describe_identity_pool(IdentityPoolId=MISSING_POOL)
    assert http_status(e.value) == 400
    assert e.value.response["Error"]["Message"] == f"IdentityPool '{MISSING_POOL}' not found."


def test_describe_malformed_pool_id(cognito):
    with pytest.raises(ClientError) as e:
        cognito.describe_identity_pool(IdentityPoolId="nope")
    assert error_code(e.value) == "ValidationException"
    assert http_status(e.value) == 400


def test_error_wire_shape(cognito):
    with pytest.raises(ClientError) as e:
        cognito.describe_identity_pool(IdentityPoolId=MISSING_POOL)
    assert error_code(e.value) == "ResourceNotFoundException"
    headers = e.value.response["ResponseMetadata"]["HTTPHeaders"]
    assert headers.get("x-amzn-requestid")


# --- ListIdentityPools ---------------------------------------------------------------------


def test_list_identity_pools(cognito):
    created = [create_pool(cognito, f"pool{i}")["IdentityPoolId"] for i in range(3)]
    resp = cognito.list_identity_pools(MaxResults=60)
    pools = resp["IdentityPools"]
    assert sorted(p["IdentityPoolId"] for p in pools) == sorted(created)
    assert {p["IdentityPoolName"] for p in pools} == {"pool0", "pool1", "pool2"}
    assert not resp.get("NextToken")


def test_list_pagination(cognito):
    created = [create_pool(cognito, f"pool{i}")["IdentityPoolId"] for i in range(5)]
    seen = []
    token = None
    pages = 0
    while True:
        kw = {"MaxResults": 2}
        if token:
            kw["NextToken"] = token
        resp = cognito.list_identity_pools(**kw)
        pages += 1
        assert len(resp["IdentityPools"]) <= 2
        seen.extend(p["IdentityPoolId"] for p in resp["IdentityPools"])
        token = resp.get("NextToken")
        if not token:
            break
        assert pages < 10
    assert pages == 3
    assert sorted(seen) == sorted(created)


def test_list_paginator(cognito):
    created = [create_pool(cognito, f"pool{i}")["IdentityPoolId"] for i in range(5)]
    pages = list(
        cognito.get_paginator("list_identity_pools").paginate(PaginationConfig={"PageSize": 2})
    )
    seen = [p["IdentityPoolId"] for page in pages for p in page["IdentityPools"]]
    assert len(seen) == 5 == len(set(seen))
    assert sorted(seen) == sorted(created)


def test_list_max_results_zero_rejected_by_botocore(cognito):
    with pytest.raises(ParamValidationError):
        cognito.list_identity_pools(MaxResults=0)


def test_list_max_results_over_sixty(cognito):
    with pytest.raises(ClientError) as e:
        cognito.list_identity_pools(MaxResults=61)
    assert error_code(e.value) == "ValidationException"
    assert http_status(e.value) == 400


def test_list_bad_next_token(cognito):
    create_pool(cognito)
    with pytest.raises(cognito.exceptions.InvalidParameterException) as e:
        cognito.list_identity_pools(MaxResults=10, NextToken="garbage-token")
    assert http_status(e.value) == 400


def test_pools_are_per_account_and_region(cognito, client_factory):
    pool_id = create_pool(cognito)["IdentityPoolId"]
    other = client_factory("cognito-identity", key=OTHER_ACCOUNT)
    eu = client_factory("cognito-identity", region="eu-west-1")
    assert other.list_identity_pools(MaxResults=60)["IdentityPools"] == []
    assert eu.list_identity_pools(MaxResults=60)["IdentityPools"] == []
    with pytest.raises(other.exceptions.ResourceNotFoundException):
        other.describe_identity_pool(IdentityPoolId=pool_id)
    with pytest.raises(other.exceptions.ResourceNotFoundException):
        other.delete_identity_pool(IdentityPoolId=pool_id)
    assert cognito.describe_identity_pool(IdentityPoolId=pool_id)["IdentityPoolId"] == pool_id


# --- UpdateIdentityPool / DeleteIdentityPool -------------------------------------------------


def test_update_replaces_configuration(cognito):
    pool = create_pool(
        cognito,
        "before",
        allow_unauth=False,
        AllowClassicFlow=True,
        SupportedLoginProviders={"graph.facebook.com": "123"},
        OpenIdConnectProviderARNs=["arn:aws:iam::000000000000:oidc-provider/example.com"],
        SamlProviderARNs=["arn:aws:iam::000000000000:saml-provider/corp"],
    )
    pool_id = pool["IdentityPoolId"]
    updated = cognito.update_identity_pool(
        IdentityPoolId=pool_id,
        IdentityPoolName="after",
        AllowUnauthenticatedIdentities=True,
        SupportedLoginProviders={"accounts.google.com": "g-1"},
    )
    assert updated["IdentityPoolId"] == pool_id
    assert updated["IdentityPoolName"] == "after"
    assert updated["AllowUnauthenticatedIdentities"] is True
    assert updated["SupportedLoginProviders"] == {"accounts.google.com": "g-1"}
    d = cognito.describe_identity_pool(IdentityPoolId=pool_id)
    assert d["IdentityPoolName"] == "after"
    assert d["AllowUnauthenticatedIdentities"] is True
    assert d["SupportedLoginProviders"] == {"accounts.google.com": "g-1"}
    assert not d.get("AllowClassicFlow")
    assert d.get("OpenIdConnectProviderARNs", []) == []
    assert d.get("SamlProviderARNs", []) == []


def test_update_cannot_change_developer_provider_name(cognito):
    pool_id = create_pool(cognito, DeveloperProviderName="login.first")["IdentityPoolId"]
    with pytest.raises(cognito.exceptions.InvalidParameterException):
        cognito.update_identity_pool(
            IdentityPoolId=pool_id,
            IdentityPoolName="pool",
            AllowUnauthenticatedIdentities=True,
            DeveloperProviderName="login.second",
        )
    assert (
        cognito.describe_identity_pool(IdentityPoolId=pool_id)["DeveloperProviderName"]
        == "login.first"
    )


def test_update_unknown_pool(cognito):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.update_identity_pool(
            IdentityPoolId=MISSING_POOL, IdentityPoolName="x", AllowUnauthenticatedIdentities=True
        )


def test_update_invalid_name(cognito):
    pool_id = create_pool(cognito)["IdentityPoolId"]
    with pytest.raises(ClientError) as e:
        cognito.update_identity_pool(
            IdentityPoolId=pool_id, IdentityPoolName="bad!", AllowUnauthenticatedIdentities=True
        )
    assert error_code(e.value) == "ValidationException"
    assert cognito.describe_identity_pool(IdentityPoolId=pool_id)["IdentityPoolName"] == "pool"


def test_delete_pool(cognito):
    pool_id = create_pool(cognito)["IdentityPoolId"]
    keep = create_pool(cognito, "keep")["IdentityPoolId"]
    cognito.delete_identity_pool(IdentityPoolId=pool_id)
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.describe_identity_pool(IdentityPoolId=pool_id)
    assert [p["IdentityPoolId"] for p in cognito.list_identity_pools(MaxResults=60)["IdentityPools"]] == [keep]
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.delete_identity_pool(IdentityPoolId=pool_id)


# --- GetId -------------------------------------------------------------------------------------


def test_get_id_unauthenticated(cognito):
    pool_id = create_pool(cognito, allow_unauth=True)["IdentityPoolId"]
    a = cognito.get_id(IdentityPoolId=pool_id)["IdentityId"]
    b = cognito.get_id(IdentityPoolId=pool_id)["IdentityId"]
    assert IDENTITY_ID.match(a), a
    assert IDENTITY_ID.match(b), b
    assert a != b


def test_get_id_is_sent_unsigned(cognito):
    pool_id = create_pool(cognito)["IdentityPoolId"]
    seen = {}

    def capture(request, **_):
        seen["auth"] = request.headers.get("Authorization")

    cognito.meta.events.register("before-send.cognito-identity.GetId", capture)
    cognito.get_id(IdentityPoolId=pool_id)
    assert seen == {"auth": None}


def test_get_id_unauthenticated_not_allowed(cognito):
    pool_id = create_pool(cognito, allow_unauth=False)["IdentityPoolId"]
    with pytest.raises(cognito.exceptions.NotAuthorizedException) as e:
        cognito.get_id(IdentityPoolId=pool_id)
    assert http_status(e.value) == 400


def test_get_id_unknown_pool(cognito):
    with pytest.raises(cognito.exceptions.ResourceNotFoundException):
        cognito.get_id(IdentityPoolId=MISSING_POOL)


def test_get_id_with_logins(cognito):
    pool_id = create_pool(
        cognito, allow_unauth=False, SupportedLoginProviders={"graph.facebook.com": "123"}
    )["IdentityPoolId"]
    one = cognito.get_id(IdentityPoolId=pool_id, Logins={"graph.facebook.com": "token-1"})["IdentityId"]
    again = cognito.get_id(IdentityPoolId=pool_id, Logins={"graph.facebook.com": "token-1"})["IdentityId"]
    other = cognito.get_id(IdentityPoolId=pool_id, Logins={"graph.facebook.com": "token-2"})["IdentityId"]
    assert IDENTITY_ID.match(one)
    assert one == again
    assert other != one


def test_get_id_with_unconfigured_provider(cognito):
    pool_id = create_pool(
        cognito, allow_unauth=True, SupportedLoginProviders={"graph.facebook.com": "123"}
    )["IdentityPoolId"]
    with pytest.raises(cognito.exceptions.NotAuthorizedException):
        cognito.get_id(IdentityPoolId=pool_id, Logins={"accounts.google.com": "token-1"})


def test_get_id_maps_jwts_by_subject(cognito):
    pool_id = create_pool(
        cognito, allow_unauth=False, SupportedLoginProviders={"accounts.google.com": "client"}
    )["IdentityPoolId"]
    t1 = jwt({"sub": "user-1", "iat": 1700000000, "aud": "client"})
    t2 = jwt({"sub": "user-1", "iat": 1700009999, "aud": "client", "nonce": "x"})
    t3 = jwt({"sub": "user-2", "iat": 1700000000, "aud": "client"})
    assert t1 != t2
    a = cognito.get_id(IdentityPoolId=pool_id, Logins={"accounts.google.com": t1})["IdentityId"]
    b = cognito.get_id(IdentityPoolId=pool_id, Logins={"accounts.google.com": t2})["IdentityId"]
    c = cognito.get_id(IdentityPoolId=pool_id, Logins={"accounts.google.com": t3})["IdentityId"]
    assert a == b
    assert c != a


def test_identities_are_per_pool(cognito):
    p1 = create_pool(cognito, "p1", SupportedLoginProviders={"graph.facebook.com": "1"})["IdentityPoolId"]
    p2 = create_pool(cognito, "p2", SupportedLoginProviders={"graph.facebook.com": "1"})["IdentityPoolId"]
    logins = {"graph.facebook.com": "token-1"}
    a = cognito.get_id(IdentityPoolId=p1, Logins=logins)["IdentityId"]
    b = cognito.get_id(IdentityPoolId=p2, Logins=logins)["IdentityId"]
    assert a != b


def test_list_entries_carry_only_id_and_name(cognito):
    create_pool(cognito, "p1", SupportedLoginProviders={"graph.facebook.com": "1"}, IdentityPoolTags={"a": "b"})
    (entry,) = cognito.list_identity_pools(MaxResults=10)["IdentityPools"]
    assert set(entry) == {"IdentityPoolId", "IdentityPoolName"}


def test_signed_operations_refuse_unsigned_requests(endpoint):
    import requests

    resp = requests.post(
        endpoint + "/",
        data=json.dumps({"IdentityPoolName": "x", "AllowUnauthenticatedIdentities": True}),
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityService.CreateIdentityPool",
        },
        timeout=20,
    )
    assert 400 <= resp.status_code < 500
    assert resp.json()["__type"].endswith("MissingAuthenticationTokenException")


def test_unknown_operation(endpoint):
    import requests

    from conftest import auth_header

    resp = requests.post(
        endpoint + "/",
        data=b"{}",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityService.NoSuchOperation",
            "Authorization": auth_header(service="cognito-identity"),
            "X-Amz-Date": "20261122T000000Z",
        },
        timeout=20,
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()["__type"].endswith("UnknownOperationException")


def test_malformed_json_body(endpoint):
    import requests

    from conftest import auth_header

    resp = requests.post(
        endpoint + "/",
        data=b"{not json",
        headers={
            "Content-Type": "application/x-amz-json-1.1",
            "X-Amz-Target": "AWSCognitoIdentityService.ListIdentityPools",
            "Authorization": auth_header(service="cognito-identity"),
            "X-Amz-Date": "20261122T000000Z",
        },
        timeout=20,
    )
    assert resp.status_code == 400, resp.text
    assert resp.json()["__type"].endswith("SerializationException")


def test_body_larger_than_limit_is_a_json_error(own_server):
    import requests

    from conftest import auth_header

    s = own_server("--ephemeral", "--listen", "127.0.0.1:0", "--max-body-bytes", "1000")

    def post(name):
        return requests.post(
            s.url + "/",
            data=json.dumps({"IdentityPoolName": name, "AllowUnauthenticatedIdentities": True}),
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "AWSCognitoIdentityService.CreateIdentityPool",
                "Authorization": auth_header(service="cognito-identity"),
                "X-Amz-Date": "20261122T000000Z",
            },
            timeout=20,
        )

    resp = post("a" * 2000)
    assert resp.status_code == 413, resp.text
    assert resp.headers["x-amzn-ErrorType"].startswith("RequestEntityTooLarge"), resp.headers
    assert resp.headers["Content-Type"].startswith("application/"), resp.headers
    assert resp.json()["__type"].endswith("RequestEntityTooLarge"), resp.text
    assert resp.headers.get("x-amzn-RequestId")
    # Nothing was made, and an ordinary request still works.
    cognito = s.client("cognito-identity")
    assert cognito.list_identity_pools(MaxResults=60)["IdentityPools"] == []
    assert post("small").status_code == 200
    assert len(cognito.list_identity_pools(MaxResults=60)["IdentityPools"]) == 1
