"""bench/wrk.py's pure parts: Lua literals, request templates, and the result line of done()."""

import json

import pytest

from bench import wrk


def test_lua_string_escapes_quotes_backslashes_and_non_ascii_bytes():
    assert wrk.lua_string('a"b\\c') == '"a\\034b\\092c"'
    assert wrk.lua_string("é\n") == '"\\195\\169\\010"'
    assert wrk.lua_string("/api/v1/robots?level_id=1&limit=50") == '"/api/v1/robots?level_id=1&limit=50"'


def test_lua_parts_splits_templates_on_the_placeholders():
    assert wrk.lua_parts(None) == "nil"
    assert wrk.lua_parts("/api/v1/robots/{id}") == '{"/api/v1/robots/", ID}'
    body = json.dumps({"robot_id": "{id}", "name": "module-c2-wrk-{unique}"})
    assert wrk.lua_parts(body) == ('{"{\\034robot_id\\034: \\034", ID, '
                                   '"\\034, \\034name\\034: \\034module-c2-wrk-", UNIQUE, "\\034}"}')


def test_lua_script_fills_every_field_and_needs_ids_for_an_id_placeholder():
    script = wrk.lua_script(wrk.WrkRequests("POST", "/m", '{"r": "{id}", "n": "{unique}"}',
                                            ids=("a", "b")), quota=7)
    assert "$" not in script
    assert 'local IDS = {"a", "b"}' in script
    assert "local UNIQUE_USED = true" in script
    assert "local QUOTA = 7" in script
    assert wrk.RESULT in script and wrk.DRAINED in script
    assert "local UNIQUE_USED = false" in wrk.lua_script(wrk.WrkRequests("GET", "/x"), quota=1)
    with pytest.raises(ValueError):
        wrk.lua_script(wrk.WrkRequests("GET", "/robots/{id}"), quota=1)


def test_lua_script_sends_the_given_headers_with_every_request():
    script = wrk.lua_script(wrk.WrkRequests("GET", "/x", headers=(
        ("Authorization", "Bearer mc_a\"b"),)), quota=1)
    assert 'HEADERS["Authorization"] = "Bearer mc_a\\034b"' in script
    assert "HEADERS[" not in wrk.lua_script(wrk.WrkRequests("GET", "/x"), quota=1).replace(
        'HEADERS["Content-Type"]', "")


def _line(**changes) -> str:
    data = {"requests": 105, "sent": 106, "answered": 105, "statuses": {"201": 100, "409": 5},
            "errors": {"connect": 0, "read": 0, "write": 0, "status": 5, "timeout": 0},
            "duration_us": 4100000, "first": 1000.25, "last": 1004.25,
            "latency_us": {"p50": 20500, "p90": 40000, "p95": 45000, "p99": 80000,
                           "max": 95000, "min": 900, "mean": 25000.5}}
    data.update(changes)
    return f"Running 14s test @ http://x\n{wrk.RESULT}{json.dumps(data)}\nRequests/sec: 1\n"


def test_parse_result_counts_other_statuses_and_unanswered_requests_as_errors():
    result = wrk.parse_result(_line(), expect=201)
    assert (result.requests, result.ok, result.errors) == (106, 100, 6)
    assert result.statuses == {"201": 100, "409": 5, "no answer when wrk stopped": 1}
    assert result.error_samples == ["409 (x5)", "no answer when wrk stopped (x1)"]
    assert (result.started, result.finished) == (1000.25, 1004.25)
    assert result.latency_summary == {"n": 105, "mean": 25.0, "p50": 20.5, "p90": 40.0,
                                      "p95": 45.0, "p99": 80.0, "max": 95.0, "min": 0.9}
    assert result.latencies_ms == []


def test_parse_result_socket_errors_and_timeouts():
    result = wrk.parse_result(_line(sent=103, statuses={"201": 100},
                                    errors={"connect": 1, "read": 2, "write": 1, "status": 0,
                                            "timeout": 3}), expect=201)
    # 103 sent, 100 answered, 3 lost to read/write errors: none unanswered besides those
    assert result.statuses == {"201": 100, "socket connect error": 1, "socket read error": 2,
                               "socket write error": 1}
    assert (result.requests, result.ok, result.errors) == (104, 100, 7)
    assert any("slower than" in s for s in result.error_samples)


def test_parse_result_without_answers_or_result_line():
    result = wrk.parse_result(_line(sent=0, answered=0, statuses={}), expect=200)
    assert (result.requests, result.ok, result.errors) == (0, 0, 0)
    assert result.latency_summary["p50"] is None
    with pytest.raises(ValueError):
        wrk.parse_result("PANIC: unprotected error in call to Lua API\n", expect=200)
