package pgtest

import (
	"os/exec"
	"syscall"
)

// setPdeathsig makes the kernel stop postgres (SIGINT: fast shutdown) should the test binary
// die without running Main's clean-up (a panic or a -timeout kill).
func setPdeathsig(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGINT
}
