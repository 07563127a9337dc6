"""Settings read from the environment, with defaults for the embedded single-machine setup."""

from __future__ import annotations

import hashlib
import os
from typing import Any
from urllib.parse import urlsplit

from commerce.attribution.rules import DepthNotAllowed, check_paid_levels
from commerce.points.rules import check_terms, terms_from_config


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be an integer, got {value!r}") from exc


def _float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise RuntimeError(f"{name} must be a number, got {value!r}") from exc


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _list(name: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, "").split(",") if item.strip()]


def from_environment(instance_path: str) -> dict[str, Any]:
    """Build the config mapping; every key can be overridden by an environment variable."""
    return {
        "SECRET_KEY": os.environ.get("SECRET_KEY", ""),
        "SQLALCHEMY_DATABASE_URI": os.environ.get(
            "DATABASE_URL", f"sqlite:///{os.path.join(instance_path, 'liveshop.sqlite3')}"
        ),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        # Uploaded video chunks are streamed to disk; each request carries one chunk.
        "MAX_CONTENT_LENGTH": _int("MAX_REQUEST_BYTES", 64 * 1024 * 1024),
        "MAX_UPLOAD_BYTES": _int("MAX_UPLOAD_BYTES", 2 * 1024**3),
        "MAX_VIDEO_SECONDS": _int("MAX_VIDEO_SECONDS", 600),
        "UPLOAD_CHUNK_BYTES": _int("UPLOAD_CHUNK_BYTES", 8 * 1024 * 1024),
        "UPLOAD_TMP_DIR": os.environ.get("UPLOAD_TMP_DIR", os.path.join(instance_path, "uploads")),
        "STORAGE_BACKEND": os.environ.get("STORAGE_BACKEND", "local"),
        "STORAGE_LOCAL_ROOT": os.environ.get(
            "STORAGE_LOCAL_ROOT", os.path.join(instance_path, "storage")
        ),
        "S3_BUCKET": os.environ.get("S3_BUCKET", ""),
        "S3_PREFIX": os.environ.get("S3_PREFIX", ""),
        "S3_ENDPOINT_URL": os.environ.get("S3_ENDPOINT_URL") or None,
        "S3_REGION": os.environ.get("S3_REGION", "us-east-1"),
        "S3_ACCESS_KEY_ID": os.environ.get("S3_ACCESS_KEY_ID") or None,
        "S3_SECRET_ACCESS_KEY": os.environ.get("S3_SECRET_ACCESS_KEY") or None,
        "CDN_BASE_URL": os.environ.get("CDN_BASE_URL") or None,
        "TRANSCODE_PRESET": os.environ.get("TRANSCODE_PRESET", "veryfast"),
        "HLS_SEGMENT_SECONDS": _int("HLS_SEGMENT_SECONDS", 4),
        # H.264 sources play at once, copied into HLS, while the ladder is made (media/instant.py).
        "TRANSCODE_INSTANT": _bool("TRANSCODE_INSTANT", True),
        "WORK_DIR": os.environ.get("WORK_DIR", os.path.join(instance_path, "work")),
        # "inprocess": jobs run in a thread of the web process; "worker": `flask worker` runs them.
        "JOBS_MODE": os.environ.get("JOBS_MODE", "inprocess"),
        # "database": jobs are rows of our `jobs` table (SQLite or PostgreSQL, the default);
        # "procrastinate": Procrastinate's tables and `flask worker` processes (PostgreSQL only).
        "JOBS_BACKEND": os.environ.get("JOBS_BACKEND", "database"),
        # Procrastinate: a worker silent (no heartbeat) this long is dead and its jobs run again.
        "JOBS_STALLED_SECONDS": _float("JOBS_STALLED_SECONDS", 30),
        "JOB_LEASE_SECONDS": _int("JOB_LEASE_SECONDS", 120),
        "JOB_MAX_ATTEMPTS": _int("JOB_MAX_ATTEMPTS", 3),
        # On SIGTERM `flask serve` lets its in-process job finish for this long, then hands it
        # back to the queue (`flask worker` drains until the job ends; a second signal stops it).
        "JOB_DRAIN_SECONDS": _int("JOB_DRAIN_SECONDS", 20),
        # Workers poll for jobs other processes enqueued (this process's own wake them at once).
        "JOBS_POLL_SECONDS": _float("JOBS_POLL_SECONDS", 0.5),
        # Transcodes and replays run beside the short jobs, this many at a time per `flask serve`.
        "JOBS_MEDIA_CONCURRENCY": _int("JOBS_MEDIA_CONCURRENCY", 2),
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "SOCKETIO_MESSAGE_QUEUE": os.environ.get("SOCKETIO_MESSAGE_QUEUE") or None,
        # What this deployment's processes share in Redis: the Socket.IO channel and the key
        # prefix. Redis pub/sub ignores database numbers, so two deployments on one Redis must
        # differ here; empty: derived from SECRET_KEY, which every node of a deployment shares.
        "DEPLOYMENT_NAME": os.environ.get("DEPLOYMENT_NAME", ""),
        # auto: gevent under gunicorn's gevent worker, threading elsewhere (commerce/webprocess.py).
        "SOCKETIO_ASYNC_MODE": os.environ.get("SOCKETIO_ASYNC_MODE", "auto"),
        # Login throttle (commerce/accounts/rules.py): failures per address in 15 min before its
        # wrong guesses get 429; per account, failures allowed before an exponential backoff.
        "LOGIN_RATE_LIMIT": _int("LOGIN_RATE_LIMIT", 10),
        "LOGIN_ACCOUNT_FREE_FAILURES": _int("LOGIN_ACCOUNT_FREE_FAILURES", 5),
        "LOGIN_BACKOFF_SECONDS": _int("LOGIN_BACKOFF_SECONDS", 30),
        "LOGIN_BACKOFF_MAX_SECONDS": _int("LOGIN_BACKOFF_MAX_SECONDS", 900),
        # How many reverse proxies (each adding X-Forwarded-For/-Proto/-Host) stand before the app;
        # 0: the socket's peer is the client and X-Forwarded-* headers are ignored.
        "TRUSTED_PROXIES": _int("TRUSTED_PROXIES", 0),
        # Other origins (scheme://host[:port]) whose pages may send state-changing requests here.
        "TRUSTED_ORIGINS": _list("TRUSTED_ORIGINS"),
        "SIGNUP_RATE_LIMIT": _int("SIGNUP_RATE_LIMIT", 20),
        # Watch time (commerce/videos/watch.py): new viewings that may add watch time, per
        # account or (anonymous) per network address, per hour; more are accepted and ignored.
        "WATCH_VIEWS_PER_HOUR": _int("WATCH_VIEWS_PER_HOUR", 240),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        # Set the session cookie only when it changes: refreshed on every response, any request
        # in flight (a video segment, a view ping) could put back a session that another has
        # just changed, and lose a share link's commission disclosure.
        "SESSION_REFRESH_EACH_REQUEST": False,
        "SESSION_COOKIE_SECURE": _bool("SESSION_COOKIE_SECURE", False),
        "WTF_CSRF_TIME_LIMIT": None,
        # Notification e-mail through SMTP (off while MAIL_SERVER is empty). PUBLIC_URL is the
        # site's address as recipients reach it (https in production): links and one-click
        # unsubscribe URLs in e-mails are built on it.
        "MAIL_SERVER": os.environ.get("MAIL_SERVER", ""),
        "MAIL_PORT": _int("MAIL_PORT", 587),
        "MAIL_USE_TLS": _bool("MAIL_USE_TLS", True),
        "MAIL_USERNAME": os.environ.get("MAIL_USERNAME", ""),
        "MAIL_PASSWORD": os.environ.get("MAIL_PASSWORD", ""),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "LiveShop <no-reply@localhost>"),
        "MAIL_TIMEOUT_SECONDS": _float("MAIL_TIMEOUT_SECONDS", 20),
        "PUBLIC_URL": os.environ.get("PUBLIC_URL", ""),
        "BABEL_DEFAULT_LOCALE": "en",
        "LANGUAGES": ["en", "zh_Hans"],
        "DEFAULT_CURRENCY": os.environ.get("DEFAULT_CURRENCY", "CNY"),
        # Buying: unpaid orders expire and give their stock back.
        "PAYMENT_DEADLINE_MINUTES": _int("PAYMENT_DEADLINE_MINUTES", 15),
        "PAYMENT_PROVIDER": os.environ.get("PAYMENT_PROVIDER", "sandbox"),
        # Signs the sandbox provider's webhooks; derived from SECRET_KEY when empty.
        "PAYMENT_WEBHOOK_SECRET": os.environ.get("PAYMENT_WEBHOOK_SECRET", ""),
        "WEBHOOK_TOLERANCE_SECONDS": _int("WEBHOOK_TOLERANCE_SECONDS", 300),
        # Where the sandbox provider POSTs its webhooks; empty: this app on the request's host.
        "PAYMENT_WEBHOOK_URL": os.environ.get("PAYMENT_WEBHOOK_URL", ""),
        "PAYMENT_WEBHOOK_ATTEMPTS": _int("PAYMENT_WEBHOOK_ATTEMPTS", 8),
        # Delivered orders the buyer does not confirm complete by themselves after this.
        "ORDER_AUTO_COMPLETE_DAYS": _int("ORDER_AUTO_COMPLETE_DAYS", 10),
        # Attribution and commissions (shared/design/attribution.md).
        "ATTRIBUTION_WINDOW_DAYS": _int("ATTRIBUTION_WINDOW_DAYS", 7),
        "COMMISSION_PAID_LEVELS": _int("COMMISSION_PAID_LEVELS", 2),
        "COMMISSION_CAP_BP": _int("COMMISSION_CAP_BP", 3000),
        "COMMISSION_UPLINE_SHARE_BP": _int("COMMISSION_UPLINE_SHARE_BP", 2500),
        "COMMISSION_HOLD_DAYS": _int("COMMISSION_HOLD_DAYS", 7),
        # Group buying: how often expired groups are refunded and leader rebates paid, and the
        # leader's return window before 团长免单 (defaults to the commission hold).
        "GROUP_EXPIRY_SECONDS": _float("GROUP_EXPIRY_SECONDS", 20),
        "GROUP_REBATE_SECONDS": _float("GROUP_REBATE_SECONDS", 3600),
        "GROUP_LEADER_RETURN_DAYS": _int(
            "GROUP_LEADER_RETURN_DAYS", _int("COMMISSION_HOLD_DAYS", 7)
        ),
        # How often the deployment looks for commissions whose hold has ended (one process runs it).
        "COMMISSION_RELEASE_EVERY_SECONDS": _int("COMMISSION_RELEASE_EVERY_SECONDS", 60),
        "PAYOUT_MINIMUM_MINOR": _int("PAYOUT_MINIMUM_MINOR", 1000),
        # How often claimed coupons past their validity are marked expired (reads check too).
        "COUPON_EXPIRE_EVERY_SECONDS": _int("COUPON_EXPIRE_EVERY_SECONDS", 60),
        # Invite rewards (commerce/invites, docs/invites.md): the invitee's first order must be
        # paid within the order window, and the sharer's reward waits for its return window
        # (the commission hold by default) after delivery; at least the minimum paid.
        "INVITE_ORDER_WINDOW_DAYS": _int("INVITE_ORDER_WINDOW_DAYS", 30),
        "INVITE_HOLD_SECONDS": _float(
            "INVITE_HOLD_SECONDS", _int("COMMISSION_HOLD_DAYS", 7) * 86400.0
        ),
        "INVITE_MIN_ORDER_MINOR": _int("INVITE_MIN_ORDER_MINOR", 1000),
        # Rewards per sharer per day and per month (0: no cap); more wait for the next period.
        "INVITE_SHARER_DAILY_CAP": _int("INVITE_SHARER_DAILY_CAP", 20),
        "INVITE_SHARER_MONTHLY_CAP": _int("INVITE_SHARER_MONTHLY_CAP", 100),
        # More invitees of one sharer signing up from one network in the window: reviewed.
        "INVITE_IP_SIGNUPS": _int("INVITE_IP_SIGNUPS", 3),
        "INVITE_IP_WINDOW_HOURS": _int("INVITE_IP_WINDOW_HOURS", 24),
        # How the sharer is rewarded (commerce/invites/rewards.py REWARDERS): coupon.
        "INVITE_SHARER_REWARD": os.environ.get("INVITE_SHARER_REWARD", "coupon"),
        # What `flask setup` seeds the two platform templates with.
        "INVITE_WELCOME_AMOUNT_MINOR": _int("INVITE_WELCOME_AMOUNT_MINOR", 1000),
        "INVITE_WELCOME_MIN_SPEND_MINOR": _int("INVITE_WELCOME_MIN_SPEND_MINOR", 3000),
        "INVITE_WELCOME_VALID_DAYS": _int("INVITE_WELCOME_VALID_DAYS", 14),
        "INVITE_REWARD_AMOUNT_MINOR": _int("INVITE_REWARD_AMOUNT_MINOR", 1000),
        "INVITE_REWARD_MIN_SPEND_MINOR": _int("INVITE_REWARD_MIN_SPEND_MINOR", 3000),
        "INVITE_REWARD_VALID_DAYS": _int("INVITE_REWARD_VALID_DAYS", 30),
        "INVITE_EXPIRE_EVERY_SECONDS": _float("INVITE_EXPIRE_EVERY_SECONDS", 60),
        "INVITE_REWARD_EVERY_SECONDS": _float("INVITE_REWARD_EVERY_SECONDS", 60),
        # Points (积分, docs/points.md). Earned: per ¥1 the buyer paid (after the hold), per ¥1
        # bought through one's share link (level-1 sharer), and a daily check-in with a streak
        # bonus. Spent: POINTS_SPEND_RATE points take ¥1 off, at most POINTS_MAX_ORDER_BP of the
        # order (and POINTS_MAX_ORDER_POINTS points, 0 = no such cap). POINTS_EXPIRE_DAYS 0 =
        # points never expire. POINTS_CURRENCY: orders in it earn and spend (default: the
        # default currency). POINTS_TIMEZONE: the check-in day's zone (empty: the server's).
        "POINTS_CURRENCY": os.environ.get("POINTS_CURRENCY", ""),
        "POINTS_PER_YUAN": _int("POINTS_PER_YUAN", 1),
        "POINTS_SHARE_PER_YUAN": _int("POINTS_SHARE_PER_YUAN", 1),
        "POINTS_CHECKIN": _int("POINTS_CHECKIN", 10),
        "POINTS_CHECKIN_STREAK_STEP": _int("POINTS_CHECKIN_STREAK_STEP", 2),
        "POINTS_CHECKIN_STREAK_DAYS": _int("POINTS_CHECKIN_STREAK_DAYS", 5),
        "POINTS_SPEND_RATE": _int("POINTS_SPEND_RATE", 100),
        "POINTS_MAX_ORDER_BP": _int("POINTS_MAX_ORDER_BP", 5000),
        "POINTS_MAX_ORDER_POINTS": _int("POINTS_MAX_ORDER_POINTS", 0),
        "POINTS_HOLD_DAYS": _int("POINTS_HOLD_DAYS", _int("COMMISSION_HOLD_DAYS", 7)),
        "POINTS_EXPIRE_DAYS": _int("POINTS_EXPIRE_DAYS", 365),
        "POINTS_TIMEZONE": os.environ.get("POINTS_TIMEZONE", ""),
        # How often held points whose window has passed are credited, and points expire.
        "POINTS_RELEASE_EVERY_SECONDS": _float("POINTS_RELEASE_EVERY_SECONDS", 60),
        "POINTS_EXPIRE_EVERY_SECONDS": _float("POINTS_EXPIRE_EVERY_SECONDS", 3600),
        # Fraud signals (commerce/attribution/fraud.py): what holds a commission for review.
        "FRAUD_IP_ORDERS": _int("FRAUD_IP_ORDERS", 5),
        "FRAUD_IP_WINDOW_HOURS": _int("FRAUD_IP_WINDOW_HOURS", 24),
        "FRAUD_VELOCITY_FACTOR": _int("FRAUD_VELOCITY_FACTOR", 10),
        "FRAUD_VELOCITY_MIN_CLICKS": _int("FRAUD_VELOCITY_MIN_CLICKS", 20),
        "FRAUD_VELOCITY_MIN_ORDERS": _int("FRAUD_VELOCITY_MIN_ORDERS", 5),
        "FRAUD_BASELINE_DAYS": _int("FRAUD_BASELINE_DAYS", 7),
        # Cheap abuse: new share links per network per hour, recorded clicks per network per 10 min.
        "SHARE_RATE_LIMIT": _int("SHARE_RATE_LIMIT", 60),
        # Follows, likes and favourites per account per 10 minutes (each is a write and a row).
        "SOCIAL_RATE_LIMIT": _int("SOCIAL_RATE_LIMIT", 300),
        "CLICK_RATE_LIMIT": _int("CLICK_RATE_LIMIT", 30),
        # Searches per client address per minute, counted in each web process's memory.
        "SEARCH_RATE_LIMIT": _int("SEARCH_RATE_LIMIT", 120),
        # Live rooms: hearts, viewer counts, flash stock and chat go out once per tick per room.
        "LIVE_FANOUT_INTERVAL_MS": _int("LIVE_FANOUT_INTERVAL_MS", 150),
        # With Redis (REDIS_URL or a redis:// message queue) viewer counts are shared between
        # processes; a process that stops ticking stops counting after this (presence.py).
        "LIVE_PRESENCE_TTL_SECONDS": float(os.environ.get("LIVE_PRESENCE_TTL_SECONDS") or 5.0),
        # Live ingest (commerce/live/ingest.py): room folders under LIVE_ROOT, this node's own
        # (other nodes fetch them through LIVE_INTERNAL_URL); RTMP on LIVE_RTMP_PORT (0 = off).
        "LIVE_ROOT": os.environ.get("LIVE_ROOT", os.path.join(instance_path, "live")),
        # This process's base URL as the other nodes reach it: a room ingested here is recorded
        # with it, and the other web nodes fetch the room's FLV feed and HLS from it.
        "LIVE_INTERNAL_URL": os.environ.get("LIVE_INTERNAL_URL") or None,
        "LIVE_RTMP_HOST": os.environ.get("LIVE_RTMP_HOST", "127.0.0.1"),
        "LIVE_RTMP_PORT": _int("LIVE_RTMP_PORT", 1935),
        "LIVE_SEGMENT_SECONDS": float(os.environ.get("LIVE_SEGMENT_SECONDS") or 1.0),
        "LIVE_PRESET": os.environ.get("LIVE_PRESET", "veryfast"),
        # A dropped ingest may resume into the same room for this long; then the live ends.
        "LIVE_GRACE_SECONDS": _int("LIVE_GRACE_SECONDS", 15),
        "LIVE_IDLE_TIMEOUT_SECONDS": _int("LIVE_IDLE_TIMEOUT_SECONDS", 10),
        # One thread per low-latency viewer in threading mode: cap them per room.
        "LIVE_FLV_MAX_VIEWERS": _int("LIVE_FLV_MAX_VIEWERS", 200),
        # HLS players' blocked playlist reloads (_HLS_msn) waiting at once per process, each on a
        # thread for up to a segment; beyond it players poll. Keep it under gunicorn's --threads.
        # 0 turns blocking reload off (playlists then do not advertise it).
        "LIVE_HLS_BLOCKING_WAITS": _int("LIVE_HLS_BLOCKING_WAITS", 16),
        "LIVE_INGEST_MAX_MESSAGE_BYTES": _int("LIVE_INGEST_MAX_MESSAGE_BYTES", 8 * 1024 * 1024),
        # How often the ingest checks the database for rooms ended elsewhere (another web node).
        # It also renews the ingest node's lease on its rooms then (commerce/live/handover.py).
        "LIVE_RECONCILE_SECONDS": float(os.environ.get("LIVE_RECONCILE_SECONDS") or 2.0),
        # An ingest node silent this long (killed) no longer holds its rooms: they wait out their
        # grace, and the same stream key may resume them on any node.
        "LIVE_INGEST_LEASE_SECONDS": float(os.environ.get("LIVE_INGEST_LEASE_SECONDS") or 8.0),
        # How often the deployment ends rooms whose ingest stayed away past the grace (one process
        # runs each turn).
        "LIVE_SWEEP_SECONDS": float(os.environ.get("LIVE_SWEEP_SECONDS") or 5.0),
        # How often an ingest node stores recording parts left in its LIVE_ROOT (parts.py).
        "LIVE_PARTS_SWEEP_SECONDS": float(os.environ.get("LIVE_PARTS_SWEEP_SECONDS") or 10.0),
        # A replay is as long as the show: allow more than an upload (MAX_VIDEO_SECONDS).
        "LIVE_REPLAY_MAX_SECONDS": _int("LIVE_REPLAY_MAX_SECONDS", 6 * 3600),
    }


