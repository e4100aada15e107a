package main

import (
	"bytes"
	"os"
	"strconv"
	"time"
)

// watchHWM samples the high-water mark of a running process's resident
// memory (VmHWM in /proc/PID/status) every 10 ms until stop is closed, and
// sends the largest value seen, in bytes. The mark only rises, so a sample
// taken after the peak reads the peak exactly; only a peak in the last
// 10 ms of the process's life can be missed.
func watchHWM(pid int, stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	go func() {
		var peak int64
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			if v := readHWM(path); v > peak {
				peak = v
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-tick.C:
			}
		}
	}()
	return out
}

func readHWM(path string) int64 {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	_, rest, ok := bytes.Cut(data, []byte("VmHWM:"))
	if !ok {
		return 0 // a zombie has no memory left to report
	}
	line, _, _ := bytes.Cut(rest, []byte("\n"))
	kb, err := strconv.ParseInt(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(line), []byte("kB")))), 10, 64)
	if err != nil {
		return 0
	}
	return kb * 1024
}
