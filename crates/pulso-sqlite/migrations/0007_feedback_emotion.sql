-- The active model's dominant emotion, copied into feedback beside its label so that grouping
-- and filtering by emotion read one table, as they do by label: the most confident emotion at
-- or above 0.5 (pulso_core::analysis::emotion::dominant), NULL when none reaches it, when the
-- model has no emotion head, or until scored. Adding a nullable column rewrites nothing.
ALTER TABLE feedback ADD COLUMN emotion TEXT
    CHECK (emotion IN ('joy', 'anger', 'sadness', 'fear', 'surprise', 'disgust'));

-- Rows scored with emotions before this column existed (migration 0006 stored them in scores
-- only) get theirs from the active model's scores.
UPDATE feedback SET emotion = (
    SELECT CASE
        WHEN max(s.p_joy, s.p_anger, s.p_sadness, s.p_fear, s.p_surprise, s.p_disgust) < 0.5 THEN NULL
        WHEN s.p_joy = max(s.p_joy, s.p_anger, s.p_sadness, s.p_fear, s.p_surprise, s.p_disgust) THEN 'joy'
        WHEN s.p_anger = max(s.p_joy, s.p_anger, s.p_sadness, s.p_fear, s.p_surprise, s.p_disgust) THEN 'anger'
        WHEN s.p_sadness = max(s.p_joy, s.p_anger, s.p_sadness, s.p_fear, s.p_surprise, s.p_disgust) THEN 'sadness'
        WHEN s.p_fear = max(s.p_joy, s.p_anger, s.p_sadness, s.p_fear, s.p_surprise, s.p_disgust) THEN 'fear'
        WHEN s.p_surprise = max(s.p_joy, s.p_anger, s.p_sadness, s.p_fear, s.p_surprise, s.p_disgust) THEN 'surprise'
        ELSE 'disgust'
    END
    FROM scores s
    WHERE s.feedback_id = feedback.id
      AND s.model_id = (SELECT value FROM settings WHERE key = 'active_model_id'))
WHERE label IS NOT NULL
  AND id IN (SELECT s.feedback_id FROM scores s
             WHERE s.p_joy IS NOT NULL
               AND s.model_id = (SELECT value FROM settings WHERE key = 'active_model_id'));
