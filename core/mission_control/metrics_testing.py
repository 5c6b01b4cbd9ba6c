"""Test helpers for /metrics pages: read a figure, check a page with promtool. Tests only."""

from __future__ import annotations

import os
import subprocess

from prometheus_client.parser import text_string_to_metric_families

from .testing import tool

PROMTOOL = os.environ.get("PROMTOOL", "promtool")


def samples(page: str | bytes) -> dict[tuple[str, frozenset], float]:
    """Every sample of a /metrics page: (name, its labels) -> value."""
    text = page.decode() if isinstance(page, bytes) else page
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def figure(page: str | bytes, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels`` (0 if none)."""
    wanted = set(labels.items())
    return sum(value for (sample, have), value in samples(page).items()
               if sample == name and wanted <= have)


def label_values(page: str | bytes, name: str, label: str) -> set[str]:
    return {dict(have)[label] for (sample, have) in samples(page)
            if sample == name and label in dict(have)}


def promtool_check(page: str | bytes) -> None:
    """``promtool check metrics`` passes the page: no error and no lint warning. Without
    promtool (Debian's prometheus package) the test is skipped, and fails in CI (CI=true)."""
    promtool = tool(PROMTOOL, "Debian package prometheus")
    data = page if isinstance(page, bytes) else page.encode()
    result = subprocess.run([promtool, "check", "metrics"], input=data, capture_output=True,
                            timeout=60)
    output = (result.stdout + result.stderr).decode(errors="replace")
    assert result.returncode == 0 and not output.strip(), output
