//go:build !unix

package node

// RestrictUmask does nothing where there is no umask: file access there is
// governed by the data directory's access control list.
func RestrictUmask() {}
