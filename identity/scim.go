package identity

import (
	"encoding/json"
	"strings"
)

// SCIM 2.0 (RFC 7643, RFC 7644) schema URNs.
const (
	scimListResponse = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	scimEnterprise   = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	// ScimExtension is Trailwatch's own User extension: the system accounts
	// and the directory status SCIM has no attribute for.
	ScimExtension = "urn:trailwatch:params:scim:schemas:extension:identity:1.0:User"
)

type scimList struct {
	Schemas   []string          `json:"schemas"`
	Resources []json.RawMessage `json:"Resources"`
}

type scimUser struct {
	ID       string `json:"id"`
	UserName string `json:"userName"`
	Name     struct {
		GivenName  string `json:"givenName"`
		FamilyName string `json:"familyName"`
		Formatted  string `json:"formatted"`
	} `json:"name"`
	DisplayName string `json:"displayName"`
	Emails      []struct {
		Value string `json:"value"`
	} `json:"emails"`
	Title    string `json:"title"`
	UserType string `json:"userType"`
	Active   *bool  `json:"active"`
	Timezone string `json:"timezone"`
	Roles    []struct {
		Value   string `json:"value"`
		Primary bool   `json:"primary"`
	} `json:"roles"`
	Meta struct {
		LastModified string `json:"lastModified"`
	} `json:"meta"`
	Enterprise *struct {
		EmployeeNumber string `json:"employeeNumber"`
		Department     string `json:"department"`
		Manager        *struct {
			Value string `json:"value"`
		} `json:"manager"`
	} `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
	Trailwatch *struct {
		Accounts   []string `json:"accounts"`
		Status     string   `json:"status"`
		StatusDate string   `json:"statusDate"`
		Type       string   `json:"type"`
		Owner      string   `json:"owner"`
	} `json:"urn:trailwatch:params:scim:schemas:extension:identity:1.0:User"`
}

// parseSCIM reads a SCIM 2.0 ListResponse of Users (what GET /Users
// returns). SCIM resources carry attributes this package does not use
// (groups, phoneNumbers, …); they are ignored, as RFC 7643 expects of a
// reader. The mapping is in docs/IDENTITY.md.
func parseSCIM(data []byte, name string, ps *problems) []entry {
	var list scimList
	at := Location{File: name, Index: -1}
	if err := json.Unmarshal(data, &list); err != nil {
		ps.add(at, jsonField(err), "not a SCIM ListResponse: %s", jsonMessage(err))
		return nil
	}
	listed := false
	for _, s := range list.Schemas {
		listed = listed || strings.EqualFold(s, scimListResponse)
	}
	if !listed {
		ps.add(at, "schemas", "a SCIM ListResponse names %s", scimListResponse)
		return nil
	}
	var out []entry
	for i, raw := range list.Resources {
		if ps.full() {
			break
		}
		at := Location{File: name + ": Resources", Index: i}
		var u scimUser
		if err := json.Unmarshal(raw, &u); err != nil {
			ps.add(at, jsonField(err), "malformed User: %s", jsonMessage(err))
			continue
		}
		e := entry{at: at, id: u.ID, given: u.Name.GivenName, family: u.Name.FamilyName,
			display: u.DisplayName, timezone: u.Timezone, role: u.Title, leftWithoutDate: true}
		if e.display == "" {
			e.display = u.Name.Formatted
		}
		for _, m := range u.Emails {
			e.emails = append(e.emails, m.Value)
		}
		if strings.Contains(u.UserName, "@") {
			e.emails = append(e.emails, u.UserName)
		}
		for j, r := range u.Roles {
			if r.Primary || j == 0 {
				e.role = r.Value
			}
		}
		if u.Enterprise != nil {
			e.employeeID, e.department = u.Enterprise.EmployeeNumber, u.Enterprise.Department
			if u.Enterprise.Manager != nil {
				e.manager = u.Enterprise.Manager.Value
			}
		}
		switch strings.ToLower(u.UserType) {
		case "integration", "service", "service account", "system":
			e.typ = string(TypeIntegration)
		}
		if u.Active != nil && !*u.Active {
			e.status = string(StatusLeft)
			if d, _, ok := strings.Cut(u.Meta.LastModified, "T"); ok {
				e.statusDate = d
			}
		}
		if x := u.Trailwatch; x != nil {
			e.accounts, e.owner = x.Accounts, x.Owner
			if x.Status != "" {
				e.status, e.statusDate = x.Status, x.StatusDate
			}
			if x.Type != "" {
				e.typ = x.Type
			}
		}
		out = append(out, e)
	}
	return out
}
