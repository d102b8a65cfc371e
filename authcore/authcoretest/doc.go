// Package authcoretest is the test harness for the engine and its plugins: an engine on an
// in-memory (or temporary bbolt) store with an advanceable clock, a message sink that
// captures every email and SMS, an HTTP server, and clients with cookie jars that send a
// trusted Origin the way the official Node client must.
package authcoretest
