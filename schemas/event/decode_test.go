package event

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

type decodeCase struct {
	name string
	in   string
	want string // the exact error text, "" to accept
	kind Kind   // the error's kind, when want is set
	// at, when set, locates the "@" offset in want without counting by hand:
	// a substring of `in`, with "|" marking the offset within it (its start
	// when there is no "|").
	at   string
	opts func(*Options)
}

func runDecodeCases(t *testing.T, cases []decodeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions()
			if tc.opts != nil {
				tc.opts(&opts)
			}
			want := tc.want
			if tc.at != "" {
				before, after, _ := strings.Cut(tc.at, "|")
				i := strings.Index(tc.in, before+after)
				if i < 0 {
					t.Fatalf("marker %q not in input", tc.at)
				}
				if after != "" {
					i += len(before)
				}
				want = strings.Replace(want, "@", strconv.Itoa(i), 1)
			}
			e, err := Decode([]byte(tc.in), opts)
			if got := errorText(t, err); got != want {
				t.Fatalf("Decode(%.200s)\n got error %q\nwant error %q", tc.in, got, want)
			}
			if err != nil {
				if tc.kind != "" && err.(*ValidationError).Kind != tc.kind {
					t.Errorf("kind %q, want %q", err.(*ValidationError).Kind, tc.kind)
				}
				return
			}
			// Whatever the decoder accepts, Validate accepts, and the canonical
			// encoding decodes to the same event.
			if err := Validate(&e, opts); err != nil {
				t.Fatalf("Validate of a decoded event: %v", err)
			}
			out := AppendJSON(nil, &e)
			back, err := Decode(out, opts)
			if err != nil {
				t.Fatalf("decoding the canonical encoding %s: %v", out, err)
			}
			if !back.Equal(&e) {
				t.Fatalf("round trip changed the event:\n in  %+v\n out %+v", e, back)
			}
		})
	}
}

func TestDecodeSyntax(t *testing.T) {
	valid := mk()
	runDecodeCases(t, []decodeCase{
		{name: "empty input", in: "", want: "offset 0: unexpected end of input", kind: KindSyntax},
		{name: "only whitespace", in: " \n\t", want: "offset 3: unexpected end of input"},
		{name: "not JSON", in: "hello", want: "offset 0: invalid character 'h' looking for beginning of value"},
		{name: "byte order mark", in: "\xef\xbb\xbf" + valid, want: `offset 0: invalid character '\xef' looking for beginning of value`},
		{name: "array", in: "[" + valid + "]", want: "expected an object, got array", kind: KindType},
		{name: "string", in: `"event"`, want: "expected an object, got string", kind: KindType},
		{name: "trailing garbage", in: valid + "x", want: "offset @: invalid character 'x' after top-level value", at: "}|x"},
		{name: "two objects", in: valid + valid, want: "offset @: invalid character '{' after top-level value", at: "}|{"},
		{name: "trailing comma", in: valid[:len(valid)-1] + ",}", want: "offset @: invalid character '}' looking for beginning of object key string", at: ",|}"},
		{name: "missing comma", in: `{"id":"e1" "tenant":"acme"}`, want: `offset 11: invalid character '"' after object key:value pair`},
		{name: "missing colon", in: `{"id" "e1"}`, want: `offset 6: invalid character '"' after object key`},
		{name: "unquoted key", in: `{id:"e1"}`, want: `offset 1: invalid character 'i' looking for beginning of object key string`},
		{name: "truncated", in: valid[:40], want: "offset 40: unexpected end of input in string literal"},
		{name: "truncated after value", in: `{"id":"e1"`, want: "offset 10: unexpected end of input"},
		{name: "truncated nested", in: `{"user":{"id":"u1",`, want: "offset 19: unexpected end of input"},
		{name: "raw newline in string", in: mk("tenant", "\"ac\nme\""), want: `offset @: invalid character '\n' in string literal`, at: "\n"},
		{name: "bad escape", in: mk("tenant", `"ac\qme"`), want: `offset @: invalid character 'q' in string escape code`, at: `q`},
		{name: "bad unicode escape", in: mk("tenant", `"\u12G4"`), want: `offset @: invalid character 'G' in \u hexadecimal character escape`, at: "G"},
		{name: "number leading zero", in: mk("records", "01"), want: "offset @: invalid character '1' after object key:value pair", at: "1}"},
		{name: "number bare point", in: mk("records", "1."), want: "offset @: invalid character '}' after decimal point in numeric literal", at: ".|}"},
		{name: "number bare minus", in: mk("records", "-"), want: "offset @: invalid character '}' in numeric literal", at: "-|}"},
		{name: "number bare exponent", in: mk("records", "1e"), want: "offset @: invalid character '}' in exponent of numeric literal", at: "e|}"},
		{name: "number plus sign", in: mk("records", "+1"), want: "offset @: invalid character '+' looking for beginning of value", at: "+"},
		{name: "unterminated array", in: mk("changes", `[{"field":"a","old":"","new":""}`), want: "offset @: invalid character '}' after array element", at: `""}|}`},
		{name: "whitespace everywhere", in: " {\n \"id\" : \"e1\" ,\t\"timestamp\":\"2026-11-03T02:14:07.412-05:00\",\r\n\"tenant\":\"acme\",\"source\": { \"system\" : \"x\" } ,\"event\":{\"category\":\"export\",\"action\":\"export\",\"outcome\":\"success\"},\"user\":{\"id\":\"u1\"} , \"changes\" : [ ] , \"labels\" : { } } \n"},
	})
}

