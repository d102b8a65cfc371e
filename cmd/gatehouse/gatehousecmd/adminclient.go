package gatehousecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
)

// adminTimeout bounds one admin API call (setting a password hashes it server-side).
const adminTimeout = 60 * time.Second

// adminFlags adds the flags Caddy's own `stop` and `reload` use to find the admin endpoint.
func adminFlags(cmd *cobra.Command) {
	f := cmd.PersistentFlags()
	f.String("address", "", "Address of the admin API (host:port, or unix/<path> for a unix socket); default: from --config, else $CADDY_ADMIN, else localhost:2019")
	f.StringP("config", "c", "", "Configuration file to read the admin address from, if --address is not used")
	f.StringP("adapter", "a", "", "Name of the config adapter for --config")
	f.Bool("json", false, "Print the admin API's JSON instead of a table")
}

// adminClient talks to the admin.api.gatehouse routes of a running server.
type adminClient struct {
	addr    string // as configured: host:port, unix/<path>[|mode]
	network string
	dial    string
	origin  string
	http    *http.Client
}

// newAdminClient finds the admin address the way `caddy stop` does: --address, else the
// admin address of --config (adapted with --adapter), else the default (CADDY_ADMIN or
// localhost:2019).
func newAdminClient(cmd *cobra.Command) (*adminClient, error) {
	fl := cmd.Flags()
	address, _ := fl.GetString("address")
	config, _ := fl.GetString("config")
	adapter, _ := fl.GetString("adapter")
	addr, err := caddycmd.DetermineAdminAPIAddress(address, nil, config, adapter)
	if err != nil {
		return nil, fmt.Errorf("finding the admin API address: %w", err)
	}
	return dialAdmin(addr)
}

// dialAdmin prepares a client for an admin address, as caddycmd.AdminAPIRequest does: TCP
// gets an Origin of the address itself; a unix socket gets Host 127.0.0.1 (Caddy refuses
// other hosts there) and loses its optional |mode suffix.
func dialAdmin(addr string) (*adminClient, error) {
	na, err := caddy.ParseNetworkAddress(addr)
	if err != nil || na.PortRangeSize() > 1 {
		if err == nil {
			err = errors.New("a port range is not an address")
		}
		return nil, fmt.Errorf("invalid admin address %q: %w", addr, err)
	}
	c := &adminClient{addr: addr, network: na.Network, dial: na.JoinHostPort(0)}
	switch {
	case na.IsUnixNetwork():
		c.dial, _, _ = strings.Cut(na.Host, "|")
		c.origin = "http://127.0.0.1"
	case na.IsFdNetwork():
		return nil, fmt.Errorf("admin address %q is a file descriptor of the server process; give the CLI a TCP or unix socket address with --address", addr)
	default:
		c.origin = "http://" + c.dial
	}
	c.http = &http.Client{
		Timeout: adminTimeout,
		Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, c.network, c.dial)
			},
		},
		// The admin API does not redirect; following one could leave the local machine.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c, nil
}

// do sends a request to the admin API and decodes a successful JSON answer into out (which
// may be *json.RawMessage). Error answers become errors carrying the server's message.
func (c *adminClient) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	u := c.origin + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("making request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if !strings.HasPrefix(c.network, "unix") {
		req.Header.Set("Origin", c.origin)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the admin API at %s (is gatehouse running? use --address or --config): %w", c.addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
	if err != nil {
		return fmt.Errorf("reading the admin API's answer: %w", err)
	}
	if resp.StatusCode >= 400 {
		return answerError(resp.StatusCode, b)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("decoding the admin API's answer: %w", err)
	}
	return nil
}

// answerError turns an error answer of the admin API (status, body) into an *adminError
// carrying the server's message.
func answerError(status int, b []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		return &adminError{Status: status, Message: e.Error}
	}
	msg := strings.TrimSpace(string(b))
	if status == http.StatusNotFound && msg == "" {
		msg = "no such endpoint: is this a gatehouse binary with the admin.api.gatehouse module?"
	}
	return &adminError{Status: status, Message: msg}
}

// adminError is an error answer of the admin API; its text is the server's message.
type adminError struct {
	Status  int
	Message string
}

func (e *adminError) Error() string { return e.Message }
