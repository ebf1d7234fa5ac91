package stream

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trailwatch/trailwatch/internal/telemetry"
	"github.com/trailwatch/trailwatch/schemas/alert"
)

// metrics are the loop's own; the executor's (actions, vendor calls,
// retries, breaker trips, pages) are registered by respond.New on the same
// registry.
type metrics struct {
	records   *prometheus.CounterVec
	errors    prometheus.Counter
	misrouted prometheus.Counter
	awaiting  prometheus.Gauge
	catchUp   prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	m := &metrics{}
	var errs [5]error
	m.records, errs[0] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_respond_records_total",
		Help: "Records read from the actions topic live (not during catch-up), by status; invalid ones went to the dead-letter topic.",
	}, []string{"status"}))
	m.errors, errs[1] = telemetry.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "trailwatch_respond_handle_errors_total",
		Help: "Times handling a record failed (Kafka did not acknowledge a status record, a vendor call was interrupted) and the record was tried again.",
	}))
	m.misrouted, errs[2] = telemetry.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "trailwatch_respond_misrouted_records_total",
		Help: "Records whose Kafka key is not their tenant: their status records may land in another partition, and a restarted responder may not see them.",
	}))
	m.awaiting, errs[3] = telemetry.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "trailwatch_respond_awaiting_approval",
		Help: "Actions waiting for a human's approval, over the partitions this process owns.",
	}))
	m.catchUp, errs[4] = telemetry.Register(reg, prometheus.NewCounter(prometheus.CounterOpts{
		Name: "trailwatch_respond_catchup_records_total",
		Help: "Records read on partition assignment to rebuild the history (observed, not acted on one by one).",
	}))
	return m, errors.Join(errs[:]...)
}

// statusLabel keeps the status label bounded.
func statusLabel(s string) string {
	switch s {
	case alert.StatusRequested, alert.StatusDone, alert.StatusFailed, alert.StatusSkipped, alert.StatusAwaitingApproval,
		alert.StatusExecuting, alert.StatusApproved, alert.StatusRejected:
		return s
	}
	return "invalid"
}
