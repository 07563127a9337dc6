"""Human names of report reasons, targets and audit actions (lazy: translated when shown)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

REASONS = {
    "spam": _l("Spam or misleading"),
    "harassment": _l("Harassment or bullying"),
    "hate": _l("Hateful content"),
    "sexual": _l("Sexual content"),
    "violence": _l("Violence or danger"),
    "fraud": _l("Fraud or counterfeit goods"),
    "minor_safety": _l("Child safety"),
    "other": _l("Something else"),
}

TARGETS = {
    "video": _l("Video"),
    "comment": _l("Comment"),
    "user": _l("User"),
    "room": _l("Live room"),
    "review": _l("Review"),
}

ACTIONS = {
    "hide_video": _l("Video unpublished"),
    "hide_comment": _l("Comment hidden"),
    "hide_room": _l("Live room ended"),
    "hide_review": _l("Review hidden"),
    "ban_login": _l("User banned from logging in"),
    "ban_post": _l("User banned from posting"),
    "dismiss": _l("Report dismissed"),
}

STATES = {"open": _l("Open"), "actioned": _l("Actioned"), "dismissed": _l("Dismissed")}
