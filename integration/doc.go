// Package integration runs the real gatehouse binary: built once per test run (D17), started
// on loopback ports with a Caddyfile, and driven over HTTP, through its CLI, by the
// official better-auth JavaScript client (interop/), and by headless Chromium
// (browser_test.go; screenshots in test-output/screenshots/). Every server and browser a
// test starts is stopped by the test. crash_test.go kills the binary with SIGKILL dozens of
// times under mixed writes and checks that every answered write survived
// (GATEHOUSE_CRASH_SEED=<n> repeats a run).
//
// TestSoak (soak_test.go) is a bounded load test of the binary: a fixed mix of sign-ins,
// session checks, API-key traffic, sign-outs, revocations and sign-ups for GATEHOUSE_SOAK
// (default 90 s), failing on any unexpected answer and on goroutine or heap growth; it logs
// latency percentiles per operation (and writes them to GATEHOUSE_SOAK_REPORT). bench/soak.sh
// runs it for minutes.
//
// Log leaks (leak_test.go, issue 12): every server logs in the shipped redacting format
// (`log { format gatehouse }` added to its global options and sites), every credential the
// tests see is recorded (http.DefaultTransport records requests and answers; the mail and
// webhook sinks, startMailSink and messageSink, record links and codes; configs their
// secrets), and after the last test TestMain fails the run if any server's output holds one,
// except the log mailer's own delivery lines. Tests need do nothing for this beyond using
// StartServer, clients without a transport of their own (or Server.Transport), and
// startMailSink instead of smtpsink.Start.
package integration
