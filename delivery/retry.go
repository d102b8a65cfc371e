package delivery

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// RetryPolicy retries temporary delivery failures a bounded number of times with
// exponential back-off and jitter. Failures marked [Permanent] (an HTTP 4xx other than
// 408/429, an SMTP 5xx, a bad address) are returned at once, and so is everything once the
// context is done. The zero value is usable: 3 attempts, 1s then 2s (each between half and
// all of that), at most 10s.
type RetryPolicy struct {
	// Attempts in all, the first included. Default: 3.
	Attempts int
	// BaseDelay is the wait after the first failure; it doubles after each further one.
	// Default: 1s.
	BaseDelay time.Duration
	// MaxDelay caps one wait. Default: 10s.
	MaxDelay time.Duration
	// Random draws the jitter. Default: crypto/rand.Reader.
	Random io.Reader
	// Sleep waits d or until ctx is done (then it returns ctx's error). Default: a timer.
	Sleep func(ctx context.Context, d time.Duration) error
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.Attempts <= 0 {
		p.Attempts = 3
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = time.Second
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 10 * time.Second
	}
	if p.Random == nil {
		p.Random = rand.Reader
	}
	if p.Sleep == nil {
		p.Sleep = sleep
	}
	return p
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Delay is the wait after the n-th failed attempt (n from 1): BaseDelay·2^(n-1), capped at
// MaxDelay, of which the upper half is random ("equal jitter"), so that many senders
// failing together do not retry in step.
func (p RetryPolicy) Delay(n int) time.Duration {
	p = p.withDefaults()
	d := p.BaseDelay
	for i := 1; i < n && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	half := d / 2
	var b [8]byte
	if _, err := io.ReadFull(p.Random, b[:]); err != nil || half <= 0 {
		return d
	}
	return d - half + time.Duration(binary.BigEndian.Uint64(b[:])%uint64(half+1))
}

// Do runs op until it succeeds, fails permanently, the attempts are used up, or ctx is
// done; it returns op's last error.
func (p RetryPolicy) Do(ctx context.Context, op func(context.Context) error) error {
	p = p.withDefaults()
	var err error
	for n := 1; ; n++ {
		if err = op(ctx); err == nil {
			return nil
		}
		if IsPermanent(err) || ctx.Err() != nil {
			return err
		}
		if n >= p.Attempts {
			return fmt.Errorf("after %d attempts: %w", n, err)
		}
		if serr := p.Sleep(ctx, p.Delay(n)); serr != nil {
			return fmt.Errorf("%w (no retry: %w)", err, serr)
		}
	}
}

// RetryEmail wraps an email transport with p.
func RetryEmail(s authcore.EmailSender, p RetryPolicy) authcore.EmailSender {
	return retryEmail{s, p}
}

// RetrySMS wraps an SMS transport with p.
func RetrySMS(s authcore.SMSSender, p RetryPolicy) authcore.SMSSender {
	return retrySMS{s, p}
}

type retryEmail struct {
	next   authcore.EmailSender
	policy RetryPolicy
}

func (r retryEmail) SendEmail(ctx context.Context, m authcore.Message) error {
	return r.policy.Do(ctx, func(ctx context.Context) error { return r.next.SendEmail(ctx, m) })
}

type retrySMS struct {
	next   authcore.SMSSender
	policy RetryPolicy
}

func (r retrySMS) SendSMS(ctx context.Context, m authcore.Message) error {
	return r.policy.Do(ctx, func(ctx context.Context) error { return r.next.SendSMS(ctx, m) })
}
