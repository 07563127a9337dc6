"""Installable app: the web app manifest, the service worker and the page it shows offline.

The service worker never stores a page: pages name the signed-in person and hold their orders.
It keeps static files (versioned by the deployment's own files) and one offline page that is
rendered without any user data.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from commerce.i18n import html_lang

bp = Blueprint("pwa", __name__)

THEME_COLOR = "#e11d48"
OFFLINE_PATH = "/offline"
# What the worker stores at install; everything else under /static/ is stored as it is used.
PRECACHE = ("css/app.css", "favicon.svg", "icons/icon-192.png")


def static_version(static_folder: str) -> str:
    """A short hash of the static files' names, sizes and times: a deploy that changes one
    changes the worker's bytes, so browsers install it and drop the old cache."""
    digest = hashlib.sha256()
    root = Path(static_folder)
    for path in sorted(root.rglob("*")):
        if path.is_file():
            stat = path.stat()
            digest.update(f"{path.relative_to(root)}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:12]


@bp.get("/manifest.webmanifest")
def manifest() -> Response:
    icon = lambda name: url_for("static", filename=f"icons/{name}")  # noqa: E731
    body = {
        "name": _("LiveShop: videos and lives you can shop"),
        "short_name": _("LiveShop"),
        "description": _("Watch short videos and lives, and buy without leaving them."),
        "lang": html_lang(str(get_locale())),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#000000",
        "theme_color": THEME_COLOR,
        "icons": [
            {"src": icon("icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": icon("icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": icon("maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    response = current_app.response_class(
        current_app.json.dumps(body), mimetype="application/manifest+json"
    )
    response.headers["Vary"] = "Cookie, Accept-Language"  # the names follow the language
    return response


@bp.get("/sw.js")
def service_worker() -> Response:
    """Served from the root so that its scope is the whole site."""
    static_folder = current_app.static_folder or ""
    version = current_app.extensions.get("pwa_version")
    if version is None:
        version = current_app.extensions["pwa_version"] = static_version(static_folder)
    with open(os.path.join(static_folder, "js", "sw.js"), encoding="utf-8") as handle:
        source = handle.read()
    precache = [OFFLINE_PATH] + [url_for("static", filename=name) for name in PRECACHE]
    source = source.replace('"__VERSION__"', current_app.json.dumps(version)).replace(
        '["__PRECACHE__"]', current_app.json.dumps(precache)
    )
    response = current_app.response_class(source, mimetype="text/javascript")
    # Browsers check for a new worker at each navigation; never let a cache answer for it.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get(OFFLINE_PATH)
def offline() -> str:
    return render_template("pwa/offline.html")
