package apikey

import "github.com/gatehouse-auth/gatehouse/authcore"

// Better Auth's API_KEY_ERROR_CODES (packages/api-key/src/error-codes.ts), exact codes and
// messages.
var (
	ErrInvalidMetadataType               = authcore.ErrorCode{Code: "INVALID_METADATA_TYPE", Message: "metadata must be an object or undefined"}
	ErrRefillAmountAndIntervalRequired   = authcore.ErrorCode{Code: "REFILL_AMOUNT_AND_INTERVAL_REQUIRED", Message: "refillAmount is required when refillInterval is provided"}
	ErrRefillIntervalAndAmountRequired   = authcore.ErrorCode{Code: "REFILL_INTERVAL_AND_AMOUNT_REQUIRED", Message: "refillInterval is required when refillAmount is provided"}
	ErrUserBanned                        = authcore.ErrorCode{Code: "USER_BANNED", Message: "User is banned"}
	ErrUnauthorizedSession               = authcore.ErrorCode{Code: "UNAUTHORIZED_SESSION", Message: "Unauthorized or invalid session"}
	ErrKeyNotFound                       = authcore.ErrorCode{Code: "KEY_NOT_FOUND", Message: "API Key not found"}
	ErrKeyDisabled                       = authcore.ErrorCode{Code: "KEY_DISABLED", Message: "API Key is disabled"}
	ErrKeyExpired                        = authcore.ErrorCode{Code: "KEY_EXPIRED", Message: "API Key has expired"}
	ErrUsageExceeded                     = authcore.ErrorCode{Code: "USAGE_EXCEEDED", Message: "API Key has reached its usage limit"}
	ErrKeyNotRecoverable                 = authcore.ErrorCode{Code: "KEY_NOT_RECOVERABLE", Message: "API Key is not recoverable"}
	ErrExpiresInTooSmall                 = authcore.ErrorCode{Code: "EXPIRES_IN_IS_TOO_SMALL", Message: "The expiresIn is smaller than the predefined minimum value."}
	ErrExpiresInTooLarge                 = authcore.ErrorCode{Code: "EXPIRES_IN_IS_TOO_LARGE", Message: "The expiresIn is larger than the predefined maximum value."}
	ErrInvalidRemaining                  = authcore.ErrorCode{Code: "INVALID_REMAINING", Message: "The remaining count is either too large or too small."}
	ErrInvalidPrefixLength               = authcore.ErrorCode{Code: "INVALID_PREFIX_LENGTH", Message: "The prefix length is either too large or too small."}
	ErrInvalidNameLength                 = authcore.ErrorCode{Code: "INVALID_NAME_LENGTH", Message: "The name length is either too large or too small."}
	ErrMetadataDisabled                  = authcore.ErrorCode{Code: "METADATA_DISABLED", Message: "Metadata is disabled."}
	ErrRateLimitExceeded                 = authcore.ErrorCode{Code: "RATE_LIMIT_EXCEEDED", Message: "Rate limit exceeded."}
	ErrNoValuesToUpdate                  = authcore.ErrorCode{Code: "NO_VALUES_TO_UPDATE", Message: "No values to update."}
	ErrKeyDisabledExpiration             = authcore.ErrorCode{Code: "KEY_DISABLED_EXPIRATION", Message: "Custom key expiration values are disabled."}
	ErrInvalidAPIKey                     = authcore.ErrorCode{Code: "INVALID_API_KEY", Message: "Invalid API key."}
	ErrInvalidUserIDFromAPIKey           = authcore.ErrorCode{Code: "INVALID_USER_ID_FROM_API_KEY", Message: "The user id from the API key is invalid."}
	ErrInvalidReferenceIDFromAPIKey      = authcore.ErrorCode{Code: "INVALID_REFERENCE_ID_FROM_API_KEY", Message: "The reference id from the API key is invalid."}
	ErrInvalidAPIKeyGetterReturnType     = authcore.ErrorCode{Code: "INVALID_API_KEY_GETTER_RETURN_TYPE", Message: "API Key getter returned an invalid key type. Expected string."}
	ErrServerOnlyProperty                = authcore.ErrorCode{Code: "SERVER_ONLY_PROPERTY", Message: "The property you're trying to set can only be set from the server auth instance only."}
	ErrFailedToUpdateAPIKey              = authcore.ErrorCode{Code: "FAILED_TO_UPDATE_API_KEY", Message: "Failed to update API key"}
	ErrNameRequired                      = authcore.ErrorCode{Code: "NAME_REQUIRED", Message: "API Key name is required."}
	ErrOrganizationIDRequired            = authcore.ErrorCode{Code: "ORGANIZATION_ID_REQUIRED", Message: "Organization ID is required for organization-owned API keys."}
	ErrUserNotMemberOfOrganization       = authcore.ErrorCode{Code: "USER_NOT_MEMBER_OF_ORGANIZATION", Message: "You are not a member of the organization that owns this API key."}
	ErrInsufficientAPIKeyPermissions     = authcore.ErrorCode{Code: "INSUFFICIENT_API_KEY_PERMISSIONS", Message: "You do not have permission to perform this action on organization API keys."}
	ErrNoDefaultAPIKeyConfigurationFound = authcore.ErrorCode{Code: "NO_DEFAULT_API_KEY_CONFIGURATION_FOUND", Message: "No default api-key configuration found."}
	ErrOrganizationPluginRequired        = authcore.ErrorCode{Code: "ORGANIZATION_PLUGIN_REQUIRED", Message: "Organization plugin is required for organization-owned API keys. Please install and configure the organization plugin."}
)

// errorCodes is the vocabulary declared with Registrar.Errors.
var errorCodes = []authcore.ErrorCode{
	ErrInvalidMetadataType, ErrRefillAmountAndIntervalRequired, ErrRefillIntervalAndAmountRequired,
	ErrUserBanned, ErrUnauthorizedSession, ErrKeyNotFound, ErrKeyDisabled, ErrKeyExpired,
	ErrUsageExceeded, ErrKeyNotRecoverable, ErrExpiresInTooSmall, ErrExpiresInTooLarge,
	ErrInvalidRemaining, ErrInvalidPrefixLength, ErrInvalidNameLength, ErrMetadataDisabled,
	ErrRateLimitExceeded, ErrNoValuesToUpdate, ErrKeyDisabledExpiration, ErrInvalidAPIKey,
	ErrInvalidUserIDFromAPIKey, ErrInvalidReferenceIDFromAPIKey, ErrInvalidAPIKeyGetterReturnType,
	ErrServerOnlyProperty, ErrFailedToUpdateAPIKey, ErrNameRequired, ErrOrganizationIDRequired,
	ErrUserNotMemberOfOrganization, ErrInsufficientAPIKeyPermissions,
	ErrNoDefaultAPIKeyConfigurationFound, ErrOrganizationPluginRequired,
}
