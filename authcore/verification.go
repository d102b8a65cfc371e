package authcore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// CreateVerification stores a verification row (spec §4.8) that expires after ttl. Callers
// put a hash, never a secret, in identifier when the identifier embeds a token.
func (e *Engine) CreateVerification(ctx context.Context, identifier, value string, ttl time.Duration) error {
	id, err := e.NewID()
	if err != nil {
		return err
	}
	now := e.clock.Now()
	_, err = e.store.Create(ctx, ModelVerification, storage.Record{
		"id": id, "identifier": identifier, "value": value,
		"expiresAt": now.Add(ttl), "createdAt": now, "updatedAt": now,
	})
	if err != nil {
		return CodeFailedToCreateVerification.With(500).Wrap(err)
	}
	return nil
}

// ConsumeVerification atomically takes the live row with that identifier: among concurrent
// callers exactly one gets it (single-use tokens are never read-then-deleted). nil when
// there is none or it expired.
func (e *Engine) ConsumeVerification(ctx context.Context, identifier string) (storage.Record, error) {
	rec, err := e.store.ConsumeOne(ctx, ModelVerification, storage.And(
		storage.Eq("identifier", identifier), storage.Gt("expiresAt", e.clock.Now())))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, Internal(err)
	}
	return rec, nil
}

// FindVerification returns the live row with that identifier without consuming it, or nil.
func (e *Engine) FindVerification(ctx context.Context, identifier string) (storage.Record, error) {
	return e.findOptional(ctx, ModelVerification, storage.And(
		storage.Eq("identifier", identifier), storage.Gt("expiresAt", e.clock.Now())))
}

// emailClaims are the claims of an email-verification token (spec §4.8): a stateless HS256
// JWT signed with the secret, bound to the user id (as 1.7.25 does) and the address it was
// issued for.
type emailClaims struct {
	Email       string `json:"email"`
	UpdateTo    string `json:"updateTo,omitempty"`
	RequestType string `json:"requestType,omitempty"`
	UserID      string `json:"userId,omitempty"`
	jwt.RegisteredClaims
}

// Request types of change-email tokens.
const (
	changeEmailConfirmation = "change-email-confirmation"
	changeEmailVerification = "change-email-verification"
)

// emailToken signs a verification token valid for email_verification.expires_in.
func (e *Engine) emailToken(email, updateTo, requestType, userID string) (string, error) {
	now := e.clock.Now()
	claims := emailClaims{Email: email, UpdateTo: updateTo, RequestType: requestType, UserID: userID,
		RegisteredClaims: jwt.RegisteredClaims{
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(e.cfg.EmailVerification.ExpiresIn)),
		}}
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(e.cfg.Secret))
	if err != nil {
		return "", Internal(err)
	}
	return tok, nil
}

// errTokenExpired and errTokenInvalid map verification failures to their codes.
var (
	errTokenExpired = errors.New("token expired")
	errTokenInvalid = errors.New("token invalid")
)

// parseEmailToken verifies a verification token with the current or a previous secret. The
// algorithm is pinned to HS256 (no "none", no key confusion) and time comes from the
// injected clock.
func (e *Engine) parseEmailToken(tok string) (*emailClaims, error) {
	var lastErr error = errTokenInvalid
	for _, secret := range e.keys.Secrets() {
		var claims emailClaims
		_, err := jwt.ParseWithClaims(tok, &claims, func(*jwt.Token) (any, error) { return secret, nil },
			jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
			jwt.WithTimeFunc(e.clock.Now), jwt.WithExpirationRequired(), jwt.WithIssuedAt())
		switch {
		case err == nil:
			if claims.Email == "" {
				return nil, errTokenInvalid
			}
			return &claims, nil
		case errors.Is(err, jwt.ErrTokenExpired):
			return nil, errTokenExpired
		case errors.Is(err, jwt.ErrTokenSignatureInvalid):
			continue // try the previous secrets
		default:
			lastErr = fmt.Errorf("%w: %v", errTokenInvalid, err)
		}
	}
	return nil, lastErr
}
