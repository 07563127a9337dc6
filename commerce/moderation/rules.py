"""Pure report rules: targets, reasons, what an admin may do to each target."""

from __future__ import annotations

VIDEO, COMMENT, USER, ROOM, REVIEW = "video", "comment", "user", "room", "review"
TARGETS = (VIDEO, COMMENT, USER, ROOM, REVIEW)

REASONS = ("spam", "harassment", "hate", "sexual", "violence", "fraud", "minor_safety", "other")

OPEN, ACTIONED, DISMISSED = "open", "actioned", "dismissed"

HIDE, BAN_LOGIN, BAN_POST, DISMISS = "hide", "ban_login", "ban_post", "dismiss"
DECISIONS = (HIDE, BAN_LOGIN, BAN_POST, DISMISS)

# Hiding means: a video is unpublished, a comment or review hidden, a room ended. A user is
# banned instead.
_ALLOWED = {
    VIDEO: (HIDE, BAN_LOGIN, BAN_POST, DISMISS),
    COMMENT: (HIDE, BAN_LOGIN, BAN_POST, DISMISS),
    ROOM: (HIDE, BAN_LOGIN, BAN_POST, DISMISS),
    REVIEW: (HIDE, BAN_LOGIN, BAN_POST, DISMISS),
    USER: (BAN_LOGIN, BAN_POST, DISMISS),
}


def allowed_decisions(target_type: str) -> tuple[str, ...]:
    return _ALLOWED.get(target_type, ())


def resolution(decision: str) -> str:
    """The state a report ends in once an admin decided."""
    return DISMISSED if decision == DISMISS else ACTIONED


def audit_action(decision: str, target_type: str) -> str:
    """The audit log's name for what was done ("hide_comment", "ban_post", "dismiss")."""
    if decision == HIDE:
        return f"hide_{target_type}"
    return decision