func TestDecodeRequired(t *testing.T) {
	runDecodeCases(t, []decodeCase{
		{name: "minimal", in: mk()},
		{name: "any member order", in: `{"user":{"id":"u1"},"event":{"outcome":"success","action":"x","category":"session"},"source":{"system":"s"},"tenant":"t","timestamp":"2026-11-03T07:14:07.412Z","id":"e"}`},
		{name: "no id", in: mk("id", ""), want: "id: required", kind: KindRequired},
		{name: "no timestamp", in: mk("timestamp", ""), want: "timestamp: required"},
		{name: "no tenant", in: mk("tenant", ""), want: "tenant: required"},
		{name: "no source", in: mk("source", ""), want: "source: required"},
		{name: "no event", in: mk("event", ""), want: "event: required"},
		{name: "no user", in: mk("user", ""), want: "user: required"},
		{name: "empty object", in: `{}`, want: "id: required"},
		{name: "no source.system", in: mk("source", `{"id":"x"}`), want: "source.system: required"},
		{name: "no event.category", in: mk("event", `{"action":"x","outcome":"success"}`), want: "event.category: required"},
		{name: "no event.action", in: mk("event", `{"category":"export","outcome":"success"}`), want: "event.action: required"},
		{name: "no event.outcome", in: mk("event", `{"category":"export","action":"x"}`), want: "event.outcome: required"},
		{name: "no user.id", in: mk("user", `{"name":"jdoe"}`), want: "user.id: required"},
		{name: "empty id", in: mk("id", `""`), want: "id: must not be empty", kind: KindRequired},
		{name: "empty tenant", in: mk("tenant", `""`), want: "tenant: must not be empty"},
		{name: "empty source.system", in: mk("source", `{"system":""}`), want: "source.system: must not be empty"},
		{name: "empty event.action", in: mk("event", `{"category":"export","action":"","outcome":"success"}`), want: "event.action: must not be empty"},
		{name: "empty user.id", in: mk("user", `{"id":""}`), want: "user.id: must not be empty"},
		{name: "empty optional strings", in: mk("user", `{"id":"u1","name":"","role":""}`, "comment", `""`, "object", `{"id":""}`)},
		{name: "empty optional objects", in: mk("client", `{"geo":{}}`, "object", `{}`, "target_user", `{}`, "permission", `{}`, "changes", `[]`, "related", `[]`, "labels", `{}`)},
	})
}

