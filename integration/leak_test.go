package integration

// The log-leak check (issue 12, D16). Every server a test starts logs its access log and its
// own lines in the `gatehouse` log format, as Caddyfile.example ships it (withRedactingLogs);
// every credential the tests see — in requests they send and answers they get over
// http.DefaultTransport, in the mail and webhook sinks, in the servers' configs, in the log
// mailer's lines — is recorded in runSecrets; after the last test, TestMain scans the output
// of every server of the run for them (scanRunForLeaks) and fails the run on a hit.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/delivery"
	"github.com/gatehouse-auth/gatehouse/internal/smtpsink"
)

// runSecrets holds every credential the tests of this run have seen.
var runSecrets = newSecretSet()

// runServers is every server started in this run, for the scan at the end.
var runServers = struct {
	mu     sync.Mutex
	list   []*Server
	exempt map[*Server]bool // servers whose test logs credentials on purpose
}{exempt: map[*Server]bool{}}

func trackServer(s *Server) {
	runServers.mu.Lock()
	defer runServers.mu.Unlock()
	runServers.list = append(runServers.list, s)
}

// exemptFromLeakScan leaves s out of the run-wide scan: for a test that makes a server log
// credentials on purpose (TestLeakScanCatchesUnfilteredLog).
func exemptFromLeakScan(s *Server) {
	runServers.mu.Lock()
	defer runServers.mu.Unlock()
	runServers.exempt[s] = true
}

// redactingLog is the logging that Caddyfile.example ships, added to each site (access log)
// and to the global options (Caddy's and Gatehouse's own lines).
const redactingLog = "\tlog {\n\t\tformat gatehouse\n\t}\n"

// withRedactingLogs returns caddyfile with redactingLog added to its global options (a block
// is added when it has none) and to every site block, except where one of them already
// configures `log` itself; it also records the config's own secrets (secret, password,
// client_secret, auth_token lines).
func withRedactingLogs(caddyfile string) string {
	lines := strings.SplitAfter(caddyfile, "\n")
	type block struct {
		open   int  // index of the line that opens it
		global bool // the global options block
		logs   bool // has a `log` line of its own
	}
	var blocks []*block
	var cur *block
	depth, seenContent := 0, false
	for i, line := range lines {
		code := stripComment(line)
		fields := strings.Fields(code)
		if len(fields) == 2 && (fields[0] == "secret" || fields[0] == "password" || fields[0] == "client_secret" || fields[0] == "auth_token") {
			if v := strings.Trim(fields[1], `"`); !strings.HasPrefix(v, "{") {
				runSecrets.add(v)
			}
		}
		if depth == 0 && len(fields) > 0 {
			last := fields[len(fields)-1]
			switch {
			case !seenContent && code == "{":
				cur = &block{open: i, global: true}
				blocks = append(blocks, cur)
			case strings.HasSuffix(last, "{") && !strings.HasPrefix(fields[0], "(") && !strings.HasPrefix(fields[0], "&("):
				cur = &block{open: i}
				blocks = append(blocks, cur)
			default:
				cur = nil
			}
			seenContent = true
		}
		if depth == 1 && cur != nil && len(fields) > 0 && fields[0] == "log" {
			cur.logs = true
		}
		depth += strings.Count(code, "{") - strings.Count(code, "}")
	}
	hasGlobal := len(blocks) > 0 && blocks[0].global
	var b strings.Builder
	if !hasGlobal {
		b.WriteString("{\n" + redactingLog + "}\n")
	}
	next := 0
	for i, line := range lines {
		b.WriteString(line)
		if next < len(blocks) && blocks[next].open == i {
			if !blocks[next].logs {
				if !strings.HasSuffix(line, "\n") {
					b.WriteString("\n")
				}
				b.WriteString(redactingLog)
			}
			next++
		}
	}
	return b.String()
}

// stripComment is line without a Caddyfile comment (a # that starts a token) and spaces.
func stripComment(line string) string {
	for i := 0; i < len(line); i++ {
		if line[i] == '#' && (i == 0 || line[i-1] == ' ' || line[i-1] == '\t') {
			line = line[:i]
			break
		}
	}
	return strings.TrimSpace(line)
}

// secretSet is a set of credentials, matched in log lines by whole runs of token characters
// (so a scan is one map look-up per word, whatever the number of secrets), and, for a secret
// without a long run (a password with spaces), as a substring.
type secretSet struct {
	mu      sync.Mutex
	tokens  map[string]bool
	phrases map[string]bool
}

