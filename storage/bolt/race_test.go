//go:build race

package bolt

// raceEnabled: the race detector makes sync.Pool drop items, so allocation counts vary.
const raceEnabled = true
