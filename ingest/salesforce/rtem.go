package salesforce

import (
	"fmt"
	"strings"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// commonFields are the fields most Real-Time Event Monitoring objects share.
// Id is listed because it is known and deliberately unused: on a REST query of
// a big object it is a placeholder (000000000000000AAA), not the event's id;
// EventIdentifier is.
var commonFields = []string{
	"Id", "attributes", "CreatedDate", "CreatedById", "EventDate", "EventIdentifier", "EventUuid", "ReplayId",
	"UserId", "Username", "UserType", "SourceIp", "SessionKey", "LoginKey", "SessionLevel",
	"LoginHistoryId", "RelatedEventIdentifier", "PolicyId", "PolicyOutcome", "EvaluationTime",
}

func known(extra ...string) map[string]bool {
	return record.KnownSet(append(append([]string{}, commonFields...), extra...)...)
}

// rtem carries one RTEM record through its mapping.
type rtem struct {
	obj    record.Object
	ev     event.Event
	labels record.Labels
	f      fieldReader
}

// startRTEM maps what every RTEM object shares: the id (from
// EventIdentifier), EventDate, the acting user, source IP, session, and the
// transaction-security policy outcome.
func startRTEM(obj record.Object, meta record.Meta, object string) (*rtem, error) {
	if err := checkObjectType(obj, object); err != nil {
		return nil, err
	}
	eid, err := obj.RequiredString("EventIdentifier")
	if err != nil {
		return nil, err
	}
	id, err := record.SourceID("sf-", eid, obj.Path("EventIdentifier"))
	if err != nil {
		return nil, err
	}
	ts, err := RequiredTime(obj, "EventDate")
	if err != nil {
		return nil, err
	}
	r := &rtem{obj: obj, ev: newEvent(meta, id, eid, ts), labels: make(record.Labels, 16), f: fieldReader{obj: obj}}
	f := &r.f
	r.ev.User.Name = f.str("Username")
	r.ev.Client.IP = clientIP(f.str("SourceIp"), r.labels, "source_ip")
	r.ev.Client.SessionID = f.str("SessionKey")
	f.labels(r.labels,
		"LoginKey", "login_key",
		"SessionLevel", "session_level",
		"LoginHistoryId", "login_history_id",
		"RelatedEventIdentifier", "related_event_id",
		"PolicyId", "policy_id",
		"UserType", "user_type",
	)
	if f.err != nil {
		return nil, f.err
	}
	if err := applyPolicy(obj, &r.ev, r.labels); err != nil {
		return nil, err
	}
	return r, nil
}

// actor sets user.id from UserId, which every RTEM object but LoginAsEvent
// uses for the acting user.
func (r *rtem) actor() error {
	id, err := idField(r.obj, "UserId", true)
	r.ev.User.ID = id
	return err
}

func (r *rtem) finish(knownFields map[string]bool) (event.Event, error) {
	if r.f.err != nil {
		return event.Event{}, r.f.err
	}
	r.labels.AddExtras(r.obj, knownFields, labelPrefix+"extra.")
	r.ev.Labels = r.labels.Map()
	return r.ev, nil
}

var loginEventFields = known("AdditionalInfo", "ApiType", "ApiVersion", "Application", "AuthMethodReference",
	"AuthServiceId", "Browser", "CipherSuite", "City", "ClientVersion", "Country", "CountryIso",
	"ForwardedForIp", "HttpMethod", "HttpReferer", "LoginGeoId", "LoginLatitude", "LoginLongitude",
	"LoginSubType", "LoginType", "LoginUrl", "NetworkId", "Platform", "PostalCode", "RemoteIdentifier",
	"Status", "Subdivision", "TlsProtocol", "UseApiToken", "AuthContextClassReference")

// LoginEvent maps one LoginEvent row (Platform Events Developer Guide,
// "LoginEvent").
func LoginEvent(obj record.Object, meta record.Meta) (event.Event, error) {
	r, err := startRTEM(obj, meta, "LoginEvent")
	if err != nil {
		return event.Event{}, err
	}
	if err := r.actor(); err != nil {
		return event.Event{}, err
	}
	f, ev := &r.f, &r.ev
	ev.Event.Category, ev.Event.Action = "authentication", "login"
	// Status is "Success" or the failure reason in words; a blocking
	// PolicyOutcome (applied in startRTEM) wins over a successful status.
	status := f.str("Status")
	r.labels.Set(labelPrefix+"status", status)
	if ev.Event.Outcome != "failure" {
		switch {
		case status == "":
			ev.Event.Outcome = "unknown"
		case strings.EqualFold(status, "Success"):
			ev.Event.Outcome = "success"
		default:
			ev.Event.Outcome, ev.Event.Reason = "failure", loginReason(status)
		}
	}
	apiType, app, loginType := f.str("ApiType"), f.str("Application"), f.str("LoginType")
	ev.Client.AccessMethod = loginAccessMethod(apiType, app, loginType)
	ev.Client.Geo.Country = upperCountry(f.str("CountryIso"), r.labels, labelPrefix+"country_iso")
	ev.Client.Geo.Region = f.str("Subdivision")
	ev.Client.Geo.City = f.str("City")
	if err := coords(r.obj, ev, "LoginLatitude", "LoginLongitude"); err != nil {
		return event.Event{}, err
	}
	r.labels.Set(labelPrefix+"api_type", apiType)
	r.labels.Set(labelPrefix+"application", app)
	r.labels.Set(labelPrefix+"login_type", loginType)
	f.labels(r.labels,
		"LoginSubType", "login_sub_type",
		"ApiVersion", "api_version",
		"Browser", "browser",
		"Platform", "platform",
		"LoginUrl", "login_url",
		"ForwardedForIp", "forwarded_for_ip",
		"TlsProtocol", "tls_protocol",
		"AuthServiceId", "auth_service_id",
		"LoginGeoId", "login_geo_id",
		"ClientVersion", "client_version",
		"Country", "country",
		"PostalCode", "postal_code",
		"HttpMethod", "http_method",
		"UseApiToken", "use_api_token",
	)
	return r.finish(loginEventFields)
}

// loginAccessMethod derives the access method of a login from the fields
// that say how the client came in: a mobile app by name, an API type, or an
// interactive login type. Nothing is guessed from the rest.
func loginAccessMethod(apiType, application, loginType string) string {
	switch {
	case strings.Contains(application, "iOS") || strings.Contains(application, "Android"):
		return "mobile"
	case apiType != "" && apiType != "N/A":
		return "api"
	case loginType == "Application" || strings.HasPrefix(loginType, "SAML") || application == "Browser":
		return "web"
	}
	return ""
}

// coords sets client.geo.lat/lon when both fields are present.
func coords(obj record.Object, ev *event.Event, latKey, lonKey string) error {
	lat, okLat, err := obj.Float(latKey)
	if err != nil {
		return err
	}
	lon, okLon, err := obj.Float(lonKey)
	if err != nil {
		return err
	}
	if !okLat || !okLon {
		return nil
	}
	if lat < -90 || lat > 90 {
		return fmt.Errorf("%s: %v is not a latitude", obj.Path(latKey), lat)
	}
	if lon < -180 || lon > 180 {
		return fmt.Errorf("%s: %v is not a longitude", obj.Path(lonKey), lon)
	}
	ev.Client.Geo.Lat, ev.Client.Geo.Lon, ev.Client.Geo.HasCoords = lat, lon, true
	return nil
}

var logoutEventFields = known("Platform")

// LogoutEvent maps one LogoutEvent row.
func LogoutEvent(obj record.Object, meta record.Meta) (event.Event, error) {
	r, err := startRTEM(obj, meta, "LogoutEvent")
	if err != nil {
		return event.Event{}, err
	}
	if err := r.actor(); err != nil {
		return event.Event{}, err
	}
	r.ev.Event.Category, r.ev.Event.Action = "session", "logout"
	r.f.labels(r.labels, "Platform", "platform")
	return r.finish(logoutEventFields)
}

var loginAsEventFields = known("Application", "Browser", "DelegatedOrganizationId", "DelegatedUsername",
	"LoginAsCategory", "LoginType", "Platform", "TargetUrl")

// LoginAsEvent maps one LoginAsEvent row: an administrator logging in as
// another user.
//
// Its UserId and Username are the impersonated user, not the actor; the
// administrator is named only by DelegatedUsername, a username with no id.
// The canonical event puts the administrator in user (user.id and user.name
// are both the DelegatedUsername, label sf.user_id_kind=username says so) and
// the impersonated account in target_user, so rules about "who impersonated
// whom" read it the right way round. A row without DelegatedUsername is
// refused: its actor is unknown.
func LoginAsEvent(obj record.Object, meta record.Meta) (event.Event, error) {
	r, err := startRTEM(obj, meta, "LoginAsEvent")
	if err != nil {
		return event.Event{}, err
	}
	f, ev := &r.f, &r.ev
	admin, err := obj.RequiredString("DelegatedUsername")
	if err != nil {
		return event.Event{}, fmt.Errorf("%w: it names the administrator, the actor of a login-as", err)
	}
	target, err := idField(obj, "UserId", true)
	if err != nil {
		return event.Event{}, err
	}
	ev.TargetUser = event.TargetUser{ID: target, Name: ev.User.Name}
	ev.User.ID, ev.User.Name = admin, admin
	r.labels.Set(labelPrefix+"user_id_kind", "username")
	ev.Event.Category, ev.Event.Action = "authentication", "login_as"
	f.labels(r.labels,
		"LoginAsCategory", "login_as_category",
		"DelegatedOrganizationId", "delegated_org_id",
		"LoginType", "login_type",
		"Application", "application",
		"Browser", "browser",
		"Platform", "platform",
		"TargetUrl", "target_url",
	)
	return r.finish(loginAsEventFields)
}
