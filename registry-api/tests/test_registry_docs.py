"""The OpenAPI document and Swagger UI: served offline, every schema and error described."""

from __future__ import annotations


def test_swagger_ui_is_served_without_a_cdn(client):
    page = client.get("/docs").get_data(as_text=True)
    assert "https://" not in page and "/docs/static/swagger-ui-bundle.js" in page
    assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs/static/swagger-ui.css").status_code == 200


def test_every_operation_documents_its_bodies_and_errors(client):
    document = client.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    operations = [(path, method, op) for path, item in document["paths"].items()
                  for method, op in item.items() if method != "parameters"]
    assert len(operations) >= 6 * 5 + 2
    for path, method, op in operations:
        assert op["responses"], (path, method)
        for status, response in op["responses"].items():
            if status.startswith(("4", "5")):
                assert response["content"]["application/json"]["schema"] == \
                    {"$ref": "#/components/schemas/Error"}, (path, method, status)
        if method in ("post", "patch"):
            ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            assert ref.rsplit("/", 1)[1] in schemas
            assert {"400", "413", "415", "422"} <= set(op["responses"]), (path, method)
    exposed = set(schemas["RobotOut"]["properties"])
    assert {"has_password", "has_network_password"} <= exposed
    assert not exposed & {"password", "network_password", "password_hash", "network_password_hash"}
    assert schemas["RobotIn"]["additionalProperties"] is False


def test_health_reports_the_service(client):
    assert client.get("/health").get_json()["service"] == "registry-api"


def test_the_document_declares_the_bearer_scheme_on_every_guarded_operation(anonymous):
    document = anonymous.get("/openapi.json").get_json()  # open without credentials
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
    assert {"/api/auth/tokens", "/api/auth/tokens/{token_id}", "/api/auth/me", "/api/users",
            "/api/users/{user_id}"} <= set(document["paths"])
    open_operations = {("get", "/health"), ("post", "/api/auth/tokens")}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if (method, path) in open_operations:
                assert operation["security"] == [], (method, path)
                continue
            assert operation["security"] == [{"bearerAuth": []}], (method, path)
            assert "401" in operation["responses"], (method, path)
            if method != "get" and path != "/api/auth/tokens/{token_id}":  # writes: admin
                assert "403" in operation["responses"], (method, path)
                assert "Needs the admin role." in operation["description"], (method, path)
    verify = document["paths"]["/api/v1/robots/{item_id}/verify-password"]["post"]
    assert {"401", "403", "429", "503"} <= set(verify["responses"])
    assert "UPLINK_KEY" in verify["description"]
