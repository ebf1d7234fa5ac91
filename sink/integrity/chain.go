package integrity

import (
	"fmt"
	"slices"

	"github.com/trailwatch/trailwatch/sink/auditrow"
)

// candidate is a stored row at one offset, with its recomputed hash.
type candidate struct {
	row   *auditrow.Row
	hash  [auditrow.HashSize]byte
	valid bool // its content matches its stored fingerprint and derived key
}

// byOffset groups rows by offset, folding identical copies (a batch the
// sink stored twice) into one.
func byOffset(rows []auditrow.Row) map[int64][]candidate {
	var h auditrow.Hasher
	out := map[int64][]candidate{}
	for i := range rows {
		r := &rows[i]
		c := candidate{row: r, hash: h.Hash(r)}
		c.valid = auditrow.Fingerprint(c.hash) == r.RowFP && personKeyOK(r)
		dup := false
		for _, o := range out[r.Offset] {
			if o.hash == c.hash && o.row.RowFP == r.RowFP && o.row.ChainGap == r.ChainGap && o.row.PersonKey == r.PersonKey {
				dup = true
				break
			}
		}
		if !dup {
			out[r.Offset] = append(out[r.Offset], c)
		}
	}
	return out
}

// personKeyOK checks the one derived column queries filter on.
func personKeyOK(r *auditrow.Row) bool {
	if r.PersonID != "" {
		return r.PersonKey == r.PersonID
	}
	return r.PersonKey == r.UserID
}

func changedProblem(tenant string, c candidate) Problem {
	what := "its content no longer matches the fingerprint stored when it was chained"
	if auditrow.Fingerprint(c.hash) == c.row.RowFP {
		what = "person_key does not follow from person_id and user_id"
	}
	return Problem{Kind: Changed, Tenant: tenant, Partition: c.row.Partition, Offset: c.row.Offset, ID: c.row.ID, Detail: what}
}

// checkSegment checks the rows of one checkpoint segment, (prev, at]. It
// walks the chain backwards from the checkpoint's row along each row's
// link (chain_gap): a link to a missing offset is a deleted row, a row the
// walk never reaches is an inserted one, a row whose content does not
// match its fingerprint a changed one. Then it folds the rows the walk
// found and compares with the signed head. It returns the problems and
// how many rows are missing by the count the checkpoint signed.
func checkSegment(tenant string, sg segment, rows []auditrow.Row) ([]Problem, int) {
	var probs []Problem
	cands := byOffset(rows)
	onPath := map[*auditrow.Row]bool{}
	var path []candidate // descending offsets
	cur := sg.at.Offset
	deleted := 0
	for cur > sg.prev.Offset {
		cs := cands[cur]
		if len(cs) == 0 {
			probs = append(probs, Problem{Kind: Deleted, Tenant: tenant, Partition: sg.partition, Offset: cur,
				Detail: fmt.Sprintf("the chained row at this offset is missing (the chain between offsets %d and %d is signed by a checkpoint)", sg.prev.Offset, sg.at.Offset)})
			deleted++
			// Its link is lost with it: go on from the closest row below.
			next := int64(-1 << 62)
			for off := range cands {
				if off < cur && off > sg.prev.Offset && off > next && !visited(cands[off], onPath) {
					next = off
				}
			}
			if next < sg.prev.Offset {
				break
			}
			cur = next
			continue
		}
		// Of several rows at one offset, the chain continues through one
		// whose content matches its fingerprint; the others are reported
		// as inserted. (If an intruder also forged a matching fingerprint,
		// the one picked may be the forgery: the signed head then does not
		// match and the problems name this offset either way.)
		pick := 0
		for i, c := range cs {
			if c.valid {
				pick = i
				break
			}
		}
		c := cs[pick]
		onPath[c.row] = true
		path = append(path, c)
		if !c.valid {
			probs = append(probs, changedProblem(tenant, c))
		}
		gap := int64(c.row.ChainGap)
		if gap <= 0 || cur-gap < sg.prev.Offset {
			probs = append(probs, Problem{Kind: Changed, Tenant: tenant, Partition: sg.partition, Offset: cur, ID: c.row.ID,
				Detail: fmt.Sprintf("its link (chain_gap %d) points outside the signed range after offset %d", gap, sg.prev.Offset)})
			break
		}
		cur -= gap
	}
	for _, cs := range cands {
		for _, c := range cs {
			if !onPath[c.row] {
				probs = append(probs, Problem{Kind: Inserted, Tenant: tenant, Partition: c.row.Partition, Offset: c.row.Offset, ID: c.row.ID,
					Detail: "the row is not part of the signed chain (no chained row links to it)"})
			}
		}
	}
	want := sg.at.Rows - sg.prev.Rows
	missing := 0
	if uint64(len(path)) < want {
		missing = int(want - uint64(len(path)))
		if missing > deleted {
			probs = append(probs, Problem{Kind: Deleted, Tenant: tenant, Partition: sg.partition, Offset: sg.at.Offset,
				Detail: fmt.Sprintf("the checkpoint signed %d rows in (%d, %d], %d are chained now: %d more missing rows than found above", want, sg.prev.Offset, sg.at.Offset, len(path), missing-deleted)})
		}
	}
	if len(probs) == 0 && fold(sg.prev.Head, path) != sg.at.Head {
		probs = append(probs, Problem{Kind: Rewritten, Tenant: tenant, Partition: sg.partition, Offset: sg.at.Offset,
			Detail: fmt.Sprintf("the rows in (%d, %d] no longer fold to the signed head, though each row matches its own fingerprint: rows were altered together with their fingerprints", sg.prev.Offset, sg.at.Offset)})
	}
	return probs, missing
}

func visited(cs []candidate, onPath map[*auditrow.Row]bool) bool {
	for _, c := range cs {
		if onPath[c.row] {
			return true
		}
	}
	return false
}

// fold folds path (descending) from head in offset order.
func fold(head [auditrow.HashSize]byte, path []candidate) [auditrow.HashSize]byte {
	for i := len(path) - 1; i >= 0; i-- {
		head = auditrow.Fold(head, path[i].row.Offset, path[i].hash)
	}
	return head
}

// checkTail checks the links of rows after the last checkpoint, from it
// forward. Nothing signs these rows yet; a broken link still shows a row
// deleted or inserted among them.
func checkTail(tenant string, partition int32, from Point, rows []auditrow.Row) []Problem {
	var probs []Problem
	cands := byOffset(rows)
	offs := make([]int64, 0, len(cands))
	for off := range cands {
		offs = append(offs, off)
	}
	slices.Sort(offs)
	last := from.Offset
	for _, off := range offs {
		for _, c := range cands[off] {
			if !c.valid {
				probs = append(probs, changedProblem(tenant, c))
			}
			pred := off - int64(c.row.ChainGap)
			switch {
			case pred == last:
			case pred > last:
				probs = append(probs, Problem{Kind: Deleted, Tenant: tenant, Partition: partition, Offset: pred,
					Detail: fmt.Sprintf("the row at offset %d links to this offset, whose row is missing (after the last checkpoint, unsigned)", off)})
			default:
				probs = append(probs, Problem{Kind: Inserted, Tenant: tenant, Partition: partition, Offset: off, ID: c.row.ID,
					Detail: fmt.Sprintf("its link points to offset %d, behind the chain's last row at %d (after the last checkpoint, unsigned)", pred, last)})
				continue
			}
			last = off
		}
	}
	return probs
}
