-- Where each chunk sits in its document: the document's title, the heading path (levels
-- joined by " > ") and, for HTML, the id of the innermost heading that has one, so a
-- citation can link to file.html#anchor. NULL where the document has none.

-- migrate:up
ALTER TABLE chunks ADD COLUMN title text, ADD COLUMN section text, ADD COLUMN anchor text;

-- migrate:down
ALTER TABLE chunks DROP COLUMN anchor, DROP COLUMN section, DROP COLUMN title;
