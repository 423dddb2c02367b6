// leakservice is a small net/http service with one memory behaviour per
// -mode, recorded by ../../record into leaklab's real-runtime corpus
// (analyzers/testdata/real/cases/go-*). Each mode is one shape of the
// incidents in shared/seeds (or one of their look-alikes); the label of a
// recorded case follows from how the mode is built, never from what an
// analyzer says about it.
//
// Every business request allocates about -garbage-bytes of garbage (a
// response rendered into a scratch buffer and dropped) before doing what
// its mode does, as a real handler would, so the GC has work to do and the
// heap saw-tooths.
//
// Endpoints (127.0.0.1 only):
//
//	/work?id=N     retain, steady, madv, reload-workers: the business request
//	/lookup?key=K  cache-unbounded, lru
//	/req?id=N      request-map
//	/reload        reload-workers (POST): start a new generation of workers
//	/metrics       Prometheus text format, written by hand (no client library)
//	/healthz       "ok"
//	/debug/pprof/  net/http/pprof (heap, goroutine, allocs, ...)
//
// The service can also drive itself (-self-rate), for long recordings in
// which a Prometheus server scrapes it for hours with no load generator; by
// default (-self-rate 0) it only answers an external load generator.
package main

import (
	"container/list"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof/ on http.DefaultServeMux
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Flags. Sizes are payload bytes; Go's allocator rounds them up to its size
// classes, and containers add their own overhead.
var (
	flagPort       = flag.Int("port", 0, "TCP port on 127.0.0.1 (0: pick a free one and print it)")
	flagMode       = flag.String("mode", "steady", "retain | cache-unbounded | request-map | reload-workers | lru | steady | madv")
	flagFixed      = flag.Bool("fixed", false, "request-map: delete the entry when the request ends; reload-workers: stop the previous generation")
	flagKeepBytes  = flag.Int("keep-bytes", -1, "bytes kept per unit of work (retain: per request, default 4096; cache-unbounded: per new key, default 2048; request-map: per request, default 2048)")
	flagGarbage    = flag.Int("garbage-bytes", 10240, "garbage allocated (and dropped) by every business request")
	flagHotBytes   = flag.Int("hot-bytes", 49152, "cache-unbounded: bytes allocated and dropped per request by main.toDomain (the red herring)")
	flagWorkers    = flag.Int("workers-per-reload", 4, "reload-workers: goroutines started by every reload")
	flagWorkerBuf  = flag.Int("worker-bytes", 16384, "reload-workers: state buffer each worker holds while it lives")
	flagWorkerTick = flag.Duration("worker-poll", time.Second, "reload-workers: how often a worker wakes up to poll")
	flagLRUBytes   = flag.Int("lru-bytes", 20<<20, "lru: capacity in payload bytes")
	flagLRUEntry   = flag.Int("lru-entry-bytes", 1024, "lru: payload bytes per entry")
	flagLRUPerReq  = flag.Int("lru-per-request", 8, "lru: distinct sub-keys looked up per request (each a 1 KB entry on a miss)")
	flagMadvAfter  = flag.Duration("madv-after", 4*time.Second, "madv: when to allocate and drop the burst, after start")
	flagMadvBytes  = flag.Int("madv-bytes", 200<<20, "madv: size of the burst")
	flagMadvObj    = flag.Int("madv-object-bytes", 1024, "madv: size of each object of the burst")
	flagSelfRate   = flag.Float64("self-rate", 0, "requests per second the service sends to itself (0: none, driven by an external load generator only)")
	flagSelfKeys   = flag.Int("self-keys", 0, "self load on /lookup: keys drawn uniformly from 0..K-1 (0: a new key per request)")
	flagSelfReload = flag.Duration("self-reload-every", time.Minute, "self load, reload-workers: POST /reload this often (0: never)")
	flagMaxRun     = flag.Duration("max-run", 48*time.Hour, "exit after this long (a bound, so a forgotten process does not run forever)")
)

// Counters exported on /metrics.
var (
	requestsTotal [numHandlers]atomic.Uint64 // business requests, by handler
	keysTotal     atomic.Uint64              // distinct keys ever inserted into the cache
	reloadsTotal  atomic.Uint64
)

const (
	hWork = iota
	hLookup
	hReq
	hReload
	numHandlers
)

var handlerNames = [numHandlers]string{"work", "lookup", "req", "reload"}

// sink keeps the compiler from proving the garbage dead; it holds a checksum,
// never a pointer, so nothing is retained through it.
var sink atomic.Uint64

// render stands for a handler's response rendering: a scratch buffer of n
// bytes, filled, summed and dropped. n comes from a flag, so the buffer is
// heap-allocated (Go only puts constant-size buffers on the stack).
//
//go:noinline
func render(n int, seed uint64) uint64 {
	buf := make([]byte, n)
	var s uint64
	for i := range buf {
		buf[i] = byte(seed) + byte(i)
	}
	for i := 0; i < len(buf); i += 64 {
		s += uint64(buf[i])
	}
	return s
}

// ---- retain: a global slice that only grows (seed: global-request-tracker).

var (
	rememberMu sync.Mutex
	remembered [][]byte
)

// remember keeps n bytes of the request forever: the leak of mode retain.
//
//go:noinline
func remember(n int, id uint64) {
	b := make([]byte, n)
	for i := 0; i < len(b); i += 512 {
		b[i] = byte(id)
	}
	rememberMu.Lock()
	remembered = append(remembered, b)
	rememberMu.Unlock()
}

// ---- cache-unbounded: a map with no eviction (seed: unbounded-cache).

// domainRecord is what toDomain returns: the seed's red herring, a pointer to
// a freshly built object that escapes to the heap on every request but is
// dropped once the response is written.
type domainRecord struct {
	key    string
	fields [][]byte
	score  uint64
}

// toDomain converts a "row" into a domain object, allocating a lot and
// keeping nothing: it dominates alloc_space, not inuse_space.
//
//go:noinline
func toDomain(key string, hotBytes int) *domainRecord {
	r := &domainRecord{key: key}
	const field = 1024
	for n := 0; n < hotBytes; n += field {
		f := make([]byte, field)
		f[0] = byte(n)
		r.fields = append(r.fields, f)
		r.score += uint64(f[0])
	}
	return r
}

var (
	cacheMu sync.Mutex
	cache   = map[string][]byte{}
)

// loadResult computes the value the cache keeps for a key: the allocation
// that leaks in mode cache-unbounded.
//
//go:noinline
func loadResult(key string, n int) []byte {
	v := make([]byte, n)
	copy(v, key)
	for i := len(key); i < len(v); i += 256 {
		v[i] = byte(i)
	}
	return v
}

// cacheGet returns the cached value of key, loading and caching it on a miss.
// There is no eviction and no TTL janitor.
func cacheGet(key string, n int) []byte {
	cacheMu.Lock()
	v, ok := cache[key]
	cacheMu.Unlock()
	if ok {
		return v
	}
	v = loadResult(key, n)
	cacheMu.Lock()
	if _, ok := cache[key]; !ok {
		cache[key] = v
		keysTotal.Add(1)
	}
	cacheMu.Unlock()
	return v
}

// ---- lru: the bounded fix (container/list + map), evicting the least recently used.

type lruEntry struct {
	key   string
	value []byte
}

type lruCache struct {
	mu       sync.Mutex
	capacity int // entries
	order    *list.List
	index    map[string]*list.Element
}

func newLRU(capacity int) *lruCache {
	return &lruCache{capacity: capacity, order: list.New(), index: make(map[string]*list.Element)}
}

// get returns key's value, loading it (n bytes) on a miss and evicting the
// least recently used entry when full.
func (c *lruCache) get(key string, n int) []byte {
	c.mu.Lock()
	if e, ok := c.index[key]; ok {
		c.order.MoveToFront(e)
		v := e.Value.(*lruEntry).value
		c.mu.Unlock()
		return v
	}
	c.mu.Unlock()
	v := loadResult(key, n)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.index[key]; ok {
		return v
	}
	c.index[key] = c.order.PushFront(&lruEntry{key: key, value: v})
	keysTotal.Add(1)
	for c.order.Len() > c.capacity {
		last := c.order.Back()
		c.order.Remove(last)
		delete(c.index, last.Value.(*lruEntry).key)
	}
	return v
}

var lru *lruCache

// ---- request-map: per-request state in a global map (seed: global-request-map).

type requestState struct {
	id      string
	started time.Time
	attrs   []byte
}

var (
	requestsMu sync.Mutex
	requests   = map[string]*requestState{}
)

// attachRequestState stores the request's state under its id: the
// allocation that leaks when nothing removes the entry.
//
//go:noinline
func attachRequestState(id string, n int) *requestState {
	st := &requestState{id: id, started: time.Now(), attrs: make([]byte, n)}
	copy(st.attrs, id)
	requestsMu.Lock()
	requests[id] = st
	requestsMu.Unlock()
	return st
}

func detachRequestState(id string) {
	requestsMu.Lock()
	delete(requests, id)
	requestsMu.Unlock()
}

// ---- reload-workers: goroutines started per reload (seed: runaway-workers).

var (
	reloadMu   sync.Mutex
	reloadStop chan struct{} // closes the current generation (fixed variant)
)

// reloadWorker stands for a discovery worker: it holds its state and wakes
// up every poll interval until its generation is stopped. In the leaky
// variant nothing ever stops it.
//
//go:noinline
func reloadWorker(gen uint64, stop <-chan struct{}, stateBytes int, poll time.Duration) {
	state := make([]byte, stateBytes)
	state[0] = byte(gen)
	t := time.NewTimer(poll)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			state[int(gen)%len(state)]++
			t.Reset(poll)
		}
	}
}

