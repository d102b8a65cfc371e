package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/gatehouse-auth/gatehouse/caddymodule"
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

// openAPIDocument adapts the config, builds its gatehouse app's engine the way the server
// would (same plugins, same options) on a temporary store, and renders the document.
func openAPIDocument(configFile, adapter string) ([]byte, error) {
	cfgJSON, _, _, err := caddycmd.LoadConfig(configFile, adapter)
	if err != nil {
		return nil, err
	}
	if len(cfgJSON) == 0 {
		return nil, fmt.Errorf("%s: empty config", configFile)
	}
	var cfg struct {
		Apps map[string]json.RawMessage `json:"apps"`
	}
	if err := json.Unmarshal(cfgJSON, &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", configFile, err)
	}
	raw, ok := cfg.Apps["gatehouse"]
	if !ok {
		return nil, fmt.Errorf("%s has no gatehouse app (a global 'gatehouse { ... }' option in a Caddyfile)", configFile)
	}
	app := new(caddymodule.App)
	if err := json.Unmarshal(raw, app); err != nil {
		return nil, fmt.Errorf("gatehouse app: %w", err)
	}
	dir, err := os.MkdirTemp("", "gatehouse-openapi-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	// Nothing is read or written: a throwaway store and secret keep the real ones (and
	// the environment variables they may come from) out of it.
	store, _ := json.Marshal(map[string]string{"backend": "bbolt", "path": filepath.Join(dir, "openapi.db")})
	app.StorageRaw = store
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	app.Secret, app.PreviousSecrets = hex.EncodeToString(secret), nil

	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	defer cancel()
	if err := app.Provision(ctx); err != nil {
		return nil, fmt.Errorf("building the gatehouse app: %w", err)
	}
	defer app.Cleanup()
	defer app.Stop()
	return openapi.DocumentJSON(app.Engine())
}
