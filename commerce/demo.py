"""Demo content: a merchant, a creator, products with images and real videos made by ffmpeg."""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from flask import Flask
from PIL import Image, ImageDraw

from commerce.accounts.models import User
from commerce.accounts.schemas import SignupIn
from commerce.accounts.services import do_signup, find_user_by_email
from commerce.catalog.schemas import ProductIn
from commerce.catalog.services import do_add_product_image, do_create_product
from commerce.demo_promotions import seed_promotions
from commerce.extensions import db
from commerce.files.services import storage
from commerce.invites.cli import seed_programme
from commerce.jobs.runner import run_pending
from commerce.social.services import do_follow
from commerce.timeutil import utcnow
from commerce.videos import services as video_services
from commerce.videos.engagement import do_like
from commerce.videos.models import Video
from commerce.videos.schemas import PinIn, UploadIn
from commerce.videos.uploads import do_finish_upload, do_start_upload, part_path
from media.samples import generate_clip

DEMO_PASSWORD = "demo-pass-1"
ACCOUNTS = [
    ("merchant@example.com", "Lotus Tea House", {"is_merchant": True}),
    ("creator@example.com", "Mia Creates", {"is_creator": True}),
    ("viewer@example.com", "Leo Watches", {}),
]
PRODUCTS = [
    ("Jasmine green tea 100 g", "Hand-rolled pearls from Fujian.", 6800, (46, 139, 87)),
    ("Celadon tea cup", "Longquan celadon, 120 ml.", 12900, (95, 158, 160)),
    ("Bamboo tea tray", "Drains into a hidden tray.", 25900, (160, 120, 60)),
    ("Oolong sampler", "Five oolongs, 25 g each.", 9900, (178, 34, 34)),
]
VIDEOS = [
    (
        "Morning tea ritual",
        "How I brew jasmine pearls.",
        [(0, 1_000, 6_000), (1, 6_000, None)],
        ("0x2e8b57", "0xf5deb3"),
    ),
    (
        "Desk setup tour",
        "Everything on my tea desk.",
        [(2, 2_000, 8_000)],
        ("0x8b5a2b", "0xffe4c4"),
    ),
    (
        "Oolong tasting",
        "Five oolongs, one afternoon.",
        [(3, 1_000, None)],
        ("0xb22222", "0xffd700"),
    ),
]


def product_image(title: str, colour: tuple[int, int, int]) -> io.BytesIO:
    image = Image.new("RGB", (600, 600), colour)
    draw = ImageDraw.Draw(image)
    draw.ellipse((150, 150, 450, 450), fill=tuple(min(255, c + 70) for c in colour))
    draw.text((30, 540), title, fill="white")
    out = io.BytesIO()
    image.save(out, format="PNG")
    out.seek(0)
    return out


def _account(email: str, name: str, flags: dict[str, bool]) -> User:
    user = do_signup(db.session, SignupIn(email=email, password=DEMO_PASSWORD, display_name=name))
    for flag, value in flags.items():
        setattr(user, flag, value)
    return user


def _upload_clip(app: Flask, creator: User, clip: Path) -> Video:
    config = app.config
    upload = do_start_upload(
        db.session,
        creator,
        UploadIn(filename=clip.name, size=clip.stat().st_size),
        max_bytes=config["MAX_UPLOAD_BYTES"],
        tmp_dir=config["UPLOAD_TMP_DIR"],
    )
    shutil.copyfile(clip, part_path(config["UPLOAD_TMP_DIR"], upload))
    upload.received = upload.size
    return do_finish_upload(
        db.session,
        upload,
        storage(),
        tmp_dir=config["UPLOAD_TMP_DIR"],
        max_seconds=config["MAX_VIDEO_SECONDS"],
    )


def seed_demo(app: Flask) -> Iterator[str]:
    with app.app_context():
        yield seed_programme()  # the invite programme's coupons (also done by `flask setup`)
        if find_user_by_email(db.session, ACCOUNTS[1][0]) is not None:
            yield "demo content is already there"
            merchant, creator, viewer = (
                find_user_by_email(db.session, account[0]) for account in ACCOUNTS
            )
            if merchant is not None and creator is not None and viewer is not None:
                yield from seed_promotions(app, merchant, creator, viewer)  # older demos too
            run_pending(app)
            return
        merchant, creator, viewer = (_account(*spec) for spec in ACCOUNTS)
        db.session.flush()
        products = []
        for title, description, price, colour in PRODUCTS:
            product = do_create_product(
                db.session,
                merchant,
                ProductIn(
                    title=title,
                    description=description,
                    price_minor=price,
                    stock=50,
                    per_buyer_limit=5,
                    creator_rate_bp=1000,
                    sharer_rate_bp=500,
                ),
            )
            do_add_product_image(db.session, storage(), product, product_image(title, colour))
            products.append(product)
        db.session.commit()
        yield f"accounts: {', '.join(a[0] for a in ACCOUNTS)} (password {DEMO_PASSWORD})"
        videos = []
        with tempfile.TemporaryDirectory() as tmp:
            for index, (title, _description, _pins, colours) in enumerate(VIDEOS):
                clip = Path(tmp) / f"demo-{index}.mp4"
                generate_clip(
                    clip, duration_s=12, width=720, height=1280, label=title, colours=colours
                )
                videos.append(_upload_clip(app, creator, clip))
                db.session.commit()
        yield f"transcoding {len(videos)} videos..."
        run_pending(app)
        # The shop follows the creator before her videos come out: its inbox tells of each one.
        do_follow(db.session, merchant, creator, utcnow())
        db.session.commit()
        for video, (title, description, pins, _colours) in zip(videos, VIDEOS, strict=True):
            video = db.session.get(Video, video.id, populate_existing=True)
            assert video is not None
            video.title, video.description = title, description
            for product_index, start_ms, end_ms in pins:
                video_services.do_add_pin(
                    db.session,
                    video,
                    PinIn(product_id=products[product_index].id, start_ms=start_ms, end_ms=end_ms),
                )
            video_services.do_publish(db.session, video, utcnow())
            db.session.commit()
            yield f"published {title!r} ({video.state})"
        # A little more of the social graph: the shop likes the videos, the viewer follows the
        # shop (and can try the "+" on the creator in the feed); the notices fan out.
        do_follow(db.session, viewer, merchant, utcnow())
        for video in videos:
            do_like(db.session, merchant, video, utcnow())
        db.session.commit()
        run_pending(app)
        yield "follows and likes added"
        yield from seed_promotions(app, merchant, creator, viewer)
        run_pending(app)
