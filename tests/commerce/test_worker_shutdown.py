"""Stopping the app's processes mid-job: SIGTERM drains, a second signal hands the job back, and
`flask serve` hands back what it cannot finish; no job is left locked until its lease expires."""

from __future__ import annotations

import signal
import time

from sqlalchemy import select

from commerce.extensions import db
from commerce.jobs.models import Job
from tests.commerce.live.ingest_support import wait_for
from tests.conftest import upload_video


def queue_transcode(app, create_user, make_api, clips) -> int:
    """A real upload whose transcode waits in the queue (the test app runs no worker)."""
    done = upload_video(make_api(create_user(creator=True)), clips["good"])
    assert done.status_code == 201, done.get_json()
    with app.app_context():
        return db.session.scalar(select(Job.id).where(Job.kind == "video.transcode"))


def job(app, job_id: int) -> Job:
    with app.app_context():
        row = db.session.get(Job, job_id)
        db.session.expunge(row)
        return row


def running(app, job_id: int) -> bool:
    return job(app, job_id).state == "running"


def test_sigterm_lets_the_worker_finish_its_job(app, create_user, make_api, clips, processes):
    job_id = queue_transcode(app, create_user, make_api, clips)
    worker = processes.worker()
    wait_for(lambda: running(app, job_id), timeout=30, what="the transcode to start")
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(60) == 0, processes.logs()
    finished = job(app, job_id)
    assert (finished.state, finished.locked_by, finished.attempts) == ("done", None, 1)
    assert "finishing the job at hand" in processes.log_of(worker)


def test_a_second_signal_hands_the_job_back(app, create_user, make_api, clips, processes):
    job_id = queue_transcode(app, create_user, make_api, clips)
    worker = processes.worker()
    wait_for(lambda: running(app, job_id), timeout=30, what="the transcode to start")
    worker.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    worker.send_signal(signal.SIGINT)
    assert worker.wait(20) == 0, processes.logs()
    back = job(app, job_id)
    # Queued again at once, as if never started: another worker takes it without waiting for
    # the lease (120 s) to expire.
    assert (back.state, back.locked_by, back.locked_until, back.attempts) == (
        "queued",
        None,
        None,
        0,
    )
    assert "back in the queue" in processes.log_of(worker)


def test_sigterm_to_a_web_process_hands_its_job_back(app, create_user, make_api, clips, processes):
    job_id = queue_transcode(app, create_user, make_api, clips)
    processes.serve(JOB_DRAIN_SECONDS="0")  # the embedded default: jobs in the web process
    [(web, _log, _path)] = processes.started
    wait_for(lambda: running(app, job_id), timeout=30, what="the transcode to start")
    started = time.monotonic()
    web.send_signal(signal.SIGTERM)
    assert web.wait(20) == 0, processes.logs()
    assert time.monotonic() - started < 10
    back = job(app, job_id)
    assert back.state in ("queued", "done"), processes.logs()  # handed back, or it just finished
    assert back.locked_until is None
