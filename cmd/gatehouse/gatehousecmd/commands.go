package gatehousecmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/caddyserver/caddy/v2"
	caddycmd "github.com/caddyserver/caddy/v2/cmd"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/caddymodule"
)

// goModule is Gatehouse's Go module path.
const goModule = "github.com/gatehouse-auth/gatehouse"

// modulesCommand is the name `gatehouse version` is routed to (see main.go).
const modulesCommand = "modules"

func init() {
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "user",
		Usage: "<create|list|show|set-role|set-password|delete> [args] [--address <addr> | --config <path> [--adapter <name>]] [--json]",
		Short: "Manages the users of a running Gatehouse server",
		Long: `
Creates, lists, changes and deletes users through the admin API of a running
gatehouse server (the admin.api.gatehouse module). The CLI never opens the
database itself: the server holds it.

  gatehouse user create --email <email> --name <name> (--password <pw> | --password-stdin) [--role <role>] [--verified]
  gatehouse user list [--search <text>] [--limit <n>] [--offset <n>]
  gatehouse user show <user>
  gatehouse user set-role <user> <role>
  gatehouse user set-password <user> (--password <pw> | --password-stdin)
  gatehouse user delete <user>

<user> is a user id or an email address. New passwords follow the server's
password policy (length, common passwords). set-password signs the user out
everywhere. delete also deletes the user's sessions and accounts.

The admin endpoint is found the way 'caddy stop' finds it: --address, else
the admin address of --config (adapted with --adapter), else $CADDY_ADMIN,
else localhost:2019. A unix socket is written unix/<path>.

Prefer --password-stdin to --password: command lines are visible to other
users of the machine and end up in shell history.
`,
		CobraFunc: userCommand,
	})
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "session",
		Usage: "<list|revoke> [args] [--address <addr> | --config <path> [--adapter <name>]] [--json]",
		Short: "Lists and revokes sessions on a running Gatehouse server",
		Long: `
Lists and revokes sessions through the admin API of a running gatehouse server.

  gatehouse session list <user>
  gatehouse session revoke <handle>
  gatehouse session revoke --user <user>

Session tokens are stored only as hashes and never shown: listings give an
opaque handle per session, which 'session revoke' accepts (as does the auth
API's /revoke-session). --user revokes every session of a user.

The admin endpoint is found as for 'gatehouse user'.
`,
		CobraFunc: sessionCommand,
	})
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "apikey",
		Usage: "<create|update|list|revoke> [args] [--address <addr> | --config <path> [--adapter <name>]] [--json]",
		Short: "Creates, changes, lists and revokes API keys on a running Gatehouse server",
		Long: `
Manages API keys through the admin API of a running gatehouse server; the
api-key plugin must be enabled (api_key in the gatehouse global options).

  gatehouse apikey create (--user <user> | --org <id>) [key options]
  gatehouse apikey update <key-id> [key options]
  gatehouse apikey list [--user <user>]
  gatehouse apikey revoke <key-id>

Key options:
  --name <name>                  display name
  --prefix <prefix>              prefix of the generated key (create only)
  --expires-in <duration|never>  lifetime from now, such as 30d or 12h
  --permissions <res:act,...>    such as files:read,files:write (replaces
                                 the key's permissions; "" removes them)
  --remaining <n>                requests left before the key stops working
  --refill-amount <n>            requests given back every --refill-interval
  --refill-interval <duration>   such as 1d
  --rate-limit <max>/<window>    such as 100/1m; "off" disables it
  --enabled=<true|false>         enable or disable the key
  --metadata <json object>       free-form metadata

<user> is a user id or an email address; a key with --org belongs to the
organization. The plaintext key is printed once, by create: store it then.
Durations use Caddy's syntax (Go's plus "d" for days). Options not given
keep their value on update. Permissions are matched exactly by the site
rule 'require permission <resource>:<action>' (no wildcards).

The admin endpoint is found as for 'gatehouse user'.
`,
		CobraFunc: apiKeyCommand,
	})
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  "secret",
		Usage: "<generate|reencrypt> [--address <addr> | --config <path> [--adapter <name>]] [--json]",
		Short: "Generates a Gatehouse secret; moves stored data to the current one",
		Long: `
  gatehouse secret generate
  gatehouse secret reencrypt

generate prints a new random secret (48 random bytes, base64url) for the
'secret' and 'previous_secrets' options of the gatehouse block. Works offline.

reencrypt asks a running server to re-encrypt, with its current secret, every
stored value a secret in previous_secrets encrypted (two-factor secrets and
backup codes, OAuth tokens, JWT signing keys, SSO client secrets). Run it
after the new secret is live (on every node) and before an old secret is
removed from previous_secrets; it is safe to run again. The admin endpoint is
found as for 'gatehouse user'.
`,
		CobraFunc: secretCommand,
	})
	caddycmd.RegisterCommand(caddycmd.Command{
		Name:  modulesCommand,
		Usage: "[--json]",
		Short: "Prints the version and the Gatehouse modules built in",
		Long: `
Prints Caddy's version (as 'version' does), Gatehouse's, and every Gatehouse
module compiled into this binary: the gatehouse app, gatehouse.* modules
(storage, plugins), http.handlers.gatehouse and admin.api.gatehouse.

'gatehouse version' runs this command too.
`,
		CobraFunc: func(cmd *cobra.Command) {
			cmd.Flags().Bool("json", false, "Print JSON")
			cmd.Args = cobra.NoArgs
			cmd.RunE = runModules
		},
	})
}

