package compliance

import (
	"context"
	"strings"

	"github.com/trailwatch/trailwatch/respond/adapter/salesforce"
)

// SalesforceRecords applies rollback writes to a Salesforce org. The trail's
// object types are the canonical lower-case names (opportunity, contact)
// and its field names are Salesforce API names, as the Salesforce
// normaliser stores them; the sObject is the object type with its first
// letter upper-cased (custom objects, ending in __c, are kept as they are).
type SalesforceRecords struct {
	Client *salesforce.Client
}

// SObject is the sObject name of a canonical object type.
func SObject(objectType string) string {
	if objectType == "" || strings.HasSuffix(objectType, "__c") {
		return objectType
	}
	return strings.ToUpper(objectType[:1]) + objectType[1:]
}

// Fields implements RecordStore.
func (s SalesforceRecords) Fields(ctx context.Context, objectType, id string, fields []string) (map[string]*string, error) {
	return s.Client.RecordFields(ctx, SObject(objectType), id, fields)
}

// Update implements RecordStore.
func (s SalesforceRecords) Update(ctx context.Context, objectType, id string, values map[string]*string) error {
	return s.Client.UpdateRecord(ctx, SObject(objectType), id, values)
}
