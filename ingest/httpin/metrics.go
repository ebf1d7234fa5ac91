package httpin

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/trailwatch/trailwatch/internal/telemetry"
)

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inFlight prometheus.Gauge
	authFail *prometheus.CounterVec
	records  *prometheus.HistogramVec
}

// noSource labels requests no source could be found for.
const noSource = "_unauthenticated"

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	var m metrics
	var errs [5]error
	m.requests, errs[0] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_ingest_http_requests_total",
		Help: "Requests answered by the HTTP collector, by source (" + noSource + " when none authenticated) and status code.",
	}, []string{"source", "code"}))
	m.duration, errs[1] = telemetry.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "trailwatch_ingest_http_request_duration_seconds",
		Help:    "Time from a request's arrival to its answer (Kafka's acknowledgement included), by source.",
		Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
	}, []string{"source"}))
	m.inFlight, errs[2] = telemetry.Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "trailwatch_ingest_http_in_flight_requests",
		Help: "Requests being read, parsed or published (at most ingest.http.max_in_flight + max_unverified_in_flight).",
	}))
	m.authFail, errs[3] = telemetry.Register(reg, prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "trailwatch_ingest_http_auth_failures_total",
		Help: "Requests refused 401, by reason (missing, invalid, unsigned, bad_signature, bad_timestamp, stale, replayed).",
	}, []string{"reason"}))
	m.records, errs[4] = telemetry.Register(reg, prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "trailwatch_ingest_http_request_records",
		Help:    "Records per request that was parsed, by source.",
		Buckets: prometheus.ExponentialBuckets(1, 4, 8),
	}, []string{"source"}))
	if err := errors.Join(errs[:]...); err != nil {
		return nil, err
	}
	return &m, nil
}
