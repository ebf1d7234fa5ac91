package enrich

import (
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

// Person is what the directory says about an account or a person.
type Person struct {
	Role       string `json:"role"`
	Department string `json:"department"`
	Manager    string `json:"manager"`
}

// Directory maps account ids, person ids and login names to directory
// attributes.
type Directory struct {
	byKey map[string]Person
}

// Lookup finds the entry for an event's account id, else its person id,
// else its login name.
func (d *Directory) Lookup(userID, personID, userName string) (Person, bool) {
	for _, k := range [...]string{userID, personID, userName} {
		if k == "" {
			continue
		}
		if p, ok := d.byKey[k]; ok {
			return p, true
		}
	}
	return Person{}, false
}

// Len is the number of keys the directory holds.
func (d *Directory) Len() int { return len(d.byKey) }

// LoadDirectory reads a directory file: CSV with a header row (columns
// id, role, department, manager; others ignored) or JSON, an array of
// objects with those members, by the file's extension (.csv, .json).
// Every error names the file and the line or element.
func LoadDirectory(path string) (*Directory, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading directory file: %w", err)
	}
	var d *Directory
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		d, err = parseCSV(b)
	case ".json":
		d, err = parseJSON(b)
	default:
		return nil, fmt.Errorf("directory file %s: extension must be .csv or .json", path)
	}
	if err != nil {
		return nil, fmt.Errorf("directory file %s: %w", path, err)
	}
	return d, nil
}

func parseCSV(b []byte) (*Directory, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("line 1: reading the header: %w", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	idCol, ok := col["id"]
	if !ok {
		return nil, errors.New("line 1: the header has no id column")
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	d := &Directory{byKey: map[string]Person{}}
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return d, nil
		}
		if err != nil {
			return nil, err // csv errors carry the line
		}
		line, _ := r.FieldPos(0)
		if idCol >= len(rec) || strings.TrimSpace(rec[idCol]) == "" {
			return nil, fmt.Errorf("line %d: id is empty", line)
		}
		id := strings.TrimSpace(rec[idCol])
		if _, dup := d.byKey[id]; dup {
			return nil, fmt.Errorf("line %d: id %q is listed twice", line, id)
		}
		d.byKey[id] = Person{Role: get(rec, "role"), Department: get(rec, "department"), Manager: get(rec, "manager")}
	}
}

func parseJSON(b []byte) (*Directory, error) {
	var entries []struct {
		ID string `json:"id"`
		Person
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&entries); err != nil {
		return nil, fmt.Errorf("want an array of {id, role, department, manager}: %w", err)
	}
	d := &Directory{byKey: make(map[string]Person, len(entries))}
	for i, e := range entries {
		if e.ID == "" {
			return nil, fmt.Errorf("[%d].id: required", i)
		}
		if _, dup := d.byKey[e.ID]; dup {
			return nil, fmt.Errorf("[%d].id: %q is listed twice", i, e.ID)
		}
		d.byKey[e.ID] = e.Person
	}
	return d, nil
}
