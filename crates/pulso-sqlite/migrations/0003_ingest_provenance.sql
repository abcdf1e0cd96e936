-- Ingestion keeps the rating exactly as the source wrote it ("8/10", "★★★★") beside the 1-5
-- value in `rating`, and how many pieces of personal data were redacted from the row.
ALTER TABLE feedback ADD COLUMN rating_raw TEXT;
ALTER TABLE feedback ADD COLUMN redactions INTEGER NOT NULL DEFAULT 0 CHECK (redactions >= 0);
