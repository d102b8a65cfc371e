// Command cmd is a gatehouse binary with the notes example plugin built in (docs/plugins.md,
// "Building a binary").
package main

import (
	"github.com/gatehouse-auth/gatehouse/cmd/gatehouse/gatehousecmd"

	_ "github.com/gatehouse-auth/gatehouse/docs/notes" // your plugin: its init registers the module
)

func main() { gatehousecmd.Main() }
