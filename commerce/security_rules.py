"""Pure web-security rules: safe redirect targets, same-origin checks, the CSP."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from urllib.parse import urlsplit


def safe_path(target: str | None, default: str) -> str:
    """`target` if it is a path on this site, else `default`: never an open redirect.

    Browsers drop tabs and newlines from URLs and read a backslash as a slash, so "/\\t/evil",
    "/\\\\evil" and "//evil" all lead off-site; refuse any control character or backslash.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def origin_of(url: str | None) -> str | None:
    """The scheme://host[:port] of an absolute http(s) URL, else None."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(origin: str, *, scheme: str, host: str, trusted: Collection[str] = ()) -> bool:
    """Whether an Origin header names this site (its scheme and host) or a trusted origin."""
    own = f"{scheme}://{host}".lower()
    claimed = origin.strip().lower().rstrip("/")
    return claimed == own or claimed in {t.lower().rstrip("/") for t in trusted}


def content_security_policy(
    nonce: str, *, host: str, media_origins: Iterable[str] = (), frame_ancestors: str = "'self'"
) -> str:
    """The policy for our pages: our own scripts (or nonced ones), no inline handlers.

    hls.js and mpegts.js run workers from blob: URLs and play MediaSource blob: URLs; Socket.IO,
    the low-latency player and the studio's ingest use WebSockets to this host; media may come
    from a CDN (`media_origins`); share QR codes and previews may be data: or blob: images.
    """
    extra = " ".join(sorted(set(media_origins)))
    sockets = f"ws://{host} wss://{host}"
    directives = {
        "default-src": "'self'",
        "script-src": f"'self' 'nonce-{nonce}'",
        "style-src": "'self'",
        "img-src": f"'self' data: blob: {extra}",
        "media-src": f"'self' blob: {extra}",
        "connect-src": f"'self' {sockets} {extra}",
        "worker-src": "'self' blob:",
        "font-src": "'self'",
        "frame-src": "'self'",
        "frame-ancestors": frame_ancestors,
        "form-action": "'self'",
        "base-uri": "'self'",
        "object-src": "'none'",
    }
    return "; ".join(f"{name} {' '.join(value.split())}" for name, value in directives.items())
