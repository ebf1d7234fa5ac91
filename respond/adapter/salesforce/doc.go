// Package salesforce freezes and unfreezes Salesforce users through the
// UserLogin object's IsFrozen field (REST API: a SOQL query for the user's
// UserLogin row, then an sObject update), authenticating with the OAuth 2.0
// client-credentials flow against the org's My Domain.
package salesforce