// parent makes cmd a group of subcommands: run bare or with an unknown subcommand, it says
// so and fails rather than printing help and exiting 0.
func parent(cmd *cobra.Command, subs ...*cobra.Command) {
	cmd.AddCommand(subs...)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		names := make([]string, 0, len(subs))
		for _, s := range subs {
			names = append(names, s.Name())
		}
		if len(args) == 0 {
			return fmt.Errorf("a subcommand is required (%s); see '%s --help'", strings.Join(names, ", "), cmd.CommandPath())
		}
		return fmt.Errorf("unknown subcommand %q (valid: %s); see '%s --help'", args[0], strings.Join(names, ", "), cmd.CommandPath())
	}
}

// adminRun wraps a subcommand that calls the admin API.
func adminRun(f func(ctx context.Context, c *adminClient, out *output, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		c, err := newAdminClient(cmd)
		if err != nil {
			return err
		}
		asJSON, _ := cmd.Flags().GetBool("json")
		ctx, cancel := context.WithTimeout(cmd.Context(), adminTimeout)
		defer cancel()
		return f(ctx, c, &output{w: cmd.OutOrStdout(), json: asJSON}, args)
	}
}

// output prints either the server's JSON (--json) or a human-readable form.
type output struct {
	w    io.Writer
	json bool
}

// printJSON prints the server's JSON, indented.
func (o *output) printJSON(raw json.RawMessage) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := o.w.Write(buf.Bytes())
	return err
}

// linef prints one line.
func (o *output) linef(format string, args ...any) {
	fmt.Fprintf(o.w, format+"\n", args...)
}

