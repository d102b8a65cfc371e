//go:build !unix

package integration

import "os/exec"

// killGroup: without process groups, cancellation kills cmd's own process only.
func killGroup(cmd *exec.Cmd) {}
