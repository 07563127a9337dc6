"""Extensions created once at import and bound to the app in create_app()."""

from typing import Any

from flask_babel import Babel
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import BigInteger, Integer, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

from commerce.security import OriginCheckingCSRF

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
# Money in minor units: 64 bits on PostgreSQL (its INTEGER stops at ¥21,474,836.47); SQLite's
# INTEGER is already 64 bits, and keeping its declared type spares SQLite a table rebuild.
MONEY = BigInteger().with_variant(Integer(), "sqlite")
migrate = Migrate(compare_type=True, render_as_batch=True)
socketio = SocketIO()
babel = Babel()
csrf = OriginCheckingCSRF()  # CSRF tokens, and a foreign Origin refused


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """SQLite: enforce foreign keys like PostgreSQL does; WAL lets readers run beside a writer."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_savepoint_inside_a_transaction(conn: Any, _name: str) -> None:
    """pysqlite only begins a transaction before INSERT/UPDATE/DELETE. A SAVEPOINT issued first
    would open the transaction itself, and releasing it would then COMMIT everything so far."""
    raw = conn.connection.dbapi_connection
    if type(raw).__module__.startswith("sqlite3") and not raw.in_transaction:
        raw.execute("BEGIN")
