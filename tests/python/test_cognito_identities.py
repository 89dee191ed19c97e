"""Cognito Identity (awsJson1.1): identities and their logins, OpenID tokens,
developer-authenticated identities, roles, principal tags and tags."""

import base64
import hashlib
import json
import time

import pytest
import requests
from botocore.exceptions import ClientError, ParamValidationError

from conftest import HTTP_TIMEOUT, OTHER_ACCOUNT, error_code, http_status, start_server
from test_cognito_identity import IDENTITY_ID, MISSING_POOL, create_pool, jwt, strip_meta

MISSING_IDENTITY = "us-east-1:00000000-0000-4000-8000-00000000abcd"
FB = "graph.facebook.com"
GOOGLE = "accounts.google.com"
AMAZON = "www.amazon.com"
DEV = "login.example.dev"
USER_POOL = "cognito-idp.us-east-1.amazonaws.com/us-east-1_abcdefghi"
ROLE = "arn:aws:iam::000000000000:role/Cognito_Auth"
UNAUTH_ROLE = "arn:aws:iam::000000000000:role/Cognito_Unauth"


def federated_pool(cognito, allow_unauth=False, **kw):
    return create_pool(
        cognito,
        "federated",
        allow_unauth=allow_unauth,
        SupportedLoginProviders={FB: "app-1", GOOGLE: "client-1"},
        DeveloperProviderName=DEV,
        CognitoIdentityProviders=[{"ProviderName": USER_POOL, "ClientId": "client1"}],
        **kw,
    )["IdentityPoolId"]


def expect_error(call, code, status=400):
    with pytest.raises(ClientError) as e:
        call()
    assert error_code(e.value) == code, e.value.response
    assert http_status(e.value) == status
    assert e.value.response["Error"]["Message"]
    return e.value


def b64decode(part):
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def decode_jwt(token):
    header, payload, signature = token.split(".")
    assert signature
    return json.loads(b64decode(header)), json.loads(b64decode(payload))


def developer_token(cognito, pool_id, user, **kw):
    return cognito.get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={DEV: user}, **kw
    )


# --- GetId: several logins, one identity ------------------------------------------------


def test_get_id_links_the_logins_of_one_call(cognito):
    pool_id = federated_pool(cognito)
    both = cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1", GOOGLE: "g-1"})["IdentityId"]
    assert IDENTITY_ID.match(both)
    assert cognito.get_id(IdentityPoolId=pool_id, Logins={GOOGLE: "g-1"})["IdentityId"] == both
    assert cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1"})["IdentityId"] == both
    assert cognito.describe_identity(IdentityId=both)["Logins"] == [GOOGLE, FB]


def test_get_id_links_a_new_login_to_the_known_one(cognito):
    pool_id = federated_pool(cognito)
    one = cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1"})["IdentityId"]
    assert cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1", GOOGLE: "g-2"})["IdentityId"] == one
    assert cognito.get_id(IdentityPoolId=pool_id, Logins={GOOGLE: "g-2"})["IdentityId"] == one


def test_get_id_with_logins_of_two_identities_conflicts(cognito):
    pool_id = federated_pool(cognito)
    a = cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1"})["IdentityId"]
    b = cognito.get_id(IdentityPoolId=pool_id, Logins={GOOGLE: "g-1"})["IdentityId"]
    assert a != b
    e = expect_error(
        lambda: cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1", GOOGLE: "g-1"}),
        "ResourceConflictException",
    )
    assert "different identities" in e.response["Error"]["Message"]
    # Nothing was linked.
    assert cognito.describe_identity(IdentityId=a)["Logins"] == [FB]


def test_get_id_maps_jwt_logins_of_several_providers(cognito):
    pool_id = federated_pool(cognito)
    token = jwt({"sub": "user-7", "aud": "client-1"})
    a = cognito.get_id(IdentityPoolId=pool_id, Logins={GOOGLE: token, FB: "fb-7"})["IdentityId"]
    other = jwt({"sub": "user-7", "aud": "client-1", "nonce": "n"})
    assert cognito.get_id(IdentityPoolId=pool_id, Logins={GOOGLE: other})["IdentityId"] == a


# --- DescribeIdentity / ListIdentities -------------------------------------------------------


def test_describe_identity(cognito):
    pool_id = federated_pool(cognito, allow_unauth=True)
    before = time.time()
    unauth = cognito.get_id(IdentityPoolId=pool_id)["IdentityId"]
    d = cognito.describe_identity(IdentityId=unauth)
    assert set(strip_meta(d)) == {"IdentityId", "CreationDate", "LastModifiedDate"}
    assert d["IdentityId"] == unauth
    assert abs(d["CreationDate"].timestamp() - before) < 60
    assert d["LastModifiedDate"] == d["CreationDate"]
    auth = cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1"})["IdentityId"]
    assert cognito.describe_identity(IdentityId=auth)["Logins"] == [FB]


def test_describe_unknown_identity(cognito):
    e = expect_error(lambda: cognito.describe_identity(IdentityId=MISSING_IDENTITY), "ResourceNotFoundException")
    assert MISSING_IDENTITY in e.response["Error"]["Message"]
    expect_error(lambda: cognito.describe_identity(IdentityId="bad"), "ValidationException")


