"""robot-server under gunicorn's gevent worker (mc-serve): one process holds thousands of idle
long polls as greenlets instead of one thread each. gevent's monkey-patching makes sockets,
locks, events and threads cooperative; psycopg2 is C code and needs psycogreen's wait callback
as well, or every database call would block the whole process; and a password check (argon2,
a fifth of a second of CPU) runs on gevent's native thread pool, so opening sessions never
stops the other greenlets.

Those hashing threads also run at a lower CPU priority (nice ``HASHING_NICE``; argon2's own
lane threads inherit it): in a reconnect storm every robot asks for a session at once, and
the machine's cores would otherwise go to hashing while the robots already connected wait
for their heartbeats' answers. With spare CPU, hashing runs at full speed all the same."""

from __future__ import annotations

import logging
import os
import threading
from typing import Callable, TypeVar

from mission_control import passwords

from . import one_send

HASHING_NICE = 10
T = TypeVar("T")
log = logging.getLogger(__name__)
_niced: set[int] = set()


def _at_low_priority(work: Callable[[], T]) -> Callable[[], T]:
    def run() -> T:
        thread = threading.get_native_id()
        if thread not in _niced:
            _niced.add(thread)
            try:  # this thread only (Linux: a thread's nice value is its own)
                nice = os.getpriority(os.PRIO_PROCESS, thread)
                os.setpriority(os.PRIO_PROCESS, thread, min(19, nice + HASHING_NICE))
            except OSError as error:  # not allowed here: hashes run at normal priority
                log.warning("password checks keep normal CPU priority: %s", error)
        return work()

    return run


def cooperate() -> None:
    """When gevent has patched this process (gunicorn's gevent worker does before it loads
    the app): psycopg2 yields to other greenlets while it waits, and password hashes run on
    native threads. Otherwise nothing."""
    try:
        from gevent import get_hub, monkey
    except ImportError:  # gevent is not installed: not under the gevent worker either
        return
    if monkey.is_module_patched("socket"):
        from psycogreen.gevent import patch_psycopg

        patch_psycopg()
        one_send.install()  # gunicorn: an answer's headers and body in one send
        passwords.run_hashes_on(
            lambda work: get_hub().threadpool.apply(_at_low_priority(work)))
