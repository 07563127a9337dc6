"""Language choice: the account's setting, then the switch's cookie, then Accept-Language."""

from __future__ import annotations

from flask import current_app, has_request_context, request

from commerce.accounts.auth import current_user


def language_for(tag: str) -> str | None:
    """Map a BCP 47 tag to a language we have: zh, zh-CN, zh-Hans-CN... -> zh_Hans."""
    lowered = tag.lower().replace("_", "-")
    if lowered.startswith("zh"):
        return "zh_Hans"
    if lowered.startswith("en"):
        return "en"
    return None


def select_locale() -> str:
    available = current_app.config["LANGUAGES"]
    if not has_request_context():  # a CLI command, a job: the deployment's default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    user = current_user()
    if user is not None and user.locale in available:
        return user.locale
    cookie = request.cookies.get("lang")
    if cookie in available:
        return cookie
    for tag, _quality in request.accept_languages:
        language = language_for(tag)
        if language in available:
            return language
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang(locale: str) -> str:
    return "zh-Hans" if locale == "zh_Hans" else locale
