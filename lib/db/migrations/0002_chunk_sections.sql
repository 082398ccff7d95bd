-- migrate:up
ALTER TABLE chunks ADD COLUMN title text, ADD COLUMN section text, ADD COLUMN anchor text;

-- migrate:down
ALTER TABLE chunks DROP COLUMN anchor, DROP COLUMN section, DROP COLUMN title;
