"""Browser fixtures: the app on a real port with its job worker, and Debian's Chromium."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from commerce.jobs.runner import in_process_workers, stop_workers
from tests.live import LiveServer

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    app.config["SERVER_NAME"] = None
    workers = [worker.start() for worker in in_process_workers(app, poll_seconds=0.2)]
    try:
        with LiveServer(app) as server:
            yield server
    finally:
        stop_workers(workers, 10)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            raise RuntimeError(f"{CHROMIUM} is missing: apt-get install chromium")
        pytest.skip("Debian's chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Chromium logs "Refused to ... Content Security Policy ..." for each blocked load or script; the
# page's securitypolicyviolation events are logged too, so none goes unseen.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  const what = `${event.violatedDirective} ${event.blockedURI}`;
  console.error(`Content Security Policy violation: ${what}`);
});
"""


def is_csp_message(text: str) -> bool:
    return "Content Security Policy" in text


@pytest.fixture(autouse=True)
def csp_violations(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """Every browser test fails on a Content-Security-Policy violation in any of its pages."""
    found: list[str] = []
    if "browser" not in request.fixturenames:
        yield found
        return
    browser = request.getfixturevalue("browser")
    new_context = browser.new_context

    def record(message) -> None:
        if is_csp_message(message.text):
            found.append(f"{message.page.url if message.page else '?'}: {message.text}")

    def guarded(*args, **kwargs):
        # The site's service worker fetches static files behind each page; a context closed
        # mid-fetch leaves the served app a dropped connection and an open file. Only the
        # tests about it (test_pwa) let it run.
        kwargs.setdefault("service_workers", "block")
        context = new_context(*args, **kwargs)
        context.add_init_script(CSP_LISTENER)
        context.on("console", record)
        return context

    monkeypatch.setattr(browser, "new_context", guarded)
    yield found
    assert found == [], "Content-Security-Policy violations:\n" + "\n".join(found)


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("E2E_SCREENSHOTS", tmp_path / "screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder
