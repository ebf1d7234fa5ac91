package dynamics365

// choice is what an audit action means canonically.
type choice struct {
	label            string // Dataverse's label, kept as a label
	category, action string
}

// actions maps the audit table's `action` choice values (Dataverse table
// reference, "Auditing (Audit)", Action choices; "Retrieve the history of
// audited data changes", Audit Actions) to canonical categories and actions.
var actions = map[int64]choice{
	0:   {"Unknown", "", ""}, // decided by `operation`
	1:   {"Create", "data_change", "create"},
	2:   {"Update", "data_change", "update"},
	3:   {"Delete", "data_change", "delete"},
	4:   {"Activate", "data_change", "activate"},
	5:   {"Deactivate", "data_change", "deactivate"},
	11:  {"Cascade", "data_change", "cascade"},
	12:  {"Merge", "data_change", "merge"},
	13:  {"Assign", "data_change", "assign"},
	14:  {"Share", "permission", "grant"},
	15:  {"Retrieve", "data_access", "view"},
	16:  {"Close", "data_change", "close"},
	17:  {"Cancel", "data_change", "cancel"},
	18:  {"Complete", "data_change", "complete"},
	20:  {"Resolve", "data_change", "resolve"},
	21:  {"Reopen", "data_change", "reopen"},
	22:  {"Fulfill", "data_change", "fulfill"},
	23:  {"Paid", "data_change", "paid"},
	24:  {"Qualify", "data_change", "qualify"},
	25:  {"Disqualify", "data_change", "disqualify"},
	26:  {"Submit", "data_change", "submit"},
	27:  {"Reject", "data_change", "reject"},
	28:  {"Approve", "data_change", "approve"},
	29:  {"Invoice", "data_change", "invoice"},
	30:  {"Hold", "data_change", "hold"},
	31:  {"Add Member", "data_change", "add_member"},
	32:  {"Remove Member", "data_change", "remove_member"},
	33:  {"Associate Entities", "data_change", "associate"},
	34:  {"Disassociate Entities", "data_change", "disassociate"},
	35:  {"Add Members", "data_change", "add_member"},
	36:  {"Remove Members", "data_change", "remove_member"},
	37:  {"Add Item", "data_change", "add_item"},
	38:  {"Remove Item", "data_change", "remove_item"},
	39:  {"Add Substitute", "data_change", "add_substitute"},
	40:  {"Remove Substitute", "data_change", "remove_substitute"},
	41:  {"Set State", "data_change", "set_state"},
	42:  {"Renew", "data_change", "renew"},
	43:  {"Revise", "data_change", "revise"},
	44:  {"Win", "data_change", "win"},
	45:  {"Lose", "data_change", "lose"},
	46:  {"Internal Processing", "data_change", "internal_processing"},
	47:  {"Reschedule", "data_change", "reschedule"},
	48:  {"Modify Share", "permission", "share_change"},
	49:  {"Unshare", "permission", "revoke"},
	50:  {"Book", "data_change", "book"},
	51:  {"Generate Quote From Opportunity", "data_change", "create"},
	52:  {"Add To Queue", "data_change", "add_to_queue"},
	53:  {"Assign Role To Team", "permission", "grant"},
	54:  {"Remove Role From Team", "permission", "revoke"},
	55:  {"Assign Role To User", "permission", "grant"},
	56:  {"Remove Role From User", "permission", "revoke"},
	57:  {"Add Privileges to Role", "permission", "role_change"},
	58:  {"Remove Privileges From Role", "permission", "role_change"},
	59:  {"Replace Privileges In Role", "permission", "role_change"},
	60:  {"Import Mappings", "data_change", "import"},
	61:  {"Clone", "data_change", "create"},
	62:  {"Send Direct Email", "data_access", "send_email"},
	63:  {"Enabled for organization", "configuration", "config_change"},
	64:  {"User Access via Web", "session", "access"},
	65:  {"User Access via Web Services", "session", "access"},
	100: {"Delete Entity", "configuration", "config_change"},
	101: {"Delete Attribute", "configuration", "config_change"},
	102: {"Audit Change at Entity Level", "configuration", "audit_settings_change"},
	103: {"Audit Change at Attribute Level", "configuration", "audit_settings_change"},
	104: {"Audit Change at Org Level", "configuration", "audit_settings_change"},
	105: {"Entity Audit Started", "configuration", "audit_settings_change"},
	106: {"Attribute Audit Started", "configuration", "audit_settings_change"},
	107: {"Audit Enabled", "configuration", "audit_settings_change"},
	108: {"Entity Audit Stopped", "configuration", "audit_settings_change"},
	109: {"Attribute Audit Stopped", "configuration", "audit_settings_change"},
	110: {"Audit Disabled", "configuration", "audit_settings_change"},
	111: {"Audit Log Deletion", "configuration", "audit_settings_change"},
	112: {"User Access Audit Started", "configuration", "audit_settings_change"},
	113: {"User Access Audit Stopped", "configuration", "audit_settings_change"},
}

// operations maps the audit table's `operation` choice values. An action
// value this package does not know falls back to its operation.
var operations = map[int64]choice{
	1: {"Create", "data_change", "create"},
	2: {"Update", "data_change", "update"},
	3: {"Delete", "data_change", "delete"},
	4: {"Access", "session", "access"},
	5: {"Upsert", "data_change", "update"},
}
