-- Roll-ups for dashboards, fed by materialized views as rows are inserted.
--
-- A view sees every inserted block: a batch the sink retries with the same
-- insert_deduplication_token is dropped here too (the sink sets
-- deduplicate_blocks_in_dependent_materialized_views), but a batch
-- delivered again after a crash, or an event a collector sent twice, is
-- counted again. Roll-ups are for trends; exact counts come from
-- audit_events with LIMIT 1 BY id (docs/STORAGE.md).

CREATE TABLE IF NOT EXISTS rollup_activity_minute
(
    tenant   LowCardinality(String),
    minute   DateTime('UTC'),
    category LowCardinality(String),
    action   LowCardinality(String),
    outcome  LowCardinality(String),
    events   UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(minute)
ORDER BY (tenant, minute, category, action, outcome)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_activity_minute_mv TO rollup_activity_minute AS
SELECT tenant, toStartOfMinute(toDateTime(timestamp, 'UTC')) AS minute, category, action, outcome, count() AS events
FROM audit_events
GROUP BY tenant, minute, category, action, outcome;

CREATE TABLE IF NOT EXISTS rollup_exports_daily
(
    tenant      LowCardinality(String),
    day         Date,
    person_key  String,
    user_name   SimpleAggregateFunction(anyLast, String),
    exports     UInt64,
    exported_records UInt64,
    max_records SimpleAggregateFunction(max, UInt64)
)
ENGINE = AggregatingMergeTree
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, day, person_key)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_exports_daily_mv TO rollup_exports_daily AS
SELECT tenant, toDate(timestamp, 'UTC') AS day, person_key, anyLast(user_name) AS user_name,
       count() AS exports, sum(ifNull(records, 0)) AS exported_records, max(ifNull(records, 0)) AS max_records
FROM audit_events
WHERE category = 'export' AND outcome = 'success'
GROUP BY tenant, day, person_key;

CREATE TABLE IF NOT EXISTS rollup_failed_logins_hourly
(
    tenant     LowCardinality(String),
    hour       DateTime('UTC'),
    person_key String,
    country    LowCardinality(String),
    failures   UInt64,
    located    UInt64 COMMENT 'failures with coordinates',
    lat_sum    Float64,
    lon_sum    Float64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant, hour, person_key, country)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_failed_logins_hourly_mv TO rollup_failed_logins_hourly AS
SELECT tenant, toStartOfHour(toDateTime(timestamp, 'UTC')) AS hour, person_key, geo_country AS country,
       count() AS failures, countIf(geo_lat IS NOT NULL) AS located,
       sum(ifNull(geo_lat, 0)) AS lat_sum, sum(ifNull(geo_lon, 0)) AS lon_sum
FROM audit_events
WHERE category = 'authentication' AND action = 'login' AND outcome = 'failure'
GROUP BY tenant, hour, person_key, country;

CREATE TABLE IF NOT EXISTS rollup_alerts_hourly
(
    tenant   LowCardinality(String),
    hour     DateTime('UTC'),
    rule_id  LowCardinality(String),
    severity LowCardinality(String),
    alerts   UInt64
)
ENGINE = SummingMergeTree
PARTITION BY toYYYYMM(hour)
ORDER BY (tenant, hour, rule_id, severity)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS rollup_alerts_hourly_mv TO rollup_alerts_hourly AS
SELECT tenant, toStartOfHour(toDateTime(triggered_at, 'UTC')) AS hour, rule_id, severity, count() AS alerts
FROM alerts
GROUP BY tenant, hour, rule_id, severity;
