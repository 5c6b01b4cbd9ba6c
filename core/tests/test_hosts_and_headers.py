"""The Host check and the security headers every service gets from web.service_app, on a
bare service app (ground's own pages are covered in ground/tests/test_ground_signin.py)."""

from __future__ import annotations

import pytest
from flask import Response

from mission_control.headers import CONTENT_SECURITY_POLICY
from mission_control.hosts import allowed_hosts, normalize
from mission_control.settings import Settings
from mission_control.testing import assert_error
from mission_control.web import service_app


@pytest.fixture
def make_client(database, var_dir):
    def build(**overrides):
        settings = Settings(database_url=database.url, var_dir=var_dir, **overrides)
        app = service_app(__name__, "test", settings, database, lambda: {"openapi": "3.1.0"},
                          "Test")

        @app.get("/page")
        def page():
            return Response("<!doctype html><p>hi</p>", mimetype="text/html")

        @app.get("/own-policy")
        def own_policy():
            return Response("<p>x</p>", mimetype="text/html",
                            headers={"Content-Security-Policy": "default-src 'none'"})

        return app.test_client()

    return build


@pytest.mark.parametrize("raw, host", [
    ("localhost", "localhost"), ("LocalHost:5000", "localhost"), ("[::1]:8080", "::1"),
    ("[::1]", "::1"), ("::1", "::1"), ("ground.example.", "ground.example"),
    ("127.0.0.1:80", "127.0.0.1"), ("", ""), ("[", ""),
])
def test_a_host_is_compared_without_port_case_or_trailing_dot(raw, host):
    assert normalize(raw) == host


def test_the_default_hosts_are_local_and_the_service_urls():
    settings = Settings(ground_url="http://Ground.Example:5000", registry_url="http://[fd00::5]:80")
    assert allowed_hosts(settings) == {"localhost", "127.0.0.1", "::1", "ground.example",
                                       "fd00::5"}
    assert allowed_hosts(Settings(allowed_hosts=" a.example , b.example:443 ")) == \
        {"a.example", "b.example"}
    assert allowed_hosts(Settings(allowed_hosts="a.example,*")) is None


def test_every_service_refuses_another_host_in_json(make_client):
    client = make_client()
    for path in ("/health", "/docs", "/openapi.json", "/page", "/nowhere"):
        response = client.get(path, headers={"Host": "rebound.example"})
        assert_error(response, 400, "bad_host")
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/health", headers={"Host": "127.0.0.1:9"}).status_code == 200


def test_html_gets_the_policy_and_every_answer_nosniff(make_client):
    client = make_client()
    for path in ("/page", "/docs"):
        response = client.get(path)
        assert response.headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "same-origin"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    for path in ("/health", "/openapi.json", "/nowhere", "/docs/static/init.js"):
        response = client.get(path)
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert "Content-Security-Policy" not in response.headers, path
    assert client.get("/own-policy").headers["Content-Security-Policy"] == "default-src 'none'"
