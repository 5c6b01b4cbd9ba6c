import pytest
from pydantic import ValidationError

from mission_control.catalog import CATALOG, Args, CatalogError, validate_command


def test_ping_exists_for_every_target_kind():
    assert all("PING" in commands for commands in CATALOG.values())


@pytest.mark.parametrize("name,args", [
    ("PING", {}), ("PING", None), ("SET_HEATER", {"on": True}),
    ("ADJUST_ATTITUDE", {"roll": -180, "pitch": 90, "yaw": 12.5}),
    ("CAPTURE_IMAGE", {"exposure_ms": 250}),
])
def test_valid_commands_are_accepted(name, args):
    assert isinstance(validate_command("spacecraft", name, args), dict)


def test_attitude_arguments_come_back_as_floats():
    assert validate_command("spacecraft", "ADJUST_ATTITUDE", {"roll": 1, "pitch": 2, "yaw": 3}) == \
        {"roll": 1.0, "pitch": 2.0, "yaw": 3.0}


def test_a_whole_number_written_as_a_float_is_an_integer_argument():
    # JSON Schema, and so the OpenAPI documents, count 250.0 as an integer.
    assert validate_command("spacecraft", "CAPTURE_IMAGE", {"exposure_ms": 250.0}) == \
        {"exposure_ms": 250}


@pytest.mark.parametrize("value", ["250", True, 250.5])
def test_an_integer_argument_refuses_strings_booleans_and_fractions(value):
    with pytest.raises(CatalogError, match="exposure_ms"):
        validate_command("spacecraft", "CAPTURE_IMAGE", {"exposure_ms": value})


def test_unknown_command_names_what_is_allowed():
    with pytest.raises(CatalogError) as caught:
        validate_command("spacecraft", "SELF_DESTRUCT", {})
    assert "PING" in caught.value.message and "SET_HEATER" in caught.value.details["allowed"]


@pytest.mark.parametrize("name,args,fragment", [
    ("SET_HEATER", {"on": "yes"}, "on"),
    ("SET_HEATER", {}, "on"),
    ("SET_HEATER", {"on": True, "extra": 1}, "extra"),
    ("ADJUST_ATTITUDE", {"roll": 181, "pitch": 0, "yaw": 0}, "roll"),
    ("ADJUST_ATTITUDE", {"roll": 0, "pitch": -91, "yaw": 0}, "pitch"),
    ("ADJUST_ATTITUDE", {"roll": 0, "pitch": 0, "yaw": True}, "yaw"),
    ("CAPTURE_IMAGE", {"exposure_ms": 0}, "exposure_ms"),
    ("CAPTURE_IMAGE", {"exposure_ms": 1.5}, "exposure_ms"),
    ("PING", {"x": 1}, "x"),
    ("PING", [1], "JSON object"),
])
def test_bad_arguments_say_which_field_is_wrong(name, args, fragment):
    with pytest.raises(CatalogError) as caught:
        validate_command("spacecraft", name, args)
    assert fragment in caught.value.message


@pytest.mark.parametrize("name", ["DEPLOY_SOLAR_ARRAY", "REBOOT"])
def test_hazardous_commands_need_confirmation(name):
    with pytest.raises(CatalogError, match="confirm"):
        validate_command("spacecraft", name, {})
    assert validate_command("spacecraft", name, {}, confirm=True) == {}


def test_robot_catalog_does_not_accept_spacecraft_commands():
    with pytest.raises(CatalogError):
        validate_command("robot", "DEPLOY_SOLAR_ARRAY", {}, confirm=True)


@pytest.mark.parametrize("args,fragment", [
    ({"roll": float("nan"), "pitch": 0, "yaw": 0}, "roll"),
    ({"roll": 0, "pitch": float("-inf"), "yaw": 0}, "pitch"),
])
def test_numbers_no_json_can_carry_are_refused(args, fragment):
    with pytest.raises(CatalogError) as caught:
        validate_command("spacecraft", "ADJUST_ATTITUDE", args)
    assert fragment in caught.value.message


class _LabelArgs(Args):
    label: str


@pytest.mark.parametrize("label", ["a\x00b", "\x1b[2J", "\ud800"])
def test_every_string_argument_is_plain_text(label):
    with pytest.raises(ValidationError, match="label"):
        _LabelArgs.model_validate({"label": label})
    assert _LabelArgs.model_validate({"label": "Zoë 🚀"}).label == "Zoë 🚀"
