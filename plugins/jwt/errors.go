package jwtplugin

// The jwt plugin has no error codes of its own, as in Better Auth: /token without a session
// answers the core 401 UNAUTHORIZED, and the gateway refuses a JWT it does not accept with
// 401 UNAUTHORIZED (authcore.CodeUnauthorized) whatever the reason, so a client learns
// nothing about which check failed.
