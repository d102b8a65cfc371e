// Command cmd is a gatehouse binary with the example audit-log plugin built in — the way any
// Caddy module is built into a Caddy binary: a blank import of the plugin, then gatehouse's
// main, which brings Caddy's standard modules, Gatehouse and its bundled plugins, and the
// gatehouse subcommands (user, session, apikey, openapi, client-plugin, ...):
//
//	go build -o gatehouse-auditlog ./examples/cmd
//	./gatehouse-auditlog run --config examples/cmd/Caddyfile --adapter caddyfile
//	./gatehouse-auditlog list-modules | grep audit_log    # gatehouse.plugins.audit_log
//
// xcaddy builds the same thing without a main.go (docs/plugins.md):
//
//	xcaddy build --with github.com/gatehouse-auth/gatehouse/cmd/gatehouse/gatehousecmd \
//	    --with github.com/gatehouse-auth/gatehouse/examples/auditlog
package main

import (
	"github.com/gatehouse-auth/gatehouse/cmd/gatehouse/gatehousecmd"

	// The third-party plugin: its init registers gatehouse.plugins.audit_log.
	_ "github.com/gatehouse-auth/gatehouse/examples/auditlog"
)

func main() { gatehousecmd.Main() }
