package gatehousecmd

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/gatehouse-auth/gatehouse/plugins/openapi"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "openapi",
		Usage: "--config <path> [--adapter <name>] [--output <file>]",
		Short: "Prints the OpenAPI document of a config's auth API",
		Long: `
Prints the OpenAPI 3.1 document of the auth API that the gatehouse app of a
config serves (every endpoint of every enabled plugin, the storage models as
components), without starting a server: the same document the open_api
plugin serves at <base_path>/open-api/generate-schema, whether or not that
plugin is enabled.

The config is adapted as 'caddy run' would (a file named Caddyfile, or
--adapter caddyfile, is a Caddyfile; otherwise JSON). No database is opened
and nothing is written: the engine is built on a throwaway store with a
throwaway secret, since the document reads no data.
`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().StringP("config", "c", "", "Configuration file (required)")
			cmd.Flags().StringP("adapter", "a", "", "Name of the config adapter")
			cmd.Flags().StringP("output", "o", "", "Write the document to this file instead of standard output")
			cmd.Args = cobra.NoArgs
			cmd.RunE = runOpenAPI
		},
	})
}

func runOpenAPI(cmd *cobra.Command, _ []string) error {
	configFile, _ := cmd.Flags().GetString("config")
	adapter, _ := cmd.Flags().GetString("adapter")
	output, _ := cmd.Flags().GetString("output")
	if configFile == "" {
		return errors.New("--config is required")
	}
	doc, err := openAPIDocument(configFile, adapter)
	if err != nil {
		return err
	}
	doc = append(doc, '\n')
	if output != "" {
		return os.WriteFile(output, doc, 0o644)
	}
	_, err = cmd.OutOrStdout().Write(doc)
	return err
}

// openAPIDocument builds the config's gatehouse engine the way the server would (same
// plugins, same options) on a throwaway store and secret, and renders the document.
func openAPIDocument(configFile, adapter string) ([]byte, error) {
	raw, err := gatehouseAppConfig(configFile, adapter)
	if err != nil {
		return nil, err
	}
	e, cleanup, err := EngineFromAppConfig(raw)
	if err != nil {
		return nil, fmt.Errorf("building the gatehouse app: %w", err)
	}
	defer cleanup()
	return openapi.DocumentJSON(e)
}
