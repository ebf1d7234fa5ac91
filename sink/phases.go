package sink

import "time"

// The phases of Handle that phaseClock times, for the benchmark's
// breakdown of where a batch's time goes.
const (
	phaseDecode  = iota // decoding the records
	phaseBuild          // chains, rows, hashes, column buffers
	phaseColumns        // handing the columns to clickhouse-go's batch
	phaseInsert         // audit_events' insert: encoding, HTTP, the engine and its views
	phaseOther          // integrity heads, alerts, actions, dead letters
	nPhases
)

var phaseNames = [nPhases]string{"decode", "build", "columns", "insert", "other"}

// phaseClock sums the time Handle spends in each phase. Reading the clock
// a few times per batch costs nothing next to a batch.
type phaseClock struct {
	last  time.Time
	total [nPhases]time.Duration
}

func (c *phaseClock) start() { c.last = time.Now() }

func (c *phaseClock) lap(p int) {
	now := time.Now()
	c.total[p] += now.Sub(c.last)
	c.last = now
}
