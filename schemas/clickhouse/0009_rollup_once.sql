-- Roll-ups count each event (and alert) once.
--
-- 0003's views counted every inserted row, so an event stored twice (a
-- batch delivered again after a crash or a rebalance before its offsets
-- were committed, or an event a collector sent twice) was counted twice.
-- The sink now remembers the ids it stored lately per partition, reloads
-- them from these tables when a partition comes to it, and marks a row
-- whose id it had stored already with rollup_skip (sink/once.go). The
-- views count only unmarked rows.
--
-- rollup_skip is for the views, not for readers: ReplacingMergeTree keeps
-- one copy of a log position, and which copy's mark survives a merge is
-- not defined. Readers deduplicate audit_events with LIMIT 1 BY id and
-- alerts with FINAL or LIMIT 1 BY id, as before.
ALTER TABLE audit_events ADD COLUMN IF NOT EXISTS rollup_skip Bool DEFAULT false
    COMMENT 'the sink had stored this event id already when it inserted this row: the roll-up views did not count it' AFTER chain_gap;

ALTER TABLE alerts ADD COLUMN IF NOT EXISTS rollup_skip Bool DEFAULT false
    COMMENT 'the sink had stored this alert id already when it inserted this row: the roll-up views did not count it' AFTER kafka_offset;

ALTER TABLE rollup_activity_minute_mv MODIFY QUERY
SELECT tenant, toStartOfMinute(toDateTime(timestamp, 'UTC')) AS minute, category, action, outcome, count() AS events
FROM audit_events
WHERE NOT rollup_skip
GROUP BY tenant, minute, category, action, outcome;

ALTER TABLE rollup_exports_daily_mv MODIFY QUERY
SELECT tenant, toDate(timestamp, 'UTC') AS day, person_key, anyLast(user_name) AS user_name,
       count() AS exports, sum(ifNull(records, 0)) AS exported_records, max(ifNull(records, 0)) AS max_records
FROM audit_events
WHERE category = 'export' AND outcome = 'success' AND NOT rollup_skip
GROUP BY tenant, day, person_key;

ALTER TABLE rollup_failed_logins_hourly_mv MODIFY QUERY
SELECT tenant, toStartOfHour(toDateTime(timestamp, 'UTC')) AS hour, person_key, geo_country AS country,
       count() AS failures, countIf(geo_lat IS NOT NULL) AS located,
       sum(ifNull(geo_lat, 0)) AS lat_sum, sum(ifNull(geo_lon, 0)) AS lon_sum
FROM audit_events
WHERE category = 'authentication' AND action = 'login' AND outcome = 'failure' AND NOT rollup_skip
GROUP BY tenant, hour, person_key, country;

ALTER TABLE rollup_alerts_hourly_mv MODIFY QUERY
SELECT tenant, toStartOfHour(toDateTime(triggered_at, 'UTC')) AS hour, rule_id, severity, count() AS alerts
FROM alerts
WHERE NOT rollup_skip
GROUP BY tenant, hour, rule_id, severity;
