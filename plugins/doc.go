// Package plugins is the home of Gatehouse's plugins, one package each (plugins/<name>),
// mirroring Better Auth's plugin set. A plugin implements authcore.Plugin and is also a Caddy
// module in the gatehouse.plugins namespace, so it is enabled by name in the global
// gatehouse block and a third-party plugin is built in like any Caddy module. plugins/all
// imports every plugin for the gatehouse binary.
package plugins
