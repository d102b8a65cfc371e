//go:build !linux

package pgtest

import "os/exec"

func setPdeathsig(*exec.Cmd) {}
