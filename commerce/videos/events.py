"""Socket.IO: a signed-in browser joins its own room to follow processing of its videos."""

from __future__ import annotations

from flask import session
from flask_socketio import join_room

from commerce.extensions import socketio
from commerce.realtime import user_room


@socketio.on("connect")
def on_connect(auth: dict | None = None) -> bool:
    user_id = session.get("user_id")
    if user_id:
        join_room(user_room(user_id))
    return True