def test_list_identities_pages(cognito):
    pool_id = federated_pool(cognito, allow_unauth=True)
    made = [cognito.get_id(IdentityPoolId=pool_id)["IdentityId"] for _ in range(5)]
    other_pool = federated_pool(cognito, allow_unauth=True)
    cognito.get_id(IdentityPoolId=other_pool)
    seen, token, pages = [], None, 0
    while True:
        kw = {"NextToken": token} if token else {}
        resp = cognito.list_identities(IdentityPoolId=pool_id, MaxResults=2, **kw)
        assert resp["IdentityPoolId"] == pool_id
        pages += 1
        assert len(resp["Identities"]) <= 2
        for i in resp["Identities"]:
            assert set(i) <= {"IdentityId", "Logins", "CreationDate", "LastModifiedDate"}
        seen += [i["IdentityId"] for i in resp["Identities"]]
        token = resp.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert seen == made


def test_list_identities_errors(cognito):
    pool_id = federated_pool(cognito, allow_unauth=True)
    cognito.get_id(IdentityPoolId=pool_id)
    expect_error(lambda: cognito.list_identities(IdentityPoolId=pool_id, MaxResults=61), "ValidationException")
    expect_error(
        lambda: cognito.list_identities(IdentityPoolId=pool_id, MaxResults=10, NextToken="garbage"),
        "InvalidParameterException",
    )
    expect_error(
        lambda: cognito.list_identities(IdentityPoolId=MISSING_POOL, MaxResults=10), "ResourceNotFoundException"
    )
    # A token of one pool's listing is not another's.
    for _ in range(2):
        cognito.get_id(IdentityPoolId=pool_id)
    token = cognito.list_identities(IdentityPoolId=pool_id, MaxResults=1)["NextToken"]
    other = federated_pool(cognito, allow_unauth=True)
    expect_error(
        lambda: cognito.list_identities(IdentityPoolId=other, MaxResults=1, NextToken=token),
        "InvalidParameterException",
    )


def test_list_identities_hide_disabled(cognito):
    pool_id = federated_pool(cognito)
    keep = cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1"})["IdentityId"]
    gone = cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-2"})["IdentityId"]
    cognito.unlink_identity(IdentityId=gone, Logins={FB: "fb-2"}, LoginsToRemove=[FB])
    listed = cognito.list_identities(IdentityPoolId=pool_id, MaxResults=60)["Identities"]
    assert [i["IdentityId"] for i in listed] == [keep, gone]
    assert "Logins" not in listed[1]
    shown = cognito.list_identities(IdentityPoolId=pool_id, MaxResults=60, HideDisabled=True)["Identities"]
    assert [i["IdentityId"] for i in shown] == [keep]


# --- DeleteIdentities -------------------------------------------------------------------------


def test_delete_identities(cognito):
    pool_id = federated_pool(cognito, allow_unauth=True)
    a = cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1"})["IdentityId"]
    b = cognito.get_id(IdentityPoolId=pool_id)["IdentityId"]
    keep = cognito.get_id(IdentityPoolId=pool_id)["IdentityId"]
    resp = cognito.delete_identities(IdentityIdsToDelete=[a, b, MISSING_IDENTITY])
    assert http_status(resp) == 200
    assert resp["UnprocessedIdentityIds"] == [{"IdentityId": MISSING_IDENTITY, "ErrorCode": "AccessDenied"}]
    for gone in (a, b):
        expect_error(lambda: cognito.describe_identity(IdentityId=gone), "ResourceNotFoundException")
    listed = cognito.list_identities(IdentityPoolId=pool_id, MaxResults=60)["Identities"]
    assert [i["IdentityId"] for i in listed] == [keep]
    # Its login is free again: a new identity.
    again = cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1"})["IdentityId"]
    assert again not in (a, b)


def test_delete_identities_limits(cognito):
    expect_error(lambda: cognito.delete_identities(IdentityIdsToDelete=[MISSING_IDENTITY] * 61), "ValidationException")
    with pytest.raises(ParamValidationError):
        cognito.delete_identities(IdentityIdsToDelete=[])


def test_delete_pool_deletes_its_identities(cognito):
    pool_id = federated_pool(cognito, allow_unauth=True)
    ident = cognito.get_id(IdentityPoolId=pool_id)["IdentityId"]
    cognito.delete_identity_pool(IdentityPoolId=pool_id)
    expect_error(lambda: cognito.describe_identity(IdentityId=ident), "ResourceNotFoundException")


# --- GetOpenIdToken ----------------------------------------------------------------------------


def test_get_open_id_token_unauthenticated(cognito):
    pool_id = federated_pool(cognito, allow_unauth=True)
    ident = cognito.get_id(IdentityPoolId=pool_id)["IdentityId"]
    seen = {}
    cognito.meta.events.register(
        "before-send.cognito-identity.GetOpenIdToken",
        lambda request, **_: seen.setdefault("auth", request.headers.get("Authorization")),
    )
    before = int(time.time())
    resp = cognito.get_open_id_token(IdentityId=ident)
    assert seen == {"auth": None}, "GetOpenIdToken is sent unsigned"
    assert resp["IdentityId"] == ident
    header, claims = decode_jwt(resp["Token"])
    assert header["alg"] == "RS512"
    assert header["typ"] == "JWT"
    assert header["kid"]
    assert claims["iss"] == "https://cognito-identity.amazonaws.com"
    assert claims["sub"] == ident
    assert claims["aud"] == pool_id
    assert claims["amr"] == ["unauthenticated"]
    assert claims["exp"] - claims["iat"] == 600
    assert abs(claims["iat"] - before) < 60


