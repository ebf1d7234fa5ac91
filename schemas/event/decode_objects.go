package event

// The nested objects of the event. Each reads its members in any order,
// refuses unknown and repeated keys, and checks its required members when
// it closes.

func (d *decoder) source(s *Source) *ValidationError {
	empty, err := d.beginObject("source")
	if err != nil {
		return err
	}
	var seen uint32
	for more := !empty; more; {
		k, err := d.key("source")
		if err != nil {
			return err
		}
		switch k {
		case "system":
			err = d.required(&s.System, &seen, 1, "source.system")
		case "id":
			err = d.optional(&s.ID, &seen, 2, "source.id")
		case "collector":
			err = d.optional(&s.Collector, &seen, 4, "source.collector")
		default:
			err = fail(keyPath("source", k), KindUnknownField, "unknown field")
		}
		if err != nil {
			return err
		}
		if more, err = d.more(); err != nil {
			return err
		}
	}
	if seen&1 == 0 {
		return fail("source.system", KindRequired, "required")
	}
	return nil
}

func (d *decoder) activity(a *Activity) *ValidationError {
	empty, err := d.beginObject("event")
	if err != nil {
		return err
	}
	var seen uint32
	for more := !empty; more; {
		k, err := d.key("event")
		if err != nil {
			return err
		}
		switch k {
		case "category":
			err = d.enum(&a.Category, &seen, 1, "event.category", category, Categories)
		case "action":
			err = d.required(&a.Action, &seen, 2, "event.action")
		case "outcome":
			err = d.enum(&a.Outcome, &seen, 4, "event.outcome", outcome, Outcomes)
		case "reason":
			err = d.optional(&a.Reason, &seen, 8, "event.reason")
		default:
			err = fail(keyPath("event", k), KindUnknownField, "unknown field")
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
		return fail("event.category", KindRequired, "required")
	case seen&2 == 0:
		return fail("event.action", KindRequired, "required")
	case seen&4 == 0:
		return fail("event.outcome", KindRequired, "required")
	}
	return nil
}

func (d *decoder) user(u *User) *ValidationError {
	empty, err := d.beginObject("user")
	if err != nil {
		return err
	}
	var seen uint32
	for more := !empty; more; {
		k, err := d.key("user")
		if err != nil {
			return err
		}
		switch k {
		case "id":
			err = d.required(&u.ID, &seen, 1, "user.id")
		case "name":
			err = d.optional(&u.Name, &seen, 2, "user.name")
		case "person_id":
			err = d.optional(&u.PersonID, &seen, 4, "user.person_id")
		case "employee_id":
			err = d.optional(&u.EmployeeID, &seen, 8, "user.employee_id")
		case "role":
			err = d.optional(&u.Role, &seen, 16, "user.role")
		case "department":
			err = d.optional(&u.Department, &seen, 32, "user.department")
		case "type":
			err = d.enum(&u.Type, &seen, 64, "user.type", userType, UserTypes)
		case "timezone":
			if err = d.optional(&u.Timezone, &seen, 128, "user.timezone"); err == nil {
				err = checkZone(u.Timezone, d.opts.ResolveTimezone)
			}
		default:
			err = fail(keyPath("user", k), KindUnknownField, "unknown field")
		}
		if err != nil {
			return err
		}
		if more, err = d.more(); err != nil {
			return err
		}
	}
	if seen&1 == 0 {
		return fail("user.id", KindRequired, "required")
	}
	return nil
}

func (d *decoder) client(c *Client) *ValidationError {
	empty, err := d.beginObject("client")
	if err != nil {
		return err
	}
	var seen uint32
	for more := !empty; more; {
		k, err := d.key("client")
		if err != nil {
			return err
		}
		switch k {
		case "ip":
			if err = d.optional(&c.IP, &seen, 1, "client.ip"); err == nil {
				err = checkIP(c.IP)
			}
		case "user_agent":
			err = d.optional(&c.UserAgent, &seen, 2, "client.user_agent")
		case "device_id":
			err = d.optional(&c.DeviceID, &seen, 4, "client.device_id")
		case "session_id":
			err = d.optional(&c.SessionID, &seen, 8, "client.session_id")
		case "access_method":
			err = d.enum(&c.AccessMethod, &seen, 16, "client.access_method", accessMethod, AccessMethods)
		case "geo":
			if err = duplicate(&seen, 32, "client.geo"); err == nil {
				err = d.geo(&c.Geo)
			}
		default:
			err = fail(keyPath("client", k), KindUnknownField, "unknown field")
		}
		if err != nil {
			return err
		}
		if more, err = d.more(); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) geo(g *Geo) *ValidationError {
	empty, err := d.beginObject("client.geo")
	if err != nil {
		return err
	}
	var seen uint32
	for more := !empty; more; {
		k, err := d.key("client.geo")
		if err != nil {
			return err
		}
		switch k {
		case "country":
			if err = d.optional(&g.Country, &seen, 1, "client.geo.country"); err == nil {
				err = checkCountry(g.Country)
			}
		case "region":
			err = d.optional(&g.Region, &seen, 2, "client.geo.region")
		case "city":
			err = d.optional(&g.City, &seen, 4, "client.geo.city")
		case "lat":
			err = d.degrees(&g.Lat, &seen, 8, "client.geo.lat", 90)
		case "lon":
			err = d.degrees(&g.Lon, &seen, 16, "client.geo.lon", 180)
		default:
			err = fail(keyPath("client.geo", k), KindUnknownField, "unknown field")
		}
		if err != nil {
			return err
		}
		if more, err = d.more(); err != nil {
			return err
		}
	}
	// One flag says both coordinates are there: half a position is none.
	switch seen & (8 | 16) {
	case 8:
		return fail("client.geo.lon", KindRequired, "required with client.geo.lat")
	case 16:
		return fail("client.geo.lat", KindRequired, "required with client.geo.lon")
	case 8 | 16:
		g.HasCoords = true
	}
	return nil
}

func (d *decoder) object(o *Object) *ValidationError {
	empty, err := d.beginObject("object")
	if err != nil {
		return err
	}
	var seen uint32
	for more := !empty; more; {
		k, err := d.key("object")
		if err != nil {
			return err
		}
		switch k {
		case "type":
			err = d.optional(&o.Type, &seen, 1, "object.type")
		case "id":
			err = d.optional(&o.ID, &seen, 2, "object.id")
		case "name":
			err = d.optional(&o.Name, &seen, 4, "object.name")
		case "owner_id":
			err = d.optional(&o.OwnerID, &seen, 8, "object.owner_id")
		default:
			err = fail(keyPath("object", k), KindUnknownField, "unknown field")
		}
		if err != nil {
			return err
		}
		if more, err = d.more(); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) targetUser(t *TargetUser) *ValidationError {
	empty, err := d.beginObject("target_user")
	if err != nil {
		return err
	}
	var seen uint32
	for more := !empty; more; {
		k, err := d.key("target_user")
		if err != nil {
			return err
		}
		switch k {
		case "id":
			err = d.optional(&t.ID, &seen, 1, "target_user.id")
		case "name":
			err = d.optional(&t.Name, &seen, 2, "target_user.name")
		default:
			err = fail(keyPath("target_user", k), KindUnknownField, "unknown field")
		}
		if err != nil {
			return err
		}
		if more, err = d.more(); err != nil {
			return err
		}
	}
	return nil
}

func (d *decoder) permission(p *Permission) *ValidationError {
	empty, err := d.beginObject("permission")
	if err != nil {
		return err
	}
	var seen uint32
	for more := !empty; more; {
		k, err := d.key("permission")
		if err != nil {
			return err
		}
		switch k {
		case "name":
			err = d.optional(&p.Name, &seen, 1, "permission.name")
		case "scope":
			err = d.optional(&p.Scope, &seen, 2, "permission.scope")
		default:
			err = fail(keyPath("permission", k), KindUnknownField, "unknown field")
		}
		if err != nil {
			return err
		}
		if more, err = d.more(); err != nil {
			return err
		}
	}
	return nil
}

// enum reads a string member of a closed set, keeping the package's copy.
func (d *decoder) enum(dst *string, seen *uint32, bit uint32, path string, member func(string) (string, bool), set []string) *ValidationError {
	if err := duplicate(seen, bit, path); err != nil {
		return err
	}
	s, err := d.stringValue(path)
	if err != nil {
		return err
	}
	v, ok := member(s)
	if !ok {
		return notOneOf(path, s, set)
	}
	*dst = v
	return nil
}

// degrees reads a coordinate in [-limit, limit].
func (d *decoder) degrees(dst *float64, seen *uint32, bit uint32, path string, limit float64) *ValidationError {
	if err := duplicate(seen, bit, path); err != nil {
		return err
	}
	text, err := d.numberValue(path, "number")
	if err != nil {
		return err
	}
	v, reason := parseDegrees(text, limit)
	if reason != "" {
		return fail(path, KindRange, reason)
	}
	*dst = v
	return nil
}
