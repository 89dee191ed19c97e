"""PostgreSQL for the end-to-end suite: fresh databases, made and dropped through the
maintenance database named by RESERVOIR_TEST_PG_URL.

Two settings, both read from the environment of the pytest process:

- RESERVOIR_TEST_PG_URL: the maintenance database, e.g.
  `postgres://postgres@127.0.0.1:5432/postgres`. When it is set, the tests that need
  PostgreSQL (two servers on one database, the PostgreSQL crash test) run; each makes its
  own database through it and drops it afterwards.
- RESERVOIR_TEST_STORE=postgres: the whole suite in PostgreSQL mode. Every server the
  suite starts with `--ephemeral` (through conftest's `start_server`) is started with
  `--store <URL of a fresh database>` instead. Needs RESERVOIR_TEST_PG_URL too.

Databases are named `reservoir_t_<pid>_<n>` (the pytest process's id and a counter), each
dropped when its server is cleaned up and, whatever is left, at the end of the session.

Not a test module: conftest and the tests import what they use from here.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
from urllib.parse import urlsplit, urlunsplit

PG_URL_VAR = "RESERVOIR_TEST_PG_URL"
STORE_VAR = "RESERVOIR_TEST_STORE"
STORES = ("sqlite", "postgres")
PREFIX = "reservoir_t_"
CONNECT_TIMEOUT = 10

_counter = itertools.count(1)
_lock = threading.Lock()
_made: set[str] = set()


def pg_url() -> str | None:
    """The maintenance database's URL, or None when PostgreSQL tests are off."""
    url = os.environ.get(PG_URL_VAR, "").strip()
    return url or None


def store_mode() -> str:
    """"sqlite" (the default) or "postgres"; anything else is a usage error."""
    mode = os.environ.get(STORE_VAR, "").strip().lower() or "sqlite"
    if mode not in STORES:
        raise ValueError(f"{STORE_VAR}={os.environ.get(STORE_VAR)!r}: expected one of {', '.join(STORES)}")
    return mode


def postgres_mode() -> bool:
    return store_mode() == "postgres"


def skip_reason_without_pg() -> str:
    return (
        f"needs PostgreSQL: set {PG_URL_VAR} to a maintenance database URL, e.g. "
        "postgres://postgres@127.0.0.1:5432/postgres (tests make and drop their own databases)"
    )


def _connect(url: str | None = None):
    import psycopg  # only PostgreSQL runs need it imported

    return psycopg.connect(url or pg_url(), autocommit=True, connect_timeout=CONNECT_TIMEOUT)


def check_server() -> str:
    """Connects to the maintenance database; answers PostgreSQL's version, or raises with
    a message saying what is wrong."""
    url = pg_url()
    if url is None:
        raise RuntimeError(f"{PG_URL_VAR} is not set")
    try:
        with _connect(url) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]
    except Exception as e:
        raise RuntimeError(f"cannot connect to PostgreSQL at {url} ({PG_URL_VAR}): {e}") from e


def database_url(name: str) -> str:
    """The maintenance URL with its database replaced by `name` (user, host, port and
    query parameters kept)."""
    parts = urlsplit(pg_url())
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def create_database() -> tuple[str, str]:
    """Makes a fresh, empty database; answers (name, URL). The server makes its schema."""
    from psycopg import sql

    with _lock:
        name = f"{PREFIX}{os.getpid()}_{next(_counter)}"
        _made.add(name)
    with _connect() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name, database_url(name)


def drop_database(name: str) -> None:
    """Drops the database, ending whatever sessions are still connected to it."""
    from psycopg import sql

    with _connect() as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    with _lock:
        _made.discard(name)


def drop_all() -> list[str]:
    """Drops every database this process made and has not dropped yet; answers their names."""
    with _lock:
        names = sorted(_made)
    for name in names:
        drop_database(name)
    return names


@contextlib.contextmanager
def pg_database():
    """A fresh database for the block: yields its URL (for `reservoir serve --store URL`)
    and drops it afterwards. Stop the servers that use it before the block ends."""
    name, url = create_database()
    try:
        yield url
    finally:
        drop_database(name)


def databases_left() -> list[str]:
    """This process's databases that still exist (for checks)."""
    with _connect() as conn:
        rows = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s ORDER BY datname",
            (f"{PREFIX}{os.getpid()}\\_%",),
        ).fetchall()
    return [r[0] for r in rows]
