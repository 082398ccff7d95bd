-- Okapi BM25 needs, per tenant, how many passages hold each word (document frequency),
-- how many passages there are and how long they are on average. They are kept here, in
-- step with chunks by statement triggers, so a search reads a handful of rows instead of
-- counting over the corpus; a passage is scored from its own tsvector and token count.
--
-- A passage has two fields: its text (tsv) and where it sits (head_tsv: the document
-- title and the section path), weighted separately at query time (BM25F). A word counts
-- once per passage for its frequency, whichever field holds it.

-- migrate:up
CREATE FUNCTION plat_tsv_tokens(tsvector) RETURNS integer
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT coalesce(sum(coalesce(array_length(u.positions, 1), 1)), 0)::integer FROM unnest($1) u $$;

ALTER TABLE chunks
    ADD COLUMN head_tsv tsvector GENERATED ALWAYS AS
        (to_tsvector(lang, coalesce(title, '') || ' ' || coalesce(section, ''))) STORED,
    ADD COLUMN tokens integer GENERATED ALWAYS AS (plat_tsv_tokens(to_tsvector(lang, text))) STORED;
CREATE INDEX chunks_head_tsv_idx ON chunks USING gin (head_tsv);

CREATE TABLE term_stats (
    tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    lexeme     text NOT NULL,
    passages   bigint NOT NULL CHECK (passages > 0),
    PRIMARY KEY (tenant_id, lexeme)
);

CREATE TABLE passage_stats (
    tenant_id    uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE CASCADE,
    passages     bigint NOT NULL CHECK (passages >= 0),
    tokens       bigint NOT NULL CHECK (tokens >= 0),
    head_tokens  bigint NOT NULL CHECK (head_tokens >= 0)
);

-- One trigger function for the three statement triggers: their transition tables are
-- "gone" (old rows) and "added" (new rows). One writer per tenant at a time (an advisory
-- lock held to commit): a worker reprocessing a document takes its old chunks away and
-- adds the new ones in one transaction, and two of those locking words in two passes
-- each would deadlock. The expensive work (parsing, embedding) is done before that
-- transaction; this is its last few milliseconds.
CREATE FUNCTION plat_term_stats_sync() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    t uuid;
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        FOR t IN SELECT DISTINCT tenant_id FROM gone ORDER BY 1 LOOP
            PERFORM pg_advisory_xact_lock(hashtextextended('plat_term_stats:' || t::text, 0));
        END LOOP;
        UPDATE passage_stats s SET passages = s.passages - g.passages, tokens = s.tokens - g.tokens,
               head_tokens = s.head_tokens - g.head_tokens
        FROM (SELECT tenant_id, count(*) AS passages, coalesce(sum(tokens), 0) AS tokens,
                     coalesce(sum(plat_tsv_tokens(head_tsv)), 0) AS head_tokens
              FROM gone GROUP BY tenant_id) g
        WHERE s.tenant_id = g.tenant_id;
        WITH g AS (
            SELECT d.tenant_id, l AS lexeme, count(*) AS n
            FROM gone d, unnest(tsvector_to_array(d.tsv || d.head_tsv)) l GROUP BY 1, 2),
        kept AS (
            UPDATE term_stats s SET passages = s.passages - g.n FROM g
            WHERE s.tenant_id = g.tenant_id AND s.lexeme = g.lexeme AND s.passages > g.n
            RETURNING 1)
        DELETE FROM term_stats s USING g
        WHERE s.tenant_id = g.tenant_id AND s.lexeme = g.lexeme AND s.passages <= g.n;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        FOR t IN SELECT DISTINCT tenant_id FROM added ORDER BY 1 LOOP
            PERFORM pg_advisory_xact_lock(hashtextextended('plat_term_stats:' || t::text, 0));
        END LOOP;
        INSERT INTO passage_stats AS s (tenant_id, passages, tokens, head_tokens)
            SELECT tenant_id, count(*), coalesce(sum(tokens), 0), coalesce(sum(plat_tsv_tokens(head_tsv)), 0)
            FROM added GROUP BY tenant_id
            ON CONFLICT (tenant_id) DO UPDATE SET passages = s.passages + EXCLUDED.passages,
                tokens = s.tokens + EXCLUDED.tokens, head_tokens = s.head_tokens + EXCLUDED.head_tokens;
        INSERT INTO term_stats AS s (tenant_id, lexeme, passages)
            SELECT d.tenant_id, l, count(*) FROM added d, unnest(tsvector_to_array(d.tsv || d.head_tsv)) l
            GROUP BY 1, 2
            ON CONFLICT (tenant_id, lexeme) DO UPDATE SET passages = s.passages + EXCLUDED.passages;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER chunks_term_stats_insert AFTER INSERT ON chunks
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION plat_term_stats_sync();
CREATE TRIGGER chunks_term_stats_update AFTER UPDATE ON chunks
    REFERENCING OLD TABLE AS gone NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION plat_term_stats_sync();
CREATE TRIGGER chunks_term_stats_delete AFTER DELETE ON chunks
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION plat_term_stats_sync();

-- The chunks already there.
INSERT INTO passage_stats (tenant_id, passages, tokens, head_tokens)
    SELECT tenant_id, count(*), coalesce(sum(tokens), 0), coalesce(sum(plat_tsv_tokens(head_tsv)), 0)
    FROM chunks GROUP BY tenant_id;
INSERT INTO term_stats (tenant_id, lexeme, passages)
    SELECT c.tenant_id, l, count(*) FROM chunks c, unnest(tsvector_to_array(c.tsv || c.head_tsv)) l GROUP BY 1, 2;

-- migrate:down
DROP TRIGGER chunks_term_stats_delete ON chunks;
DROP TRIGGER chunks_term_stats_update ON chunks;
DROP TRIGGER chunks_term_stats_insert ON chunks;
DROP FUNCTION plat_term_stats_sync();
DROP TABLE passage_stats;
DROP TABLE term_stats;
DROP INDEX chunks_head_tsv_idx;
ALTER TABLE chunks DROP COLUMN tokens, DROP COLUMN head_tsv;
DROP FUNCTION plat_tsv_tokens(tsvector);