func TestDecodeTypes(t *testing.T) {
	runDecodeCases(t, []decodeCase{
		{name: "id number", in: mk("id", `17`), want: "id: expected string, got number", kind: KindType},
		{name: "tenant null", in: mk("tenant", `null`), want: "tenant: expected string, got null"},
		{name: "timestamp number", in: mk("timestamp", `1762154047412`), want: "timestamp: expected string, got number"},
		{name: "source string", in: mk("source", `"salesforce"`), want: "source: expected object, got string"},
		{name: "user array", in: mk("user", `["u1"]`), want: "user: expected object, got array"},
		{name: "user.id boolean", in: mk("user", `{"id":true}`), want: "user.id: expected string, got boolean"},
		{name: "client.geo string", in: mk("client", `{"geo":"US"}`), want: "client.geo: expected object, got string"},
		{name: "lat string", in: mk("client", `{"geo":{"lat":"1","lon":2}}`), want: "client.geo.lat: expected number, got string"},
		{name: "records string", in: mk("records", `"5"`), want: "records: expected integer, got string"},
		{name: "records fraction", in: mk("records", `1.5`), want: `records: "1.5" is not an integer`, kind: KindType},
		{name: "changes object", in: mk("changes", `{}`), want: "changes: expected array, got object"},
		{name: "changes element string", in: mk("changes", `[{"field":"a","old":"","new":""},"b"]`), want: "changes[1]: expected object, got string"},
		{name: "changes old number", in: mk("changes", "["+repeat(3, func(int) string { return `{"field":"f","old":"a","new":"b"}` })+`,{"field":"f","old":5,"new":"b"}]`), want: "changes[3].old: expected string, got number"},
		{name: "related id null", in: mk("related", `[{"type":"account","id":null}]`), want: "related[0].id: expected string, got null"},
		{name: "labels array", in: mk("labels", `["a"]`), want: "labels: expected object, got array"},
		{name: "label value number", in: mk("labels", `{"region":5}`), want: "labels.region: expected string, got number"},
		{name: "label value object, odd key", in: mk("labels", `{"a b":{}}`), want: `labels["a b"]: expected string, got object`},
		{name: "comment null", in: mk("comment", `null`), want: "comment: expected string, got null"},
		{name: "target_user string", in: mk("target_user", `"u2"`), want: "target_user: expected object, got string"},
	})
}

func TestDecodeUnknownAndDuplicate(t *testing.T) {
	runDecodeCases(t, []decodeCase{
		{name: "top level", in: mk("usr", `{}`), want: "usr: unknown field", kind: KindUnknownField},
		{name: "top level odd key", in: mk("a.b", `1`), want: `["a.b"]: unknown field`},
		{name: "source", in: mk("source", `{"system":"x","vendor":"y"}`), want: "source.vendor: unknown field"},
		{name: "event", in: mk("event", `{"category":"export","action":"x","outcome":"success","severity":"high"}`), want: "event.severity: unknown field"},
		{name: "user", in: mk("user", `{"id":"u1","email":"a@b"}`), want: "user.email: unknown field"},
		{name: "client", in: mk("client", `{"port":443}`), want: "client.port: unknown field"},
		{name: "geo", in: mk("client", `{"geo":{"alt":3}}`), want: "client.geo.alt: unknown field"},
		{name: "object", in: mk("object", `{"kind":"x"}`), want: "object.kind: unknown field"},
		{name: "change", in: mk("changes", `[{"field":"a","old":"","new":"","at":"x"}]`), want: "changes[0].at: unknown field"},
		{name: "related", in: mk("related", `[{"type":"a","id":"1"},{"type":"a","id":"2","name":"n"}]`), want: "related[1].name: unknown field"},
		{name: "target_user", in: mk("target_user", `{"email":"x"}`), want: "target_user.email: unknown field"},
		{name: "permission", in: mk("permission", `{"level":"x"}`), want: "permission.level: unknown field"},
		{name: "case matters", in: mk("ID", `"x"`), want: "ID: unknown field"},
		{name: "escaped known key", in: `{"\u0069d":"e1","timestamp":"2026-11-03T02:14:07.412-05:00","tenant":"acme","source":{"system":"s"},"event":{"category":"export","action":"x","outcome":"success"},"user":{"id":"u1"}}`},
		{name: "duplicate top level", in: strings.Replace(mk(), `"tenant":"acme"`, `"tenant":"acme","tenant":"evil"`, 1), want: "tenant: duplicate key", kind: KindDuplicateKey},
		{name: "duplicate object member", in: strings.Replace(mk(), `"user":{"id":"u1"}`, `"user":{"id":"u1"},"user":{"id":"u2"}`, 1), want: "user: duplicate key"},
		{name: "duplicate nested", in: mk("user", `{"id":"u1","id":"u2"}`), want: "user.id: duplicate key"},
		{name: "duplicate via escape", in: mk("user", `{"id":"u1","\u0069d":"u2"}`), want: "user.id: duplicate key"},
		{name: "duplicate geo", in: mk("client", `{"geo":{"lat":1,"lon":2,"lat":3}}`), want: "client.geo.lat: duplicate key"},
		{name: "duplicate in change", in: mk("changes", `[{"field":"a","old":"","new":"","new":"x"}]`), want: "changes[0].new: duplicate key"},
		{name: "duplicate label", in: mk("labels", `{"k":"1","k":"2"}`), want: "labels.k: duplicate key"},
	})
}

