"""The pages in docs/ say what the code does: statuses, uplink states, settings, routes, links.

Each check parses a table the page writes in a fixed format (a Markdown table under a named
``## `` heading) and compares it with the code that owns the rule, so a change to either
without the other fails here.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import get_args

import pytest

from mission_control.db import Database
from mission_control.migrate import upgrade
from mission_control.settings import Settings
from mission_control.status import ALLOWED, FINAL, Status

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}
UPLINK_STATES = ["RECEIVED", "EXECUTING", "EXECUTED", "FAILED"]


# -- reading the pages ----------------------------------------------------------------------

def page(name: str) -> str:
    return (DOCS / name).read_text()


def section(text: str, heading: str) -> str:
    """The text under ``## heading`` up to the next heading of that level."""
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"no '## {heading}' section"
    return match.group(1)


def _cells(line: str) -> list[str]:
    # A cell may hold an escaped pipe (`a\|b`), which is not a column separator.
    return [c.strip().replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]


def tables(text: str) -> list[list[dict[str, str]]]:
    """Every Markdown table in ``text``, each as rows keyed by the header's cells."""
    found: list[list[dict[str, str]]] = []
    header: list[str] | None = None
    for line in text.splitlines() + [""]:
        if not line.startswith("|"):
            header = None
            continue
        cells = _cells(line)
        if header is None:
            header = [c.lower() for c in cells]
            found.append([])
        elif not all(set(c) <= set("-: ") for c in cells):
            found[-1].append(dict(zip(header, cells)))
    return found


def only_table(text: str) -> list[dict[str, str]]:
    (table,) = tables(text)
    return table


def code(cell: str) -> str:
    """The first `code span` of a cell (names, defaults and paths are written as code)."""
    match = re.search(r"`([^`]*)`", cell)
    assert match, f"expected a `code` value in {cell!r}"
    return match.group(1)


def names(cell: str) -> set[str]:
    return set() if cell == "none" else {n.strip() for n in cell.split(",")}


# -- the lifecycle and the uplink -----------------------------------------------------------

def test_lifecycle_page_lists_the_statuses_and_transitions_of_the_status_module():
    rows = only_table(section(page("lifecycle.md"), "Statuses"))
    assert [r["status"] for r in rows] == [s.value for s in Status]
    assert {r["status"]: names(r["may change to"]) for r in rows} == \
        {s.value: {t.value for t in following} for s, following in ALLOWED.items()}
    assert {r["status"] for r in rows if r["final"] == "yes"} == {s.value for s in FINAL}
    assert {r["final"] for r in rows} == {"yes", "no"}


def test_lifecycle_page_names_the_workers_columns_as_the_schema_has_them():
    from mission_control.models import Telecommand

    tables = re.findall(r"((?:^\|.*\n)+)", section(page("lifecycle.md"),
                                                    "How the worker schedules a command"), re.M)
    documented = {row.split("|")[1].strip().strip("`") for row in tables[0].splitlines()[2:]}
    columns = set(Telecommand.__table__.c.keys())
    assert documented <= columns
    assert {"transmit_at", "next_step_at", "lease_owner", "lease_expires_at"} <= documented
    assert "due_at" not in columns


def test_uplink_target_states_end_in_the_lifecycles_own_final_statuses():
    from mission_control.uplink_schemas import CommandState

    rows = only_table(section(page("uplink.md"), "States on the target"))
    states = [r["state"] for r in rows]
    assert states == UPLINK_STATES == list(get_args(CommandState))
    final = [r["state"] for r in rows if r["final"] == "yes"]
    # The worker copies a final target state into the telecommand as it is.
    assert final == ["EXECUTED", "FAILED"]
    assert all(Status(state) in FINAL for state in final)
    assert not any(state in Status.__members__ for state in set(states) - set(final))


# -- configuration --------------------------------------------------------------------------

def _as_documented(value: object) -> object:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (str, Path)):
        return str(value).replace(str(Path.cwd()), "<cwd>")
    return value


def _parse_default(text: str, like: object) -> object:
    if isinstance(like, bool) or not isinstance(like, (int, float)):
        return text
    return int(text) if isinstance(like, int) else float(text)


def test_configuration_page_documents_every_setting_with_its_default():
    rows = only_table(section(page("configuration.md"), "Variables"))
    documented = {code(r["name"]): code(r["default"]) for r in rows}
    assert all(name == name.upper() for name in documented)
    fields = Settings.model_fields
    # The variable is the field's name: no prefix, no aliases.
    assert Settings.model_config.get("env_prefix", "") == ""
    assert all(f.alias is None and f.validation_alias is None for f in fields.values())
    undocumented = set(fields) - {n.lower() for n in documented}
    unknown = {n for n in documented if n.lower() not in fields}
    assert not undocumented, f"settings missing from docs/configuration.md: {sorted(undocumented)}"
    assert not unknown, f"docs/configuration.md names variables Settings lacks: {sorted(unknown)}"
    for name, field in fields.items():
        default = _as_documented(field.get_default(call_default_factory=True))
        assert _parse_default(documented[name.upper()], default) == default, name