def test_get_open_id_token_authenticated_needs_its_logins(cognito):
    pool_id = federated_pool(cognito)
    ident = cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1"})["IdentityId"]
    expect_error(lambda: cognito.get_open_id_token(IdentityId=ident), "NotAuthorizedException")
    expect_error(
        lambda: cognito.get_open_id_token(IdentityId=ident, Logins={FB: "fb-2"}), "NotAuthorizedException"
    )
    expect_error(
        lambda: cognito.get_open_id_token(IdentityId=ident, Logins={AMAZON: "x"}), "NotAuthorizedException"
    )
    resp = cognito.get_open_id_token(IdentityId=ident, Logins={FB: "fb-1"})
    assert decode_jwt(resp["Token"])[1]["amr"] == ["authenticated", FB]


def test_get_open_id_token_links_new_logins(cognito):
    pool_id = federated_pool(cognito)
    ident = cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1"})["IdentityId"]
    token = cognito.get_open_id_token(IdentityId=ident, Logins={FB: "fb-1", GOOGLE: "g-1"})["Token"]
    assert decode_jwt(token)[1]["amr"] == ["authenticated", GOOGLE, FB]
    assert cognito.get_id(IdentityPoolId=pool_id, Logins={GOOGLE: "g-1"})["IdentityId"] == ident
    # A login of another identity cannot be linked.
    cognito.get_id(IdentityPoolId=pool_id, Logins={GOOGLE: "g-9"})
    expect_error(
        lambda: cognito.get_open_id_token(IdentityId=ident, Logins={FB: "fb-1", GOOGLE: "g-9"}),
        "ResourceConflictException",
    )


def test_get_open_id_token_upgrades_an_unauthenticated_identity(cognito):
    pool_id = federated_pool(cognito, allow_unauth=True)
    ident = cognito.get_id(IdentityPoolId=pool_id)["IdentityId"]
    token = cognito.get_open_id_token(IdentityId=ident, Logins={FB: "fb-1"})["Token"]
    assert decode_jwt(token)[1]["amr"] == ["authenticated", FB]
    assert cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1"})["IdentityId"] == ident


def test_get_open_id_token_unknown_identity(cognito):
    expect_error(lambda: cognito.get_open_id_token(IdentityId=MISSING_IDENTITY), "ResourceNotFoundException")


def test_tokens_keep_their_key_across_restarts(tmp_path):
    def kid_and_token():
        s = start_server("--listen", "127.0.0.1:0", "--data", str(tmp_path / "data"))
        try:
            c = s.client("cognito-identity")
            pools = c.list_identity_pools(MaxResults=1)["IdentityPools"]
            pool_id = pools[0]["IdentityPoolId"] if pools else create_pool(c)["IdentityPoolId"]
            ident = c.get_id(IdentityPoolId=pool_id)["IdentityId"]
            token = c.get_open_id_token(IdentityId=ident)["Token"]
            jwks = requests.get(f"{s.url}/_reservoir/cognito/jwks", timeout=HTTP_TIMEOUT)
        finally:
            assert s.stop() == 0
            s.cleanup()
        return decode_jwt(token)[0]["kid"], jwks

    first, _ = kid_and_token()
    second, jwks = kid_and_token()
    assert first == second
    if jwks.status_code == 200:
        assert jwks.json()["keys"][0]["kid"] == first


def test_tokens_verify_with_the_jwks(cognito, endpoint):
    jwks = requests.get(f"{endpoint}/_reservoir/cognito/jwks", timeout=HTTP_TIMEOUT)
    if jwks.status_code in (400, 404) and "UnknownService" in jwks.text or jwks.status_code == 404:
        pytest.skip("GET /_reservoir/cognito/jwks is not routed (server::http)")
    assert jwks.status_code == 200, jwks.text
    (key,) = jwks.json()["keys"]
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS512", "sig")
    pool_id = federated_pool(cognito, allow_unauth=True)
    ident = cognito.get_id(IdentityPoolId=pool_id)["IdentityId"]
    token = cognito.get_open_id_token(IdentityId=ident)["Token"]
    header, payload, signature = token.split(".")
    assert json.loads(b64decode(header))["kid"] == key["kid"]
    # RSASSA-PKCS1-v1_5 with SHA-512, checked by hand.
    n = int.from_bytes(b64decode(key["n"]), "big")
    e = int.from_bytes(b64decode(key["e"]), "big")
    k = (n.bit_length() + 7) // 8
    em = pow(int.from_bytes(b64decode(signature), "big"), e, n).to_bytes(k, "big")
    digest_info = bytes.fromhex("3051300d060960864801650304020305000440")
    digest = hashlib.sha512(f"{header}.{payload}".encode()).digest()
    t = digest_info + digest
    assert em == b"\x00\x01" + b"\xff" * (k - len(t) - 3) + b"\x00" + t


