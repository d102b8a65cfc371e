// Package storagetest is the one conformance suite every [storage.Adapter] runs. An adapter's
// test calls [Run] with a [Harness] that opens fresh stores and reopens them:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, storagetest.Harness{Open: open, Reopen: reopen})
//	}
//
// Each contract of the storage package is a subtest named "contract=<name>" that builds its
// own small schema and store and checks real behaviour: stored state, returned values, error
// sentinels (errors.Is) and *storage.ConstraintError details. The concurrency contracts
// release 50 goroutines at once and are meant to run under -race too. Contracts run in
// parallel with each other, so Open and Reopen must be safe for concurrent use.
package storagetest
