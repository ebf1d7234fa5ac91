package respond

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/respond/adapter"
)

// metrics are the responder's; every label comes from a bounded set (action
// types it knows, results, configured adapters and tenants).
type metrics struct {
	actions      *prometheus.CounterVec
	vendorCall   *prometheus.HistogramVec
	retries      *prometheus.CounterVec
	breakerTrips *prometheus.CounterVec
	pages        *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_respond_actions_total",
			Help: "Actions handled, by type and result (done, failed, skipped, dry_run, awaiting_approval, duplicate).",
		}, []string{"type", "result"}),
		vendorCall: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "trailwatch_respond_vendor_call_seconds",
			Help:    "Latency of single vendor calls, by adapter, operation and outcome (ok, or the error kind).",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}, []string{"adapter", "op", "outcome"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_respond_vendor_retries_total",
			Help: "Vendor calls retried after a retryable failure, by adapter and operation.",
		}, []string{"adapter", "op"}),
		breakerTrips: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_respond_breaker_trips_total",
			Help: "Times a tenant's circuit breaker opened.",
		}, []string{"tenant"}),
		pages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_respond_pages_total",
			Help: "Notifications the responder sent on-call itself, by reason (failed, approval, breaker) and result (sent, failed).",
		}, []string{"reason", "result"}),
	}
	// The Kafka loop runs one executor per assigned partition and
	// `trailwatch run` shares one registry between roles: executors count
	// into the same series.
	var errs [5]error
	m.actions, errs[0] = telemetry.Register(reg, m.actions)
	m.vendorCall, errs[1] = telemetry.Register(reg, m.vendorCall)
	m.retries, errs[2] = telemetry.Register(reg, m.retries)
	m.breakerTrips, errs[3] = telemetry.Register(reg, m.breakerTrips)
	m.pages, errs[4] = telemetry.Register(reg, m.pages)
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return m, nil
}

// typeLabel keeps the type label bounded: unknown types count as other.
func typeLabel(t string) string {
	switch t {
	case TypeFreeze, TypeUnfreeze, TypeNotify, TypeWebhook:
		return t
	}
	return "other"
}

func outcomeLabel(err error) string {
	if err == nil {
		return "ok"
	}
	return adapter.KindOf(err).String()
}
