-- Dead letters: what a stage rejected (internal/deadletter), read by the
-- sink from the dead-letter topic, so audit-trail health can count
-- rejected events by reason and stage (sink/queries/rejected-by-reason.sql)
-- instead of leaving them in a topic nobody reads. One row per dead-letter
-- record. The raw input is stored masked (compliance/shadow.MaskRaw: card
-- numbers, SSNs, IBANs, passport numbers, e-mail addresses and phone
-- numbers anywhere in it) and cut to sink.dead_letter_raw_bytes; raw_size
-- and raw_sha256 describe the input as the dead-letter record carried it.
-- The reason never quotes the rejected value (deadletter.RedactReason).
--
-- A sink that re-reads a record after a restart inserts it again at the
-- same topic position, which is the end of the sorting key: the
-- ReplacingMergeTree folds the copies; until a merge, read with FINAL or
-- LIMIT 1 BY (kafka_partition, kafka_offset).
CREATE TABLE IF NOT EXISTS dead_letters
(
    tenant           LowCardinality(String) COMMENT 'origin.tenant, else the tenant field of the rejected input when it is a JSON object, else empty',
    stage            LowCardinality(String) COMMENT 'the stage that rejected it: ingest, detect, sink, respond; unreadable when the record itself was not a dead-letter record',
    reason           String COMMENT 'why, for a person; quoted values replaced by …',
    field            String COMMENT 'JSON path of the field to blame, if one is',
    source           LowCardinality(String),
    collector        LowCardinality(String),
    origin_topic     LowCardinality(String),
    origin_partition Int32 COMMENT '-1 when the input did not come from Kafka',
    origin_offset    Int64 COMMENT '-1 when the input did not come from Kafka',
    origin_file      String,
    origin_line      UInt32,
    received_at      DateTime64(3, 'UTC') COMMENT 'when the stage received the input',
    raw_size         UInt64 COMMENT 'bytes in the complete input',
    raw_sha256       String,
    raw              String COMMENT 'the input, masked, at most sink.dead_letter_raw_bytes bytes',
    raw_truncated    Bool,
    ingested_at      DateTime64(3, 'UTC') COMMENT 'Kafka time of the dead-letter record',
    kafka_partition  Int32 COMMENT 'position of the record in the dead-letter topic',
    kafka_offset     Int64
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(received_at)
ORDER BY (tenant, received_at, kafka_partition, kafka_offset)
SETTINGS non_replicated_deduplication_window = 1000;
