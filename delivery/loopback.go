package delivery

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// IsLoopbackHost reports whether host (a host name or IP address, optionally in brackets,
// without port) is "localhost" or a loopback address.
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// IsLoopbackURL reports whether raw is an absolute URL whose host is loopback.
func IsLoopbackURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && u.Host != "" && IsLoopbackHost(u.Hostname())
}

// checkEndpoint accepts an https URL, or an http one on a loopback host (D13), and
// returns it parsed. what names the option in errors.
func checkEndpoint(what, raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%s: %q is not an absolute URL", what, raw)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && IsLoopbackHost(u.Hostname()):
	case u.Scheme == "http":
		return nil, fmt.Errorf("%s: %s must use https (plain http is allowed only to localhost or a loopback address)", what, u.Redacted())
	default:
		return nil, fmt.Errorf("%s: scheme %q is not http or https", what, u.Scheme)
	}
	if u.Fragment != "" {
		return nil, fmt.Errorf("%s: the URL must not have a fragment", what)
	}
	return u, nil
}