def deployment_name(settings: dict[str, Any]) -> str:
    """DEPLOYMENT_NAME, or a name derived from SECRET_KEY (one way: the key is not exposed)."""
    if settings.get("DEPLOYMENT_NAME"):
        return str(settings["DEPLOYMENT_NAME"])
    digest = hashlib.sha256(f"deployment:{settings['SECRET_KEY']}".encode()).hexdigest()
    return f"d{digest[:12]}"


def socketio_channel(settings: dict[str, Any]) -> str:
    return f"liveshop:{deployment_name(settings)}:socketio"


def check_jobs_backend(backend: str, database_url: str) -> None:
    """JOBS_BACKEND is one we have, and procrastinate only on PostgreSQL."""
    if backend not in ("database", "procrastinate"):
        raise RuntimeError(f"JOBS_BACKEND must be 'database' or 'procrastinate', got {backend!r}")
    if backend == "procrastinate" and not database_url.startswith("postgresql"):
        raise RuntimeError(
            "JOBS_BACKEND=procrastinate needs PostgreSQL: set DATABASE_URL to a "
            "postgresql+psycopg://... database, or use JOBS_BACKEND=database"
        )


def validate(settings: dict[str, Any]) -> None:
    """Refuse to start on settings that would break a rule, saying why."""
    try:
        check_paid_levels(settings["COMMISSION_PAID_LEVELS"])
    except DepthNotAllowed as exc:
        raise RuntimeError(str(exc)) from exc
    check_jobs_backend(settings["JOBS_BACKEND"], settings["SQLALCHEMY_DATABASE_URI"])
    try:
        check_terms(terms_from_config(settings))
    except ValueError as exc:
        raise RuntimeError(str(exc)) from exc
    internal = settings.get("LIVE_INTERNAL_URL")
    parts = urlsplit(internal) if internal else None
    if parts is not None and (parts.scheme not in ("http", "https") or not parts.hostname):
        raise RuntimeError(f"LIVE_INTERNAL_URL must be http(s)://host[:port], not {internal!r}")
