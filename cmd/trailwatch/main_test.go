package main

import (
	"testing"

	"github.com/trailwatch/trailwatch/internal/testenv"
)

// Tests that reach ClickHouse share the embedded server, closed at the end.
func TestMain(m *testing.M) { testenv.Main(m) }
