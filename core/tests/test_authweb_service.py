"""authweb's ``@service`` marker: a view our own services call takes the UPLINK_KEY as its
bearer, besides a user's token with the view's role; every other view refuses the key."""

from __future__ import annotations

import pytest
from flask import Blueprint

from mission_control import keys
from mission_control.authweb import current_identity, protect, service
from mission_control.settings import Settings
from mission_control.testing import assert_error, bearer, token_for
from mission_control.web import service_app

bp = Blueprint("probe", __name__)


@bp.post("/check")
@service
def check():
    identity = current_identity()
    return {"caller": identity.username if identity else "service"}


@bp.post("/write")
def write():
    return {"caller": current_identity().username}


@pytest.fixture
def app(database, var_dir):
    app = service_app(__name__, "probe", Settings(database_url=database.url, var_dir=var_dir),
                      database, dict, "probe")
    app.register_blueprint(bp)
    protect(app)
    return app


def test_the_uplink_key_opens_a_service_view_only(app):
    key = bearer(keys.uplink_key(app.extensions["settings"]))
    client = app.test_client()
    assert client.post("/check", headers=key).get_json() == {"caller": "service"}
    response = client.post("/write", headers=key)
    assert_error(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_service_view_still_takes_a_user_with_its_role_and_no_one_else(app, database):
    client = app.test_client()
    admin = bearer(token_for(database, "root", "admin"))
    assert client.post("/check", headers=admin).get_json() == {"caller": "root"}
    operator = bearer(token_for(database, "op", "operator"))
    assert assert_error(client.post("/check", headers=operator), 403)["required_role"] == "admin"
    key = keys.uplink_key(app.extensions["settings"])
    for headers in ({}, bearer(key[:-1]), bearer(key + "x"), {"Authorization": key}):
        assert_error(client.post("/check", headers=headers), 401, "unauthorized")


def test_the_access_line_names_a_caller_holding_the_uplink_key(app, caplog):
    key = bearer(keys.uplink_key(app.extensions["settings"]))
    caplog.clear()
    with caplog.at_level("INFO", logger="mission_control.access"):
        assert app.test_client().post("/check", headers=key).status_code == 200
    [line] = [r for r in caplog.records if r.name == "mission_control.access"]
    assert line.user == "uplink-key"
