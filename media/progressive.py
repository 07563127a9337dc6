"""A rendition playable while ffmpeg still encodes it: an EVENT playlist of its finished segments.

A source browsers cannot decode as it is (HEVC, VP9, a rotated phone clip) must be encoded before
anyone sees it; waiting for the whole lowest rung kept a minute of HEVC unplayable for 8+ s. ffmpeg
writes its own playlist under a hidden name (`hls_flags temp_file`: playlist and segments appear
whole, by rename; its playlist type is EVENT, as a VOD one is only written at the end); after each
new segment the public `index.m3u8` becomes an EVENT playlist of what
is finished, starting at 0 (`EXT-X-START`), which players reload until `#EXT-X-ENDLIST` arrives.
"""

from __future__ import annotations

import os

from media.commands import ENCODING_PLAYLIST_NAME, PLAYLIST_NAME
from media.hls import parse_media_playlist, write_atomic


def retyped_playlist(ffmpeg_text: str, *, ended: bool) -> str:
    """ffmpeg's playlist as a growing EVENT playlist that plays from 0, or as VOD once ended."""
    lines = [ln for ln in ffmpeg_text.splitlines() if ln.strip()]
    out: list[str] = []
    for line in lines:
        if line.startswith(("#EXT-X-PLAYLIST-TYPE:", "#EXT-X-START:")):
            continue
        out.append(line)
        if line == "#EXTM3U":
            kind = "VOD" if ended else "EVENT"
            out.append(f"#EXT-X-PLAYLIST-TYPE:{kind}")
            if not ended:  # players would otherwise join a growing playlist near its end
                out.append("#EXT-X-START:TIME-OFFSET=0")
    return "\n".join(out) + "\n"


class GrowingRendition:
    """Follows ffmpeg's hidden playlist in one rendition folder and republishes it as EVENT."""

    def __init__(self, folder: str, *, min_segments: int = 1) -> None:
        self.folder = folder
        self.min_segments = min_segments
        self.announced = 0  # segments listed in the public playlist

    @property
    def encoding_playlist(self) -> str:
        """Where ffmpeg writes its own playlist."""
        return os.path.join(self.folder, ENCODING_PLAYLIST_NAME)

    @property
    def public_playlist(self) -> str:
        return os.path.join(self.folder, PLAYLIST_NAME)

    def refresh(self) -> bool:
        """Publish newly finished segments; True when the public playlist changed."""
        try:
            with open(self.encoding_playlist, encoding="utf-8") as fh:
                text = fh.read()
        except FileNotFoundError:
            return False  # no segment finished yet
        count = len(parse_media_playlist(self.encoding_playlist).segments)
        if count <= self.announced or count < self.min_segments:
            return False
        write_atomic(self.public_playlist, retyped_playlist(text, ended=False))
        self.announced = count
        return True

    def finish(self) -> None:
        """ffmpeg is done: its ended playlist becomes the public one, typed VOD."""
        with open(self.encoding_playlist, encoding="utf-8") as fh:
            text = fh.read()
        write_atomic(self.public_playlist, retyped_playlist(text, ended=True))
        os.unlink(self.encoding_playlist)
