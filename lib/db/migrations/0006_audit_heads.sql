-- The end of each tenant's audit chain, kept beside it. A chain alone cannot show that its
-- last rows were deleted: what is left still links up. plat_audit_append moves the head in
-- the same transaction as the row it appends, and chains the next row onto the head's hash
-- (not onto whatever row is last), so rows deleted from the end show as a chain shorter
-- than its head, and, once more rows are appended, as a broken link.
--
-- The head only moves forward: a trigger refuses to delete it or to move it back, so
-- hiding a truncation takes a superuser (or the table's owner) disabling that trigger too.

-- migrate:up
CREATE TABLE audit_heads (
    tenant_id  uuid PRIMARY KEY REFERENCES tenants(id) ON DELETE RESTRICT,
    last_id    bigint NOT NULL,
    last_hash  bytea NOT NULL CHECK (octet_length(last_hash) = 32),
    rows       bigint NOT NULL CHECK (rows > 0)
);

CREATE FUNCTION audit_heads_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' OR NEW.tenant_id <> OLD.tenant_id OR NEW.last_id <= OLD.last_id OR NEW.rows <= OLD.rows THEN
        RAISE EXCEPTION 'audit_heads only moves forward' USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER audit_heads_no_rewind BEFORE UPDATE OR DELETE ON audit_heads
    FOR EACH ROW EXECUTE FUNCTION audit_heads_forward_only();

-- The chains already there end at their last row.
INSERT INTO audit_heads (tenant_id, last_id, last_hash, rows)
    SELECT DISTINCT ON (tenant_id) tenant_id, id, hash, count(*) OVER (PARTITION BY tenant_id)
    FROM audit_log ORDER BY tenant_id, id DESC;

-- Tenant-owned, so under the row-level security of migration 0004 like the chain itself.
ALTER TABLE audit_heads ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON audit_heads
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);

-- migrate:down
DROP POLICY tenant_isolation ON audit_heads;
DROP TRIGGER audit_heads_no_rewind ON audit_heads;
DROP TABLE audit_heads;
DROP FUNCTION audit_heads_forward_only();
