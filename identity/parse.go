package identity

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Format is the layout of a directory file (docs/IDENTITY.md).
type Format string

// The formats Parse reads.
const (
	FormatCSV  Format = "csv"
	FormatJSON Format = "json"
	FormatSCIM Format = "scim"
)

// MaxFileBytes bounds a directory file.
const MaxFileBytes = 512 << 20

// ParseFormat checks a format name; "" means "from the file".
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "", FormatCSV, FormatJSON, FormatSCIM:
		return f, nil
	}
	return "", fmt.Errorf("directory format %q: must be csv, json or scim", s)
}

// ParseFile reads and validates the directory file at path. An empty
// format is chosen from the file: .csv is CSV; otherwise a JSON array is
// the JSON format and a JSON object a SCIM ListResponse.
func ParseFile(path string, f Format) (*Snapshot, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, filepath.Base(path), f)
}

func readFile(path string) ([]byte, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading directory: %w", err)
	}
	defer fh.Close()
	data, err := io.ReadAll(io.LimitReader(fh, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading directory %s: %w", path, err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("directory %s: larger than %d bytes", path, MaxFileBytes)
	}
	return data, nil
}

// Parse validates a directory file's content; name is the file name its
// problems cite. The error is an *InvalidError listing every problem when
// the content was readable but wrong.
func Parse(data []byte, name string, f Format) (*Snapshot, error) {
	if f == "" {
		f = detect(data, name)
	}
	var ps problems
	var entries []entry
	switch f {
	case FormatCSV:
		entries = parseCSV(data, name, &ps)
	case FormatJSON:
		entries = parseJSON(data, name, &ps)
	case FormatSCIM:
		entries = parseSCIM(data, name, &ps)
	default:
		return nil, fmt.Errorf("directory %s: unknown format %q", name, f)
	}
	if ps.full() {
		return nil, ps.err()
	}
	s := build(entries, &ps)
	if err := ps.err(); err != nil {
		return nil, err
	}
	return s, nil
}

func detect(data []byte, name string) Format {
	if strings.EqualFold(filepath.Ext(name), ".csv") {
		return FormatCSV
	}
	switch t := bytes.TrimLeft(data, " \t\r\n\ufeff"); {
	case len(t) > 0 && t[0] == '[':
		return FormatJSON
	case len(t) > 0 && t[0] == '{':
		return FormatSCIM
	}
	return FormatCSV
}

// csvColumns are the columns of the CSV format, with their aliases.
var csvColumns = map[string]string{
	"person_id": "person_id", "id": "person_id",
	"given_name": "given_name", "family_name": "family_name", "display_name": "display_name",
	"emails": "emails", "email": "emails",
	"employee_id": "employee_id", "department": "department", "role": "role", "manager": "manager",
	"timezone": "timezone", "status": "status", "status_date": "status_date",
	"type": "type", "owner": "owner", "accounts": "accounts",
}