func newSecretSet() *secretSet {
	return &secretSet{tokens: map[string]bool{}, phrases: map[string]bool{}}
}

// tokenRun is a run of the characters of tokens, keys, codes and base64url.
var tokenRun = regexp.MustCompile(`[A-Za-z0-9_-]+`)

// minRun is the shortest run recorded as a secret: long enough that it does not occur in a
// log by chance, short enough for an 8-character password. All-digit codes count from 6
// and must match a whole run (never inside a timestamp's digits). Runs of letters only
// count from minWord: shorter ones are words (a test's deliberately weak "password"),
// which logs hold for other reasons.
const minRun, minDigits, minWord = 8, 6, 16

// word is a run of letters only.
var word = regexp.MustCompile(`^[A-Za-z]+$`)

// add records a credential.
func (s *secretSet) add(v string) {
	v = strings.TrimSpace(v)
	if len(v) < minDigits || v == "REDACTED" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if allDigits(v) {
		s.tokens[v] = true
		return
	}
	if word.MatchString(v) && len(v) < minWord {
		return
	}
	long := false
	for _, run := range tokenRun.FindAllString(v, -1) {
		if len(run) >= minRun && run != "REDACTED" && (len(run) >= minWord || !word.MatchString(run)) {
			s.tokens[run] = true
			long = true
		}
	}
	if !long && len(v) >= minRun {
		s.phrases[v] = true // a password of several words, or of short runs
	}
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// in returns the secrets line contains.
func (s *secretSet) in(line string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var found []string
	for _, run := range tokenRun.FindAllString(line, -1) {
		if s.tokens[run] {
			found = append(found, run)
		}
	}
	for p := range s.phrases {
		if strings.Contains(line, p) {
			found = append(found, p)
		}
	}
	return found
}

// credentialParams are the query and fragment parameters that carry a credential (the
// test's own list, independent of the one in caddymodule it checks).
var credentialParams = []string{"token", "otp", "code", "state", "handle", "relaystate", "access_token", "id_token", "refresh_token", "secret", "session_token"}

// addURL records the credentials in a URL: credential parameters of its query and
// fragment, the segment after /reset-password/, and those of URLs nested in parameters.
func (s *secretSet) addURL(raw string) {
	u, err := url.Parse(raw)
	if err != nil {
		return
	}
	segs := strings.Split(u.Path, "/")
	for i := 1; i < len(segs); i++ {
		if segs[i-1] == "reset-password" {
			s.add(segs[i])
		}
	}
	for _, q := range []string{u.RawQuery, u.Fragment} {
		vals, _ := url.ParseQuery(q)
		for k, vs := range vals {
			for _, v := range vs {
				if isCredentialParam(k) {
					s.add(v)
				} else if strings.ContainsAny(v, "?#") {
					s.addURL(v)
				}
			}
		}
	}
}

func isCredentialParam(name string) bool {
	for _, p := range credentialParams {
		if strings.EqualFold(name, p) {
			return true
		}
	}
	return false
}

// credentialHeaderNames are request and response headers whose whole value is a credential.
var credentialHeaderNames = []string{"Authorization", "X-Api-Key", "Set-Auth-Token", "Set-Auth-Jwt", "X-Auth-Identity"}

// credentialFields are JSON (and form) fields whose value is a credential: passwords and
// codes the tests send, tokens and keys the server answers with.
var credentialFields = map[string]bool{
	"password": true, "newPassword": true, "currentPassword": true, "otp": true, "code": true,
	"token": true, "sessionToken": true, "key": true, "secret": true, "backupCode": true,
	"backupCodes": true, "accessToken": true, "refreshToken": true, "idToken": true, "jwt": true,
}

// errorCode is an error code such as INVALID_TOKEN, which answers carry under "code".
var errorCode = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// addJSON records the credential fields of a JSON document, and the credentials in URLs
// it holds (a social sign-in answer's authorization URL carries state).
func (s *secretSet) addJSON(v any, field string) {
	switch v := v.(type) {
	case map[string]any:
		id, _ := v["id"].(string)
		for k, x := range v {
			if tok, ok := x.(string); ok && k == "token" && id != "" && strings.HasPrefix(tok, id+".") {
				// A session listing's handle (D3): the session id and a MAC of it, never the
				// token. Ids are logged (the audit log's "session"); the handle alone
				// grants nothing without its owner's session.
				continue
			}
			s.addJSON(x, k)
		}
	case []any:
		for _, x := range v {
			s.addJSON(x, field)
		}
	case string:
		switch {
		case field == "totpURI":
			s.addURL(v)
		case credentialFields[field] && !errorCode.MatchString(v):
			s.add(v)
		case strings.Contains(v, "?") && (strings.HasPrefix(v, "http") || strings.HasPrefix(v, "/")):
			s.addURL(v)
		}
	}
}

// addBody records the credentials in a JSON or form body.
func (s *secretSet) addBody(contentType string, body []byte) {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch mt {
	case "application/json":
		var v any
		if json.Unmarshal(body, &v) == nil {
			s.addJSON(v, "")
		}
	case "application/x-www-form-urlencoded":
		vals, _ := url.ParseQuery(string(body))
		for k, vs := range vals {
			for _, v := range vs {
				s.addJSON(v, k)
			}
		}
	}
}

// maxRecordedBody bounds the bodies the recorder reads.
const maxRecordedBody = 1 << 20

// secretRecorder is the RoundTripper TestMain installs as http.DefaultTransport, so every
// client that does not bring its own transport (http.Get, http.DefaultClient, clients with
// a nil Transport, Server.Transport) records what it sends and receives in runSecrets.
type secretRecorder struct{ base http.RoundTripper }

func (r secretRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	recordRequest(req)
	resp, err := r.base.RoundTrip(req)
	if err == nil {
		recordResponse(resp)
	}
	return resp, err
}

func recordRequest(req *http.Request) {
	s := runSecrets
	s.addURL(req.URL.String())
	for _, h := range credentialHeaderNames {
		for _, v := range req.Header.Values(h) {
			s.add(v)
		}
	}
	for _, c := range req.Cookies() {
		s.add(c.Value)
	}
	if req.Body == nil || req.Body == http.NoBody || req.ContentLength <= 0 || req.ContentLength > maxRecordedBody {
		return // unknown length: maybe a stream, not read here
	}
	if req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			body, _ := io.ReadAll(b)
			b.Close()
			s.addBody(req.Header.Get("Content-Type"), body)
		}
		return
	}
	body, err := io.ReadAll(req.Body)
	req.Body.Close()
	req.Body = io.NopCloser(bytes.NewReader(body))
	if err == nil {
		s.addBody(req.Header.Get("Content-Type"), body)
	}
}

