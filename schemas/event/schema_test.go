package event

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

var update = flag.Bool("update", false, "rewrite the corpus's expected errors (testdata/corpus/invalid/*.err)")

// compileSchema compiles SchemaJSON as a validator must use it: draft
// 2020-12 (checked against its meta-schema on compile), formats asserted.
func compileSchema(tb testing.TB) *jsonschema.Schema {
	tb.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(SchemaJSON))
	if err != nil {
		tb.Fatalf("parsing the schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const url = "https://github.com/trailwatch/trailwatch/schemas/event/event.schema.json"
	if err := c.AddResource(url, doc); err != nil {
		tb.Fatal(err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		tb.Fatalf("compiling the schema: %v", err)
	}
	return sch
}

// schemaAccepts reports whether the schema accepts an input: it must parse
// as one JSON value and validate.
func schemaAccepts(sch *jsonschema.Schema, data []byte) (bool, error) {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return false, err
	}
	if err := sch.Validate(inst); err != nil {
		return false, err
	}
	return true, nil
}

// corpusOptions are the decoder options the schema can be held to: the
// limits at their defaults (which the schema states), no age limit (the
// schema has no clock; the corpus holds no timestamp ahead of testNow), and
// time zones checked for shape only (the schema cannot load them).
func corpusOptions() Options {
	o := testOptions()
	o.MaxAge = 0
	o.ResolveTimezone = false
	return o
}

type corpusFile struct {
	path  string
	data  []byte
	valid bool
}

func readCorpus(tb testing.TB) []corpusFile {
	tb.Helper()
	var files []corpusFile
	for _, dir := range []string{"valid", "invalid"} {
		paths, err := filepath.Glob(filepath.Join("testdata", "corpus", dir, "*.json"))
		if err != nil {
			tb.Fatal(err)
		}
		if len(paths) < 30 {
			tb.Fatalf("only %d files in the %s corpus", len(paths), dir)
		}
		for _, p := range paths {
			data, err := os.ReadFile(p)
			if err != nil {
				tb.Fatal(err)
			}
			files = append(files, corpusFile{path: p, data: data, valid: dir == "valid"})
		}
	}
	return files
}

// TestSchemaAndDecoderAgree holds the JSON Schema and the Go decoder to the
// same verdict on every corpus file, and the decoder to the error recorded
// beside each invalid one.
func TestSchemaAndDecoderAgree(t *testing.T) {
	sch := compileSchema(t)
	for _, f := range readCorpus(t) {
		t.Run(filepath.Base(filepath.Dir(f.path))+"/"+filepath.Base(f.path), func(t *testing.T) {
			schemaOK, schemaErr := schemaAccepts(sch, f.data)
			_, decodeErr := Decode(f.data, corpusOptions())
			if schemaOK != f.valid {
				t.Errorf("schema accepts = %v, want %v (%v)", schemaOK, f.valid, schemaErr)
			}
			if (decodeErr == nil) != f.valid {
				t.Errorf("decoder accepts = %v, want %v (%v)", decodeErr == nil, f.valid, decodeErr)
			}
			if f.valid {
				return
			}
			// Both reject for the same field: the schema's complaint is at the
			// decoder's path or at an object holding it (a missing property is
			// reported on its parent).
			if verr := decodeErr.(*ValidationError); verr.Kind != KindSyntax && !schemaBlames(schemaErr, pathTokens(t, verr.Path)) {
				t.Errorf("the schema rejects elsewhere than %q: %v", verr.Path, schemaErr)
			}
			errPath := strings.TrimSuffix(f.path, ".json") + ".err"
			got := errorText(t, decodeErr) + "\n"
			if *update {
				if err := os.WriteFile(errPath, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(errPath)
			if err != nil {
				t.Fatalf("%v (run with -update to record the decoder's error)", err)
			}
			if got != string(want) {
				t.Errorf("decoder error\n got %q\nwant %q", got, want)
			}
		})
	}
}

// pathTokens splits a decoder path into JSON Pointer tokens:
// changes[3].old is changes, 3, old; labels["a b"] is labels, a b.
func pathTokens(tb testing.TB, path string) []string {
	tb.Helper()
	var tokens []string
	for path != "" {
		switch {
		case path[0] == '.':
			path = path[1:]
		case path[0] == '[':
			end := strings.IndexByte(path, ']')
			tok := path[1:end]
			if strings.HasPrefix(tok, `"`) {
				unq, err := strconv.Unquote(tok)
				if err != nil {
					tb.Fatalf("path %q: %v", path, err)
				}
				tok = unq
			}
			tokens, path = append(tokens, tok), path[end+1:]
		default:
			end := strings.IndexAny(path, ".[")
			if end < 0 {
				end = len(path)
			}
			tokens, path = append(tokens, path[:end]), path[end:]
		}
	}
	return tokens
}

// schemaBlames reports whether some leaf of a schema validation error is at
// a prefix of tokens.
func schemaBlames(err error, tokens []string) bool {
	verr, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return false
	}
	if len(verr.Causes) == 0 {
		loc := verr.InstanceLocation
		return len(loc) <= len(tokens) && slices.Equal(loc, tokens[:len(loc)])
	}
	for _, c := range verr.Causes {
		if schemaBlames(c, tokens) {
			return true
		}
	}
	return false
}

// TestSchemaKnownDifferences pins down the rules JSON Schema cannot state:
// for each, the schema accepts what the decoder rejects, with this error.
func TestSchemaKnownDifferences(t *testing.T) {
	sch := compileSchema(t)
	live := testOptions()
	cases := []struct {
		name string
		in   string
		opts Options
		want string
	}{
		// JSON Schema sees parsed values: the parser keeps one of two keys.
		{"duplicate key", strings.Replace(mk(), `"tenant":"acme"`, `"tenant":"acme","tenant":"evil"`, 1), corpusOptions(), "tenant: duplicate key"},
		// Parsers replace bad UTF-8 and lone surrogates with U+FFFD.
		{"invalid UTF-8", mk("comment", "\"caf\xe9\""), corpusOptions(), "comment: invalid UTF-8"},
		{"lone surrogate", mk("comment", `"\ud800"`), corpusOptions(), `comment: unpaired surrogate \ud800 is not valid UTF-8`},
		// JSON Schema has no size of the encoding.
		{"over 64 KiB", mk("comment", `"`+strings.Repeat("x", DefaultMaxBytes)+`"`), corpusOptions(), "event is 65740 bytes, limit 65536"},
		// JSON Schema has no clock.
		{"too far ahead", mk("timestamp", `"2026-11-03T09:00:00.000Z"`), corpusOptions(), "timestamp: 2026-11-03T09:00:00.000Z is 1h5m52.588s ahead of the clock, limit 10m0s"},
		{"too old on the live path", mk("timestamp", `"2016-11-03T09:00:00.000Z"`), live, "timestamp: 2016-11-03T09:00:00.000Z is 87646h54m7.412s old, limit 168h0m0s"},
		// JSON Schema checks a time zone's shape, not that it exists.
		{"time zone that does not load", mk("user", `{"id":"u1","timezone":"Mars/Olympus_Mons"}`), live, `user.timezone: "Mars/Olympus_Mons" does not load: unknown time zone`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if ok, err := schemaAccepts(sch, []byte(tc.in)); !ok {
				t.Errorf("the schema rejects it (%v): move the case to the corpus", err)
			}
			_, err := Decode([]byte(tc.in), tc.opts)
			if got := errorText(t, err); got != tc.want {
				t.Errorf("decoder error\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

// hugeExponent finds numbers math/big would expand digit by digit.
var hugeExponent = regexp.MustCompile(`[eE][+-]?[0-9]{4,}`)

// FuzzSchemaAgreement holds the schema and the decoder to the same verdict
// on any input, apart from the rules the schema cannot state.
func FuzzSchemaAgreement(f *testing.F) {
	for _, c := range readCorpus(f) {
		if len(c.data) < 4096 {
			f.Add(c.data)
		}
	}
	sch := compileSchema(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		if hugeExponent.Match(data) {
			return
		}
		_, decodeErr := Decode(data, corpusOptions())
		schemaOK, schemaErr := schemaAccepts(sch, data)
		if (decodeErr == nil) == schemaOK {
			return
		}
		if decodeErr != nil {
			switch decodeErr.(*ValidationError).Kind {
			case KindUTF8, KindDuplicateKey, KindSize, KindTimeWindow:
				return // the known differences
			}
		}
		t.Fatalf("decoder: %v\nschema accepts %v: %v\ninput %q", decodeErr, schemaOK, schemaErr, data)
	})
}
