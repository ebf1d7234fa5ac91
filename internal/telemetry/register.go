package telemetry

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c on reg or, when an identical collector is there
// already (the roles of `trailwatch run`, and several producers or
// consumers of one role, share a registry), returns that one, so the
// series sum over the process, split by their labels. A nil reg leaves c
// unregistered (tests, tools).
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if reg == nil {
		return c, nil
	}
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing, nil
			}
		}
		var zero C
		return zero, fmt.Errorf("registering metrics: %w", err)
	}
	return c, nil
}
