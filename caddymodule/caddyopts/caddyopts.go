// Package caddyopts parses the flat option blocks every Gatehouse Caddyfile section uses —
// the global gatehouse block, its sub-blocks and each plugin's block — so that they all
// read the same way: several options may share a line (`expires_in 5m  allowed_attempts 3`),
// an unknown option is an error listing the valid ones, and an option given twice is an
// error unless it is a list.
package caddyopts

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/caddyserver/caddy/v2"
	"github.com/caddyserver/caddy/v2/caddyconfig/caddyfile"
)

// Opt is one option: how many arguments it takes (-1: the rest of the line, at least one),
// what to do with them, and whether it may be given more than once (lists and rules
// accumulate; a second value for anything else is a mistake, not an override).
type Opt struct {
	Arity  int
	Set    func(args []string) error
	Repeat bool
}

// Parse reads the block that follows the dispenser's current token. After a key has taken
// its arguments, the next token on the line is another key. what names the block in errors.
func Parse(d *caddyfile.Dispenser, what string, opts map[string]Opt) error {
	seen := map[string]bool{}
	for nesting := d.Nesting(); d.NextBlock(nesting); {
		toks := append([]string{d.Val()}, d.RemainingArgs()...)
		for len(toks) > 0 {
			key := toks[0]
			o, ok := opts[key]
			if !ok {
				return d.Errf("%s: unknown option %q (valid: %s)", what, key, Names(opts))
			}
			if seen[key] && !o.Repeat {
				return d.Errf("%s: %s given twice", what, key)
			}
			seen[key] = true
			n := o.Arity
			if n < 0 {
				n = len(toks) - 1
			}
			if len(toks)-1 < n || (o.Arity < 0 && n == 0) {
				return d.Errf("%s %s: expected %d argument(s)", what, key, max(n, 1))
			}
			if err := o.Set(toks[1 : 1+n]); err != nil {
				return d.Errf("%s %s: %v", what, key, err)
			}
			toks = toks[1+n:]
		}
	}
	return nil
}

// Names lists the valid option names, sorted, for error messages.
func Names(opts map[string]Opt) string {
	names := make([]string, 0, len(opts))
	for k := range opts {
		names = append(names, k)
	}
	slices.Sort(names)
	return strings.Join(names, ", ")
}

// Flag sets *p when the option is present.
func Flag(p *bool) Opt { return Opt{Arity: 0, Set: func([]string) error { *p = true; return nil }} }

// String takes one argument.
func String(p *string) Opt {
	return Opt{Arity: 1, Set: func(a []string) error { *p = a[0]; return nil }}
}

// Strings takes the rest of the line and may be repeated; the values accumulate.
func Strings(p *[]string) Opt {
	return Opt{Arity: -1, Repeat: true, Set: func(a []string) error { *p = append(*p, a...); return nil }}
}

// Int takes one non-negative integer.
func Int(p *int) Opt {
	return Opt{Arity: 1, Set: func(a []string) error {
		n, err := strconv.Atoi(a[0])
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a non-negative integer", a[0])
		}
		*p = n
		return nil
	}}
}

// Duration takes one duration in Caddy's syntax ("90s", "5m", "7d"). Pass a caddy.Duration
// or authcore.Duration as (*time.Duration)(&field).
func Duration(p *time.Duration) Opt {
	return Opt{Arity: 1, Set: func(a []string) error {
		v, err := caddy.ParseDuration(a[0])
		if err != nil {
			return err
		}
		*p = v
		return nil
	}}
}

// OneOf takes one argument from a fixed set.
func OneOf(p *string, values ...string) Opt {
	return Opt{Arity: 1, Set: func(a []string) error {
		if !slices.Contains(values, a[0]) {
			return fmt.Errorf("%q is not one of %s", a[0], strings.Join(values, ", "))
		}
		*p = a[0]
		return nil
	}}
}

// Block takes no arguments and parses a nested block of its own options.
func Block(d *caddyfile.Dispenser, name string, opts map[string]Opt) Opt {
	return Opt{Arity: 0, Set: func([]string) error { return Parse(d, name, opts) }}
}