func TestDecodeValues(t *testing.T) {
	long := strings.Repeat("é", MaxIDLength)
	runDecodeCases(t, []decodeCase{
		{name: "id 128 characters of 2 bytes", in: mk("id", `"`+long+`"`)},
		{name: "id 129 characters", in: mk("id", `"`+long+`x"`), want: "id: 129 characters, limit 128", kind: KindLength},
		{name: "category", in: mk("event", `{"category":"exfil","action":"x","outcome":"success"}`), want: `event.category: "exfil" is not one of authentication, session, data_access, data_change, export, permission, configuration, integration`, kind: KindEnum},
		{name: "category case", in: mk("event", `{"category":"Export","action":"x","outcome":"success"}`), want: `event.category: "Export" is not one of authentication, session, data_access, data_change, export, permission, configuration, integration`},
		{name: "outcome", in: mk("event", `{"category":"export","action":"x","outcome":"ok"}`), want: `event.outcome: "ok" is not one of success, failure, unknown`},
		{name: "user.type", in: mk("user", `{"id":"u1","type":"bot"}`), want: `user.type: "bot" is not one of human, integration, system`},
		{name: "user.type empty", in: mk("user", `{"id":"u1","type":""}`), want: `user.type: "" is not one of human, integration, system`},
		{name: "access_method", in: mk("client", `{"access_method":"ftp"}`), want: `client.access_method: "ftp" is not one of web, api, mobile, bulk_api, integration`},
		{name: "every enum value", in: mk("event", `{"category":"configuration","action":"x","outcome":"unknown"}`, "user", `{"id":"u1","type":"integration"}`, "client", `{"access_method":"bulk_api"}`)},
		{name: "country", in: mk("client", `{"geo":{"country":"usa"}}`), want: `client.geo.country: "usa" is not an ISO 3166-1 alpha-2 code`, kind: KindFormat},
		{name: "country lower case", in: mk("client", `{"geo":{"country":"us"}}`), want: `client.geo.country: "us" is not an ISO 3166-1 alpha-2 code`},
		{name: "country empty", in: mk("client", `{"geo":{"country":""}}`), want: `client.geo.country: "" is not an ISO 3166-1 alpha-2 code`},
		{name: "ipv4", in: mk("client", `{"ip":"198.51.100.23"}`)},
		{name: "ipv6", in: mk("client", `{"ip":"2001:db8::1"}`)},
		{name: "ipv4-mapped ipv6", in: mk("client", `{"ip":"::ffff:198.51.100.23"}`)},
		{name: "ip short", in: mk("client", `{"ip":"1.2.3"}`), want: `client.ip: "1.2.3" is not an IPv4 or IPv6 address`, kind: KindFormat},
		{name: "ip leading zero", in: mk("client", `{"ip":"01.2.3.4"}`), want: `client.ip: "01.2.3.4" is not an IPv4 or IPv6 address`},
		{name: "ip with zone", in: mk("client", `{"ip":"fe80::1%eth0"}`), want: `client.ip: "fe80::1%eth0" is not an IPv4 or IPv6 address`},
		{name: "ip with port", in: mk("client", `{"ip":"1.2.3.4:80"}`), want: `client.ip: "1.2.3.4:80" is not an IPv4 or IPv6 address`},
		{name: "ip empty", in: mk("client", `{"ip":""}`), want: `client.ip: "" is not an IPv4 or IPv6 address`},
		{name: "timezone", in: mk("user", `{"id":"u1","timezone":"America/Argentina/Buenos_Aires"}`)},
		{name: "timezone etc", in: mk("user", `{"id":"u1","timezone":"Etc/GMT+5"}`)},
		{name: "timezone shape", in: mk("user", `{"id":"u1","timezone":"New York"}`), want: `user.timezone: "New York" is not an IANA time zone name`, kind: KindFormat},
		{name: "timezone path", in: mk("user", `{"id":"u1","timezone":"../../etc/passwd"}`), want: `user.timezone: "../../etc/passwd" is not an IANA time zone name`},
		{name: "timezone Local", in: mk("user", `{"id":"u1","timezone":"Local"}`), want: `user.timezone: "Local" is not an IANA time zone name`},
		{name: "timezone trailing slash", in: mk("user", `{"id":"u1","timezone":"Europe/"}`), want: `user.timezone: "Europe/" is not an IANA time zone name`},
		{name: "timezone unknown", in: mk("user", `{"id":"u1","timezone":"Mars/Olympus_Mons"}`), want: `user.timezone: "Mars/Olympus_Mons" does not load: unknown time zone`, kind: KindTimezone},
		{name: "timezone unknown, not resolved", in: mk("user", `{"id":"u1","timezone":"Mars/Olympus_Mons"}`), opts: func(o *Options) { o.ResolveTimezone = false }},
		{name: "coordinates", in: mk("client", `{"geo":{"lat":42.36,"lon":-71.06}}`)},
		{name: "coordinates zero", in: mk("client", `{"geo":{"lat":0,"lon":0}}`)},
		{name: "coordinates bounds", in: mk("client", `{"geo":{"lat":-90,"lon":180.0}}`)},
		{name: "coordinates bounds exponent", in: mk("client", `{"geo":{"lat":0.9e2,"lon":-18E1}}`)},
		{name: "coordinates just inside, rounding onto the bound", in: mk("client", `{"geo":{"lat":89.99999999999999999999,"lon":-179.999999999999999999}}`)},
		{name: "coordinates underflow", in: mk("client", `{"geo":{"lat":1e-400,"lon":-1e-400}}`)},
		{name: "lat over", in: mk("client", `{"geo":{"lat":90.5,"lon":0}}`), want: `client.geo.lat: "90.5" out of range [-90, 90]`, kind: KindRange},
		{name: "lat just over", in: mk("client", `{"geo":{"lat":-90.00000000000000000001,"lon":0}}`), want: `client.geo.lat: "-90.00000000000000000001" out of range [-90, 90]`},
		{name: "lon over", in: mk("client", `{"geo":{"lat":0,"lon":181}}`), want: `client.geo.lon: "181" out of range [-180, 180]`},
		{name: "lon overflow", in: mk("client", `{"geo":{"lat":0,"lon":1e400}}`), want: `client.geo.lon: "1e400" out of range [-180, 180]`},
		{name: "lat alone", in: mk("client", `{"geo":{"lat":1}}`), want: "client.geo.lon: required with client.geo.lat", kind: KindRequired},
		{name: "lon alone", in: mk("client", `{"geo":{"lon":1}}`), want: "client.geo.lat: required with client.geo.lon"},
		{name: "records", in: mk("records", `5000`)},
		{name: "records zero", in: mk("records", `0`)},
		{name: "records negative zero", in: mk("records", `-0`)},
		{name: "records as decimal", in: mk("records", `5000.00`)},
		{name: "records as exponent", in: mk("records", `5e3`)},
		{name: "records as fractional exponent", in: mk("records", `1.5e1`)},
		{name: "records max", in: mk("records", `9223372036854775807`)},
		{name: "records over max", in: mk("records", `9223372036854775808`), want: `records: "9223372036854775808" is out of range (max 9223372036854775807)`, kind: KindRange},
		{name: "records huge exponent", in: mk("records", `1e999999999999`), want: `records: "1e999999999999" is out of range (max 9223372036854775807)`},
		{name: "records tiny exponent", in: mk("records", `1e-999999999999`), want: `records: "1e-999999999999" is not an integer`},
		{name: "records negative", in: mk("records", `-1`), want: `records: "-1" is negative`, kind: KindRange},
		{name: "changes", in: mk("changes", `[{"field":"stage","old":"Prospecting","new":"Closed Won"},{"field":"amount","old":"","new":"5000"}]`)},
		{name: "change without field", in: mk("changes", `[{"old":"","new":""}]`), want: "changes[0].field: required"},
		{name: "change without old", in: mk("changes", `[{"field":"a","new":""}]`), want: "changes[0].old: required"},
		{name: "change with empty field", in: mk("changes", `[{"field":"","old":"","new":""}]`), want: "changes[0].field: must not be empty"},
		{name: "related", in: mk("related", `[{"type":"account","id":"001"}]`)},
		{name: "related without id", in: mk("related", `[{"type":"account"}]`), want: "related[0].id: required"},
		{name: "related with empty type", in: mk("related", `[{"type":"","id":"1"}]`), want: "related[0].type: must not be empty"},
		{name: "labels", in: mk("labels", `{"":"empty key","a.b":"dotted","sf_event_type":"ReportExport"}`)},
	})
}

