"""Upload validation by content: good clips pass, every kind of bad upload is named."""

from __future__ import annotations

import subprocess
from pathlib import Path

import ffmpeg
import pytest

from media.probe import InvalidMedia, probe_video
from media.samples import copy_as, generate_audio_only, generate_clip, generate_still, truncate_file

pytestmark = pytest.mark.ffmpeg


@pytest.fixture(scope="module")
def bad_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bad")


def _expect(path: str | Path, code: str, **kwargs: float) -> InvalidMedia:
    with pytest.raises(InvalidMedia) as info:
        probe_video(path, **kwargs)
    assert info.value.code == code, str(info.value)
    assert str(info.value) and "ffprobe" not in str(info.value), "message is for people"
    return info.value


def test_good_landscape(landscape_clip: str) -> None:
    info = probe_video(landscape_clip)
    assert (info.width, info.height, info.rotation) == (640, 360, 0)
    assert info.duration_s == pytest.approx(3.0, abs=0.1)
    assert info.fps == pytest.approx(30.0)
    assert info.video_codec == "h264" and info.has_audio and info.audio_index is not None
    assert info.demuxer == "mov"


def test_good_portrait_and_silent(portrait_clip: str, tiny_silent_clip: str) -> None:
    assert (probe_video(portrait_clip).width, probe_video(portrait_clip).height) == (360, 640)
    tiny = probe_video(tiny_silent_clip)
    assert not tiny.has_audio and tiny.audio_index is None and tiny.fps == pytest.approx(25.0)


def test_rotated_phone_video_reports_display_size(landscape_clip: str, bad_dir: Path) -> None:
    rotated = bad_dir / "rotated.mp4"
    argv = ["ffmpeg", "-v", "error", "-y", "-i", landscape_clip, "-c", "copy"]
    argv += ["-metadata:s:v:0", "rotate=90", str(rotated)]
    subprocess.run(argv, check=True, timeout=30)
    info = probe_video(rotated)
    assert info.rotation in (90, 270)
    assert (info.width, info.height) == (360, 640)


def test_matroska_is_accepted(landscape_clip: str, bad_dir: Path) -> None:
    mkv = bad_dir / "clip.mkv"
    ffmpeg.input(landscape_clip).output(str(mkv), c="copy").overwrite_output().run(quiet=True)
    assert probe_video(mkv).demuxer == "matroska"


def test_text_renamed_mp4(bad_dir: Path) -> None:
    fake = bad_dir / "notes.mp4"
    fake.write_text("this is not a video\n" * 50)
    _expect(fake, "not_media")


def test_empty_file(bad_dir: Path) -> None:
    empty = bad_dir / "empty.mp4"
    empty.write_bytes(b"")
    _expect(empty, "not_media")


def test_truncated_moov_at_end(bad_dir: Path) -> None:
    whole = generate_clip(
        bad_dir / "moov_end.mp4", duration_s=2, width=320, height=180, faststart=False
    )
    _expect(truncate_file(whole, bad_dir / "moov_end_cut.mp4", 0.6), "corrupt")


def test_truncated_faststart(bad_dir: Path) -> None:
    whole = generate_clip(bad_dir / "fast.mp4", duration_s=2, width=320, height=180)
    with open(whole, "rb") as fh:
        head = fh.read(64)
    assert head.find(b"moov") < head.find(b"mdat") or b"mdat" not in head
    probe_video(whole)
    _expect(truncate_file(whole, bad_dir / "fast_cut.mp4", 0.7), "corrupt")
    # Losing only the very end (the last second's frames) is caught too.
    _expect(truncate_file(whole, bad_dir / "fast_cut_end.mp4", 0.97), "corrupt")


def test_truncated_matroska(landscape_clip: str, bad_dir: Path) -> None:
    mkv = bad_dir / "cut_src.mkv"
    ffmpeg.input(landscape_clip).output(str(mkv), c="copy").overwrite_output().run(quiet=True)
    _expect(truncate_file(mkv, bad_dir / "cut.mkv", 0.5), "corrupt")


def test_audio_only(bad_dir: Path) -> None:
    audio = generate_audio_only(bad_dir / "tone.m4a", duration_s=1.5)
    _expect(audio, "no_video")
    _expect(copy_as(audio, bad_dir / "tone.mp4"), "no_video")


@pytest.mark.parametrize("name", ["still.png", "still.jpg"])
def test_still_image(bad_dir: Path, name: str) -> None:
    still = generate_still(bad_dir / name)
    _expect(still, "no_video")
    _expect(copy_as(still, bad_dir / f"{name}.mp4"), "no_video")


def test_too_long(landscape_clip: str) -> None:
    err = _expect(landscape_clip, "too_long", max_duration_s=2)
    assert "2 s" in str(err)


def test_zero_duration(bad_dir: Path) -> None:
    zero = bad_dir / "zero.mp4"
    src = ffmpeg.input("testsrc2=size=64x64:rate=30", f="lavfi")
    src.output(str(zero), vcodec="libx264", vframes=0).overwrite_output().run(quiet=True)
    _expect(zero, "too_short")


def test_single_frame_is_too_short(bad_dir: Path) -> None:
    one = bad_dir / "one.mp4"
    src = ffmpeg.input("testsrc2=size=64x64:rate=30", f="lavfi")
    src.output(str(one), vcodec="libx264", vframes=1).overwrite_output().run(quiet=True)
    _expect(one, "too_short")


def test_hls_playlist_posing_as_mp4_is_refused(landscape_run, bad_dir: Path) -> None:
    # A playlist upload could make ffmpeg read arbitrary local files or URLs.
    segments = sorted((landscape_run.out_dir / "240p").glob("*.ts"))
    local = bad_dir / "playlist_local.mp4"
    local.write_text(
        "#EXTM3U\n#EXT-X-TARGETDURATION:1\n"
        + "".join(f"#EXTINF:1,\n{seg}\n" for seg in segments)
        + "#EXT-X-ENDLIST\n"
    )
    _expect(local, "not_media")
    remote = bad_dir / "playlist_http.mp4"
    remote.write_text("#EXTM3U\n#EXTINF:1,\nhttp://127.0.0.1:9/x.ts\n#EXT-X-ENDLIST\n")
    _expect(remote, "not_media")


def test_stored_source_skips_the_end_decode(landscape_clip: str, monkeypatch) -> None:
    import media.probe

    monkeypatch.setattr(media.probe, "_tail_decodes", lambda *a: False)  # as if cut short
    assert probe_video(landscape_clip, check_end=False).width == 640
    with pytest.raises(InvalidMedia):
        probe_video(landscape_clip)
