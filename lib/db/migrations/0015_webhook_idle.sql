-- platctl_webhook_next_due said 0 ("due now") when nothing was pending at all, because
-- greatest() ignores a NULL argument: every serve instance's delivery loop then polled
-- about 200 times a second on an idle installation. NULL now means nothing is due, and
-- the loop waits for a notification (or its idle poll).

-- migrate:up
CREATE OR REPLACE FUNCTION platctl_webhook_next_due() RETURNS double precision
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT CASE WHEN due IS NULL THEN NULL ELSE greatest(0, extract(epoch FROM due - now()))::double precision END
      FROM (SELECT min(CASE WHEN status = 'pending' THEN next_at ELSE locked_until END) AS due
              FROM webhook_deliveries WHERE status IN ('pending', 'delivering')) d
$$;

-- migrate:down
CREATE OR REPLACE FUNCTION platctl_webhook_next_due() RETURNS double precision
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
    SELECT greatest(0, extract(epoch FROM min(CASE WHEN status = 'pending' THEN next_at ELSE locked_until END)
                                          - now()))::double precision
      FROM webhook_deliveries WHERE status IN ('pending', 'delivering')
$$;
