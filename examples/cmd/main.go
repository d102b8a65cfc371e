// Command cmd is a gatehouse binary with the example audit-log plugin built in — the way any
// Caddy module is built into a Caddy binary: one blank import per module, then Caddy's main.
//
//	go build -o gatehouse-auditlog ./examples/cmd
//	./gatehouse-auditlog run --config examples/cmd/Caddyfile --adapter caddyfile
//	./gatehouse-auditlog list-modules | grep audit_log    # gatehouse.plugins.audit_log
//
// xcaddy builds the same thing without a main.go:
//
//	xcaddy build --with github.com/gatehouse-auth/gatehouse \
//	    --with github.com/gatehouse-auth/gatehouse/examples/auditlog
//
// (with --with for plugins/all too, to keep Gatehouse's own plugins).
//
// This binary has Caddy's commands (run, adapt, list-modules, ...) but not gatehouse's own
// subcommands (user, session, apikey, secret, version), which still live in cmd/gatehouse's
// package main.
package main

import (
	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	// Caddy's standard modules: the HTTP server, reverse_proxy, file_server, ...
	_ "github.com/caddyserver/caddy/v2/modules/standard"

	// Gatehouse: the app and handler modules, then every bundled plugin.
	_ "github.com/gatehouse-auth/gatehouse/caddymodule"
	_ "github.com/gatehouse-auth/gatehouse/plugins/all"

	// The third-party plugin: its init registers gatehouse.plugins.audit_log.
	_ "github.com/gatehouse-auth/gatehouse/examples/auditlog"
)

func main() {
	caddy.CustomBinaryName = "gatehouse-auditlog"
	caddycmd.Main()
}
