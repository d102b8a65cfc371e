package phonenumber_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"

	"github.com/gatehouse-auth/gatehouse/authcore"
	_ "github.com/gatehouse-auth/gatehouse/caddymodule" // the global gatehouse option
	"github.com/gatehouse-auth/gatehouse/caddymodule/caddyopts/caddyoptstest"
	"github.com/gatehouse-auth/gatehouse/plugins/phonenumber"
)

func TestCaddyModule(t *testing.T) {
	info := phonenumber.Plugin{}.CaddyModule()
	if info.ID != "gatehouse.plugins.phone_number" {
		t.Fatalf("module ID %q", info.ID)
	}
	if _, ok := info.New().(*phonenumber.Plugin); !ok {
		t.Fatalf("New returns %T", info.New())
	}
	if _, err := caddy.GetModule("gatehouse.plugins.phone_number"); err != nil {
		t.Fatalf("not registered: %v", err)
	}
}

func TestUnmarshalCaddyfile(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    phonenumber.Plugin
		wantErr string
	}{
		{name: "bare", input: `phone_number`, want: phonenumber.Plugin{}},
		{name: "empty block", input: `phone_number {
		}`, want: phonenumber.Plugin{}},
		{name: "every option", input: "phone_number {\n" +
			"	otp_length 8\n" +
			"	expires_in 10m\n" +
			"	allowed_attempts 5\n" +
			"	require_verification\n" +
			"	sign_up_on_verification\n" +
			"	temp_email_domain sms.example.invalid\n" +
			"	phone_number_pattern `^\\+[1-9][0-9]{6,14}$`\n" +
			"	store_otp encrypted\n" +
			"	send_limit 3\n" +
			"	send_limit_window 1h\n" +
			"}",
			want: phonenumber.Plugin{
				OTPLength: 8, ExpiresIn: authcore.Duration(10 * time.Minute), AllowedAttempts: 5,
				RequireVerification: true, SignUpOnVerification: true, TempEmailDomain: "sms.example.invalid",
				PhoneNumberPattern: `^\+[1-9][0-9]{6,14}$`, StoreOTP: "encrypted",
				SendLimit: 3, SendLimitWindow: authcore.Duration(time.Hour),
			}},
		{name: "several on a line", input: `phone_number {
			expires_in 2m  allowed_attempts 4  disable_phone_number_validation
			store_otp plain
		}`, want: phonenumber.Plugin{ExpiresIn: authcore.Duration(2 * time.Minute), AllowedAttempts: 4,
			DisablePhoneNumberValidation: true, StoreOTP: "plain"}},
		{name: "days", input: `phone_number {
			send_limit_window 1d
		}`, want: phonenumber.Plugin{SendLimitWindow: authcore.Duration(24 * time.Hour)}},
		{name: "unknown option", input: `phone_number {
			sms_provider twilio
		}`, wantErr: `unknown option "sms_provider"`},
		{name: "argument after the name", input: `phone_number on`, wantErr: "wrong argument count"},
		{name: "bad store_otp", input: `phone_number {
			store_otp rot13
		}`, wantErr: `"rot13" is not one of plain, hashed, encrypted`},
		{name: "bad integer", input: `phone_number {
			otp_length six
		}`, wantErr: "otp_length"},
		{name: "negative integer", input: `phone_number {
			allowed_attempts -1
		}`, wantErr: "allowed_attempts"},
		{name: "bad duration", input: `phone_number {
			expires_in soon
		}`, wantErr: "expires_in"},
		{name: "missing argument", input: `phone_number {
			temp_email_domain
		}`, wantErr: "temp_email_domain"},
		{name: "given twice", input: `phone_number {
			otp_length 6
			otp_length 8
		}`, wantErr: "otp_length given twice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got phonenumber.Plugin
			err := got.UnmarshalCaddyfile(caddyfile.NewTestDispenser(tc.input))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v\nwant %+v", got, tc.want)
			}
			// What the Caddyfile produces is the module's JSON configuration: it round-trips.
			b, err := json.Marshal(&got)
			if err != nil {
				t.Fatal(err)
			}
			var back phonenumber.Plugin
			if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, tc.want) {
				t.Fatalf("JSON round trip %s: %+v %v", b, back, err)
			}
			if err := got.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestJSONConfig(t *testing.T) {
	var p phonenumber.Plugin
	err := json.Unmarshal([]byte(`{"otp_length":6,"expires_in":"5m","allowed_attempts":3,"require_verification":true,
		"sign_up_on_verification":true,"temp_email_domain":"x.invalid","phone_number_pattern":"^[0-9]+$",
		"store_otp":"hashed","send_limit":5,"send_limit_window":"10m"}`), &p)
	if err != nil {
		t.Fatal(err)
	}
	if p.ExpiresIn.D() != 5*time.Minute || !p.RequireVerification || p.PhoneNumberPattern != "^[0-9]+$" || p.SendLimitWindow.D() != 10*time.Minute {
		t.Fatalf("%+v", p)
	}
}

// The block read through the real global option: the Caddyfile adapter enables the plugin
// under gatehouse.plugins with its options as JSON.
func TestCaddyfileAdapt(t *testing.T) {
	plugins := caddyoptstest.AdaptedPlugins(t, `{
	gatehouse {
		base_url https://auth.example.com
		phone_number {
			sign_up_on_verification
			expires_in 3m  store_otp encrypted
		}
	}
}
`)
	raw := plugins["phone_number"]
	var p phonenumber.Plugin
	if err := json.Unmarshal(raw, &p); err != nil {
		t.Fatalf("%s: %v", raw, err)
	}
	want := phonenumber.Plugin{SignUpOnVerification: true, ExpiresIn: authcore.Duration(3 * time.Minute), StoreOTP: "encrypted"}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("adapted %s", raw)
	}
}
