// Package shadow finds personal data typed where it does not belong
// ("shadow data"): payment card numbers that pass the Luhn check, US social
// security numbers that follow the SSA's area/group/serial rules, IBANs
// with a valid mod-97 checksum, passport-like numbers next to the word
// passport, and e-mail addresses and phone numbers in free text. It scans
// the changes of an event and the names of exported reports, masks what it
// finds, and describes each finding as an alert. It is pure and cheap: a
// value with neither a digit nor an '@' costs one pass over its bytes.
package shadow
