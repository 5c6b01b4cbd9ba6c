"""Password checks run at a lower CPU priority than the requests around them (a reconnect
storm must not starve the heartbeats of robots already connected)."""

from __future__ import annotations

import os
import threading

from robot_server import green


def _own_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


def test_hashing_threads_run_niced_and_the_caller_keeps_its_priority():
    seen: list[int] = []
    work = green._at_low_priority(_own_nice)
    hashing = threading.Thread(target=lambda: seen.extend([work(), work()]))
    before = _own_nice()
    hashing.start()
    hashing.join(10)
    assert seen == [min(19, before + green.HASHING_NICE)] * 2  # niced once, 19 at most
    assert _own_nice() == before  # the calling thread is untouched
