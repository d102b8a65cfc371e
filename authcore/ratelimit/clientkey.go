package ratelimit

import (
	"net/netip"
)

// NoTrustedIP is the key part used when the client IP is unknown, as in
// Better Auth (spec §4.6). All such clients share one bucket, so a gateway
// that loses the client IP throttles them together rather than not at all.
const NoTrustedIP = "no-trusted-ip"

// DefaultV6Prefix is the IPv6 prefix length ClientKey groups by: a /64 is
// what one subscriber line usually gets, so rotating through addresses inside
// it must not buy fresh limits (HDR-06; Better Auth GHSA-p6v2-xcpg-h6xw).
const DefaultV6Prefix = 64

// ClientKey canonicalises a client IP for rate-limit keys, grouping IPv6 by
// /64. See [ClientKeyV6].
func ClientKey(ip string) string { return ClientKeyV6(ip, DefaultV6Prefix) }

// ClientKeyV6 canonicalises a client IP for rate-limit keys so one client
// cannot obtain several buckets by spelling its address differently:
//
//   - IPv4 becomes a dotted quad ("1.2.3.4");
//   - IPv4-mapped IPv6 ("::ffff:1.2.3.4") becomes that IPv4 address;
//   - other IPv6 addresses lose any zone ("%eth0") and are truncated to their
//     first bits bits, written as a canonical prefix ("2001:db8::/64"), so
//     "2001:DB8::1", "2001:db8:0:0::1" and "2001:db8::2" share a key;
//   - anything unparsable, including an empty string, host:port pairs and
//     bracketed forms, becomes [NoTrustedIP].
//
// bits below 1 select DefaultV6Prefix (so a zero-valued setting cannot put
// every IPv6 client in one bucket); above 128 select 128.
func ClientKeyV6(ip string, bits int) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return NoTrustedIP
	}
	a = a.WithZone("").Unmap()
	if a.Is4() {
		return a.String()
	}
	switch {
	case bits < 1:
		bits = DefaultV6Prefix
	case bits > 128:
		bits = 128
	}
	p, err := a.Prefix(bits)
	if err != nil {
		return NoTrustedIP
	}
	return p.String()
}
