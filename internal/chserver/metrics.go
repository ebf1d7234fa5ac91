package chserver

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	requests     *prometheus.CounterVec
	queueWait    prometheus.Histogram
	runTime      *prometheus.HistogramVec
	rowsRead     prometheus.Counter
	bytesRead    prometheus.Counter
	rowsWritten  prometheus.Counter
	bytesWritten prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, q *queue) *metrics {
	buckets := []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "trailwatch_clickhouse_requests_total",
			Help: "HTTP requests to the embedded ClickHouse server, by kind of statement and HTTP status.",
		}, []string{"kind", "status"}),
		queueWait: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "trailwatch_clickhouse_queue_wait_seconds", Help: "Time requests waited for the engine.", Buckets: buckets,
		}),
		runTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "trailwatch_clickhouse_run_seconds", Help: "Time the engine spent on a request, by kind of statement.", Buckets: buckets,
		}, []string{"kind"}),
		rowsRead:     prometheus.NewCounter(prometheus.CounterOpts{Name: "trailwatch_clickhouse_read_rows_total", Help: "Rows the engine read."}),
		bytesRead:    prometheus.NewCounter(prometheus.CounterOpts{Name: "trailwatch_clickhouse_read_bytes_total", Help: "Bytes the engine read."}),
		rowsWritten:  prometheus.NewCounter(prometheus.CounterOpts{Name: "trailwatch_clickhouse_written_rows_total", Help: "Rows the engine wrote."}),
		bytesWritten: prometheus.NewCounter(prometheus.CounterOpts{Name: "trailwatch_clickhouse_written_bytes_total", Help: "Bytes the engine wrote."}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.queueWait, m.runTime, m.rowsRead, m.bytesRead, m.rowsWritten, m.bytesWritten,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "trailwatch_clickhouse_queue_length", Help: "Requests waiting for the engine now.",
			}, func() float64 { return float64(q.waiting()) }))
	}
	return m
}
