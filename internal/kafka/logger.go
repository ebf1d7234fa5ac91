package kafka

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	kafkago "github.com/segmentio/kafka-go"
)

// kafka-go reports through two Printf-style loggers. Its info logger is
// chatty (every fetch start, every commit), so it goes to debug. Its error
// logger carries errors it retries by itself, which are otherwise invisible
// to the caller: they go to warn and to a counter.

func debugLogger(log zerolog.Logger) kafkago.Logger {
	return kafkago.LoggerFunc(func(msg string, args ...any) {
		if e := log.Debug(); e.Enabled() {
			e.Str("detail", fmt.Sprintf(msg, args...)).Msg("kafka-go")
		}
	})
}

func errorLogger(log zerolog.Logger, errs prometheus.Counter) kafkago.Logger {
	return closingErrorLogger(log, errs, func() bool { return false })
}

// closingErrorLogger is errorLogger for a client being closed: once
// closing() is true, the errors kafka-go reports are those of its own
// interrupted reads ("i/o timeout"), logged at debug and not counted.
func closingErrorLogger(log zerolog.Logger, errs prometheus.Counter, closing func() bool) kafkago.Logger {
	return kafkago.LoggerFunc(func(msg string, args ...any) {
		if closing() {
			if e := log.Debug(); e.Enabled() {
				e.Str("detail", fmt.Sprintf(msg, args...)).Msg("kafka-go error while closing")
			}
			return
		}
		errs.Inc()
		if e := log.Warn(); e.Enabled() {
			e.Str("detail", fmt.Sprintf(msg, args...)).Msg("kafka-go error")
		}
	})
}
