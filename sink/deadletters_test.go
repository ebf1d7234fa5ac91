package sink

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trailwatch/trailwatch/compliance/tracking"
	"github.com/trailwatch/trailwatch/internal/deadletter"
	"github.com/trailwatch/trailwatch/internal/kafka"
)

// A record the sink cannot decode: the IP field holds a card number (the
// decoder quotes it into its error) and the comment an SSN and an e-mail.
var dirtyReject = []byte(`{"id":"x1","tenant":"acme","timestamp":"2026-11-03T09:00:00Z","client":{"ip":"4111 1111 1111 1111"},` +
	`"comment":"SSN 123-45-6789, write to jane@acme.example"}`)

// TestRejectsCarryNoPersonalData: with shadow_data on, a record the sink
// rejects goes to the dead-letter topic with the personal data in its
// bytes masked (same length) and a reason that names the field but not
// the value; with it off, the bytes go as they came.
func TestRejectsCarryNoPersonalData(t *testing.T) {
	for _, on := range []bool{true, false} {
		e := newEnv(t)
		cfg := DefaultConfig()
		cfg.ShadowData = on
		s := e.newSinkWith(t, Deps{}, cfg)
		tp := e.topics()
		if err := s.Handle(t.Context(), []kafka.Message{{Topic: tp.Activity, Partition: 0, Offset: 3, Value: dirtyReject, Time: baseTime}}); err != nil {
			t.Fatal(err)
		}
		dl := e.kafka.ReadTopic(t, tp.DeadLetter)
		if len(dl) != 1 {
			t.Fatalf("%d dead letters, want 1", len(dl))
		}
		rec, err := deadletter.Decode(dl[0].Value)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := rec.Bytes()
		if strings.Contains(rec.Reason, "4111") || rec.Field == "" || !strings.Contains(rec.Reason, rec.Field) {
			t.Errorf("shadow_data %v: reason %q, field %q", on, rec.Reason, rec.Field)
		}
		if !on {
			if !bytes.Equal(raw, dirtyReject) {
				t.Errorf("shadow_data off changed the bytes: %s", raw)
			}
			continue
		}
		if len(raw) != len(dirtyReject) || rec.RawSize != len(dirtyReject) {
			t.Errorf("masking changed the length: %d, %d", len(raw), rec.RawSize)
		}
		for _, pii := range []string{"4111 1111 1111 1111", "123-45-6789", "jane@"} {
			if bytes.Contains(raw, []byte(pii)) {
				t.Errorf("dead letter carries %q: %s", pii, raw)
			}
		}
		if !bytes.Contains(raw, []byte(`"ip":"**** **** **** 1111"`)) || !bytes.Contains(raw, []byte("j***@acme.example")) {
			t.Errorf("dead letter bytes: %s", raw)
		}
	}
}

