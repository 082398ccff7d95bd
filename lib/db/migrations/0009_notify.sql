-- Notifications (2.4): the notifications table of 0001 becomes the delivery log of webhooks
-- and e-mails. A row per delivery: which event, the id the receiver sees (X-Platctl-Delivery),
-- the last HTTP status or SMTP reply code, and when the last try was. The table is already
-- tenant-owned and under row-level security (0004).

-- migrate:up
ALTER TABLE notifications
    ADD COLUMN event            text,
    ADD COLUMN delivery_id      uuid,
    ADD COLUMN response_code    integer,
    ADD COLUMN last_attempt_at  timestamptz;
CREATE INDEX notifications_tenant_idx ON notifications (tenant_id, created_at DESC);

-- migrate:down
DROP INDEX notifications_tenant_idx;
ALTER TABLE notifications
    DROP COLUMN last_attempt_at, DROP COLUMN response_code, DROP COLUMN delivery_id, DROP COLUMN event;
