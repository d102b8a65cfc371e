// Package openapi is Better Auth's open-api plugin (spec §7.14): an OpenAPI 3.1 document of
// every enabled endpoint and an interactive reference page.
//
// Routes (relative to the base path):
//
//	GET /open-api/generate-schema   the OpenAPI 3.1.1 document (JSON)
//	GET /reference                  the reference page (option path); absent with
//	                                disable_default_reference
//
// The document is built from the engine's declarations on each request (authcore's
// apischema.go is the one translation from an Endpoint to JSON Schema), so it lists every
// endpoint of every enabled plugin exactly once: tags are the owning plugin's ID ("core" for
// core routes), operationId is the camelCased path (authcore.OperationIDs), summary,
// description, query and path parameters and the request body (JSON, and form-encoded where
// the endpoint accepts forms) come from the declaration, the 200 schema from
// Endpoint.Response (any JSON when undeclared), 302 where the endpoint redirects, and every
// operation documents 400, 401, 403, 404, 422 and 429 with the error envelope {code, message}
// (spec §1.2); the declared error codes are listed in the description and in x-error-codes.
// Components: one schema per storage model (the public JSON: hidden fields left out, dates as
// date-time strings, optional fields nullable) and ErrorEnvelope. Security schemes: the
// session cookie (apiKeyCookie, in cookie "<cookie prefix>.session_token"), bearerAuth
// (http bearer) when the bearer plugin is on, apiKeyHeader (the api-key plugin's header,
// x-api-key by default) when the api-key plugin is on. servers is base_url + base_path.
//
// The reference page, by default, is a small self-contained viewer (embedded HTML, CSS and
// vanilla JS, no CDN: it works offline) that fetches the document and shows the endpoints
// grouped by tag with their parameters, bodies, responses and error codes, then the models.
// Its Content-Security-Policy allows only its own script and style (by hash) and fetches to
// this origin. With reference_script_url set, the page loads that script instead (for
// example Scalar: https://cdn.jsdelivr.net/npm/@scalar/api-reference) pointing it at the
// document, with a CSP allowing exactly that script's origin.
//
// Options (Caddyfile, inside the global gatehouse block's plugins):
//
//	open_api [{
//	    path <path>                        # reference page; default /reference
//	    reference_script_url <https URL>   # default: none (embedded viewer)
//	    disable_default_reference          # no reference page
//	}]
//
// No hooks, schema fields, error codes or rate limits of its own. The `gatehouse openapi
// --config <file>` command prints the same document without starting a server.
package openapi
