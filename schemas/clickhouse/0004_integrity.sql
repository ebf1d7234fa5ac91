-- Tamper evidence for audit_events (docs/STORAGE.md, "Tamper evidence").
--
-- Per tenant and crm.activity partition, the stored rows form a hash chain
-- in offset order: head(n) = SHA-256(head(n-1) || offset || row hash), from
-- 32 zero bytes. Hashes are hex here, for people reading them.

-- The chain's state after each batch the sink wrote, written before the
-- batch's rows: a sink that takes over a partition resumes the chain from
-- the last head before the first offset it is handed. The chain is a
-- function of the Kafka log alone, so a head written for a batch that was
-- then delivered again describes the same rows. Kept briefly (retention).
CREATE TABLE IF NOT EXISTS integrity_heads
(
    tenant          LowCardinality(String),
    kafka_partition Int32,
    kafka_offset    Int64 COMMENT 'offset of the last row of the tenant in the partition the head covers',
    head            String,
    rows            UInt64 COMMENT 'rows chained since the start of the chain',
    cp_offset       Int64 COMMENT 'offset of the checkpoint this state extends, -1 for none',
    cp_head         String,
    cp_rows         UInt64,
    seg_ts_min      DateTime64(3, 'UTC') COMMENT 'earliest event time among the rows since that checkpoint',
    seg_ts_max      DateTime64(3, 'UTC'),
    written_at      DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, kafka_partition, kafka_offset)
SETTINGS non_replicated_deduplication_window = 1000;

-- Signed checkpoints: the chain head at an offset, and the checkpoint it
-- extends (prev_*), so each checkpoint vouches for the rows in
-- (prev_offset, kafka_offset] on its own. The signature is Ed25519 over
-- the canonical encoding in sink/integrity (Checkpoint.Payload); key_id is
-- the first 8 bytes of the SHA-256 of the public key, in hex.
CREATE TABLE IF NOT EXISTS integrity_checkpoints
(
    tenant          LowCardinality(String),
    kafka_partition Int32,
    kafka_offset    Int64,
    head            String,
    rows            UInt64,
    prev_offset     Int64,
    prev_head       String,
    prev_rows       UInt64,
    ts_min          DateTime64(3, 'UTC') COMMENT 'earliest event time among the rows in (prev_offset, kafka_offset]',
    ts_max          DateTime64(3, 'UTC'),
    signed_at       DateTime64(3, 'UTC'),
    key_id          LowCardinality(String),
    signature       String COMMENT 'hex'
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, kafka_partition, kafka_offset, prev_offset)
SETTINGS non_replicated_deduplication_window = 1000;
