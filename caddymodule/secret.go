package caddymodule

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/caddyserver/caddy/v2"
	"go.uber.org/zap"
)

// secretFile is where a generated secret is kept when none is configured.
func secretFile() string { return filepath.Join(caddy.AppDataDir(), "gatehouse", "secret") }

// GenerateSecret returns a new random secret (48 random bytes, base64url: 64 characters).
func GenerateSecret() (string, error) {
	b := make([]byte, 48)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// loadOrCreateSecret reads the generated secret, creating it (mode 0600, in a 0700
// directory) on first start, and says so in the log once.
func loadOrCreateSecret(log *zap.Logger) (string, error) {
	path := secretFile()
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < 32 {
			return "", fmt.Errorf("gatehouse: generated secret in %s is shorter than 32 bytes; delete it to make a new one", path)
		}
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("gatehouse: reading secret: %w", err)
	}
	s, err := GenerateSecret()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("gatehouse: creating %s: %w", filepath.Dir(path), err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return loadOrCreateSecret(log) // another process won the race
	}
	if err != nil {
		return "", fmt.Errorf("gatehouse: creating secret: %w", err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		return "", fmt.Errorf("gatehouse: writing secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	log.Info("no secret configured: generated one and stored it; set `secret` in the gatehouse block to manage it yourself", zap.String("path", path))
	return s, nil
}
