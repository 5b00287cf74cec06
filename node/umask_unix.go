//go:build unix

package node

import "syscall"

// RestrictUmask adds group and other to the process's umask, so that every
// file and directory created from now on (by crosstalk, Pebble and the
// embedded nats-server, whose JetStream files would otherwise be 0640 in
// 0750 directories) is owner-only whatever umask the process was started
// with. It only ever narrows the umask, and is process-wide: the node's
// data holds message text and the signing key.
func RestrictUmask() {
	old := syscall.Umask(0o077)
	syscall.Umask(old | 0o077)
}
