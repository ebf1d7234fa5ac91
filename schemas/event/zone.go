package event

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"
	_ "time/tzdata" // user.timezone must resolve the same on a host without /usr/share/zoneinfo
)

// zoneCache holds the locations LoadZone has loaded, as an immutable map
// replaced whole on each addition: lookups, on every decoded event that has
// a time zone, take no lock and allocate nothing; additions are bounded by
// the time zone database (a few hundred names). Only successes are kept: a
// name that fails is looked up again each time, which costs a failed file
// lookup and cannot grow memory however many bad names arrive.
type zoneCache struct {
	mu    sync.Mutex // serialises additions
	zones atomic.Pointer[map[string]*time.Location]
}

var zones zoneCache

// LoadZone returns the location of an IANA time zone name, as
// time.LoadLocation does, from a process-wide cache: the decoder resolves
// user.timezone with it, and rules that need the actor's local time can use
// it too. Names that are not shaped like zone names ("Local", "", "../x")
// are refused without a lookup.
func LoadZone(name string) (*time.Location, error) {
	if m := zones.zones.Load(); m != nil {
		if loc, ok := (*m)[name]; ok {
			return loc, nil
		}
	}
	if err := checkZoneShape(name); err != nil {
		return nil, err
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.add(name, loc)
	return loc, nil
}

func (c *zoneCache) add(name string, loc *time.Location) {
	c.mu.Lock()
	defer c.mu.Unlock()
	old := c.zones.Load()
	next := make(map[string]*time.Location, 1+lenOf(old))
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	// Clone: a decoded name shares memory with the whole input event.
	next[strings.Clone(name)] = loc
	c.zones.Store(&next)
}

func lenOf(m *map[string]*time.Location) int {
	if m == nil {
		return 0
	}
	return len(*m)
}
