// Package integration runs the real gatehouse binary: built once per test run (D17), started
// on loopback ports with a Caddyfile, and driven over HTTP, through its CLI, by the
// official better-auth JavaScript client (interop/), and by headless Chromium
// (browser_test.go; screenshots in test-output/screenshots/). Every server and browser a
// test starts is stopped by the test.
package integration
