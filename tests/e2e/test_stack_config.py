"""Stack mode reads its stack from the environment, and says what is missing (no services
are started here: this checks the suite's own switch and settings, in both modes)."""

import pytest

from .stack import StackConfigError, connect, stack_mode

STACK_ENV = {"GROUND_URL": "http://ground:5000/", "REGISTRY_URL": "http://registry-api:8000",
             "SPACECRAFT_URL": "http://spacecraft:8080", "ADMIN_PASSWORD": "admin-secret",
             "UPLINK_KEY": "uplink-secret"}


def test_the_switch_is_mc_e2e_stack():
    assert stack_mode({"MC_E2E_STACK": "1"}) and stack_mode({"MC_E2E_STACK": "true"})
    assert not stack_mode({}) and not stack_mode({"MC_E2E_STACK": "0"})


def test_a_stack_is_read_from_the_services_own_variable_names():
    system = connect({**STACK_ENV, "DATABASE_URL": "postgresql+psycopg2://mc@db/mc",
                      "MC_E2E_WORKER_METRICS_URLS": " http://w1:9100/, ,http://w2:9100",
                      "MC_E2E_MAX_WAIT_S": "45"})
    assert (system.ground_url, system.registry_url, system.spacecraft_url) == (
        "http://ground:5000", "http://registry-api:8000", "http://spacecraft:8080")
    assert system.env["DATABASE_URL"] == "postgresql+psycopg2://mc@db/mc"
    assert system.worker_metrics_urls == ["http://w1:9100", "http://w2:9100"]
    assert system.wait_s(30) == 45 and system.wait_s(60) == 60
    assert system.hostnames == {"ground", "registry-api", "spacecraft"}
    assert system.credentials.users["admin"].password == "admin-secret"
    assert system.uplink_headers == {"Authorization": "Bearer uplink-secret"}
    operator, viewer = system.credentials.users["operator"], system.credentials.users["viewer"]
    assert operator.username != viewer.username and operator.username.startswith("e2e-operator-")
    assert connect(STACK_ENV).credentials.users["operator"].username != operator.username
    assert not system.private and connect(STACK_ENV).max_wait_s == 120
    with pytest.raises(RuntimeError, match="local_only"):
        system.start("command-sender")
    with pytest.raises(RuntimeError, match="local_only"):
        system.log("ground")


@pytest.mark.parametrize("missing", sorted(STACK_ENV))
def test_a_missing_variable_is_named(missing):
    env = {key: value for key, value in STACK_ENV.items() if key != missing}
    with pytest.raises(StackConfigError, match=missing):
        connect(env)


def test_a_bad_wait_is_refused():
    with pytest.raises(StackConfigError, match="MC_E2E_MAX_WAIT_S"):
        connect({**STACK_ENV, "MC_E2E_MAX_WAIT_S": "soon"})
