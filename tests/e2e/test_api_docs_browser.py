"""Each service's /docs in headless Chromium: Swagger UI renders the OpenAPI 3.1 document and
lists every operation in it, asking nothing of any other host."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import requests

from .test_operator_page_browser import browser  # noqa: F401  (the shared Chromium fixture)

pytestmark = pytest.mark.browser

METHODS = {"get", "put", "post", "delete", "patch"}


def documented_operations(base_url: str) -> set[tuple[str, str]]:
    document = requests.get(f"{base_url}/openapi.json", timeout=10).json()
    assert document["openapi"].startswith("3.1")
    return {(method.upper(), path) for path, item in document["paths"].items()
            for method in item if method in METHODS}


def listed_operations(page) -> set[tuple[str, str]]:
    return set(map(tuple, page.locator(".opblock").evaluate_all(
        """blocks => blocks.map(b => [
             b.querySelector('.opblock-summary-method').textContent.trim(),
             b.querySelector('.opblock-summary-path').dataset.path])""")))


def test_docs_of_every_service_list_their_operations(system_factory, browser, tmp_path):  # noqa: F811
    system = system_factory(services=("ground", "spacecraft", "registry-api"))
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    hosts: set[str] = set()
    context.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or ""))
    page = context.new_page()
    page.set_default_timeout(15_000)
    for name, url in (("ground", system.ground_url), ("spacecraft", system.spacecraft_url),
                      ("registry-api", system.registry_url)):
        expected = documented_operations(url)
        page.goto(f"{url}/docs")
        page.wait_for_selector(".opblock")
        page.screenshot(path=str(tmp_path / f"docs-{name}.png"), full_page=True)
        assert "Unable to render this definition" not in page.inner_text("body"), name
        assert page.locator(".version-stamp").inner_text().strip().startswith("OAS 3.1"), name
        assert listed_operations(page) == expected, name
    context.close()
    assert hosts and hosts <= system.hostnames, hosts
