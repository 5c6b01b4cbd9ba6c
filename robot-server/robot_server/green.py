"""robot-server under gunicorn's gevent worker (mc-serve): one process holds thousands of idle
long polls as greenlets instead of one thread each. gevent's monkey-patching makes sockets,
locks, events and threads cooperative; psycopg2 is C code and needs psycogreen's wait callback
as well, or every database call would block the whole process."""

from __future__ import annotations


def patch_psycopg() -> None:
    """Make psycopg2 yield to other greenlets while it waits, when gevent has patched this
    process (gunicorn's gevent worker does before it loads the app); otherwise nothing."""
    try:
        from gevent import monkey
    except ImportError:  # gevent is not installed: not under the gevent worker either
        return
    if monkey.is_module_patched("socket"):
        from psycogreen.gevent import patch_psycopg as patch

        patch()
