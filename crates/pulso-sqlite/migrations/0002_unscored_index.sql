-- The background scorer's work list: rows the active model has not scored yet.
CREATE INDEX feedback_unscored ON feedback (id) WHERE label IS NULL;
