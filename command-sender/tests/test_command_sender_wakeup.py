import threading
import time

import pytest
from sqlalchemy.engine import make_url

from command_sender.wakeup import Wakeup, connect_args
from mission_control.testing import gen_command


def test_listen_connection_keeps_the_urls_query_options():
    url = make_url("postgresql+psycopg2://u:p@db.example:5433/mc?sslmode=require&application_name=cs")
    assert connect_args(url) == {"host": "db.example", "port": 5433, "user": "u", "password": "p",
                                 "dbname": "mc", "sslmode": "require", "application_name": "cs"}


def test_an_insert_wakes_a_waiting_worker_on_postgresql(database):
    if database.engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY exists only on PostgreSQL; SQLite workers poll")
    stopping = threading.Event()
    wakeup = Wakeup(database, stopping)
    wakeup.start()
    try:
        time.sleep(0.5)  # let the listener connect and LISTEN
        woke = threading.Event()
        waiter = threading.Thread(target=lambda: (wakeup.wait(10), woke.set()))
        started = time.monotonic()
        waiter.start()
        gen_command(database)
        waiter.join(10)
        assert woke.is_set() and time.monotonic() - started < 2
    finally:
        stopping.set()
        wakeup.stop()
