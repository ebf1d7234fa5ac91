package detect

// ReloadReport says what happened to each rule's state when a shard moved
// to a new engine.
type ReloadReport struct {
	Kept    []string // same state shape: state carried over
	Reset   []string // state shape changed: the rule starts empty
	Added   []string // new rules, empty
	Removed []string // gone, state dropped
}

// Reload moves the shard to a new engine (a reloaded rule set or
// configuration) without losing state: a rule keeps its groups when its
// state key is unchanged, that is when only its thresholds, conditions,
// outputs, actions or metadata changed (a new version that tunes a
// threshold keeps its windows); it starts empty when its kind, group_by,
// window or span, aggregates, steps or kept fields changed, since the old
// state does not mean the same thing under the new rule. Removed rules' state
// is dropped. The watermark and arrival counter carry over.
//
// Compile the new engine first (NewEngine): if it fails, keep running the
// old one; Reload itself cannot fail.
func (s *Shard) Reload(e *Engine) ReloadReport {
	var rep ReloadReport
	old := map[string]*ruleState{}
	for _, rs := range s.rules {
		old[rs.er.rule.ID] = rs
	}
	rules := make([]*ruleState, len(e.rules))
	for i, er := range e.rules {
		prev, ok := old[er.rule.ID]
		switch {
		case !ok:
			rules[i] = &ruleState{er: er, groups: map[string]*group{}}
			rep.Added = append(rep.Added, er.rule.ID)
		case stateKeyOf(prev.er) == stateKeyOf(er):
			prev.er = er
			prev.scratch = nil
			for _, g := range prev.groups {
				g.rule = int32(i)
			}
			rules[i] = prev
			rep.Kept = append(rep.Kept, er.rule.ID)
			delete(old, er.rule.ID)
		default:
			rules[i] = &ruleState{er: er, groups: map[string]*group{}, c: prev.c}
			rep.Reset = append(rep.Reset, er.rule.ID)
		}
	}
	for _, rs := range s.rules {
		if _, gone := old[rs.er.rule.ID]; !gone {
			continue
		}
		if _, ok := e.byID[rs.er.rule.ID]; !ok {
			rep.Removed = append(rep.Removed, rs.er.rule.ID)
		}
		for _, g := range rs.groups {
			g.sched = -1 // its expiry entries are skipped
		}
	}
	s.eng = e
	s.rules = rules
	return rep
}
