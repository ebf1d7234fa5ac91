//go:build unix

package filein

import (
	"os"
	"syscall"
)

// identity is what tells a file from the one that replaced it at the same
// path (rotation): device and inode.
func identity(fi os.FileInfo) fileID {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return fileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}
	}
	return fileID{}
}
