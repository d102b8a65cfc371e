package caddymodule

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
	"go.uber.org/zap/zaptest/observer"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/delivery"
	"github.com/gatehouse-auth/gatehouse/internal/smtpsink"
)

// TestParseDelivery: every mailer, sms and templates option, as the global parser turns
// them into the app's JSON (transport modules inline under "transport").
func TestParseDelivery(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  map[string]string // app JSON field → exact JSON
	}{
		{"mailer log on localhost", "gatehouse {\n base_url http://localhost:8080\n mailer log\n}",
			map[string]string{"mailer": `{"transport":"log"}`}},
		{"mailer log and sms log on 127.0.0.1", "gatehouse {\n base_url http://127.0.0.1:8080\n mailer log\n sms log\n}",
			map[string]string{"mailer": `{"transport":"log"}`, "sms": `{"transport":"log"}`}},
		{"mailer smtp, every option", `gatehouse {
			base_url https://app.example.com
			mailer smtp {
				host smtp.example.com
				port 2525
				username mailer
				password {env.SMTP_PASSWORD}
				from "Acme <no-reply@acme.example>"
				tls implicit
				connect_timeout 5s
				send_timeout 20s
				ca_file /etc/gatehouse/relay-ca.pem
			}
		}`, map[string]string{"mailer": `{"transport":"smtp","host":"smtp.example.com","port":2525,"username":"mailer",` +
			`"password":"{env.SMTP_PASSWORD}","from":"Acme \u003cno-reply@acme.example\u003e","tls":"implicit",` +
			`"connect_timeout":5000000000,"send_timeout":20000000000,"ca_file":"/etc/gatehouse/relay-ca.pem"}`}},
		{"mailer smtp, options sharing lines", `gatehouse {
			mailer smtp {
				host 127.0.0.1  port 25  tls none
				from no-reply@acme.example
			}
		}`, map[string]string{"mailer": `{"transport":"smtp","host":"127.0.0.1","port":25,"from":"no-reply@acme.example","tls":"none"}`}},
		{"mailer webhook without secret", "gatehouse {\n mailer webhook https://hooks.example.com/mail\n}",
			map[string]string{"mailer": `{"transport":"webhook","url":"https://hooks.example.com/mail"}`}},
		{"mailer webhook with secret", "gatehouse {\n mailer webhook https://hooks.example.com/mail {\n secret {env.WEBHOOK_SECRET}\n }\n}",
			map[string]string{"mailer": `{"transport":"webhook","url":"https://hooks.example.com/mail","secret":"{env.WEBHOOK_SECRET}"}`}},
		{"mailer webhook URL from a placeholder", "gatehouse {\n mailer webhook {env.MAIL_HOOK}\n}",
			map[string]string{"mailer": `{"transport":"webhook","url":"{env.MAIL_HOOK}"}`}},
		{"sms webhook on loopback http", "gatehouse {\n sms webhook http://localhost:9000/sms {\n secret whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3\n }\n}",
			map[string]string{"sms": `{"transport":"webhook","url":"http://localhost:9000/sms","secret":"whsec_MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3"}`}},
		{"sms twilio", `gatehouse {
			base_url https://app.example.com
			sms twilio {
				account_sid AC0123456789abcdef0123456789abcdef
				auth_token {env.TWILIO_AUTH_TOKEN}
				from +15555550000  api_url https://api.eu1.twilio.example
			}
		}`, map[string]string{"sms": `{"transport":"twilio","account_sid":"AC0123456789abcdef0123456789abcdef",` +
			`"auth_token":"{env.TWILIO_AUTH_TOKEN}","from":"+15555550000","api_url":"https://api.eu1.twilio.example"}`}},
		{"templates", "gatehouse {\n templates /etc/gatehouse/templates\n}",
			map[string]string{"templates": `"/etc/gatehouse/templates"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parseGlobalText(t, tt.input)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := json.Marshal(v)
			var got map[string]json.RawMessage
			json.Unmarshal(raw, &got)
			for field, want := range tt.want {
				var g, w any
				json.Unmarshal(got[field], &g)
				if err := json.Unmarshal([]byte(want), &w); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(g, w) {
					t.Errorf("%s\n got %s\nwant %s", field, got[field], want)
				}
			}
		})
	}
}

func TestParseDeliveryErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"mailer without transport", "gatehouse {\n mailer\n}", []string{"gatehouse mailer: name a transport", "log", "smtp", "webhook"}},
		{"unknown mailer", "gatehouse {\n mailer pigeon\n}", []string{`gatehouse mailer: unknown transport "pigeon"`, "log, smtp, webhook"}},
		{"unknown sms transport", "gatehouse {\n sms carrier\n}", []string{`gatehouse sms: unknown transport "carrier"`, "log, twilio, webhook"}},
		{"mailer twice", "gatehouse {\n mailer log\n mailer log\n}", []string{"mailer given twice"}},
		{"mailer log with an argument", "gatehouse {\n mailer log verbose\n}", []string{"mailer log: takes no arguments"}},
		{"mailer log with options", "gatehouse {\n mailer log {\n level debug\n }\n}", []string{"mailer log: takes no options"}},
		// D13: the log transports print working links and codes; not outside development.
		{"mailer log with a public base_url", "gatehouse {\n base_url https://app.example.com\n mailer log\n}",
			[]string{"`mailer log`", "loopback", "https://app.example.com", "D13"}},
		{"mailer log before a public base_url", "gatehouse {\n mailer log\n base_url http://app.example.com:8080\n}",
			[]string{"`mailer log`", "loopback"}},
		{"sms log with a public base_url", "gatehouse {\n base_url https://app.example.com\n sms log\n}", []string{"`sms log`", "loopback"}},
		{"smtp with an argument", "gatehouse {\n mailer smtp smtp.example.com\n}", []string{"mailer smtp: takes no arguments"}},
		{"smtp without host", "gatehouse {\n mailer smtp {\n from a@b.example\n }\n}", []string{"mailer smtp: host and from are required"}},
		{"smtp without from", "gatehouse {\n mailer smtp {\n host smtp.example.com\n }\n}", []string{"host and from are required"}},
		{"smtp unknown option", "gatehouse {\n mailer smtp {\n host h.example  from a@b.example  starttls\n }\n}",
			[]string{`mailer smtp: unknown option "starttls"`, "ca_file, connect_timeout, from, host, password, port, send_timeout, tls, username"}},
		{"smtp bad tls", "gatehouse {\n mailer smtp {\n host h.example  from a@b.example  tls ssl\n }\n}", []string{`"ssl" is not one of starttls, implicit, none`}},
		{"smtp bad port", "gatehouse {\n mailer smtp {\n host h.example  from a@b.example  port smtp\n }\n}", []string{`"smtp" is not a non-negative integer`}},
		{"smtp port out of range", "gatehouse {\n mailer smtp {\n host h.example  from a@b.example  port 70000\n }\n}", []string{"port 70000 is out of range"}},
		{"smtp bad from", "gatehouse {\n mailer smtp {\n host h.example  from nobody\n }\n}", []string{`from "nobody"`}},
		{"smtp bad timeout", "gatehouse {\n mailer smtp {\n host h.example  from a@b.example  send_timeout soon\n }\n}", []string{"mailer smtp send_timeout"}},
		{"smtp password in the clear", "gatehouse {\n mailer smtp {\n host smtp.example.com  from a@b.example  tls none  username u  password p\n }\n}",
			[]string{"in the clear"}},
		{"smtp username alone", "gatehouse {\n mailer smtp {\n host smtp.example.com  from a@b.example  username u\n }\n}",
			[]string{"username and password go together"}},
		{"webhook without URL", "gatehouse {\n mailer webhook\n}", []string{"usage: webhook <url>"}},
		{"webhook over http to a public host", "gatehouse {\n mailer webhook http://hooks.example.com/mail\n}",
			[]string{"mailer webhook", "must use https", "localhost or a loopback address"}},
		{"sms webhook over http to a public host", "gatehouse {\n sms webhook http://10.1.2.3/sms\n}", []string{"sms webhook", "must use https"}},
		{"webhook with two URLs", "gatehouse {\n mailer webhook https://a.example https://b.example\n}", []string{"one URL only"}},
		{"webhook short secret", "gatehouse {\n mailer webhook https://a.example {\n secret abc\n }\n}", []string{"too short"}},
		{"webhook bad whsec", "gatehouse {\n mailer webhook https://a.example {\n secret whsec_%%%\n }\n}", []string{"not valid base64"}},
		{"webhook unknown option", "gatehouse {\n mailer webhook https://a.example {\n token x\n }\n}", []string{`mailer webhook: unknown option "token"`, "secret"}},
		{"twilio incomplete", "gatehouse {\n sms twilio {\n account_sid AC0123456789abcdef\n }\n}", []string{"account_sid, auth_token and from are required"}},
		{"twilio with an argument", "gatehouse {\n sms twilio AC1 {\n }\n}", []string{"sms twilio: takes no arguments"}},
		{"twilio http api_url", "gatehouse {\n sms twilio {\n account_sid AC0123456789abcdef  auth_token t  from +1  api_url http://api.example.com\n }\n}",
			[]string{"twilio api_url", "must use https"}},
		{"twilio bad sid", "gatehouse {\n sms twilio {\n account_sid 123  auth_token t  from +1\n }\n}", []string{"account_sid must look like"}},
		{"twilio unknown option", "gatehouse {\n sms twilio {\n sid AC1\n }\n}", []string{`sms twilio: unknown option "sid"`, "account_sid, api_url, auth_token, from"}},
		{"templates without a directory", "gatehouse {\n templates\n}", []string{"gatehouse templates: wrong number of arguments"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, err := parseGlobalText(t, tt.input)
			if err == nil {
				j, _ := json.Marshal(app)
				t.Fatalf("no error; parsed %s", j)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// provisionApp parses a global block and runs the app's delivery provisioning, returning
// what it logged.
func provisionApp(t *testing.T, text string) (authcore.EmailSender, authcore.SMSSender, *observer.ObservedLogs, error) {
	t.Helper()
	app, err := parseGlobalText(t, text)
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zapcore.InfoLevel)
	app.logger = zap.New(core)
	mailer, sms, set, err := app.provisionDelivery(testCtx(t), app.BaseURL)
	if err == nil && set == nil {
		t.Fatal("no template set")
	}
	return mailer, sms, logs, err
}

// TestDeliveryDefaults is D13's default: on a loopback base_url, no transport means the
// log ones; elsewhere, no transport means none (the features answer "not enabled") and a
// start-up warning.
func TestDeliveryDefaults(t *testing.T) {
	mailer, sms, logs, err := provisionApp(t, "gatehouse {\n base_url http://localhost:8080\n}")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := mailer.(*delivery.Log); !ok {
		t.Errorf("loopback default mailer %T, want the log transport", mailer)
	}
	if _, ok := sms.(*delivery.Log); !ok {
		t.Errorf("loopback default sms %T, want the log transport", sms)
	}
	if logs.FilterMessageSnippet("emails are written to the log").Len() != 1 {
		t.Errorf("the log default is not announced: %v", logs.All())
	}

	mailer, sms, logs, err = provisionApp(t, "gatehouse {\n base_url https://app.example.com\n}")
	if err != nil {
		t.Fatal(err)
	}
	if mailer != nil || sms != nil {
		t.Errorf("public base_url without transports: mailer %T, sms %T; want none", mailer, sms)
	}
	if w := logs.FilterLevelExact(zapcore.WarnLevel).FilterMessageSnippet("no mailer configured"); w.Len() != 1 {
		t.Errorf("no start-up warning: %v", logs.All())
	}
}

// TestDeliveryDevOnlyRefusedAtProvision: JSON written by hand (no Caddyfile check) with a
// log transport and a public base_url fails start-up.
func TestDeliveryDevOnlyRefusedAtProvision(t *testing.T) {
	for _, field := range []string{"mailer", "sms"} {
		app := &App{BaseURL: "https://app.example.com"}
		raw := json.RawMessage(`{"transport":"log"}`)
		if field == "mailer" {
			app.MailerRaw = raw
		} else {
			app.SMSRaw = raw
		}
		app.logger = zap.NewNop()
		if _, _, _, err := app.provisionDelivery(testCtx(t), app.BaseURL); err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("%s log with a public base_url: err = %v", field, err)
		}
	}
}

// TestDeliverySMTPPlaceholders: {env.*} placeholders in the SMTP options are expanded at
// provision (the sink only accepts the password from the environment), the transport is
// wrapped in retries (a first 451 is retried), and an empty placeholder stops start-up.
func TestDeliverySMTPPlaceholders(t *testing.T) {
	sink := smtpsink.Start(t, smtpsink.Options{Username: "mailer", Password: "from-the-env"})
	t.Setenv("GH_TEST_SMTP_PASSWORD", "from-the-env")
	t.Setenv("GH_TEST_SMTP_HOST", sink.Host)
	mailer, _, _, err := provisionApp(t, `gatehouse {
		base_url https://app.example.com
		mailer smtp {
			host {env.GH_TEST_SMTP_HOST}  port `+itoa(sink.Port)+`  tls none
			username mailer  password {env.GH_TEST_SMTP_PASSWORD}
			from "Acme <no-reply@acme.example>"
		}
	}`)
	if err != nil {
		t.Fatal(err)
	}
	m := authcore.Message{Type: "magic-link", To: "ada@example.com", Subject: "Hi", Text: "t", HTML: "<p>h</p>"}
	if err := mailer.SendEmail(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if got := sink.Wait(t, "ada@example.com"); got.Password != "from-the-env" {
		t.Errorf("AUTH password %q", got.Password)
	}

	t.Setenv("GH_TEST_SMTP_PASSWORD", "")
	_, _, _, err = provisionApp(t, `gatehouse {
		base_url https://app.example.com
		mailer smtp {
			host 127.0.0.1  tls none  username mailer  password {env.GH_TEST_SMTP_PASSWORD}  from a@b.example
		}
	}`)
	if err == nil || !strings.Contains(err.Error(), "smtp password") {
		t.Fatalf("empty password placeholder: err = %v", err)
	}
}

// TestDeliverySMTPCAFile: ca_file makes a relay with a private CA trusted; without it the
// same relay is refused.
func TestDeliverySMTPCAFile(t *testing.T) {
	cert, _, certPEM := smtpsink.SelfSigned(t)
	sink := smtpsink.Start(t, smtpsink.Options{Mode: smtpsink.StartTLS, Cert: cert})
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	block := func(extra string) string {
		return "gatehouse {\n base_url https://app.example.com\n mailer smtp {\n host 127.0.0.1  port " + itoa(sink.Port) +
			"  from a@acme.example\n " + extra + "\n }\n}"
	}
	mailer, _, _, err := provisionApp(t, block("ca_file "+caFile))
	if err != nil {
		t.Fatal(err)
	}
	m := authcore.Message{Type: "x", To: "ada@example.com", Subject: "s", Text: "t"}
	if err := mailer.SendEmail(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	if !sink.Wait(t, "ada@example.com").TLS {
		t.Error("not delivered over TLS")
	}

	m.To = "bob@example.com"
	mailer, _, _, err = provisionApp(t, block(""))
	if err != nil {
		t.Fatal(err)
	}
	if err := mailer.SendEmail(t.Context(), m); err == nil {
		t.Error("an untrusted certificate was accepted")
	}

	bad := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(bad, []byte("not a certificate"), 0o600)
	if _, _, _, err := provisionApp(t, block("ca_file "+bad)); err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("bad ca_file: %v", err)
	}
}

// TestDeliveryWebhookPlaceholders: URL and secret from the environment; the receiver can
// verify the signature with the secret it knows.
func TestDeliveryWebhookPlaceholders(t *testing.T) {
	var body []byte
	var hdr http.Header
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		hdr = r.Header.Clone()
	}))
	t.Cleanup(srv.Close)
	secret := "whsec_" + base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("k"), 24))
	t.Setenv("GH_TEST_HOOK", srv.URL+"/sms")
	t.Setenv("GH_TEST_HOOK_SECRET", secret)
	_, sms, _, err := provisionApp(t, "gatehouse {\n base_url https://app.example.com\n sms webhook {env.GH_TEST_HOOK} {\n secret {env.GH_TEST_HOOK_SECRET}\n }\n}")
	if err != nil {
		t.Fatal(err)
	}
	if err := sms.SendSMS(t.Context(), authcore.Message{Type: "phone-otp", To: "+15555550100", Text: "123456",
		Data: authcore.MessageData{OTP: "123456"}}); err != nil {
		t.Fatal(err)
	}
	if err := delivery.VerifyWebhook(secret, hdr, body, time.Now(), 0); err != nil {
		t.Fatalf("signature: %v (body %s)", err, body)
	}

	t.Setenv("GH_TEST_HOOK", "http://hooks.example.com/sms")
	if _, _, _, err := provisionApp(t, "gatehouse {\n sms webhook {env.GH_TEST_HOOK}\n}"); err == nil || !strings.Contains(err.Error(), "https") {
		t.Errorf("http URL from a placeholder: %v", err)
	}
}

// TestDeliveryTemplatesDir: the templates option loads (with placeholders) and a broken
// override stops start-up naming the file.
func TestDeliveryTemplatesDir(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "magic-link.txt"), []byte("Sign in: {{.URL}}\n"), 0o600)
	t.Setenv("GH_TEST_TEMPLATES", dir)
	if _, _, _, err := provisionApp(t, "gatehouse {\n base_url http://localhost\n templates {env.GH_TEST_TEMPLATES}\n}"); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "reset-password.html"), []byte("{{.Nope}}"), 0o600)
	_, _, _, err := provisionApp(t, "gatehouse {\n base_url http://localhost\n templates "+dir+"\n}")
	if err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "reset-password.html")) {
		t.Fatalf("broken template: %v", err)
	}
}

// TestCaddyfileDeliveryProvisions: the adapted JSON of every transport is accepted by
// Caddy's loader (module names, inline key, field names).
func TestCaddyfileDeliveryProvisions(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("GH_TEST_SECRET", "whsec_"+base64.StdEncoding.EncodeToString(bytes.Repeat([]byte("s"), 32)))
	for name, opts := range map[string]string{
		"smtp_and_twilio": "mailer smtp {\n host smtp.example.com  from \"Acme <a@acme.example>\"  username u  password p\n }\n" +
			" sms twilio {\n account_sid AC0123456789abcdef  auth_token t  from +15555550000\n }",
		"webhooks": "mailer webhook https://hooks.example.com/mail {\n secret {env.GH_TEST_SECRET}\n }\n sms webhook https://hooks.example.com/sms",
	} {
		t.Run(name, func(t *testing.T) {
			out, err := adapt(`{
	admin off
	gatehouse {
		base_url https://app.example.com
		secret 0123456789abcdef0123456789abcdef-test
		storage bbolt ` + filepath.Join(dir, name+".db") + `
		` + opts + `
	}
}
http://localhost:8080 {
	gatehouse
}
`)
			if err != nil {
				t.Fatal(err)
			}
			if err := caddy.Validate(mustConfig(t, out)); err != nil {
				t.Fatalf("provisioning: %v\n%s", err, out)
			}
		})
	}
}
