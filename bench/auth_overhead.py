"""What authentication costs each request, measured in-process: ``python -m bench.auth_overhead``.

The end-to-end POST/s and GET/s figures of ``make bench`` move 10-30 % between runs on this
machine, more than the ≤ 10 % that authentication may cost, so this measures the cost itself:
the CPU time of ground's before-request hooks (the Host check and the guard with a bearer
token), next to the CPU time of a whole request through Flask's test client. The token check
is cached per process (mission_control.token_cache), so the figure is that of a client
sending many requests; an uncached check (once per token per 0.5 s per process) is also shown.
"""

from __future__ import annotations

import tempfile
import time

from ground.app import create_app
from mission_control import auth
from mission_control.db import Database
from mission_control.migrate import upgrade
from mission_control.settings import Settings
from mission_control.testing import token_for


def cpu_us(action, count: int) -> float:
    started = time.process_time()
    for _ in range(count):
        action()
    return (time.process_time() - started) / count * 1e6


def main() -> None:
    folder = tempfile.mkdtemp(prefix="auth-overhead-")
    url = f"sqlite:///{folder}/mission-control.db"
    upgrade(url)
    database = Database(url)
    app = create_app(Settings(database_url=url, var_dir=folder), database)
    token = token_for(database, "ada", "operator")
    headers = {"Authorization": f"Bearer {token}", "Host": "127.0.0.1:5000"}
    client = app.test_client()
    for run in range(3):
        with app.test_request_context("/api/telecommands", method="POST", headers=headers,
                                      json={"command_name": "PING"}):
            hooks = cpu_us(app.preprocess_request, 20_000)

            def uncached():
                auth.recent.clear()
                app.preprocess_request()

            cold = cpu_us(uncached, 2_000)
        whole = cpu_us(lambda: client.get("/api/catalog", headers=headers), 1_000)
        print(f"run {run + 1}: Host check + guard {hooks:.0f} us CPU per request (token "
              f"cached), {cold:.0f} us uncached; a whole GET /api/catalog {whole:.0f} us "
              f"(the hooks are {hooks / whole:.1%} of it)")
    database.dispose()


if __name__ == "__main__":
    main()
