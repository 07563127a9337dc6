"""Blocking playlist reload: which requests block, what unblocks them, and when they give up."""

from __future__ import annotations

import os
import threading
import time

import pytest

from media.live.blocking import (
    SERVER_CONTROL,
    BadDirective,
    Directive,
    advertise_blocking_reload,
    parse_directive,
    wait_for_segment,
)


def playlist(first: int, count: int, *, ended: bool = False, target: int = 1) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:6", f"#EXT-X-TARGETDURATION:{target}"]
    lines.append(f"#EXT-X-MEDIA-SEQUENCE:{first}")
    for n in range(first, first + count):
        lines += ["#EXTINF:1.000000,", f"seg_{n:05d}.ts"]
    if ended:
        lines.append("#EXT-X-ENDLIST")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("msn", "part", "expected"),
    [
        (None, None, None),
        ("12", None, Directive(12)),
        ("12", "3", Directive(12)),  # no parts are written: the part's whole segment answers
        ("0", "0", Directive(0)),
    ],
)
def test_directives_that_parse(msn, part, expected):
    assert parse_directive(msn, part) == expected


@pytest.mark.parametrize(
    ("msn", "part"),
    [
        (None, "1"),
        ("-1", None),
        ("1.5", None),
        ("x", None),
        ("12", "a"),
        ("١٢", None),
        ("9" * 13, None),
    ],
)
def test_directives_that_are_refused(msn, part):
    with pytest.raises(BadDirective):
        parse_directive(msn, part)


def test_the_playlist_advertises_blocking_reload_after_its_target_duration():
    text = advertise_blocking_reload(playlist(10, 3))
    lines = text.splitlines()
    assert lines[lines.index("#EXT-X-TARGETDURATION:1") + 1] == SERVER_CONTROL
    assert lines.count(SERVER_CONTROL) == 1 and text.endswith("seg_00012.ts\n")


def test_a_listed_segment_answers_at_once(tmp_path):
    path = tmp_path / "index.m3u8"
    path.write_text(playlist(10, 3))  # 10, 11, 12
    started = time.monotonic()
    assert wait_for_segment(path, Directive(12)) == playlist(10, 3)
    assert wait_for_segment(path, Directive(3)) == playlist(10, 3)  # long gone: the newest
    assert time.monotonic() - started < 0.1


def test_the_next_segment_is_answered_when_it_is_written(tmp_path):
    path = tmp_path / "index.m3u8"
    path.write_text(playlist(10, 3))
    written = {}

    def encoder() -> None:
        time.sleep(0.3)
        path.write_text(playlist(10, 3).replace("#EXTINF", "#EXTINF", 1))  # rewritten, no new one
        time.sleep(0.2)
        tmp = tmp_path / "index.m3u8.tmp"
        tmp.write_text(playlist(11, 3))  # ffmpeg renames the new playlist into place
        written["at"] = time.monotonic()
        tmp.replace(path)

    thread = threading.Thread(target=encoder)
    thread.start()
    text = wait_for_segment(path, Directive(13))
    answered = time.monotonic()
    thread.join()
    assert text == playlist(11, 3)
    assert 0 <= answered - written["at"] < 0.2  # within a few polls of the rename


def test_an_ended_playlist_answers_at_once(tmp_path):
    path = tmp_path / "index.m3u8"
    path.write_text(playlist(10, 3, ended=True))
    assert wait_for_segment(path, Directive(13)) == playlist(10, 3, ended=True)


def test_too_far_ahead_is_refused_before_waiting(tmp_path):
    path = tmp_path / "index.m3u8"
    path.write_text(playlist(10, 3))  # last 12: 13 and 14 may be asked for, 15 may not
    with pytest.raises(BadDirective):
        wait_for_segment(path, Directive(15))


def test_a_late_segment_gives_up_after_three_target_durations(tmp_path):
    path = tmp_path / "index.m3u8"
    path.write_text(playlist(10, 3, target=2))
    now = [0.0]
    naps = []

    def sleep(seconds: float) -> None:
        naps.append(seconds)
        now[0] += seconds

    assert wait_for_segment(path, Directive(13), sleep=sleep, clock=lambda: now[0]) is None
    assert 6.0 <= now[0] < 6.1 and set(naps) == {0.02}


def test_no_playlist_is_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        wait_for_segment(tmp_path / "index.m3u8", Directive(1))


def test_a_playlist_read_mid_write_is_read_again(tmp_path):
    """A writer that does not rename (a copy tool) can be caught with an empty file."""
    path = tmp_path / "index.m3u8"
    path.write_text(playlist(10, 3))
    steps = iter(["", "#EXTM3U\n#EXT-X-VERS", playlist(11, 3)])  # truncated, half written, whole
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds
        path.write_text(next(steps, playlist(11, 3)))
        bump = int(now[0] * 1e9) + 10**12  # a new mtime each poll, whatever the clock's grain
        os.utime(path, ns=(bump, bump))

    text = wait_for_segment(path, Directive(13), sleep=sleep, clock=lambda: now[0])
    assert text == playlist(11, 3)
