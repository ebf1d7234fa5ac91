// Package deadletter writes rejected input to the dead-letter topic
// (crm.activity.dlq by default), so that nothing a stage accepted is ever
// dropped: each record says why it was rejected, where the input came from,
// and carries the input itself.
//
// A record is one JSON object per Kafka message (version 1):
//
//	{
//	  "v": 1,
//	  "stage": "ingest",                  // the stage that rejected it
//	  "reason": "timestamp: no UTC offset",
//	  "field": "timestamp",               // JSON path of the field to blame, if one is
//	  "raw": "{\"id\":\"e1\",...}",        // the input verbatim, when it is valid UTF-8
//	  "raw_base64": "...",                // or else the input in standard base64 (never both)
//	  "raw_size": 412,                    // bytes in the complete input
//	  "raw_sha256": "9f86d0...",          // hex SHA-256 of the complete input
//	  "raw_truncated": true,              // only when raw/raw_base64 holds just the first MaxRaw bytes
//	  "origin": {                         // where it came from; the fields that apply
//	    "source": "salesforce",           //   the CRM or vendor
//	    "collector": "file",              //   how it arrived: file, webhook, api, kafka
//	    "tenant": "acme",
//	    "file": "events.ndjson", "line": 12,
//	    "topic": "crm.activity", "partition": 3, "offset": 81723
//	  },
//	  "received_at": "2026-03-01T09:00:00.123456789Z"  // when the stage received the input (RFC 3339, UTC)
//	}
//
// Input of any size is accepted: past MaxRaw bytes the record keeps the
// first MaxRaw (cut on a UTF-8 boundary for "raw"), with raw_size and
// raw_sha256 of the whole, so that a record always fits in a Kafka message.
// Text fields (reason, field, origin) are UTF-8, invalid bytes replaced
// by U+FFFD; the reason never repeats a value: what it quotes is replaced
// by "…" (RedactReason), since it is logged, stored and reported; the input is always kept byte for byte (within MaxRaw).
// The record's Kafka key is the rejected message's key when there was one.
package deadletter
