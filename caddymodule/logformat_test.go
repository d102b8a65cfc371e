package caddymodule

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

func TestRedactURL(t *testing.T) {
	const jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.c2ln"
	tests := []struct{ name, in, want string }{
		{"reset link", "/api/auth/reset-password/abc123?callbackURL=%2Freset", "/api/auth/reset-password/REDACTED?callbackURL=%2Freset"},
		{"reset form without a token segment", "/api/auth/ui/reset-password?token=abc123", "/api/auth/ui/reset-password?token=REDACTED"},
		{"verify email", "/api/auth/verify-email?token=" + jwt + "&callbackURL=%2F", "/api/auth/verify-email?token=REDACTED&callbackURL=%2F"},
		{"magic link", "/api/auth/magic-link/verify?token=ml1&callbackURL=%2Fapp", "/api/auth/magic-link/verify?token=REDACTED&callbackURL=%2Fapp"},
		{"delete-user callback", "/api/auth/delete-user/callback?token=d1", "/api/auth/delete-user/callback?token=REDACTED"},
		{"oauth callback", "/api/auth/callback/github?code=c1&state=s1&iss=https%3A%2F%2Fidp", "/api/auth/callback/github?code=REDACTED&state=REDACTED&iss=https%3A%2F%2Fidp"},
		{"saml acs", "/api/auth/sso/saml2/sp/acs/okta?handle=h1&RelayState=r1", "/api/auth/sso/saml2/sp/acs/okta?handle=REDACTED&RelayState=REDACTED"},
		{"credential words in any name", "/app/x?session_token=s1&apiKey=k1&X-Amz-Signature=g1&client_secret=c1&keep=v", "/app/x?session_token=REDACTED&apiKey=REDACTED&X-Amz-Signature=REDACTED&client_secret=REDACTED&keep=v"},
		{"names any case and encoded", "/x?TOKEN=a&%74oken=b&Otp=123456", "/x?TOKEN=REDACTED&%74oken=REDACTED&Otp=REDACTED"},
		{"token nested in a callback URL", "/x?callbackURL=%2Fdone%3Ftoken%3Dt1%26a%3D1", "/x?callbackURL=%2Fdone%3Ftoken%3DREDACTED%26a%3D1"},
		{"absolute redirect", "https://app.example.com/reset?token=t1#x", "https://app.example.com/reset?token=REDACTED#x"},
		{"implicit-flow fragment", "https://app.example.com/cb#access_token=a1&id_token=i1", "https://app.example.com/cb#access_token=REDACTED&id_token=REDACTED"},
		{"jwt anywhere", "/api/" + jwt + "/x", "/api/REDACTED/x"},
		{"nothing to redact", "/api/auth/get-session?disableCookieCache=true", "/api/auth/get-session?disableCookieCache=true"},
		{"bare key and empty query", "/x?token&", "/x?token&"},
		{"bad escape kept", "/x?a=%zz&token=t", "/x?a=%zz&token=REDACTED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RedactURL(tt.in); got != tt.want {
				t.Errorf("RedactURL(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestLogEncoderRedactsRequest encodes a request the way Caddy's access log does, through
// the encoder a Caddyfile's `format gatehouse` builds, and checks that every credential is
// gone and the rest is still there.
func TestLogEncoderRedactsRequest(t *testing.T) {
	enc := provisionLogEncoder(t, "gatehouse")
	req := httptest.NewRequest("GET", "/api/auth/reset-password/tok-path?callbackURL=%2Fdone%3Ftoken%3Dtok-nested&keep=visible", nil)
	req.Header.Set("X-Api-Key", "key-default")
	req.Header.Set("X-Service-Key", "key-custom")
	req.Header.Set("X-Upstream-Id", "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.sig-identity")
	req.Header.Set("Authorization", "Bearer tok-bearer")
	req.Header.Set("Cookie", "better-auth.session_token=tok-cookie")
	req.Header.Set("Referer", "http://localhost/api/auth/ui/reset-password?token=tok-referer")
	req.Header.Set("User-Agent", "visible-agent")
	resp := http.Header{}
	resp.Set("Set-Auth-Token", "tok-set-auth")
	resp.Set("Set-Auth-Jwt", "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1MSJ9.sig-jwt")
	resp.Set("Set-Cookie", "better-auth.session_token=tok-set-cookie; Path=/")
	resp.Set("Location", "http://localhost/reset?token=tok-location")
	resp.Set("Content-Type", "visible/type")

	buf, err := enc.EncodeEntry(zapcore.Entry{Message: "handled request"}, []zapcore.Field{
		zap.Object("request", caddyhttp.LoggableHTTPRequest{Request: req}),
		zap.Object("resp_headers", caddyhttp.LoggableHTTPHeader{Header: resp}),
		zap.String("uri", "/gatehouse/x?token=tok-admin-uri"),
		zap.Reflect("headers", http.Header{"X-Api-Key": {"key-admin"}, "Accept": {"visible/accept"}}),
	})
	if err != nil {
		t.Fatal(err)
	}
	line := buf.String()
	for _, secret := range []string{"tok-path", "tok-nested", "key-default", "key-custom", "sig-identity", "tok-bearer",
		"tok-cookie", "tok-referer", "tok-set-auth", "sig-jwt", "tok-set-cookie", "tok-location", "tok-admin-uri", "key-admin"} {
		if strings.Contains(line, secret) {
			t.Errorf("%s is in the log line:\n%s", secret, line)
		}
	}
	for _, kept := range []string{"keep=visible", "visible-agent", "visible/type", "visible/accept", "/api/auth/reset-password/REDACTED", "X-Api-Key", "Set-Auth-Token"} {
		if !strings.Contains(line, kept) {
			t.Errorf("%s is missing from the log line:\n%s", kept, line)
		}
	}
}

// TestLogEncoderOperatorFields: the block takes the filter encoder's options, and an
// operator's field filter still runs.
func TestLogEncoderOperatorFields(t *testing.T) {
	enc := provisionLogEncoder(t, "gatehouse {\n\tuser_id delete\n}")
	buf, err := enc.EncodeEntry(zapcore.Entry{Message: "m"}, []zapcore.Field{zap.String("user_id", "u-secret"), zap.String("other", "o-visible")})
	if err != nil {
		t.Fatal(err)
	}
	if line := buf.String(); strings.Contains(line, "u-secret") || !strings.Contains(line, "o-visible") {
		t.Errorf("operator's field filter not applied: %s", line)
	}
}

func provisionLogEncoder(t *testing.T, caddyfileText string) zapcore.Encoder {
	t.Helper()
	e := new(LogEncoder)
	if err := e.UnmarshalCaddyfile(caddyfile.NewTestDispenser(caddyfileText)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	t.Cleanup(cancel)
	if err := e.Provision(ctx); err != nil {
		t.Fatal(err)
	}
	return e
}