func TestDecodeStrings(t *testing.T) {
	runDecodeCases(t, []decodeCase{
		{name: "escapes", in: mk("comment", `"tab\there \"quoted\" back\\slash \/ \b\f\n\r \u00e9 \ud83d\ude00 \u0000"`)},
		{name: "raw UTF-8", in: mk("client", `{"geo":{"city":"Zürich","region":"東京"}}`)},
		{name: "escaped timestamp", in: mk("timestamp", `"\u0032026-11-03T02:14:07.412-05:00"`)},
		{name: "invalid UTF-8", in: mk("user", "{\"id\":\"u1\",\"name\":\"j\xffdoe\"}"), want: "user.name: invalid UTF-8", kind: KindUTF8},
		{name: "truncated UTF-8", in: mk("comment", "\"caf\xc3\""), want: "comment: invalid UTF-8"},
		{name: "overlong UTF-8", in: mk("comment", "\"\xc0\xaf\""), want: "comment: invalid UTF-8"},
		{name: "UTF-8 surrogate", in: mk("comment", "\"\xed\xa0\x80\""), want: "comment: invalid UTF-8"},
		{name: "invalid UTF-8 after escape", in: mk("comment", "\"a\\n\xff\""), want: "comment: invalid UTF-8"},
		{name: "invalid UTF-8 in label key", in: mk("labels", "{\"\xff\":\"x\"}"), want: "labels: invalid UTF-8 in a key"},
		{name: "invalid UTF-8 in unknown key", in: mk("user", "{\"id\":\"u1\",\"\xff\":\"x\"}"), want: "user: invalid UTF-8 in a key"},
		{name: "lone high surrogate", in: mk("comment", `"a\ud800b"`), want: `comment: unpaired surrogate \ud800 is not valid UTF-8`, kind: KindUTF8},
		{name: "lone low surrogate", in: mk("comment", `"\udc00"`), want: `comment: unpaired surrogate \udc00 is not valid UTF-8`},
		{name: "high surrogate then letter", in: mk("comment", `"\ud800\u0041"`), want: `comment: unpaired surrogate \ud800 is not valid UTF-8`},
		{name: "two high surrogates", in: mk("comment", `"\ud800\ud800"`), want: `comment: unpaired surrogate \ud800 is not valid UTF-8`},
		{name: "long value quoted short", in: mk("client", `{"geo":{"country":"`+strings.Repeat("x", 100)+`"}}`), want: `client.geo.country: "` + strings.Repeat("x", 64) + `"... is not an ISO 3166-1 alpha-2 code`},
	})
}

