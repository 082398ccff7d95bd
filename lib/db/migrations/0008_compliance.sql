-- Compliance runs (2.4): what each run did, who acknowledged or resolved a finding, the
-- retention reviews that gate destruction, the reminders already sent, and who put a
-- legal hold on a document and why. The findings table itself dates from 0001.

-- migrate:up
CREATE TABLE compliance_runs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz,
    status       text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
    dry_run      boolean NOT NULL DEFAULT false,
    principal    text NOT NULL,
    summary      jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX compliance_runs_tenant_idx ON compliance_runs (tenant_id, started_at DESC);

ALTER TABLE findings
    ADD COLUMN kind             text,
    ADD COLUMN last_run_id      uuid,
    ADD COLUMN times_seen       integer NOT NULL DEFAULT 1,
    ADD COLUMN acknowledged_at  timestamptz,
    ADD COLUMN acknowledged_by  text,
    ADD COLUMN note             text,
    ADD COLUMN resolved_by      text;
CREATE INDEX findings_rule_open_idx ON findings (tenant_id, rule) WHERE status = 'open';
CREATE INDEX findings_document_idx ON findings (document_id) WHERE document_id IS NOT NULL;

-- A destroy rule's decision per document: pending until approved or rejected; approved
-- ones are destroyed by the first run after due_at (the end of the review window).
CREATE TABLE retention_reviews (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
    rule         text NOT NULL,
    document_id  uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    expired_at   timestamptz NOT NULL,   -- when the retention period ended
    due_at       timestamptz NOT NULL,   -- when the review window ends
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'approved', 'rejected', 'destroyed')),
    decided_by   text,
    decided_at   timestamptz,
    reason       text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, rule, document_id)
);
CREATE INDEX retention_reviews_status_idx ON retention_reviews (tenant_id, status, due_at);

-- Expiry reminders sent: one row per document, date and step, so each step goes out once.
CREATE TABLE expiry_reminders (
    tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
    rule         text NOT NULL,
    document_id  uuid NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    expires_on   date NOT NULL,
    step_days    integer NOT NULL,
    recipients   text[] NOT NULL DEFAULT '{}',
    sent_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, rule, document_id, expires_on, step_days)
);

ALTER TABLE documents
    ADD COLUMN hold_reason  text,
    ADD COLUMN held_by      text,
    ADD COLUMN held_at      timestamptz;

-- Tenant-owned, so under the row-level security of migration 0004.
ALTER TABLE compliance_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON compliance_runs
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);
ALTER TABLE retention_reviews ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON retention_reviews
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);
ALTER TABLE expiry_reminders ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON expiry_reminders
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);

-- migrate:down
DROP POLICY tenant_isolation ON expiry_reminders;
DROP POLICY tenant_isolation ON retention_reviews;
DROP POLICY tenant_isolation ON compliance_runs;
ALTER TABLE documents DROP COLUMN held_at, DROP COLUMN held_by, DROP COLUMN hold_reason;
DROP TABLE expiry_reminders;
DROP TABLE retention_reviews;
DROP INDEX findings_document_idx;
DROP INDEX findings_rule_open_idx;
ALTER TABLE findings
    DROP COLUMN resolved_by, DROP COLUMN note, DROP COLUMN acknowledged_by, DROP COLUMN acknowledged_at,
    DROP COLUMN times_seen, DROP COLUMN last_run_id, DROP COLUMN kind;
DROP TABLE compliance_runs;
