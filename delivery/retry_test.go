package delivery

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/internal/smtpsink"
)

// sleeps records the waits a policy asks for instead of waiting.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
	// err, when set, is returned (as a cancelled context would).
	err error
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return s.err
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// failing returns the errors in order, then nil.
func failing(errs ...error) (func(context.Context) error, *int) {
	n := 0
	return func(context.Context) error {
		n++
		if n <= len(errs) {
			return errs[n-1]
		}
		return nil
	}, &n
}

var errTemp = errors.New("temporary")

func TestRetryRecovers(t *testing.T) {
	var sl sleeps
	p := RetryPolicy{BaseDelay: time.Second, Sleep: sl.sleep}
	op, calls := failing(errTemp, errTemp)
	if err := p.Do(t.Context(), op); err != nil {
		t.Fatal(err)
	}
	if *calls != 3 {
		t.Fatalf("%d calls, want 3", *calls)
	}
	d := sl.all()
	if len(d) != 2 || d[0] < 500*time.Millisecond || d[0] > time.Second || d[1] < time.Second || d[1] > 2*time.Second {
		t.Fatalf("waits %v: want one in [0.5s,1s] then one in [1s,2s]", d)
	}
}

func TestRetryGivesUp(t *testing.T) {
	var sl sleeps
	op, calls := failing(errTemp, errTemp, errTemp, errTemp)
	err := RetryPolicy{Sleep: sl.sleep}.Do(t.Context(), op)
	if !errors.Is(err, errTemp) || !strings.Contains(err.Error(), "after 3 attempts") || *calls != 3 || len(sl.all()) != 2 {
		t.Fatalf("err %v, %d calls, %d waits", err, *calls, len(sl.all()))
	}
	op, calls = failing(errTemp, errTemp, errTemp, errTemp)
	if err := (RetryPolicy{Attempts: 1, Sleep: sl.sleep}).Do(t.Context(), op); err == nil || *calls != 1 {
		t.Fatalf("one attempt: %v, %d calls", err, *calls)
	}
}

func TestRetryPermanent(t *testing.T) {
	var sl sleeps
	perm := Permanent(errors.New("550 no such user"))
	op, calls := failing(perm)
	err := RetryPolicy{Sleep: sl.sleep}.Do(t.Context(), op)
	if err != perm || *calls != 1 || len(sl.all()) != 0 {
		t.Fatalf("err %v, %d calls, %d waits", err, *calls, len(sl.all()))
	}
	if IsPermanent(errTemp) || !IsPermanent(perm) || Permanent(nil) != nil {
		t.Fatal("IsPermanent/Permanent")
	}
}

// TestRetryHonoursContext: a cancelled context stops the retries, whether it is noticed
// while waiting or after an attempt.
func TestRetryHonoursContext(t *testing.T) {
	sl := sleeps{err: context.Canceled}
	op, calls := failing(errTemp, errTemp)
	err := RetryPolicy{Sleep: sl.sleep}.Do(t.Context(), op)
	if !errors.Is(err, errTemp) || !errors.Is(err, context.Canceled) || *calls != 1 {
		t.Fatalf("cancelled while waiting: %v, %d calls", err, *calls)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	op, calls = failing(errTemp, errTemp)
	var sl2 sleeps
	if err := (RetryPolicy{Sleep: sl2.sleep}).Do(ctx, op); err == nil || *calls != 1 || len(sl2.all()) != 0 {
		t.Fatalf("cancelled before: %v, %d calls", err, *calls)
	}
	// The default sleep returns early on cancellation.
	ctx, cancel = context.WithCancel(t.Context())
	time.AfterFunc(50*time.Millisecond, cancel)
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Fatalf("default sleep: %v", err)
	}
}

// TestRetryDelay: exponential, capped, jittered within the upper half, from the injected
// source.
func TestRetryDelay(t *testing.T) {
	lo := RetryPolicy{BaseDelay: time.Second, MaxDelay: 5 * time.Second, Random: bytes.NewReader(make([]byte, 1024))}
	for n, want := range map[int]time.Duration{1: 500 * time.Millisecond, 2: time.Second, 3: 2 * time.Second, 4: 2500 * time.Millisecond, 10: 2500 * time.Millisecond} {
		if got := lo.Delay(n); got != want {
			t.Errorf("zero jitter, Delay(%d) = %v, want %v", n, got, want)
		}
	}
	hi := RetryPolicy{BaseDelay: time.Second, MaxDelay: 5 * time.Second, Random: bytes.NewReader(bytes.Repeat([]byte{0xff}, 1024))}
	for n := 1; n <= 6; n++ {
		d := min(time.Second<<(n-1), 5*time.Second)
		got := hi.Delay(n)
		if got < d-d/2 || got > d {
			t.Errorf("Delay(%d) = %v, outside [%v, %v]", n, got, d-d/2, d)
		}
		if got == lo.Delay(n) {
			t.Errorf("Delay(%d) = %v whatever the random source says", n, got)
		}
	}
}

// TestRetrySMTP: through the real transport, a 451 is retried and the message delivered
// once; a 550 is not retried.
func TestRetrySMTP(t *testing.T) {
	var sl sleeps
	sink := smtpsink.Start(t, smtpsink.Options{Fail: func(n int) *smtp.SMTPError {
		if n == 1 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again"}
		}
		return nil
	}})
	s := RetryEmail(testSMTP(t, sink, nil), RetryPolicy{Sleep: sl.sleep})
	if err := s.SendEmail(t.Context(), richMessage("ada@example.com")); err != nil {
		t.Fatal(err)
	}
	if n := len(sink.Messages()); n != 1 || len(sl.all()) != 1 {
		t.Fatalf("%d delivered, %d waits", n, len(sl.all()))
	}

	var sl2 sleeps
	rejecting := smtpsink.Start(t, smtpsink.Options{Fail: func(int) *smtp.SMTPError {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}})
	s = RetryEmail(testSMTP(t, rejecting, nil), RetryPolicy{Sleep: sl2.sleep})
	if err := s.SendEmail(t.Context(), richMessage("nobody@example.com")); err == nil || !IsPermanent(err) || len(sl2.all()) != 0 {
		t.Fatalf("550: err %v, %d waits", err, len(sl2.all()))
	}
}

// smsFunc adapts a function to authcore.SMSSender.
type smsFunc func(context.Context, authcore.Message) error

func (f smsFunc) SendSMS(ctx context.Context, m authcore.Message) error { return f(ctx, m) }

func TestRetrySMS(t *testing.T) {
	var sl sleeps
	n := 0
	s := RetrySMS(smsFunc(func(_ context.Context, m authcore.Message) error {
		n++
		if m.To != "+1" {
			t.Errorf("message changed: %+v", m)
		}
		if n < 3 {
			return errTemp
		}
		return nil
	}), RetryPolicy{Sleep: sl.sleep})
	if err := s.SendSMS(t.Context(), authcore.Message{To: "+1"}); err != nil || n != 3 {
		t.Fatalf("%v after %d calls", err, n)
	}
}
