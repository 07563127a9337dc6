"""Socket.IO: a signed-in browser joins its own room to follow processing of its videos."""

from __future__ import annotations

from flask_socketio import join_room

from commerce.accounts.auth import session_user
from commerce.extensions import socketio
from commerce.realtime import user_room


@socketio.on("connect")
def on_connect(auth: dict | None = None) -> bool:
    user = session_user()
    if user is not None:
        join_room(user_room(user.id))
    return True
