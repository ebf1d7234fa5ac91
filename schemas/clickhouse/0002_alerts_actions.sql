-- Alerts from crm.alerts (shared/contracts/alert.md). Alert ids are
-- deterministic: a detector that replays after a restart emits the same
-- alert again with the same id, at a new Kafka position. The sorting key
-- ends with the id and holds nothing that differs between such copies, so
-- ReplacingMergeTree folds them; until a merge, read with FINAL or
-- LIMIT 1 BY id.
CREATE TABLE IF NOT EXISTS alerts
(
    id              String,
    tenant          LowCardinality(String),
    rule_id         LowCardinality(String),
    rule_version    LowCardinality(String),
    rule_title      String,
    severity        LowCardinality(String),
    rule_tags       Array(LowCardinality(String)),
    group_keys      Array(LowCardinality(String)),
    group_values    Array(String),
    subject         String COMMENT 'the account the alert is about: group person, else user.id, else user.name, else empty',
    window_start    DateTime64(3, 'UTC'),
    window_end      DateTime64(3, 'UTC'),
    triggered_at    DateTime64(3, 'UTC'),
    detected_at     DateTime64(3, 'UTC'),
    event_ids       Array(String),
    summary         String,
    values_json     String COMMENT 'the alert values object as JSON',
    action_ids      Array(String),
    ingested_at     DateTime64(3, 'UTC'),
    kafka_partition Int32,
    kafka_offset    Int64,
    group_map Map(String, String) ALIAS mapFromArrays(group_keys, group_values),
    INDEX idx_id id TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_subject subject TYPE bloom_filter(0.01) GRANULARITY 1
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(triggered_at)
ORDER BY (tenant, rule_id, triggered_at, id)
SETTINGS non_replicated_deduplication_window = 1000;

-- Which rules alerted on which events: one row per (alert, evidence
-- event), fed from alerts as they are inserted. Alerts arrive after their
-- events, so this is a join table rather than a column of audit_events
-- (which is never updated). Read the rule ids of events with
--   SELECT event_id, groupUniqArray(rule_id) FROM alert_event_hits
--   WHERE tenant = {tenant:String} AND event_id IN (…) GROUP BY event_id
CREATE TABLE IF NOT EXISTS alert_event_hits
(
    tenant       LowCardinality(String),
    event_id     String,
    rule_id      LowCardinality(String),
    severity     LowCardinality(String),
    alert_id     String,
    triggered_at DateTime64(3, 'UTC')
)
ENGINE = ReplacingMergeTree
PARTITION BY toYYYYMM(triggered_at)
ORDER BY (tenant, event_id, rule_id, alert_id)
SETTINGS non_replicated_deduplication_window = 1000;

CREATE MATERIALIZED VIEW IF NOT EXISTS alert_event_hits_mv TO alert_event_hits AS
SELECT tenant, arrayJoin(event_ids) AS event_id, rule_id, severity, id AS alert_id, triggered_at
FROM alerts;

-- Actions from crm.actions: the request and every status record the
-- responder appends under the same id (requested, executing, done, …).
-- Every record is kept; a copy of the same record delivered again folds
-- into it (same id, time, status and actor). recorded_at is the record's
-- own time: recorded_at, else completed_at, else requested_at.
CREATE TABLE IF NOT EXISTS actions
(
    id              String,
    tenant          LowCardinality(String),
    type            LowCardinality(String),
    alert_id        String,
    target          String,
    target_name     String,
    target_type     LowCardinality(String),
    mode            LowCardinality(String),
    status          LowCardinality(String),
    requested_at    DateTime64(3, 'UTC'),
    completed_at    Nullable(DateTime64(3, 'UTC')),
    recorded_at     DateTime64(3, 'UTC'),
    error           String,
    rule_id         LowCardinality(String),
    rule_version    LowCardinality(String),
    severity        LowCardinality(String),
    summary         String,
    actor           String,
    attempt         UInt32,
    detail          String,
    undoes          String,
    ingested_at     DateTime64(3, 'UTC'),
    kafka_partition Int32,
    kafka_offset    Int64
)
ENGINE = ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(requested_at)
ORDER BY (tenant, id, recorded_at, status, actor)
SETTINGS non_replicated_deduplication_window = 1000;

-- The current status of each action: its latest status record. Records
-- with the same time are ordered by how far along the lifecycle their
-- status is, then by Kafka position.
CREATE VIEW IF NOT EXISTS actions_current AS
SELECT tenant, id, type, alert_id, target, mode, latest.1 AS status, latest.2 AS error,
       requested_at, updated_at, records
FROM
(
    SELECT
        tenant,
        id,
        any(type) AS type,
        any(alert_id) AS alert_id,
        any(target) AS target,
        any(mode) AS mode,
        argMax(tuple(status, error), (recorded_at,
            indexOf(['requested', 'awaiting_approval', 'approved', 'rejected', 'executing', 'done', 'failed', 'skipped'], status),
            kafka_partition, kafka_offset)) AS latest,
        min(requested_at) AS requested_at,
        max(recorded_at) AS updated_at,
        count() AS records
    FROM actions FINAL
    GROUP BY tenant, id
);
