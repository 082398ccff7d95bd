-- Rotating refresh tokens for local accounts (lib/auth/refresh.c). Only SHA-256 of a token
-- is stored. A rotation marks the presented token used and issues its child in the same
-- family; a used token presented again is taken as stolen, and its whole family revoked.

-- migrate:up
CREATE TABLE refresh_tokens (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    principal_id  uuid NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    family_id     uuid NOT NULL,
    parent_id     uuid REFERENCES refresh_tokens(id) ON DELETE CASCADE,
    token_sha256  bytea NOT NULL UNIQUE CHECK (octet_length(token_sha256) = 32),
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz,
    revoked_at    timestamptz,
    CHECK (parent_id IS NULL OR parent_id <> id)
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id) WHERE revoked_at IS NULL;
CREATE INDEX refresh_tokens_principal_idx ON refresh_tokens (tenant_id, principal_id);

-- Row-level security as on every tenant-owned table (migration 0004). A presented refresh
-- token is looked up before its tenant is known: the server's refresh route (2.5) needs a
-- SECURITY DEFINER lookup as API tokens have; until then that lookup fails closed under
-- the server's role, and works for the owner.
ALTER TABLE refresh_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON refresh_tokens
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);

-- migrate:down
DROP POLICY tenant_isolation ON refresh_tokens;
DROP TABLE refresh_tokens;
