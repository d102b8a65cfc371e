package auditlog

import "github.com/gatehouse-auth/gatehouse/authcore"

// The plugin's error vocabulary, declared with Registrar.Errors so that the OpenAPI document
// and the client generator know them.
var (
	// CodeLimitTooLarge answers GET /audit-log/list?limit=n with n above MaxLimit (400).
	CodeLimitTooLarge = authcore.ErrorCode{Code: "AUDIT_LOG_LIMIT_TOO_LARGE", Message: "limit must be at most 100"}
	// CodeInvalidPagination answers a limit below 1, a negative offset, or either not an
	// integer (400).
	CodeInvalidPagination = authcore.ErrorCode{Code: "AUDIT_LOG_INVALID_PAGINATION", Message: "limit must be an integer from 1 to 100 and offset a non-negative integer"}
	// CodeNotAcceptable answers a request under /audit-log/ whose Accept header rules out
	// JSON (406).
	CodeNotAcceptable = authcore.ErrorCode{Code: "AUDIT_LOG_NOT_ACCEPTABLE", Message: "The audit log answers with application/json only"}
)

var errorCodes = []authcore.ErrorCode{CodeLimitTooLarge, CodeInvalidPagination, CodeNotAcceptable}
