// Package gatehousecmd is the gatehouse command: Caddy with the Gatehouse modules and every Gatehouse plugin built in,
// plus admin subcommands (user, session, apikey, secret) that talk to a running server through
// Caddy's admin API.
//
// It is an ordinary Caddy build: `gatehouse run --config Caddyfile` starts a server, and any
// other Caddy module can be added the same way plugins/all adds Gatehouse's (or build your
// own binary with xcaddy and --with github.com/gatehouse-auth/gatehouse/caddymodule).
//
// cmd/gatehouse is only `func main() { gatehousecmd.Main() }`. A custom binary with every
// gatehouse command and plugin plus your own plugin is the same five lines with one more
// blank import (see docs/plugins.md, "Building a binary"):
//
//	package main
//
//	import (
//		"github.com/gatehouse-auth/gatehouse/cmd/gatehouse/gatehousecmd"
//		_ "github.com/you/yourplugin"
//	)
//
//	func main() { gatehousecmd.Main() }
//
// Importing this package registers the subcommands (in init) together with Caddy's standard
// modules, the Gatehouse app and handlers, and every built-in plugin.
//
// Subcommands added to Caddy's (see commands.go; `gatehouse <command> --help` for details):
//
//	gatehouse user create --email <email> --name <name> (--password <pw> | --password-stdin) [--role <role>] [--verified]
//	gatehouse user list [--search <text>] [--limit <n>] [--offset <n>]
//	gatehouse user show <user>
//	gatehouse user set-role <user> <role>
//	gatehouse user set-password <user> (--password <pw> | --password-stdin)
//	gatehouse user delete <user>
//	gatehouse session list <user>
//	gatehouse session revoke (<handle> | --user <user>)
//	gatehouse apikey create (--user <user> | --org <id>) [--name] [--prefix] [--expires-in] [--permissions res:act,...]
//	                        [--remaining <n>] [--refill-amount <n> --refill-interval <d>] [--rate-limit <max>/<window>]
//	                        [--enabled=false] [--metadata <json>]
//	gatehouse apikey update <key-id> [the options of create but --user, --org, --prefix]
//	gatehouse apikey list [--user <user>]
//	gatehouse apikey revoke <key-id>
//	gatehouse secret generate
//	gatehouse client-plugin <plugin-id> [--config <file> [--adapter <name>]] [--out <file.ts>]
//	gatehouse openapi --config <path> [--adapter <name>] [--output <file>]   (offline: prints the OpenAPI document)
//	gatehouse storage migrate --from <bbolt:path|postgres:dsn> --to <bbolt:path|postgres:dsn> [--config <path>] [--resume]   (offline; also storage-migrate)
//	gatehouse backup --output <file> [--force]   (a consistent snapshot of a running server's bbolt store, via the admin API)
//	gatehouse import better-auth --from <postgres-dsn> --config <path> [--better-auth-secret <s>] [--merge] [--skip <table,...>]   (offline)
//	gatehouse version [--json]        (also: gatehouse modules)
//
// The user, session, apikey and backup commands take --address <addr> (host:port or unix/<path>), or
// --config <path> [--adapter <name>] to read the admin address from a config, and --json.
package gatehousecmd

import (
	"os"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	_ "github.com/caddyserver/caddy/v2/modules/standard"

	_ "github.com/gatehouse-auth/gatehouse/caddymodule"
	_ "github.com/gatehouse-auth/gatehouse/plugins/all"
)

// Main runs the gatehouse command line (Caddy's, with Gatehouse's subcommands) and exits.
func Main() {
	caddy.CustomBinaryName = "gatehouse"
	os.Args = routeStorageMigrate(routeVersion(os.Args))
	caddycmd.Main()
}

// routeVersion sends `gatehouse version` (and `gatehouse help version`) to the modules
// command, which prints Caddy's version line followed by Gatehouse's modules. Caddy registers
// its own `version` command before ours and caddycmd.RegisterCommand panics on a duplicate
// name, and the root cobra command is built and run inside caddycmd.Main with no hook to
// replace a subcommand; the arguments are the one place left to do it.
func routeVersion(args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := append([]string(nil), args...)
	switch {
	case out[1] == "version":
		out[1] = modulesCommand
	case out[1] == "help" && len(out) > 2 && out[2] == "version":
		out[2] = modulesCommand
	}
	return out
}