// TestDeadLettersAreStored: records of the dead-letter topic land in
// dead_letters, one row each, with their stage, reason, field, origin and
// tenant (from the origin, else from the input), the input masked and
// cut to dead_letter_raw_bytes; a record that is not a dead-letter record
// is stored as unreadable, never dead-lettered again; a retried batch
// stores nothing twice.
func TestDeadLettersAreStored(t *testing.T) {
	e := newEnv(t)
	cfg := DefaultConfig()
	cfg.DeadLetterRawBytes = 64
	s := e.newSinkWith(t, Deps{}, cfg)
	tp := e.topics()
	at := baseTime.Add(time.Minute)
	ingestRec := deadletter.NewRecord("ingest", deadletter.Reject{
		Raw: []byte(`{"user":{"name":"jane@acme.example"},"note":"card 4111 1111 1111 1111"}`), Reason: `timestamp: "yesterday" is not RFC 3339`,
		Field: "timestamp", Origin: deadletter.Origin{Source: "crm", Collector: "http", Tenant: "globex"}, ReceivedAt: at,
	}, deadletter.MaxRaw, at)
	sinkRec := deadletter.NewRecord("sink", deadletter.Reject{Raw: dirtyReject, Reason: "decoding the event: client.ip: bad",
		Field: "client.ip", Origin: deadletter.FromKafka(tp.Activity, 2, 77), ReceivedAt: at}, deadletter.MaxRaw, at)
	long := strings.Repeat("é", 40) // 80 bytes: cut on a character boundary
	longRec := deadletter.NewRecord("detect", deadletter.Reject{Raw: []byte(long), Reason: "r"}, deadletter.MaxRaw, at)
	msg := func(off int64, v any) kafka.Message {
		b, _ := json.Marshal(v)
		return kafka.Message{Topic: tp.DeadLetter, Partition: 1, Offset: off, Value: b, Time: at.Add(time.Second)}
	}
	msgs := []kafka.Message{msg(0, ingestRec), msg(1, sinkRec), msg(2, longRec),
		{Topic: tp.DeadLetter, Partition: 1, Offset: 3, Value: []byte("SSN 123-45-6789 and junk"), Time: at}}
	for range 2 {
		if err := s.Handle(t.Context(), msgs); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.count(t, "SELECT count() FROM dead_letters"); n != 4 {
		t.Errorf("dead_letters holds %d rows, want 4 (the retry deduplicated)", n)
	}
	rows, err := e.st.Query(t.Context(), `SELECT kafka_offset, tenant, stage, reason, field, origin_topic, origin_partition, origin_offset,
		raw, raw_size, raw_truncated FROM dead_letters ORDER BY kafka_offset`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var off, ooff int64
		var tenant, stage, reason, field, otopic, raw string
		var opart int32
		var size uint64
		var cut bool
		if err := rows.Scan(&off, &tenant, &stage, &reason, &field, &otopic, &opart, &ooff, &raw, &size, &cut); err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.Join([]string{tenant, stage, reason, field, otopic, itoa(int64(opart)), itoa(ooff), raw, itoa(int64(size)), boolStr(cut)}, "|"))
	}
	want := []string{
		`globex|ingest|timestamp: "…" is not RFC 3339|timestamp||-1|-1|{"user":{"name":"j***@acme.example"},"note":"card **** **** ****|71|true`, // masked before the cut
		`acme|sink|decoding the event: client.ip: bad|client.ip|` + tp.Activity + `|2|77|{"id":"x1","tenant":"acme","timestamp":"2026-11-03T09:00:00Z","c|` + itoa(int64(len(dirtyReject))) + `|true`,
		`|detect|r|||-1|-1|` + strings.Repeat("é", 32) + `|80|true`,
		`|unreadable|not a dead-letter record: decoding dead-letter record: invalid character 'S' looking for beginning of value|||-1|-1|SSN ***-**-6789 and junk|24|false`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("dead_letters rows:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if n := e.count(t, "SELECT count() FROM dead_letters WHERE length(raw_sha256) != 64"); n != 0 {
		t.Errorf("%d rows without the input's SHA-256", n)
	}
	if dl := e.kafka.ReadTopic(t, tp.DeadLetter); len(dl) != 0 {
		t.Errorf("the sink dead-lettered %d records of the dead-letter topic", len(dl))
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func boolStr(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

// TestDeadLettersKeepTheFieldPolicy: with a tracking policy that masks a
// field, a rejected event's stored bytes have that field masked, and
// bytes the policy cannot be applied to (here a vendor record) are not
// stored at all; nothing of either value reaches ClickHouse.
func TestDeadLettersKeepTheFieldPolicy(t *testing.T) {
	e := newEnv(t)
	cfg := DefaultConfig()
	cfg.Tracking = tracking.Config{Policies: []tracking.Policy{{Tenant: "acme",
		Sensitive: []tracking.Sensitive{{Field: "TaxId__c", Mask: "last", Keep: 2}}}}}
	s := e.newSinkWith(t, Deps{}, cfg)
	tp := e.topics()
	at := baseTime.Add(time.Minute)
	event := deadletter.NewRecord("sink", deadletter.Reject{
		Raw:    []byte(`{"id":"x","tenant":"acme","event":{"category":"data_change"},"timestamp":"bad","changes":[{"field":"TaxId__c","old":"987654321","new":"123456789"}]}`),
		Reason: "timestamp: bad", Origin: deadletter.FromKafka(tp.Activity, 0, 5), ReceivedAt: at}, deadletter.MaxRaw, at)
	vendor := deadletter.NewRecord("ingest", deadletter.Reject{
		Raw:    []byte(`{"Field":"TaxId__c","OldValue":"987654321","NewValue":"123456789"}`),
		Reason: "no CreatedDate", Origin: deadletter.Origin{Source: "salesforce-fieldhistory", Tenant: "acme"}, ReceivedAt: at}, deadletter.MaxRaw, at)
	msgs := []kafka.Message{}
	for i, rec := range []any{event, vendor} {
		b, _ := json.Marshal(rec)
		msgs = append(msgs, kafka.Message{Topic: tp.DeadLetter, Partition: 0, Offset: int64(i), Value: b, Time: at})
	}
	if err := s.Handle(t.Context(), msgs); err != nil {
		t.Fatal(err)
	}
	if n := e.count(t, "SELECT count() FROM dead_letters"); n != 2 {
		t.Fatalf("dead_letters holds %d rows, want 2", n)
	}
	if n := e.count(t, "SELECT count() FROM dead_letters WHERE raw LIKE '%987654321%' OR raw LIKE '%123456789%'"); n != 0 {
		t.Errorf("%d dead letters hold the masked field's value", n)
	}
	if n := e.count(t, `SELECT count() FROM dead_letters WHERE kafka_offset = 0 AND raw LIKE '%"old":"****21"%' AND raw LIKE '%"new":"****89"%'`); n != 1 {
		t.Error("the rejected event's bytes are not stored with the field masked as stored events have it")
	}
	if n := e.count(t, "SELECT count() FROM dead_letters WHERE kafka_offset = 1 AND raw = '' AND raw_truncated AND raw_size > 0 AND length(raw_sha256) = 64"); n != 1 {
		t.Error("the vendor record's bytes are stored although the policy cannot be applied to them")
	}
}
