package gatehousecmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"
	"github.com/spf13/cobra"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/authcore/clientgen"
	"github.com/gatehouse-auth/gatehouse/caddymodule"
)

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "client-plugin",
		Usage: "<plugin-id> [--config <path> [--adapter <name>]] [--out <file>] [--js]",
		Short: "Writes a typed Better Auth client plugin for a Gatehouse plugin",
		Long: `
Writes a Better Auth client plugin (TypeScript by default) for the Gatehouse plugin
<plugin-id> (kebab-case, as in ID(): "api-key", "audit-log"), from its endpoint
declarations: one action per endpoint with typed input and response, the right
HTTP method, and the plugin's error codes. Front ends then call

    createAuthClient({ plugins: [auditLogClient()] }).auditLog.list({ limit: 20 })

With --config (adapted with --adapter, Caddyfile by default for a file named
Caddyfile) the plugin is built with that config's gatehouse block, so option-
dependent endpoints appear as configured; without it, the plugin (and the
plugins it depends on) is built with default options. Nothing is started and no
database is touched (a throwaway store and secret are used).

--out writes to a file instead of stdout; --js (implied by an --out ending in
.js or .mjs) writes plain JavaScript without types.
`,
		CobraFunc: clientPluginCommand,
	})
}

func clientPluginCommand(cmd *cobra.Command) {
	cmd.Flags().StringP("config", "c", "", "Configuration file whose gatehouse block enables the plugin")
	cmd.Flags().StringP("adapter", "a", "", "Name of the config adapter for --config")
	cmd.Flags().StringP("out", "o", "", "Write to this file instead of stdout")
	cmd.Flags().Bool("js", false, "Write plain JavaScript instead of TypeScript")
	cmd.Args = cobra.ExactArgs(1)
	cmd.RunE = runClientPlugin
}

func runClientPlugin(cmd *cobra.Command, args []string) error {
	id := args[0]
	config, _ := cmd.Flags().GetString("config")
	adapter, _ := cmd.Flags().GetString("adapter")
	out, _ := cmd.Flags().GetString("out")
	js, _ := cmd.Flags().GetBool("js")
	if ext := strings.ToLower(filepath.Ext(out)); ext == ".js" || ext == ".mjs" {
		js = true
	}
	var raw json.RawMessage
	var err error
	if config != "" {
		raw, err = gatehouseAppConfig(config, adapter)
	} else {
		raw, err = defaultAppConfig(id)
	}
	if err != nil {
		return err
	}
	e, cleanup, err := EngineFromAppConfig(raw)
	if err != nil {
		return err
	}
	defer cleanup()
	command := "gatehouse client-plugin " + id
	if js {
		command += " --js"
	}
	src, err := clientgen.Generate(e, id, clientgen.Options{JS: js, Command: command})
	if err != nil {
		return err
	}
	if out == "" {
		_, err = cmd.OutOrStdout().Write(src)
		return err
	}
	return os.WriteFile(out, src, 0o644)
}

// gatehouseAppConfig loads a config file (adapting it) and returns its gatehouse app: the
// global 'gatehouse { ... }' option of a Caddyfile, or apps.gatehouse in JSON.
func gatehouseAppConfig(configFile, adapter string) (json.RawMessage, error) {
	cfg, _, _, err := caddycmd.LoadConfig(configFile, adapter)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", configFile, err)
	}
	var c struct {
		Apps map[string]json.RawMessage `json:"apps"`
	}
	if len(cfg) == 0 {
		return nil, fmt.Errorf("%s: empty config", configFile)
	}
	if err := json.Unmarshal(cfg, &c); err != nil {
		return nil, fmt.Errorf("reading %s: %w", configFile, err)
	}
	raw := c.Apps["gatehouse"]
	if raw == nil {
		return nil, fmt.Errorf("%s has no gatehouse app (a global 'gatehouse { ... }' option in a Caddyfile, or apps.gatehouse in JSON)", configFile)
	}
	return raw, nil
}

// defaultAppConfig is a gatehouse app config enabling plugin id and, transitively, the
// plugins it depends on, all with default options.
func defaultAppConfig(id string) (json.RawMessage, error) {
	plugins := map[string]json.RawMessage{}
	var add func(id, by string) error
	add = func(id, by string) error {
		name := strings.ReplaceAll(id, "-", "_")
		if _, ok := plugins[name]; ok {
			return nil
		}
		info, err := caddy.GetModule("gatehouse.plugins." + name)
		if err != nil {
			if by != "" {
				return fmt.Errorf("plugin %q requires plugin %q, which is not built into this binary", by, id)
			}
			return fmt.Errorf("no plugin %q in this binary (module gatehouse.plugins.%s); see gatehouse modules", id, name)
		}
		plugins[name] = json.RawMessage(`{}`)
		if d, ok := info.New().(authcore.Dependent); ok {
			for _, dep := range d.DependsOn() {
				if err := add(dep, id); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if err := add(id, ""); err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{"base_url": "http://localhost", "plugins": plugins})
}

// EngineFromAppConfig builds, without serving, the engine a gatehouse app config (the JSON of
// apps.gatehouse) describes, for commands that read the registry — client-plugin, and any
// generator that needs every enabled plugin's declarations. The configured storage and
// secrets are replaced by a throwaway bbolt file and secret, so no database or secret file is
// touched. cleanup stops the engine and removes the file.
func EngineFromAppConfig(raw json.RawMessage) (e *authcore.Engine, cleanup func(), err error) {
	var app map[string]any
	if err := json.Unmarshal(raw, &app); err != nil {
		return nil, nil, fmt.Errorf("gatehouse app config: %w", err)
	}
	dir, err := os.MkdirTemp("", "gatehouse-cli-")
	if err != nil {
		return nil, nil, err
	}
	secret, err := caddymodule.GenerateSecret()
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	app["storage"] = map[string]any{"backend": "bbolt", "path": filepath.Join(dir, "gatehouse.db")}
	app["secret"] = secret
	delete(app, "previous_secrets")
	b, err := json.Marshal(app)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	a := new(caddymodule.App)
	if err := json.Unmarshal(b, a); err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("gatehouse app config: %w", err)
	}
	ctx, cancel := caddy.NewContext(caddy.Context{Context: context.Background()})
	cleanup = func() {
		a.Cleanup()
		cancel()
		os.RemoveAll(dir)
	}
	if err := a.Provision(ctx); err != nil {
		cleanup()
		return nil, nil, err
	}
	if a.Engine() == nil {
		cleanup()
		return nil, nil, errors.New("gatehouse: the app built no engine")
	}
	return a.Engine(), cleanup, nil
}
