-- Placeholder for the checks branch's migration 0010 (integrity_checks), so that 0011
-- applies on this branch until both are merged: at the merge, checks' file replaces this one.

-- migrate:up
SELECT 1;

-- migrate:down
SELECT 1;
