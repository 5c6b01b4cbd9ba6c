"""A robot going offline opens an alert (disconnect or timeout) and coming back clears it,
in the same transaction as the connection event."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from mission_control.alert_models import Alert
from mission_control.registry_models import Robot
from mission_control.timeutil import utcnow
from robot_server.testing import auth, beat, token_of


def _alerts(database, robot_id):
    with database.autocommit() as connection:
        return connection.execute(select(Alert).where(Alert.source == str(robot_id))
                                  .order_by(Alert.id)).all()


def test_a_disconnect_opens_an_offline_alert_and_a_heartbeat_clears_it(client, database,
                                                                      robot):
    robot_id, _ = robot
    token = token_of(client, robot_id)
    client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token), json=beat())
    assert _alerts(database, robot_id) == []
    assert client.delete(f"/robots/{robot_id}/session", headers=auth(token)).status_code == 204
    [alert] = _alerts(database, robot_id)
    assert (alert.kind, alert.parameter, alert.severity, alert.state, alert.cleared) == \
        ("offline", "connection", "warning", "open", False)
    assert "session was closed" in alert.message
    token = token_of(client, robot_id)
    client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token), json=beat())
    [alert] = _alerts(database, robot_id)
    assert (alert.state, alert.cleared) == ("open", True)  # listed until acknowledged
    assert alert.cleared_at is not None


def test_the_sweeper_opens_one_offline_alert_per_outage(app, client, database, robot):
    robot_id, _ = robot
    token = token_of(client, robot_id)
    sweeper = app.extensions["sweeper"]
    for _ in range(2):
        client.post(f"/robots/{robot_id}/heartbeat", headers=auth(token), json=beat())
        with database.begin() as connection:
            connection.execute(update(Robot).where(Robot.id == robot_id).values(
                last_online=utcnow() - timedelta(seconds=3.1)))
        assert sweeper.run_once() == 1
    [alert] = _alerts(database, robot_id)  # the second outage reopened the cleared alert
    assert (alert.state, alert.cleared) == ("open", False)
    assert "no heartbeat" in alert.message
