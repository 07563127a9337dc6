"""The database session's transactions mean the same on SQLite as on PostgreSQL."""

from sqlalchemy import func, select

from commerce.accounts.models import User
from commerce.extensions import db


def _user(email: str) -> User:
    return User(email=email, display_name="T", bio="", password_hash="!")


def test_a_savepoint_opened_first_is_nested_in_the_transaction(app):
    """pysqlite would let RELEASE of a first SAVEPOINT commit; the rollback must undo it all."""
    with app.app_context():
        with db.session.begin_nested():
            db.session.add(_user("first@example.com"))
        db.session.add(_user("second@example.com"))
        db.session.flush()
        db.session.rollback()
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_a_rolled_back_savepoint_keeps_the_earlier_work(app):
    with app.app_context():
        db.session.add(_user("kept@example.com"))
        db.session.flush()
        with db.session.begin_nested() as savepoint:
            db.session.add(_user("undone@example.com"))
            db.session.flush()
            savepoint.rollback()
        db.session.commit()
        emails = db.session.scalars(select(User.email)).all()
    assert emails == ["kept@example.com"]
