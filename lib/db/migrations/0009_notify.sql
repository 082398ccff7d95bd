-- Placeholder for the notify branch's migration 0009 (its delivery log), so that 0010
-- applies on this branch until both are merged: at the merge, notify's file replaces this one.

-- migrate:up
SELECT 1;

-- migrate:down
SELECT 1;
