"""Wake the worker early: on PostgreSQL a LISTEN connection, everywhere a local event.

The loop waits on one threading.Event with a timeout (the poll interval); finished steps and
PostgreSQL notifications (a trigger NOTIFYs on every insert into telecommands) set it.
"""

from __future__ import annotations

import logging
import select
import threading

import psycopg2
from sqlalchemy.engine import URL, make_url

from mission_control.db import CONNECT_TIMEOUT_S, Database

log = logging.getLogger("command_sender.wakeup")
CHANNEL = "telecommands"


def connect_args(url: URL) -> dict:
    """psycopg2 keyword arguments for a SQLAlchemy URL, query options (sslmode, ...) included."""
    return {**url.translate_connect_args(username="user", database="dbname"), **dict(url.query)}


class Wakeup:
    def __init__(self, database: Database, stopping: threading.Event) -> None:
        self._event = threading.Event()
        self._stopping = stopping
        self._url = make_url(database.url)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._url.get_backend_name() == "postgresql":
            self._thread = threading.Thread(target=self._listen, name="listen", daemon=True)
            self._thread.start()

    def poke(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> None:
        self._event.wait(timeout)
        self._event.clear()

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=3)

    def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                # The engines' connect timeout, unless the URL sets its own: a database host
                # that does not answer must not hold the LISTEN thread for minutes.
                connection = psycopg2.connect(
                    **{"connect_timeout": CONNECT_TIMEOUT_S, **connect_args(self._url)})
            except psycopg2.Error as error:
                log.warning("LISTEN connection failed (%s); polling only, retrying in 5s", error)
                self._stopping.wait(5)
                continue
            try:
                connection.autocommit = True
                connection.cursor().execute(f"LISTEN {CHANNEL}")
                while not self._stopping.is_set():
                    if select.select([connection], [], [], 1.0)[0]:
                        connection.poll()
                        if connection.notifies:
                            connection.notifies.clear()
                            self._event.set()
            except (psycopg2.Error, OSError) as error:
                log.warning("LISTEN connection lost (%s); reconnecting", error)
            finally:
                connection.close()
