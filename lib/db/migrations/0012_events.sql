-- The live feed of the REST server (2.5): document status changes and findings opened or
-- changed, appended by triggers in the same transaction as the change (so an event exists
-- exactly when its change committed) and announced with NOTIFY platctl_events carrying
-- the event's id. The id orders the feed and is the SSE event id a client resumes from
-- (Last-Event-ID). Not under row-level security: only the server reads it, and it sends
-- each event to the clients of that event's tenant alone. Old events are pruned by the
-- server (server.events_retention).

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

CREATE FUNCTION platctl_event(tenant uuid, kind text, object uuid, body jsonb) RETURNS void
LANGUAGE plpgsql AS $$
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
DROP TABLE events;
