-- When the integrity rule last checked each stored object, per rule, so that a sampled rule
-- checks the objects checked longest ago (never checked first) and every object within its
-- period; the newest check of a rule is also when that rule last ran.

-- migrate:up
CREATE TABLE integrity_checks (
    tenant_id    uuid NOT NULL REFERENCES tenants(id) ON DELETE RESTRICT,
    rule         text NOT NULL,
    storage_key  text NOT NULL,
    checked_at   timestamptz NOT NULL DEFAULT now(),
    ok           boolean NOT NULL,          -- present and its sha256 matched
    sha256       text,                      -- what the object hashed to (NULL: missing)
    PRIMARY KEY (tenant_id, rule, storage_key)
);
CREATE INDEX integrity_checks_age_idx ON integrity_checks (tenant_id, rule, checked_at);

-- Tenant-owned, so under the row-level security of migration 0004.
ALTER TABLE integrity_checks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON integrity_checks
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);

-- migrate:down
DROP POLICY tenant_isolation ON integrity_checks;
DROP TABLE integrity_checks;
