// Package slack posts notifications to a Slack channel through an incoming
// webhook: a text fallback plus Block Kit blocks, honouring Slack's 429
// Retry-After and its plain-text error answers.
package slack
