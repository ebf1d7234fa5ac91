// Package filein is the file collector (`trailwatch ingest file`): it reads
// records from a file, standard input, or every file of a directory, in
// canonical NDJSON or any vendor format (NDJSON, or CSV for the Event Log
// File formats), and publishes them through ingest.Publisher in batches.
//
// Following (Follow), it keeps reading what is appended to the files, and
// files that appear in the directory, and remembers each file's position
// (byte offset and line, with the file's identity) in a checkpoint under
// the data directory, saved only after Kafka acknowledged every record
// before it. A restart resumes at the checkpoint: after a clean stop (the
// last batch published, the checkpoint saved) with no gap and no duplicate;
// after a crash with no gap, and at most the records acknowledged since
// the last save (CheckpointInterval) sent again, which their ids make
// harmless downstream. Only complete records are read while following: a
// line without its line break yet waits for it.
package filein
