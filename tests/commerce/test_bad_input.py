"""Bad input gets a 4xx with a clear message, never a 500 (issue 10, section 3)."""

from __future__ import annotations

from datetime import datetime

import pytest

from commerce.validation import Schema

BIG = 2**63  # one past the largest signed 64-bit integer
ID_PAST = 2**31  # one past the largest id of a 32-bit (PostgreSQL INTEGER) column

ZH = {"Accept-Language": "zh-CN"}


@pytest.fixture
def seller(create_user, make_api):
    user = create_user(creator=True, merchant=True)
    return make_api(user)


def _fields(response):
    body = response.get_json()
    assert "error" in body, body
    return body["error"].get("fields", {})


@pytest.mark.parametrize("number", [ID_PAST, BIG])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("GET", "/api/v1/products/{}"),
        ("GET", "/api/v1/products/{}/buy-info"),
        ("GET", "/api/v1/me/payouts/{}"),
        ("GET", "/api/v1/users/{}"),
        ("GET", "/api/v1/shares/{}/qr.svg"),
        ("DELETE", "/api/v1/cart/{}"),  # werkzeug answered 405: the PATCH rule had matched
        ("PATCH", "/api/v1/cart/{}"),
        ("GET", "/products/{}"),
        ("GET", "/c/{}"),
    ],
)
def test_path_ids_past_the_column_are_not_found(seller, method, url, number):
    response = seller.request(method, url.format(number), json={"quantity": 1})
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("url", "field", "message"),
    [
        (f"/api/v1/products?merchant_id={ID_PAST}", "merchant_id", "Must be at most 2147483647."),
        (f"/api/v1/products?merchant_id={BIG}", "merchant_id", "Must be at most 2147483647."),
        (f"/api/v1/feed?creator_id={ID_PAST}", "creator_id", "Must be at most 2147483647."),
        (f"/api/v1/feed?creator_id={-BIG}", "creator_id", "Must be at least -2147483648."),
    ],
)
def test_query_integers_past_the_column_are_refused(seller, url, field, message):
    response = seller.get(url)
    assert response.status_code == 400
    assert _fields(response)[field] == message


@pytest.mark.parametrize("url", [f"/orders?page={BIG}", f"/merchant/orders?page={BIG}"])
def test_html_pages_past_the_last_still_render(seller, url):
    assert seller.get(url).status_code == 200


@pytest.mark.parametrize("number", [ID_PAST, BIG])
@pytest.mark.parametrize(
    ("method", "url", "payload", "field"),
    [
        ("POST", "/api/v1/cart", {"product_id": "{}"}, "product_id"),
        ("POST", "/api/v1/live/rooms", {"title": "Show", "featured_product_ids": ["{}"]}, None),
        ("POST", "/api/v1/live/rooms/abc/moderators", {"user_id": "{}"}, "user_id"),
        ("PUT", "/api/v1/videos/abc/cover", {"cover_ms": "{}"}, "cover_ms"),
    ],
)
def test_body_integers_past_the_column_are_refused(seller, method, url, payload, field, number):
    def fill(value):
        if isinstance(value, list):
            return [fill(item) for item in value]
        return number if value == "{}" else value

    response = seller.request(method, url, json={k: fill(v) for k, v in payload.items()})
    assert response.status_code == 400
    fields = _fields(response)
    message = fields[field] if field else next(iter(fields.values()))
    assert message == "Must be at most 2147483647."


def test_big_integer_columns_take_64_bit_numbers(seller):
    response = seller.post("/api/v1/uploads", {"filename": "a.mp4", "size": 3 * 2**30})
    assert response.status_code in (201, 413), response.get_json()


def test_payout_in_an_unsupported_currency_is_refused(seller):
    response = seller.post(
        "/api/v1/me/payouts",
        {"amount_minor": 100_000, "currency": "XXX", "idempotency_key": "key-12345"},
    )
    assert response.status_code == 400
    assert "CNY" in _fields(response)["currency"]


MULTIPART_NAMELESS = (
    b"--b\r\nContent-Disposition: form-data\r\n\r\nx\r\n"
    b'--b\r\nContent-Disposition: form-data; filename="a.png"\r\n\r\nx\r\n--b--\r\n'
)


@pytest.mark.parametrize(
    "url", ["/api/v1/products", "/api/v1/me/avatar", "/signup", "/login", "/profile/avatar"]
)
def test_multipart_part_without_a_name_is_refused(seller, url):
    response = seller.post(
        url, data=MULTIPART_NAMELESS, content_type="multipart/form-data; boundary=b"
    )
    assert response.status_code == 400
    assert "name" in response.get_data(as_text=True)


