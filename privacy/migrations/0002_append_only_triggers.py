"""Append-only on PostgreSQL: triggers refuse UPDATE and DELETE on the privacy log.

DELETE passes only when the pruning path set the transaction-local flag
``ilearn.privacy_prune = 'on'`` (``privacy.pruning``); UPDATE never passes. Checkpoints may be
inserted only under the same flag and never changed. SQLite has no such triggers: a no-op there.
TRUNCATE is left to the table owner (test databases are flushed with it).
"""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION privacy_log_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND COALESCE(current_setting('ilearn.privacy_prune', true), '') = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'privacy log is append-only: % refused on %', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE OR REPLACE FUNCTION privacy_checkpoint_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'INSERT' AND COALESCE(current_setting('ilearn.privacy_prune', true), '') = 'on' THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'privacy log checkpoints are written by pruning only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER privacy_log_append_only
    BEFORE UPDATE OR DELETE ON privacy_privacylogentry
    FOR EACH ROW EXECUTE FUNCTION privacy_log_guard();

CREATE TRIGGER privacy_checkpoint_append_only
    BEFORE INSERT OR UPDATE OR DELETE ON privacy_privacylogcheckpoint
    FOR EACH ROW EXECUTE FUNCTION privacy_checkpoint_guard();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS privacy_checkpoint_append_only ON privacy_privacylogcheckpoint;
DROP TRIGGER IF EXISTS privacy_log_append_only ON privacy_privacylogentry;
DROP FUNCTION IF EXISTS privacy_checkpoint_guard();
DROP FUNCTION IF EXISTS privacy_log_guard();
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            # A plain cursor: no parameters, so the "%" of RAISE stays as written.
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("privacy", "0001_initial")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD))]
