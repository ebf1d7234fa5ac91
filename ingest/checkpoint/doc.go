// Package checkpoint keeps the positions of the collectors that read at
// their own pace (the file collector's offsets, the pollers' cursors) as
// small JSON files under the data directory, each replaced atomically:
// written to a temporary file, synced, renamed over the old one, and the
// directory synced. A reader finds the old checkpoint or the new one, never
// a torn one. A collector saves a position only after Kafka acknowledged
// everything before it, so a restart resumes with no gap.
//
// Files rather than a compacted Kafka topic: a file collector's position
// is about files on its own machine and belongs beside them; a poller's
// cursor is read once at start, and a file needs no consumer to replay a
// topic to its end before the first poll, nor a partition per poller. A
// lock file per checkpoint stops two processes from advancing one cursor.
package checkpoint