func TestDecodeTimestamp(t *testing.T) {
	replay := func(o *Options) { o.MaxAge = 0 }
	ts := func(s string) string { return mk("timestamp", `"`+s+`"`) }
	runDecodeCases(t, []decodeCase{
		{name: "Z", in: ts("2026-11-03T07:14:07.412Z")},
		{name: "plus zero", in: ts("2026-11-03T07:14:07.412+00:00")},
		{name: "minus zero", in: ts("2026-11-03T07:14:07.412-00:00")},
		{name: "quarter-hour offset", in: ts("2026-11-03T12:59:07.412+05:45")},
		{name: "largest offset", in: ts("2026-11-04T07:13:07.412+23:59")},
		{name: "leap day", in: ts("2024-02-29T12:00:00.000Z"), opts: replay},
		{name: "year zero", in: ts("0000-01-01T00:00:00.000Z"), opts: replay},
		{name: "no offset", in: ts("2026-11-03T02:14:07.412"), want: "timestamp: no UTC offset", kind: KindFormat},
		{name: "no milliseconds", in: ts("2026-11-03T07:14:07Z"), want: "timestamp: no milliseconds (want 3 fractional digits)"},
		{name: "no milliseconds, no offset", in: ts("2026-11-03T07:14:07"), want: "timestamp: no milliseconds (want 3 fractional digits)"},
		{name: "microseconds", in: ts("2026-11-03T07:14:07.412000Z"), want: "timestamp: 6 fractional digits, want 3 (milliseconds)"},
		{name: "one digit", in: ts("2026-11-03T07:14:07.4Z"), want: "timestamp: 1 fractional digits, want 3 (milliseconds)"},
		{name: "space separator", in: ts("2026-11-03 07:14:07.412Z"), want: `timestamp: "2026-11-03 07:14:07.412Z" is not an RFC 3339 date-time (want YYYY-MM-DDThh:mm:ss.sssZ or ±hh:mm)`},
		{name: "lower case z", in: ts("2026-11-03T07:14:07.412z"), want: `timestamp: "2026-11-03T07:14:07.412z" is not an RFC 3339 date-time (want YYYY-MM-DDThh:mm:ss.sssZ or ±hh:mm)`},
		{name: "offset without colon", in: ts("2026-11-03T02:14:07.412-0500"), want: `timestamp: "2026-11-03T02:14:07.412-0500" is not an RFC 3339 date-time (want YYYY-MM-DDThh:mm:ss.sssZ or ±hh:mm)`},
		{name: "date only", in: ts("2026-11-03"), want: `timestamp: "2026-11-03" is not an RFC 3339 date-time (want YYYY-MM-DDThh:mm:ss.sssZ or ±hh:mm)`},
		{name: "unix millis as string", in: ts("1762154047412"), want: `timestamp: "1762154047412" is not an RFC 3339 date-time (want YYYY-MM-DDThh:mm:ss.sssZ or ±hh:mm)`},
		{name: "February 29 of a common year", in: ts("2026-02-29T12:00:00.000Z"), want: "timestamp: invalid date 2026-02-29", opts: replay},
		{name: "month 13", in: ts("2026-13-01T12:00:00.000Z"), want: "timestamp: invalid date 2026-13-01"},
		{name: "day zero", in: ts("2026-11-00T12:00:00.000Z"), want: "timestamp: invalid date 2026-11-00"},
		{name: "hour 24", in: ts("2026-11-03T24:00:00.000Z"), want: "timestamp: invalid time 24:00:00"},
		{name: "leap second", in: ts("2016-12-31T23:59:60.000Z"), want: "timestamp: invalid time 23:59:60", opts: replay},
		{name: "offset 24 hours", in: ts("2026-11-03T07:14:07.412+24:00"), want: "timestamp: invalid UTC offset +24:00"},
		{name: "offset 60 minutes", in: ts("2026-11-03T07:14:07.412+01:60"), want: "timestamp: invalid UTC offset +01:60"},
		{name: "10 minutes ahead", in: ts("2026-11-03T08:04:07.412Z")},
		{name: "too far ahead", in: ts("2026-11-03T08:04:07.413Z"), want: "timestamp: 2026-11-03T08:04:07.413Z is 10m0.001s ahead of the clock, limit 10m0s", kind: KindTimeWindow},
		{name: "too far ahead, replay", in: ts("2026-11-03T03:04:07.413-05:00"), want: "timestamp: 2026-11-03T03:04:07.413-05:00 is 10m0.001s ahead of the clock, limit 10m0s", opts: replay},
		{name: "7 days old", in: ts("2026-10-27T07:54:07.412Z")},
		{name: "too old", in: ts("2026-10-27T07:54:07.411Z"), want: "timestamp: 2026-10-27T07:54:07.411Z is 168h0m0.001s old, limit 168h0m0s", kind: KindTimeWindow},
		{name: "too old, replay", in: ts("2016-10-27T07:54:07.411Z"), opts: replay},
		{name: "narrower window", in: ts("2026-11-03T07:14:07.412Z"), want: "timestamp: 2026-11-03T07:14:07.412Z is 40m0s old, limit 30m0s", opts: func(o *Options) { o.MaxAge = 30 * time.Minute }},
	})
}

