package authcore

import "time"

// Clock is the engine's only source of time. Production uses [SystemClock]; tests inject an
// advanceable clock (authcoretest.Clock) so expiry is tested without sleeping.
type Clock interface {
	Now() time.Time
}

// SystemClock reads the wall clock.
type SystemClock struct{}

// Now returns time.Now().
func (SystemClock) Now() time.Time { return time.Now() }