func recordResponse(resp *http.Response) {
	s := runSecrets
	for _, h := range credentialHeaderNames {
		for _, v := range resp.Header.Values(h) {
			s.add(v)
		}
	}
	for _, c := range resp.Cookies() {
		s.add(c.Value)
	}
	if loc := resp.Header.Get("Location"); loc != "" {
		s.addURL(loc)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" || resp.Body == nil {
		return
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxRecordedBody+1))
	if err == nil && len(head) <= maxRecordedBody {
		s.addBody("application/json", head)
	}
	if err != nil {
		// hand the caller the error at the same point of the body
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), errReader{err}), resp.Body}
		return
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// startMailSink is smtpsink.Start whose messages' links and codes are recorded when the
// test ends (a browser may have opened them, which the recorder does not see).
func startMailSink(t testing.TB, opts smtpsink.Options) *smtpsink.Sink {
	t.Helper()
	sink := smtpsink.Start(t, opts)
	t.Cleanup(func() {
		for _, m := range sink.Messages() {
			p, err := m.Parse()
			if err != nil {
				continue
			}
			for _, part := range p.Parts {
				runSecrets.addText(part)
			}
		}
	})
	return sink
}

var (
	urlInText  = regexp.MustCompile(`https?://[^\s"'<>]+`)
	codeInText = regexp.MustCompile(`\b[0-9]{6,8}\b`)
)

// addText records the links and numeric codes of a message's text.
func (s *secretSet) addText(text string) {
	for _, u := range urlInText.FindAllString(text, -1) {
		s.addURL(strings.ReplaceAll(u, "&amp;", "&"))
	}
	for _, c := range codeInText.FindAllString(text, -1) {
		s.add(c)
	}
}

// credentialShapes are credentials recognisable without having been seen: a bearer token
// and a JWT.
var credentialShapes = []*regexp.Regexp{
	regexp.MustCompile(`(?i)bearer [A-Za-z0-9._~+/-]{8,}`),
	regexp.MustCompile(`eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*`),
}

// isLogDelivery reports whether line is one of the log transport's lines (`mailer log`,
// `sms log`): the one place that prints links and codes on purpose (D13).
func isLogDelivery(line string) bool {
	return strings.Contains(line, `"msg":"`+delivery.LogEmailMessage+`"`) || strings.Contains(line, `"msg":"`+delivery.LogSMSMessage+`"`)
}

