from sqlalchemy import select

from mission_control.models import Worker as WorkerRow


def worker_row(database, worker_id):
    with database.transaction() as session:
        return session.scalar(select(WorkerRow).where(WorkerRow.id == worker_id))


def test_a_running_worker_beats_and_says_when_it_stopped(database, make_worker):
    worker = make_worker()
    worker.run_once()
    row = worker_row(database, worker.worker_id)
    assert row is not None and row.stopped_at is None
    first_beat = row.heartbeat_at
    worker.close()
    row = worker_row(database, worker.worker_id)
    assert row.stopped_at is not None and row.heartbeat_at >= first_beat