func TestDecodeLimits(t *testing.T) {
	change := func(int) string { return `{"field":"f","old":"a","new":"b"}` }
	label := func(i int) string { return fmt.Sprintf(`"k%d":"v"`, i) }
	big := mk("comment", `"`+strings.Repeat("x", DefaultMaxBytes)+`"`)
	runDecodeCases(t, []decodeCase{
		{name: "1000 changes", in: mk("changes", "["+repeat(1000, change)+"]")},
		{name: "1001 changes", in: mk("changes", "["+repeat(1001, change)+"]"), want: "changes: 1001 entries, limit 1000", kind: KindLimit},
		{name: "256 labels", in: mk("labels", "{"+repeat(256, label)+"}")},
		{name: "300 labels", in: mk("labels", "{"+repeat(300, label)+"}"), want: "labels: 300 keys, limit 256", kind: KindLimit},
		{name: "configured changes", in: mk("changes", "["+repeat(3, change)+"]"), want: "changes: 3 entries, limit 2", opts: func(o *Options) { o.MaxChanges = 2 }},
		{name: "configured labels", in: mk("labels", "{"+repeat(3, label)+"}"), want: "labels: 3 keys, limit 2", opts: func(o *Options) { o.MaxLabels = 2 }},
		{name: "64 KiB", in: mk("comment", `"`+strings.Repeat("x", DefaultMaxBytes-len(mk("comment", `""`)))+`"`)},
		{name: "over 64 KiB", in: big, want: fmt.Sprintf("event is %d bytes, limit 65536", len(big)), kind: KindSize},
		{name: "configured size", in: mk(), want: fmt.Sprintf("event is %d bytes, limit 100", len(mk())), opts: func(o *Options) { o.MaxBytes = 100 }},
		{name: "zero limits mean defaults", in: mk("changes", "["+repeat(1000, change)+"]"), opts: func(o *Options) { *o = Options{Now: testNow} }},
	})
}

