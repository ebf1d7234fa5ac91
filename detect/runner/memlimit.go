package runner

import (
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
)

// cgroupLimitFiles hold the container's memory limit: cgroup v2, then v1.
var cgroupLimitFiles = []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}

// SetMemoryLimit gives the Go collector a soft memory limit for a detector
// process, so that it collects before the resident set outgrows the
// container rather than only when the heap doubles (GOGC): the state heap
// is most of a detector's memory, and with the default pacing the resident
// set peaked at 1.4–1.6 times the live heap (docs/PERFORMANCE.md, "Where
// the memory goes"). The limit is configured (bytes > 0), or else 90% of
// the cgroup's limit; the GOMEMLIMIT environment variable, when set, wins.
// It returns the limit set (0: none) and where it came from.
//
// Call it once per process, from the command that runs the detector: it is
// a process-wide setting.
func SetMemoryLimit(bytes int64) (int64, string) {
	limit, source := memoryLimit(bytes, os.Getenv("GOMEMLIMIT"), cgroupLimitFiles)
	if limit > 0 {
		debug.SetMemoryLimit(limit)
	}
	return limit, source
}

// memoryLimit decides SetMemoryLimit's limit.
func memoryLimit(bytes int64, env string, files []string) (int64, string) {
	if env != "" {
		return 0, "GOMEMLIMIT"
	}
	if bytes > 0 {
		return bytes, "detect.memory_limit_bytes"
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		n, err := parseCgroupLimit(string(b))
		if err != nil || n <= 0 {
			continue
		}
		return n / 10 * 9, f
	}
	return 0, ""
}

// parseCgroupLimit reads memory.max ("max" or bytes) or
// memory.limit_in_bytes (bytes; an unlimited v1 group says a number near
// 2^63). 0 means no limit.
func parseCgroupLimit(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "max" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("cgroup memory limit %q: not a byte count", s)
	}
	if n >= 1<<62 {
		return 0, nil
	}
	return n, nil
}
