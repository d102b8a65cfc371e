package ratelimit

import (
	"fmt"
	"testing"
)

// TestClientKey is security case HDR-06: one client must not get several
// buckets by spelling its address differently or rotating inside its /64.
func TestClientKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"1.2.3.4", "1.2.3.4"},
		{"::ffff:1.2.3.4", "1.2.3.4"},
		{"::FFFF:1.2.3.4", "1.2.3.4"},
		{"0:0:0:0:0:ffff:102:304", "1.2.3.4"},
		{"2001:DB8::1", "2001:db8::/64"},
		{"2001:db8:0:0::1", "2001:db8::/64"},
		{"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::/64"},
		{"2001:db8::ffff:ffff:ffff:ffff", "2001:db8::/64"},
		{"2001:db8:0:1::1", "2001:db8:0:1::/64"},
		{"fe80::1%eth0", "fe80::/64"},
		{"fe80::1%25eth0", "fe80::/64"},
		{"::1", "::/64"},
		{"::", "::/64"},
		{"127.0.0.1", "127.0.0.1"},
		{"", NoTrustedIP},
		{"garbage", NoTrustedIP},
		{"1.2.3.4:5678", NoTrustedIP},
		{"[2001:db8::1]", NoTrustedIP},
		{"[2001:db8::1]:443", NoTrustedIP},
		{"01.2.3.4", NoTrustedIP},
		{"1.2.3", NoTrustedIP},
		{"256.1.1.1", NoTrustedIP},
		{" 1.2.3.4", NoTrustedIP},
		{"1.2.3.4, 5.6.7.8", NoTrustedIP},
		{"0x7f.0.0.1", NoTrustedIP},
		{"2001:db8::1/64", NoTrustedIP},
		{"unknown", NoTrustedIP},
	} {
		if got := ClientKey(tc.in); got != tc.want {
			t.Errorf("ClientKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestClientKeyRotationInsideOne64(t *testing.T) {
	want := ClientKey("2001:db8:abcd:12::1")
	for i := range 256 {
		ip := fmt.Sprintf("2001:db8:abcd:12:%x:%x:%x:%x", i*97, i*31, i, 255-i)
		if got := ClientKey(ip); got != want {
			t.Fatalf("ClientKey(%q) = %q, want %q", ip, got, want)
		}
	}
	if other := ClientKey("2001:db8:abcd:13::1"); other == want {
		t.Fatal("neighbouring /64 shares the key")
	}
}

func TestClientKeyV6Bits(t *testing.T) {
	const ip = "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff"
	for _, tc := range []struct {
		bits int
		want string
	}{
		{48, "2001:db8:aaaa::/48"},
		{56, "2001:db8:aaaa:bb00::/56"},
		{64, "2001:db8:aaaa:bbbb::/64"},
		{128, "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff/128"},
		{0, "2001:db8:aaaa:bbbb::/64"},  // zero value → default, never one bucket for all
		{-5, "2001:db8:aaaa:bbbb::/64"}, // same
		{200, "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff/128"},
	} {
		if got := ClientKeyV6(ip, tc.bits); got != tc.want {
			t.Errorf("ClientKeyV6(%q, %d) = %q, want %q", ip, tc.bits, got, tc.want)
		}
	}
	// IPv4 ignores the IPv6 prefix.
	if got := ClientKeyV6("::ffff:10.0.0.1", 32); got != "10.0.0.1" {
		t.Errorf("mapped IPv4 with bits 32 = %q", got)
	}
}

func BenchmarkClientKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = ClientKey("2001:db8:abcd:12:1:2:3:4")
	}
}