# --- UnlinkIdentity ----------------------------------------------------------------------------


def test_unlink_identity(cognito):
    pool_id = federated_pool(cognito)
    ident = cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1", GOOGLE: "g-1"})["IdentityId"]
    seen = {}
    cognito.meta.events.register(
        "before-send.cognito-identity.UnlinkIdentity",
        lambda request, **_: seen.setdefault("auth", request.headers.get("Authorization")),
    )
    resp = cognito.unlink_identity(IdentityId=ident, Logins={FB: "fb-1"}, LoginsToRemove=[GOOGLE])
    assert http_status(resp) == 200
    assert seen == {"auth": None}
    assert cognito.describe_identity(IdentityId=ident)["Logins"] == [FB]
    # The unlinked login is a new identity next time it is seen.
    assert cognito.get_id(IdentityPoolId=pool_id, Logins={GOOGLE: "g-1"})["IdentityId"] != ident


def test_unlink_identity_needs_the_identitys_logins(cognito):
    pool_id = federated_pool(cognito)
    ident = cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1", GOOGLE: "g-1"})["IdentityId"]
    expect_error(
        lambda: cognito.unlink_identity(IdentityId=ident, Logins={FB: "fb-2"}, LoginsToRemove=[GOOGLE]),
        "NotAuthorizedException",
    )
    expect_error(
        lambda: cognito.unlink_identity(IdentityId=ident, Logins={}, LoginsToRemove=[GOOGLE]),
        "NotAuthorizedException",
    )
    expect_error(
        lambda: cognito.unlink_identity(IdentityId=MISSING_IDENTITY, Logins={FB: "fb-1"}, LoginsToRemove=[FB]),
        "ResourceNotFoundException",
    )
    assert cognito.describe_identity(IdentityId=ident)["Logins"] == [GOOGLE, FB]


def test_unlinking_the_last_login_disables_the_identity(cognito):
    pool_id = federated_pool(cognito)
    ident = cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1"})["IdentityId"]
    cognito.unlink_identity(IdentityId=ident, Logins={FB: "fb-1"}, LoginsToRemove=[FB])
    assert "Logins" not in cognito.describe_identity(IdentityId=ident)
    expect_error(lambda: cognito.get_open_id_token(IdentityId=ident), "NotAuthorizedException")


# --- developer-authenticated identities -------------------------------------------------------


def test_get_open_id_token_for_developer_identity(cognito):
    pool_id = federated_pool(cognito)
    before = int(time.time())
    first = developer_token(cognito, pool_id, "alice")
    ident = first["IdentityId"]
    assert IDENTITY_ID.match(ident)
    header, claims = decode_jwt(first["Token"])
    assert header["alg"] == "RS512"
    assert claims["sub"] == ident
    assert claims["aud"] == pool_id
    assert claims["amr"] == ["authenticated", DEV]
    assert claims["exp"] - claims["iat"] == 900
    assert abs(claims["iat"] - before) < 60
    again = developer_token(cognito, pool_id, "alice", TokenDuration=3600, PrincipalTags={"team": "red"})
    assert again["IdentityId"] == ident
    _, claims = decode_jwt(again["Token"])
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["https://aws.amazon.com/tags"] == {"principal_tags": {"team": ["red"]}}
    assert developer_token(cognito, pool_id, "bob")["IdentityId"] != ident
    assert cognito.describe_identity(IdentityId=ident)["Logins"] == [DEV]


def test_developer_token_links_public_logins_and_identity_ids(cognito):
    pool_id = federated_pool(cognito, allow_unauth=True)
    unauth = cognito.get_id(IdentityPoolId=pool_id)["IdentityId"]
    resp = cognito.get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, IdentityId=unauth, Logins={DEV: "carol", FB: "fb-c"}
    )
    assert resp["IdentityId"] == unauth
    assert cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-c"})["IdentityId"] == unauth
    lookup = cognito.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=unauth)
    assert lookup["DeveloperUserIdentifierList"] == ["carol"]


def test_developer_token_errors(cognito):
    pool_id = federated_pool(cognito)
    alice = developer_token(cognito, pool_id, "alice")["IdentityId"]
    bob = developer_token(cognito, pool_id, "bob")["IdentityId"]
    expect_error(
        lambda: cognito.get_open_id_token_for_developer_identity(
            IdentityPoolId=pool_id, IdentityId=bob, Logins={DEV: "alice"}
        ),
        "DeveloperUserAlreadyRegisteredException",
    )
    cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-x"})
    expect_error(
        lambda: cognito.get_open_id_token_for_developer_identity(
            IdentityPoolId=pool_id, IdentityId=alice, Logins={DEV: "alice", FB: "fb-x"}
        ),
        "ResourceConflictException",
    )
    expect_error(
        lambda: cognito.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={FB: "fb-1"}),
        "InvalidParameterException",
    )
    expect_error(
        lambda: cognito.get_open_id_token_for_developer_identity(
            IdentityPoolId=pool_id, Logins={DEV: "dora", AMAZON: "a"}
        ),
        "NotAuthorizedException",
    )
    expect_error(
        lambda: cognito.get_open_id_token_for_developer_identity(
            IdentityPoolId=pool_id, IdentityId=MISSING_IDENTITY, Logins={DEV: "erin"}
        ),
        "ResourceNotFoundException",
    )
    expect_error(lambda: developer_token(cognito, MISSING_POOL, "alice"), "ResourceNotFoundException")
    expect_error(lambda: developer_token(cognito, pool_id, "alice", TokenDuration=86401), "ValidationException")
    plain = create_pool(cognito, "plain")["IdentityPoolId"]
    expect_error(lambda: developer_token(cognito, plain, "alice"), "InvalidParameterException")


