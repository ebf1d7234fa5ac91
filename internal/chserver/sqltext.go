package chserver

import (
	"errors"
	"fmt"
	"strings"
)

// This file is a lexer for ClickHouse SQL, just deep enough to find where a
// statement ends, what kind it is, and where an INSERT's data begins. It
// mirrors the engine's lexer for everything that can hide text: strings
// with backslash and doubled-quote escapes, quoted identifiers, heredocs,
// line comments and nested block comments. Anything it cannot close is an
// error, never a guess; security decisions for readers are re-checked with
// the engine's own parser (guard.go).

type tokKind uint8

const (
	tEOF tokKind = iota
	tWord
	tString
	tQuotedIdent
	tHeredoc
	tLParen
	tRParen
	tSemicolon
	tPunct
)

type token struct {
	kind       tokKind
	start, end int
}

type lexer struct {
	s   string
	pos int
}

// errSyntax is a lexing error, reported with ClickHouse's SYNTAX_ERROR code.
type syntaxError struct {
	pos int
	msg string
}

func (e *syntaxError) Error() string {
	return fmt.Sprintf("Syntax error: failed at position %d: %s", e.pos+1, e.msg)
}

func isWordByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

// skip passes whitespace and comments.
func (l *lexer) skip() error {
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.pos++
		case c == '-' && l.pos+1 < len(l.s) && l.s[l.pos+1] == '-',
			// The engine also takes "# " and "#!" as line comments.
			c == '#' && l.pos+1 < len(l.s) && (l.s[l.pos+1] == ' ' || l.s[l.pos+1] == '!'):
			i := strings.IndexByte(l.s[l.pos:], '\n')
			if i < 0 {
				l.pos = len(l.s)
			} else {
				l.pos += i + 1
			}
		case c == '/' && l.pos+1 < len(l.s) && l.s[l.pos+1] == '*':
			start := l.pos
			depth := 0
			for {
				if l.pos+1 >= len(l.s) {
					return &syntaxError{start, "multiline comment is not closed"}
				}
				switch {
				case l.s[l.pos] == '/' && l.s[l.pos+1] == '*':
					depth++
					l.pos += 2
				case l.s[l.pos] == '*' && l.s[l.pos+1] == '/':
					depth--
					l.pos += 2
				default:
					l.pos++
					continue
				}
				if depth == 0 {
					break
				}
			}
		default:
			return nil
		}
	}
	return nil
}

// quoted reads a string or quoted identifier closed by q, where a backslash
// escapes the next byte and a doubled q is a literal q.
func (l *lexer) quoted(q byte, what string) error {
	start := l.pos
	l.pos++
	for l.pos < len(l.s) {
		c := l.s[l.pos]
		switch {
		case c == '\\':
			l.pos += 2
		case c == q && l.pos+1 < len(l.s) && l.s[l.pos+1] == q:
			l.pos += 2
		case c == q:
			l.pos++
			return nil
		default:
			l.pos++
		}
	}
	return &syntaxError{start, what + " is not closed"}
}

func (l *lexer) next() (token, error) {
	if err := l.skip(); err != nil {
		return token{}, err
	}
	start := l.pos
	if l.pos >= len(l.s) {
		return token{kind: tEOF, start: start, end: start}, nil
	}
	c := l.s[l.pos]
	kind := tPunct
	switch {
	case c == '\'':
		if err := l.quoted('\'', "single quoted string"); err != nil {
			return token{}, err
		}
		kind = tString
	case c == '"' || c == '`':
		if err := l.quoted(c, "quoted identifier"); err != nil {
			return token{}, err
		}
		kind = tQuotedIdent
	case c == '$':
		// A heredoc: $tag$ … $tag$, the tag possibly empty.
		j := l.pos + 1
		for j < len(l.s) && isWordByte(l.s[j]) {
			j++
		}
		if j < len(l.s) && l.s[j] == '$' {
			tag := l.s[l.pos : j+1]
			end := strings.Index(l.s[j+1:], tag)
			if end < 0 {
				return token{}, &syntaxError{start, "heredoc is not closed"}
			}
			l.pos = j + 1 + end + len(tag)
			kind = tHeredoc
		} else {
			l.pos++
		}
	case isWordByte(c):
		// After its first byte a word may contain '$' (the engine reads
		// x$a$ as one identifier, not x and a heredoc).
		for l.pos < len(l.s) && (isWordByte(l.s[l.pos]) || l.s[l.pos] == '$') {
			l.pos++
		}
		kind = tWord
	case c == '(':
		l.pos++
		kind = tLParen
	case c == ')':
		l.pos++
		kind = tRParen
	case c == ';':
		l.pos++
		kind = tSemicolon
	default:
		l.pos++
	}
	return token{kind: kind, start: start, end: l.pos}, nil
}

