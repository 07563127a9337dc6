"""Live ingest: RTMP or browser chunks in, low-latency HLS + FLV feed + recording out.

Knows nothing of Flask or commerce. The app owns rooms, stream keys and events; this package
owns the media. Everything runs in library threads (and one asyncio thread for RTMP), so the
callbacks are called from those threads: hand off to your event system, do not block long.

    from media.live import LiveCallbacks, LiveHub, LiveOptions, RtmpIngestServer

    hub = LiveHub(
        "instance/live",                                   # root_dir/<room_id>/...
        authorize=lambda stream_key: room_id_or_none,       # RTMP publish check (may use the DB)
        options=LiveOptions(segment_s=1.0),                 # 720p + 360p, 1 s GOP-aligned segments
        callbacks=LiveCallbacks(on_started=..., on_segment=..., on_ended=...),
        grace_s=15.0,                                       # a dropped ingest may resume this long
    )
    rtmp = RtmpIngestServer(hub, host="127.0.0.1", port=1935).start()   # OBS: rtmp://host/live/<key>

    publisher = hub.publish(room_id, "webm")   # browser MediaRecorder chunks (or "mp4" fMP4)
    publisher.feed(chunk)                      # from the WebSocket handler, in order; never blocks
    publisher.close()                          # socket gone: the room waits grace_s for a resume

    room = hub.room(room_id)                   # LiveRoom while live or within its grace
    room.master_playlist                       # <root>/<room>/master.m3u8 once on_started fired
    room.playlist("360p")                      # sliding live playlist of one rendition
    for chunk in room.low_latency.subscribe(): # HTTP-FLV bytes for an MSE player (mpegts.js);
        ws.send(chunk)                         #   starts with header + GOP cache, ends with room
    room.end()                                 # creator pressed End: ENDLIST, recording, on_ended
    hub.release_all()                          # graceful stop: parts closed, rooms NOT ended
    rtmp.stop(); hub.close()                   # close() ends every room

    remove_room_folder("instance/live", room_id)  # once the recording is kept elsewhere

Layout of a room folder: master.m3u8, 720p/index.m3u8 + seg_NNNNN.ts, 360p/..., recording/
part_NNNN.ts (one per ingest connection) and, once ended, recording.mp4 (faststart, for the
VOD pipeline's replay). RoomEnded.timeline says when each part began (wall clock) and how long
it is, so show moments can be placed in the replay, which leaves out the gaps between parts.
Playlists: EXT-X-INDEPENDENT-SEGMENTS, PROGRAM-DATE-TIME on every
segment, a 6-segment window (old segments deleted), segments written to a temp name and
renamed when complete. A resume appends to the same playlists after EXT-X-DISCONTINUITY with
the media sequence continuing; the end appends EXT-X-ENDLIST.

Rules: one publisher per room at a time (a second one gets IngestRefused); an ended room id
can never be published to again (use a new room id per live; a hub refuses one it ended, or
whose folder it finds, so once the folder is removed that rule is the app's to keep). With
adopt_folders=True a hub continues a folder another process left (stopped, killed, another
node) unless it holds recording.mp4: the next part number, the playlists appended to; the app
must first make sure no other process streams into it. A part's wall-clock start is written
beside it (part_NNNN.ts.start), and finalise_recording() (media.live.recording) turns every
readable part of a folder into recording.mp4 wherever it runs; a refused
or unknown stream key never creates a folder or starts ffmpeg. Key rotation is the app's:
change what authorize() accepts; live connections are not cut (call room.end() or
publisher.abort() for that).
"""

from media.live.commands import DEFAULT_RUNGS, LiveOptions, LiveRung, build_live_argv
from media.live.flv import LowLatencyFeed, Subscription
from media.live.folders import remove_room_folder, room_folder
from media.live.recording import RecordingPart
from media.live.rtmp import RtmpIngestServer
from media.live.session import (
    IngestRefused,
    LiveCallbacks,
    LiveHub,
    LiveRoom,
    Publisher,
    RoomEnded,
    RoomState,
    SegmentEvent,
    process_cpu_seconds,
)

__all__ = [
    "DEFAULT_RUNGS",
    "IngestRefused",
    "LiveCallbacks",
    "LiveHub",
    "LiveOptions",
    "LiveRoom",
    "LiveRung",
    "LowLatencyFeed",
    "Publisher",
    "RecordingPart",
    "RoomEnded",
    "RoomState",
    "RtmpIngestServer",
    "SegmentEvent",
    "Subscription",
    "build_live_argv",
    "process_cpu_seconds",
    "remove_room_folder",
    "room_folder",
]
