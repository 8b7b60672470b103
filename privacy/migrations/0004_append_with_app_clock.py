"""``privacy_log_append`` takes the entry's time from the application instead of the database.

Every other timestamp of the application comes from Django's clock (and tests move it with
time_machine); the privacy log now does the same. Times are no longer guaranteed to grow along
the chain (two app servers' clocks differ a little): pruning removes a prefix only and stops at
the first entry that is not old enough, so that is harmless.
"""

from django.db import migrations

DROP_OLD = """
DROP FUNCTION IF EXISTS privacy_log_append(
    bigint, boolean, varchar, varchar, varchar, varchar, varchar, varchar, text);
"""

FORWARD = """
CREATE OR REPLACE FUNCTION privacy_log_append(
    lock_key bigint,
    async_commit boolean,
    p_actor varchar,
    p_action varchar,
    p_subject varchar,
    p_outcome varchar,
    p_reason varchar,
    p_request_id varchar,
    p_details text,
    p_created_at timestamptz
) RETURNS TABLE (out_sequence bigint, out_created_at timestamptz, out_prev_hash varchar,
                 out_hash varchar) AS $$
DECLARE
    head_sequence bigint;
    head_hash varchar;
    moment timestamptz;
    new_hash varchar;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    IF async_commit THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    SELECT e.sequence, e.hash INTO head_sequence, head_hash
        FROM privacy_privacylogentry e ORDER BY e.sequence DESC LIMIT 1;
    IF NOT FOUND THEN
        SELECT c.sequence, c.hash INTO head_sequence, head_hash
            FROM privacy_privacylogcheckpoint c ORDER BY c.sequence DESC LIMIT 1;
        IF NOT FOUND THEN
            head_sequence := 0;
            head_hash := repeat('0', 64);
        END IF;
    END IF;
    moment := p_created_at;
    new_hash := encode(sha256(convert_to(head_hash || concat_ws('|',
        '1',
        (head_sequence + 1)::text,
        to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_actor, p_action, p_subject, p_outcome, p_reason, p_request_id, p_details
    ), 'UTF8')), 'hex');
    INSERT INTO privacy_privacylogentry (sequence, created_at, actor, action, subject, outcome,
        reason, details, request_id, prev_hash, hash)
    VALUES (head_sequence + 1, moment, p_actor, p_action, p_subject, p_outcome, p_reason,
        p_details::jsonb, p_request_id, head_hash, new_hash);
    RETURN QUERY SELECT head_sequence + 1, moment, head_hash, new_hash;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""

OLD_FORWARD = """
CREATE OR REPLACE FUNCTION privacy_log_append(
    lock_key bigint,
    async_commit boolean,
    p_actor varchar,
    p_action varchar,
    p_subject varchar,
    p_outcome varchar,
    p_reason varchar,
    p_request_id varchar,
    p_details text
) RETURNS TABLE (out_sequence bigint, out_created_at timestamptz, out_prev_hash varchar,
                 out_hash varchar) AS $$
DECLARE
    head_sequence bigint;
    head_hash varchar;
    moment timestamptz;
    new_hash varchar;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    IF async_commit THEN
        PERFORM set_config('synchronous_commit', 'off', true);
    END IF;
    SELECT e.sequence, e.hash INTO head_sequence, head_hash
        FROM privacy_privacylogentry e ORDER BY e.sequence DESC LIMIT 1;
    IF NOT FOUND THEN
        SELECT c.sequence, c.hash INTO head_sequence, head_hash
            FROM privacy_privacylogcheckpoint c ORDER BY c.sequence DESC LIMIT 1;
        IF NOT FOUND THEN
            head_sequence := 0;
            head_hash := repeat('0', 64);
        END IF;
    END IF;
    moment := clock_timestamp();
    new_hash := encode(sha256(convert_to(head_hash || concat_ws('|',
        '1',
        (head_sequence + 1)::text,
        to_char(moment AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_actor, p_action, p_subject, p_outcome, p_reason, p_request_id, p_details
    ), 'UTF8')), 'hex');
    INSERT INTO privacy_privacylogentry (sequence, created_at, actor, action, subject, outcome,
        reason, details, request_id, prev_hash, hash)
    VALUES (head_sequence + 1, moment, p_actor, p_action, p_subject, p_outcome, p_reason,
        p_details::jsonb, p_request_id, head_hash, new_hash);
    RETURN QUERY SELECT head_sequence + 1, moment, head_hash, new_hash;
END;
$$ LANGUAGE plpgsql VOLATILE;
"""


DROP_NEW = """
DROP FUNCTION IF EXISTS privacy_log_append(
    bigint, boolean, varchar, varchar, varchar, varchar, varchar, varchar, text, timestamptz);
"""


def _on_postgresql(*statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("privacy", "0003_append_function")]

    operations = [
        migrations.RunPython(
            _on_postgresql(DROP_OLD, FORWARD),
            _on_postgresql(DROP_NEW, OLD_FORWARD),
        )
    ]
