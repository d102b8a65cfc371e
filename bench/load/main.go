// Command load is the load generator of Gatehouse's gateway benchmark (bench/run.sh).
//
// It is deliberately small and cheap on the client side, because it shares the machine's
// cores with the server it measures: every connection is one goroutine that writes a
// pre-serialised HTTP/1.1 keep-alive request and reads the response with
// http.ReadResponse — no http.Client, no per-request goroutines. Latency is recorded as raw
// samples, sorted after each round (exact percentiles; a round of 5 s at ~15k req/s is
// ~75k samples).
//
// Subcommands:
//
//	load ports N                          print N free loopback ports
//	load wait URL [timeout]               wait until URL answers at all
//	load session -base URL ...            sign up (or reuse) a user, sign in, print "name=value"
//	load bench -plain URL -protected URL  interleaved rounds, per-round table, summary
//
// See bench/README.md for how to read the output.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "ports":
		err = cmdPorts(os.Args[2:])
	case "wait":
		err = cmdWait(os.Args[2:])
	case "session":
		err = cmdSession(os.Args[2:])
	case "bench":
		err = cmdBench(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: load ports N | wait URL [timeout] | session -base URL ... | bench -plain URL -protected URL ...")
	os.Exit(2)
}

// cmdPorts prints n distinct free loopback ports, one per line.
func cmdPorts(args []string) error {
	n := 1
	if len(args) > 0 {
		var err error
		if n, err = strconv.Atoi(args[0]); err != nil || n < 1 {
			return fmt.Errorf("ports: bad count %q", args[0])
		}
	}
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		ls = append(ls, l)
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
	}
	return nil
}

