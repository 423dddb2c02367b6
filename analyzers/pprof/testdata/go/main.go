// Command leakfixture writes the Go profiles used as fixtures by
// analyzers/pprof/profile_test.cc: a heap profile of a program whose map only
// grows, and a goroutine profile with workers parked on a channel forever.
// See ../README.md for how to run it.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

// Sizes of the leak: fixed so the profile's in-use totals are easy to check.
const (
	leakEntries    = 1000
	leakEntryBytes = 1024
	blockedWorkers = 5
)

// sessionCache is never pruned: every call of leakSessions adds entries that
// stay reachable for the life of the process, which is the leak.
var sessionCache = map[int][]byte{}

func leakSessions(n int) {
	for i := 0; i < n; i++ {
		sessionCache[len(sessionCache)] = make([]byte, leakEntryBytes)
	}
}

// waitForever parks on a channel that nobody sends on, like a worker whose
// shutdown signal was forgotten.
func waitForever(ch chan struct{}, started chan<- struct{}) {
	started <- struct{}{}
	<-ch
}

func write(path string, fn func(f *os.File) error) {
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := fn(f); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if err := f.Close(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func main() {
	// Record every allocation, so the sampled values equal the real ones.
	runtime.MemProfileRate = 1

	leakSessions(leakEntries)

	never := make(chan struct{})
	started := make(chan struct{})
	for i := 0; i < blockedWorkers; i++ {
		go waitForever(never, started)
	}
	for i := 0; i < blockedWorkers; i++ {
		<-started
	}
	// Give the workers time to park on <-ch after signalling.
	time.Sleep(100 * time.Millisecond)

	// The heap profile shows the state as of the last completed GC.
	runtime.GC()
	write("go_heap.pb.gz", func(f *os.File) error { return pprof.WriteHeapProfile(f) })
	write("go_goroutine.pb.gz", func(f *os.File) error {
		return pprof.Lookup("goroutine").WriteTo(f, 0)
	})
	runtime.KeepAlive(sessionCache)
}
