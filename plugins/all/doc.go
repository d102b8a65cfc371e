// Package all links every Gatehouse plugin into a binary: import it for its side effects
// (each plugin registers itself as a Caddy module in the gatehouse.plugins namespace).
//
// Plugins arrive one package each under plugins/; this list grows with them.
package all
