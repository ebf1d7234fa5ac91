//go:build race

package runner

// raceEnabled: the race detector slows the detector about tenfold, so the
// long tests use shorter streams.
const raceEnabled = true
