package multisession

import "github.com/gatehouse-auth/gatehouse/authcore"

// CodeInvalidSessionToken is Better Auth's MULTI_SESSION_ERROR_CODES.INVALID_SESSION_TOKEN
// (spec §7.7): /multi-session/set-active or /multi-session/revoke named a token the caller
// holds no valid multi-session cookie for, or whose session is gone (401).
var CodeInvalidSessionToken = authcore.ErrorCode{Code: "INVALID_SESSION_TOKEN", Message: "Invalid session token"}

// errorCodes is the plugin's whole vocabulary, declared with Registrar.Errors.
var errorCodes = []authcore.ErrorCode{CodeInvalidSessionToken}
