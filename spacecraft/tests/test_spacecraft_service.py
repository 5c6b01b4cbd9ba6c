"""Health, the OpenAPI document and the offline API docs page."""

from __future__ import annotations

import json
import re

import pytest

from mission_control.db import Database
from mission_control.settings import Settings
from spacecraft.app import create_app

UNREACHABLE_DATABASE_URL = "postgresql+psycopg2://postgres@127.0.0.1:1/none"


@pytest.fixture
def offline_client():
    """A spacecraft whose database never answers."""
    database = Database(UNREACHABLE_DATABASE_URL)
    yield create_app(Settings(database_url=UNREACHABLE_DATABASE_URL), database).test_client()
    database.dispose()


def test_health_is_ok_with_a_reachable_database(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json()["database"] == "ok"


def test_health_is_unavailable_without_the_database(offline_client):
    response = offline_client.get("/health")
    assert response.status_code == 503
    assert response.get_json()["error"] == "unavailable"


def test_app_keeps_the_database_it_was_given(make_app, database):
    assert make_app().extensions["database"] is database


def test_openapi_document_describes_the_uplink(offline_client):
    document = offline_client.get("/openapi.json").get_json()
    assert document["openapi"].startswith("3.")
    assert {"/commands", "/commands/{command_id}", "/state", "/health"} <= set(document["paths"])
    receive = document["paths"]["/commands"]["post"]
    assert {"202", "400", "413", "415", "422"} <= set(receive["responses"])
    schemas = document["components"]["schemas"]
    refs = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', json.dumps(document))
    assert refs
    for ref in refs:
        assert ref in schemas


def test_docs_page_uses_only_local_assets(offline_client):
    response = offline_client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assets = re.findall(r'(?:src|href)="([^"]+)"', response.get_data(as_text=True))
    assert assets
    for asset in assets:
        assert asset.startswith("/docs/static/")
        assert offline_client.get(asset).status_code == 200


def test_openapi_document_describes_both_forms_and_every_error(make_app):
    from mission_control.catalog import commands_for

    document = make_app(uplink_batch_max=7).test_client().get("/openapi.json").get_json()
    receive = document["paths"]["/commands"]["post"]
    one_of = receive["requestBody"]["content"]["application/json"]["schema"]["oneOf"]
    assert [ref["$ref"].rsplit("/", 1)[1] for ref in one_of] == ["CatalogCommand", "UplinkBatch"]
    query = document["paths"]["/commands/query"]["post"]
    assert set(query["responses"]) == {"200", "400", "401", "413", "415", "422"}
    assert set(receive["responses"]) == {"202", "400", "401", "413", "415", "422"}
    schemas = document["components"]["schemas"]
    assert schemas["CatalogCommand"]["properties"]["command_name"]["enum"] == \
        sorted(commands_for("spacecraft"))
    assert schemas["UplinkBatch"]["properties"]["commands"]["maxItems"] == 7
    assert schemas["UplinkQuery"]["properties"]["ids"]["maxItems"] == 7
    for path in ("/commands/{command_id}", "/state"):
        assert "execute" not in document["paths"][path]["get"]["summary"].lower()


def test_openapi_document_declares_the_uplink_key(offline_client):
    document = offline_client.get("/openapi.json").get_json()
    scheme = document["components"]["securitySchemes"]["uplinkKey"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    keyed = {("post", "/commands"), ("post", "/commands/query"), ("get", "/commands/{command_id}")}
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if (method, path) in keyed:
                assert operation["security"] == [{"uplinkKey": []}]
                assert "401" in operation["responses"]
            else:
                assert operation["security"] == [] and "401" not in operation["responses"]
    reboot = document["components"]["schemas"]["Command_REBOOT"]
    assert "confirmed_by" in reboot["required"]
    assert "confirmed_by" not in document["components"]["schemas"]["Command_PING"]["required"]