// leak is one log line holding credentials, masked.
type leak struct {
	server, line string
	hits         int // credentials found in it
}

// findLeaks scans outputs (server name → combined output) for the secrets of set and for
// credential shapes. The log transport's lines are set aside, after their links and codes
// are added to set, so any other line that repeats them is a leak.
func findLeaks(set *secretSet, outputs map[string]string) []leak {
	for _, out := range outputs {
		for line := range strings.Lines(out) {
			if !isLogDelivery(line) {
				continue
			}
			var entry struct{ URL, OTP string }
			if json.Unmarshal([]byte(line), &entry) == nil {
				set.addURL(entry.URL)
				set.add(entry.OTP)
			}
		}
	}
	names := make([]string, 0, len(outputs))
	for name := range outputs {
		names = append(names, name)
	}
	sort.Strings(names)
	var leaks []leak
	for _, name := range names {
		for line := range strings.Lines(outputs[name]) {
			if isLogDelivery(line) {
				continue
			}
			hits := set.in(line)
			for _, shape := range credentialShapes {
				hits = append(hits, shape.FindAllString(line, -1)...)
			}
			if len(hits) > 0 {
				leaks = append(leaks, leak{server: name, line: masked(line, hits), hits: len(hits)})
			}
		}
	}
	return leaks
}

// masked is line with each secret shown by its first 3 characters and its length only.
func masked(line string, secrets []string) string {
	sort.Slice(secrets, func(i, j int) bool { return len(secrets[i]) > len(secrets[j]) }) // a JWT before its parts
	for _, s := range secrets {
		line = strings.ReplaceAll(line, s, fmt.Sprintf("%s…[%d chars masked]", s[:min(3, len(s))], len(s)))
	}
	return strings.TrimSpace(line)
}

// scanRunForLeaks scans the output of every server started in this run and reports each
// leak to w; it returns whether there were none.
func scanRunForLeaks(w io.Writer) bool {
	runServers.mu.Lock()
	outputs := map[string]string{}
	for i, s := range runServers.list {
		if !runServers.exempt[s] {
			outputs[fmt.Sprintf("%s (server %d, %s)", s.t.Name(), i, s.Config)] = s.Output()
		}
	}
	n := len(runServers.list)
	runServers.mu.Unlock()
	leaks := findLeaks(runSecrets, outputs)
	runSecrets.mu.Lock()
	fmt.Fprintf(w, "log-leak scan: %d servers, %d recorded credentials (%d words, %d phrases), %d leaks\n",
		n, len(runSecrets.tokens)+len(runSecrets.phrases), len(runSecrets.tokens), len(runSecrets.phrases), len(leaks))
	runSecrets.mu.Unlock()
	for _, l := range leaks {
		fmt.Fprintf(w, "LOG LEAK: %d credential(s) in the log of %s:\n\t%s\n", l.hits, l.server, l.line)
	}
	return len(leaks) == 0
}

