// Package telemetry is what every role exposes about itself: the one root
// zerolog logger (JSON, or readable console output on a terminal), and an
// HTTP server with /metrics (Prometheus, from the registry the caller
// passes), /healthz (liveness) and /readyz (readiness, from checks the
// caller registers), shut down gracefully.
package telemetry
