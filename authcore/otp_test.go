package authcore_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/authcoretest"
)

func TestOTP(t *testing.T) {
	for _, st := range []authcore.OTPStorage{authcore.OTPPlain, authcore.OTPHashed, authcore.OTPEncrypted} {
		t.Run(string(st), func(t *testing.T) {
			h := authcoretest.New(t, authcoretest.WithBolt())
			e, ctx := h.Engine, context.Background()
			o := authcore.OTPOptions{Storage: st}

			code, err := e.IssueOTP(ctx, "sign-in-otp-a@example.com", o)
			if err != nil || len(code) != 6 {
				t.Fatalf("issue: %q %v", code, err)
			}
			if err := e.CheckOTP(ctx, "sign-in-otp-b@example.com", code, o, true); !errors.Is(err, authcore.ErrOTPNotFound) {
				t.Fatalf("other identifier: %v", err)
			}
			if err := e.CheckOTP(ctx, "sign-in-otp-a@example.com", code, o, false); err != nil {
				t.Fatalf("peek check: %v", err)
			}
			// 20 concurrent redemptions of the right code: exactly one wins.
			var wins atomic.Int32
			var wg sync.WaitGroup
			for range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					err := e.CheckOTP(ctx, "sign-in-otp-a@example.com", code, o, true)
					switch {
					case err == nil:
						wins.Add(1)
					case !errors.Is(err, authcore.ErrOTPNotFound):
						t.Errorf("concurrent redemption: %v", err)
					}
				}()
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Fatalf("%d redemptions succeeded, want 1", wins.Load())
			}
		})
	}
}

func TestOTPAttemptsAndExpiry(t *testing.T) {
	h := authcoretest.New(t)
	e, ctx := h.Engine, context.Background()
	o := authcore.OTPOptions{Attempts: 3}
	code, err := e.IssueOTP(ctx, "x", o)
	if err != nil {
		t.Fatal(err)
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := range 3 {
		if err := e.CheckOTP(ctx, "x", wrong, o, true); !errors.Is(err, authcore.ErrOTPInvalid) {
			t.Fatalf("wrong guess %d: %v", i, err)
		}
	}
	// The attempts are used up: even the right code is refused, and the code is gone.
	if err := e.CheckOTP(ctx, "x", code, o, true); !errors.Is(err, authcore.ErrOTPTooManyAttempts) {
		t.Fatalf("after 3 wrong guesses: %v", err)
	}
	if err := e.CheckOTP(ctx, "x", code, o, true); !errors.Is(err, authcore.ErrOTPNotFound) {
		t.Fatalf("voided code: %v", err)
	}

	code, _ = e.IssueOTP(ctx, "y", o)
	h.Clock.Advance(5*time.Minute + time.Second)
	if err := e.CheckOTP(ctx, "y", code, o, true); !errors.Is(err, authcore.ErrOTPExpired) {
		t.Fatalf("expired code: %v", err)
	}
}

func TestOTPResend(t *testing.T) {
	h := authcoretest.New(t)
	e, ctx := h.Engine, context.Background()
	first, _ := e.IssueOTP(ctx, "r", authcore.OTPOptions{Reuse: true})
	again, _ := e.IssueOTP(ctx, "r", authcore.OTPOptions{Reuse: true})
	if first != again {
		t.Fatalf("reuse issued a new code")
	}
	// Reuse restarts the lifetime: 4 minutes after the first send and 2 after the resend,
	// the code is still good.
	h.Clock.Advance(4 * time.Minute)
	if _, err := e.IssueOTP(ctx, "r", authcore.OTPOptions{Reuse: true}); err != nil {
		t.Fatal(err)
	}
	h.Clock.Advance(2 * time.Minute)
	if err := e.CheckOTP(ctx, "r", first, authcore.OTPOptions{}, false); err != nil {
		t.Fatalf("reused code after its first lifetime: %v", err)
	}
	if got, ok, _ := e.PeekOTP(ctx, "r", authcore.OTPOptions{}); !ok || got != first {
		t.Fatalf("peek = %q %v", got, ok)
	}
	// Rotation voids the old code (unless it happens to repeat, 1 in a million).
	rotated, _ := e.IssueOTP(ctx, "r", authcore.OTPOptions{})
	if rotated != first {
		if err := e.CheckOTP(ctx, "r", first, authcore.OTPOptions{}, true); !errors.Is(err, authcore.ErrOTPInvalid) {
			t.Fatalf("old code after rotation: %v", err)
		}
	}
	if err := e.CheckOTP(ctx, "r", rotated, authcore.OTPOptions{}, true); err != nil {
		t.Fatalf("rotated code: %v", err)
	}
}
