package detect

import (
	"math"
	"net/netip"
	"reflect"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/builtin"
	"github.com/expr-lang/expr/conf"

	"github.com/trailwatch/trailwatch/compliance/shadow"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// The functions rules may call besides expr's builtins. Context functions
// (local time, business hours, changed) read the current event: the loader
// passes it as a hidden first argument (__ctx), so analysts write
// business_hours(), not business_hours(self, tenant).
var ctxFuncs = map[string]bool{
	"business_hours": true, "off_hours": true, "local_hour": true, "local_weekday": true,
	"is_weekend": true, "is_holiday": true, "changed": true,
	"shadow_data": true, "shadow_fields": true, "shadow_samples": true,
}

// aggFuncs are the aggregate functions of window conditions.
var aggFuncs = map[string]bool{
	"count": true, "count_distinct": true, "distinct": true, "sum": true, "min": true, "max": true, "avg": true,
}

var (
	evalCtxPtr = reflect.TypeFor[*evalCtx]()
	eventPtr   = reflect.TypeFor[*event.Event]()
)

// funcOptions declares the functions for the type checker, with the
// implementations the fallback (expr VM) path runs.
func funcOptions(withAggs bool) []expr.Option {
	opts := []expr.Option{
		expr.DisableBuiltin("now"), // the wall clock has no place in a deterministic engine
		expr.Function("in_cidr", func(args ...any) (any, error) {
			ip, _ := args[0].(string)
			for _, a := range args[1:] {
				if c, ok := a.(*cidrList); ok && c.contains(ip) {
					return true, nil
				}
			}
			return false, nil
		}, new(func(string, ...*cidrList) bool)),
		expr.Function("is_private_ip", func(args ...any) (any, error) {
			return isPrivateIP(args[0].(string)), nil
		}, new(func(string) bool)),
		expr.Function("geo_distance_km", func(args ...any) (any, error) {
			return haversineKm(toF(args[0]), toF(args[1]), toF(args[2]), toF(args[3])), nil
		}, new(func(float64, float64, float64, float64) float64)),
		expr.Function("distance_km", func(args ...any) (any, error) {
			a, b := args[0].(*event.Event), args[1].(*event.Event)
			return eventDistanceKm(a, b), nil
		}, new(func(*event.Event, *event.Event) float64)),
		expr.Function("speed_kmh", func(args ...any) (any, error) {
			a, b := args[0].(*event.Event), args[1].(*event.Event)
			return speedKmh(eventDistanceKm(a, b), a.Timestamp.UnixNano(), b.Timestamp.UnixNano()), nil
		}, new(func(*event.Event, *event.Event) float64)),
		expr.Function("duration", func(args ...any) (any, error) {
			return ParseDuration(args[0].(string))
		}, new(func(string) time.Duration)),
		ctxFunc("business_hours", func(c *evalCtx) any { return c.businessHours() }, new(func(*evalCtx) bool)),
		ctxFunc("off_hours", func(c *evalCtx) any { return !c.businessHours() }, new(func(*evalCtx) bool)),
		ctxFunc("local_hour", func(c *evalCtx) any { return c.localTime().Hour() }, new(func(*evalCtx) int)),
		ctxFunc("local_weekday", func(c *evalCtx) any { return weekdayNames[c.localTime().Weekday()] }, new(func(*evalCtx) string)),
		ctxFunc("is_weekend", func(c *evalCtx) any { return isWeekend(c.localTime()) }, new(func(*evalCtx) bool)),
		ctxFunc("is_holiday", func(c *evalCtx) any { return c.isHoliday() }, new(func(*evalCtx) bool)),
		ctxFunc("shadow_data", func(c *evalCtx) any { return shadow.Kinds(c.shadowHits()) }, new(func(*evalCtx) []string)),
		ctxFunc("shadow_fields", func(c *evalCtx) any { return shadow.Fields(c.shadowHits()) }, new(func(*evalCtx) []string)),
		ctxFunc("shadow_samples", func(c *evalCtx) any { return shadow.Samples(c.shadowHits()) }, new(func(*evalCtx) []string)),
		func(cfg *conf.Config) {
			cfg.Functions["changed"] = &builtin.Function{
				Name: "changed",
				Func: func(args ...any) (any, error) {
					c := args[0].(*evalCtx)
					return c.changedAny(args[1:]), nil
				},
				Types: []reflect.Type{reflect.TypeOf(func(*evalCtx, ...any) bool { return false })},
			}
		},
	}
	if withAggs {
		// The checker sees aggregates as functions of the event value they
		// aggregate; the loader replaces each call with a slot of the
		// window's aggregates before anything runs.
		agg := func(name string, types ...any) expr.Option {
			return expr.Function(name, func(args ...any) (any, error) { return nil, errAggregateCall }, types...)
		}
		opts = append(opts,
			agg("count", new(func() float64), new(func(bool) float64)),
			agg("count_distinct", new(func(string) float64), new(func(float64) float64), new(func(int64) float64), new(func(int) float64), new(func(bool) float64)),
			agg("distinct", new(func(string) []string), new(func(float64) []string), new(func(int64) []string), new(func(int) []string)),
			agg("sum", new(func(float64) float64), new(func(int64) float64), new(func(int) float64)),
			agg("min", new(func(float64) float64), new(func(int64) float64), new(func(int) float64)),
			agg("max", new(func(float64) float64), new(func(int64) float64), new(func(int) float64)),
			agg("avg", new(func(float64) float64), new(func(int64) float64), new(func(int) float64)),
		)
	}
	return opts
}

type aggregateCallError struct{}

func (aggregateCallError) Error() string { return "aggregate function called outside a window" }

var errAggregateCall error = aggregateCallError{}

func ctxFunc(name string, fn func(*evalCtx) any, typ any) expr.Option {
	return expr.Function(name, func(args ...any) (any, error) {
		return fn(args[0].(*evalCtx)), nil
	}, typ)
}

func toF(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case float32:
		return float64(x)
	}
	return 0
}

