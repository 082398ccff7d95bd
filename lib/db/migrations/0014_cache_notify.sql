-- The server's in-process cache (2.5) keeps token lookups, tenant ids and document rows,
-- so that GET /v1/documents/{id} needs no database round trip. Every instance LISTENs on
-- platctl_cache; these triggers say what changed in the transaction of the change
-- itself, so a commit by any writer (another instance, a consume worker, a command in
-- direct mode, psql) reaches every cache:
--   document:ID  a document row, or its audit history, changed;
--   auth         a token, principal or tenant changed: the token and tenant entries go.
-- NOTIFY delivers at commit and drops identical payloads within a transaction, so a
-- worker's several updates of one document cost one notification.
--
-- api_tokens is watched only on the columns a lookup depends on: the lookup itself
-- writes last_used_at (once a minute), and that must not empty every cache.

-- migrate:up
CREATE FUNCTION platctl_cache_notify_document() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'audit_log' THEN
        IF NEW.object_type = 'document' AND NEW.object_id IS NOT NULL THEN
            PERFORM pg_notify('platctl_cache', 'document:' || NEW.object_id);
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('platctl_cache', 'document:' || OLD.id);
    ELSE
        PERFORM pg_notify('platctl_cache', 'document:' || NEW.id);
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION platctl_cache_notify_auth() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('platctl_cache', 'auth');
    RETURN NULL;
END $$;

CREATE TRIGGER documents_cache_notify AFTER UPDATE OR DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION platctl_cache_notify_document();
CREATE TRIGGER audit_log_cache_notify AFTER INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION platctl_cache_notify_document();
CREATE TRIGGER api_tokens_cache_notify
    AFTER UPDATE OF token_sha256, revoked_at, expires_at, role, principal_id, tenant_id OR DELETE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION platctl_cache_notify_auth();
CREATE TRIGGER principals_cache_notify AFTER UPDATE OR DELETE ON principals
    FOR EACH STATEMENT EXECUTE FUNCTION platctl_cache_notify_auth();
CREATE TRIGGER tenants_cache_notify AFTER UPDATE OR DELETE ON tenants
    FOR EACH STATEMENT EXECUTE FUNCTION platctl_cache_notify_auth();

-- migrate:down
DROP TRIGGER tenants_cache_notify ON tenants;
DROP TRIGGER principals_cache_notify ON principals;
DROP TRIGGER api_tokens_cache_notify ON api_tokens;
DROP TRIGGER audit_log_cache_notify ON audit_log;
DROP TRIGGER documents_cache_notify ON documents;
DROP FUNCTION platctl_cache_notify_auth();
DROP FUNCTION platctl_cache_notify_document();
