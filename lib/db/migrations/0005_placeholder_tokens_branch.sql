-- PLACEHOLDER on branch tokens only, so 0006 applies (versions must be contiguous).
-- Drop this file when merging: the real 0005 comes from the access-control branch.

-- migrate:up
SELECT 1;

-- migrate:down
SELECT 1;
