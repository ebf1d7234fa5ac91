package sink

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// decodeAlert decodes a crm.alerts record; one without an id, tenant,
// rule id or trigger time cannot be stored meaningfully and is
// dead-lettered.
func (s *Sink) decodeAlert(b *batch, m *kafka.Message) {
	var a alert.Alert
	if err := json.Unmarshal(m.Value, &a); err != nil {
		b.reject(m, "decoding the alert: "+err.Error(), "")
		return
	}
	if err := checkRequired(map[string]bool{"id": a.ID != "", "tenant": a.Tenant != "", "rule.id": a.Rule.ID != "", "triggered_at": !a.TriggeredAt.IsZero()}); err != nil {
		b.reject(m, "alert "+err.Error(), "")
		return
	}
	b.alerts = append(b.alerts, alertRec{a: a, partition: int32(m.Partition), offset: m.Offset, ingested: m.Time})
}

// decodeAction decodes a crm.actions record (a request or a status
// record).
func (s *Sink) decodeAction(b *batch, m *kafka.Message) {
	var a alert.Action
	if err := json.Unmarshal(m.Value, &a); err != nil {
		b.reject(m, "decoding the action: "+err.Error(), "")
		return
	}
	if err := checkRequired(map[string]bool{"id": a.ID != "", "tenant": a.Tenant != "", "type": a.Type != "", "status": a.Status != "", "requested_at": !a.RequestedAt.IsZero()}); err != nil {
		b.reject(m, "action "+err.Error(), "")
		return
	}
	b.actions = append(b.actions, actionRec{a: a, partition: int32(m.Partition), offset: m.Offset, ingested: m.Time})
}

func checkRequired(present map[string]bool) error {
	var missing []string
	for f, ok := range present {
		if !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	return fmt.Errorf("is missing %v", missing)
}

// Subject is the account an alert is about, from its group: the person,
// else the account id, else the login name; empty for alerts grouped by
// something else (a record).
func Subject(group map[string]string) string {
	for _, k := range [...]string{"person", "user.person_id", "user.id", "user.name"} {
		if v := group[k]; v != "" {
			return v
		}
	}
	return ""
}

func (s *Sink) insertAlerts(ctx context.Context, recs []alertRec, token string) error {
	if len(recs) == 0 {
		return nil
	}
	start := time.Now()
	b, err := s.st.PrepareBatch(insertSettings(ctx, token), `INSERT INTO alerts (id, tenant, rule_id, rule_version, rule_title,
		severity, rule_tags, group_keys, group_values, subject, window_start, window_end, triggered_at, detected_at,
		event_ids, summary, values_json, action_ids, ingested_at, kafka_partition, kafka_offset, rollup_skip)`)
	if err != nil {
		return fmt.Errorf("preparing the alerts insert: %w", err)
	}
	for _, r := range recs {
		a := &r.a
		keys := make([]string, 0, len(a.Group))
		for k := range a.Group {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		vals := make([]string, len(keys))
		for i, k := range keys {
			vals[i] = a.Group[k]
		}
		values, err := json.Marshal(a.Values)
		if err != nil {
			values = []byte("{}")
		}
		if err := b.Append(a.ID, a.Tenant, a.Rule.ID, a.Rule.Version, a.Rule.Title, a.Rule.Severity, nonNil(a.Rule.Tags),
			keys, vals, Subject(a.Group), a.WindowStart.UTC(), a.WindowEnd.UTC(), a.TriggeredAt.UTC(), a.DetectedAt.UTC(),
			nonNil(a.EventIDs), a.Summary, string(values), nonNil(a.Actions), r.ingested.UTC(), r.partition, r.offset, r.skip); err != nil {
			_ = b.Abort()
			return fmt.Errorf("alert %s: %w", a.ID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("inserting %d alerts: %w", len(recs), err)
	}
	s.m.insertTime.WithLabelValues("alerts").Observe(time.Since(start).Seconds())
	s.m.rows.WithLabelValues("alerts").Add(float64(len(recs)))
	return nil
}

func (s *Sink) insertActions(ctx context.Context, recs []actionRec, token string) error {
	if len(recs) == 0 {
		return nil
	}
	start := time.Now()
	b, err := s.st.PrepareBatch(insertSettings(ctx, token), `INSERT INTO actions (id, tenant, type, alert_id, target, target_name,
		target_type, mode, status, requested_at, completed_at, recorded_at, error, rule_id, rule_version, severity, summary,
		actor, attempt, detail, undoes, ingested_at, kafka_partition, kafka_offset)`)
	if err != nil {
		return fmt.Errorf("preparing the actions insert: %w", err)
	}
	for _, r := range recs {
		a := &r.a
		var completed *time.Time
		if a.CompletedAt != nil {
			t := a.CompletedAt.UTC()
			completed = &t
		}
		recorded := a.RequestedAt
		if a.RecordedAt != nil {
			recorded = *a.RecordedAt
		} else if a.CompletedAt != nil {
			recorded = *a.CompletedAt
		}
		if err := b.Append(a.ID, a.Tenant, a.Type, a.AlertID, a.Target, a.TargetName, a.TargetType, a.Mode, a.Status,
			a.RequestedAt.UTC(), completed, recorded.UTC(), a.Error, a.RuleID, a.RuleVersion, a.Severity, a.Summary,
			a.Actor, uint32(max(a.Attempt, 0)), a.Detail, a.Undoes, r.ingested.UTC(), r.partition, r.offset); err != nil {
			_ = b.Abort()
			return fmt.Errorf("action %s: %w", a.ID, err)
		}
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("inserting %d action records: %w", len(recs), err)
	}
	s.m.insertTime.WithLabelValues("actions").Observe(time.Since(start).Seconds())
	s.m.rows.WithLabelValues("actions").Add(float64(len(recs)))
	return nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// BatchToken names an insert by what it stores and the Kafka positions it
// covers: the table, and per partition the first and last offset. A batch
// retried after a lost acknowledgement carries the same token, and
// ClickHouse drops it.
func BatchToken(table string, ranges map[int32][2]int64) string {
	parts := make([]int32, 0, len(ranges))
	for p := range ranges {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	h := sha256.New()
	h.Write([]byte(table))
	for _, p := range parts {
		r := ranges[p]
		h.Write([]byte("|" + strconv.Itoa(int(p)) + ":" + strconv.FormatInt(r[0], 10) + "-" + strconv.FormatInt(r[1], 10)))
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
