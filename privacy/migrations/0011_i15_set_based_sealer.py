"""A pending entry is its encoding only; the sealer chains a batch in a few statements (issue 15).

Before (migration 0010), a writer sent ten values (the encoding and, beside it, each field
again in stored form) and ``privacy_log_seal`` ran an INSERT and three dictionary look-ups per
entry. Measured with eight writers on two cores, the writers' client-side work and the WAL of
the wide pending row were what kept durable writes below the old asynchronous rate.

Now a writer sends one value: ``rest``, the canonical encoding after the sequence number
(``privacy.chain.encode_rest``), which is exactly what gets hashed. The sealer derives the
stored columns from it, with the same rules as ``privacy.storage`` (the verifier recomputes
every hash from the stored columns, so a derivation that disagreed would not verify), and works
per batch: read the batch into arrays, hash in a loop over them (the chain is sequential), add
the new dictionary values, insert the batch, delete exactly those pending rows, move the head,
in one transaction under the head lock, as before.

The other pending columns become optional rather than going: a web process still running the
previous release during a rolling deploy writes them along with ``rest``, and the new sealer
reads only ``rest``. A later release can drop them.
"""

from django.db import migrations

RELAX = """
ALTER TABLE privacy_log_pending
    ALTER COLUMN created_at DROP NOT NULL, ALTER COLUMN period DROP NOT NULL,
    ALTER COLUMN actor DROP NOT NULL, ALTER COLUMN action DROP NOT NULL,
    ALTER COLUMN subject DROP NOT NULL, ALTER COLUMN failed DROP NOT NULL,
    ALTER COLUMN reason DROP NOT NULL, ALTER COLUMN request_id DROP NOT NULL,
    ALTER COLUMN details DROP NOT NULL;
"""

