"""An admin looks at the background jobs and retries a dead one, on a phone and a desktop, in
English and Chinese: nothing overflows, the retry button is on screen and works."""

from __future__ import annotations

from datetime import timedelta

import pytest

from commerce.extensions import db
from commerce.jobs.runner import enqueue, job_handler, run_one
from tests.commerce.attribution.conftest import set_user
from tests.e2e.test_checkout import log_in

pytestmark = pytest.mark.e2e


RUNS: list[int] = []


@job_handler("test.e2e_broken", queue="payments")
def broken_once(payload, ctx):
    RUNS.append(ctx.job_id)
    if len(RUNS) == 1:
        raise RuntimeError("the provider said no")


def dead_job(app) -> int:
    RUNS.clear()
    with app.app_context():
        job = enqueue(db.session, "test.e2e_broken", {}, max_attempts=1)
        db.session.commit()
        run_one(db.session, "w", timedelta(minutes=1))
        return job.id


@pytest.mark.parametrize(
    ("width", "height", "lang", "retry_label"),
    [(390, 844, "en", "Retry now"), (1366, 900, "zh_Hans", "立即重试")],
)
def test_an_admin_retries_a_dead_job(
    app, live_server, browser, create_user, width, height, lang, retry_label
):
    from playwright.sync_api import expect

    admin = create_user(name="Root")
    set_user(app, admin.id, is_admin=True)
    job_id = dead_job(app)
    context = browser.new_context(viewport={"width": width, "height": height})
    context.add_cookies([{"name": "lang", "value": lang, "url": live_server.url}])
    page = context.new_page()
    log_in(page, live_server.url, admin.email, "/admin/jobs")
    card = page.locator(f'[data-job-id="{job_id}"]')
    expect(card).to_have_attribute("data-state", "dead")
    assert "the provider said no" in card.inner_text()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{overflow}px wider than the {width}px viewport"
    button = card.get_by_role("button", name=retry_label)
    button.scroll_into_view_if_needed()
    box = button.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    button.click()
    page.wait_for_load_state()
    expect(page.locator(".flashes")).to_contain_text(str(job_id))
    # The retry woke the served app's worker, which ran the job again, this time to the end.
    page.goto(f"{live_server.url}/admin/jobs?state=done")
    expect(page.locator(f'[data-job-id="{job_id}"]')).to_have_attribute("data-state", "done")
    assert [job_id, job_id] == RUNS
    context.close()
