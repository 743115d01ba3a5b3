//go:build race

package integration

// raceEnabled builds the binaries under test with the race detector too.
const raceEnabled = true
