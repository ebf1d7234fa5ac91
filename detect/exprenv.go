package detect

import (
	"fmt"
	"reflect"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// An expression is type-checked (and, on the fallback path, run) against a
// struct built for its scope with reflect.StructOf: the event's top-level
// fields under their contract names, plus the names the scope adds (prev,
// steps, aggregates, outputs). A struct, not a map, because expr's compiler
// resolves struct fields at compile time and mis-handles typed maps.

// envSlot says what one field of an env struct holds.
type envSlot struct {
	kind  envSlotKind
	index int // event field index, step index, aggregate slot, or named index
}

type envSlotKind uint8

const (
	slotEventField envSlotKind = iota
	slotSelf
	slotPerson
	slotCtx
	slotPrev
	slotSteps
	slotAgg
	slotNamedAgg
	slotGroup
	slotWindow
	slotValue
	slotNewValue
	slotKnownValues
)

// envLayout is an env struct type and what each of its fields holds.
type envLayout struct {
	typ   reflect.Type
	slots []envSlot
	steps reflect.Type // the steps struct, when present
}

// scope says which names an expression may use besides the event's fields.
type scope struct {
	what      string // "filter", "condition", … for messages
	boolean   bool   // the result must be a bool
	aggFuncs  bool   // aggregate functions may be called (window rules)
	aggNames  []string
	prev      bool
	steps     []string // the steps visible, in order
	output    bool     // group, window and named values are visible
	values    []string
	newValue  bool // new_value and known_values are visible (outputs of new_value rules)
	curMayRec bool // the current event may be a stored one (not a filter)
}

var eventType = reflect.TypeFor[event.Event]()

// buildEnv makes the env struct for a scope with nAggs aggregate slots.
func buildEnv(sc *scope, aggKinds []aggKind, namedTypes map[string]reflect.Type, valueTypes map[string]reflect.Type) *envLayout {
	var fields []reflect.StructField
	l := &envLayout{}
	add := func(name string, t reflect.Type, s envSlot) {
		fields = append(fields, reflect.StructField{
			Name: fmt.Sprintf("F%d", len(fields)),
			Type: t,
			Tag:  reflect.StructTag(fmt.Sprintf(`expr:"%s"`, name)),
		})
		l.slots = append(l.slots, s)
	}
	for i := range eventType.NumField() {
		f := eventType.Field(i)
		name := f.Tag.Get("expr")
		if name == "" || name == "-" {
			continue
		}
		add(name, f.Type, envSlot{slotEventField, i})
	}
	add("self", eventPtr, envSlot{kind: slotSelf})
	add("person", reflect.TypeFor[string](), envSlot{kind: slotPerson})
	add("__ctx", evalCtxPtr, envSlot{kind: slotCtx})
	if sc.prev {
		add("prev", eventPtr, envSlot{kind: slotPrev})
	}
	if len(sc.steps) > 0 {
		var sf []reflect.StructField
		for i, s := range sc.steps {
			sf = append(sf, reflect.StructField{Name: fmt.Sprintf("S%d", i), Type: eventPtr, Tag: reflect.StructTag(fmt.Sprintf(`expr:"%s"`, s))})
		}
		l.steps = reflect.StructOf(sf)
		add("steps", l.steps, envSlot{kind: slotSteps})
	}
	for i, k := range aggKinds {
		add(fmt.Sprintf("__agg%d", i), k.resultType(), envSlot{slotAgg, i})
	}
	for i, n := range sc.aggNames {
		add(n, namedTypes[n], envSlot{slotNamedAgg, i})
	}
	if sc.output {
		add("group", reflect.TypeFor[map[string]string](), envSlot{kind: slotGroup})
		add("window", reflect.TypeFor[string](), envSlot{kind: slotWindow})
		if sc.newValue {
			add("new_value", reflect.TypeFor[string](), envSlot{kind: slotNewValue})
			add("known_values", reflect.TypeFor[[]string](), envSlot{kind: slotKnownValues})
		}
		for i, n := range sc.values {
			t := valueTypes[n]
			if t == nil {
				t = reflect.TypeFor[any]()
			}
			add(n, t, envSlot{slotValue, i})
		}
	}
	l.typ = reflect.StructOf(fields)
	return l
}

// outputs carries the alert-time values an output expression may read.
type outputs struct {
	fired  map[string]any // the firing's own values (new_value, known_values)
	group  map[string]string
	window string
	named  []any // named aggregates' values, in scope order
	values []any
}

// fill sets an env struct from the evaluation context (the slow path).
func (l *envLayout) fill(env reflect.Value, c *evalCtx, out *outputs, scratch *scratchEvents) {
	cur := c.ev
	if c.cur != nil {
		cur = scratch.get(0)
		c.proj.materialize(c.cur, c.tenant, cur, c.zones)
	}
	curV := reflect.ValueOf(cur).Elem()
	for i, s := range l.slots {
		f := env.Field(i)
		switch s.kind {
		case slotEventField:
			f.Set(curV.Field(s.index))
		case slotSelf:
			f.Set(reflect.ValueOf(cur))
		case slotPerson:
			f.SetString(cur.PersonKey())
		case slotCtx:
			f.Set(reflect.ValueOf(c))
		case slotPrev:
			if c.prev != nil {
				p := scratch.get(1)
				c.proj.materialize(c.prev, c.tenant, p, c.zones)
				f.Set(reflect.ValueOf(p))
			}
		case slotSteps:
			for j := range f.NumField() {
				if j < len(c.steps) && c.steps[j] != nil {
					p := scratch.get(2 + j)
					c.proj.materialize(c.steps[j], c.tenant, p, c.zones)
					f.Field(j).Set(reflect.ValueOf(p))
				}
			}
		case slotAgg:
			if f.Kind() == reflect.Slice {
				f.Set(reflect.ValueOf(c.aggs[s.index].l))
			} else {
				f.SetFloat(c.aggs[s.index].n)
			}
		case slotNamedAgg:
			if out != nil && s.index < len(out.named) && out.named[s.index] != nil {
				f.Set(reflect.ValueOf(out.named[s.index]).Convert(f.Type()))
			}
		case slotGroup:
			if out != nil {
				f.Set(reflect.ValueOf(out.group))
			}
		case slotWindow:
			if out != nil {
				f.SetString(out.window)
			}
		case slotNewValue:
			if out != nil {
				v, _ := out.fired["new_value"].(string)
				f.SetString(v)
			}
		case slotKnownValues:
			if out != nil {
				v, _ := out.fired["known_values"].([]string)
				f.Set(reflect.ValueOf(v))
			}
		case slotValue:
			if out != nil && s.index < len(out.values) && out.values[s.index] != nil {
				v := reflect.ValueOf(out.values[s.index])
				if v.Type().AssignableTo(f.Type()) {
					f.Set(v)
				} else if v.CanConvert(f.Type()) {
					f.Set(v.Convert(f.Type()))
				}
			}
		}
	}
}

// scratchEvents are events the slow path materializes recs into.
type scratchEvents struct {
	evs []*event.Event
}

func (s *scratchEvents) get(i int) *event.Event {
	for len(s.evs) <= i {
		s.evs = append(s.evs, new(event.Event))
	}
	return s.evs[i]
}
