package integration

import (
	"bufio"
	"fmt"
	"io"
	"math/bits"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// latencies is a log-linear histogram of durations: exact below 64 ns, then 32 buckets per
// power of two (each at most ≈ 3 % wide), so its memory is fixed however long a soak runs.
type latencies struct {
	counts [60 * 32]uint64
	n      uint64
	sum    time.Duration
	max    time.Duration
}

func latencyBucket(d time.Duration) int {
	v := uint64(max(d, 0))
	if v < 64 {
		return int(v)
	}
	e := bits.Len64(v) - 6 // v>>e is in [32, 64)
	return (e+1)*32 + int(v>>e) - 32
}

// latencyUpper is the largest duration in bucket i.
func latencyUpper(i int) time.Duration {
	if i < 64 {
		return time.Duration(i)
	}
	e := i/32 - 1
	m := uint64(i%32 + 32)
	return time.Duration((m+1)<<e - 1)
}

func (l *latencies) add(d time.Duration) {
	l.counts[latencyBucket(d)]++
	l.n++
	l.sum += d
	l.max = max(l.max, d)
}

// quantile is the upper bound of the bucket holding the q-th sample (never above max).
func (l *latencies) quantile(q float64) time.Duration {
	if l.n == 0 {
		return 0
	}
	rank := uint64(q*float64(l.n) + 0.5)
	rank = min(max(rank, 1), l.n)
	var seen uint64
	for i, c := range l.counts {
		if seen += c; seen >= rank {
			return min(latencyUpper(i), l.max)
		}
	}
	return l.max
}

// opStats records, per operation kind, the latency of every request and the statuses seen.
type opStats struct {
	mu    sync.Mutex
	kinds map[string]*kindStats
}

type kindStats struct {
	lat      latencies
	statuses map[int]uint64
}

func newOpStats() *opStats { return &opStats{kinds: map[string]*kindStats{}} }

func (s *opStats) record(kind string, status int, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.kinds[kind]
	if k == nil {
		k = &kindStats{statuses: map[int]uint64{}}
		s.kinds[kind] = k
	}
	k.lat.add(d)
	k.statuses[status]++
}

// soakRow is one line of the report: one operation kind over the measured phase.
type soakRow struct {
	Kind     string         `json:"kind"`
	Count    uint64         `json:"count"`
	PerSec   float64        `json:"per_second"`
	Statuses map[string]int `json:"statuses"`
	P50      time.Duration  `json:"p50_ns"`
	P90      time.Duration  `json:"p90_ns"`
	P99      time.Duration  `json:"p99_ns"`
	Max      time.Duration  `json:"max_ns"`
}

func (s *opStats) rows(elapsed time.Duration) []soakRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rows []soakRow
	for name, k := range s.kinds {
		st := map[string]int{}
		for code, n := range k.statuses {
			st[strconv.Itoa(code)] = int(n)
		}
		rows = append(rows, soakRow{Kind: name, Count: k.lat.n, PerSec: float64(k.lat.n) / elapsed.Seconds(),
			Statuses: st, P50: k.lat.quantile(0.50), P90: k.lat.quantile(0.90), P99: k.lat.quantile(0.99), Max: k.lat.max})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].Count > rows[j].Count })
	return rows
}

// procResources is what the server process holds at one moment.
type procResources struct {
	Goroutines int    `json:"goroutines"`
	HeapAlloc  uint64 `json:"heap_alloc_after_gc"` // live heap right after a forced GC
	HeapInuse  uint64 `json:"heap_inuse_after_gc"`
	Sys        uint64 `json:"sys"`
	RSS        uint64 `json:"rss"` // VmRSS of /proc/<pid>/status
}

func (r procResources) String() string {
	return fmt.Sprintf("goroutines %d, heap after GC %s live (%s in use), Go sys %s, RSS %s",
		r.Goroutines, mib(r.HeapAlloc), mib(r.HeapInuse), mib(r.Sys), mib(r.RSS))
}

func mib(b uint64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// measureServer reads the server's goroutine count and heap (after a forced GC) from the
// Caddy admin endpoint's /debug/pprof/ and its RSS from /proc.
func measureServer(admin string, pid int) (procResources, error) {
	var r procResources
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	get := func(path string) (string, error) {
		resp, err := c.Get("http://" + admin + path)
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			return "", fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return string(b), err
	}
	// gc=1 runs a GC before the profile; the debug=1 text ends with runtime.MemStats.
	heap, err := get("/debug/pprof/heap?gc=1&debug=1")
	if err != nil {
		return r, err
	}
	for _, f := range []struct {
		name string
		dst  *uint64
	}{{"HeapAlloc", &r.HeapAlloc}, {"HeapInuse", &r.HeapInuse}, {"Sys", &r.Sys}} {
		if *f.dst, err = memStat(heap, f.name); err != nil {
			return r, err
		}
	}
	g, err := get("/debug/pprof/goroutine?debug=1")
	if err != nil {
		return r, err
	}
	if _, err := fmt.Sscanf(g, "goroutine profile: total %d", &r.Goroutines); err != nil {
		return r, fmt.Errorf("goroutine profile header %.60q: %v", g, err)
	}
	r.RSS, err = vmRSS(pid)
	return r, err
}

// memStat reads "# name = value" from a debug=1 heap profile.
func memStat(profile, name string) (uint64, error) {
	sc := bufio.NewScanner(strings.NewReader(profile))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "# "+name+" = "); ok {
			return strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		}
	}
	return 0, fmt.Errorf("heap profile has no %s line", name)
}

// vmRSS is the resident set size of a process, in bytes.
func vmRSS(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("/proc/%d/status has no VmRSS", pid)
}
