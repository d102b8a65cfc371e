// Package faultstore is a test helper: a [storage.Store] wrapper whose adapters fail reads,
// writes or both with a chosen error, switched on and off while the engine runs. Tests use
// it to check that storage faults fail closed (503, nothing let through) and that the
// engine recovers by itself when the fault clears. It is not product code: nothing outside
// tests imports it.
package faultstore