func reload() {
	gen := reloadsTotal.Add(1)
	stop := make(chan struct{})
	reloadMu.Lock()
	if *flagFixed && reloadStop != nil {
		close(reloadStop)
	}
	reloadStop = stop
	reloadMu.Unlock()
	for i := 0; i < *flagWorkers; i++ {
		go reloadWorker(gen, stop, *flagWorkerBuf, *flagWorkerTick)
	}
}

// ---- madv: a burst freed and returned to the OS (seed: lazy-release).

// burst allocates n bytes in objects of obj bytes, drops them, collects and
// returns the memory to the OS. Whether RSS falls depends on GODEBUG
// madvdontneed: 1 (Go's default since 1.16) uses MADV_DONTNEED, 0 MADV_FREE.
func burst(n, obj int) {
	objs := make([][]byte, 0, n/obj)
	for len(objs)*obj < n {
		b := make([]byte, obj)
		b[0] = 1
		objs = append(objs, b)
	}
	log.Printf("madv: allocated %d objects of %d B", len(objs), obj)
	objs = nil
	runtime.GC()
	debug.FreeOSMemory()
	log.Printf("madv: freed and returned to the OS")
}

// ---- handlers

func queryID(r *http.Request, name string) string {
	v := r.URL.Query().Get(name)
	if v == "" {
		v = "0"
	}
	return v
}