SET_BASED = """
-- A batch as rows: the fields of each encoding (privacy.chain.encode_rest: |created_at|actor|
-- action|subject|outcome|reason|request_id|details, where only the details, last, may hold a
-- "|") beside its hash and month. One unnest of the three arrays side by side: a subscript
-- such as hashes[n] walks a flat array from its start, which made a batch quadratic.
CREATE FUNCTION privacy_log_batch(rests text[], hashes bytea[], filed smallint[])
RETURNS TABLE (
    n bigint, created_at timestamptz, actor text, action text, subject text, failed boolean,
    reason text, request_id text, details text, hash bytea, period smallint
) AS $$
    SELECT b.n, f[2]::timestamptz, f[3], f[4], f[5], f[6] = 'failure', f[7], f[8],
           array_to_string(f[9:], '|'), b.hash, b.period
      FROM unnest(rests, hashes, filed) WITH ORDINALITY AS b(rest, hash, period, n),
           LATERAL string_to_array(b.rest, '|') AS f;
$$ LANGUAGE sql STABLE;

CREATE OR REPLACE FUNCTION privacy_log_seal(lock_key bigint, max_rows integer) RETURNS integer AS $$
DECLARE
    head_sequence bigint;
    head_hash bytea;
    head_period smallint;
    first_sequence bigint;
    ids bigint[];
    periods smallint[];
    rests text[];
    hashes bytea[];
    filed smallint[];
    batch_size integer;
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

    -- The month from created_at, which is UTC: |2026-12-06T08:15:00.123456Z|...
    SELECT array_agg(p.id ORDER BY p.id),
           array_agg(((substr(p.rest, 2, 4)::integer - 2000) * 12
                      + substr(p.rest, 7, 2)::integer - 1)::smallint ORDER BY p.id),
           array_agg(p.rest ORDER BY p.id)
        INTO ids, periods, rests
        FROM (SELECT q.id, q.rest FROM privacy_log_pending q ORDER BY q.id LIMIT max_rows) p;
    batch_size := coalesce(cardinality(ids), 0);
    IF batch_size = 0 THEN
        RETURN 0;
    END IF;

    first_sequence := head_sequence + 1;
    hashes := array_fill(NULL::bytea, ARRAY[batch_size]);
    filed := array_fill(NULL::smallint, ARRAY[batch_size]);
    FOR i IN 1..batch_size LOOP
        head_sequence := head_sequence + 1;
        head_hash := sha256(convert_to(
            encode(head_hash, 'hex') || '1|' || head_sequence::text || rests[i], 'UTF8'));
        hashes[i] := head_hash;
        IF periods[i] > head_period THEN
            head_period := periods[i];
            PERFORM privacy_log_partition(head_period);
        END IF;
        filed[i] := head_period;
    END LOOP;

    -- One statement: parse the batch once, look its values up in the dictionary, add the
    -- ones missing (only those: an ON CONFLICT on every value would burn ids), store the rows.
    WITH e AS MATERIALIZED (
        SELECT b.*, CASE WHEN b.subject <> '' AND b.actor = 'pupil:' || b.subject
                         THEN NULL ELSE b.actor END AS other_actor
          FROM privacy_log_batch(rests, hashes, filed) b
    ), known AS MATERIALIZED (
        SELECT e.n, a.id AS actor_id, s.id AS subject_id, act.id AS action_id
          FROM e
          LEFT JOIN privacy_log_text a ON a.value = e.other_actor
          LEFT JOIN privacy_log_text s ON s.value = e.subject
          LEFT JOIN privacy_log_text act ON act.value = e.action
    ), added AS (
        INSERT INTO privacy_log_text (value)
        SELECT DISTINCT v.value
          FROM e JOIN known k ON k.n = e.n
         CROSS JOIN LATERAL (VALUES
                (CASE WHEN k.actor_id IS NULL THEN e.other_actor END),
                (CASE WHEN k.subject_id IS NULL THEN e.subject END),
                (CASE WHEN k.action_id IS NULL THEN e.action END)) AS v(value)
         WHERE v.value IS NOT NULL
        ON CONFLICT (value) DO NOTHING
        RETURNING id, value
    )
    -- The stored form, as privacy.storage makes it.
    INSERT INTO privacy_log (sequence, created_at, actor_id, subject_id, action_id, period,
        failed, reason, request_id, details, hash)
    SELECT first_sequence + e.n - 1, e.created_at,
           CASE WHEN e.other_actor IS NULL THEN 0 ELSE coalesce(k.actor_id, new_actor.id) END,
           coalesce(k.subject_id, new_subject.id), coalesce(k.action_id, new_action.id),
           e.period, e.failed, e.reason,
           CASE WHEN e.request_id ~ '^[0-9a-f]{32}$' THEN decode(e.request_id, 'hex')
                WHEN octet_length(e.request_id) = 16
                    THEN convert_to(e.request_id, 'UTF8') || '\\x00'::bytea
                ELSE convert_to(e.request_id, 'UTF8') END,
           CASE WHEN e.details = '{}' THEN '' ELSE e.details END,
           e.hash
      FROM e
      JOIN known k ON k.n = e.n
      LEFT JOIN added new_actor ON k.actor_id IS NULL AND new_actor.value = e.other_actor
      LEFT JOIN added new_subject ON k.subject_id IS NULL AND new_subject.value = e.subject
      LEFT JOIN added new_action ON k.action_id IS NULL AND new_action.value = e.action
     ORDER BY e.n;

    -- Exactly the rows sealed: one committed meanwhile with a lower id waits its turn.
    DELETE FROM privacy_log_pending WHERE id = ANY(ids);
    UPDATE privacy_log_head SET sequence = head_sequence, hash = head_hash,
        period = head_period WHERE id = 1;
    RETURN batch_size;
END;
$$ LANGUAGE plpgsql VOLATILE SET jit = off;
"""


def _previous_version() -> str:
    from importlib import import_module

    return import_module("privacy.migrations.0010_i15_sealer").FORWARD.split("CREATE FUNCTION", 1)[
        1
    ]


def _forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(RELAX)
            cursor.execute(SET_BASED)


def _backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            # Rows written meanwhile in the new form only are sealed before the columns return.
            cursor.execute("SELECT privacy_log_seal(%s, 1000000000)", [7_410_392_781_001])
            cursor.execute("CREATE OR REPLACE FUNCTION" + _previous_version())
            cursor.execute("DROP FUNCTION privacy_log_batch(text[], bytea[], smallint[])")
            cursor.execute(RELAX.replace("DROP NOT NULL", "SET NOT NULL"))


class Migration(migrations.Migration):
    dependencies = [("privacy", "0010_i15_sealer")]

    operations = [migrations.RunPython(_forward, _backward)]
