package adapter

import "encoding/json"

// DescribeMicrosoft reads the OData error body that Microsoft Graph and the
// Dataverse Web API both send: {"error":{"code","message"}}.
func DescribeMicrosoft(b []byte) (string, string) {
	var e struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &e) != nil {
		return "", ""
	}
	return e.Error.Code, e.Error.Message
}

// MicrosoftTokenURL is the Microsoft identity platform's v2.0 token
// endpoint for a directory tenant.
func MicrosoftTokenURL(tenantID string) string {
	return "https://login.microsoftonline.com/" + tenantID + "/oauth2/v2.0/token"
}
