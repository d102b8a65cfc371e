package delivery

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

func TestLog(t *testing.T) {
	var buf bytes.Buffer
	l := NewLog(slog.New(slog.NewTextHandler(&buf, nil)))
	if err := l.SendEmail(t.Context(), authcore.Message{Type: "magic-link", To: "ada@example.com", Subject: "Sign in",
		Text: "BODY-NOT-LOGGED", Data: authcore.MessageData{URL: "http://localhost/x?token=t", Token: "t"}}); err != nil {
		t.Fatal(err)
	}
	if err := l.SendSMS(t.Context(), authcore.Message{Type: "phone-otp", To: "+15555550100", Text: "BODY-NOT-LOGGED",
		Data: authcore.MessageData{OTP: "123456"}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"type=magic-link", "to=ada@example.com", `subject="Sign in"`, "url=\"http://localhost/x?token=t\"",
		"type=phone-otp", "to=+15555550100", "otp=123456"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "BODY-NOT-LOGGED") {
		t.Error("the body was logged")
	}
	if strings.Contains(out, `otp=""`) || strings.Contains(out, `url=""`) {
		t.Errorf("empty link or code fields were logged:\n%s", out)
	}
	if err := NewLog(nil).SendEmail(t.Context(), authcore.Message{}); err != nil {
		t.Error(err)
	}
}

func TestIsLoopback(t *testing.T) {
	for h, want := range map[string]bool{"localhost": true, "LocalHost": true, "127.0.0.1": true, "127.9.9.9": true, "::1": true,
		"[::1]": true, "example.com": false, "10.0.0.1": false, "localhost.example.com": false, "0.0.0.0": false, "": false} {
		if IsLoopbackHost(h) != want {
			t.Errorf("IsLoopbackHost(%q) = %v", h, !want)
		}
	}
	for u, want := range map[string]bool{"http://localhost:8080": true, "https://127.0.0.1/x": true, "http://[::1]:3000": true,
		"https://app.example.com": false, "localhost": false, "http://localhost.evil.example": false} {
		if IsLoopbackURL(u) != want {
			t.Errorf("IsLoopbackURL(%q) = %v", u, !want)
		}
	}
}
