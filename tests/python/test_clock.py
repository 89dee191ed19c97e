"""The server clock: `GET /_reservoir/clock` reads it, `POST /_reservoir/clock` moves it
forward, and time-based state (Cognito dates) follows it. Every test runs its own server
so that the shared one's clock never moves."""

import datetime
import json
import re

import pytest
import requests

from conftest import HTTP_TIMEOUT

LISTEN = ("--ephemeral", "--listen", "127.0.0.1:0")
NOW = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
DAY = 86400


def parse(now):
    assert NOW.match(now), now
    return datetime.datetime.fromisoformat(now.replace("Z", "+00:00"))


def wall():
    return datetime.datetime.now(datetime.timezone.utc)


def read_clock(url):
    r = requests.get(f"{url}/_reservoir/clock", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    body = r.json()
    assert set(body) == {"now", "offset_seconds"}, body
    assert isinstance(body["offset_seconds"], int)
    return parse(body["now"]), body["offset_seconds"]


def post_clock(url, data):
    return requests.post(
        f"{url}/_reservoir/clock",
        data=data,
        headers={"Content-Type": "application/json"},
        timeout=HTTP_TIMEOUT,
    )


def advance(url, seconds):
    r = post_clock(url, json.dumps({"advance_seconds": seconds}))
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    return parse(r.json()["now"]), r.json()


def test_clock_reads_wall_time_at_first(own_server):
    s = own_server(*LISTEN)
    before = wall()
    now, offset = read_clock(s.url)
    after = wall()
    assert offset == 0
    # Milliseconds: allow for the truncation of the reading.
    assert before - datetime.timedelta(seconds=1) <= now <= after + datetime.timedelta(seconds=1)


def test_advance_moves_the_clock_forward(own_server):
    s = own_server(*LISTEN)
    before, _ = read_clock(s.url)
    moved, body = advance(s.url, 3600)
    assert body["offset_seconds"] == 3600
    assert moved >= before + datetime.timedelta(seconds=3600)
    assert moved <= wall() + datetime.timedelta(seconds=3600 + 5)
    later, offset = read_clock(s.url)
    assert offset == 3600
    assert later >= moved


def test_advances_add_up(own_server):
    s = own_server(*LISTEN)
    before, _ = read_clock(s.url)
    advance(s.url, 10)
    advance(s.url, 20)
    advance(s.url, 0)
    now, offset = read_clock(s.url)
    assert offset == 30
    assert now >= before + datetime.timedelta(seconds=30)


@pytest.mark.parametrize(
    "body",
    [
        '{"advance_seconds": -1}',
        '{"advance_seconds": -86400}',
        '{"advance_seconds": 1.5}',
        '{"advance_seconds": "10"}',
        '{"advance_seconds": null}',
        '{"advance_seconds": true}',
        '{"advance_seconds": [10]}',
        "{}",
        '{"seconds": 10}',
        '{"advance_seconds": 10, "extra": 1}',
        "[10]",
        "10",
        "not json",
        '{"advance_seconds": 10',
        "",
    ],
    ids=[
        "negative",
        "negative-day",
        "fraction",
        "string",
        "null",
        "bool",
        "list",
        "empty-object",
        "missing-key",
        "extra-key",
        "array",
        "bare-number",
        "not-json",
        "truncated",
        "empty",
    ],
)
def test_bad_advance_is_refused_and_moves_nothing(own_server, body):
    s = own_server(*LISTEN)
    advance(s.url, 5)
    before, offset_before = read_clock(s.url)
    r = post_clock(s.url, body)
    assert r.status_code == 400, r.text
    assert r.headers["Content-Type"].startswith("application/json")
    error = r.json()["error"]
    assert isinstance(error, str) and error
    after, offset_after = read_clock(s.url)
    assert offset_after == offset_before == 5
    assert after - before < datetime.timedelta(seconds=5)


def test_reset_does_not_move_the_clock_back(own_server):
    s = own_server(*LISTEN)
    moved, _ = advance(s.url, DAY)
    r = requests.post(f"{s.url}/_reservoir/reset", timeout=HTTP_TIMEOUT)
    assert r.status_code == 200, r.text
    now, offset = read_clock(s.url)
    assert offset == DAY
    assert now >= moved


def test_new_identity_pool_dates_follow_the_clock(own_server):
    s = own_server(*LISTEN)
    cognito = s.client("cognito-identity")
    sync = s.client("cognito-sync")

    def pool(name):
        return cognito.create_identity_pool(
            IdentityPoolName=name, AllowUnauthenticatedIdentities=True
        )["IdentityPoolId"]

    old = pool("before")
    moved, _ = advance(s.url, 10 * DAY)
    new = pool("after")
    usage = sync.describe_identity_pool_usage(IdentityPoolId=new)["IdentityPoolUsage"]
    assert isinstance(usage["LastModifiedDate"], datetime.datetime)
    # The wire carries whole or fractional seconds: allow the reading's milliseconds.
    assert usage["LastModifiedDate"] >= moved - datetime.timedelta(seconds=1)
    assert usage["LastModifiedDate"] >= wall() + datetime.timedelta(days=10, seconds=-5)
    # A pool made before the advance keeps its earlier date.
    old_usage = sync.describe_identity_pool_usage(IdentityPoolId=old)["IdentityPoolUsage"]
    assert old_usage["LastModifiedDate"] <= moved - datetime.timedelta(days=9)
    listed = {
        u["IdentityPoolId"]: u["LastModifiedDate"]
        for u in sync.list_identity_pool_usage()["IdentityPoolUsages"]
    }
    assert listed[new] >= moved - datetime.timedelta(seconds=1)
    assert listed[old] <= moved - datetime.timedelta(days=9)


def test_file_backed_server_keeps_the_offset_across_a_restart(own_server, tmp_path):
    db = tmp_path / "clock.db"
    first = own_server("--listen", "127.0.0.1:0", "--data", str(db))
    moved, _ = advance(first.url, 5 * DAY)
    assert first.stop() == 0
    second = own_server("--listen", "127.0.0.1:0", "--data", str(db))
    now, offset = read_clock(second.url)
    assert offset == 5 * DAY
    assert now >= moved
    # And it still moves forward from there.
    advance(second.url, 60)
    assert read_clock(second.url)[1] == 5 * DAY + 60


def test_ephemeral_server_starts_with_no_offset(own_server):
    first = own_server(*LISTEN)
    advance(first.url, DAY)
    second = own_server(*LISTEN)
    assert read_clock(second.url)[1] == 0
