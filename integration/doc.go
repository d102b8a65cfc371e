// Package integration runs the real gatehouse binary: built once per test run (D17), started
// on loopback ports with a Caddyfile, and driven over HTTP, through its CLI, and by the
// official better-auth JavaScript client (interop/). Every server a test starts is stopped
// by the test.
package integration
