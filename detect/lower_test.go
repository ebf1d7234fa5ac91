package detect

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/trailwatch/trailwatch/schemas/event"
)

// The lowered closures and expr's VM must agree on every expression the
// engine lowers. Each expression is compiled as a filter; random events
// (generated, then perturbed) are evaluated both ways.
func TestLoweringMatchesExpr(t *testing.T) {
	exprs := []string{
		`event.category == "authentication" && event.outcome != "success"`,
		`event.action in ["login", "logout"] || user.role not in ["admin", "crm_admin"]`,
		`records >= 100 && records < 1000 || records == 0`,
		`records * 2 + 1 > 201 && records / 4 <= 30.5 && -records < 0`,
		`client.geo.lat - client.geo.lon > 10`,
		`user.name contains "user1" || user.name startsWith "user2" || user.name endsWith ".example"`,
		`user.name matches "^user[0-9]+@tenant0[0-4]" && client.ip matches "^198\\."`,
		`lower(user.role) == "sales_rep" && upper(client.geo.country) == "US"`,
		`len(user.name) > 24 && len(changes) >= 1`,
		`trim(" " + user.id + " ") == user.id`,
		`client.geo.has_coords ? client.geo.lat > 0 : records > 0`,
		`any(changes, .field in ["MailingStreet", "Phone"]) && all(changes, .old != .new)`,
		`none(changes, .field == "Title") || one(changes, .new == "b")`,
		`count(changes, .field startsWith "P") == len(changes)`,
		`labels["k"] == "" && "k" not in labels`,
		`in_cidr(client.ip, "198.51.100.0/24", "81.2.69.0/24") != is_private_ip(client.ip)`,
		`geo_distance_km(client.geo.lat, client.geo.lon, 51.5, -0.12) < 1000`,
		`changed("phone", "MAILINGSTREET")`,
		`person == user.id || person == user.person_id`,
		`id != "" && tenant startsWith "tenant" && source.system in ["salesforce", "hubspot"]`,
		`event.category < "d" && user.id >= "005n"`,
		`!(records > 10) and not client.geo.has_coords or has_records`,
		`business_hours() || off_hours() && local_hour() >= 0 && local_weekday() != "" && !is_weekend()`,
		`timestamp - timestamp < duration("1h") && timestamp >= timestamp`,
		`target_user.id == user.id`,
		`client.user_agent matches "(?i)(python|curl|scrapy|java/)" || client.user_agent matches "Mozilla|Opera"`,
		`user.name matches "(?:user1|USER2)" && client.user_agent matches "(?i)^moz"`,
		`len(shadow_data()) > 0 || "iban" in shadow_data() || len(shadow_fields()) == 2 && len(shadow_samples()) >= 2`,
	}
	evs := genEvents(11, 3000, 200, 0.05)
	rng := rand.New(rand.NewPCG(5, 6))
	for _, x := range evs {
		perturb(rng, x)
	}
	for i, src := range exprs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			e := engine(t, ruleHead+"filter: '"+escapeSingle(src)+"'\n", nil)
			c := e.rules[0].def.filter
			if c.low == nil {
				t.Fatalf("%s was not lowered", src)
			}
			sh := e.NewShard()
			for _, x := range evs {
				sh.resetCtx(x, e.rules[0].def)
				sh.ctx.failed = false
				low := c.low.b(&sh.ctx)
				failed := sh.ctx.failed
				sh.ctx.failed = false
				v, err := sh.runProg(c, nil)
				vm, _ := v.(bool)
				if failed != (err != nil) || !failed && low != vm {
					t.Fatalf("%s on %s: lowered %v (failed %v), expr %v (%v)", src, x.ID, low, failed, vm, err)
				}
			}
		})
	}
}

func escapeSingle(s string) string {
	out := ""
	for _, r := range s {
		if r == '\'' {
			out += "''"
		} else {
			out += string(r)
		}
	}
	return out
}

func perturb(rng *rand.Rand, e *event.Event) {
	switch rng.IntN(9) {
	case 0:
		e.Records, e.HasRecords = rng.Int64N(2000), true
	case 1:
		e.Client.IP = ""
	case 2:
		e.Labels = map[string]string{"k": "v"}
	case 3:
		e.Changes = append(e.Changes, event.Change{Field: "Phone", Old: "x", New: "x"})
	case 4:
		e.User.Name = ""
	case 5:
		e.User.PersonID = ""
		e.TargetUser.ID = e.User.ID
	case 6:
		e.Client.Geo = event.Geo{}
	case 7:
		e.Client.UserAgent = []string{"Python-Requests/2.31", "ſcrapy/2.0", "curl/8", "JAVA/17", "mozilla/5.0", "Opera/9"}[rng.IntN(6)]
	case 8:
		e.Comment = []string{"card 4111 1111 1111 1111", "IBAN DE89 3704 0044 0532 0130 00 or +44 20 7946 0958", "order ORD-4111111111111111"}[rng.IntN(3)]
	}
}
