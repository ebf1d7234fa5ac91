package record

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode/utf8"
)

func readAllRows(t *testing.T, in string) (rows []*Row, lineErrs []*LineError) {
	t.Helper()
	cr, err := NewCSVReader(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		row, err := cr.Next()
		var le *LineError
		switch {
		case err == io.EOF:
			return rows, lineErrs
		case errors.As(err, &le):
			lineErrs = append(lineErrs, le)
		case err != nil:
			t.Fatal(err)
		default:
			rows = append(rows, row)
		}
	}
	t.Fatal("reader did not end")
	return nil, nil
}

func TestCSVReader(t *testing.T) {
	in := "\xEF\xBB\xBFA,B\r\n" + // BOM and CRLF, as spreadsheet tools and Salesforce write
		"1,\"two, with comma\"\r\n" +
		"\r\n" + // a blank line is skipped
		"3,\"multi\nline\"\r\n" +
		"5,6,7\r\n" + // too many fields: reported, reading goes on
		"8,\"say \"\"hi\"\"\"\r\n" +
		"9,\xff\r\n" + // invalid UTF-8
		"10,\"unterminated\r\n"
	rows, errs := readAllRows(t, in)
	if len(rows) != 3 {
		t.Fatalf("got %d rows, want 3", len(rows))
	}
	if v, _ := rows[0].Get("B"); v != "two, with comma" || rows[0].Line != 2 {
		t.Errorf("row 1: B=%q line %d", v, rows[0].Line)
	}
	if v := rows[1].Value("B"); v != "multi\nline" || rows[1].Line != 4 {
		t.Errorf("row 2: B=%q line %d", v, rows[1].Line)
	}
	if v := rows[2].Value("B"); v != `say "hi"` || rows[2].Line != 7 {
		t.Errorf("row 3: B=%q line %d", v, rows[2].Line)
	}
	wantErrs := []string{"line 6: row has 3 fields, the header has 2 columns", "line 8: column B is not valid UTF-8", "line 9:"}
	if len(errs) != len(wantErrs) {
		t.Fatalf("errors %v, want %d", errs, len(wantErrs))
	}
	for i, w := range wantErrs {
		if !strings.HasPrefix(errs[i].Error(), w) {
			t.Errorf("error %d = %q, want prefix %q", i, errs[i], w)
		}
	}
	if _, err := rows[0].Require("C"); err == nil || err.Error() != "missing column C" {
		t.Errorf("Require(C) = %v", err)
	}
}

func TestCSVHeaderErrors(t *testing.T) {
	for in, want := range map[string]string{
		"":                   "missing header row",
		"A,A\n1,2\n":         "names column A twice",
		"A,,B\n":             "header column 2 has no name",
		"A,\xff\n":           "not valid UTF-8",
		"\"A\nB\"\"x,C\n1,2": "reading header row",
	} {
		_, err := NewCSVReader(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NewCSVReader(%q) = %v, want %q", in, err, want)
		}
	}
}

func TestCanonicalBytesIgnoreColumnOrder(t *testing.T) {
	a, _ := readAllRows(t, "A,B\n1,2\n")
	b, _ := readAllRows(t, "B,A\n2,1\n")
	c, _ := readAllRows(t, "A,B\n12,\n")
	if !bytes.Equal(a[0].CanonicalBytes(), b[0].CanonicalBytes()) {
		t.Error("the same row with columns reordered has different canonical bytes")
	}
	if bytes.Equal(a[0].CanonicalBytes(), c[0].CanonicalBytes()) {
		t.Error("A=1,B=2 and A=12,B= collide: values are not length-prefixed")
	}
}

func TestLineReader(t *testing.T) {
	in := "{\"a\":1}\r\n\n   \n{\"b\":2}\n" + strings.Repeat("x", 100) + "\n{\"c\":3}"
	lr := NewLineReader(strings.NewReader(in), 50)
	type got struct {
		line int
		data string
		err  string
	}
	var all []got
	for {
		data, line, err := lr.Next()
		if err == io.EOF {
			break
		}
		g := got{line: line, data: string(data)}
		if err != nil {
			g.err = err.Error()
		}
		all = append(all, g)
	}
	want := []got{
		{1, `{"a":1}`, ""},
		{4, `{"b":2}`, ""},
		{5, "", "line 5: line is longer than the 50-byte limit"},
		{6, `{"c":3}`, ""}, // no final newline
	}
	if len(all) != len(want) {
		t.Fatalf("got %+v, want %+v", all, want)
	}
	for i := range want {
		if all[i] != want[i] {
			t.Errorf("record %d = %+v, want %+v", i, all[i], want[i])
		}
	}
}

