-- The change feed behind the analytics mirror: each write transaction takes the next revision
-- and tags the rows it adds or changes with it, so a reader that asks for "revision > R" gets
-- exactly what changed since it last looked. SQLite runs one writer at a time, so revisions
-- become visible in order.
CREATE TABLE store_revision (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO store_revision (id, value) VALUES (1, 1);
ALTER TABLE feedback ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
CREATE INDEX feedback_revision ON feedback (revision);
