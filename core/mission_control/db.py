"""Engines and sessions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterable, Iterator, Literal

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


CONNECT_TIMEOUT_S = 5  # libpq counts whole seconds, at least 2
PING_TIMEOUT_S = 3.0


def make_engine(url: str, **kwargs) -> Engine:
    """Create an engine; on SQLite turn on WAL, a busy timeout and foreign keys.

    SQLite transactions start with BEGIN IMMEDIATE: a transaction that reads and then writes
    would otherwise fail at once with "database is locked" when another writer got in between,
    instead of waiting for the busy timeout.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs.pop("pool_max", None)  # one writer at a time anyway
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None  # we emit BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        if kwargs.get("isolation_level") != "AUTOCOMMIT":
            @event.listens_for(engine, "begin")
            def _on_begin(connection):
                connection.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    pool_max = kwargs.pop("pool_max", None)
    if pool_max:  # a hard cap (DB_POOL_SIZE): callers beyond it wait for a connection
        kwargs.update(pool_size=pool_max, max_overflow=0)
    kwargs.setdefault("pool_size", 10)
    kwargs.setdefault("max_overflow", 20)
    # No pre-ping: it costs a round trip on every checkout. A connection broken by a server
    # restart fails one statement (answered 503, or the worker's pass is retried) and
    # SQLAlchemy then replaces the whole pool.
    kwargs.setdefault("pool_recycle", 1800)
    if parsed.get_backend_name() == "postgresql":
        # Without it libpq waits as long as the operating system does (minutes) for a host
        # that does not answer, and every request (and /health) waits with it.
        connect_args = kwargs.setdefault("connect_args", {})
        connect_args.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    # An UPDATE run with many parameter sets (the worker's per-command times) goes out in
    # pages of statements, not one round trip each; INSERTs keep multi-row VALUES.
    if parsed.get_driver_name() == "psycopg2":
        kwargs.setdefault("executemany_mode", "values_plus_batch")
    return create_engine(url, **kwargs)


def database_address(url: str) -> str:
    """A database URL fit to print or log: the password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def is_postgresql(bind: Engine | Connection) -> bool:
    return bind.dialect.name == "postgresql"


def array_literal(values: Iterable[object]) -> str:
    """A PostgreSQL array's text form (``{"a","b",NULL}``), bound as one parameter and cast
    (``CAST(:p AS text[])``): writes of thousands of rows pass each column as one array. A
    Python list bound instead is adapted by psycopg2 element by element, about four times
    the CPU. Every element is quoted (a backslash or double quote escaped), None is NULL;
    numbers, datetimes and UUIDs are written as str() gives them."""
    return "{" + ",".join(
        "NULL" if value is None else
        '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
        for value in values) + "}"


Violation = Literal["unique", "foreign_key", "other"]
_PG_CODES: dict[str, Violation] = {"23505": "unique", "23503": "foreign_key"}
_SQLITE_NAMES: dict[str, Violation] = {"SQLITE_CONSTRAINT_UNIQUE": "unique",
                                       "SQLITE_CONSTRAINT_PRIMARYKEY": "unique",
                                       "SQLITE_CONSTRAINT_FOREIGNKEY": "foreign_key"}


def violation(error: IntegrityError) -> Violation:
    """Which kind of constraint an IntegrityError broke, on either database."""
    original = error.orig
    code = getattr(original, "pgcode", None)  # psycopg2
    if code is not None:
        return _PG_CODES.get(code, "other")
    return _SQLITE_NAMES.get(getattr(original, "sqlite_errorname", ""), "other")


class Database:
    """An engine and its session factory; one per process."""

    def __init__(self, url: str, **engine_kwargs) -> None:
        self.url = url
        self.engine = make_engine(url, **engine_kwargs)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        # Its own small pool of autocommit connections: each statement is its own transaction
        # (no BEGIN or COMMIT round trips), and no connection switches modes per checkout.
        self.autocommitting = make_engine(url, isolation_level="AUTOCOMMIT", **engine_kwargs)
        self._ping_lock = threading.Lock()
        self._pinging: tuple[threading.Thread, list[bool]] | None = None

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    @property
    def is_postgresql(self) -> bool:
        return is_postgresql(self.engine)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A connection inside one transaction, for Core statements that need no ORM session."""
        with self.engine.begin() as connection:
            yield connection

    @contextmanager
    def autocommit(self) -> Iterator[Connection]:
        """A connection on which every statement is its own transaction: for reads of one
        statement each (each sees one consistent snapshot, and on SQLite none takes the write
        lock) and for writes that are a single statement. No BEGIN or COMMIT round trips."""
        with self.autocommitting.connect() as connection:
            yield connection

    def ping(self, timeout_s: float = PING_TIMEOUT_S) -> bool:
        """Whether the database answers a query within ``timeout_s``.

        The query runs on a daemon thread, so a database that accepted the connection but
        never answers (or a pool with no free connection) costs the caller a bounded wait.
        Callers asking while a query is out wait for that same one: however often they ask,
        at most one query is ever stuck, and it never holds up the process's exit."""
        with self._ping_lock:
            if self._pinging is None or not self._pinging[0].is_alive():
                answer: list[bool] = []
                thread = threading.Thread(target=lambda: answer.append(self._ping()),
                                          name="db-ping", daemon=True)
                thread.start()
                self._pinging = (thread, answer)
            thread, answer = self._pinging
        thread.join(timeout_s)
        return bool(answer) and answer[0]

    def _ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    def dispose(self) -> None:
        self.engine.dispose()
        self.autocommitting.dispose()