// table writes aligned columns.
func (o *output) table(header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(o.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// --- users ---

// apiUser is the public user JSON the admin API returns.
type apiUser struct {
	ID            string `json:"id"`
	Email         string `json:"email"`
	Name          string `json:"name"`
	Role          string `json:"role"`
	EmailVerified bool   `json:"emailVerified"`
	CreatedAt     string `json:"createdAt"`
}

// userHeader is the column header of user tables.
var userHeader = []string{"ID", "EMAIL", "NAME", "ROLE", "VERIFIED", "CREATED"}

// row is u as a table row under userHeader.
func (u apiUser) row() []string {
	return []string{u.ID, u.Email, cell(u.Name), cell(u.Role), strconv.FormatBool(u.EmailVerified), shortTime(u.CreatedAt)}
}

// cell keeps a table cell on one line and visibly non-empty.
func cell(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
	if s == "" {
		return "-"
	}
	return s
}

// shortTime renders an API timestamp (RFC 3339, UTC) for a table.
func shortTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return cell(s)
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

// usersPath is the admin API collection of users (AdminPrefix ends in "/").
const usersPath = caddymodule.AdminPrefix + "users"

// userPath is the admin API path of a user given by id or email.
func userPath(ref string) string {
	return usersPath + "/" + url.PathEscape(ref)
}

// userCommand builds `gatehouse user` and its subcommands.
func userCommand(cmd *cobra.Command) {
	adminFlags(cmd)

	create := &cobra.Command{
		Use:   "create --email <email> --name <name> (--password <pw> | --password-stdin) [--role <role>] [--verified]",
		Short: "Creates a user with a password",
		Args:  cobra.NoArgs,
	}
	create.Flags().String("email", "", "Email address (required)")
	create.Flags().String("name", "", "Display name (required)")
	create.Flags().String("password", "", "Password (visible to other local users; prefer --password-stdin)")
	create.Flags().Bool("password-stdin", false, "Read the password from standard input (one line)")
	create.Flags().String("role", "", "Role, or several separated by commas (default: the server's default, user)")
	create.Flags().Bool("verified", false, "Mark the email address as verified")
	create.RunE = func(cmd *cobra.Command, args []string) error {
		fl := cmd.Flags()
		email, _ := fl.GetString("email")
		name, _ := fl.GetString("name")
		role, _ := fl.GetString("role")
		verified, _ := fl.GetBool("verified")
		if email == "" || name == "" {
			return errors.New("--email and --name are required")
		}
		pw, err := readPassword(cmd)
		if err != nil {
			return err
		}
		body := map[string]any{"email": email, "name": name, "password": pw}
		if role != "" {
			body["role"] = role
		}
		if verified {
			body["emailVerified"] = true
		}
		return adminRun(func(ctx context.Context, c *adminClient, out *output, _ []string) error {
			return call(ctx, c, out, http.MethodPost, usersPath, nil, body, func(u apiUser) error {
				out.linef("Created user %s (id %s, role %s).", u.Email, u.ID, cell(u.Role))
				return nil
			})
		})(cmd, args)
	}

	list := &cobra.Command{
		Use:   "list [--search <text>] [--limit <n>] [--offset <n>]",
		Short: "Lists users (oldest first)",
		Args:  cobra.NoArgs,
	}
	list.Flags().String("search", "", "Only users whose email or name contains this text")
	list.Flags().Int("limit", 100, "At most this many users (up to 1000)")
	list.Flags().Int("offset", 0, "Skip this many users")
	list.RunE = func(cmd *cobra.Command, args []string) error {
		q := url.Values{}
		if s, _ := cmd.Flags().GetString("search"); s != "" {
			q.Set("search", s)
		}
		limit, _ := cmd.Flags().GetInt("limit")
		offset, _ := cmd.Flags().GetInt("offset")
		q.Set("limit", strconv.Itoa(limit))
		q.Set("offset", strconv.Itoa(offset))
		return adminRun(func(ctx context.Context, c *adminClient, out *output, _ []string) error {
			return call(ctx, c, out, http.MethodGet, usersPath, q, nil, func(res struct {
				Users  []apiUser `json:"users"`
				Total  int       `json:"total"`
				Offset int       `json:"offset"`
			}) error {
				if len(res.Users) == 0 {
					out.linef("No users (%d in total).", res.Total)
					return nil
				}
				rows := make([][]string, 0, len(res.Users))
				for _, u := range res.Users {
					rows = append(rows, u.row())
				}
				if err := out.table(userHeader, rows); err != nil {
					return err
				}
				if len(res.Users) < res.Total {
					out.linef("(%d-%d of %d users; use --offset and --limit for more)", res.Offset+1, res.Offset+len(res.Users), res.Total)
				}
				return nil
			})
		})(cmd, args)
	}

	show := &cobra.Command{
		Use:   "show <user>",
		Short: "Shows one user",
		Args:  cobra.ExactArgs(1),
		RunE: adminRun(func(ctx context.Context, c *adminClient, out *output, args []string) error {
			return printUser(ctx, c, out, http.MethodGet, userPath(args[0]), nil)
		}),
	}

	setRole := &cobra.Command{
		Use:   "set-role <user> <role>",
		Short: "Sets a user's role (several roles: comma-separated)",
		Args:  cobra.ExactArgs(2),
		RunE: adminRun(func(ctx context.Context, c *adminClient, out *output, args []string) error {
			return printUser(ctx, c, out, http.MethodPost, userPath(args[0])+"/role", map[string]string{"role": args[1]})
		}),
	}

	setPassword := &cobra.Command{
		Use:   "set-password <user> (--password <pw> | --password-stdin)",
		Short: "Sets a user's password and signs them out everywhere",
		Args:  cobra.ExactArgs(1),
	}
	setPassword.Flags().String("password", "", "New password (visible to other local users; prefer --password-stdin)")
	setPassword.Flags().Bool("password-stdin", false, "Read the new password from standard input (one line)")
	setPassword.RunE = func(cmd *cobra.Command, args []string) error {
		pw, err := readPassword(cmd)
		if err != nil {
			return err
		}
		return adminRun(func(ctx context.Context, c *adminClient, out *output, args []string) error {
			return call(ctx, c, out, http.MethodPost, userPath(args[0])+"/password", nil, map[string]string{"password": pw}, func(res struct {
				User    apiUser `json:"user"`
				Revoked int     `json:"revokedSessions"`
			}) error {
				out.linef("Password of %s changed; %d session(s) revoked.", res.User.Email, res.Revoked)
				return nil
			})
		})(cmd, args)
	}

	del := &cobra.Command{
		Use:   "delete <user>",
		Short: "Deletes a user with their sessions and accounts",
		Args:  cobra.ExactArgs(1),
		RunE: adminRun(func(ctx context.Context, c *adminClient, out *output, args []string) error {
			return call(ctx, c, out, http.MethodDelete, userPath(args[0]), nil, nil, func(res struct {
				User apiUser `json:"user"`
			}) error {
				out.linef("Deleted user %s (id %s).", res.User.Email, res.User.ID)
				return nil
			})
		}),
	}

	parent(cmd, create, list, show, setRole, setPassword, del)
}

// printUser calls an endpoint that answers with one user and prints it.
func printUser(ctx context.Context, c *adminClient, out *output, method, path string, body any) error {
	return call(ctx, c, out, method, path, nil, body, func(u apiUser) error {
		return out.table(userHeader, [][]string{u.row()})
	})
}

// call makes one admin API request and prints the answer: the server's JSON as it is with
// --json, otherwise what human makes of it decoded as T. Every command goes through it, so
// --json always shows exactly what the server said.
func call[T any](ctx context.Context, c *adminClient, out *output, method, path string, q url.Values, body any, human func(T) error) error {
	var raw json.RawMessage
	if err := c.do(ctx, method, path, q, body, &raw); err != nil {
		return err
	}
	if out.json {
		return out.printJSON(raw)
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return fmt.Errorf("decoding the server's answer: %w", err)
	}
	return human(v)
}

// maxPasswordInput bounds what --password-stdin reads.
const maxPasswordInput = 64 << 10

// readPassword takes the password from --password or, with --password-stdin, from the first
// line of standard input (its line ending removed; other whitespace is part of the password).
func readPassword(cmd *cobra.Command) (string, error) {
	fl := cmd.Flags()
	pw, _ := fl.GetString("password")
	fromStdin, _ := fl.GetBool("password-stdin")
	switch {
	case pw != "" && fromStdin:
		return "", errors.New("give --password or --password-stdin, not both")
	case pw != "":
		return pw, nil
	case !fromStdin:
		return "", errors.New("a password is required: --password-stdin (recommended) or --password")
	}
	b, err := io.ReadAll(io.LimitReader(cmd.InOrStdin(), maxPasswordInput+1))
	if err != nil {
		return "", fmt.Errorf("reading the password from standard input: %w", err)
	}
	if len(b) > maxPasswordInput {
		return "", errors.New("the password on standard input is too long")
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", errors.New("no password on standard input")
	}
	return line, nil
}

// --- sessions ---

// apiSession is the session JSON of the admin API's listings.
type apiSession struct {
	ID        string `json:"id"`
	Token     string `json:"token"` // the opaque handle (D3), never the token
	CreatedAt string `json:"createdAt"`
	ExpiresAt string `json:"expiresAt"`
	IPAddress string `json:"ipAddress"`
	UserAgent string `json:"userAgent"`
}

// sessionCommand builds `gatehouse session` and its subcommands.
func sessionCommand(cmd *cobra.Command) {
	adminFlags(cmd)
	sessions := caddymodule.AdminPrefix + "sessions"

	list := &cobra.Command{
		Use:   "list <user>",
		Short: "Lists a user's live sessions with their handles",
		Args:  cobra.ExactArgs(1),
		RunE: adminRun(func(ctx context.Context, c *adminClient, out *output, args []string) error {
			return call(ctx, c, out, http.MethodGet, sessions, url.Values{"user": {args[0]}}, nil, func(res struct {
				User     apiUser      `json:"user"`
				Sessions []apiSession `json:"sessions"`
			}) error {
				if len(res.Sessions) == 0 {
					out.linef("No live sessions for %s.", res.User.Email)
					return nil
				}
				rows := make([][]string, 0, len(res.Sessions))
				for _, s := range res.Sessions {
					ua := cell(s.UserAgent)
					if r := []rune(ua); len(r) > 40 {
						ua = string(r[:39]) + "…"
					}
					rows = append(rows, []string{s.Token, shortTime(s.CreatedAt), shortTime(s.ExpiresAt), cell(s.IPAddress), ua})
				}
				return out.table([]string{"HANDLE", "CREATED", "EXPIRES", "IP", "USER AGENT"}, rows)
			})
		}),
	}

	revoke := &cobra.Command{
		Use:   "revoke (<handle> | --user <user>)",
		Short: "Revokes one session by handle, or every session of a user",
		Args:  cobra.MaximumNArgs(1),
	}
	revoke.Flags().String("user", "", "Revoke every session of this user (id or email)")
	revoke.RunE = func(cmd *cobra.Command, args []string) error {
		user, _ := cmd.Flags().GetString("user")
		if (user == "") == (len(args) == 0) {
			return errors.New("give a session handle or --user <user> (one of them)")
		}
		return adminRun(func(ctx context.Context, c *adminClient, out *output, args []string) error {
			path, q := sessions, url.Values{"user": {user}}
			if user == "" {
				path, q = sessions+"/"+url.PathEscape(args[0]), nil
			}
			return call(ctx, c, out, http.MethodDelete, path, q, nil, func(res struct {
				Revoked int `json:"revoked"`
			}) error {
				out.linef("Revoked %d session(s).", res.Revoked)
				return nil
			})
		})(cmd, args)
	}

	parent(cmd, list, revoke)
}

// --- API keys ---

// apiKeysPath is the admin API collection of API keys.
const apiKeysPath = caddymodule.AdminPrefix + "api-keys"

// apiKeyFlags adds the key options of create and update.
func apiKeyFlags(cmd *cobra.Command, create bool) {
	f := cmd.Flags()
	f.String("name", "", "Display name")
	if create {
		f.String("user", "", "Owner: a user id or email address")
		f.String("org", "", "Owner: an organization id (an organization-owned key)")
		f.String("prefix", "", "Prefix of the generated key")
	}
	f.String("expires-in", "", "Lifetime from now, such as 30d or 12h; never for no expiry")
	f.String("permissions", "", "Permissions as resource:action pairs, such as files:read,files:write")
	f.Int64("remaining", 0, "Requests left before the key stops working")
	f.Int64("refill-amount", 0, "Requests given back every --refill-interval")
	f.String("refill-interval", "", "Refill period, such as 1d")
	f.String("rate-limit", "", "Rate limit as <max>/<window>, such as 100/1m; off to disable")
	f.Bool("enabled", true, "Enable (true) or disable (false) the key")
	f.String("metadata", "", "Metadata as a JSON object")
}

// apiKeyBody builds the admin API body from the flags given on the command line; flags not
// given are left out (on update: unchanged).
func apiKeyBody(cmd *cobra.Command) (map[string]any, error) {
	fl := cmd.Flags()
	body := map[string]any{}
	set := func(flag string) bool { return fl.Lookup(flag) != nil && fl.Changed(flag) }
	for flag, field := range map[string]string{"user": "user", "org": "organizationId", "name": "name", "prefix": "prefix",
		"expires-in": "expiresIn", "refill-interval": "refillInterval"} {
		if set(flag) {
			v, _ := fl.GetString(flag)
			if v == "" {
				return nil, fmt.Errorf("--%s: empty value", flag)
			}
			body[field] = v
		}
	}
	for flag, field := range map[string]string{"remaining": "remaining", "refill-amount": "refillAmount"} {
		if set(flag) {
			v, _ := fl.GetInt64(flag)
			if v < 0 {
				return nil, fmt.Errorf("--%s: %d is negative", flag, v)
			}
			body[field] = v
		}
	}
	if set("enabled") {
		v, _ := fl.GetBool("enabled")
		body["enabled"] = v
	}
	if set("permissions") {
		v, _ := fl.GetString("permissions")
		perms, err := parsePermissions(v)
		if err != nil {
			return nil, fmt.Errorf("--permissions: %w", err)
		}
		body["permissions"] = perms
	}
	if set("rate-limit") {
		v, _ := fl.GetString("rate-limit")
		if err := parseRateLimit(v, body); err != nil {
			return nil, fmt.Errorf("--rate-limit: %w", err)
		}
	}
	if set("metadata") {
		v, _ := fl.GetString("metadata")
		var md map[string]any
		dec := json.NewDecoder(strings.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(&md); err != nil || md == nil || dec.More() {
			return nil, fmt.Errorf("--metadata: %q is not a JSON object", v)
		}
		body["metadata"] = md
	}
	return body, nil
}

// parsePermissions reads "files:read,files:write,reports:export" into {"files": ["read",
// "write"], "reports": ["export"]}, in the order given and without duplicates. An empty
// string is no permissions at all (on update: remove them).
func parsePermissions(s string) (map[string][]string, error) {
	perms := map[string][]string{}
	for _, pair := range strings.Split(s, ",") {
		pair = strings.TrimSpace(pair)
		if pair == "" {
			continue
		}
		res, act, ok := strings.Cut(pair, ":")
		res, act = strings.TrimSpace(res), strings.TrimSpace(act)
		if !ok || res == "" || act == "" {
			return nil, fmt.Errorf("%q is not <resource>:<action>", pair)
		}
		if !slices.Contains(perms[res], act) {
			perms[res] = append(perms[res], act)
		}
	}
	return perms, nil
}

// parseRateLimit reads "<max>/<window>" (such as 100/1m) or "off" into body.
func parseRateLimit(s string, body map[string]any) error {
	if s == "off" {
		body["rateLimitEnabled"] = false
		return nil
	}
	maxS, window, ok := strings.Cut(s, "/")
	n, err := strconv.ParseInt(maxS, 10, 64)
	if !ok || err != nil || n < 0 {
		return fmt.Errorf("%q is not <max>/<window> (such as 100/1m) or off", s)
	}
	if d, err := caddy.ParseDuration(window); err != nil || d <= 0 {
		return fmt.Errorf("%q: the window %q is not a positive duration", s, window)
	}
	body["rateLimitEnabled"] = true
	body["rateLimitMax"] = n
	body["rateLimitTimeWindow"] = window
	return nil
}

// apiKeyHeader is the column header of API key tables.
var apiKeyHeader = []string{"ID", "NAME", "START", "OWNER", "ENABLED", "REMAINING", "EXPIRES", "PERMISSIONS"}

// apiKeyRow renders an API key's JSON (as the plugin publishes it) under apiKeyHeader.
func apiKeyRow(k map[string]any) []string {
	str := func(f string) string {
		switch v := k[f].(type) {
		case string:
			return v
		case nil:
			return ""
		default:
			return fmt.Sprint(v)
		}
	}
	owner := str("userId")
	if owner == "" {
		if org := str("organizationId"); org != "" {
			owner = "org " + org
		} else {
			owner = str("referenceId")
		}
	}
	remaining := "unlimited"
	if k["remaining"] != nil {
		remaining = str("remaining")
	}
	expires := "never"
	if e := str("expiresAt"); e != "" {
		expires = shortTime(e)
	}
	return []string{cell(str("id")), cell(str("name")), cell(str("start")), cell(owner), cell(str("enabled")),
		cell(remaining), expires, cell(formatPermissions(k["permissions"]))}
}

// formatPermissions renders a key's permissions (an object, or the JSON string the store
// holds) as resource:action pairs, sorted.
func formatPermissions(v any) string {
	if s, ok := v.(string); ok {
		var m map[string]any
		if json.Unmarshal([]byte(s), &m) != nil {
			return s
		}
		v = m
	}
	m, ok := v.(map[string]any)
	if !ok {
		return ""
	}
	var pairs []string
	for res, acts := range m {
		list, _ := acts.([]any)
		for _, a := range list {
			pairs = append(pairs, fmt.Sprintf("%s:%v", res, a))
		}
	}
	slices.Sort(pairs)
	return strings.Join(pairs, ",")
}

// apiKeyCommand builds `gatehouse apikey` and its subcommands.
func apiKeyCommand(cmd *cobra.Command) {
	adminFlags(cmd)

	create := &cobra.Command{
		Use:   "create (--user <user> | --org <id>) [key options]",
		Short: "Creates an API key and prints it (once)",
		Args:  cobra.NoArgs,
	}
	apiKeyFlags(create, true)
	create.RunE = func(cmd *cobra.Command, args []string) error {
		body, err := apiKeyBody(cmd)
		if err != nil {
			return err
		}
		if body["user"] == nil && body["organizationId"] == nil {
			return errors.New("an owner is required: --user <id|email> or --org <id>")
		}
		return adminRun(func(ctx context.Context, c *adminClient, out *output, _ []string) error {
			return call(ctx, c, out, http.MethodPost, apiKeysPath, nil, body, func(k map[string]any) error {
				if err := out.table(apiKeyHeader, [][]string{apiKeyRow(k)}); err != nil {
					return err
				}
				out.linef("")
				out.linef("API key (shown only now; store it safely):")
				out.linef("%v", k["key"])
				return nil
			})
		})(cmd, args)
	}

	update := &cobra.Command{
		Use:   "update <key-id> [key options]",
		Short: "Changes an API key's options",
		Args:  cobra.ExactArgs(1),
	}
	apiKeyFlags(update, false)
	update.RunE = func(cmd *cobra.Command, args []string) error {
		body, err := apiKeyBody(cmd)
		if err != nil {
			return err
		}
		if len(body) == 0 {
			return errors.New("nothing to update: give at least one key option (see --help)")
		}
		return adminRun(func(ctx context.Context, c *adminClient, out *output, args []string) error {
			return call(ctx, c, out, http.MethodPatch, apiKeysPath+"/"+url.PathEscape(args[0]), nil, body, func(k map[string]any) error {
				return out.table(apiKeyHeader, [][]string{apiKeyRow(k)})
			})
		})(cmd, args)
	}

	list := &cobra.Command{
		Use:   "list [--user <user>]",
		Short: "Lists API keys (a user's, or all)",
		Args:  cobra.NoArgs,
	}
	list.Flags().String("user", "", "Only this user's keys (id or email)")
	list.RunE = func(cmd *cobra.Command, args []string) error {
		var q url.Values
		if user, _ := cmd.Flags().GetString("user"); user != "" {
			q = url.Values{"user": {user}}
		}
		return adminRun(func(ctx context.Context, c *adminClient, out *output, _ []string) error {
			return call(ctx, c, out, http.MethodGet, apiKeysPath, q, nil, func(res struct {
				APIKeys []map[string]any `json:"apiKeys"`
			}) error {
				if len(res.APIKeys) == 0 {
					out.linef("No API keys.")
					return nil
				}
				rows := make([][]string, 0, len(res.APIKeys))
				for _, k := range res.APIKeys {
					rows = append(rows, apiKeyRow(k))
				}
				return out.table(apiKeyHeader, rows)
			})
		})(cmd, args)
	}

	revoke := &cobra.Command{
		Use:   "revoke <key-id>",
		Short: "Revokes (deletes) an API key",
		Args:  cobra.ExactArgs(1),
		RunE: adminRun(func(ctx context.Context, c *adminClient, out *output, args []string) error {
			return call(ctx, c, out, http.MethodDelete, apiKeysPath+"/"+url.PathEscape(args[0]), nil, nil, func(res struct {
				ID string `json:"id"`
			}) error {
				out.linef("Revoked API key %s.", res.ID)
				return nil
			})
		}),
	}

	parent(cmd, create, update, list, revoke)
}

// --- secret ---

// secretCommand builds `gatehouse secret generate`.
func secretCommand(cmd *cobra.Command) {
	generate := &cobra.Command{
		Use:   "generate",
		Short: "Prints a new random secret",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := caddymodule.GenerateSecret()
			if err != nil {
				return fmt.Errorf("generating a secret: %w", err)
			}
			_, err = fmt.Fprintln(cmd.OutOrStdout(), s)
			return err
		},
	}
	reencrypt := &cobra.Command{
		Use:   "reencrypt",
		Short: "Re-encrypts stored data made with a previous secret under the current one",
		Args:  cobra.NoArgs,
	}
	adminFlags(reencrypt)
	reencrypt.RunE = func(cmd *cobra.Command, _ []string) error {
		c, err := newAdminClient(cmd)
		if err != nil {
			return err
		}
		asJSON, _ := cmd.Flags().GetBool("json")
		// A whole store is read: far longer than one admin call may take.
		c.http.Timeout = reencryptTimeout
		ctx, cancel := context.WithTimeout(cmd.Context(), reencryptTimeout)
		defer cancel()
		out := &output{w: cmd.OutOrStdout(), json: asJSON}
		return call(ctx, c, out, http.MethodPost, caddymodule.AdminPrefix+"secret/reencrypt", nil, nil, func(rep authcore.ReencryptReport) error {
			records := 0
			var rows [][]string
			for _, m := range rep.Models {
				records += m.Updated
				if m.Resealed+m.Undecryptable+m.Changed > 0 {
					rows = append(rows, []string{m.Model, strconv.Itoa(m.Scanned), strconv.Itoa(m.Resealed), strconv.Itoa(m.Undecryptable), strconv.Itoa(m.Changed)})
				}
			}
			out.linef("Re-encrypted %d values in %d records with the current secret.", rep.Resealed, records)
			if len(rows) > 0 {
				if err := out.table([]string{"MODEL", "RECORDS", "RE-ENCRYPTED", "UNDECRYPTABLE", "CHANGED MEANWHILE"}, rows); err != nil {
					return err
				}
			}
			if rep.Undecryptable > 0 {
				return fmt.Errorf("%d values name a previous secret but do not decrypt with it (corrupt, or made with a different secret of the same id): they were left as they are", rep.Undecryptable)
			}
			return nil
		})
	}
	parent(cmd, generate, reencrypt)
}

// reencryptTimeout bounds `gatehouse secret reencrypt`, which reads every record.
const reencryptTimeout = time.Hour

// --- version / modules ---

// gatehouseModule is one Caddy module that belongs to Gatehouse.
type gatehouseModule struct {
	ID      string `json:"id"`
	Package string `json:"package"`
}

// isGatehouseModule: the app, its namespaces (storage, plugins — third-party plugins
// included), modules named gatehouse in Caddy's namespaces (http.handlers.gatehouse,
// admin.api.gatehouse, ...), and anything else our Go module registers.
func isGatehouseModule(id, pkg string) bool {
	return id == "gatehouse" || strings.HasPrefix(id, "gatehouse.") || strings.HasSuffix(id, ".gatehouse") ||
		pkg == goModule || strings.HasPrefix(pkg, goModule+"/")
}

// gatehouseModules lists the Gatehouse modules registered in this binary, sorted by ID.
func gatehouseModules() []gatehouseModule {
	var out []gatehouseModule
	for _, id := range caddy.Modules() {
		info, err := caddy.GetModule(id)
		if err != nil {
			continue
		}
		// The package of the module's value, found as caddy list-modules does.
		v := any(info.New())
		t := reflect.TypeOf(v)
		if t.Kind() == reflect.Pointer {
			t = t.Elem()
		}
		if isGatehouseModule(id, t.PkgPath()) {
			out = append(out, gatehouseModule{ID: id, Package: t.PkgPath()})
		}
	}
	slices.SortFunc(out, func(a, b gatehouseModule) int { return strings.Compare(a.ID, b.ID) })
	return out
}

// gatehouseVersion is the version of Gatehouse's Go module in this binary: the main module
// of a gatehouse build, or a dependency of an xcaddy build.
func gatehouseVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if bi.Main.Path == goModule {
		v := bi.Main.Version
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && (v == "" || v == "(devel)") {
				v = "(devel) " + s.Value
			}
		}
		return v
	}
	for _, d := range bi.Deps {
		if d.Path == goModule {
			if d.Replace != nil {
				return d.Version + " => " + d.Replace.Path + " " + d.Replace.Version
			}
			return d.Version
		}
	}
	return "unknown"
}

// runModules prints Caddy's version, Gatehouse's, and the Gatehouse modules.
func runModules(cmd *cobra.Command, _ []string) error {
	_, full := caddy.Version()
	mods := gatehouseModules()
	if asJSON, _ := cmd.Flags().GetBool("json"); asJSON {
		b, err := json.MarshalIndent(map[string]any{"caddy": full, "gatehouse": gatehouseVersion(), "modules": mods}, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(cmd.OutOrStdout(), "%s\n", b)
		return err
	}
	out := &output{w: cmd.OutOrStdout()}
	// First line exactly as `caddy version` prints it, for scripts that read it.
	out.linef("%s", full)
	out.linef("gatehouse %s", gatehouseVersion())
	out.linef("")
	out.linef("Gatehouse modules:")
	for _, m := range mods {
		out.linef("  %s", m.ID)
	}
	return nil
}
