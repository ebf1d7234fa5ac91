package hubspot

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// System is the canonical source.system of every HubSpot event.
const System = "hubspot"

const labelPrefix = "hs."

// Normalizers returns one Normalizer per HubSpot input format.
func Normalizers() []record.Normalizer {
	return []record.Normalizer{
		record.NewJSON("hubspot-audit-logs", AuditLog),
		record.NewJSON("hubspot-login-activity", LoginActivity),
		record.NewJSON("hubspot-security-activity", SecurityActivity),
	}
}

// start maps what the three endpoints share: the id (prefixed by endpoint,
// since HubSpot's ids are per endpoint: the documented login and security
// examples both use id "5432653") and the time.
func start(obj record.Object, meta record.Meta, endpoint, timeKey string) (event.Event, record.Labels, error) {
	rawID, ok, err := obj.Scalar("id")
	if err != nil {
		return event.Event{}, nil, err
	}
	if !ok || rawID == "" {
		return event.Event{}, nil, obj.Missing("id")
	}
	id, err := record.SourceID("hs-"+endpoint+"-", rawID, obj.Path("id"))
	if err != nil {
		return event.Event{}, nil, err
	}
	ts, err := timeField(obj, timeKey)
	if err != nil {
		return event.Event{}, nil, err
	}
	return event.Event{
		ID:        id,
		Timestamp: ts,
		Tenant:    meta.Tenant,
		Source:    event.Source{System: System, ID: rawID, Collector: meta.Collector},
		Event:     event.Activity{Outcome: "success"},
	}, record.Labels{}, nil
}

