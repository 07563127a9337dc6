"""Media pipeline: storage backends, upload validation, HLS transcoding, sample clips."""

from media.ffrun import TranscodeError, run_ffmpeg
from media.hls import Rendition
from media.ladder import Rung, plan_ladder
from media.probe import InvalidMedia, ProbeResult, probe_video
from media.storage import LocalStorage, Storage, make_storage, upload_tree, validate_key
from media.transcode import TranscodeResult, make_poster, make_sprite, transcode_video

__all__ = [
    "InvalidMedia",
    "LocalStorage",
    "ProbeResult",
    "Rendition",
    "Rung",
    "Storage",
    "TranscodeError",
    "TranscodeResult",
    "make_poster",
    "make_sprite",
    "make_storage",
    "plan_ladder",
    "probe_video",
    "run_ffmpeg",
    "transcode_video",
    "upload_tree",
    "validate_key",
]