func parseCSV(data []byte, name string, ps *problems) []entry {
	data = bytes.TrimPrefix(data, []byte("\ufeff"))
	r := csv.NewReader(bufio.NewReader(bytes.NewReader(data)))
	r.ReuseRecord = false
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			ps.add(Location{File: name, Line: 1, Index: -1}, "", "empty file: a header row is required")
		} else {
			ps.add(Location{File: name, Line: 1, Index: -1}, "", "reading the header: %s", csvMessage(err))
		}
		return nil
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		c, ok := csvColumns[h]
		if !ok {
			ps.add(Location{File: name, Line: 1, Index: -1}, h, "unknown column (docs/IDENTITY.md lists the columns)")
			continue
		}
		if _, dup := col[c]; dup {
			ps.add(Location{File: name, Line: 1, Index: -1}, h, "column given twice")
		}
		col[c] = i
	}
	if _, ok := col["person_id"]; !ok {
		ps.add(Location{File: name, Line: 1, Index: -1}, "person_id", "the header has no person_id column")
		return nil
	}
	cell := func(rec []string, c string) string {
		if i, ok := col[c]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	var out []entry
	for !ps.full() {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		at := Location{File: name, Index: -1}
		if err != nil {
			// FieldPos is only defined after a successful Read.
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				at.Line = pe.StartLine
			}
			ps.add(at, "", "malformed row: %s", csvMessage(err))
			if pe == nil {
				break // not the content but the reading failed
			}
			continue // the reader resumes after the bad record
		}
		at.Line, _ = r.FieldPos(0)
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue
		}
		out = append(out, entry{
			at: at, id: cell(rec, "person_id"), given: cell(rec, "given_name"), family: cell(rec, "family_name"),
			display: cell(rec, "display_name"), emails: splitList(cell(rec, "emails")),
			employeeID: cell(rec, "employee_id"), department: cell(rec, "department"), role: cell(rec, "role"),
			manager: cell(rec, "manager"), timezone: cell(rec, "timezone"), status: cell(rec, "status"),
			statusDate: cell(rec, "status_date"), typ: cell(rec, "type"), owner: cell(rec, "owner"),
			accounts: splitList(cell(rec, "accounts")),
		})
	}
	return out
}

func csvMessage(err error) string {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// jsonPerson is one element of the JSON format.
type jsonPerson struct {
	ID          string   `json:"id"`
	GivenName   string   `json:"given_name"`
	FamilyName  string   `json:"family_name"`
	DisplayName string   `json:"display_name"`
	Emails      []string `json:"emails"`
	EmployeeID  string   `json:"employee_id"`
	Department  string   `json:"department"`
	Role        string   `json:"role"`
	Manager     string   `json:"manager"`
	Timezone    string   `json:"timezone"`
	Status      string   `json:"status"`
	StatusDate  string   `json:"status_date"`
	Type        string   `json:"type"`
	Owner       string   `json:"owner"`
	Accounts    []string `json:"accounts"`
}

func parseJSON(data []byte, name string, ps *problems) []entry {
	var out []entry
	eachElement(data, name, ps, func(i int, raw json.RawMessage) {
		at := Location{File: name, Index: i}
		var p jsonPerson
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&p); err != nil {
			ps.add(at, jsonField(err), "malformed entry: %s", jsonMessage(err))
			return
		}
		out = append(out, entry{
			at: at, id: p.ID, given: p.GivenName, family: p.FamilyName, display: p.DisplayName, emails: p.Emails,
			employeeID: p.EmployeeID, department: p.Department, role: p.Role, manager: p.Manager,
			timezone: p.Timezone, status: p.Status, statusDate: p.StatusDate, typ: p.Type, owner: p.Owner,
			accounts: p.Accounts,
		})
	})
	return out
}

// eachElement calls fn for each element of the JSON array in data,
// reporting a document that is not one.
func eachElement(data []byte, name string, ps *problems, fn func(int, json.RawMessage)) {
	d := json.NewDecoder(bytes.NewReader(data))
	at := Location{File: name, Index: -1}
	tok, err := d.Token()
	if err != nil || tok != json.Delim('[') {
		ps.add(at, "", "not a JSON array of people")
		return
	}
	for i := 0; d.More() && !ps.full(); i++ {
		var raw json.RawMessage
		if err := d.Decode(&raw); err != nil {
			ps.add(Location{File: name, Index: i}, "", "malformed JSON at byte %d: %s", d.InputOffset(), jsonMessage(err))
			return
		}
		fn(i, raw)
	}
	if ps.full() {
		return
	}
	if _, err := d.Token(); err != nil {
		ps.add(at, "", "malformed JSON at byte %d: %s", d.InputOffset(), jsonMessage(err))
		return
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		ps.add(at, "", "content after the array at byte %d", d.InputOffset())
	}
}

func jsonField(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return te.Field
	}
	if s, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		return strings.Trim(s, `"`)
	}
	return ""
}

func jsonMessage(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "a JSON " + te.Value + " where " + te.Type.String() + " belongs"
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}
