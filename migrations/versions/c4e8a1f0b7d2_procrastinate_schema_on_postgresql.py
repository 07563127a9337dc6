"""procrastinate schema on postgresql (JOBS_BACKEND=procrastinate)

Revision ID: c4e8a1f0b7d2
Revises: f211082df6b6
Create Date: 2026-12-05 07:40:00

Procrastinate's own schema.sql of the pinned version (3.10.0), applied here rather than by a
separate `procrastinate schema --apply` step: `flask setup` already runs our migrations, the
version applied is recorded in alembic_version, and PostgreSQL runs it in the same transaction as
the rest of the upgrade. Every PostgreSQL deployment gets it (whatever its JOBS_BACKEND), so a
switch to the procrastinate backend needs no schema step. On SQLite this does nothing.
A later procrastinate upgrade comes with a migration of ours that applies its
sql/migrations/*.sql files between the two versions.
"""

from alembic import op
from procrastinate.schema import SchemaManager

revision = "c4e8a1f0b7d2"
down_revision = "f211082df6b6"
branch_labels = None
depends_on = None

# Procrastinate keeps no error text: the worker records each failed attempt's error here.
JOB_ERRORS = """
CREATE TABLE job_errors (
    job_id bigint PRIMARY KEY REFERENCES procrastinate_jobs(id) ON DELETE CASCADE,
    error text NOT NULL,
    failed_at timestamp with time zone NOT NULL DEFAULT now()
)
"""

DROP_ALL = """
DROP TABLE IF EXISTS job_errors, procrastinate_events, procrastinate_periodic_defers,
    procrastinate_jobs, procrastinate_workers CASCADE;
DO $$
DECLARE fn record;
BEGIN
    FOR fn IN SELECT p.oid::regprocedure AS signature FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname = current_schema() AND p.proname LIKE 'procrastinate\\_%'
    LOOP
        EXECUTE 'DROP FUNCTION ' || fn.signature || ' CASCADE';
    END LOOP;
END;
$$;
DROP TYPE IF EXISTS procrastinate_job_to_defer_v1, procrastinate_job_event_type,
    procrastinate_job_status CASCADE;
"""


def _execute_script(bind, script):
    """Run many statements at once on the migration's own transaction.

    Straight on psycopg's cursor with no parameters: the simple query protocol allows several
    statements, and the script's literal % signs are not taken for placeholders.
    """
    bind.connection.dbapi_connection.cursor().execute(script)


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _execute_script(bind, SchemaManager.get_schema() + ";" + JOB_ERRORS)


def downgrade():
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    _execute_script(bind, DROP_ALL)
