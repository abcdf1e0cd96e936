#!/bin/bash
# Times the statements the SQLite record store runs while the analytics mirror is built (the
# ones pulso-sql writes, values inlined) on a 10M-row demo database: tools/sqlite_fallback_queries.sh DB
# (docs/adr/0008-sqlite-indexes-behind-the-mirror.md).
DB=$1
END=1767225600000   # 2026-01-01
D=86400000
q() { local name=$1; shift; local t0=$(date +%s.%N); sqlite3 "$DB" "PRAGMA cache_size=-16384; $*" > /tmp/q.out; local t1=$(date +%s.%N); printf "%-34s %7.2f s  %s\n" "$name" "$(echo "$t1-$t0" | bc)" "$(tail -1 /tmp/q.out | cut -c1-60)"; }
TS="SELECT (f.event_time_ms - $((END-180*D))) / $D AS bucket, NULL AS grp, COUNT(*) AS volume, COUNT(f.label) AS scored, COALESCE(SUM(f.label = 'positive'), 0), COALESCE(SUM(f.label = 'negative'), 0), SUM(f.score) FROM feedback f"
q "timeseries 180d unfiltered" "$TS WHERE 1 = 1 AND f.event_time_ms >= $((END-180*D)) AND f.event_time_ms <= $END GROUP BY bucket, grp"
q "timeseries 180d brand=Qori Brasa" "$TS WHERE 1 = 1 AND f.event_time_ms >= $((END-180*D)) AND f.event_time_ms <= $END AND f.brand IN ('Qori Brasa') GROUP BY bucket, grp"
q "timeseries 7d brand=Qori Brasa" "$TS WHERE 1 = 1 AND f.event_time_ms >= $((END-7*D)) AND f.event_time_ms <= $END AND f.brand IN ('Qori Brasa') GROUP BY bucket, grp"
q "timeseries 180d region=Cusco" "$TS WHERE 1 = 1 AND f.event_time_ms >= $((END-180*D)) AND f.event_time_ms <= $END AND f.region IN ('Cusco') GROUP BY bucket, grp"
q "timeseries 180d platform=google_maps" "$TS WHERE 1 = 1 AND f.event_time_ms >= $((END-180*D)) AND f.event_time_ms <= $END AND f.platform IN ('google_maps') GROUP BY bucket, grp"
M="SELECT f.event_time_ms, f.id, f.text, f.source_type, f.platform, f.region, f.category, f.brand, f.label, f.score, f.confidence, f.language FROM feedback f"
q "mentions 180d brand=Qori Brasa" "$M WHERE 1 = 1 AND f.event_time_ms >= $((END-180*D)) AND f.event_time_ms <= $END AND f.brand IN ('Qori Brasa') ORDER BY f.event_time_ms DESC, f.id DESC LIMIT 50" 
q "mentions 180d product=rare" "$M WHERE 1 = 1 AND f.event_time_ms >= $((END-180*D)) AND f.event_time_ms <= $END AND f.product IN ((SELECT product FROM feedback WHERE id = 7)) ORDER BY f.event_time_ms DESC, f.id DESC LIMIT 50"
q "mentions 7d unfiltered" "$M WHERE 1 = 1 AND f.event_time_ms >= $((END-7*D)) AND f.event_time_ms <= $END ORDER BY f.event_time_ms DESC, f.id DESC LIMIT 50"
for col in brand region product language; do
q "dimension_values $col (loose scan)" "WITH RECURSIVE v(value) AS (SELECT MIN($col) FROM feedback UNION ALL SELECT (SELECT MIN($col) FROM feedback WHERE $col > v.value) FROM v WHERE v.value IS NOT NULL) SELECT count(value) FROM v WHERE value IS NOT NULL"
q "dimension_values $col (distinct)" "SELECT count(*) FROM (SELECT DISTINCT $col FROM feedback)"
done
