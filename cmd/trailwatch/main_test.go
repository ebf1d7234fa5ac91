package main

import (
	"os"
	"testing"

	"github.com/trailwatch/trailwatch/internal/testenv"
)

// TestMain runs the test binary as trailwatch itself when asked (tests of
// whole processes: trailwatch run), else the tests, which share the
// embedded ClickHouse server, closed at the end.
func TestMain(m *testing.M) {
	if os.Getenv(asTrailwatch) == "1" {
		main()
		os.Exit(0)
	}
	testenv.Main(m)
}

// asTrailwatch, set to 1 in a child's environment, makes the test binary
// run as the trailwatch command with the child's arguments.
const asTrailwatch = "TW_TEST_AS_TRAILWATCH"
