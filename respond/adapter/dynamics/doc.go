// Package dynamics disables and re-enables Dynamics 365 users through the
// Dataverse Web API: PATCH systemusers(<id>) with isdisabled, read back with
// $select=isdisabled. It also reads and updates the columns of any table's
// rows (record.go), which rollbacks use, typing them from the table
// definition. Tokens come from the Microsoft identity platform's
// client-credentials grant for the environment's scope.
package dynamics