def test_developer_token_is_a_login_for_get_open_id_token(cognito):
    pool_id = federated_pool(cognito)
    resp = developer_token(cognito, pool_id, "alice")
    token = cognito.get_open_id_token(
        IdentityId=resp["IdentityId"], Logins={"cognito-identity.amazonaws.com": resp["Token"]}
    )
    assert token["IdentityId"] == resp["IdentityId"]
    other = developer_token(cognito, pool_id, "bob")["IdentityId"]
    expect_error(
        lambda: cognito.get_open_id_token(IdentityId=other, Logins={"cognito-identity.amazonaws.com": resp["Token"]}),
        "NotAuthorizedException",
    )


def test_lookup_developer_identity(cognito):
    pool_id = federated_pool(cognito)
    ident = developer_token(cognito, pool_id, "alice")["IdentityId"]
    for user in ("bob", "carol"):
        cognito.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, IdentityId=ident, Logins={DEV: user})
    by_user = cognito.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="bob")
    assert strip_meta(by_user) == {"IdentityId": ident, "DeveloperUserIdentifierList": ["bob"]}
    both = cognito.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=ident, DeveloperUserIdentifier="bob")
    assert strip_meta(both) == {"IdentityId": ident, "DeveloperUserIdentifierList": ["bob"]}
    assert cognito.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=ident)[
        "DeveloperUserIdentifierList"
    ] == ["alice", "bob", "carol"]
    seen, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        page = cognito.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=ident, MaxResults=2, **kw)
        assert page["IdentityId"] == ident
        seen += page["DeveloperUserIdentifierList"]
        token = page.get("NextToken")
        if not token:
            break
    assert seen == ["alice", "bob", "carol"]


def test_lookup_developer_identity_errors(cognito):
    pool_id = federated_pool(cognito)
    alice = developer_token(cognito, pool_id, "alice")["IdentityId"]
    developer_token(cognito, pool_id, "bob")
    expect_error(
        lambda: cognito.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=alice, DeveloperUserIdentifier="bob"),
        "ResourceConflictException",
    )
    expect_error(lambda: cognito.lookup_developer_identity(IdentityPoolId=pool_id), "InvalidParameterException")
    expect_error(
        lambda: cognito.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="nobody"),
        "ResourceNotFoundException",
    )
    expect_error(
        lambda: cognito.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=MISSING_IDENTITY),
        "ResourceNotFoundException",
    )
    fb_only = cognito.get_id(IdentityPoolId=pool_id, Logins={FB: "fb-1"})["IdentityId"]
    expect_error(
        lambda: cognito.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=fb_only),
        "ResourceNotFoundException",
    )
    expect_error(
        lambda: cognito.lookup_developer_identity(IdentityPoolId=MISSING_POOL, DeveloperUserIdentifier="alice"),
        "ResourceNotFoundException",
    )
    expect_error(
        lambda: cognito.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=alice, MaxResults=61),
        "ValidationException",
    )
    expect_error(
        lambda: cognito.lookup_developer_identity(IdentityPoolId=pool_id, IdentityId=alice, NextToken="garbage"),
        "InvalidParameterException",
    )


def test_merge_developer_identities(cognito):
    pool_id = federated_pool(cognito)
    source = developer_token(cognito, pool_id, "alice")["IdentityId"]
    destination = developer_token(cognito, pool_id, "bob")["IdentityId"]
    resp = cognito.merge_developer_identities(
        SourceUserIdentifier="alice",
        DestinationUserIdentifier="bob",
        DeveloperProviderName=DEV,
        IdentityPoolId=pool_id,
    )
    assert strip_meta(resp) == {"IdentityId": destination}
    assert cognito.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="alice")[
        "IdentityId"
    ] == destination
    assert developer_token(cognito, pool_id, "alice")["IdentityId"] == destination
    # The source had no other login: it was merged away.
    expect_error(lambda: cognito.describe_identity(IdentityId=source), "ResourceNotFoundException")
    listed = cognito.list_identities(IdentityPoolId=pool_id, MaxResults=60)["Identities"]
    assert [i["IdentityId"] for i in listed] == [destination]


def test_merge_keeps_a_source_with_other_logins(cognito):
    pool_id = federated_pool(cognito)
    source = cognito.get_open_id_token_for_developer_identity(
        IdentityPoolId=pool_id, Logins={DEV: "alice", FB: "fb-a"}
    )["IdentityId"]
    destination = developer_token(cognito, pool_id, "bob")["IdentityId"]
    cognito.merge_developer_identities(
        SourceUserIdentifier="alice", DestinationUserIdentifier="bob", DeveloperProviderName=DEV, IdentityPoolId=pool_id
    )
    assert cognito.describe_identity(IdentityId=source)["Logins"] == [FB]
    assert cognito.describe_identity(IdentityId=destination)["Logins"] == [DEV]


