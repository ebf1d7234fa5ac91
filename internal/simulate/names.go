package simulate

// The vocabulary of the simulated world: names, devices, record fields and
// apps. Kept in one place so the generators read as behaviour.

var firstNames = []string{
	"Ada", "Ben", "Chloe", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas",
	"Kemi", "Liam", "Maya", "Noah", "Olga", "Priya", "Quentin", "Rosa", "Sven", "Tara",
	"Umar", "Vera", "Wei", "Ximena", "Yusuf", "Zoe", "Aiko", "Bruno", "Carmen", "Dev",
	"Emma", "Felix", "Gita", "Hana", "Ivan", "Julia", "Kenji", "Lena", "Mateo", "Nadia",
	"Omar", "Paula", "Ravi", "Sara", "Tomas", "Uma", "Viktor", "Yara", "Ziv", "Noa",
}

var lastNames = []string{
	"Abe", "Baker", "Cohen", "Dubois", "Eriksen", "Fischer", "Garcia", "Hughes", "Ito", "Jensen",
	"Kowalski", "Levi", "Muller", "Nakamura", "Okafor", "Patel", "Quinn", "Rossi", "Schmidt", "Tanaka",
	"Ueda", "Vargas", "Weber", "Xu", "Yamada", "Zimmer", "Alvarez", "Brown", "Chen", "Dawson",
	"Evans", "Friedman", "Gupta", "Hoffmann", "Ivanova", "Johnson", "Kim", "Lopez", "Mori", "Novak",
}

var companyWords = []string{
	"Northwind", "Contoso", "Fabrikam", "Tailspin", "Wingtip", "Adatum", "Litware", "Proseware",
	"Lucerne", "Margie", "Alpine", "Blue Yonder", "Coho", "Graphic", "Humongous", "Trey", "Wide World", "Woodgrove",
}

var companySuffixes = []string{"Ltd", "GmbH", "Inc", "KK", "SA", "BV", "Pty", "LLC"}

// Browsers and apps people use; attackers bring their own.
var (
	laptopAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.0 Safari/605.1.15",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 14.6; rv:132.0) Gecko/20100101 Firefox/132.0",
	}
	phoneAgents = []string{
		"SalesforceMobileSDK/12.1.0 iOS/18.1 (iPhone)",
		"HubSpot/24.9 (Android 15; Pixel 8)",
		"Dynamics365Mobile/4.3 (iOS 18.0; iPhone15,2)",
		"Mozilla/5.0 (Linux; Android 15) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
	}
	attackerAgents = []string{
		"python-requests/2.32.3",
		"curl/8.9.1",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36",
		"Go-http-client/1.1",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/122.0.0.0 Safari/537.36",
	}
	integrationAgents = []string{"MuleSoft/4.6 (Bulk API 2.0)", "Fivetran/2024.11", "Workato-agent/3.1", "SAP-CPI/7.5"}
)

// recordTypes are the customer records people work on, with the fields an
// ordinary update touches and the share of the record pool.
var recordTypes = []struct {
	typ    string
	fields []string
}{
	{"contact", []string{"Phone", "Title", "Description", "LeadSource", "MobilePhone"}},
	{"account", []string{"Industry", "Rating", "Phone", "Website", "NumberOfEmployees"}},
	{"opportunity", []string{"StageName", "Amount", "CloseDate", "NextStep", "Probability"}},
	{"lead", []string{"Status", "Rating", "Company", "Title"}},
	{"case", []string{"Status", "Priority", "Subject", "Origin"}},
}

// Fields whose change redirects mail, money or identity, by record type
// and vendor spelling; ordinary work touches them rarely, one at a time.
var sensitiveFields = map[string][]string{
	"contact": {"MailingStreet", "MailingCity", "MailingPostalCode", "Email"},
	"account": {"BillingStreet", "BillingCity", "BillingPostalCode", "IBAN", "Bank_Account__c", "Payout_Account__c"},
}

// Reports people export and run.
var reportNames = []string{
	"My open opportunities", "Pipeline by stage", "Contacts by account", "Cases closed this week",
	"Leads by source", "Quarterly bookings", "Customer master list", "Renewals next 90 days",
	"All contacts with e-mail", "Accounts by revenue",
}

// Apps people and admins connect: narrow ones, and ones that ask for the run
// of the CRM.
var (
	narrowApps = []struct{ name, scope string }{
		{"Calendar Sync", "calendar.read"},
		{"Slack Notifications", "chatter_api"},
		{"DocuSign eSignature", "api.sign"},
		{"Gong Call Recorder", "activities.write"},
	}
	broadApps = []struct{ name, scope string }{
		{"DataLoader Pro", "api refresh_token full"},
		{"Contact Exporter", "api refresh_token offline_access"},
		{"CRM Backup Cloud", "full refresh_token"},
		{"Lead Enricher AI", "crm.objects.contacts.write crm.objects.companies.write"},
	}
	userApps = []struct{ name, scope string }{
		{"PDF Quote Maker", "api"},
		{"Email Tracker Free", "refresh_token api"},
		{"Calendar Sync", "calendar.read"},
		{"Mobile CRM Plus", "api"},
	}
)

// Roles and departments with their share of people (percent).
var roleMix = []struct {
	role, dept string
	share      int
}{
	{"sales_rep", "sales", 32},
	{"sales_manager", "sales", 6},
	{"support_agent", "support", 24},
	{"support_lead", "support", 3},
	{"marketing_specialist", "marketing", 9},
	{"finance_analyst", "finance", 6},
	{"data_steward", "operations", 4},
	{"executive", "executive", 4},
	{"crm_admin", "it", 4},
	{"analyst", "operations", 8},
}

// Ordinary roles and permission sets admins grant to new hires and movers.
var ordinaryGrants = []string{"Sales_User", "Support_Agent", "Marketing_User", "Read_Only", "Reports_Viewer", "Service_Cloud_User"}

// Privileged ones attackers want.
var privilegedGrants = []string{"System_Administrator", "Modify_All_Data", "View_All_Data", "Manage_Users"}