@pytest.mark.parametrize("opening", ["[", '{"a":'])
def test_json_nested_too_deeply_is_refused(seller, opening):
    closing = "]" if opening == "[" else "}"
    body = opening * 100_000 + "1" + closing * 100_000
    response = seller.client.post(
        "/api/v1/products",
        data=body,
        content_type="application/json",
        headers={"X-CSRFToken": seller.token()},
    )
    assert response.status_code == 400
    assert "nested" in response.get_json()["error"]["message"]


def _has_offset(text):
    return text.endswith("Z") or text[-6] in "+-"


def test_datetimes_are_written_with_an_offset(seller):
    room = seller.post(
        "/api/v1/live/rooms", {"title": "Show", "scheduled_at": "2099-12-04T17:00:00+08:00"}
    )
    assert room.status_code == 201, room.get_json()
    scheduled = room.get_json()["scheduled_at"]
    assert _has_offset(scheduled), scheduled
    assert datetime.fromisoformat(scheduled) == datetime.fromisoformat("2099-12-04T09:00:00Z")


def test_the_schema_base_writes_naive_datetimes_as_utc():
    class Stamped(Schema):
        at: datetime
        history: list[datetime]

    dumped = Stamped(at=datetime(2026, 1, 2, 3, 4, 5), history=[datetime(2026, 1, 2)]).model_dump(
        mode="json"
    )
    assert dumped == {"at": "2026-01-02T03:04:05Z", "history": ["2026-01-02T00:00:00Z"]}


BAD_TEXT = {
    "NUL": "Ann\x00a",
    "zero-width space": "Ann\u200ba",
    "right-to-left override": "Ann\u202egpj.exe",
    "bell": "Ann\x07",
}
TEXT_FIELDS = [
    ("PUT", "/api/v1/me", {"display_name": "{}"}, "display_name"),
    ("PUT", "/api/v1/me", {"display_name": "Ann", "bio": "{}"}, "bio"),
    ("POST", "/api/v1/products", {"title": "{}", "price_minor": 100}, "title"),
    (
        "POST",
        "/api/v1/products",
        {"title": "Cup", "description": "{}", "price_minor": 1},
        "description",
    ),
    ("POST", "/api/v1/live/rooms", {"title": "{}"}, "title"),
    (
        "POST",
        "/api/v1/addresses",
        {"name": "Ann", "phone": "123456", "line1": "{}", "city": "Hangzhou"},
        "line1",
    ),
    (
        "POST",
        "/api/v1/auth/signup",
        {"email": "x@example.com", "password": "p" * 9, "display_name": "{}"},
        "display_name",
    ),
]


@pytest.mark.parametrize("bad", BAD_TEXT.values(), ids=BAD_TEXT.keys())
@pytest.mark.parametrize(("method", "url", "template", "field"), TEXT_FIELDS)
def test_text_with_invisible_or_control_characters_is_refused(
    seller, method, url, template, field, bad
):
    payload = {k: bad if v == "{}" else v for k, v in template.items()}
    response = seller.request(method, url, json=payload)
    assert response.status_code == 400, response.get_json()
    assert "character" in _fields(response)[field]


def test_emoji_sequences_and_direction_marks_are_kept(seller):
    name = "Ann 👩\u200d👩\u200d👧 \u200fשלום"
    response = seller.put("/api/v1/me", {"display_name": name})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["display_name"] == name


def test_html_form_refuses_control_characters(client):
    token = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    response = client.post(
        "/signup",
        data={
            "email": "ann@example.com",
            "password": "correct-horse-9",
            "display_name": "Ann\x00",
            "csrf_token": token,
        },
    )
    assert response.status_code == 400
    assert "character" in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/products?q=a%00b", 400),
        ("/api/v1/products?q=a%E2%80%AEb", 400),
        ("/api/v1/orders/a%00b", 404),
        ("/v/a%00b", 404),
        ("/s/%00", 404),
    ],
)
def test_control_characters_in_the_address_are_refused(seller, url, status):
    assert seller.get(url).status_code == status


@pytest.mark.parametrize(
    ("payload", "headers", "field", "message"),
    [
        ({"filename": "a.mp4", "size": 0}, {}, "size", "The file is empty."),
        ({"filename": "a.mp4", "size": 0}, ZH, "size", "文件是空的。"),
        ({"filename": "a.mp4"}, {}, "size", "This field is required."),
        ({"filename": "a.mp4"}, ZH, "size", "此项为必填项。"),
        ({"filename": "", "size": 5}, {}, "filename", "This field cannot be empty."),
        ({"filename": "a.mp4", "size": "many"}, {}, "size", "Must be a whole number."),
    ],
)
def test_validation_messages_are_human(seller, payload, headers, field, message):
    response = seller.post("/api/v1/uploads", payload, headers=dict(headers))
    assert response.status_code == 400
    assert _fields(response)[field] == message