// TestLeakScanCatchesUnfilteredLog proves the scan can fail: one server, two sites that
// answer the same request carrying a ?token= and an X-Api-Key, one logging with Caddy's
// plain json format, the other with the harness's (the shipped `gatehouse` format). The scan
// finds both credentials in the first site's line, masked, and none in the second's.
func TestLeakScanCatchesUnfilteredLog(t *testing.T) {
	ports := freePorts(t, 2)
	plain, filtered := fmt.Sprintf("http://127.0.0.1:%d", ports[0]), fmt.Sprintf("http://127.0.0.1:%d", ports[1])
	srv := StartServer(t, fmt.Sprintf(`{
	admin {ADMIN}
}
%s {
	log {
		format json
	}
	respond "ok"
}
%s {
	respond "ok"
}
`, plain, filtered), filtered+"/ready")
	exemptFromLeakScan(srv) // it logs credentials on purpose

	secrets := newSecretSet()
	send := func(base, tag string) (token, key string) {
		token, key = "tok"+tag+"0123456789abcdef", "key"+tag+"0123456789abcdef"
		secrets.add(token)
		secrets.add(key)
		req, _ := http.NewRequest("GET", base+"/reset-password?token="+token, nil)
		req.Header.Set("X-Api-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return token, key
	}
	plainToken, plainKey := send(plain, "plain")
	filteredToken, filteredKey := send(filtered, "filtered")

	// The access log line is written after the answer: wait for both.
	var out string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		out = srv.Output()
		if strings.Count(out, `"uri":"/reset-password?token=`) >= 2 {
			break
		}
	}
	if !strings.Contains(out, `"uri":"/reset-password?token=REDACTED"`) || !strings.Contains(out, `"X-Api-Key":["REDACTED"]`) {
		t.Fatalf("the gatehouse-format site logged no redacted request line:\n%s", out)
	}

	leaks := findLeaks(secrets, map[string]string{"srv": out})
	for _, l := range leaks {
		for _, s := range []string{plainToken, plainKey, filteredToken, filteredKey} {
			if strings.Contains(l.line, s) {
				t.Errorf("a reported line shows the credential unmasked: %s", l.line)
			}
		}
	}
	var plainLeaks, filteredLeaks int
	for _, l := range leaks {
		switch {
		case strings.Contains(l.line, `"host":"`+strings.TrimPrefix(plain, "http://")+`"`):
			plainLeaks++
		case strings.Contains(l.line, `"host":"`+strings.TrimPrefix(filtered, "http://")+`"`):
			filteredLeaks++
			t.Errorf("leak reported in the gatehouse-format site's line: %s", l.line)
		}
	}
	// The plain line holds the token (in the uri) and the key (in the headers).
	if plainLeaks != 1 || filteredLeaks != 0 || leaks[0].hits != 2 {
		t.Errorf("leaks: %d lines of the plain site (want 1, with the token and the key), %d of the filtered one; all:\n%v", plainLeaks, filteredLeaks, leaks)
	}
}

// TestWithRedactingLogs: the log format goes into the global options and into each site
// block, never into a snippet, and not where the Caddyfile configures `log` itself.
func TestWithRedactingLogs(t *testing.T) {
	in := `# a comment {
(snippet) {
	respond "x"
}
http://a:1, http://b:2 {
	respond "{header.X} #notacomment"
}
http://c:3 {
	log {
		format json
	}
}
`
	want := "{\n" + redactingLog + "}\n" + `# a comment {
(snippet) {
	respond "x"
}
http://a:1, http://b:2 {
` + redactingLog + `	respond "{header.X} #notacomment"
}
http://c:3 {
	log {
		format json
	}
}
`
	if got := withRedactingLogs(in); got != want {
		t.Errorf("without global options:\n%s\nwant:\n%s", got, want)
	}
	in = "{\n\tadmin off\n\tgatehouse {\n\t\tsecret s3cr3t-for-the-scan\n\t}\n}\nhttp://a:1 {\n\trespond ok\n}"
	want = "{\n" + redactingLog + "\tadmin off\n\tgatehouse {\n\t\tsecret s3cr3t-for-the-scan\n\t}\n}\nhttp://a:1 {\n" + redactingLog + "\trespond ok\n}"
	if got := withRedactingLogs(in); got != want {
		t.Errorf("with global options:\n%s\nwant:\n%s", got, want)
	}
	if !runSecrets.tokens["s3cr3t-for-the-scan"] {
		t.Error("the config's secret was not recorded")
	}
	if got := withRedactingLogs("{\n\tlog {\n\t\tlevel debug\n\t}\n}\n"); strings.Count(got, "log {") != 1 {
		t.Errorf("a global log option of the test's own got a second one:\n%s", got)
	}
}

// TestSecretSet: what counts as a recorded credential in a log line.
func TestSecretSet(t *testing.T) {
	s := newSecretSet()
	for _, v := range []string{"password", "Tr0ub4dor&3", "correct horse battery", "482913", "tok0123456789.c2lnbmF0dXJl+/x="} {
		s.add(v)
	}
	tests := []struct {
		line string
		want int
	}{
		{`"uri":"/gatehouse/users/ada/password"`, 0},                  // a weak test password is a word logs use
		{`"msg":"password refused"`, 0},                               //
		{`"ts":1795785355.4829135`, 0},                                // a code's digits inside a timestamp
		{`"otp":"482913"`, 1},                                         //
		{`"error":"bad Tr0ub4dor&3"`, 1},                              // run "Tr0ub4dor"
		{`"body":"correct horse battery staple"`, 1},                  // a phrase
		{`"uri":"/x?session_token=tok0123456789.c2lnbmF0dXJl%2B"`, 2}, // both runs of a signed cookie
	}
	for _, tt := range tests {
		if got := s.in(tt.line); len(got) != tt.want {
			t.Errorf("in(%s) = %q, want %d hits", tt.line, got, tt.want)
		}
	}
}
