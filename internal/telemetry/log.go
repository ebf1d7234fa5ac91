package telemetry

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/rs/zerolog"
)

// Log formats accepted in LogConfig.Format.
const (
	FormatAuto    = "auto"
	FormatJSON    = "json"
	FormatConsole = "console"
)

// LogConfig configures the root logger.
type LogConfig struct {
	Level  string `yaml:"level" doc:"Lowest level logged: trace, debug, info, warn or error."`
	Format string `yaml:"format" doc:"auto (readable console output when stderr is a terminal, JSON otherwise), json or console."`
}

// DefaultLogConfig logs info and above, JSON unless on a terminal.
func DefaultLogConfig() LogConfig { return LogConfig{Level: "info", Format: FormatAuto} }

// Validate reports every problem in c at once.
func (c LogConfig) Validate() error {
	var errs []error
	if _, err := parseLevel(c.Level); err != nil {
		errs = append(errs, fmt.Errorf("log.level: %w", err))
	}
	switch c.Format {
	case FormatAuto, FormatJSON, FormatConsole:
	default:
		errs = append(errs, fmt.Errorf("log.format: %q is not auto, json or console", c.Format))
	}
	return errors.Join(errs...)
}

func parseLevel(s string) (zerolog.Level, error) {
	switch s {
	case "trace", "debug", "info", "warn", "error":
		return zerolog.ParseLevel(s)
	}
	return zerolog.NoLevel, fmt.Errorf("%q is not trace, debug, info, warn or error", s)
}

// NewLogger builds the process's root logger writing to w (os.Stderr in
// main). Every line carries a "time" with milliseconds, in UTC for JSON.
// Components derive children with
// log.With().Str("component", "sink").Logger().
func NewLogger(cfg LogConfig, w io.Writer) (zerolog.Logger, error) {
	if err := cfg.Validate(); err != nil {
		return zerolog.Nop(), err
	}
	lvl, _ := parseLevel(cfg.Level)
	console := cfg.Format == FormatConsole || cfg.Format == FormatAuto && isTerminal(w)
	if console {
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: "15:04:05.000", NoColor: !isTerminal(w)}
	}
	// A hook rather than Timestamp(): Timestamp formats with the
	// package-global zerolog.TimeFieldFormat (whole seconds by default),
	// which a library must not change for the whole process.
	return zerolog.New(w).Level(lvl).Hook(timeHook{}), nil
}

type timeHook struct{}

func (timeHook) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	e.Str(zerolog.TimestampFieldName, time.Now().UTC().Format("2006-01-02T15:04:05.000Z07:00"))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}
