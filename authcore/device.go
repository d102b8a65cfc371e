package authcore

import (
	"strings"
	"sync"

	useragent "github.com/medama-io/go-useragent"
	"github.com/medama-io/go-useragent/agents"
)

// maxUserAgentParse bounds the work of DeviceName: longer user agents are cut to this many
// bytes before parsing (every real browser agent is far shorter).
const maxUserAgentParse = 512

// uaParser is the user-agent parser. A package-level value is acceptable here: the parser
// is a trie built once from the library's embedded data and never written afterwards
// (Parse only reads it, so it is safe for concurrent use), and the library itself keeps
// the same single instance (useragent.NewParser returns a process-wide singleton). It is
// built on first use so that engines that never name a device do not pay for it.
var uaParser = sync.OnceValue(useragent.NewParser)

// osNames are the display names of the parser's operating systems.
var osNames = map[agents.OS]string{
	agents.OSAndroid: "Android", agents.OSChromeOS: "ChromeOS", agents.OSIOS: "iOS",
	agents.OSLinux: "Linux", agents.OSFreeBSD: "FreeBSD", agents.OSOpenBSD: "OpenBSD",
	agents.OSMacOS: "macOS", agents.OSWindows: "Windows",
}

// clientNames name the non-browser HTTP clients the parser does not know, by their product
// token (the part of the agent before the first "/", space or "(", lower-cased).
var clientNames = map[string]string{
	"curl": "curl", "wget": "Wget",
	"node": "Node.js", "undici": "Node.js", "node-fetch": "Node.js", "axios": "Node.js",
	"bun": "Bun", "deno": "Deno",
	"python-requests": "Python", "python-urllib": "Python", "python-httpx": "Python", "aiohttp": "Python",
	"go-http-client": "Go", "okhttp": "OkHttp", "postmanruntime": "Postman",
}

// DeviceName turns a User-Agent into a readable device name: "Firefox on macOS",
// "Chrome on Android", "Safari on iOS", "Edge on Windows", "curl", "Node.js", or
// "Unknown device". Browsers and operating systems come from a maintained parser
// (github.com/medama-io/go-useragent); common non-browser clients are recognised by their
// product token. The result is always drawn from a fixed vocabulary — never from the agent's
// own text — so it is safe to show in listings and emails. Agents longer than 512 bytes
// are truncated before parsing.
func DeviceName(userAgent string) string {
	if len(userAgent) > maxUserAgentParse {
		userAgent = userAgent[:maxUserAgentParse]
	}
	ua := uaParser().Parse(userAgent)
	browser := string(ua.Browser())
	osName := osNames[ua.OS()]
	switch {
	case browser != "" && osName != "":
		return browser + " on " + osName
	case browser != "":
		return browser
	}
	if name, ok := clientNames[productToken(userAgent)]; ok {
		return name
	}
	if osName != "" {
		return "Unknown browser on " + osName
	}
	if ua.IsBot() {
		return "Automated client"
	}
	return "Unknown device"
}

// productToken returns the lower-cased first token of a User-Agent ("curl/8.7.1" → "curl").
func productToken(ua string) string {
	ua = strings.TrimSpace(ua)
	if i := strings.IndexAny(ua, "/ ("); i >= 0 {
		ua = ua[:i]
	}
	return strings.ToLower(ua)
}
