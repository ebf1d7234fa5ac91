package kafka_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
)

func TestScanReadsWhatTheTopicHolds(t *testing.T) {
	env := testenv.Kafka(t)
	topic := env.Config.Topics.Actions.Name
	p, err := kafka.NewProducer(env.Config, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	now := time.Now().Truncate(time.Millisecond)
	var msgs []kafka.Message
	for i := range 40 {
		at := now.Add(-2 * time.Hour) // the first half is old
		if i >= 20 {
			at = now
		}
		msgs = append(msgs, kafka.Message{Topic: topic, Key: fmt.Appendf(nil, "k%d", i%7), Value: fmt.Appendf(nil, "v%d", i), Time: at})
	}
	if err := p.Produce(t.Context(), msgs...); err != nil {
		t.Fatal(err)
	}

	scan := func(since time.Time) []string {
		t.Helper()
		var got []string
		last := map[int]int64{}
		err := kafka.Scan(t.Context(), env.Config, topic, since, func(m kafka.Message) error {
			if o, ok := last[m.Partition]; ok && m.Offset <= o {
				t.Errorf("partition %d: offset %d after %d", m.Partition, m.Offset, o)
			}
			last[m.Partition] = m.Offset
			got = append(got, string(m.Value))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(got)
		return got
	}
	var all, recent []string
	for i := range 40 {
		all = append(all, fmt.Sprintf("v%d", i))
		if i >= 20 {
			recent = append(recent, fmt.Sprintf("v%d", i))
		}
	}
	slices.Sort(all)
	slices.Sort(recent)
	if got := scan(time.Time{}); !slices.Equal(got, all) {
		t.Fatalf("scan from the start: %v, want %v", got, all)
	}
	if got := scan(now.Add(-time.Hour)); !slices.Equal(got, recent) {
		t.Fatalf("scan of the last hour: %v, want %v", got, recent)
	}
	if got := scan(now.Add(time.Hour)); len(got) != 0 {
		t.Fatalf("scan from the future: %v", got)
	}

	stop := errors.New("enough")
	n := 0
	err = kafka.Scan(t.Context(), env.Config, topic, time.Time{}, func(kafka.Message) error {
		n++
		if n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Fatalf("an error from fn must stop the scan: err %v after %d messages", err, n)
	}
	if err := kafka.Scan(t.Context(), env.Config, "no-such-topic", time.Time{}, func(kafka.Message) error { return nil }); err == nil {
		t.Fatal("scanning a missing topic succeeded")
	}
}
