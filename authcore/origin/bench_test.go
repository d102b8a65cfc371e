package origin

import "testing"

func BenchmarkTrustedOrigin(b *testing.B) {
	m := newTestMatcher(b)
	for _, o := range []string{"https://app.test", "https://a.tenant.test", "https://evil.example"} {
		b.Run(o, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.TrustedOrigin(o)
			}
		})
	}
}

func BenchmarkCheck(b *testing.B) {
	m := newTestMatcher(b)
	r := Request{Method: "POST", HasCookie: true, Origin: "https://app.test", SecFetchSite: "same-origin", SecFetchMode: "cors"}
	b.ReportAllocs()
	for b.Loop() {
		if err := m.Check(r); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSafeRedirect(b *testing.B) {
	m := newTestMatcher(b)
	for _, s := range []string{"/dashboard?x=1", "https://app.test/a/b?c=d", "/.//evil.example"} {
		b.Run(s, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				m.SafeRedirect(s)
			}
		})
	}
}
