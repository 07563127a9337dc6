"""Builds and wires the application; nothing else lives here."""

from __future__ import annotations

import functools
import logging
import os
import secrets
from typing import Any

from flask import Flask, jsonify
from flask_babel import get_locale
from werkzeug.middleware.proxy_fix import ProxyFix

from commerce import (
    config,
    errors,
    inputs,
    message_queue,
    pwa,
    realtime,
    security,
    shell,
    visitor,
    webprocess,
)
from commerce.accounts import api as accounts_api
from commerce.accounts import views as accounts_views
from commerce.accounts.auth import current_user, load_user
from commerce.apispec import build_openapi
from commerce.attribution import admin as attribution_admin
from commerce.attribution import api as attribution_api
from commerce.attribution import hooks as attribution_hooks
from commerce.attribution import jobs as attribution_jobs  # noqa: F401  (registers job kinds)
from commerce.attribution import models as attribution_models  # noqa: F401  (registers tables)
from commerce.attribution import views as attribution_views
from commerce.catalog import api as catalog_api
from commerce.catalog import views as catalog_views
from commerce.cli import register_commands
from commerce.comments import api as comments_api
from commerce.coupons import api as coupons_api
from commerce.coupons import jobs as coupons_jobs  # noqa: F401  (registers periodic tasks)
from commerce.coupons import views as coupons_views
from commerce.extensions import babel, csrf, db, migrate, socketio
from commerce.files import views as files_views
from commerce.files.services import object_url
from commerce.groupbuy import api as groupbuy_api
from commerce.groupbuy import events as groupbuy_events  # noqa: F401  (registers handlers)
from commerce.groupbuy import hooks as groupbuy_hooks
from commerce.groupbuy import jobs as groupbuy_jobs  # noqa: F401  (registers periodic tasks)
from commerce.groupbuy import views as groupbuy_views
from commerce.i18n import html_lang, select_locale
from commerce.invites import api as invites_api
from commerce.invites import hooks as invites_hooks
from commerce.invites import jobs as invites_jobs  # noqa: F401  (registers periodic tasks)
from commerce.invites import views as invites_views
from commerce.jobs import views as jobs_admin
from commerce.live import api as live_api
from commerce.live import chat_api as live_chat_api
from commerce.live import events as live_events  # noqa: F401  (registers handlers)
from commerce.live import fanout as live_fanout
from commerce.live import ingest as live_ingest
from commerce.live import reminders_api as live_reminders_api
from commerce.live import replay_api as live_replay_api
from commerce.live import resync as live_resync
from commerce.live import streams as live_streams
from commerce.live import views as live_views
from commerce.moderation import admin as moderation_admin
from commerce.moderation import api as moderation_api
from commerce.moderation import labels as moderation_labels
from commerce.money import format_money
from commerce.notifications import api as notifications_api
from commerce.notifications import email as notifications_email  # noqa: F401  (job kinds)
from commerce.notifications import fanout as notifications_fanout  # noqa: F401  (job kinds)
from commerce.notifications import hooks as notifications_hooks
from commerce.notifications import views as notifications_views
from commerce.orders import api as orders_api
from commerce.orders import jobs as orders_jobs  # noqa: F401  (registers periodic tasks)
from commerce.orders import models as orders_models  # noqa: F401  (registers tables)
from commerce.orders import quote_api as orders_quote_api
from commerce.orders import views as orders_views
from commerce.payments import api as payments_api
from commerce.payments import models as payments_models  # noqa: F401  (registers tables)
from commerce.payments import views as payments_views
from commerce.payments.webhooks import make_provider
from commerce.points import api as points_api
from commerce.points import hooks as points_hooks
from commerce.points import jobs as points_jobs  # noqa: F401  (registers periodic tasks)
from commerce.points import views as points_views
from commerce.promostats import api as promostats_api
from commerce.promostats import views as promostats_views
from commerce.reviews import api as reviews_api
from commerce.reviews import views as reviews_views
from commerce.search import api as search_api
from commerce.search import indexing as search_indexing  # noqa: F401  (keeps documents current)
from commerce.search import views as search_views
from commerce.social import api as social_api
from commerce.social import views as social_views
from commerce.videos import api as videos_api
from commerce.videos import events as videos_events  # noqa: F401  (registers handlers)
from commerce.videos import pipeline as videos_pipeline  # noqa: F401  (registers job kinds)
from commerce.videos import reactions_api as videos_reactions_api
from commerce.videos import views as videos_views
from media.storage import make_storage