func handleWork(w http.ResponseWriter, r *http.Request) {
	requestsTotal[hWork].Add(1)
	id := queryID(r, "id")
	n, _ := strconv.ParseUint(id, 10, 64)
	sink.Add(render(*flagGarbage, n))
	if *flagMode == "retain" {
		remember(keepBytes(), n)
	}
	io.WriteString(w, "ok\n")
}

func handleLookup(w http.ResponseWriter, r *http.Request) {
	requestsTotal[hLookup].Add(1)
	key := queryID(r, "key")
	sink.Add(render(*flagGarbage, uint64(len(key))))
	var size int
	switch *flagMode {
	case "cache-unbounded":
		rec := toDomain(key, *flagHotBytes)
		v := cacheGet(key, keepBytes())
		sink.Add(rec.score + uint64(len(rec.fields)))
		size = len(v)
	case "lru":
		// A page of results: -lru-per-request sub-keys of the key.
		for i := 0; i < *flagLRUPerReq; i++ {
			size += len(lru.get(key+"/"+strconv.Itoa(i), *flagLRUEntry))
		}
	}
	fmt.Fprintf(w, "%d\n", size)
}

func handleReq(w http.ResponseWriter, r *http.Request) {
	requestsTotal[hReq].Add(1)
	id := queryID(r, "id")
	st := attachRequestState(id, keepBytes())
	if *flagFixed {
		// The fix: the entry lives as long as the request.
		defer detachRequestState(id)
	}
	sink.Add(render(*flagGarbage, uint64(len(st.attrs))))
	io.WriteString(w, "ok\n")
}

func handleReload(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	requestsTotal[hReload].Add(1)
	reload()
	io.WriteString(w, "reloaded\n")
}

func keepBytes() int {
	if *flagKeepBytes >= 0 {
		return *flagKeepBytes
	}
	if *flagMode == "retain" {
		return 4096
	}
	return 2048
}

// residentBytes reads the resident set size from /proc/self/statm (second
// field, in pages).
func residentBytes() uint64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseUint(f[1], 10, 64)
	return pages * uint64(os.Getpagesize())
}

