package delivery

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
)

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// Permanent marks err as not worth retrying ([RetryPolicy] returns it at once). Nil stays
// nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err, or an error it wraps, was marked with [Permanent].
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// statusError is a non-2xx answer of an HTTP transport.
type statusError struct {
	transport string
	status    int
	detail    string // e.g. a provider's error code; never a response body
}

func (e *statusError) Error() string {
	if e.detail != "" {
		return fmt.Sprintf("%s: status %d (%s)", e.transport, e.status, e.detail)
	}
	return fmt.Sprintf("%s: status %d", e.transport, e.status)
}

// httpStatusError classifies a non-2xx status: a 4xx is the request's fault and permanent,
// except 408 (timeout) and 429 (rate limited); a 5xx (or anything else) is temporary.
func httpStatusError(transport string, status int, detail string) error {
	err := &statusError{transport: transport, status: status, detail: detail}
	if status >= 400 && status < 500 && status != 408 && status != 429 {
		return Permanent(err)
	}
	return err
}

// requestError reports a failed HTTP round trip without the URL, which may hold
// credentials: only the operation and the underlying cause.
func requestError(transport string, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.Timeout() {
			return fmt.Errorf("%s: request timed out", transport)
		}
		return fmt.Errorf("%s: %s request failed: %w", transport, ue.Op, ue.Err)
	}
	return fmt.Errorf("%s: %w", transport, err)
}

// redactedError hides the recipient in an error's text (a mail server's reply often
// quotes the address); errors.Is/As still see the original.
type redactedError struct {
	msg string
	err error
}

func (r *redactedError) Error() string { return r.msg }
func (r *redactedError) Unwrap() error { return r.err }

// redact replaces every spelling of secret in err's text (case-insensitively) with
// "[recipient]".
func redact(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	re := regexp.MustCompile(`(?i)` + regexp.QuoteMeta(secret))
	msg := err.Error()
	clean := re.ReplaceAllString(msg, "[recipient]")
	if clean == msg {
		return err
	}
	return &redactedError{msg: clean, err: err}
}
