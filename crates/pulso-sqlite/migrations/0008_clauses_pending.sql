-- A scorer that is behind scores a mention before its clauses: its score is stored with
-- clauses_pending = 1, and its aspects carry the mention's own sentiment until a later batch
-- scores the clauses. The partial index holds only those rows, so finding and counting them
-- reads nothing else. Adding a column with a constant default rewrites nothing.
ALTER TABLE scores ADD COLUMN clauses_pending INTEGER NOT NULL DEFAULT 0
    CHECK (clauses_pending IN (0, 1));
CREATE INDEX scores_clauses_pending ON scores (model_id, feedback_id) WHERE clauses_pending = 1;
