package caddymodule

// The real plugins, so that Caddyfile.example (which enables some) adapts in the golden test.
import _ "github.com/gatehouse-auth/gatehouse/plugins/all"