// timeField reads a HubSpot timestamp: documented as an ISO 8601 date-time
// string in UTC ("2022-04-01T19:36:24.303Z"); epoch milliseconds (a JSON
// number, which HubSpot's filters take) are accepted too.
func timeField(obj record.Object, key string) (time.Time, error) {
	raw, ok := obj.Raw(key)
	if !ok {
		return time.Time{}, obj.Missing(key)
	}
	text, err := record.ScalarText(raw)
	if err != nil {
		return time.Time{}, obj.TypeError(key, "a date-time", raw)
	}
	var t time.Time
	if raw[0] == '"' {
		t, err = time.Parse(time.RFC3339Nano, text)
	} else {
		var ms int64
		ms, err = record.ParseInteger(text)
		t = time.UnixMilli(ms)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: %s is not a HubSpot date-time (want 2022-04-01T19:36:24.303Z or epoch milliseconds)", obj.Path(key), record.Quote(text))
	}
	if y := t.UTC().Year(); y < 1970 || y > 9999 {
		return time.Time{}, fmt.Errorf("%s: %s is out of range (year %d)", obj.Path(key), record.Quote(text), y)
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

// userID reads a HubSpot user id. HubSpot sends it as a JSON number; the
// canonical user.id is a string, so 876 becomes "876". A numeric string is
// accepted as is; anything else (a fraction, a boolean) is refused.
func userID(obj record.Object, key string) (string, bool, error) {
	raw, ok := obj.Raw(key)
	if !ok {
		return "", false, nil
	}
	text, err := record.ScalarText(raw)
	if err != nil || raw[0] == 't' || raw[0] == 'f' {
		return "", false, obj.TypeError(key, "a user id (integer)", raw)
	}
	n, err := record.ParseInteger(strings.TrimSpace(text))
	if err != nil || n < 0 {
		return "", false, fmt.Errorf("%s: %s is not a HubSpot user id (want a non-negative integer)", obj.Path(key), record.Quote(text))
	}
	return strconv.FormatInt(n, 10), true, nil
}

// client maps the address and location fields the login and security
// endpoints share. countryCode comes lower-case ("ie"); the contract wants
// ISO 3166-1 alpha-2 in upper case.
func client(obj record.Object, ev *event.Event, labels record.Labels) error {
	ip, err := obj.String("ipAddress")
	if err != nil {
		return err
	}
	if addr, err := netip.ParseAddr(strings.TrimSpace(ip)); err == nil {
		ev.Client.IP = addr.Unmap().String()
	} else {
		labels.Set(labelPrefix+"ip_address", ip)
	}
	cc, err := obj.String("countryCode")
	if err != nil {
		return err
	}
	if c, ok := record.CountryCode(cc); ok {
		ev.Client.Geo.Country = c
	} else {
		labels.Set(labelPrefix+"country_code", cc)
	}
	if ev.Client.Geo.Region, err = obj.String("regionCode"); err != nil {
		return err
	}
	loc, err := obj.String("location")
	if err != nil {
		return err
	}
	labels.Set(labelPrefix+"location", loc)
	return nil
}

func finish(obj record.Object, ev *event.Event, labels record.Labels, known map[string]bool) event.Event {
	labels.AddExtras(obj, known, labelPrefix+"extra.")
	ev.Labels = labels.Map()
	return *ev
}

var loginFields = record.KnownSet("id", "loginAt", "userId", "email", "loginSucceeded", "ipAddress",
	"userAgent", "countryCode", "regionCode", "location", "deviceType")

// LoginActivity maps one result of GET /account-info/v3/activity/login: a
// login attempt, successful or not (loginSucceeded, a boolean).
func LoginActivity(obj record.Object, meta record.Meta) (event.Event, error) {
	ev, labels, err := start(obj, meta, "login", "loginAt")
	if err != nil {
		return event.Event{}, err
	}
	ev.Event.Category, ev.Event.Action = "authentication", "login"
	uid, ok, err := userID(obj, "userId")
	if err != nil {
		return event.Event{}, err
	}
	if !ok {
		return event.Event{}, obj.Missing("userId")
	}
	ev.User.ID = uid
	if ev.User.Name, err = obj.String("email"); err != nil {
		return event.Event{}, err
	}
	switch ok, present, err := obj.Bool("loginSucceeded"); {
	case err != nil:
		return event.Event{}, err
	case !present:
		ev.Event.Outcome = "unknown"
	case ok:
		ev.Event.Outcome = "success"
	default:
		ev.Event.Outcome = "failure"
	}
	if ev.Client.UserAgent, err = obj.String("userAgent"); err != nil {
		return event.Event{}, err
	}
	if err := client(obj, &ev, labels); err != nil {
		return event.Event{}, err
	}
	device, err := obj.String("deviceType")
	if err != nil {
		return event.Event{}, err
	}
	labels.Set(labelPrefix+"device_type", device)
	return finish(obj, &ev, labels, loginFields), nil
}

var securityFields = record.KnownSet("id", "createdAt", "type", "userId", "actingUser", "objectId", "infoUrl",
	"ipAddress", "countryCode", "regionCode", "location")

// SecurityActivity maps one result of GET /account-info/v3/activity/security.
// user is userId (the acting user's name, actingUser, is an e-mail); when a
// record has no userId, the e-mail stands in as user.id and the label
// hs.user_id_kind=email says so. objectId is the object acted on; for the
// user-administration types it is also the target user.
func SecurityActivity(obj record.Object, meta record.Meta) (event.Event, error) {
	ev, labels, err := start(obj, meta, "security", "createdAt")
	if err != nil {
		return event.Event{}, err
	}
	typ, err := obj.RequiredString("type")
	if err != nil {
		return event.Event{}, err
	}
	m := securityType(typ)
	ev.Event.Category, ev.Event.Action = m.category, m.action
	acting, err := obj.String("actingUser")
	if err != nil {
		return event.Event{}, err
	}
	uid, ok, err := userID(obj, "userId")
	switch {
	case err != nil:
		return event.Event{}, err
	case ok:
		ev.User.ID = uid
	case acting != "":
		ev.User.ID = acting
		labels.Set(labelPrefix+"user_id_kind", "email")
	default:
		return event.Event{}, fmt.Errorf("%s: missing, and so is actingUser: the actor is unknown", obj.Path("userId"))
	}
	ev.User.Name = acting
	objectID, _, err := obj.Scalar("objectId")
	if err != nil {
		return event.Event{}, err
	}
	ev.Object.ID = objectID
	if m.userAdmin && objectID != "" {
		ev.Object.Type = "user"
		ev.TargetUser.ID = objectID
	}
	if err := client(obj, &ev, labels); err != nil {
		return event.Event{}, err
	}
	info, err := obj.String("infoUrl")
	if err != nil {
		return event.Event{}, err
	}
	labels.Set(labelPrefix+"type", typ)
	labels.Set(labelPrefix+"info_url", info)
	return finish(obj, &ev, labels, securityFields), nil
}

type mapping struct {
	category, action string
	userAdmin        bool
}

// securityType maps a security activity type. HubSpot documents the field
// but not its full set of values (ADD_USER is the documented example), so
// the mapping goes by the words in the type; an unrecognised type is a
// configuration change named by the type itself.
func securityType(typ string) mapping {
	t := strings.ToUpper(typ)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(t, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("TWO_FACTOR", "2FA", "MFA") && has("DISABLE", "REMOVE", "DELETE", "OFF"):
		return mapping{"authentication", "mfa_disable", false}
	case has("TWO_FACTOR", "2FA", "MFA"):
		return mapping{"authentication", "mfa_enable", false}
	case has("PASSWORD"):
		return mapping{"authentication", "password_reset", false}
	case has("LOGIN", "LOG_IN"):
		return mapping{"authentication", "login", false}
	case has("USER") && has("ADD", "CREATE", "INVITE"):
		return mapping{"permission", "user_create", true}
	case has("USER") && has("REMOVE", "DELETE", "DEACTIVATE"):
		return mapping{"permission", "user_delete", true}
	case has("PERMISSION", "ROLE", "SUPER_ADMIN"):
		return mapping{"permission", "role_change", has("USER")}
	case has("EXPORT"):
		return mapping{"export", "export", false}
	case has("API_KEY", "PRIVATE_APP", "APP_INSTALL", "OAUTH"):
		return mapping{"integration", "app_connect", false}
	}
	return mapping{"configuration", strings.ToLower(typ), false}
}
