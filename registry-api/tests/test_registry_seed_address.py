"""``registry-seed`` says which database it seeded, with the password hidden (as `make run`)."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import make_url

from registry_api.seed import main


def test_seed_prints_the_database_it_seeded(database, fast_hashing, capsys):
    main(["--database-url", database.url])
    first = capsys.readouterr().out
    main(["--database-url", database.url])
    second = capsys.readouterr().out
    where = make_url(database.url).database  # the SQLite file or the PostgreSQL database
    assert "seeded demo.json into" in first and where in first and "1 workspaces" in first
    assert where in second and "nothing new" in second


def test_seed_hides_the_database_password(database, fast_hashing, capsys):
    if not database.is_postgresql:
        pytest.skip("an SQLite URL carries no password")
    # The test server trusts local connections, so any password connects.
    url = make_url(database.url).set(password="s3cret").render_as_string(hide_password=False)
    main(["--database-url", url])
    out = capsys.readouterr().out
    assert "s3cret" not in out and ":***@" in out
