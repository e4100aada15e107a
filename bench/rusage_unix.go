//go:build unix

package main

import (
	"os"
	"runtime"
	"syscall"
	"time"
)

// usage is a finished process's CPU time (user + system) and peak resident
// memory in bytes, as its rusage says; see peakRSS for the catch.
func usage(ps *os.ProcessState) (cpu time.Duration, maxRSS int64) {
	ru, ok := ps.SysUsage().(*syscall.Rusage)
	if !ok {
		return ps.UserTime() + ps.SystemTime(), 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), rssBytes(ru.Maxrss)
}

// selfMaxRSS is this process's peak resident memory in bytes.
func selfMaxRSS() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return rssBytes(ru.Maxrss)
}

// rssBytes converts ru_maxrss: kilobytes everywhere but Apple's systems.
func rssBytes(maxrss int64) int64 {
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return maxrss
	}
	return maxrss * 1024
}
