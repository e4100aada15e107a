//go:build !unix

package main

import (
	"os"
	"time"
)

// usage is a finished process's CPU time; peak memory is unknown here.
func usage(ps *os.ProcessState) (cpu time.Duration, maxRSS int64) {
	return ps.UserTime() + ps.SystemTime(), 0
}

func selfMaxRSS() int64 { return 0 }
