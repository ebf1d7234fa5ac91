package detect

import (
	"time"
	"unsafe"

	"github.com/trailwatch/trailwatch/compliance/shadow"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// evalCtx is what an expression evaluates against: the current event (live,
// or a rec when a stored event is evaluated again), the group's previous
// event or sequence steps, and the window's aggregates. One per shard,
// reused; nothing in it escapes an evaluation.
type evalCtx struct {
	ev     *event.Event // the current event when live (cur == nil)
	cur    *rec         // the current event when it is a stored one
	prev   *rec
	steps  []*rec
	aggs   []aggOut
	tenant string
	item   unsafe.Pointer // the element a predicate (any(changes, …)) is looking at
	failed bool           // an evaluation error: the expression is false
	cal    *calendar
	zones  *zones
	proj   *projection
	shadow event.Event // the current stored event, materialized for shadowHits
}

// aggOut is the value of one aggregate for the window being evaluated.
type aggOut struct {
	n float64
	l []string
}

// curTime is the current event's timestamp.
func (c *evalCtx) curTime() time.Time {
	if c.cur != nil {
		return recTime(c.cur, c.zones)
	}
	return c.ev.Timestamp
}

func (c *evalCtx) curTZ() string {
	if c.cur != nil {
		if c.proj != nil && c.proj.tzSlot >= 0 {
			return c.cur.str(c.proj.tzSlot)
		}
		return ""
	}
	return c.ev.User.Timezone
}

func (c *evalCtx) localTime() time.Time {
	return localTime(c.curTime(), c.curTZ(), c.cal, c.zones)
}

func (c *evalCtx) businessHours() bool {
	if c.cal == nil {
		return false
	}
	return c.cal.working(c.localTime())
}

func (c *evalCtx) isHoliday() bool {
	if c.cal == nil {
		return false
	}
	return c.cal.holidays[dateKey(c.localTime())]
}

func (c *evalCtx) changes() []event.Change {
	if c.cur != nil {
		if c.proj != nil && c.proj.changesSlot >= 0 {
			ch, _ := c.cur.obj(c.proj.changesSlot).([]event.Change)
			return ch
		}
		return nil
	}
	return c.ev.Changes
}

// shadowPaths are the fields shadowHits reads: those compliance/shadow
// scans, and what decides whether object.name is a report's name.
var shadowPaths = []string{"changes", "comment", "object.name", "event.category", "event.action"}

// shadowHits are the shadow-data findings in the current event's free
// text (compliance/shadow.Find: changes, comment, an exported or run
// report's name), with masked samples, less those in a field named for
// their kind (shadow.Misplaced: an IBAN in the IBAN field is where it
// belongs). A stored event is materialized first from its projection,
// which then holds shadowPaths.
func (c *evalCtx) shadowHits() []shadow.Hit {
	if c.cur == nil {
		return shadow.Misplaced(shadow.Find(c.ev))
	}
	if c.proj == nil {
		return nil
	}
	c.proj.materialize(c.cur, c.tenant, &c.shadow, c.zones)
	return shadow.Misplaced(shadow.Find(&c.shadow))
}
