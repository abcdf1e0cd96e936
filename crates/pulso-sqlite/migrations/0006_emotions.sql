-- Emotion confidences per feedback row and model, from the model's emotion head (NULL for a
-- model without one, and for rows scored before it). Adding nullable columns rewrites nothing.
ALTER TABLE scores ADD COLUMN p_joy REAL;
ALTER TABLE scores ADD COLUMN p_anger REAL;
ALTER TABLE scores ADD COLUMN p_sadness REAL;
ALTER TABLE scores ADD COLUMN p_fear REAL;
ALTER TABLE scores ADD COLUMN p_surprise REAL;
ALTER TABLE scores ADD COLUMN p_disgust REAL;
