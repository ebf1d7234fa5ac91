package chserver

import "strings"

// This file reads the anatomy of an INSERT: its target, its SETTINGS
// clause, and where its data starts (sqltext.go has the lexer).

// parseInsert reads INSERT INTO [TABLE|FUNCTION] target [(cols)] [SETTINGS …]
// and what follows: FORMAT name | VALUES (data follows) or a query. It
// returns where the statement's text ends (before the data).
func parseInsert(l *lexer, insert token) (*Insert, int, error) {
	ins := &Insert{}
	t, err := l.next()
	if err != nil {
		return nil, 0, err
	}
	if !l.is(t, "INTO") {
		return ins, 0, nil // let the engine explain
	}
	if t, err = l.next(); err != nil {
		return nil, 0, err
	}
	if l.is(t, "TABLE") {
		if t, err = l.next(); err != nil {
			return nil, 0, err
		}
	} else if l.is(t, "FUNCTION") {
		ins.Function = true
		if t, err = l.next(); err != nil {
			return nil, 0, err
		}
	}
	// The target: name[.name] or a function call.
	if t.kind != tWord && t.kind != tQuotedIdent {
		return ins, 0, nil
	}
	if t, err = l.next(); err != nil {
		return nil, 0, err
	}
	if t.kind == tPunct && l.text(t) == "." {
		if t, err = l.next(); err != nil {
			return nil, 0, err
		}
		if t, err = l.next(); err != nil {
			return nil, 0, err
		}
	}
	skipParens := func() error {
		depth := 1
		for depth > 0 {
			p, err := l.next()
			if err != nil {
				return err
			}
			switch p.kind {
			case tEOF:
				return &syntaxError{p.start, "unbalanced parentheses"}
			case tLParen:
				depth++
			case tRParen:
				depth--
			}
		}
		var err error
		t, err = l.next()
		return err
	}
	if ins.Function && t.kind == tLParen {
		if err := skipParens(); err != nil {
			return nil, 0, err
		}
	}
	if t.kind == tLParen {
		// A column list, unless it is a parenthesised SELECT.
		save := l.pos
		p, err := l.next()
		if err != nil {
			return nil, 0, err
		}
		l.pos = save
		if !l.is(p, "SELECT") && !l.is(p, "WITH") {
			if err := skipParens(); err != nil {
				return nil, 0, err
			}
		}
	}
	targetEnd := t.start
	settingsStart := -1
	for {
		switch {
		case t.kind == tEOF, t.kind == tSemicolon:
			return ins, 0, nil
		case l.is(t, "SETTINGS") && settingsStart < 0:
			settingsStart = t.end
		case l.is(t, "FORMAT"):
			name, err := l.next()
			if err != nil {
				return nil, 0, err
			}
			if name.kind != tWord {
				return ins, 0, nil
			}
			ins.HasData = true
			ins.Format = l.text(name)
			ins.Data = l.s[dataStart(l.s, name.end):]
			finish(ins, l, insert, targetEnd, settingsStart, t.start)
			return ins, name.end, nil
		case l.is(t, "VALUES"):
			ins.HasData = true
			ins.Format = "Values"
			ins.Data = l.s[t.end:]
			finish(ins, l, insert, targetEnd, settingsStart, t.start)
			return ins, t.end, nil
		case settingsStart < 0 && (l.is(t, "SELECT") || l.is(t, "WITH") || l.is(t, "FROM") || t.kind == tLParen):
			return ins, 0, nil
		case settingsStart >= 0 && (l.is(t, "SELECT") || l.is(t, "WITH") || l.is(t, "FROM")):
			return ins, 0, nil
		}
		if t, err = l.next(); err != nil {
			return nil, 0, err
		}
	}
}

func finish(ins *Insert, l *lexer, insert token, targetEnd, settingsStart, clauseStart int) {
	if settingsStart >= 0 {
		ins.Target = strings.TrimSpace(l.s[insert.start:indexBefore(l.s, targetEnd, settingsStart)])
		ins.Settings = strings.TrimSpace(l.s[settingsStart:clauseStart])
	} else {
		ins.Target = strings.TrimSpace(l.s[insert.start:clauseStart])
	}
}

// indexBefore returns where the SETTINGS keyword that ends at settingsEnd
// starts (the target ends there).
func indexBefore(s string, targetEnd, settingsEnd int) int {
	start := settingsEnd - len("SETTINGS")
	if start < targetEnd {
		return targetEnd
	}
	return start
}

// dataStart is where an INSERT's data begins after "FORMAT name", as the
// server reads it: after the first line break, or after the blanks if the
// data follows on the same line.
func dataStart(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\f') {
		i++
	}
	if i < len(s) && s[i] == '\r' {
		i++
	}
	if i < len(s) && s[i] == '\n' {
		i++
	}
	return i
}
