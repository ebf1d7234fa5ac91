package salesforce

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/trailwatch/trailwatch/ingest/record"
	"github.com/trailwatch/trailwatch/schemas/event"
)

// System is the canonical source.system of every Salesforce event.
const System = "salesforce"

// InternalIP is the documented value of Salesforce IP fields for requests
// from Salesforce's own infrastructure (AppExchange, Workbench): not an address.
const InternalIP = "Salesforce.com IP"

// labelPrefix starts every label this package writes.
const labelPrefix = "sf."

func newEvent(meta record.Meta, id, sourceID string, ts time.Time) event.Event {
	return event.Event{
		ID:        id,
		Timestamp: ts,
		Tenant:    meta.Tenant,
		Source:    event.Source{System: System, ID: sourceID, Collector: meta.Collector},
		Event:     event.Activity{Outcome: "success"},
	}
}

// clientIP returns the address in an IP field, or "" when the field is
// empty, is Salesforce's "Salesforce.com IP" marker, or holds something that
// is not an address; the raw value is then kept as a label so nothing is lost.
func clientIP(value string, labels record.Labels, label string) string {
	value = strings.TrimSpace(value)
	if value == "" {
		return ""
	}
	if addr, err := netip.ParseAddr(value); err == nil {
		return addr.Unmap().String()
	}
	labels.Set(labelPrefix+label, value)
	return ""
}

// policyFailures are the transaction-security PolicyOutcome values that mean
// the user did not get to do what they tried (Platform Events Developer
// Guide, PolicyOutcome on LoginEvent, ReportEvent, ListViewEvent, ApiEvent,
// PermissionSetEvent), with the canonical reason each one gives.
var policyFailures = map[string]string{
	"Block":                      "blocked_by_policy",
	"MeteringBlock":              "blocked_by_policy",
	"EndSession":                 "session_ended_by_policy",
	"FailedInvalidPassword":      "bad_password",
	"FailedPasswordLockout":      "locked",
	"TwoFADenied":                "mfa_denied",
	"TwoFAReportedDenied":        "mfa_denied",
	"TwoFAFailedGeneralError":    "mfa_failed",
	"TwoFAFailedInvalidCode":     "mfa_failed",
	"TwoFAFailedTooManyAttempts": "mfa_failed",
}

// applyPolicy reads PolicyOutcome: a blocking outcome turns the event into a
// failure whatever else the record says; every outcome is kept as a label.
func applyPolicy(obj record.Object, ev *event.Event, labels record.Labels) error {
	outcome, err := obj.String("PolicyOutcome")
	if err != nil {
		return err
	}
	labels.Set(labelPrefix+"policy_outcome", outcome)
	if reason, blocked := policyFailures[outcome]; blocked {
		ev.Event.Outcome = "failure"
		ev.Event.Reason = reason
	}
	return nil
}

