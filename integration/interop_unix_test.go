//go:build unix

package integration

import (
	"os/exec"
	"syscall"
)

// killGroup starts cmd in a process group of its own and makes cancellation kill that group
// (cmd's process and its children) — nothing outside what cmd itself started.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
