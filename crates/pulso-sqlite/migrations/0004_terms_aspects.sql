-- Trend detection: each row's distinct term hashes (little-endian u32s; see trends::terms),
-- computed when the row is stored so queries count integers instead of re-reading text.
-- NULL for rows stored before this migration until the background indexer reaches them.
ALTER TABLE feedback ADD COLUMN terms BLOB;
CREATE INDEX feedback_unindexed_terms ON feedback (id) WHERE terms IS NULL;

-- Aspect-based sentiment: for each scored row and aspect it names, the sentiment of the
-- clauses that name it, per model, so aspect queries never re-run the model.
CREATE TABLE aspect_scores (
    model_id      TEXT    NOT NULL,
    feedback_id   INTEGER NOT NULL REFERENCES feedback (id) ON DELETE CASCADE,
    aspect        TEXT    NOT NULL CHECK (aspect IN ('taste', 'price', 'service', 'delivery',
                                                     'hygiene', 'portion', 'freshness', 'packaging')),
    label         TEXT    NOT NULL CHECK (label IN ('negative', 'neutral', 'positive')),
    score         REAL    NOT NULL CHECK (score BETWEEN -1 AND 1),
    -- Copied from feedback so that a time-range scan needs no join to find its rows.
    event_time_ms INTEGER NOT NULL,
    PRIMARY KEY (model_id, feedback_id, aspect)
) WITHOUT ROWID;
CREATE INDEX aspect_scores_time ON aspect_scores (model_id, event_time_ms, aspect, label, score);

-- The same hashes clustered by time, so a trending query reads one contiguous slice of a small
-- table instead of a million scattered rows of `feedback` (rows arrive in any time order).
-- Triggers keep it in step with feedback.terms; deleting feedback cascades.
CREATE TABLE feedback_terms (
    event_time_ms INTEGER NOT NULL,
    feedback_id   INTEGER NOT NULL REFERENCES feedback (id) ON DELETE CASCADE,
    terms         BLOB    NOT NULL,
    PRIMARY KEY (event_time_ms, feedback_id)
) WITHOUT ROWID;
CREATE INDEX feedback_terms_feedback ON feedback_terms (feedback_id);

CREATE TRIGGER feedback_terms_on_insert AFTER INSERT ON feedback WHEN NEW.terms IS NOT NULL
BEGIN
    INSERT OR REPLACE INTO feedback_terms (event_time_ms, feedback_id, terms)
    VALUES (NEW.event_time_ms, NEW.id, NEW.terms);
END;

CREATE TRIGGER feedback_terms_on_update AFTER UPDATE OF terms, event_time_ms ON feedback
BEGIN
    DELETE FROM feedback_terms WHERE feedback_id = OLD.id;
    INSERT INTO feedback_terms (event_time_ms, feedback_id, terms)
    SELECT NEW.event_time_ms, NEW.id, NEW.terms WHERE NEW.terms IS NOT NULL;
END;