log = logging.getLogger(__name__)


def _secret_key(app: Flask) -> str:
    path = os.path.join(app.instance_path, "secret_key")
    if os.path.exists(path):
        with open(path) as handle:
            return handle.read().strip()
    log.warning("no SECRET_KEY and no %s: sessions end when this process stops", path)
    return secrets.token_hex(32)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_mapping(config.from_environment(app.instance_path))
    if test_config:
        app.config.from_mapping(test_config)
    config.validate(app.config)
    webprocess.configure(app.config)  # gevent or threads, and the pool to match
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_key(app)
    app.config["DEPLOYMENT_NAME"] = config.deployment_name(app.config)

    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "migrations"))
    babel.init_app(app, locale_selector=select_locale)
    csrf.init_app(app)
    queue = app.config["SOCKETIO_MESSAGE_QUEUE"]
    channel = config.socketio_channel(app.config)
    socketio_options: dict[str, Any] = {"message_queue": queue, "channel": channel}
    manager = message_queue.client_manager(queue, channel)
    if manager is not None or not queue:  # None without a queue: forget an earlier app's
        socketio_options["client_manager"] = manager
    socketio.init_app(app, async_mode=app.config["SOCKETIO_ASYNC_MODE"], **socketio_options)
    if proxies := app.config["TRUSTED_PROXIES"]:  # outermost, so Socket.IO sees the client too
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies, x_port=proxies
        )
    app.extensions["storage"] = make_storage(app.config)
    app.extensions["payments"] = make_provider(app)
    realtime.install()
    errors.init_app(app)
    security.init_app(app)
    inputs.init_app(app)  # before any route is added: the rules use its `int` converter
    app.before_request(load_user)
    visitor.init_app(app)
    attribution_hooks.init_app(app)
    live_fanout.init_app(app)
    if manager is not None:  # after an outage, live rooms get their snapshot pushed
        manager.resync_hooks.append(functools.partial(live_resync.push_snapshots, app))
    live_ingest.init_app(app)
    search_api.init_app(app)
    notifications_views.init_app(app)
    notifications_hooks.init_app(app)
    groupbuy_hooks.init_app(app)
    points_hooks.init_app(app)
    groupbuy_views.init_app(app)
    promostats_views.init_app(app)
    invites_hooks.init_app(app)
    invites_views.init_app(app)
    live_reminders_api.init_app(app)

    app.register_blueprint(live_reminders_api.bp)
    app.register_blueprint(live_reminders_api.pages)
    for module in (
        accounts_views,
        accounts_api,
        social_api,
        social_views,
        catalog_views,
        catalog_api,
        videos_views,
        videos_api,
        videos_reactions_api,
        files_views,
        attribution_views,
        attribution_api,
        attribution_admin,
        jobs_admin,
        orders_views,
        orders_api,
        orders_quote_api,
        payments_views,
        payments_api,
        live_api,
        live_chat_api,
        live_views,
        live_replay_api,
        live_streams,
        pwa,
        comments_api,
        moderation_api,
        moderation_admin,
        search_api,
        search_views,
        reviews_api,
        reviews_views,
        notifications_api,
        notifications_views,
        coupons_api,
        coupons_views,
        groupbuy_api,
        groupbuy_views,
        promostats_api,
        promostats_views,
        invites_api,
        invites_views,
        points_api,
        points_views,
    ):
        app.register_blueprint(module.bp)

    @app.get("/api/openapi.json")
    def openapi() -> Any:
        return jsonify(build_openapi(app))

    app.jinja_env.globals.update(
        current_user=current_user,
        object_url=object_url,
        format_money=format_money,
        report_reasons=moderation_labels.REASONS,
        get_locale=get_locale,
        html_lang=lambda: html_lang(str(get_locale())),
    )
    shell.init_app(app)
    register_commands(app)
    return app
