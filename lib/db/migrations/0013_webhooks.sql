-- Webhooks (2.5): a tenant's subscriptions to the live feed's events, and one delivery row
-- per event per matching webhook. The delivery is queued by platctl_event in the same
-- transaction as the event (so an event that committed is delivered, and one that rolled
-- back is not), and a serve instance sends it: claimed with SKIP LOCKED under a lease, so
-- that several instances share the work and a delivery whose instance died is taken over
-- when its lease runs out. The table is the delivery log: status, attempts, the last HTTP
-- status and error, and which delivery a redelivery repeats.
--
-- The secret is kept as it is (the HMAC needs it), readable by the tenant's rows alone and
-- never returned after the webhook is made.

-- migrate:up
CREATE TABLE webhooks (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    url         text NOT NULL,
    events      text[] NOT NULL CHECK (cardinality(events) > 0),
    secret      text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_by  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhooks_tenant_idx ON webhooks (tenant_id);

CREATE TABLE webhook_deliveries (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id     uuid NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    webhook_id    uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
    event_id      bigint NOT NULL, -- events are pruned after a week; the body keeps what was sent
    event         text NOT NULL,
    body          text NOT NULL,
    status        text NOT NULL DEFAULT 'pending'
                  CHECK (status IN ('pending', 'delivering', 'delivered', 'failed')),
    attempts      integer NOT NULL DEFAULT 0,
    next_at       timestamptz NOT NULL DEFAULT now(),
    locked_until  timestamptz,
    last_status   integer,
    last_error    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    redelivery_of uuid REFERENCES webhook_deliveries(id) ON DELETE SET NULL
);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_at) WHERE status IN ('pending', 'delivering');
CREATE INDEX webhook_deliveries_hook_idx ON webhook_deliveries (webhook_id, created_at DESC);

ALTER TABLE webhooks ENABLE ROW LEVEL SECURITY;
ALTER TABLE webhook_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhooks
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);
CREATE POLICY tenant_isolation ON webhook_deliveries
    USING (tenant_id = nullif(current_setting('platctl.tenant_id', true), '')::uuid);

-- The event as the feed sends it ({id, type, at, data}) is the body of its deliveries.
CREATE OR REPLACE FUNCTION platctl_event(tenant uuid, kind text, object uuid, body jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    eid bigint;
    eat timestamptz;
BEGIN
    INSERT INTO events (tenant_id, type, object_id, data) VALUES (tenant, kind, object, body)
        RETURNING id, at INTO eid, eat;
    PERFORM pg_notify('platctl_events', eid::text);
    INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, event, body)
    SELECT tenant, w.id, eid, kind,
           jsonb_build_object('id', eid, 'type', kind,
                              'at', to_char(eat AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
                              'data', body)::text
      FROM webhooks w
     WHERE w.tenant_id = tenant AND (kind = ANY (w.events) OR '*' = ANY (w.events));
    IF FOUND THEN
        PERFORM pg_notify('platctl_webhooks', '');
    END IF;
END $$;

-- The deliveries due now (or whose sender's lease ran out), across tenants, marked as being
-- delivered until the lease ends; each with its webhook's URL and secret.
CREATE FUNCTION platctl_webhook_claim(lim integer, lease interval)
RETURNS TABLE (id uuid, tenant_id uuid, url text, secret text, event text, body text, attempts integer)
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    WITH due AS (
        SELECT d.id FROM webhook_deliveries d
         WHERE (d.status = 'pending' AND d.next_at <= now())
            OR (d.status = 'delivering' AND d.locked_until < now())
         ORDER BY d.next_at LIMIT lim FOR UPDATE SKIP LOCKED)
    UPDATE webhook_deliveries d
       SET status = 'delivering', attempts = d.attempts + 1, locked_until = now() + lease
      FROM due, webhooks w
     WHERE d.id = due.id AND w.id = d.webhook_id
    RETURNING d.id, d.tenant_id, w.url, w.secret, d.event, d.body, d.attempts
$$;

-- The outcome of one try: delivered, failed for good (retry_in NULL), or due again after
-- retry_in. Only the claim that holds the row may finish it (attempts says which).
CREATE FUNCTION platctl_webhook_finish(delivery uuid, try integer, ok boolean, retry_in interval, code integer,
                                       error text)
RETURNS void
LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    UPDATE webhook_deliveries
       SET status = CASE WHEN ok THEN 'delivered' WHEN retry_in IS NULL THEN 'failed' ELSE 'pending' END,
           next_at = CASE WHEN NOT ok AND retry_in IS NOT NULL THEN now() + retry_in ELSE next_at END,
           finished_at = CASE WHEN ok OR retry_in IS NULL THEN now() END,
           locked_until = NULL, last_status = code, last_error = error
     WHERE id = delivery AND status = 'delivering' AND attempts = try
$$;

-- Seconds until the next delivery is due (0: now), NULL when none is waiting.
CREATE FUNCTION platctl_webhook_next_due() RETURNS double precision
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT greatest(0, extract(epoch FROM min(CASE WHEN status = 'pending' THEN next_at ELSE locked_until END)
                                          - now()))::double precision
      FROM webhook_deliveries WHERE status IN ('pending', 'delivering')
$$;

REVOKE EXECUTE ON FUNCTION platctl_webhook_claim(integer, interval) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION platctl_webhook_finish(uuid, integer, boolean, interval, integer, text) FROM PUBLIC;
REVOKE EXECUTE ON FUNCTION platctl_webhook_next_due() FROM PUBLIC;

-- migrate:down
DROP FUNCTION platctl_webhook_next_due();
DROP FUNCTION platctl_webhook_finish(uuid, integer, boolean, interval, integer, text);
DROP FUNCTION platctl_webhook_claim(integer, interval);
CREATE OR REPLACE FUNCTION platctl_event(tenant uuid, kind text, object uuid, body jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    eid bigint;
BEGIN
    INSERT INTO events (tenant_id, type, object_id, data) VALUES (tenant, kind, object, body) RETURNING id INTO eid;
    PERFORM pg_notify('platctl_events', eid::text);
END $$;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
