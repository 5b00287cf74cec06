package testkit

import (
	"os"
	"strconv"
	"strings"
	"syscall"
)

// Counts are what a process did that the scheduler and the network make
// it pay for: the system calls that read and write (sockets and files,
// from /proc/self/io) and its context switches (getrusage). Unlike CPU
// time they barely move with the machine's other load, so a change to a
// path that saves some shows in a run or two, where its CPU time would
// drown in the noise.
type Counts struct{ Reads, Writes, Switches int64 }

// ProcessCounts reads the process's Counts; zeros where the system does
// not say (no /proc).
func ProcessCounts() Counts {
	var c Counts
	if data, err := os.ReadFile("/proc/self/io"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "syscr: "); ok {
				c.Reads, _ = strconv.ParseInt(v, 10, 64)
			}
			if v, ok := strings.CutPrefix(line, "syscw: "); ok {
				c.Writes, _ = strconv.ParseInt(v, 10, 64)
			}
		}
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		c.Switches = ru.Nvcsw + ru.Nivcsw
	}
	return c
}

// Per is c minus since, each divided by n: per operation.
func (c Counts) Per(since Counts, n int) (reads, writes, switches float64) {
	d := float64(n)
	return float64(c.Reads-since.Reads) / d, float64(c.Writes-since.Writes) / d, float64(c.Switches-since.Switches) / d
}
