//go:build !unix

package filein

import "os"

// identity is unknown here: a replaced file is noticed only when it is
// shorter than the position reached.
func identity(os.FileInfo) fileID { return fileID{} }