def test_merge_errors(cognito):
    pool_id = federated_pool(cognito)
    developer_token(cognito, pool_id, "alice")
    developer_token(cognito, pool_id, "bob")

    def merge(src="alice", dst="bob", provider=DEV, pool=pool_id):
        return cognito.merge_developer_identities(
            SourceUserIdentifier=src, DestinationUserIdentifier=dst, DeveloperProviderName=provider, IdentityPoolId=pool
        )

    expect_error(lambda: merge(provider="other.dev"), "InvalidParameterException")
    expect_error(lambda: merge(src="nobody"), "ResourceNotFoundException")
    expect_error(lambda: merge(dst="nobody"), "ResourceNotFoundException")
    expect_error(lambda: merge(pool=MISSING_POOL), "ResourceNotFoundException")
    expect_error(lambda: merge(provider="bad name!"), "ValidationException")


def test_unlink_developer_identity(cognito):
    pool_id = federated_pool(cognito)
    ident = developer_token(cognito, pool_id, "alice")["IdentityId"]

    def unlink(user="alice", provider=DEV, identity=ident):
        return cognito.unlink_developer_identity(
            IdentityId=identity, IdentityPoolId=pool_id, DeveloperProviderName=provider, DeveloperUserIdentifier=user
        )

    expect_error(lambda: unlink(provider="other.dev"), "InvalidParameterException")
    expect_error(lambda: unlink(user="bob"), "ResourceNotFoundException")
    expect_error(lambda: unlink(identity=MISSING_IDENTITY), "ResourceNotFoundException")
    assert http_status(unlink()) == 200
    expect_error(
        lambda: cognito.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="alice"),
        "ResourceNotFoundException",
    )
    # The user is a new identity next time; the old one, without logins, is disabled.
    assert developer_token(cognito, pool_id, "alice")["IdentityId"] != ident
    shown = cognito.list_identities(IdentityPoolId=pool_id, MaxResults=60, HideDisabled=True)["Identities"]
    assert ident not in [i["IdentityId"] for i in shown]


# --- roles --------------------------------------------------------------------------------------


RULES_MAPPING = {
    "Type": "Rules",
    "AmbiguousRoleResolution": "Deny",
    "RulesConfiguration": {
        "Rules": [{"Claim": "isAdmin", "MatchType": "Equals", "Value": "yes", "RoleARN": ROLE}]
    },
}
TOKEN_MAPPING = {"Type": "Token", "AmbiguousRoleResolution": "AuthenticatedRole"}


def test_identity_pool_roles(cognito):
    pool_id = federated_pool(cognito)
    assert strip_meta(cognito.get_identity_pool_roles(IdentityPoolId=pool_id)) == {"IdentityPoolId": pool_id}
    mappings = {FB: RULES_MAPPING, f"{USER_POOL}:client1": TOKEN_MAPPING}
    resp = cognito.set_identity_pool_roles(
        IdentityPoolId=pool_id,
        Roles={"authenticated": ROLE, "unauthenticated": UNAUTH_ROLE},
        RoleMappings=mappings,
    )
    assert http_status(resp) == 200
    got = cognito.get_identity_pool_roles(IdentityPoolId=pool_id)
    assert strip_meta(got) == {
        "IdentityPoolId": pool_id,
        "Roles": {"authenticated": ROLE, "unauthenticated": UNAUTH_ROLE},
        "RoleMappings": mappings,
    }
    # Set replaces: mappings not given are cleared.
    cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": ROLE})
    assert strip_meta(cognito.get_identity_pool_roles(IdentityPoolId=pool_id)) == {
        "IdentityPoolId": pool_id,
        "Roles": {"authenticated": ROLE},
    }


@pytest.mark.parametrize(
    "roles,mappings,code",
    [
        ({"authenticated": "arn:aws:iam::000000000000:user/bob"}, None, "NotAuthorizedException"),
        ({"authenticated": "arn:aws:s3:::bucket-name-x"}, None, "NotAuthorizedException"),
        ({"admin": ROLE}, None, "ValidationException"),
        ({"authenticated": ROLE}, {AMAZON: TOKEN_MAPPING}, "InvalidParameterException"),
        ({"authenticated": ROLE}, {FB: {"Type": "Rules", "AmbiguousRoleResolution": "Deny"}}, "InvalidParameterException"),
        ({"authenticated": ROLE}, {FB: {"Type": "Token"}}, "InvalidParameterException"),
        ({"authenticated": ROLE}, {FB: {"Type": "Other", "AmbiguousRoleResolution": "Deny"}}, "ValidationException"),
        (
            {"authenticated": ROLE},
            {FB: dict(RULES_MAPPING, RulesConfiguration={"Rules": RULES_MAPPING["RulesConfiguration"]["Rules"] * 26})},
            "InvalidParameterException",
        ),
        (
            {"authenticated": ROLE},
            {
                FB: dict(
                    RULES_MAPPING,
                    RulesConfiguration={
                        "Rules": [{"Claim": "c", "MatchType": "Equals", "Value": "v", "RoleARN": "arn:aws:iam::000000000000:group/g"}]
                    },
                )
            },
            "NotAuthorizedException",
        ),
    ],
    ids=["user-arn", "s3-arn", "role-key", "untrusted-provider", "rules-without-rules", "no-resolution", "bad-type", "26-rules", "rule-arn"],
)
def test_set_identity_pool_roles_errors(cognito, roles, mappings, code):
    pool_id = federated_pool(cognito)
    kw = {"RoleMappings": mappings} if mappings else {}
    expect_error(lambda: cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles=roles, **kw), code)
    assert "Roles" not in cognito.get_identity_pool_roles(IdentityPoolId=pool_id)