func TestLineReaderLongLineAcrossBuffers(t *testing.T) {
	// A line far longer than the reader's 64 KiB buffer is skipped whole,
	// and the next line keeps its number.
	in := strings.Repeat("y", 300<<10) + "\n{}\n"
	lr := NewLineReader(strings.NewReader(in), 0)
	if _, line, err := lr.Next(); line != 1 || err == nil {
		t.Fatalf("line %d err %v, want line 1 too long", line, err)
	}
	if data, line, err := lr.Next(); err != nil || line != 2 || string(data) != "{}" {
		t.Fatalf("got %q line %d err %v", data, line, err)
	}
}

func TestCanonicalJSON(t *testing.T) {
	a, err := CanonicalJSON([]byte(`{"b":[1,{"y":true,"x":null}],"a":"s\u00e9","n":1.50}`))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a":"sé","b":[1,{"x":null,"y":true}],"n":1.50}`; string(a) != want {
		t.Errorf("got %s, want %s", a, want)
	}
}

func TestObjectAccessors(t *testing.T) {
	o, err := ParseObject([]byte(`{"s":"x","n":5000.0,"f":1.5,"ns":"12","b":false,"o":{"k":"v"},"z":null,"big":1e300}`))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok, err := o.Int("n"); n != 5000 || !ok || err != nil {
		t.Errorf("Int(n) = %d %v %v", n, ok, err)
	}
	if n, ok, err := o.Int("ns"); n != 12 || !ok || err != nil {
		t.Errorf("Int(ns) = %d %v %v", n, ok, err)
	}
	if _, _, err := o.Int("f"); err == nil {
		t.Error("Int(1.5) accepted")
	}
	if _, _, err := o.Int("big"); err == nil {
		t.Error("Int(1e300) accepted")
	}
	if _, ok, err := o.Int("z"); ok || err != nil {
		t.Error("null is not absent")
	}
	if _, err := o.String("n"); err == nil || err.Error() != "n: want a string, got number 5000.0" {
		t.Errorf("String(n) = %v", err)
	}
	sub, ok, err := o.Object("o")
	if !ok || err != nil || sub.Path("k") != "o.k" {
		t.Errorf("Object(o): %v %v path %q", ok, err, sub.Path("k"))
	}
	if b, ok, err := o.Bool("b"); b || !ok || err != nil {
		t.Errorf("Bool(b) = %v %v %v", b, ok, err)
	}
}

// FuzzCSVReader: no input panics or loops; every row it returns has one
// value per header column, in valid UTF-8.
func FuzzCSVReader(f *testing.F) {
	f.Add([]byte("A,B\n1,2\n"))
	f.Add([]byte("\xEF\xBB\xBFA,B\r\n1,\"x\ny\"\r\n3,4,5\n\"bad"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cr, err := NewCSVReader(bytes.NewReader(data))
		if err != nil {
			return
		}
		n := len(cr.Header().Names())
		last := cr.Offset()
		for i := 0; i <= len(data)+1; i++ {
			row, err := cr.Next()
			if err == io.EOF {
				return
			}
			if off := cr.Offset(); off <= last || off > int64(len(data)) || !bytes.Contains(data[last:off], cr.Raw()) {
				t.Fatalf("offset %d after %d (input %d bytes), raw %q", off, last, len(data), cr.Raw())
			}
			last = cr.Offset()
			if err != nil {
				var le *LineError
				if !errors.As(err, &le) {
					t.Fatalf("error %v is not a LineError", err)
				}
				continue
			}
			if len(row.values) != n {
				t.Fatalf("row has %d values, header %d", len(row.values), n)
			}
		}
		t.Fatal("reader returned more records than the input has bytes")
	})
}

// FuzzLineReader: no input panics or loops; line numbers only grow.
func FuzzLineReader(f *testing.F) {
	f.Add([]byte("{}\n\n{}\r\n"), 8)
	f.Fuzz(func(t *testing.T, data []byte, max int) {
		lr := NewLineReader(bytes.NewReader(data), max%4096)
		last := 0
		for i := 0; i <= len(data)+1; i++ {
			before := lr.Offset()
			data2, line, err := lr.Next()
			if err == io.EOF {
				if lr.Offset() != int64(len(data)) {
					t.Fatalf("EOF at offset %d of %d", lr.Offset(), len(data))
				}
				return
			}
			if line <= last {
				t.Fatalf("line %d after %d", line, last)
			}
			if lr.Offset() <= before || err == nil && !bytes.Contains(data[before:lr.Offset()], data2) {
				t.Fatalf("offset %d after %d for %q", lr.Offset(), before, data2)
			}
			last = line
		}
		t.Fatal("reader returned more lines than the input has bytes")
	})
}

