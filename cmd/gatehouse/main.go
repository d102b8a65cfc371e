// Command gatehouse is Caddy with the Gatehouse modules, every Gatehouse plugin and the admin
// subcommands built in; see package gatehousecmd for the commands and for building a custom
// binary with your own plugins.
package main

import "github.com/gatehouse-auth/gatehouse/cmd/gatehouse/gatehousecmd"

func main() { gatehousecmd.Main() }
