"""Search through the app: Chinese words inside longer titles, documents kept current by every
change (product, video, profile, moderation), validation, paging, the rate limit, rebuild."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, func, select

from commerce.accounts.bans import AccountBan
from commerce.accounts.models import User
from commerce.extensions import db
from commerce.search.models import SearchDocument
from commerce.timeutil import utcnow
from commerce.videos.models import Video


def found(api, q, kind="video"):
    response = api.get("/api/v1/search", query_string={"q": q, "kind": kind})
    assert response.status_code == 200, response.get_json()
    return [hit["title"] for hit in response.get_json()["items"]]


def test_a_chinese_word_inside_a_longer_title_finds_videos_and_products(
    api, create_user, create_video, create_product
):
    creator = create_user(creator=True, name="小美")
    merchant = create_user(merchant=True, name="花店")
    create_video(creator, title="夏季碎花连衣裙")
    create_video(creator, title="Summer floral dress")
    create_video(creator, title="男士休闲裤")
    create_product(merchant, title="碎花连衣裙 夏季新款", price_minor=12900)
    create_product(merchant, title="Linen trousers")

    assert found(api, "连衣裙") == ["夏季碎花连衣裙"]
    assert found(api, "连衣裙", "product") == ["碎花连衣裙 夏季新款"]
    assert found(api, "碎花") == ["夏季碎花连衣裙"]
    assert found(api, "裙") == ["夏季碎花连衣裙"]  # one character
    assert found(api, "Dress") == ["Summer floral dress"]
    assert found(api, "flor") == ["Summer floral dress"]  # Latin words match as prefixes
    assert found(api, "dress 连衣裙") == []  # every word must match
    assert found(api, "trousers", "product") == ["Linen trousers"]
    assert found(api, "小美", "creator") == ["小美"]
    hit = api.get("/api/v1/search?q=连衣裙&kind=product").get_json()["items"][0]
    assert hit["price_minor"] == 12900 and hit["url"].startswith("/products/")
    video = api.get("/api/v1/search?q=连衣裙").get_json()["items"][0]
    assert video["url"] == f"/v/{video['id']}" and video["subtitle"] == "小美"
    creator_hit = api.get("/api/v1/search?q=小美&kind=creator").get_json()["items"][0]
    assert creator_hit["url"] == f"/c/{creator.id}"


def test_documents_follow_product_changes_made_through_the_api(make_api, create_user):
    merchant = create_user(merchant=True)
    api = make_api(merchant)
    body = {"title": "真丝围巾", "price_minor": 9900, "currency": "CNY", "stock": 3}
    product = api.post("/api/v1/products", body).get_json()
    assert found(api, "围巾", "product") == ["真丝围巾"]

    api.put(f"/api/v1/products/{product['id']}", {**body, "title": "羊绒披肩"})
    assert found(api, "围巾", "product") == []
    assert found(api, "披肩", "product") == ["羊绒披肩"]

    api.put(f"/api/v1/products/{product['id']}", {**body, "title": "羊绒披肩", "is_active": False})
    assert found(api, "披肩", "product") == []  # off sale: not searchable


def test_documents_follow_video_edits_publishing_and_moderation(
    app, make_api, create_user, create_video
):
    creator = create_user(creator=True)
    public_id = create_video(creator, title="Tea ceremony")
    owner = make_api(creator)
    owner.patch(f"/api/v1/videos/{public_id}", {"title": "功夫茶 ceremony", "description": ""})
    assert found(owner, "功夫茶") == ["功夫茶 ceremony"]
    assert found(owner, "tea") == []

    assert owner.post(f"/api/v1/videos/{public_id}/unpublish").status_code == 200
    assert found(owner, "功夫茶") == []  # drafts are never found, not even by their creator
    assert owner.post(f"/api/v1/videos/{public_id}/publish").status_code == 200
    assert found(owner, "功夫茶") == ["功夫茶 ceremony"]

    # An admin hides it on a report: gone from search in the same transaction.
    reporter = make_api(create_user())
    report = reporter.post(
        "/api/v1/reports", {"target_type": "video", "target_id": public_id, "reason": "spam"}
    ).get_json()
    admin_user = create_user(email="admin@example.com")
    with app.app_context():
        db.session.get(User, admin_user.id).is_admin = True
        db.session.commit()
    admin = make_api(admin_user)
    decided = admin.post(
        f"/api/v1/admin/reports/{report['id']}/decision",
        {"decision": "hide", "reason": "spam video"},
    )
    assert decided.status_code == 200, decided.get_json()
    assert found(owner, "功夫茶") == []


def test_a_banned_accounts_content_never_appears(
    app, api, create_user, create_video, create_product
):
    creator = create_user(creator=True, merchant=True, name="Banned Brewer")
    admin = create_user()
    create_video(creator, title="Oolong tasting")
    create_product(creator, title="Oolong leaves")
    assert found(api, "oolong") == ["Oolong tasting"]
    with app.app_context():
        db.session.add(AccountBan(user_id=creator.id, kind="post", by_id=admin.id))
        db.session.commit()
    assert found(api, "oolong") == []
    assert found(api, "oolong", "product") == []
    assert found(api, "brewer", "creator") == []


def test_a_profile_change_moves_the_creator_document(make_api, create_user):
    user = create_user(name="Plain Viewer")
    api = make_api(user)
    assert found(api, "plain", "creator") == []  # not a creator: no document
    api.put("/api/v1/me", {"display_name": "茶艺师阿明", "bio": "Tea and teapots"})
    assert found(api, "阿明", "creator") == []
    api.put(
        "/api/v1/me", {"display_name": "茶艺师阿明", "bio": "Tea and teapots", "is_creator": True}
    )
    assert found(api, "阿明", "creator") == ["茶艺师阿明"]
    assert found(api, "teapot", "creator") == ["茶艺师阿明"]  # the bio too


def test_a_rolled_back_change_leaves_no_document(app, create_user):
    creator = create_user(creator=True)
    videos = select(func.count()).where(SearchDocument.kind == "video")
    with app.app_context():
        db.session.add(
            Video(
                public_id="rolledback01", creator_id=creator.id, title="回滚", published_at=utcnow()
            )
        )
        db.session.flush()
        assert db.session.scalar(videos) == 1
        db.session.rollback()
        assert db.session.scalar(videos) == 0


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ({"q": ""}, "q", "Type something"),
        ({"q": "   "}, "q", "Type something"),
        ({"q": "x" * 101}, "q", "at most 100"),
        ({"q": "x" * 1001}, "q", "at most 1000"),
        ({"q": "?!"}, "q", "letters, digits or Chinese"),
        ({"q": "tea", "kind": "shops"}, "kind", ""),
        ({"q": "tea", "cursor": "nonsense"}, "cursor", "not valid"),
        ({"q": "tea", "limit": "0"}, "limit", ""),
    ],
)
def test_bad_queries_are_400s_with_a_message(api, query, field, words):
    response = api.get("/api/v1/search", query_string=query)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert field in error["fields"] and words in (error["message"] + error["fields"][field])


def test_a_chinese_message_for_a_chinese_client(api):
    response = api.get("/api/v1/search?q=", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 400
    assert response.get_json()["error"]["message"] == "请输入要搜索的内容。"


def test_pages_follow_the_cursor_in_rank_order(api, create_user, create_video):
    creator = create_user(creator=True)
    for n in range(5):
        create_video(creator, title=f"绿茶 {n}", view_count=n * 100)
    seen, cursor = [], None
    while True:
        query = {"q": "绿茶", "limit": 2, **({"cursor": cursor} if cursor else {})}
        page = api.get("/api/v1/search", query_string=query).get_json()
        seen += [hit["title"] for hit in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == [f"绿茶 {n}" for n in (4, 3, 2, 1, 0)]  # the most watched first


def test_searching_is_rate_limited_per_client(make_app):
    app = make_app(SEARCH_RATE_LIMIT=2)
    client = app.test_client()
    assert client.get("/api/v1/search?q=tea").status_code == 200
    assert client.get("/search?q=tea").status_code == 200  # the page counts too
    refused = client.get("/api/v1/search?q=tea")
    assert refused.status_code == 429 and 1 <= int(refused.headers["Retry-After"]) <= 60
    other = client.get("/api/v1/search?q=tea", environ_overrides={"REMOTE_ADDR": "10.0.0.9"})
    assert other.status_code == 200  # another client has its own window


def test_flask_search_rebuild_indexes_an_existing_database(
    app, api, create_user, create_video, create_product
):
    creator = create_user(creator=True, name="王老师")
    create_video(creator, title="普洱茶入门")
    create_video(creator, title="Draft 普洱", published=False)
    create_product(create_user(merchant=True), title="普洱茶饼")
    with app.app_context():
        db.session.execute(delete(SearchDocument))
        db.session.commit()
    assert found(api, "普洱") == []

    result = app.test_cli_runner().invoke(args=["search", "rebuild"])
    assert result.exit_code == 0, result.output
    assert "indexed 1 videos, 1 creators, 1 products" in result.output
    assert found(api, "普洱") == ["普洱茶入门"]
    assert found(api, "普洱", "product") == ["普洱茶饼"]
    assert found(api, "王老师", "creator") == ["王老师"]


def test_the_search_page_has_tabs_results_and_errors(client, create_user, create_video):
    creator = create_user(creator=True, name="Lin")
    create_video(creator, title="夏季碎花连衣裙")
    page = client.get("/search?q=连衣裙")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "夏季碎花连衣裙" in html and 'data-kind="creator"' in html
    assert client.get("/search").status_code == 200  # the entry: just the box
    empty = client.get("/search?q=连衣裙&kind=product").get_data(as_text=True)
    assert 'id="search-empty"' in empty
    too_long = client.get("/search", query_string={"q": "x" * 101})
    assert too_long.status_code == 400 and "at most 100" in too_long.get_data(as_text=True)
    escaped = client.get("/search?q=<script>x</script>").get_data(as_text=True)
    assert "<script>x</script>" not in escaped


def test_entries_on_the_feed_and_the_shop(client):
    assert 'id="feed-search"' in client.get("/").get_data(as_text=True)
    shop = client.get("/products").get_data(as_text=True)
    assert 'id="shop-search"' in shop and 'action="/search"' in shop


def test_setup_indexes_a_database_whose_index_is_empty(app, api, create_user, create_video):
    from commerce.search.cli import index_if_empty

    create_video(create_user(creator=True), title="白毫银针")
    with app.app_context():
        db.session.execute(delete(SearchDocument))
        db.session.commit()
        index_if_empty()
    assert found(api, "银针") == ["白毫银针"]
