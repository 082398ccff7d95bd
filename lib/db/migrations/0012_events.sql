-- The live feed of the REST server (2.5): document status changes and findings opened or
-- changed, appended by triggers in the same transaction as the change (so an event exists
-- exactly when its change committed) and announced with NOTIFY platctl_events carrying
-- the event's id. The id orders the feed and is the SSE event id a client resumes from
-- (Last-Event-ID). Under row-level security like every tenant's table; the server's one
-- listener reads across tenants (and sends each event to its own tenant's clients alone)
-- through the SECURITY DEFINER functions below, which return nothing but the feed. The
-- server prunes events older than a week.

-- migrate:up
CREATE TABLE events (
    id         bigserial PRIMARY KEY,
    tenant_id  uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    type       text NOT NULL,
    object_id  uuid,
    data       jsonb NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_tenant_idx ON events (tenant_id, id);
CREATE INDEX events_at_idx ON events (at);
ALTER TABLE events ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON events
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);

-- Events of every tenant (or of one) after an id, up to another, as the feed sends them.
CREATE FUNCTION platctl_events_after(after bigint, tenant uuid, upto bigint, lim integer)
RETURNS TABLE (id bigint, tenant_id uuid, type text, body text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT e.id, e.tenant_id, e.type,
           jsonb_build_object('id', e.id, 'type', e.type,
                              'at', to_char(e.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                              'data', e.data)::text
      FROM events e
     WHERE e.id > after AND (tenant IS NULL OR e.tenant_id = tenant) AND (upto IS NULL OR e.id <= upto)
     ORDER BY e.id LIMIT lim
$$;

CREATE FUNCTION platctl_events_head() RETURNS bigint
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT coalesce(max(id), 0) FROM events
$$;

CREATE FUNCTION platctl_events_prune(keep interval) RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    DELETE FROM events WHERE at < now() - keep
$$;

-- Written by the triggers of whichever call made the change, under the tenant's own
-- setting or none (the workers): the row is the change's tenant's either way.
CREATE FUNCTION platctl_event(tenant uuid, kind text, object uuid, body jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    eid bigint;
BEGIN
    INSERT INTO events (tenant_id, type, object_id, data) VALUES (tenant, kind, object, body) RETURNING id INTO eid;
    PERFORM pg_notify('platctl_events', eid::text);
END $$;

CREATE FUNCTION platctl_document_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.status IS DISTINCT FROM OLD.status THEN
        PERFORM platctl_event(NEW.tenant_id, 'document.' || NEW.status, NEW.id,
            jsonb_build_object('id', NEW.id, 'name', NEW.name, 'status', NEW.status, 'class', NEW.class,
                               'previous_status', CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER documents_events AFTER INSERT OR UPDATE OF status ON documents
    FOR EACH ROW EXECUTE FUNCTION platctl_document_event();

CREATE FUNCTION platctl_finding_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR (NEW.status IS DISTINCT FROM OLD.status) THEN
        PERFORM platctl_event(NEW.tenant_id,
            CASE WHEN NEW.status = 'open' THEN 'finding.opened' ELSE 'finding.' || NEW.status END, NEW.id,
            jsonb_build_object('id', NEW.id, 'rule', NEW.rule, 'severity', NEW.severity, 'status', NEW.status,
                               'document_id', NEW.document_id, 'message', NEW.message));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER findings_events AFTER INSERT OR UPDATE OF status ON findings
    FOR EACH ROW EXECUTE FUNCTION platctl_finding_event();

-- migrate:down
DROP TRIGGER findings_events ON findings;
DROP TRIGGER documents_events ON documents;
DROP FUNCTION platctl_finding_event();
DROP FUNCTION platctl_document_event();
DROP FUNCTION platctl_event(uuid, text, uuid, jsonb);
DROP FUNCTION platctl_events_prune(interval);
DROP FUNCTION platctl_events_head();
DROP FUNCTION platctl_events_after(bigint, uuid, bigint, integer);
DROP TABLE events;
