-- Retention (2.4): the date a retention period starts from, read from a document's
-- extracted fields. Fields are whatever extraction found, so a value that is not a date
-- (or an impossible one, 2026-02-30) must give NULL, not fail the whole rule's query:
-- those documents are skipped and counted. An array counts by its earliest date.

-- migrate:up
CREATE FUNCTION retention_field_date(v jsonb) RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    s text;
    d date;
    best date;
BEGIN
    IF v IS NULL THEN
        RETURN NULL;
    END IF;
    IF jsonb_typeof(v) = 'array' THEN
        FOR s IN SELECT e #>> '{}' FROM jsonb_array_elements(v) e WHERE jsonb_typeof(e) = 'string' LOOP
            d := retention_field_date(to_jsonb(s));
            IF d IS NOT NULL AND (best IS NULL OR d < best) THEN
                best := d;
            END IF;
        END LOOP;
        RETURN best;
    END IF;
    IF jsonb_typeof(v) <> 'string' THEN
        RETURN NULL;
    END IF;
    s := v #>> '{}';
    -- ISO 8601 only: a date, or a timestamp whose date part counts.
    IF s !~ '^\d{4}-\d{2}-\d{2}([T ].*)?$' THEN
        RETURN NULL;
    END IF;
    RETURN substr(s, 1, 10)::date;
EXCEPTION WHEN datetime_field_overflow OR invalid_datetime_format THEN
    RETURN NULL;
END
$$;

-- A destroyed document's object is deleted after the run that destroyed it committed, never
-- before (a failed commit would leave a live document without its content): the run records
-- here what is to be deleted, and every later run retries what is still pending.
ALTER TABLE retention_reviews
    ADD COLUMN purge_key     text,
    ADD COLUMN purge_sha256  text,
    ADD COLUMN purged_at     timestamptz;
CREATE INDEX retention_reviews_purge_idx ON retention_reviews (tenant_id)
    WHERE purge_key IS NOT NULL AND purged_at IS NULL;

-- migrate:down
DROP INDEX retention_reviews_purge_idx;
ALTER TABLE retention_reviews DROP COLUMN purged_at, DROP COLUMN purge_sha256, DROP COLUMN purge_key;
DROP FUNCTION retention_field_date(jsonb);
