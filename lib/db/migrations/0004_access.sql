-- Access control (2.3): what principals and tokens need beyond 0001, and row-level security
-- on every tenant-owned table.
--
-- The policies key on the setting platctl.tenant_id, which platctl sets with SET LOCAL
-- (set_config(..., true)) in each transaction of a call when database.row_security is on:
-- a query that forgot its tenant filter then sees only its own tenant's rows, and a
-- statement run without the setting sees none (nullif turns the empty value the setting
-- takes after a transaction into NULL, which matches nothing). Table owners and superusers
-- bypass row-level security (no FORCE): direct mode, which connects as the owner, is not
-- slowed or changed, and the boundary is the less privileged role the server connects
-- as — see platctl-user(1), TRUST MODEL.

-- migrate:up
ALTER TABLE principals
    ADD COLUMN email       text CHECK (email IS NULL OR email ~ '^[^@[:space:][:cntrl:]]+@[^@[:space:][:cntrl:]]+$'),
    ADD COLUMN created_by  text,
    ADD COLUMN disabled_at timestamptz,
    ADD COLUMN password_changed_at timestamptz;

-- A token acts as its principal with its own role, never more than the principal's.
ALTER TABLE api_tokens
    ADD COLUMN role       text NOT NULL DEFAULT 'viewer' CHECK (role IN ('admin', 'editor', 'viewer', 'auditor')),
    ADD COLUMN created_by text;
CREATE UNIQUE INDEX api_tokens_name_idx ON api_tokens (tenant_id, name) WHERE revoked_at IS NULL;

ALTER TABLE principals ENABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens ENABLE ROW LEVEL SECURITY;
ALTER TABLE documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE findings ENABLE ROW LEVEL SECURITY;
ALTER TABLE notifications ENABLE ROW LEVEL SECURITY;
ALTER TABLE asks ENABLE ROW LEVEL SECURITY;
ALTER TABLE term_stats ENABLE ROW LEVEL SECURITY;
ALTER TABLE passage_stats ENABLE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation ON principals
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON api_tokens
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON documents
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON chunks
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON outbox
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON audit_log
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON findings
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON notifications
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON asks
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON term_stats
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON passage_stats
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);

-- A presented API token is looked up before its tenant is known, which row-level security
-- would hide: this function, owned by the tables' owner, finds exactly the one row whose
-- hash matches and nothing else, and records its use (at most once a minute, so that a
-- busy token does not write on every request).
CREATE FUNCTION platctl_api_token_lookup(sha bytea)
RETURNS TABLE (token_id uuid, tenant text, principal text, principal_id uuid, role text,
               principal_disabled boolean, revoked boolean, expires_at timestamptz)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE api_tokens t SET last_used_at = now()
     WHERE t.token_sha256 = sha AND t.revoked_at IS NULL
       AND (t.last_used_at IS NULL OR t.last_used_at < now() - interval '1 minute');
    RETURN QUERY
    SELECT t.id, n.name, p.name, p.id, t.role, p.disabled, t.revoked_at IS NOT NULL, t.expires_at
      FROM api_tokens t JOIN principals p ON p.id = t.principal_id JOIN tenants n ON n.id = t.tenant_id
     WHERE t.token_sha256 = sha;
END
$$;

-- migrate:down
DROP FUNCTION platctl_api_token_lookup(bytea);
DROP POLICY tenant_isolation ON passage_stats;
DROP POLICY tenant_isolation ON term_stats;
DROP POLICY tenant_isolation ON asks;
DROP POLICY tenant_isolation ON notifications;
DROP POLICY tenant_isolation ON findings;
DROP POLICY tenant_isolation ON audit_log;
DROP POLICY tenant_isolation ON outbox;
DROP POLICY tenant_isolation ON chunks;
DROP POLICY tenant_isolation ON documents;
DROP POLICY tenant_isolation ON api_tokens;
DROP POLICY tenant_isolation ON principals;
ALTER TABLE passage_stats DISABLE ROW LEVEL SECURITY;
ALTER TABLE term_stats DISABLE ROW LEVEL SECURITY;
ALTER TABLE asks DISABLE ROW LEVEL SECURITY;
ALTER TABLE notifications DISABLE ROW LEVEL SECURITY;
ALTER TABLE findings DISABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log DISABLE ROW LEVEL SECURITY;
ALTER TABLE outbox DISABLE ROW LEVEL SECURITY;
ALTER TABLE chunks DISABLE ROW LEVEL SECURITY;
ALTER TABLE documents DISABLE ROW LEVEL SECURITY;
ALTER TABLE api_tokens DISABLE ROW LEVEL SECURITY;
ALTER TABLE principals DISABLE ROW LEVEL SECURITY;
DROP INDEX api_tokens_name_idx;
ALTER TABLE api_tokens DROP COLUMN created_by, DROP COLUMN role;
ALTER TABLE principals DROP COLUMN password_changed_at, DROP COLUMN disabled_at, DROP COLUMN created_by,
    DROP COLUMN email;