# -- HTTP routes ----------------------------------------------------------------------------

def _normal(path: str) -> str:
    return re.sub(r"<[^>]+>|\{[^}]+\}", "{}", path)


def documented_routes(heading: str, text: str | None = None) -> set[tuple[str, str]]:
    text = text if text is not None else page("http-api.md")
    routes = set()
    for table in tables(section(text, heading)):
        for row in table:
            if row.get("method") in METHODS:
                routes.add((row["method"], _normal(code(row["path"]))))
    return routes


def registry_resources() -> list[str]:
    table = next(t for t in tables(section(page("http-api.md"), "registry-api"))
                 if "resource" in t[0])
    return [r["resource"] for r in table]


def served_routes(app) -> set[tuple[str, str]]:
    return {(method, _normal(rule.rule)) for rule in app.url_map.iter_rules()
            if rule.endpoint != "static"
            for method in rule.methods - {"HEAD", "OPTIONS"}}


@pytest.fixture(scope="module")
def apps(tmp_path_factory):
    from ground.app import create_app as ground_app
    from registry_api.app import create_app as registry_app
    from spacecraft.app import create_app as spacecraft_app

    url = f"sqlite:///{tmp_path_factory.mktemp('docs') / 'mission-control.db'}"
    upgrade(url)
    database = Database(url)
    settings = Settings(database_url=url)
    yield {"ground": ground_app(settings, database),
           "registry-api": registry_app(settings, database),
           "spacecraft": spacecraft_app(settings, database)}
    database.dispose()


@pytest.mark.parametrize("service", ["ground", "registry-api", "spacecraft"])
def test_http_page_lists_exactly_the_routes_each_service_serves(apps, service):
    served = served_routes(apps[service])
    documented = documented_routes(service) | documented_routes("Every service")
    if service in ("ground", "registry-api"):
        documented |= documented_routes("Authentication (ground and registry-api)")
    if service == "registry-api":
        documented = {(m, p.replace("{}", resource, 1) if p.startswith("/api/v1/{}") else p)
                      for m, p in documented
                      for resource in registry_resources()}
    missing = documented - served
    assert not missing, f"documented in docs/http-api.md but not served: {sorted(missing)}"
    # ground's fragment routes (/ui/...) serve its page and are not an API; /docs/static/
    # holds Swagger UI's files, one row on the page.
    undocumented = {(m, p) for m, p in served - documented
                    if not p.startswith(("/ui/", "/docs/static/"))}
    assert not undocumented, f"served but not in docs/http-api.md: {sorted(undocumented)}"


def test_http_page_lists_the_registrys_resources():
    from registry_api.resources import RESOURCES

    assert registry_resources() == list(RESOURCES)


# -- links ----------------------------------------------------------------------------------

MARKDOWN = [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def _slug(heading: str) -> str:
    """A heading's anchor as GitHub renders it."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _links(path: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return [link for link in re.findall(r"\]\(([^)\s]+)\)", text)
            if not re.match(r"[a-z]+:", link)]


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_files_and_headings_that_exist(path):
    for link in _links(path):
        target, _, anchor = link.partition("#")
        resolved = (path.parent / target).resolve() if target else path
        assert resolved.exists(), f"{link} in {path.name} points to nothing"
        if anchor and resolved.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", resolved.read_text(), re.M)
            assert anchor in {_slug(h) for h in headings}, f"{link} in {path.name}: no such heading"


@pytest.mark.parametrize("path", MARKDOWN, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_page_sends_readers_outside_the_repository(path):
    text = path.read_text()
    assert "../shared" not in text and "DESIGN.md" not in text
    for link in _links(path):
        resolved = (path.parent / link.partition("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{link} in {path.name} leaves the repository"


def test_readme_and_the_docs_index_link_every_page():
    pages = {p.name for p in DOCS.glob("*.md")}
    readme = {link.removeprefix("docs/") for link in _links(ROOT / "README.md")
              if link.startswith("docs/")}
    index = set(_links(DOCS / "README.md"))
    assert pages <= readme
    assert pages - {"README.md"} <= index


def test_robot_server_page_lists_exactly_the_routes_it_serves(tmp_path):
    from robot_server.app import create_app as robot_server_app

    url = f"sqlite:///{tmp_path / 'mission-control.db'}"
    upgrade(url)
    database = Database(url)
    try:
        app = robot_server_app(Settings(database_url=url), database)
        served = {(m, p) for m, p in served_routes(app) if not p.startswith("/docs/static/")}
    finally:
        database.dispose()
    documented = documented_routes("Routes", page("robot-server.md")) | \
        documented_routes("Every service")
    documented = {(m, p) for m, p in documented if not p.startswith("/docs/static/")}
    assert served == documented