// loginReasons maps login failure statuses to canonical reasons: RTEM
// LoginEvent.Status gives the LoginHistory status text ("Invalid Password"),
// the ELF Login LOGIN_STATUS an error code (LOGIN_ERROR_INVALID_PASSWORD).
// Both spellings of each documented pair are listed; unknown statuses are
// kept verbatim as the reason.
var loginReasons = map[string]string{
	"invalid password":                            "bad_password",
	"login_error_invalid_password":                "bad_password",
	"login_error_sso_pwd_invalid":                 "bad_password",
	"password lockout":                            "locked",
	"login_error_password_lockout":                "locked",
	"invalid login":                               "unknown_user",
	"login_error_invalid_username":                "unknown_user",
	"user is frozen":                              "frozen",
	"login_error_user_frozen":                     "frozen",
	"user is inactive":                            "inactive",
	"login_error_user_inactive":                   "inactive",
	"restricted ip":                               "restricted_ip",
	"login_error_restricted_domain":               "restricted_ip",
	"restricted time":                             "restricted_time",
	"login_error_restricted_time":                 "restricted_time",
	"login rate exceeded":                         "rate_limited",
	"login_error_rate_exceeded":                   "rate_limited",
	"two-factor required":                         "mfa_required",
	"login_twofactor_req":                         "mfa_required",
	"failed: computer activation required":        "verification_required",
	"login_challenge_issued":                      "verification_required",
	"failed: api security token required":         "api_token_required",
	"login_error_must_use_api_token":              "api_token_required",
	"restricted country":                          "restricted_country",
	"login_error_export_restricted":               "restricted_country",
	"failed: ip address not allowed":              "restricted_ip",
	"login_oauth_invalid_ip":                      "restricted_ip",
	"lightning login required":                    "lightning_login_required",
	"login_lightning_login":                       "lightning_login_required",
	"organization locked":                         "org_locked",
	"login_error_org_lockout":                     "org_locked",
	"maximum logins exceeded":                     "rate_limited",
	"login_error_logins_exceeded":                 "rate_limited",
	"failed: api-only user":                       "api_only_user",
	"login_error_user_api_only":                   "api_only_user",
	"failed: nonce replay detected":               "replay_detected",
	"login_oauth_nonce_replay":                    "replay_detected",
	"failed: replay detected":                     "replay_detected",
	"login_saml_replay_attempted":                 "replay_detected",
	"failed: signature invalid":                   "bad_signature",
	"login_saml_invalid_signature":                "bad_signature",
	"login_oauth_invalid_dsig":                    "bad_signature",
	"failed: username or sso id invalid":          "unknown_user",
	"login_saml_invalid_username":                 "unknown_user",
	"failed: activation secret invalid":           "verification_failed",
	"login_oauth_invalid_ds":                      "verification_failed",
	"failed: device id missing or not registered": "unknown_device",
	"login_oauth_invalid_device":                  "unknown_device",
}

// loginReason is the canonical reason for a failed login status.
func loginReason(status string) string {
	if r, ok := loginReasons[strings.ToLower(strings.TrimSpace(status))]; ok {
		return r
	}
	return status
}

// accessFromEventSource maps the EventSource picklist (API, Classic,
// Lightning) to the canonical access method.
func accessFromEventSource(source string) string {
	switch source {
	case "API":
		return "api"
	case "Classic", "Lightning":
		return "web"
	}
	return ""
}

// checkObjectType refuses a REST query row whose attributes.type names
// another object: the wrong --format, caught before it mis-maps.
func checkObjectType(obj record.Object, want string) error {
	attrs, ok, err := obj.Object("attributes")
	if err != nil || !ok {
		return err
	}
	typ, err := attrs.String("type")
	if err != nil {
		return err
	}
	if typ != "" && typ != want && typ != want+"Stream" && typ != want+"Store" {
		return fmt.Errorf("attributes.type: the record is a %s, this format reads %s", record.Quote(typ), want)
	}
	return nil
}

// strings reads several optional string fields at once, stopping at the
// first wrong type.
type fieldReader struct {
	obj record.Object
	err error
}

func (f *fieldReader) str(key string) string {
	if f.err != nil {
		return ""
	}
	v, err := f.obj.String(key)
	if err != nil {
		f.err = err
	}
	return v
}

// scalar reads a field that Salesforce types as string in one channel and
// as a number or boolean in another, as text.
func (f *fieldReader) scalar(key string) string {
	if f.err != nil {
		return ""
	}
	v, _, err := f.obj.Scalar(key)
	if err != nil {
		f.err = err
	}
	return v
}

func (f *fieldReader) id(key string) string {
	if f.err != nil {
		return ""
	}
	v, err := idField(f.obj, key, false)
	if err != nil {
		f.err = err
	}
	return v
}

// label copies optional fields into labels under sf.<name>.
func (f *fieldReader) labels(labels record.Labels, pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		labels.Set(labelPrefix+pairs[i+1], f.scalar(pairs[i]))
	}
}

// upperCountry returns an ISO 3166-1 alpha-2 code in upper case, or "" when
// value is not one (the raw value then goes to a label).
func upperCountry(value string, labels record.Labels, label string) string {
	if c, ok := record.CountryCode(value); ok {
		return c
	}
	labels.Set(label, value)
	return ""
}
