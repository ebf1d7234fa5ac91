-- Every canonical event (shared/contracts/event.md), one row per event id.
--
-- Re-delivered events (Kafka is at least once) carry the same id and the
-- same sorting key, so ReplacingMergeTree folds them together in merges;
-- until a merge happens, queries that must not count an event twice read
-- with FINAL or LIMIT 1 BY id (docs/STORAGE.md). The sink also sends
-- insert_deduplication_token per batch so a retried batch is dropped at
-- insert time.
CREATE TABLE IF NOT EXISTS audit_events
(
    id                   String,
    timestamp            DateTime64(3, 'UTC'),
    tz_offset_minutes    Int16 COMMENT 'the UTC offset the source gave with the timestamp',
    tenant               LowCardinality(String),
    source_system        LowCardinality(String),
    source_id            String,
    source_collector     LowCardinality(String),
    category             LowCardinality(String),
    action               LowCardinality(String),
    outcome              LowCardinality(String),
    reason               LowCardinality(String),
    user_id              String,
    user_name            String,
    person_id            String,
    person_key           String COMMENT 'person_id, or user_id when unresolved: what person-level queries use',
    user_employee_id     String,
    user_role            LowCardinality(String),
    user_department      LowCardinality(String),
    user_type            LowCardinality(String),
    user_timezone        LowCardinality(String),
    client_ip            Nullable(IPv6),
    client_user_agent    String,
    client_device_id     String,
    client_session_id    String,
    client_access_method LowCardinality(String),
    geo_country          LowCardinality(String),
    geo_region           LowCardinality(String),
    geo_city             LowCardinality(String),
    geo_lat              Nullable(Float64),
    geo_lon              Nullable(Float64),
    object_type          LowCardinality(String),
    object_id            String,
    object_name          String,
    object_owner_id      String,
    changes              Array(Tuple(field String, old String, new String)),
    records              Nullable(UInt64),
    comment              String,
    related              Array(Tuple(type String, id String)),
    target_user_id       String,
    target_user_name     String,
    permission_name      LowCardinality(String),
    permission_scope     String,
    labels               Map(LowCardinality(String), String),
    ingested_at          DateTime64(3, 'UTC'),
    kafka_partition      Int32,
    kafka_offset         Int64,
    INDEX idx_id id TYPE bloom_filter(0.001) GRANULARITY 4,
    INDEX idx_object_id object_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 4,
    INDEX idx_client_ip client_ip TYPE bloom_filter(0.01) GRANULARITY 4
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, person_key, timestamp, id)
SETTINGS non_replicated_deduplication_window = 10000;
