package event

// The variable-length parts of the event: changes, related and labels. Their
// element errors are built with paths relative to the element and placed
// under it (changes[3].old) only when an error happens, so the success path
// formats no path.

func (d *decoder) changes(e *Event) *ValidationError {
	empty, err := d.beginArray("changes")
	if err != nil {
		return err
	}
	for more := !empty; more; {
		i := len(e.Changes)
		e.Changes = append(e.Changes, Change{})
		if err := d.change(&e.Changes[i]); err != nil {
			return under("changes", i, err)
		}
		if more, err = d.moreElements(); err != nil {
			return err
		}
	}
	return checkCount("changes", len(e.Changes), d.opts.MaxChanges, "entries")
}

// change reads one {field, old, new}: all three required, field not empty.
func (d *decoder) change(c *Change) *ValidationError {
	empty, err := d.beginObject("")
	if err != nil {
		return err
	}
	var seen uint32
	for more := !empty; more; {
		k, err := d.key("")
		if err != nil {
			return err
		}
		switch k {
		case "field":
			err = d.required(&c.Field, &seen, 1, "field")
		case "old":
			err = d.optional(&c.Old, &seen, 2, "old")
		case "new":
			err = d.optional(&c.New, &seen, 4, "new")
		default:
			err = fail(keyPath("", k), KindUnknownField, "unknown field")
		}
		if err != nil {
			return err
		}
		if more, err = d.more(); err != nil {
			return err
		}
	}
	switch {
	case seen&1 == 0:
		return fail("field", KindRequired, "required")
	case seen&2 == 0:
		return fail("old", KindRequired, "required")
	case seen&4 == 0:
		return fail("new", KindRequired, "required")
	}
	return nil
}

func (d *decoder) related(e *Event) *ValidationError {
	empty, err := d.beginArray("related")
	if err != nil {
		return err
	}
	for more := !empty; more; {
		i := len(e.Related)
		e.Related = append(e.Related, Related{})
		if err := d.relatedItem(&e.Related[i]); err != nil {
			return under("related", i, err)
		}
		if more, err = d.moreElements(); err != nil {
			return err
		}
	}
	return nil
}

// relatedItem reads one {type, id}: both required and not empty.
func (d *decoder) relatedItem(r *Related) *ValidationError {
	empty, err := d.beginObject("")
	if err != nil {
		return err
	}
	var seen uint32
	for more := !empty; more; {
		k, err := d.key("")
		if err != nil {
			return err
		}
		switch k {
		case "type":
			err = d.required(&r.Type, &seen, 1, "type")
		case "id":
			err = d.required(&r.ID, &seen, 2, "id")
		default:
			err = fail(keyPath("", k), KindUnknownField, "unknown field")
		}
		if err != nil {
			return err
		}
		if more, err = d.more(); err != nil {
			return err
		}
	}
	switch {
	case seen&1 == 0:
		return fail("type", KindRequired, "required")
	case seen&2 == 0:
		return fail("id", KindRequired, "required")
	}
	return nil
}

// under places an element's error at its index: "old" becomes
// "changes[3].old", "" becomes "changes[3]". Syntax errors stay as they are.
func under(array string, i int, err *ValidationError) *ValidationError {
	if err.Offset < 0 {
		err.Path = indexPath(array, i, err.Path)
	}
	return err
}

func (d *decoder) labels(e *Event) *ValidationError {
	empty, err := d.beginObject("labels")
	if err != nil {
		return err
	}
	if e.Labels == nil && !empty {
		e.Labels = make(map[string]string, 4)
	}
	for more := !empty; more; {
		k, err := d.key("labels")
		if err != nil {
			return err
		}
		if _, dup := e.Labels[k]; dup {
			return fail(keyPath("labels", k), KindDuplicateKey, "duplicate key")
		}
		v, err := d.stringValue("")
		if err != nil {
			if err.Offset < 0 {
				err.Path = keyPath("labels", k)
			}
			return err
		}
		e.Labels[k] = v
		if more, err = d.more(); err != nil {
			return err
		}
	}
	return checkCount("labels", len(e.Labels), d.opts.MaxLabels, "keys")
}
