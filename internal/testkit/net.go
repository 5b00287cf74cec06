package testkit

import (
	"net"
	"testing"
)

// FreePorts returns n distinct loopback TCP ports that were free a moment
// ago. They are held until all n are found, so none is returned twice.
func FreePorts(t testing.TB, n int) []int {
	t.Helper()
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("testkit: find a free port: %v", err)
		}
		ports[i] = l.Addr().(*net.TCPAddr).Port
		defer l.Close()
	}
	return ports
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	return FreePorts(t, 1)[0]
}

// FreeAddr returns a loopback address, 127.0.0.1:port, whose port was free
// a moment ago: for a server the test starts in another process.
func FreeAddr(t testing.TB) string {
	t.Helper()
	return (&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: FreePort(t)}).String()
}
