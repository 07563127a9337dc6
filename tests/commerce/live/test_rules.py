"""Live-room rules, by tables."""

from datetime import datetime, timedelta

import pytest

from commerce.live import rules
from commerce.live.rules import ANONYMOUS, CREATOR, ENDED, LIVE, MODERATOR, SCHEDULED, VIEWER

T0 = datetime(2026, 1, 1, 12, 0, 0)


@pytest.mark.parametrize(
    ("current", "wanted", "legal"),
    [
        (SCHEDULED, LIVE, True),
        (SCHEDULED, ENDED, True),
        (LIVE, ENDED, True),
        (LIVE, LIVE, False),
        (LIVE, SCHEDULED, False),
        (ENDED, ENDED, False),  # ending twice is an error
        (ENDED, LIVE, False),
        (SCHEDULED, SCHEDULED, False),
    ],
)
def test_state_transitions(current, wanted, legal):
    if legal:
        assert rules.check_transition(current, wanted) == wanted
    else:
        with pytest.raises(rules.IllegalTransition):
            rules.check_transition(current, wanted)


@pytest.mark.parametrize(
    ("user_id", "moderators", "role"),
    [(None, set(), ANONYMOUS), (1, set(), CREATOR), (2, {2}, MODERATOR), (3, {2}, VIEWER)],
)
def test_roles(user_id, moderators, role):
    assert rules.role_of(user_id, 1, moderators) == role


@pytest.mark.parametrize(
    ("role", "banned", "chat", "pin", "moderate", "manage"),
    [
        (CREATOR, False, True, True, True, True),
        (MODERATOR, False, True, False, True, False),
        (VIEWER, False, True, False, False, False),
        (VIEWER, True, False, False, False, False),
        (ANONYMOUS, False, False, False, False, False),
    ],
)
def test_permissions(role, banned, chat, pin, moderate, manage):
    p = rules.permissions_for(role, banned=banned)
    assert (p.can_chat, p.can_pin, p.can_moderate, p.can_manage) == (chat, pin, moderate, manage)


@pytest.mark.parametrize(
    ("pinned", "product", "refusal"),
    [
        ([], 1, None),
        ([1, 2], 3, None),
        ([1, 2, 3], 4, "too_many_pins"),
        ([1], 1, "already_pinned"),
        ([1, 2, 3], 3, "already_pinned"),
    ],
)
def test_pin_limit(pinned, product, refusal):
    if refusal is None:
        rules.check_pin(pinned, product)
    else:
        with pytest.raises(rules.PinRefused) as caught:
            rules.check_pin(pinned, product)
        assert caught.value.code == refusal


def ago(*seconds):
    return [T0 - timedelta(seconds=s) for s in seconds]


@pytest.mark.parametrize(
    ("role", "recent", "slow", "expected"),
    [
        (VIEWER, [], 0, None),
        (VIEWER, ago(9, 8, 7, 6), 0, None),  # 4 in 10 s: the 5th may go
        (VIEWER, ago(9, 8, 7, 6, 5), 0, ("rate_limited", 1)),  # the oldest leaves in 1 s
        (VIEWER, ago(11, 8, 7, 6, 5), 0, None),  # one is outside the window
        (VIEWER, ago(3), 10, ("slow_mode", 7)),
        (VIEWER, ago(10), 10, None),
        (VIEWER, ago(30), 10, None),
        (MODERATOR, ago(1, 1, 1, 1, 1, 1), 30, None),  # staff are exempt
        (CREATOR, ago(1), 30, None),
    ],
)
def test_rate_limit_and_slow_mode(role, recent, slow, expected):
    refusal = rules.chat_refusal(role, recent, T0, slow_mode_s=slow)
    assert (refusal.code, refusal.retry_after_s) == expected if expected else refusal is None


@pytest.mark.parametrize(
    ("role", "links"), [(CREATOR, True), (MODERATOR, True), (VIEWER, False), (ANONYMOUS, False)]
)
def test_who_may_render_links(role, links):
    assert rules.may_render_links(role) is links


@pytest.mark.parametrize(
    ("text", "links", "html"),
    [
        ("<script>alert(1)</script>", False, "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("<b>hi</b>", True, "&lt;b&gt;hi&lt;/b&gt;"),
        ("see https://x.test/a?b=1&c=2", False, "see https://x.test/a?b=1&amp;c=2"),
        (
            "see https://x.test/a?b=1&c=2.",
            True,
            'see <a href="https://x.test/a?b=1&amp;c=2" rel="nofollow noopener ugc" '
            'target="_blank">https://x.test/a?b=1&amp;c=2</a>.',
        ),
        ('https://x.test/"onmouseover=1', True, None),  # quotes end the link: no attribute escape
        ("javascript:alert(1)", True, "javascript:alert(1)"),
    ],
)
def test_chat_rendering(text, links, html):
    out = rules.render_chat_html(text, links=links)
    if html is not None:
        assert out == html
    assert "<script" not in out and '"onmouseover' not in out


@pytest.mark.parametrize(
    ("text", "keywords", "hit"),
    [
        ("buy cheap rolex", ["rolex"], "rolex"),
        ("BUY CHEAP ROLEX", ["rolex"], "rolex"),
        ("ｒｏｌｅｘ", ["rolex"], "rolex"),  # full-width letters
        ("r o l e x", ["rolex"], "rolex"),  # spaced out
        ("lovely tea", ["rolex"], None),
        ("anything", [], None),
    ],
)
def test_keyword_filter(text, keywords, hit):
    assert rules.blocked_keyword(text, rules.normalise_keywords(keywords)) == hit


def test_keywords_are_normalised():
    assert rules.normalise_keywords([" Spam ", "spam", "", "ＳＰＡＭ", "scam"]) == ["spam", "scam"]


@pytest.mark.parametrize(
    ("now", "remaining", "phase"),
    [
        (T0 - timedelta(seconds=5), 10, rules.UPCOMING),
        (T0, 10, rules.ON),
        (T0 + timedelta(seconds=30), 0, rules.SOLD_OUT),
        (T0 + timedelta(seconds=60), 10, rules.OVER),
    ],
)
def test_flash_phase(now, remaining, phase):
    assert rules.flash_phase(now, T0, T0 + timedelta(seconds=60), remaining) == phase


def test_mutes_expire():
    until = rules.muted_until(T0, 60)
    assert rules.is_muted(until, T0 + timedelta(seconds=59))
    assert not rules.is_muted(until, T0 + timedelta(seconds=60))
    assert not rules.is_muted(None, T0)


@pytest.mark.parametrize(
    ("configured", "port", "expected"),
    [
        ("rtmp://ingest.example:1940/live", 1935, "rtmp://ingest.example:1940/live"),
        ("rtmp://ingest.example/live", 0, "rtmp://ingest.example/live"),
        (None, 19350, "rtmp://shop.example:19350/live"),
        ("", 1935, "rtmp://shop.example:1935/live"),
        (None, 0, None),  # this node runs no RTMP and nobody said where it runs
    ],
)
def test_the_obs_server_follows_the_configuration(configured, port, expected):
    assert rules.obs_server_url(configured, port, "shop.example") == expected
