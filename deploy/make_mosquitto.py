"""Write the compose stack's Mosquitto password file and ACL from ``.env`` (docs/mqtt.md).

``python3 deploy/make_mosquitto.py [ENV_PATH]`` (default: .env beside docker-compose.yml),
run by ``make up`` after deploy/make_env.py: ``deploy/mosquitto/passwd`` gets the users
``robot-server`` (MQTT_SERVER_PASSWORD) and ``demo-fleet`` (MQTT_FLEET_PASSWORD, a gateway
that publishes for the demo robots), set again on each run so .env stays the truth; other
users (robots added with ``mc-mqtt passwd``) are kept. ``deploy/mosquitto/acl`` is written
afresh. Standard library only (it runs before any virtualenv): the formats come from
core/mission_control/broker_files.py, loaded by path.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "deploy" / "mosquitto"
USERS = {"robot-server": "MQTT_SERVER_PASSWORD", "demo-fleet": "MQTT_FLEET_PASSWORD"}
GATEWAY = "demo-fleet"


def broker_files():
    """mission_control.broker_files without importing the package (no dependencies here)."""
    path = ROOT / "core" / "mission_control" / "broker_files.py"
    spec = importlib.util.spec_from_file_location("broker_files", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def read_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name.strip().removeprefix("export ").strip()] = value.strip()
    return values


def write_files(env_path: Path, out: Path = OUT) -> None:
    files = broker_files()
    env = read_env(env_path)
    missing = [name for name in USERS.values() if not env.get(name)]
    if missing:
        raise SystemExit(f"{env_path} lacks {', '.join(missing)}: run deploy/make_env.py")
    for username, name in USERS.items():
        files.set_password(out / "passwd", username, env[name])
    files.write_private(out / "acl", files.acl_text(gateway_users=(GATEWAY,)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("env_path", nargs="?", type=Path, default=ROOT / ".env")
    options = parser.parse_args(argv)
    write_files(options.env_path)
    print(f"{OUT}: passwd and acl written for robot-server and the demo fleet (mode 0600)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
