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

-- migrate:down
DROP TABLE refresh_tokens;