// TestDecodeIntoNoCopy: the no-copy decoder allocates nothing for an event
// without escapes (DecodeInto allocates its one copy), its strings are
// data's bytes (so data must not change while they are in use), and limits
// and errors are DecodeInto's.
func TestDecodeIntoNoCopy(t *testing.T) {
	data, err := os.ReadFile("testdata/bench/export.json")
	if err != nil {
		t.Fatal(err)
	}
	opts := DefaultOptions()
	opts.MaxAge, opts.MaxFuture = 0, 1<<62
	var want, got Event
	if err := DecodeInto(&want, data, opts); err != nil {
		t.Fatal(err)
	}
	own := bytes.Clone(data)
	if err := DecodeIntoNoCopy(&got, own, opts); err != nil {
		t.Fatal(err)
	}
	if !got.Equal(&want) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	copied := testing.AllocsPerRun(50, func() { _ = DecodeInto(&got, own, opts) })
	borrowed := testing.AllocsPerRun(50, func() { _ = DecodeIntoNoCopy(&got, own, opts) })
	if borrowed != 0 || copied != 1 {
		t.Errorf("allocations per event: no copy %v, copy %v; want 0 and 1", borrowed, copied)
	}
	// The strings are data's bytes: change them and the event changes.
	if err := DecodeIntoNoCopy(&got, own, opts); err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(own, []byte(`"`+want.Tenant+`"`))
	if i < 0 {
		t.Fatal("tenant not found in the input")
	}
	own[i+1] ^= 0x20 // flip the case of its first letter
	if got.Tenant == want.Tenant {
		t.Errorf("tenant %q did not follow its bytes: not borrowed", got.Tenant)
	}
	// Over the limit: refused before anything is read, as by DecodeInto.
	small := opts
	small.MaxBytes = 100
	errCopy := DecodeInto(&got, data, small)
	errBorrow := DecodeIntoNoCopy(&got, data, small)
	if errCopy == nil || errBorrow == nil || errCopy.Error() != errBorrow.Error() {
		t.Errorf("over the limit: %v and %v", errBorrow, errCopy)
	}
}