func handleMetrics(w http.ResponseWriter, r *http.Request) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	var b strings.Builder
	metric := func(name, typ, help string, v uint64) {
		fmt.Fprintf(&b, "# HELP %s %s\n# TYPE %s %s\n%s %d\n", name, help, name, typ, name, v)
	}
	metric("process_resident_memory_bytes", "gauge", "Resident memory size in bytes (/proc/self/statm).", residentBytes())
	b.WriteString("# HELP http_requests_total Business requests served (not /metrics, not /debug).\n# TYPE http_requests_total counter\n")
	for h := 0; h < numHandlers; h++ {
		fmt.Fprintf(&b, "http_requests_total{handler=%q} %d\n", handlerNames[h], requestsTotal[h].Load())
	}
	metric("go_goroutines", "gauge", "Number of goroutines that currently exist.", uint64(runtime.NumGoroutine()))
	metric("go_memstats_heap_inuse_bytes", "gauge", "Bytes in in-use heap spans.", ms.HeapInuse)
	metric("go_memstats_heap_alloc_bytes", "gauge", "Bytes of allocated heap objects.", ms.HeapAlloc)
	metric("go_memstats_heap_idle_bytes", "gauge", "Bytes in idle heap spans.", ms.HeapIdle)
	metric("go_memstats_heap_released_bytes", "gauge", "Bytes of idle spans returned to the OS.", ms.HeapReleased)
	metric("go_memstats_gc_completed_total", "counter", "Completed GC cycles.", uint64(ms.NumGC))
	metric("keys_total", "counter", "Distinct keys ever inserted into the cache.", keysTotal.Load())
	metric("reloads_total", "counter", "Reloads served.", reloadsTotal.Load())
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	io.WriteString(w, b.String())
}

// selfLoad sends requests to the service itself at rate per second, over
// loopback like any client, so that long recordings need no load generator.
func selfLoad(base string, rate float64, keys int, reloadEvery time.Duration) {
	client := &http.Client{Timeout: 5 * time.Second}
	get := func(url string) {
		resp, err := client.Get(url)
		if err != nil {
			log.Printf("self-load: %v", err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if *flagMode == "reload-workers" && reloadEvery > 0 {
		go func() {
			for range time.Tick(reloadEvery) {
				resp, err := client.Post(base+"/reload", "text/plain", nil)
				if err != nil {
					log.Printf("self-load: %v", err)
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	interval := time.Duration(float64(time.Second) / rate)
	var n uint64
	next := time.Now()
	for {
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
		k := n
		if keys > 0 {
			k = uint64(fastRand() % uint32(keys))
		}
		switch *flagMode {
		case "cache-unbounded", "lru":
			get(fmt.Sprintf("%s/lookup?key=%d", base, k))
		case "request-map":
			get(fmt.Sprintf("%s/req?id=%d", base, n))
		default:
			get(fmt.Sprintf("%s/work?id=%d", base, n))
		}
		n++
	}
}

// fastRand is xorshift32, enough to spread self-load keys.
var randState uint32 = 2463534242

func fastRand() uint32 {
	x := randState
	x ^= x << 13
	x ^= x >> 17
	x ^= x << 5
	randState = x
	return x
}

func main() {
	flag.Parse()
	log.SetFlags(log.Ltime | log.Lmicroseconds)
	switch *flagMode {
	case "retain", "steady", "madv", "reload-workers":
		http.HandleFunc("/work", handleWork)
	case "cache-unbounded":
		http.HandleFunc("/lookup", handleLookup)
	case "lru":
		lru = newLRU(*flagLRUBytes / *flagLRUEntry)
		http.HandleFunc("/lookup", handleLookup)
	case "request-map":
		http.HandleFunc("/req", handleReq)
	default:
		fmt.Fprintf(os.Stderr, "leakservice: -mode %q: expected retain, cache-unbounded, request-map, reload-workers, lru, steady or madv\n", *flagMode)
		os.Exit(2)
	}
	if *flagMode == "reload-workers" {
		http.HandleFunc("/reload", handleReload)
	}
	http.HandleFunc("/metrics", handleMetrics)
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*flagPort)))
	if err != nil {
		fmt.Fprintf(os.Stderr, "leakservice: listen: %v\n", err)
		os.Exit(1)
	}
	addr := ln.Addr().String()
	fmt.Printf("listening on %s\n", addr)
	log.Printf("mode %s fixed=%v keep=%d GOGC=%q GODEBUG=%q pid %d", *flagMode, *flagFixed, keepBytes(), os.Getenv("GOGC"), os.Getenv("GODEBUG"), os.Getpid())

	if *flagMode == "madv" {
		time.AfterFunc(*flagMadvAfter, func() { burst(*flagMadvBytes, *flagMadvObj) })
	}
	if *flagSelfRate > 0 {
		go selfLoad("http://"+addr, *flagSelfRate, *flagSelfKeys, *flagSelfReload)
	}
	if *flagMaxRun > 0 {
		time.AfterFunc(*flagMaxRun, func() {
			log.Printf("max-run %v reached, exiting", *flagMaxRun)
			os.Exit(0)
		})
	}
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	log.Fatal(srv.Serve(ln))
}
