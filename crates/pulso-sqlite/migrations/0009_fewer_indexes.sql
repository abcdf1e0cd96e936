-- Panels read the analytics mirror; the record store answers only while the mirror is built
-- (docs/adr/0008-sqlite-indexes-behind-the-mirror.md). There a filtered time range reads the
-- covering feedback_time_facts faster than these (dimension, time) indexes, which cost a table
-- lookup per row; and each of them cost an index update per insert and, in a bulk load, a sort
-- of every row. Dimension values scan the covering index instead of one index per dimension.
DROP INDEX IF EXISTS feedback_source_time;
DROP INDEX IF EXISTS feedback_platform_time;
DROP INDEX IF EXISTS feedback_region_time;
DROP INDEX IF EXISTS feedback_category_time;
DROP INDEX IF EXISTS feedback_brand_time;
DROP INDEX IF EXISTS feedback_product;
DROP INDEX IF EXISTS feedback_language;
