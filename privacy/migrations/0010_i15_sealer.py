"""Durable writes without a chain lock: writers append to ``privacy_log_pending``, a sealer chains.

With ``PRIVACY_LOG_SEALER`` on, ``privacy.log`` is one INSERT into ``privacy_log_pending`` (a
plain sequence-numbered table: writers never wait for each other, and each commit is durable);
``privacy_log_seal`` (the Celery task ``privacy.seal_log``, every few seconds) takes the head
lock, chains the committed pending rows in id order exactly as ``privacy_log_append`` does,
and deletes them, in one transaction: a crash leaves a row either pending or sealed, never
both or neither. Rows not yet committed when the sealer looks are sealed by the next round.
"""

from django.db import migrations

FORWARD = """
CREATE TABLE privacy_log_pending (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    created_at timestamptz NOT NULL,
    period smallint NOT NULL,
    actor text NOT NULL,
    action text NOT NULL,
    subject text NOT NULL,
    failed boolean NOT NULL,
    reason text NOT NULL,
    request_id bytea NOT NULL,
    details text NOT NULL,
    rest text NOT NULL
);

CREATE FUNCTION privacy_log_seal(lock_key bigint, max_rows integer) RETURNS integer AS $$
DECLARE
    pending record;
    sealed bigint[] := '{}';
    head_sequence bigint;
    head_hash bytea;
    head_period smallint;
    new_period smallint;
BEGIN
    PERFORM pg_advisory_xact_lock(lock_key);
    SELECT h.sequence, h.hash, h.period INTO head_sequence, head_hash, head_period
        FROM privacy_log_head h WHERE h.id = 1;
    IF NOT FOUND THEN
        SELECT c.sequence, decode(c.hash, 'hex') INTO head_sequence, head_hash
            FROM privacy_privacylogcheckpoint c ORDER BY c.sequence DESC LIMIT 1;
        IF NOT FOUND THEN
            head_sequence := 0;
            head_hash := decode(repeat('0', 64), 'hex');
        END IF;
        head_period := -1;
        INSERT INTO privacy_log_head (id, sequence, hash, period)
            VALUES (1, head_sequence, head_hash, head_period);
    END IF;
    FOR pending IN SELECT * FROM privacy_log_pending p ORDER BY p.id LIMIT max_rows LOOP
        new_period := greatest(head_period, pending.period);
        IF new_period > head_period THEN
            PERFORM privacy_log_partition(new_period);
        END IF;
        head_sequence := head_sequence + 1;
        head_hash := sha256(convert_to(
            encode(head_hash, 'hex') || '1|' || head_sequence::text || pending.rest, 'UTF8'));
        head_period := new_period;
        INSERT INTO privacy_log (sequence, created_at, actor_id, subject_id, action_id, period,
            failed, reason, request_id, details, hash)
        VALUES (head_sequence, pending.created_at,
            CASE WHEN pending.subject <> '' AND pending.actor = 'pupil:' || pending.subject
                 THEN 0 ELSE privacy_log_text_id(pending.actor) END,
            privacy_log_text_id(pending.subject), privacy_log_text_id(pending.action),
            head_period, pending.failed, pending.reason, pending.request_id, pending.details,
            head_hash);
        sealed := sealed || pending.id;
    END LOOP;
    IF cardinality(sealed) > 0 THEN
        -- Exactly the rows sealed: one committed meanwhile with a lower id waits its turn.
        DELETE FROM privacy_log_pending WHERE id = ANY(sealed);
        UPDATE privacy_log_head SET sequence = head_sequence, hash = head_hash,
            period = head_period WHERE id = 1;
    END IF;
    RETURN cardinality(sealed);
END;
$$ LANGUAGE plpgsql VOLATILE;
"""

BACKWARD = """
DROP FUNCTION IF EXISTS privacy_log_seal(bigint, integer);
DROP TABLE IF EXISTS privacy_log_pending;
"""


def _on_postgresql(sql):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            with schema_editor.connection.cursor() as cursor:
                cursor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("privacy", "0009_i15_compact_partitioned_log")]

    operations = [migrations.RunPython(_on_postgresql(FORWARD), _on_postgresql(BACKWARD))]
