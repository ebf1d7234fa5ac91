// Package entra disables and re-enables Microsoft Entra ID users through
// Microsoft Graph: PATCH /users/{id} with accountEnabled=false, then POST
// /users/{id}/revokeSignInSessions so refresh tokens and browser sessions
// die too; undo sets accountEnabled=true. Tokens come from the Microsoft
// identity platform's client-credentials grant.
package entra
