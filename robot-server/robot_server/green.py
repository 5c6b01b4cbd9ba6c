"""robot-server under gunicorn's gevent worker (mc-serve): one process holds thousands of idle
long polls as greenlets instead of one thread each. gevent's monkey-patching makes sockets,
locks, events and threads cooperative; psycopg2 is C code and needs psycogreen's wait callback
as well, or every database call would block the whole process; and a password check (argon2,
a fifth of a second of CPU) runs on gevent's native thread pool, so opening sessions never
stops the other greenlets."""

from __future__ import annotations

from mission_control import passwords


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
        passwords.run_hashes_on(lambda work: get_hub().threadpool.apply(work))
