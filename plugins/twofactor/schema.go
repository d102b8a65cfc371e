package twofactor

import (
	"context"
	"errors"

	"github.com/gatehouse-auth/gatehouse/authcore"
	"github.com/gatehouse-auth/gatehouse/storage"
)

// Model and field names (Better Auth's, plugins/two-factor/schema.ts, except lastTotpStep,
// which is Gatehouse's replay guard).
const (
	ModelTwoFactor = "twoFactor"

	FieldTwoFactorEnabled = "twoFactorEnabled" // on the user model
	FieldSecret           = "secret"
	FieldBackupCodes      = "backupCodes"
	FieldUserID           = "userId"
	FieldVerified         = "verified"
	// FieldLastTOTPStep is the RFC 6238 time step of the last TOTP code accepted for the
	// user (unix time / period). A code is accepted only for a later step, so a code works
	// once, and once a step is used the steps before it are dead too (spec §11, TOTP-02).
	FieldLastTOTPStep = "lastTotpStep"
)

// Fields of other plugins this one reads by name (it does not import them): the
// phone-number plugin's, for otp_channel sms.
const (
	fieldPhoneNumber         = "phoneNumber"
	fieldPhoneNumberVerified = "phoneNumberVerified"
)

// twoFactorModel is the twoFactor table. Better Auth's failedVerificationCount and
// lockedUntil are not kept on it: the account lockout lives in a verification row so that it
// also covers accounts that use only emailed or texted codes and have no twoFactor row.
func twoFactorModel() storage.Model {
	return storage.Model{
		Name: ModelTwoFactor,
		Fields: []storage.Field{
			// Encrypted with the engine's keyring (spec §4.3): never stored in clear.
			{Name: FieldSecret, Type: storage.TypeString, Required: true, Hidden: true},
			// A JSON array of codes, encrypted by default (store_backup_codes).
			{Name: FieldBackupCodes, Type: storage.TypeString, Required: true, Hidden: true},
			// One row per user: unique, so two concurrent enables cannot create two.
			{Name: FieldUserID, Type: storage.TypeString, Required: true, Hidden: true, Unique: true,
				References: &storage.Reference{Model: authcore.ModelUser, OnDelete: storage.Cascade}},
			// Better Auth defaults it to true so that rows from before the field count as
			// verified; a new enrolment writes false until its first code is verified.
			{Name: FieldVerified, Type: storage.TypeBoolean, Default: true, ServerOnly: true},
			{Name: FieldLastTOTPStep, Type: storage.TypeNumber, Hidden: true, ServerOnly: true},
		},
	}
}

func registerSchema(r *authcore.Registrar) error {
	if err := r.Extend(authcore.ModelUser, storage.Field{
		Name: FieldTwoFactorEnabled, Type: storage.TypeBoolean, Default: false, ServerOnly: true,
	}); err != nil {
		return err
	}
	if err := r.Model(twoFactorModel()); err != nil {
		return err
	}
	// A twoFactor row stands in for a factor: a proven owner claiming an unverified account
	// removes it (authcore.ClaimEmail), and every write to it drops the user's cached sessions.
	r.Credential(ModelTwoFactor, FieldUserID, FieldTwoFactorEnabled)
	r.UserScoped(ModelTwoFactor, FieldUserID)
	return nil
}

// row returns the user's twoFactor row, or nil.
func (p *Plugin) row(ctx context.Context, userID string) (storage.Record, error) {
	rec, err := p.engine.Store().FindOne(ctx, ModelTwoFactor, storage.Eq(FieldUserID, userID))
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, authcore.Internal(err)
	}
	return rec, nil
}

// verified reports whether a row's TOTP secret was confirmed with a code. A row without
// the field (imported from before Better Auth added it) counts as verified, as there.
func verified(rec storage.Record) bool {
	v, ok := rec[FieldVerified].(bool)
	return !ok || v
}

// twoFactorEnabled reports the user flag.
func twoFactorEnabled(user storage.Record) bool { return user.Bool(FieldTwoFactorEnabled) }
