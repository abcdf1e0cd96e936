-- Feedback as collected, one row per consumer message.
CREATE TABLE feedback (
    id            INTEGER PRIMARY KEY,
    source_type   TEXT    NOT NULL CHECK (source_type IN ('social', 'review', 'survey', 'delivery')),
    platform      TEXT    NOT NULL,
    region        TEXT    NOT NULL,
    city          TEXT    NOT NULL,
    category      TEXT    NOT NULL,
    brand         TEXT    NOT NULL,
    product       TEXT    NOT NULL,
    language      TEXT    NOT NULL,
    text          TEXT    NOT NULL,
    -- Lower-cased, accent-free copy of `text`, so search is case- and accent-insensitive.
    text_folded   TEXT    NOT NULL,
    rating        REAL,
    event_time_ms INTEGER NOT NULL,
    ingest_time_ms INTEGER NOT NULL,
    external_id   TEXT    NOT NULL,
    -- The active model's sentiment, copied from `scores`, so that time-range scans read one
    -- covering index instead of joining a million rows. NULL until the row is scored.
    label         TEXT    CHECK (label IN ('negative', 'neutral', 'positive')),
    score         REAL,
    confidence    REAL,
    UNIQUE (platform, external_id)
);

-- Covers every panel aggregation: a time-range scan over this index never visits the table.
CREATE INDEX feedback_time_facts ON feedback (
    event_time_ms, source_type, platform, region, category, brand, product, language,
    label, score, confidence
);
-- Narrow filters over long ranges; the leading dimension column also serves the loose index
-- scan behind dimension values.
CREATE INDEX feedback_source_time ON feedback (source_type, event_time_ms);
CREATE INDEX feedback_platform_time ON feedback (platform, event_time_ms);
CREATE INDEX feedback_region_time ON feedback (region, event_time_ms);
CREATE INDEX feedback_category_time ON feedback (category, event_time_ms);
CREATE INDEX feedback_brand_time  ON feedback (brand, event_time_ms);
CREATE INDEX feedback_product     ON feedback (product);
CREATE INDEX feedback_language    ON feedback (language);

-- Sentiment per feedback row and model; old models' scores stay when the model changes.
CREATE TABLE scores (
    model_id      TEXT    NOT NULL,
    feedback_id   INTEGER NOT NULL REFERENCES feedback (id) ON DELETE CASCADE,
    label         TEXT    NOT NULL CHECK (label IN ('negative', 'neutral', 'positive')),
    score         REAL    NOT NULL CHECK (score BETWEEN -1 AND 1),
    p_negative    REAL    NOT NULL,
    p_neutral     REAL    NOT NULL,
    p_positive    REAL    NOT NULL,
    confidence    REAL    NOT NULL,
    scored_at_ms  INTEGER NOT NULL,
    PRIMARY KEY (model_id, feedback_id)
) WITHOUT ROWID;

-- Small key/value settings owned by the plugin, such as the active model id.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
