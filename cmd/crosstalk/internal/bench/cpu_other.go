//go:build !unix

package bench

import "time"

// processCPU is unknown here: figures then carry no CPU time.
func processCPU() time.Duration { return 0 }