def test_roles_of_unknown_pool(cognito):
    expect_error(
        lambda: cognito.set_identity_pool_roles(IdentityPoolId=MISSING_POOL, Roles={"authenticated": ROLE}),
        "ResourceNotFoundException",
    )
    expect_error(lambda: cognito.get_identity_pool_roles(IdentityPoolId=MISSING_POOL), "ResourceNotFoundException")


# --- principal tags ----------------------------------------------------------------------------


def test_principal_tag_attribute_map(cognito):
    pool_id = federated_pool(cognito)
    fresh = cognito.get_principal_tag_attribute_map(IdentityPoolId=pool_id, IdentityProviderName=USER_POOL)
    assert strip_meta(fresh) == {"IdentityPoolId": pool_id, "IdentityProviderName": USER_POOL, "UseDefaults": False}
    defaults = cognito.set_principal_tag_attribute_map(
        IdentityPoolId=pool_id, IdentityProviderName=USER_POOL, UseDefaults=True
    )
    assert strip_meta(defaults) == {
        "IdentityPoolId": pool_id,
        "IdentityProviderName": USER_POOL,
        "UseDefaults": True,
        "PrincipalTags": {"client": "aud", "username": "sub"},
    }
    custom = {"dept": "custom:dept", "level": "custom:level"}
    cognito.set_principal_tag_attribute_map(
        IdentityPoolId=pool_id, IdentityProviderName=FB, UseDefaults=False, PrincipalTags=custom
    )
    got = cognito.get_principal_tag_attribute_map(IdentityPoolId=pool_id, IdentityProviderName=FB)
    assert strip_meta(got) == {
        "IdentityPoolId": pool_id,
        "IdentityProviderName": FB,
        "UseDefaults": False,
        "PrincipalTags": custom,
    }
    assert (
        cognito.get_principal_tag_attribute_map(IdentityPoolId=pool_id, IdentityProviderName=USER_POOL)["UseDefaults"]
        is True
    )


def test_principal_tag_attribute_map_errors(cognito):
    pool_id = federated_pool(cognito)
    expect_error(
        lambda: cognito.set_principal_tag_attribute_map(IdentityPoolId=pool_id, IdentityProviderName=AMAZON),
        "InvalidParameterException",
    )
    expect_error(
        lambda: cognito.get_principal_tag_attribute_map(IdentityPoolId=pool_id, IdentityProviderName=AMAZON),
        "InvalidParameterException",
    )
    expect_error(
        lambda: cognito.get_principal_tag_attribute_map(IdentityPoolId=MISSING_POOL, IdentityProviderName=FB),
        "ResourceNotFoundException",
    )
    expect_error(
        lambda: cognito.set_principal_tag_attribute_map(
            IdentityPoolId=pool_id, IdentityProviderName=FB, PrincipalTags={f"k{i}": "v" for i in range(51)}
        ),
        "ValidationException",
    )


# --- tags ----------------------------------------------------------------------------------------


def pool_arn(pool_id, account="000000000000", region="us-east-1"):
    return f"arn:aws:cognito-identity:{region}:{account}:identitypool/{pool_id}"


def test_tag_untag_list(cognito):
    pool_id = create_pool(cognito, IdentityPoolTags={"team": "core"})["IdentityPoolId"]
    arn = pool_arn(pool_id)
    assert cognito.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "core"}
    assert http_status(cognito.tag_resource(ResourceArn=arn, Tags={"env": "test", "team": "edge"})) == 200
    assert cognito.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "test", "team": "edge"}
    assert cognito.describe_identity_pool(IdentityPoolId=pool_id)["IdentityPoolTags"] == {"env": "test", "team": "edge"}
    assert http_status(cognito.untag_resource(ResourceArn=arn, TagKeys=["team", "absent"])) == 200
    assert cognito.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"env": "test"}
    cognito.untag_resource(ResourceArn=arn, TagKeys=["env"])
    assert cognito.list_tags_for_resource(ResourceArn=arn)["Tags"] == {}


def test_tag_limits_and_errors(cognito):
    pool_id = create_pool(cognito)["IdentityPoolId"]
    arn = pool_arn(pool_id)
    cognito.tag_resource(ResourceArn=arn, Tags={f"k{i}": "" for i in range(50)})
    expect_error(lambda: cognito.tag_resource(ResourceArn=arn, Tags={"one-more": "v"}), "InvalidParameterException")
    assert len(cognito.list_tags_for_resource(ResourceArn=arn)["Tags"]) == 50
    expect_error(lambda: cognito.tag_resource(ResourceArn=arn, Tags={"k" * 129: "v"}), "ValidationException")
    expect_error(lambda: cognito.tag_resource(ResourceArn=arn, Tags={"k": "v" * 257}), "ValidationException")
    bad = f"arn:aws:cognito-idp:us-east-1:000000000000:userpool/{pool_id}"
    expect_error(lambda: cognito.list_tags_for_resource(ResourceArn=bad), "InvalidParameterException")
    expect_error(
        lambda: cognito.list_tags_for_resource(ResourceArn=pool_arn(MISSING_POOL)), "ResourceNotFoundException"
    )
    expect_error(
        lambda: cognito.untag_resource(ResourceArn=pool_arn(MISSING_POOL), TagKeys=["k"]), "ResourceNotFoundException"
    )