func (l *lexer) text(t token) string { return l.s[t.start:t.end] }

func (l *lexer) is(t token, word string) bool {
	return t.kind == tWord && strings.EqualFold(l.s[t.start:t.end], word)
}

// Statement is what the lexer learned about one statement.
type Statement struct {
	// Text is the statement without a trailing semicolon and, for an
	// INSERT with data, without the data.
	Text string
	// Kind is the first keyword in upper case (SELECT for a statement that
	// starts with a parenthesis).
	Kind string
	// Format is the name in a trailing FORMAT clause of a query, if any,
	// and FormatAt where that clause starts in Text (-1 without one).
	Format   string
	FormatAt int
	// Insert is set for INSERT statements.
	Insert *Insert
}

// Insert is the anatomy of an INSERT statement.
type Insert struct {
	Target   string // "INSERT INTO db.t (a, b)", without SETTINGS and what follows
	Settings string // the assignments of an INSERT … SETTINGS clause
	Format   string // input format; "Values" for VALUES
	Data     string // inline data after FORMAT name or VALUES in the text
	HasData  bool   // a FORMAT or VALUES insert: data comes from Data and the body
	Function bool   // INSERT INTO FUNCTION
}

// ReadOnlyKinds are statement kinds that cannot write by their syntax alone
// (what they read may still be refused to a reader; see guard.go).
var readOnlyKinds = map[string]bool{
	"SELECT": true, "WITH": true, "SHOW": true, "DESC": true, "DESCRIBE": true,
	"EXISTS": true, "EXPLAIN": true,
}

// errMultiStatement is ClickHouse's own wording for a second statement.
var errMultiStatement = errors.New("Multi-statements are not allowed")

// parseStatement splits text into one statement (and, for an INSERT, its
// inline data). A second statement after a semicolon is refused.
func parseStatement(text string) (*Statement, error) {
	l := &lexer{s: text}
	first, err := l.next()
	if err != nil {
		return nil, err
	}
	if first.kind == tEOF {
		return nil, &syntaxError{0, "empty query"}
	}
	st := &Statement{FormatAt: -1}
	switch {
	case first.kind == tLParen:
		st.Kind = "SELECT"
	case first.kind == tWord:
		st.Kind = strings.ToUpper(l.text(first))
	default:
		st.Kind = l.text(first)
	}
	if st.Kind == "INSERT" {
		ins, end, err := parseInsert(l, first)
		if err != nil {
			return nil, err
		}
		st.Insert = ins
		if ins.HasData {
			st.Text = text[:end]
			return st, nil
		}
	}
	// Walk to the end, keeping the top-level tokens, and refuse a second
	// statement.
	depth := 0
	end := len(text)
	var top []token
walk:
	for {
		t, err := l.next()
		if err != nil {
			return nil, err
		}
		switch t.kind {
		case tEOF:
			break walk
		case tLParen:
			depth++
		case tRParen:
			depth--
		case tSemicolon:
			if depth <= 0 {
				rest := t
				for rest.kind == tSemicolon {
					if rest, err = l.next(); err != nil {
						return nil, err
					}
				}
				if rest.kind != tEOF {
					return nil, &syntaxError{t.start, errMultiStatement.Error()}
				}
				end = t.start
				break walk
			}
		}
		if depth == 0 && t.kind == tWord {
			top = append(top, t)
		}
	}
	st.Text = strings.TrimRight(text[:end], " \t\r\n")
	st.Format, st.FormatAt = outputFormat(l, top)
	if st.Insert != nil {
		st.Insert.Target = st.Text
	}
	return st, nil
}

// outputFormat finds a query's FORMAT clause among its top-level words: the
// last "FORMAT name" followed by nothing but an optional SETTINGS clause.
// (A column called format, as in `SELECT format FROM t`, is followed by more.)
func outputFormat(l *lexer, top []token) (string, int) {
	for i := len(top) - 2; i >= 0; i-- {
		if !l.is(top[i], "FORMAT") || (i > 0 && l.is(top[i-1], "AS")) {
			continue
		}
		rest := top[i+2:]
		if len(rest) == 0 || l.is(rest[0], "SETTINGS") {
			return l.text(top[i+1]), top[i].start
		}
		return "", -1
	}
	return "", -1
}
