//go:build !linux

package integration

import "errors"

func setFileSizeLimit(int, uint64) error { return errors.New("prlimit is Linux-only") }

const fileSizeLimitSupported = false