// FuzzParseObject checks the fast object splitter against encoding/json:
// the same records accepted, the same members with the same values.
func FuzzParseObject(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":"x\"y","c":{"d":[1,"]}",{"e":null}]},"a":2, "\u0041" : true}`))
	f.Add([]byte(` { } `))
	f.Add([]byte(`{"k":"v"} x`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := ParseObject(data)
		var want map[string]json.RawMessage
		wantErr := json.Unmarshal(data, &want)
		if !utf8.Valid(data) {
			if err == nil {
				t.Fatal("accepted invalid UTF-8")
			}
			return
		}
		if (err == nil) != (wantErr == nil) {
			t.Fatalf("ParseObject err %v, encoding/json err %v", err, wantErr)
		}
		if err != nil {
			return
		}
		if len(got.fields) != len(want) {
			t.Fatalf("%d members, encoding/json %d", len(got.fields), len(want))
		}
		for k, w := range want {
			g, ok := got.fields[k]
			if !ok || !bytes.Equal(bytes.TrimSpace(g), bytes.TrimSpace(w)) {
				t.Fatalf("member %q = %q, encoding/json %q", k, g, w)
			}
		}
	})
}

func TestLineReaderOffsetsAndResume(t *testing.T) {
	in := "{\"a\":1}\r\n\n{\"b\":2}\n" + strings.Repeat("x", 60) + "\n{\"c\":3}"
	lr := NewLineReader(strings.NewReader(in), 50)
	var offs []int64
	for {
		_, _, err := lr.Next()
		if err == io.EOF {
			break
		}
		offs = append(offs, lr.Offset())
	}
	if lr.Lines() != 5 {
		t.Errorf("lines consumed %d, want 5", lr.Lines())
	}
	want := []int64{9, 18, 79, int64(len(in))}
	if fmt.Sprint(offs) != fmt.Sprint(want) {
		t.Fatalf("offsets %v, want %v", offs, want)
	}
	// Resuming after the second record reads the rest with the file's numbers.
	lr = NewLineReader(strings.NewReader(in[18:]), 50)
	lr.Resume(3, 18)
	if _, line, err := lr.Next(); line != 4 || err == nil || lr.Offset() != 79 {
		t.Fatalf("after resume: line %d err %v offset %d", line, err, lr.Offset())
	}
	if data, line, err := lr.Next(); string(data) != `{"c":3}` || line != 5 || err != nil || lr.Offset() != int64(len(in)) {
		t.Fatalf("after resume: %q line %d err %v offset %d", data, line, err, lr.Offset())
	}
}

func TestCSVReaderRawOffsetsAndResume(t *testing.T) {
	in := "\xEF\xBB\xBFA,B\r\n1,\"x\ny\"\r\n\n3,4,5\n\"bad\n5,6"
	cr, err := NewCSVReader(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(cr.Raw()); got != "A,B" {
		t.Errorf("header raw %q", got)
	}
	type rec struct {
		line int
		raw  string
		off  int64
		err  bool
	}
	var got []rec
	for {
		row, err := cr.Next()
		if err == io.EOF {
			break
		}
		r := rec{raw: string(cr.Raw()), off: cr.Offset(), err: err != nil}
		if err != nil {
			var le *LineError
			errors.As(err, &le)
			r.line = le.Line
		} else {
			r.line = row.Line
		}
		got = append(got, r)
	}
	want := []rec{
		{2, "1,\"x\ny\"", 17, false},
		{5, "3,4,5", 24, true},
		{6, "\"bad\n5,6", int64(len(in)), true},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("records\n got %+v\nwant %+v", got, want)
	}
	// Resuming at the offset after the first row gives the file's lines.
	h := cr.Header()
	cr2 := NewCSVReaderAt(strings.NewReader(in[17:]), h, 3, 17)
	if cr.Lines() != 6 {
		t.Errorf("lines consumed %d, want 6", cr.Lines())
	}
	if _, err := cr2.Next(); err == nil {
		t.Fatal("want the 3-field row refused")
	} else if le := new(LineError); !errors.As(err, &le) || le.Line != 5 || cr2.Offset() != 24 || string(cr2.Raw()) != "3,4,5" {
		t.Fatalf("resumed: %v offset %d raw %q", err, cr2.Offset(), cr2.Raw())
	}
}
