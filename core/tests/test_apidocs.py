"""/openapi.json and /docs: Swagger UI 5 served from the core package, no CDN."""

from __future__ import annotations

from flask import Flask

from mission_control.apidocs import SWAGGER_UI, docs_blueprint


def _client():
    app = Flask(__name__)
    app.register_blueprint(docs_blueprint(lambda: {"openapi": "3.1.0", "paths": {}}, "Test"))
    return app.test_client()


def test_the_docs_page_loads_swagger_ui_from_this_server_only():
    client = _client()
    page = client.get("/docs").get_data(as_text=True)
    assert "https://" not in page and "http://" not in page
    init = client.get("/docs/static/init.js").get_data(as_text=True)
    assert 'url: "/openapi.json"' in init and "validatorUrl: null" in init
    for name in ("swagger-ui-bundle.js", "swagger-ui.css"):
        response = client.get(f"/docs/static/{name}")
        assert response.status_code == 200
        assert response.get_data() == (SWAGGER_UI / name).read_bytes()


def test_the_vendored_swagger_ui_is_version_5_which_renders_openapi_3_1():
    bundle = (SWAGGER_UI / "swagger-ui-bundle.js").read_text()
    assert 'PACKAGE_VERSION:"5.' in bundle
    assert (SWAGGER_UI / "LICENSE").exists()


def test_the_document_is_served_as_json():
    assert _client().get("/openapi.json").get_json() == {"openapi": "3.1.0", "paths": {}}
