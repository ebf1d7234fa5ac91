-- Every canonical event (shared/contracts/event.md) as the sink stored it:
-- one row per position in the crm.activity log (Kafka partition, offset).
--
-- Why the log position and not the event id is the unit of storage: the
-- table is tamper-evident (docs/STORAGE.md, "Tamper evidence"). Per tenant
-- and partition, rows form a hash chain in offset order (row_fp, chain_gap),
-- anchored by signed checkpoints; a row that vanished in a merge would look
-- exactly like a deleted one. So ReplacingMergeTree folds only copies of
-- the same log position (a batch delivered again after a crash or a
-- rebalance: the sink writes identical values, chain included), and the
-- sink's insert_deduplication_token drops a retried batch at insert time.
-- The same event id at two log positions (a collector sent it twice) stays
-- twice in storage, as the log has it; readers deduplicate by id with
-- `LIMIT 1 BY id` (or uniqExact(id) / count(DISTINCT id) when counting).
--
-- Arrays of plain values stand for changes, related records and labels
-- (the sink appends them column by column, fast); the ALIAS columns give
-- the contract's shapes to queries.
CREATE TABLE IF NOT EXISTS audit_events
(
    id                   String,
    timestamp            DateTime64(3, 'UTC') COMMENT 'when it happened, in UTC',
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
    user_type            LowCardinality(String) COMMENT 'human when the source said nothing',
    user_timezone        LowCardinality(String),
    client_ip            Nullable(IPv6) COMMENT 'IPv4 as ::ffff:a.b.c.d',
    client_user_agent    String,
    client_device_id     String,
    client_session_id    String,
    client_access_method LowCardinality(String),
    geo_country          LowCardinality(String),
    geo_region           LowCardinality(String),
    geo_city             LowCardinality(String),
    geo_lat              Nullable(Float64),
    geo_lon              Nullable(Float64),
    geo_enriched         Bool COMMENT 'geo_* came from the MaxMind database because the source gave none',
    object_type          LowCardinality(String),
    object_id            String,
    object_name          String,
    object_owner_id      String,
    change_field         Array(LowCardinality(String)),
    change_old           Array(String),
    change_new           Array(String),
    records              Nullable(UInt64),
    comment              String,
    related_type         Array(LowCardinality(String)),
    related_id           Array(String),
    target_user_id       String,
    target_user_name     String,
    permission_name      LowCardinality(String),
    permission_scope     String,
    label_keys           Array(LowCardinality(String)),
    label_values         Array(String),
    -- Enrichment from the directory file (derived data, not covered by the
    -- hash chain: it can be recomputed, and a redelivered row may carry a
    -- newer directory's values).
    dir_role             LowCardinality(String),
    dir_department       LowCardinality(String),
    dir_manager          String,
    -- Where the row came from.
    ingested_at          DateTime64(3, 'UTC') COMMENT 'Kafka timestamp of the message: when ingest published it',
    kafka_partition      Int32,
    kafka_offset         Int64,
    -- Tamper evidence (docs/STORAGE.md).
    row_fp               UInt64 COMMENT 'first 8 bytes of the row hash, to pinpoint a changed row',
    chain_gap            UInt64 COMMENT 'kafka_offset minus the offset of the previous row of this tenant in this partition (offset + 1 for the first)',
    -- The contract's shapes, computed when read.
    changes Array(Tuple(field String, old String, new String)) ALIAS
        CAST(arrayZip(change_field, change_old, change_new), 'Array(Tuple(field String, old String, new String))'),
    related Array(Tuple(type String, id String)) ALIAS
        CAST(arrayZip(related_type, related_id), 'Array(Tuple(type String, id String))'),
    labels Map(String, String) ALIAS mapFromArrays(label_keys, label_values),
    INDEX idx_id id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_object_id object_id TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_user_id user_id TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_client_ip client_ip TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_offset kafka_offset TYPE minmax GRANULARITY 1
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(timestamp)
ORDER BY (tenant, person_key, timestamp, kafka_partition, kafka_offset)
SETTINGS non_replicated_deduplication_window = 1000;
