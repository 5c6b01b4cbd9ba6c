"""A long query string reaches the app under gunicorn and gets its JSON 4xx, not an HTML 414."""

import requests


def test_a_query_string_over_4_kib_gets_a_json_error(system_factory):
    system = system_factory(services=("ground",))
    response = requests.get(f"{system.ground_url}/api/telecommands",
                            params=[("limit", "x" * 50)] * 200, headers=system.headers("viewer"),
                            timeout=10)
    assert len(response.request.url) > 8192
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
