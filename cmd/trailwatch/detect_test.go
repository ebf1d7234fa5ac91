package main

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/trailwatch/trailwatch/internal/kafka"
	"github.com/trailwatch/trailwatch/internal/testenv"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// TestDetectRole runs the detect role as `trailwatch detect` does, with
// the shipped rules, and sees a self-granted privilege become an alert.
func TestDetectRole(t *testing.T) {
	env := testenv.Kafka(t)
	cfg := defaultConfig()
	cfg.Kafka = env.Config
	cfg.Detect.Rules = "../../rules"
	cfg.Detect.CommitInterval = 50 * time.Millisecond
	cfg.Metrics.Listen = "127.0.0.1:0"

	ev := fmt.Sprintf(`{"id":"g1","timestamp":%q,"tenant":"acme","source":{"system":"salesforce"},`+
		`"event":{"category":"permission","action":"grant","outcome":"success"},"user":{"id":"005D","name":"m@acme.example"},`+
		`"target_user":{"id":"005D"},"permission":{"name":"Modify_All_Data"}}`, alert.FormatTime(time.Now()))
	p, err := kafka.NewProducer(env.Config, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Produce(t.Context(), kafka.Message{Topic: env.Config.Topics.Activity.Name, Key: []byte("acme\x00005D"), Value: []byte(ev)}); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- runRoles(ctx, cfg, testenv.Logger(t), map[string]role{"detect": runDetect}) }()
	deadline := time.Now().Add(time.Minute)
	var got []alert.Alert
	for len(got) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		for _, m := range env.ReadTopic(t, env.Config.Topics.Alerts.Name) {
			var a alert.Alert
			if err := json.Unmarshal(m.Value, &a); err != nil {
				t.Fatal(err)
			}
			got = append(got, a)
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	found := false
	for _, a := range got {
		found = found || a.Rule.ID == "perm.self_granted_privilege" && a.EventIDs[0] == "g1" && !a.DetectedAt.Equal(a.TriggeredAt)
	}
	if !found {
		t.Fatalf("no self-granted privilege alert among %+v", got)
	}
}
