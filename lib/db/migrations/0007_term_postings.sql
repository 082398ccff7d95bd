-- What BM25F needs of a passage for one word -- its frequency in the text and in the
-- headings, and the passage's length -- as one row per (word, passage), so a search scores
-- its candidates from a few index pages (an index-only scan of the word's range) instead
-- of reading every candidate's heap row and tsvector: on a fresh connection each page
-- touched for the first time costs a page fault, and ~2,000 candidates were ~2,000 heap
-- pages plus their TOAST. A word is keyed by its term_stats row (a per-tenant id), which
-- keeps the rows about 40 bytes narrower than (tenant, lexeme) would.
--
-- Kept by the same statement triggers as term_stats: the old rows' postings go before
-- their words' counts (a word whose count falls to zero loses its id), the new rows'
-- come after (a new word gets its id first).

-- migrate:up
ALTER TABLE term_stats ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY;

CREATE TABLE term_postings (
    term_id   bigint NOT NULL,   -- term_stats.id: the tenant and the word
    chunk_id  bigint NOT NULL,   -- chunks.id
    tokens    integer NOT NULL,  -- chunks.tokens
    tf        smallint NOT NULL, -- occurrences in the text (a tsvector keeps at most 256 positions)
    head_tf   smallint NOT NULL, -- occurrences in the title and section path
    PRIMARY KEY (term_id, chunk_id) INCLUDE (tokens, tf, head_tf)
);

CREATE OR REPLACE FUNCTION plat_term_stats_sync() RETURNS trigger
    LANGUAGE plpgsql AS $$
DECLARE
    t uuid;
BEGIN
    IF TG_OP IN ('DELETE', 'UPDATE') THEN
        FOR t IN SELECT DISTINCT tenant_id FROM gone ORDER BY 1 LOOP
            PERFORM pg_advisory_xact_lock(hashtextextended('plat_term_stats:' || t::text, 0));
        END LOOP;
        DELETE FROM term_postings p USING (
            SELECT s.id AS term_id, g.id AS chunk_id
            FROM gone g CROSS JOIN LATERAL unnest(tsvector_to_array(g.tsv || g.head_tsv)) l
            JOIN term_stats s ON s.tenant_id = g.tenant_id AND s.lexeme = l) x
        WHERE p.term_id = x.term_id AND p.chunk_id = x.chunk_id;
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
        INSERT INTO term_postings (term_id, chunk_id, tokens, tf, head_tf)
            SELECT s.id, u.chunk_id, u.tokens, coalesce(sum(u.n) FILTER (WHERE NOT u.head), 0),
                   coalesce(sum(u.n) FILTER (WHERE u.head), 0)
            FROM (SELECT a.tenant_id, a.id AS chunk_id, a.tokens, x.lexeme,
                         coalesce(array_length(x.positions, 1), 1) AS n, false AS head
                  FROM added a, unnest(a.tsv) x
                  UNION ALL
                  SELECT a.tenant_id, a.id, a.tokens, x.lexeme, coalesce(array_length(x.positions, 1), 1), true
                  FROM added a, unnest(a.head_tsv) x) u
            JOIN term_stats s ON s.tenant_id = u.tenant_id AND s.lexeme = u.lexeme
            GROUP BY s.id, u.chunk_id, u.tokens;
    END IF;
    RETURN NULL;
END $$;

-- The chunks already there.
INSERT INTO term_postings (term_id, chunk_id, tokens, tf, head_tf)
    SELECT s.id, u.chunk_id, u.tokens, coalesce(sum(u.n) FILTER (WHERE NOT u.head), 0),
           coalesce(sum(u.n) FILTER (WHERE u.head), 0)
    FROM (SELECT c.tenant_id, c.id AS chunk_id, c.tokens, x.lexeme, coalesce(array_length(x.positions, 1), 1) AS n,
                 false AS head
          FROM chunks c, unnest(c.tsv) x
          UNION ALL
          SELECT c.tenant_id, c.id, c.tokens, x.lexeme, coalesce(array_length(x.positions, 1), 1), true
          FROM chunks c, unnest(c.head_tsv) x) u
    JOIN term_stats s ON s.tenant_id = u.tenant_id AND s.lexeme = u.lexeme
    GROUP BY s.id, u.chunk_id, u.tokens;

-- No tenant_id of its own: a posting belongs to the tenant of its word, so row-level
-- security (migration 0004) shows the server's role only postings of words it can see.
ALTER TABLE term_postings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON term_postings
    USING (EXISTS (SELECT 1 FROM term_stats s WHERE s.id = term_id));

-- migrate:down
DROP POLICY tenant_isolation ON term_postings;
DROP TABLE term_postings;
ALTER TABLE term_stats DROP COLUMN id;
CREATE OR REPLACE FUNCTION plat_term_stats_sync() RETURNS trigger
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