func isWeekend(t time.Time) bool {
	wd := t.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

var privatePrefixes = func() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range []string{"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16", "100.64.0.0/10", "fc00::/7", "fe80::/10", "::1/128"} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}()

func isPrivateIP(s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range privatePrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// earthRadiusKm is the mean Earth radius (IUGG).
const earthRadiusKm = 6371.0088

// haversineKm is the great-circle distance between two points in degrees.
func haversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	dLat := (lat2 - lat1) * rad
	dLon := (lon2 - lon1) * rad
	s := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	if s > 1 {
		s = 1
	}
	return 2 * earthRadiusKm * math.Asin(math.Sqrt(s))
}

func eventDistanceKm(a, b *event.Event) float64 {
	if a == nil || b == nil || !a.Client.Geo.HasCoords || !b.Client.Geo.HasCoords {
		return 0
	}
	return haversineKm(a.Client.Geo.Lat, a.Client.Geo.Lon, b.Client.Geo.Lat, b.Client.Geo.Lon)
}

// minTravelTime is the shortest elapsed time speed_kmh divides by, so two
// logins in the same second give a large, finite speed.
const minTravelTime = time.Minute

// speedKmh is the speed implied by covering km between two event times (in
// either order).
func speedKmh(km float64, ta, tb int64) float64 {
	if km == 0 {
		return 0
	}
	dt := tb - ta
	if dt < 0 {
		dt = -dt
	}
	if dt < int64(minTravelTime) {
		dt = int64(minTravelTime)
	}
	return km / (float64(dt) / float64(time.Hour))
}

// changedAny says whether the current event changed any of the fields named
// by args (strings or string lists), ignoring case.
func (c *evalCtx) changedAny(args []any) bool {
	var names []string
	for _, a := range args {
		switch x := a.(type) {
		case string:
			names = append(names, x)
		case strSet:
			names = append(names, setKeys(x)...)
		case foldSet:
			names = append(names, setKeys(x)...)
		}
	}
	return changedIn(c.changes(), names)
}
