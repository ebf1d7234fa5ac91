// Package record is the input side of normalisation: one vendor record (a
// JSON object or a CSV row read by column name), the readers that cut a stream
// into records with line numbers, the typed accessors normalisers read fields
// with, and the Normalizer interface every vendor format implements.
package record