# --- other accounts and regions ----------------------------------------------------------------


def test_other_accounts_and_regions_see_nothing(cognito, client_factory):
    pool_id = federated_pool(cognito)
    ident = developer_token(cognito, pool_id, "alice")["IdentityId"]
    cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": ROLE})
    other = client_factory("cognito-identity", key=OTHER_ACCOUNT)
    eu = client_factory("cognito-identity", region="eu-west-1")
    for c, account in ((other, OTHER_ACCOUNT), (eu, "000000000000")):
        calls = [
            lambda: c.describe_identity(IdentityId=ident),
            lambda: c.list_identities(IdentityPoolId=pool_id, MaxResults=10),
            lambda: c.get_identity_pool_roles(IdentityPoolId=pool_id),
            lambda: c.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={}),
            lambda: c.get_principal_tag_attribute_map(IdentityPoolId=pool_id, IdentityProviderName=FB),
            lambda: c.lookup_developer_identity(IdentityPoolId=pool_id, DeveloperUserIdentifier="alice"),
            lambda: c.get_open_id_token_for_developer_identity(IdentityPoolId=pool_id, Logins={DEV: "alice"}),
            lambda: c.merge_developer_identities(
                SourceUserIdentifier="alice",
                DestinationUserIdentifier="alice",
                DeveloperProviderName=DEV,
                IdentityPoolId=pool_id,
            ),
            lambda: c.unlink_developer_identity(
                IdentityId=ident, IdentityPoolId=pool_id, DeveloperProviderName=DEV, DeveloperUserIdentifier="alice"
            ),
            lambda: c.list_tags_for_resource(ResourceArn=pool_arn(pool_id)),
            lambda: c.tag_resource(ResourceArn=pool_arn(pool_id), Tags={"a": "b"}),
            # The ARN of the pool, as if it were theirs.
            lambda: c.list_tags_for_resource(ResourceArn=pool_arn(pool_id, account=account)),
        ]
        for call in calls:
            expect_error(call, "ResourceNotFoundException")
        resp = c.delete_identities(IdentityIdsToDelete=[ident])
        assert resp["UnprocessedIdentityIds"] == [{"IdentityId": ident, "ErrorCode": "AccessDenied"}]
    # Untouched for its owner.
    assert cognito.describe_identity(IdentityId=ident)["Logins"] == [DEV]
    assert cognito.list_tags_for_resource(ResourceArn=pool_arn(pool_id))["Tags"] == {}
    assert cognito.get_identity_pool_roles(IdentityPoolId=pool_id)["Roles"] == {"authenticated": ROLE}


# --- GetCredentialsForIdentity ----------------------------------------------------------


def test_credentials_for_the_developer_flow(cognito):
    pool_id = federated_pool(cognito)
    out = developer_token(cognito, pool_id, "user-7")
    identity_id, token = out["IdentityId"], out["Token"]
    # No role for authenticated identities yet: AWS's answer.
    expect_error(
        lambda: cognito.get_credentials_for_identity(
            IdentityId=identity_id, Logins={"cognito-identity.amazonaws.com": token}
        ),
        "InvalidIdentityPoolConfigurationException",
    )
    cognito.set_identity_pool_roles(IdentityPoolId=pool_id, Roles={"authenticated": ROLE})
    creds = cognito.get_credentials_for_identity(
        IdentityId=identity_id, Logins={"cognito-identity.amazonaws.com": token}
    )
    assert creds["IdentityId"] == identity_id
    assert creds["Credentials"]["AccessKeyId"].startswith("ASIA")
    # Without its logins, or with an OpenID token of another identity: refused.
    expect_error(lambda: cognito.get_credentials_for_identity(IdentityId=identity_id), "NotAuthorizedException")
    other = developer_token(cognito, pool_id, "user-8")["Token"]
    expect_error(
        lambda: cognito.get_credentials_for_identity(
            IdentityId=identity_id, Logins={"cognito-identity.amazonaws.com": other}
        ),
        "NotAuthorizedException",
    )
    # A custom role must be one that applies.
    expect_error(
        lambda: cognito.get_credentials_for_identity(
            IdentityId=identity_id,
            Logins={"cognito-identity.amazonaws.com": token},
            CustomRoleArn="arn:aws:iam::000000000000:role/Other",
        ),
        "InvalidIdentityPoolConfigurationException",
    )


def test_credentials_for_an_unknown_identity(cognito):
    expect_error(
        lambda: cognito.get_credentials_for_identity(IdentityId="us-east-1:00000000-0000-4000-8000-000000000000"),
        "ResourceNotFoundException",
    )
