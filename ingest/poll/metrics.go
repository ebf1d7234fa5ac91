package poll

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailwatch/trailwatch/internal/telemetry"
)

type metrics struct {
	requests  *prometheus.CounterVec
	waited    *prometheus.CounterVec
	refreshes *prometheus.CounterVec
	cursor    *prometheus.GaugeVec
	failures  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	var m metrics
	var errs [5]error
	m.requests, errs[0] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_ingest_poll_requests_total",
		Help: "Vendor API requests of the pollers, by source and result (ok, rate_limited, unauthorized, auth_error, error).",
	}, []string{"source", "result"}))
	m.waited, errs[1] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_ingest_poll_rate_limit_wait_seconds_total",
		Help: "Time the pollers waited on vendor rate limits, by source.",
	}, []string{"source"}))
	m.refreshes, errs[2] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_ingest_poll_token_refreshes_total",
		Help: "OAuth access tokens obtained by the pollers, by source.",
	}, []string{"source"}))
	m.cursor, errs[3] = telemetry.Register(reg, prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "trailwatch_ingest_poll_cursor_timestamp_seconds",
		Help: "Where each poller's cursor stands in time (HubSpot: window start; Salesforce: CreatedDate of the last file read); time() minus it is its lag.",
	}, []string{"source"}))
	m.failures, errs[4] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_ingest_poll_failures_total",
		Help: "Polls that stopped on an error (retried at the next interval from the saved cursor), by source.",
	}, []string{"source"}))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return &m, nil
}
