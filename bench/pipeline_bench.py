"""Upload-complete to playable, through the whole app, next to bare ffmpeg in the same run.

The app path is what a creator waits for: the upload's /complete request returns, the job row is
claimed by the worker, the source is probed and transcoded, outputs are copied into storage and the
database says "playable" (first rendition) and then "ready" (whole ladder, fallback, poster,
sprite). The reference: the same outputs made by bare ffmpeg command lines (transcode_bench).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade
from sqlalchemy import select

from app import create_app
from bench.transcode_bench import DURATION_S, generate_bench_clip, measure_bare
from commerce.accounts.models import User
from commerce.extensions import db
from commerce.jobs.registry import MEDIA
from commerce.jobs.runner import Worker
from commerce.videos.models import Video

PASSWORD = "bench-password-1"
CHUNK = 8 * 1024 * 1024


def upload(client, path: Path) -> tuple[str, float]:
    token = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    headers = {"X-CSRFToken": token}
    client.post(
        "/api/v1/auth/login",
        json={"email": "bench@example.com", "password": PASSWORD},
        headers=headers,
    )
    token = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    headers = {"X-CSRFToken": token}
    size = path.stat().st_size
    started = time.monotonic()
    upload_id = client.post(
        "/api/v1/uploads", json={"filename": path.name, "size": size}, headers=headers
    ).get_json()["id"]
    with path.open("rb") as source:
        offset = 0
        while offset < size:
            piece = source.read(CHUNK)
            response = client.put(
                f"/api/v1/uploads/{upload_id}",
                data=piece,
                headers={
                    **headers,
                    "Upload-Offset": str(offset),
                    "Content-Type": "application/octet-stream",
                },
            )
            offset = response.get_json()["received"]
    done = client.post(f"/api/v1/uploads/{upload_id}/complete", headers=headers)
    assert done.status_code == 201, done.get_json()
    return done.get_json()["id"], time.monotonic() - started


def measure_app(clip: Path, root: Path, **settings: object) -> dict[str, float]:
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": os.environ.get("BENCH_DATABASE_URL")
            or f"sqlite:///{root / 'bench.sqlite3'}",
            "STORAGE_LOCAL_ROOT": str(root / "storage"),
            "UPLOAD_TMP_DIR": str(root / "uploads"),
            "WORK_DIR": str(root / "work"),
            "TRANSCODE_PRESET": "veryfast",
            "HLS_SEGMENT_SECONDS": 4,
            **settings,
        }
    )
    with app.app_context():
        upgrade()
        user = User(email="bench@example.com", display_name="Bench", bio="", is_creator=True)
        user.set_password(PASSWORD)
        db.session.add(user)
        db.session.commit()
    public_id, upload_s = upload(app.test_client(), clip)
    began = time.monotonic()
    worker = Worker(app, queues=(MEDIA,), poll_seconds=0.05).start()
    marks: dict[str, float] = {"upload": upload_s}
    try:
        with app.app_context():
            while time.monotonic() - began < 900:
                playable, state = db.session.execute(
                    select(Video.playable, Video.state).where(Video.public_id == public_id)
                ).one()
                db.session.rollback()
                now = time.monotonic() - began
                if playable:
                    marks.setdefault("first_playable", now)
                if state != "processing":
                    marks["ready"] = now
                    marks["state_ok"] = float(state == "ready")
                    break
                time.sleep(0.02)
    finally:
        worker.stop()
    return marks


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 2
    clip = Path(generate_bench_clip())
    print(f"clip: {clip} ({clip.stat().st_size / 1e6:.1f} MB, {DURATION_S:.0f} s 1080p30)")
    print(f"load average at start: {os.getloadavg()}")
    work = Path(tempfile.mkdtemp(prefix="pipeline-bench-"))
    bare_runs: list[dict[str, float]] = []
    our_runs: list[dict[str, float]] = []
    try:
        for index in range(rounds):
            # Alternate the order so neither side always runs on a warmer (or busier) machine.
            order = ("bare", "ours") if index % 2 == 0 else ("ours", "bare")
            for side in order:
                folder = work / f"{side}-{index}"
                if side == "bare":
                    print(f"round {index + 1}: bare ffmpeg command lines, same outputs")
                    bare_runs.append(
                        measure_bare(str(clip), folder, verbose=index == 0, single_ladder=False)
                    )
                else:
                    print(f"round {index + 1}: upload via the API, then job worker, storage, db")
                    marks = measure_app(clip, folder)
                    if not marks.get("state_ok"):
                        raise SystemExit("the app did not finish processing the video")
                    our_runs.append(marks)
                shutil.rmtree(folder, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"load average at end: {os.getloadavg()}")
    print(
        f"\nupload of {clip.stat().st_size / 1e6:.1f} MB in 8 MB chunks: "
        f"{min(r['upload'] for r in our_runs):.2f} s (not part of the figures below)"
    )
    print(f"best of {rounds} rounds, order alternated\n")
    print(
        f"{'from upload complete to':<28}{'ours (s)':>10}{'bare ffmpeg (s)':>17}"
        f"{'ratio':>8}{'overhead':>10}"
    )
    for label, mine, ref in (
        (
            "first playable rendition",
            min(r["first_playable"] for r in our_runs),
            min(r["stage1"] for r in bare_runs),
        ),
        (
            "whole ladder + extras",
            min(r["ready"] for r in our_runs),
            min(r["total"] for r in bare_runs),
        ),
    ):
        print(
            f"{label:<28}{mine:>10.2f}{ref:>17.2f}{mine / ref:>8.2f}{100 * (mine / ref - 1):>9.1f}%"
        )
    print(f"speed: whole ladder at {DURATION_S / min(r['ready'] for r in our_runs):.2f}x realtime")
    print("target: overhead under 15% for both")


if __name__ == "__main__":
    main()
