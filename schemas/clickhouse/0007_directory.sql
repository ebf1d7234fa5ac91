-- Directory snapshots with their history (docs/IDENTITY.md): every import
-- of `trailwatch identity import` that changed something is one snapshot,
-- kept whole, so "who was in which department, with which accounts, on
-- 3 November" is a query, and the posture findings (ghost, dormant and
-- shared accounts) read who has left and since when.
--
-- directory_snapshots is the commit record: the importer inserts a
-- snapshot's people first and its row here last, so a snapshot without a
-- row here is an interrupted import that nothing reads. Both tables are
-- ReplacingMergeTree on their natural keys: an import retried after a
-- failure writes the same rows again, which merge away.
CREATE TABLE IF NOT EXISTS directory_snapshots
(
    tenant      LowCardinality(String),
    snapshot_id String COMMENT 'digest prefix and import time: unique per import',
    imported_at DateTime64(3, 'UTC'),
    digest      String COMMENT 'SHA-256 of the canonical content: equal digests, equal directories',
    source_file String,
    format      LowCardinality(String),
    people      UInt32,
    joiners     UInt32,
    leavers     UInt32,
    moves       UInt32
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, imported_at, snapshot_id);

CREATE TABLE IF NOT EXISTS directory_people
(
    tenant       LowCardinality(String),
    snapshot_id  String,
    imported_at  DateTime64(3, 'UTC'),
    person_id    String,
    given_name   String,
    family_name  String,
    display_name String,
    emails       Array(String),
    employee_id  String,
    department   LowCardinality(String),
    role         LowCardinality(String),
    manager      String COMMENT 'the manager''s person_id',
    timezone     LowCardinality(String),
    status       LowCardinality(String) COMMENT 'active, on_leave or left',
    status_date  Nullable(Date) COMMENT 'since when on leave, or the leaving date',
    type         LowCardinality(String) COMMENT 'person or integration',
    owner        String COMMENT 'for integrations: the owning person_id',
    accounts     Array(String) COMMENT 'system:id, e.g. salesforce:005xx000001Sv6d'
)
ENGINE = ReplacingMergeTree
ORDER BY (tenant, snapshot_id, person_id);

-- The people of each tenant's newest snapshot: what the directory says now.
CREATE VIEW IF NOT EXISTS directory_people_latest AS
SELECT p.*
FROM directory_people AS p
WHERE (p.tenant, p.snapshot_id) IN (
    SELECT tenant, argMax(snapshot_id, imported_at) FROM directory_snapshots GROUP BY tenant
);
