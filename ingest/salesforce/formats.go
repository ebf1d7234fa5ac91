package salesforce

import "github.com/trailwatch/trailwatch/ingest/record"

// Normalizers returns one Normalizer per Salesforce input format, named as
// `trailwatch normalize --format` names them.
func Normalizers() []record.Normalizer {
	return []record.Normalizer{
		record.NewJSON("salesforce-loginevent", LoginEvent),
		record.NewJSON("salesforce-logoutevent", LogoutEvent),
		record.NewJSON("salesforce-reportevent", ReportEvent),
		record.NewJSON("salesforce-listviewevent", ListViewEvent),
		record.NewJSON("salesforce-apievent", ApiEvent),
		record.NewJSON("salesforce-loginasevent", LoginAsEvent),
		record.NewJSON("salesforce-bulkapiresultevent", BulkApiResultEvent),
		record.NewJSON("salesforce-permissionsetevent", PermissionSetEvent),
		record.NewJSON("salesforce-setupaudittrail", SetupAuditTrail),
		record.NewCSV("salesforce-elf-login", ELFLogin),
		record.NewCSV("salesforce-elf-reportexport", ELFReportExport),
		record.NewCSV("salesforce-elf-api", ELFAPI),
		record.NewCSV("salesforce-elf-uri", ELFURI),
	}
}
