// Writes a series of heap and goroutine profiles of a leaking Go program, for
// leaklab's attribution tests (see ../README.md, "go_series").
//
// Each of five rounds: main.(*sessionStore).add keeps 2 MiB more (the leak);
// main.fillCache fills a bounded cache once and then only replaces entries
// (grows, then flat); main.scratch allocates and drops 4 MiB (churn, never in
// use at the end of a round); main.startWatcher starts one goroutine that
// blocks forever on a channel receive (the worker leak). Then it runs the GC
// and writes heap-000N.pb.gz and goroutine-000N.pb.gz.
package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"time"
)

type sessionStore struct{ sessions [][]byte }

//go:noinline
func (s *sessionStore) add(n int) {
	for i := 0; i < n; i++ {
		s.sessions = append(s.sessions, make([]byte, 4096))
	}
}

var cache = map[int][]byte{}

//go:noinline
func fillCache(round int) {
	for i := 0; i < 256; i++ {
		cache[i] = make([]byte, 4096) // same 256 keys every round: bounded
	}
}

var sink []byte

//go:noinline
func scratch() {
	for i := 0; i < 1024; i++ {
		sink = make([]byte, 4096)
	}
	sink = nil
}

var never = make(chan int)

//go:noinline
func watch() { <-never }

//go:noinline
func startWatcher() { go watch() }

func write(name string, p *pprof.Profile) {
	f, err := os.Create(name)
	if err != nil {
		panic(err)
	}
	if p == nil {
		err = pprof.WriteHeapProfile(f)
	} else {
		err = p.WriteTo(f, 0)
	}
	if err != nil {
		panic(err)
	}
	f.Close()
}

func main() {
	store := &sessionStore{}
	for round := 1; round <= 5; round++ {
		store.add(512) // 2 MiB
		fillCache(round)
		scratch()
		startWatcher()
		runtime.GC()
		write(fmt.Sprintf("heap-%04d.pb.gz", round), nil)
		write(fmt.Sprintf("goroutine-%04d.pb.gz", round), pprof.Lookup("goroutine"))
		time.Sleep(200 * time.Millisecond)
	}
	runtime.KeepAlive(store)
}
