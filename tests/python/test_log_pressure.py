"""Logging never stalls the server: with stderr on a pipe that nobody reads, requests
(and health checks) are still answered; log lines that do not fit are dropped and
counted, and the server still stops cleanly."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time

import requests

from conftest import STARTUP_TIMEOUT, STOP_TIMEOUT, auth_header, find_binary

REQUESTS = 1000
# Each request is answered in milliseconds; a stalled server is caught by this timeout.
REQUEST_TIMEOUT = 5
# The whole run, generously bounded (a debug build on a slow machine does it in seconds).
RUN_BUDGET = 120
HEALTH_EVERY = 100

DESCRIBE = b"Action=DescribeVpcs&Version=2016-11-15"
HEADERS = {
    "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
    "Authorization": auth_header(),
    "X-Amz-Date": "20261122T000000Z",
}


def start_with_unread_stderr(*args):
    """`reservoir serve ARGS` with stderr on a pipe this test does not read (until it
    drains it to let the process exit). Returns (process, url)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RESERVOIR_")}
    proc = subprocess.Popen(
        [str(find_binary()), "serve", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    first: "queue.Queue[bytes]" = queue.Queue()
    threading.Thread(target=lambda: first.put(proc.stdout.readline()), daemon=True).start()
    try:
        line = first.get(timeout=STARTUP_TIMEOUT).decode().strip()
    except queue.Empty:
        proc.kill()
        raise AssertionError(f"server did not print its address within {STARTUP_TIMEOUT}s")
    assert line.startswith("listening on http://"), line
    return proc, line[len("listening on "):]


def drain(stream, into: list) -> threading.Thread:
    def run():
        for chunk in iter(lambda: stream.read1(65536), b""):
            into.append(chunk)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def health(http, url) -> dict:
    r = http.get(f"{url}/_reservoir/health", timeout=REQUEST_TIMEOUT)
    assert r.status_code == 200, r.text
    return r.json()


def test_unread_stderr_never_stalls_requests():
    proc, url = start_with_unread_stderr(
        "--ephemeral", "--listen", "127.0.0.1:0", "--log-level", "debug"
    )
    stderr: list[bytes] = []
    drainer = None
    try:
        http = requests.Session()
        started = time.monotonic()
        for i in range(REQUESTS):
            try:
                r = http.post(url + "/", data=DESCRIBE, headers=HEADERS, timeout=REQUEST_TIMEOUT)
            except requests.exceptions.RequestException as e:
                raise AssertionError(f"request {i + 1} of {REQUESTS} got no answer: {e!r}") from None
            assert r.status_code == 200, (i, r.status_code, r.text[:500])
            assert b"<DescribeVpcsResponse" in r.content, r.text[:500]
            if (i + 1) % HEALTH_EVERY == 0:
                health(http, url)
            assert time.monotonic() - started < RUN_BUDGET, f"only {i + 1} requests in {RUN_BUDGET}s"
        after = health(http, url)
        elapsed = time.monotonic() - started
        dropped = after["log_lines_dropped"]
        assert isinstance(dropped, int) and 0 <= dropped <= REQUESTS, after
        assert proc.poll() is None, "the server exited"

        # Let the logs out, then stop: a clean SIGTERM exit, every line written or counted.
        drainer = drain(proc.stderr, stderr)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=STOP_TIMEOUT) == 0
        drainer.join(timeout=STOP_TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=STOP_TIMEOUT)
        if drainer is None:
            drain(proc.stderr, stderr).join(timeout=STOP_TIMEOUT)
    logged = b"".join(stderr).decode(errors="replace")
    lines = [line for line in logged.splitlines() if "DescribeVpcs" in line]
    assert REQUESTS - dropped <= len(lines) <= REQUESTS, (len(lines), dropped)
    assert "stopped" in logged.splitlines()[-1], logged[-2000:]
    print(f"{REQUESTS} requests in {elapsed:.1f}s, {dropped} log lines dropped")