// cmdWait polls a URL until anything answers (any status), or the timeout passes.
func cmdWait(args []string) error {
	if len(args) < 1 {
		return errors.New("wait: URL required")
	}
	timeout := 60 * time.Second
	if len(args) > 1 {
		d, err := time.ParseDuration(args[1])
		if err != nil {
			return err
		}
		timeout = d
	}
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(args[0])
		if err == nil {
			resp.Body.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("wait: %s did not answer within %s: %v", args[0], timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cmdSession signs a user up through the auth API (an existing account is fine), then
// signs in with email and password, and prints the session cookie as "name=value" or, with
// -print bearer, the header a cookie-less client sends ("Authorization: Bearer <token>",
// the token from the bearer plugin's set-auth-token).
func cmdSession(args []string) error {
	fs := flag.NewFlagSet("session", flag.ExitOnError)
	base := fs.String("base", "", "site URL that serves the auth API (also the Origin sent)")
	path := fs.String("path", "/api/auth", "auth API base path")
	email := fs.String("email", "bench@example.com", "user email")
	pass := fs.String("password", "bench correct horse battery staple", "user password")
	name := fs.String("name", "Bench", "user name")
	cookieName := fs.String("cookie", "better-auth.session_token", "session cookie name")
	print := fs.String("print", "cookie", "what to print: cookie (name=value) or bearer (an Authorization header)")
	fs.Parse(args)
	if *base == "" {
		return errors.New("session: -base required")
	}
	post := func(p string, body any) (*http.Response, error) {
		b, _ := json.Marshal(body)
		req, err := http.NewRequest("POST", *base+*path+p, bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", *base)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return nil, err
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp, nil
	}
	resp, err := post("/sign-up/email", map[string]string{"name": *name, "email": *email, "password": *pass})
	if err != nil {
		return fmt.Errorf("sign-up: %w", err)
	}
	if resp.StatusCode != 200 && resp.StatusCode != 422 { // 422: the account exists already
		return fmt.Errorf("sign-up: status %d", resp.StatusCode)
	}
	resp, err = post("/sign-in/email", map[string]string{"email": *email, "password": *pass})
	if err != nil {
		return fmt.Errorf("sign-in: %w", err)
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("sign-in: status %d", resp.StatusCode)
	}
	if *print == "bearer" {
		tok := resp.Header.Get("Set-Auth-Token")
		if tok == "" {
			return errors.New("sign-in: no set-auth-token header (is the bearer plugin enabled?)")
		}
		fmt.Printf("Authorization: Bearer %s\n", tok)
		return nil
	}
	for _, c := range resp.Cookies() {
		if c.Name == *cookieName && c.Value != "" {
			fmt.Printf("%s=%s\n", c.Name, c.Value)
			return nil
		}
	}
	return fmt.Errorf("sign-in: no %s cookie in the response", *cookieName)
}

// target is one side of the comparison.
type target struct {
	name string
	addr string // host:port to dial
	req  []byte // the serialised request, sent again and again
}

func newTarget(name, rawURL string, header http.Header) (*target, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("%s: need an http:// URL, got %q", name, rawURL)
	}
	path := u.RequestURI()
	var b bytes.Buffer
	fmt.Fprintf(&b, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: gatehouse-bench\r\nAccept: */*\r\n", path, u.Host)
	header.Write(&b)
	b.WriteString("\r\n")
	return &target{name: name, addr: u.Host, req: b.Bytes()}, nil
}

// result of one round against one target.
type result struct {
	target   string
	round    int
	n        int             // completed requests in the measured window
	errs     int             // non-200 answers and I/O errors in the measured window
	statuses map[int]int     // non-200 statuses seen
	lastErr  error           // last I/O error
	lat      []time.Duration // sorted
	window   time.Duration
	cpu      time.Duration // server process CPU (user+system) in the measured window; 0: unknown
}

// cpuPerReq is the server's CPU time per completed request, in µs.
func (r *result) cpuPerReq() float64 {
	if r.n == 0 || r.cpu == 0 {
		return 0
	}
	return float64(r.cpu) / float64(time.Microsecond) / float64(r.n)
}

func (r *result) rps() float64 { return float64(r.n) / r.window.Seconds() }

func (r *result) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(float64(len(r.lat))*p/100+0.5) - 1
	return r.lat[max(0, min(i, len(r.lat)-1))]
}

// run drives conc keep-alive connections against t for warmup+dur; only requests that
// start after the warm-up and finish before the end are counted.
func run(t *target, conc int, warmup, dur time.Duration, pid int) *result {
	start := time.Now()
	from, until := start.Add(warmup), start.Add(warmup+dur)
	cpuCh := make(chan time.Duration, 1)
	go func() {
		// The server's CPU over the measured window: unlike req/s, it barely depends on
		// what else the machine is running.
		time.Sleep(time.Until(from))
		c0, err0 := procCPU(pid)
		time.Sleep(time.Until(until))
		c1, err1 := procCPU(pid)
		if err0 != nil || err1 != nil {
			cpuCh <- 0
			return
		}
		cpuCh <- c1 - c0
	}()
	type worker struct {
		lat      []time.Duration
		errs     int
		statuses map[int]int
		lastErr  error
	}
	ws := make([]worker, conc)
	var wg sync.WaitGroup
	for i := range ws {
		w := &ws[i]
		w.lat = make([]time.Duration, 0, 1<<14)
		w.statuses = map[int]int{}
		wg.Go(func() {
			var conn net.Conn
			var br *bufio.Reader
			defer func() {
				if conn != nil {
					conn.Close()
				}
			}()
			for {
				t0 := time.Now()
				if !t0.Before(until) {
					return
				}
				counted := !t0.Before(from)
				fail := func(err error) {
					if conn != nil {
						conn.Close()
						conn = nil
					}
					if counted {
						w.errs++
						w.lastErr = err
					}
					time.Sleep(time.Millisecond) // no hot loop against a refusing server
				}
				if conn == nil {
					c, err := net.DialTimeout("tcp", t.addr, 5*time.Second)
					if err != nil {
						fail(err)
						continue
					}
					conn, br = c, bufio.NewReaderSize(c, 32<<10)
				}
				conn.SetDeadline(t0.Add(10 * time.Second))
				if _, err := conn.Write(t.req); err != nil {
					fail(err)
					continue
				}
				resp, err := http.ReadResponse(br, nil)
				if err != nil {
					fail(err)
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if err != nil {
					fail(err)
					continue
				}
				t1 := time.Now()
				if counted && t1.Before(until) {
					if resp.StatusCode == http.StatusOK {
						w.lat = append(w.lat, t1.Sub(t0))
					} else {
						w.errs++
						w.statuses[resp.StatusCode]++
					}
				}
				if resp.Close {
					conn.Close()
					conn = nil
				}
			}
		})
	}
	wg.Wait()
	r := &result{target: t.name, statuses: map[int]int{}, window: dur}
	for _, w := range ws {
		r.lat = append(r.lat, w.lat...)
		r.errs += w.errs
		for s, n := range w.statuses {
			r.statuses[s] += n
		}
		if w.lastErr != nil {
			r.lastErr = w.lastErr
		}
	}
	r.n = len(r.lat)
	slices.Sort(r.lat)
	r.cpu = <-cpuCh
	return r
}

// procCPU returns the user+system CPU time of process pid so far, from /proc (Linux).
func procCPU(pid int) (time.Duration, error) {
	if pid <= 0 {
		return 0, errors.New("no pid")
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the parenthesised command name: state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, errors.New("bad /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, errors.New("bad /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("bad /proc stat")
	}
	const clockTick = 10 * time.Millisecond // USER_HZ is 100 on Linux
	return time.Duration(ut+st) * clockTick, nil
}

// probe sends one request and requires a 200, so a misconfigured side (e.g. a protected
// site answering 401 — cheaper than a proxied 200) cannot produce a flattering number.
func probe(t *target) error {
	c, err := net.DialTimeout("tcp", t.addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(t.req); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: probe got %d: %s", t.name, resp.StatusCode, bytes.TrimSpace(body))
	}
	return nil
}

type headerFlags []string

func (h *headerFlags) String() string     { return strings.Join(*h, ", ") }
func (h *headerFlags) Set(v string) error { *h = append(*h, v); return nil }

func cmdBench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	plainURL := fs.String("plain", "", "URL of the plain reverse_proxy site")
	protURL := fs.String("protected", "", "URL of the gatehouse-protected site")
	cookie := fs.String("cookie", "", "Cookie header sent to the protected site (name=value)")
	cookiePlain := fs.Bool("cookie-plain", true, "send the same Cookie header to the plain site too, so both sides get byte-identical requests apart from the port")
	var extra headerFlags
	fs.Var(&extra, "H", "extra header for both sides, 'Name: value' (repeatable)")
	conc := fs.Int("c", 64, "concurrent keep-alive connections")
	dur := fs.Duration("d", 5*time.Second, "measured duration of each round")
	warmup := fs.Duration("warmup", time.Second, "unmeasured warm-up at the start of each round")
	rounds := fs.Int("rounds", 5, "rounds per side (interleaved plain, protected, plain, ...)")
	pause := fs.Duration("pause", 500*time.Millisecond, "idle time between rounds")
	profileURL := fs.String("profile-url", "", "after the rounds, run one more round per side while fetching this pprof CPU profile URL")
	profileDir := fs.String("profile-dir", ".", "where to write plain.pprof and protected.pprof")
	pid := fs.Int("pid", 0, "server process id: report its CPU time per request (Linux /proc)")
	ratioTarget := fs.Float64("target", 0.90, "the throughput ratio protected/plain the scenario must reach")
	fs.Parse(args)
	if *plainURL == "" || *protURL == "" {
		return errors.New("bench: -plain and -protected are required")
	}
	if *rounds < 1 || *conc < 1 || *dur <= 0 {
		return errors.New("bench: -rounds, -c and -d must be positive")
	}
	common := http.Header{}
	for _, h := range extra {
		k, v, ok := strings.Cut(h, ":")
		if !ok {
			return fmt.Errorf("bench: bad header %q", h)
		}
		common.Add(strings.TrimSpace(k), strings.TrimSpace(v))
	}
	ph := common.Clone()
	if *cookie != "" {
		ph.Set("Cookie", *cookie)
	}
	plainHeader := common
	if *cookiePlain {
		plainHeader = ph
	}
	plain, err := newTarget("plain", *plainURL, plainHeader)
	if err != nil {
		return err
	}
	prot, err := newTarget("protected", *protURL, ph)
	if err != nil {
		return err
	}
	for _, t := range []*target{plain, prot} {
		if err := probe(t); err != nil {
			return err
		}
	}

	same := "the same request on both sides (session cookie included)"
	if !*cookiePlain {
		same = "session cookie sent to the protected side only"
	}
	fmt.Printf("%d rounds per side, %d connections, %s measured (+%s warm-up) per round, interleaved; %s\n\n",
		*rounds, *conc, *dur, *warmup, same)
	fmt.Printf("%-5s %-10s %8s %10s %10s %10s %10s %11s %6s\n", "round", "side", "req/s", "p50", "p90", "p99", "max", "server CPU", "errors")
	var res [2][]*result
	for i := range *rounds {
		for s, t := range []*target{plain, prot} {
			r := run(t, *conc, *warmup, *dur, *pid)
			r.round = i + 1
			res[s] = append(res[s], r)
			fmt.Printf("%-5d %-10s %8.0f %10s %10s %10s %10s %11s %6d%s\n", r.round, r.target, r.rps(),
				ms(r.pct(50)), ms(r.pct(90)), ms(r.pct(99)), ms(r.pct(100)), cpuNote(r), r.errs, errNote(r))
			time.Sleep(*pause)
		}
	}
	summary(res[0], res[1], *ratioTarget)

	if *profileURL != "" {
		for _, t := range []*target{plain, prot} {
			if err := profileRound(t, *conc, *dur, *profileURL, filepath.Join(*profileDir, t.name+".pprof"), *pid); err != nil {
				return err
			}
		}
	}
	for _, side := range res {
		for _, r := range side {
			if r.errs > 0 {
				return fmt.Errorf("%s round %d had %d failed requests", r.target, r.round, r.errs)
			}
		}
	}
	return nil
}

func cpuNote(r *result) string {
	if r.cpu == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fµs/req", r.cpuPerReq())
}

func errNote(r *result) string {
	if r.errs == 0 {
		return ""
	}
	s := fmt.Sprintf("  statuses %v", r.statuses)
	if r.lastErr != nil {
		s += fmt.Sprintf(" last error: %v", r.lastErr)
	}
	return s
}

// stats is a median with its range.
type stats struct{ med, lo, hi float64 }

func medianOf(xs []float64) stats {
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	m := s[n/2]
	if n%2 == 0 {
		m = (s[n/2-1] + s[n/2]) / 2
	}
	return stats{m, s[0], s[n-1]}
}

func collect(rs []*result, f func(*result) float64) []float64 {
	out := make([]float64, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

func summary(plain, prot []*result, ratioTarget float64) {
	rps := func(r *result) float64 { return r.rps() }
	p50 := func(r *result) float64 { return msf(r.pct(50)) }
	p99 := func(r *result) float64 { return msf(r.pct(99)) }
	fmt.Printf("\nmedians over %d rounds (min–max)\n", len(plain))
	line := func(what string, f func(*result) float64, unit string, prec int) {
		a, b := medianOf(collect(plain, f)), medianOf(collect(prot, f))
		fmt.Printf("  %-8s plain %s   protected %s\n", what, fmtStats(a, unit, prec), fmtStats(b, unit, prec))
	}
	line("req/s", rps, "", 0)
	line("p50", p50, " ms", 3)
	line("p99", p99, " ms", 3)
	cpu := func(r *result) float64 { return r.cpuPerReq() }
	haveCPU := true
	for _, r := range append(slices.Clone(plain), prot...) {
		haveCPU = haveCPU && r.cpu > 0
	}
	if haveCPU {
		line("CPU/req", cpu, " µs", 1)
	}

	a, b := medianOf(collect(plain, rps)), medianOf(collect(prot, rps))
	ratio := b.med / a.med
	// Paired ratios (protected round i / plain round i, measured seconds apart) cancel
	// slow drifts in machine load that the medians of the two sides do not.
	var paired, dp99 []float64
	for i := range plain {
		paired = append(paired, prot[i].rps()/plain[i].rps())
		dp99 = append(dp99, p99(prot[i])-p99(plain[i]))
	}
	pr := medianOf(paired)
	d := medianOf(collect(prot, p99)).med - medianOf(collect(plain, p99)).med
	pd := medianOf(dp99)
	fmt.Printf("\nthroughput ratio protected/plain: %.3f (of medians); paired per round %.3f (%.3f–%.3f)   target ≥ %.2f: %s\n",
		ratio, pr.med, pr.lo, pr.hi, ratioTarget, verdict(ratio >= ratioTarget))
	fmt.Printf("p99 difference protected−plain:   %+.3f ms (of medians); paired per round %+.3f ms (%+.3f–%+.3f)   target ≤ +1 ms: %s\n",
		d, pd.med, pd.lo, pd.hi, verdict(d <= 1.0))
	if haveCPU {
		// What the gateway costs the server, independent of how busy the machine is: extra
		// CPU per request, and the throughput ratio a CPU-bound server would show.
		var dc []float64
		for i := range plain {
			dc = append(dc, cpu(prot[i])-cpu(plain[i]))
		}
		cp, cq := medianOf(collect(plain, cpu)).med, medianOf(collect(prot, cpu)).med
		dcs := medianOf(dc)
		fmt.Printf("server CPU per request:           plain %.1f µs, protected %.1f µs: %+.1f µs (paired %+.1f, %+.1f–%+.1f); CPU-bound ratio plain/protected %.3f\n",
			cp, cq, cq-cp, dcs.med, dcs.lo, dcs.hi, cp/cq)
	}
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func fmtStats(s stats, unit string, prec int) string {
	return fmt.Sprintf("%.*f%s (%.*f–%.*f)", prec, s.med, unit, prec, s.lo, prec, s.hi)
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func ms(d time.Duration) string { return strconv.FormatFloat(msf(d), 'f', 3, 64) + "ms" }

// profileRound runs one extra round against t while the server records a CPU profile.
func profileRound(t *target, conc int, dur time.Duration, profileURL, out string, pid int) error {
	u, err := url.Parse(profileURL)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("seconds", strconv.Itoa(int(dur.Seconds())))
	u.RawQuery = q.Encode()
	type got struct {
		body []byte
		err  error
	}
	ch := make(chan got, 1)
	go func() {
		resp, err := http.Get(u.String())
		if err != nil {
			ch <- got{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err == nil && resp.StatusCode != 200 {
			err = fmt.Errorf("profile: status %d: %s", resp.StatusCode, bytes.TrimSpace(b))
		}
		ch <- got{b, err}
	}()
	// The profile starts when the request arrives; a short lead-in keeps the whole
	// profile under load.
	r := run(t, conc, 200*time.Millisecond, dur+time.Second, pid)
	g := <-ch
	if g.err != nil {
		return g.err
	}
	fmt.Printf("profiled %s round: %.0f req/s, p99 %s, server CPU %s; CPU profile written to %s\n",
		t.name, r.rps(), ms(r.pct(99)), cpuNote(r), out)
	return os.WriteFile(out, g.body, 0o644)
}
