-- The whole domain, first version. Every tenant-owned table carries tenant_id and every
-- index that serves a per-tenant query leads with it.
-- CREATE EXTENSION needs a role allowed to create it (pgvector is not a trusted
-- extension); when a DBA has created it already, IF NOT EXISTS makes this a no-op.

-- migrate:up
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE tenants (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO tenants (name) VALUES ('default');

-- Users and service accounts. Until roles are enforced, direct-mode commands record the
-- configured principal's name on the rows they write (created_by, applied_by, ...).
CREATE TABLE principals (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    name             text NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('user', 'service')),
    role             text NOT NULL DEFAULT 'viewer' CHECK (role IN ('admin', 'editor', 'viewer', 'auditor')),
    password_hash    text,            -- argon2id, PHC string
    external_subject text,            -- OIDC "sub"
    disabled         boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);
CREATE UNIQUE INDEX principals_subject_idx ON principals (tenant_id, external_subject) WHERE external_subject IS NOT NULL;

-- Only the SHA-256 of a token is stored; the token itself is shown once.
CREATE TABLE api_tokens (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    principal_id  uuid NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
    name          text NOT NULL,
    token_sha256  bytea NOT NULL UNIQUE CHECK (octet_length(token_sha256) = 32),
    scopes        text[] NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz,
    last_used_at  timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX api_tokens_principal_idx ON api_tokens (tenant_id, principal_id);

CREATE TABLE documents (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
    name              text NOT NULL,
    title             text,
    content_type      text NOT NULL,
    size_bytes        bigint NOT NULL CHECK (size_bytes >= 0),
    sha256            text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    storage_key       text NOT NULL,
    status            text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'processing', 'processed', 'failed', 'deleted')),
    class             text,
    class_confidence  real CHECK (class_confidence BETWEEN 0 AND 1),
    summary           text,
    fields            jsonb NOT NULL DEFAULT '{}',
    tags              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(tags) = 'object'),
    legal_hold        boolean NOT NULL DEFAULT false,
    version           integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    pipeline_version  integer,
    stage_timings     jsonb NOT NULL DEFAULT '{}',   -- per-stage milliseconds
    ai_provider       text,                          -- which provider processed it (privacy gate)
    attempts          integer NOT NULL DEFAULT 0,
    error             text,
    created_by        text NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    processed_at      timestamptz,
    deleted_at        timestamptz,
    UNIQUE (tenant_id, sha256, version)
);
CREATE INDEX documents_list_idx ON documents (tenant_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
CREATE INDEX documents_status_idx ON documents (tenant_id, status) WHERE deleted_at IS NULL;
CREATE INDEX documents_class_idx ON documents (tenant_id, class) WHERE deleted_at IS NULL;
CREATE INDEX documents_name_idx ON documents (tenant_id, name);
CREATE INDEX documents_storage_key_idx ON documents (storage_key);
CREATE INDEX documents_tags_idx ON documents USING gin (tags jsonb_path_ops);

-- Retrieval units. tsv is derived (never out of date); embedding dimension 384 is the
-- builtin provider's; the model that produced each vector is recorded with it.
CREATE TABLE chunks (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id        uuid NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
    document_id      uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    ord              integer NOT NULL CHECK (ord >= 0),
    page             integer CHECK (page >= 1),
    text             text NOT NULL,
    lang             regconfig NOT NULL DEFAULT 'english',
    tsv              tsvector GENERATED ALWAYS AS (to_tsvector(lang, text)) STORED,
    embedding        vector(384),
    embedding_model  text,
    UNIQUE (document_id, ord)
);
CREATE INDEX chunks_tenant_doc_idx ON chunks (tenant_id, document_id);
CREATE INDEX chunks_tsv_idx ON chunks USING gin (tsv);
CREATE INDEX chunks_embedding_idx ON chunks USING hnsw (embedding vector_cosine_ops);

-- Events not yet published (Kafka) or not yet processed (the PostgreSQL queue backend).
CREATE TABLE outbox (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id         uuid NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
    event_type        text NOT NULL,
    aggregate_id      uuid,
    payload           jsonb NOT NULL DEFAULT '{}',
    request_id        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    available_at      timestamptz NOT NULL DEFAULT now(),
    attempts          integer NOT NULL DEFAULT 0,
    published_at      timestamptz,
    claimed_by        text,
    claimed_until     timestamptz,
    processed_at      timestamptz,
    dead_lettered_at  timestamptz,
    last_error        text
);
CREATE INDEX outbox_unpublished_idx ON outbox (available_at, id) WHERE published_at IS NULL;
CREATE INDEX outbox_queue_idx ON outbox (available_at, id) WHERE processed_at IS NULL AND dead_lettered_at IS NULL;
CREATE INDEX outbox_aggregate_idx ON outbox (tenant_id, aggregate_id);

-- Hash-chained and append-only: hash = sha256(prev_hash || canonical row).
CREATE TABLE audit_log (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
    at           timestamptz NOT NULL DEFAULT now(),
    principal    text NOT NULL,
    action       text NOT NULL,
    object_type  text,
    object_id    text,
    request_id   text,
    details      jsonb NOT NULL DEFAULT '{}',
    prev_hash    bytea CHECK (prev_hash IS NULL OR octet_length(prev_hash) = 32),
    hash         bytea NOT NULL CHECK (octet_length(hash) = 32)
);
CREATE INDEX audit_log_tenant_idx ON audit_log (tenant_id, id);
CREATE INDEX audit_log_object_idx ON audit_log (tenant_id, object_type, object_id);

CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();

-- Compliance results; the fingerprint makes re-runs update instead of duplicate.
CREATE TABLE findings (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id      uuid NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
    rule           text NOT NULL,
    fingerprint    text NOT NULL,
    severity       text NOT NULL CHECK (severity IN ('info', 'low', 'medium', 'high', 'critical')),
    document_id    uuid REFERENCES documents(id) ON DELETE CASCADE,
    object_key     text,
    message        text NOT NULL,
    details        jsonb NOT NULL DEFAULT '{}',
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'suppressed')),
    first_seen_at  timestamptz NOT NULL DEFAULT now(),
    last_seen_at   timestamptz NOT NULL DEFAULT now(),
    resolved_at    timestamptz,
    UNIQUE (tenant_id, rule, fingerprint)
);
CREATE INDEX findings_open_idx ON findings (tenant_id, severity) WHERE status = 'open';

CREATE TABLE notifications (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
    channel     text NOT NULL CHECK (channel IN ('webhook', 'email')),
    target      text NOT NULL,
    subject     text NOT NULL,
    body        jsonb NOT NULL DEFAULT '{}',
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX notifications_pending_idx ON notifications (created_at) WHERE status = 'pending';

CREATE TABLE asks (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
    principal   text NOT NULL,
    question    text NOT NULL,
    answer      text,
    refused     boolean NOT NULL DEFAULT false,
    sources     jsonb NOT NULL DEFAULT '[]',
    provider    text,
    model       text,
    usage       jsonb NOT NULL DEFAULT '{}',
    latency_ms  integer,
    request_id  text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX asks_tenant_idx ON asks (tenant_id, created_at DESC);

-- migrate:down
DROP TABLE asks;
DROP TABLE notifications;
DROP TABLE findings;
DROP TRIGGER audit_log_no_change ON audit_log;
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE outbox;
DROP TABLE chunks;
DROP TABLE documents;
DROP TABLE api_tokens;
DROP TABLE principals;
DROP TABLE tenants;
