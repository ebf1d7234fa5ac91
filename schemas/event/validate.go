package event

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// Validate checks an Event built in Go against the same rules the decoder
// applies to JSON, so that what a collector publishes decodes on the other
// side: required fields (an empty required string counts as absent), enums
// and formats, ranges, the limits and the timestamp window of opts, valid
// UTF-8 in every string, and the encoded size. What only Go can get wrong is
// checked too: a timestamp finer than a millisecond or with an offset that is
// not whole minutes (JSON cannot carry either), and Records or coordinates
// set without their presence flag (the encoder would drop them). It returns
// the first problem, as a *ValidationError.
func Validate(e *Event, opts Options) error {
	o := opts.limits()
	if err := validate(e, &o); err != nil {
		return err
	}
	return nil
}

func validate(e *Event, o *Options) *ValidationError {
	if err := need("id", e.ID); err != nil {
		return err
	}
	if err := checkID(e.ID); err != nil {
		return err
	}
	if err := validateTimestamp(e.Timestamp, o); err != nil {
		return err
	}
	if err := need("tenant", e.Tenant); err != nil {
		return err
	}
	if err := first(
		need("source.system", e.Source.System),
		text("source.id", e.Source.ID),
		text("source.collector", e.Source.Collector),
	); err != nil {
		return err
	}
	if err := validateActivity(&e.Event); err != nil {
		return err
	}
	if err := validateUser(&e.User, o); err != nil {
		return err
	}
	if err := validateClient(&e.Client); err != nil {
		return err
	}
	if err := first(
		text("object.type", e.Object.Type),
		text("object.id", e.Object.ID),
		text("object.name", e.Object.Name),
		text("object.owner_id", e.Object.OwnerID),
	); err != nil {
		return err
	}
	for i := range e.Changes {
		c := &e.Changes[i]
		if err := first(need("field", c.Field), text("old", c.Old), text("new", c.New)); err != nil {
			return under("changes", i, err)
		}
	}
	if err := checkCount("changes", len(e.Changes), o.MaxChanges, "entries"); err != nil {
		return err
	}
	switch {
	case e.HasRecords && e.Records < 0:
		return fail("records", KindRange, strconv.Quote(strconv.FormatInt(e.Records, 10))+" is negative")
	case !e.HasRecords && e.Records != 0:
		return fail("records", KindRequired, "set to "+strconv.FormatInt(e.Records, 10)+" without HasRecords")
	}
	if err := text("comment", e.Comment); err != nil {
		return err
	}
	for i := range e.Related {
		if err := first(need("type", e.Related[i].Type), need("id", e.Related[i].ID)); err != nil {
			return under("related", i, err)
		}
	}
	if err := first(
		text("target_user.id", e.TargetUser.ID),
		text("target_user.name", e.TargetUser.Name),
		text("permission.name", e.Permission.Name),
		text("permission.scope", e.Permission.Scope),
	); err != nil {
		return err
	}
	for k, v := range e.Labels {
		if !utf8.ValidString(k) {
			return fail("labels", KindUTF8, "invalid UTF-8 in a key")
		}
		if !utf8.ValidString(v) {
			return fail(keyPath("labels", k), KindUTF8, "invalid UTF-8")
		}
	}
	if err := checkCount("labels", len(e.Labels), o.MaxLabels, "keys"); err != nil {
		return err
	}
	// The size rule is about the encoding; most events fit the stack buffer.
	var buf [2048]byte
	if n := len(AppendJSON(buf[:0], e)); n > o.MaxBytes {
		return fail("", KindSize, "event is "+strconv.Itoa(n)+" bytes encoded, limit "+strconv.Itoa(o.MaxBytes))
	}
	return nil
}

func validateTimestamp(t time.Time, o *Options) *ValidationError {
	if t.IsZero() {
		return fail("timestamp", KindRequired, "required")
	}
	if t.Nanosecond()%int(time.Millisecond) != 0 {
		return fail("timestamp", KindFormat, "finer than a millisecond (truncate it)")
	}
	_, off := t.Zone()
	if off%60 != 0 || off <= -24*3600 || off >= 24*3600 {
		return fail("timestamp", KindFormat, "UTC offset of "+strconv.Itoa(off)+"s is not ±hh:mm")
	}
	if y := t.Year(); y < 0 || y > 9999 {
		return fail("timestamp", KindFormat, "year "+strconv.Itoa(y)+" is outside 0000-9999")
	}
	return checkWindow(t, o)
}

func validateActivity(a *Activity) *ValidationError {
	if err := need("event.category", a.Category); err != nil {
		return err
	}
	if _, ok := category(a.Category); !ok {
		return notOneOf("event.category", a.Category, Categories)
	}
	if err := need("event.action", a.Action); err != nil {
		return err
	}
	if err := need("event.outcome", a.Outcome); err != nil {
		return err
	}
	if _, ok := outcome(a.Outcome); !ok {
		return notOneOf("event.outcome", a.Outcome, Outcomes)
	}
	return text("event.reason", a.Reason)
}

func validateUser(u *User, o *Options) *ValidationError {
	if err := first(
		need("user.id", u.ID),
		text("user.name", u.Name),
		text("user.person_id", u.PersonID),
		text("user.employee_id", u.EmployeeID),
		text("user.role", u.Role),
		text("user.department", u.Department),
	); err != nil {
		return err
	}
	if _, ok := userType(u.Type); u.Type != "" && !ok {
		return notOneOf("user.type", u.Type, UserTypes)
	}
	if u.Timezone != "" {
		return checkZone(u.Timezone, o.ResolveTimezone)
	}
	return nil
}

func validateClient(c *Client) *ValidationError {
	if c.IP != "" {
		if err := checkIP(c.IP); err != nil {
			return err
		}
	}
	if err := first(
		text("client.user_agent", c.UserAgent),
		text("client.device_id", c.DeviceID),
		text("client.session_id", c.SessionID),
	); err != nil {
		return err
	}
	if _, ok := accessMethod(c.AccessMethod); c.AccessMethod != "" && !ok {
		return notOneOf("client.access_method", c.AccessMethod, AccessMethods)
	}
	g := &c.Geo
	if g.Country != "" {
		if err := checkCountry(g.Country); err != nil {
			return err
		}
	}
	if err := first(text("client.geo.region", g.Region), text("client.geo.city", g.City)); err != nil {
		return err
	}
	if !g.HasCoords {
		if g.Lat != 0 || g.Lon != 0 {
			return fail("client.geo", KindRequired, "lat/lon set without HasCoords")
		}
		return nil
	}
	if err := checkLat(g.Lat); err != nil {
		return err
	}
	return checkLon(g.Lon)
}

// need is the rule for a required string built in Go, where empty is absent.
func need(path, s string) *ValidationError {
	if s == "" {
		return fail(path, KindRequired, "required")
	}
	return text(path, s)
}

// text is the rule for every string: valid UTF-8.
func text(path, s string) *ValidationError {
	if !utf8.ValidString(s) {
		return fail(path, KindUTF8, "invalid UTF-8")
	}
	return nil
}

// first returns the first error of a list of rule results.
func first(errs ...*ValidationError) *ValidationError {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
