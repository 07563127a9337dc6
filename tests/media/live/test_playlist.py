"""Live playlist parsing and ending."""

from __future__ import annotations

from media.live.playlist import end_playlist, parse_live_playlist, read_live_playlist

LIVE = """#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:7
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-11-23T14:23:40.224+0000
seg_00007.ts
#EXT-X-DISCONTINUITY
#EXTINF:0.500000,
#EXT-X-PROGRAM-DATE-TIME:2026-11-23T14:23:51.369+0000
seg_00008.ts
"""


def test_parse_numbers_segments_from_the_media_sequence():
    pl = parse_live_playlist(LIVE)
    assert pl.media_sequence == 7 and not pl.ended
    assert [(s.sequence, s.uri, s.discontinuity) for s in pl.segments] == [
        (7, "seg_00007.ts", False),
        (8, "seg_00008.ts", True),
    ]
    assert pl.segments[1].duration_s == 0.5
    assert pl.segments[1].program_date_time == "2026-11-23T14:23:51.369+0000"


def test_end_playlist_appends_endlist_once(tmp_path):
    path = tmp_path / "index.m3u8"
    assert read_live_playlist(path) is None
    assert not end_playlist(path)
    path.write_text(LIVE, encoding="utf-8")
    assert end_playlist(path) and end_playlist(path)
    text = path.read_text(encoding="utf-8")
    assert text.count("#EXT-X-ENDLIST") == 1 and text.endswith("#EXT-X-ENDLIST\n")
    assert read_live_playlist(path).ended
