package authcore

import (
	"errors"
	"fmt"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// uniqueConflict is the answer a plugin declared for a duplicate on one unique field.
type uniqueConflict struct {
	model, field string
	err          *Error
	owner        string
}

// UniqueConflict declares how a core write is answered when it breaks the uniqueness of a
// field the plugin added to a core model: with err instead of the core's generic answer.
// Without it, a duplicate on a plugin field would look like a taken email on
// /sign-up/email (USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL, or with verification required a
// synthetic success and an "account exists" notice to an address that has no account) and
// like FAILED_TO_UPDATE_USER on /update-user. Plugins check availability in a before hook;
// this covers the race between that check and the write, which only the store's unique
// constraint decides. model.field must be a unique field; one declaration per field.
func (r *Registrar) UniqueConflict(model, field string, err *Error) error {
	m, ok := r.reg.schema.Model(model)
	if !ok {
		return fmt.Errorf("plugin %q: unique conflict on %s.%s: unknown model", r.owner, model, field)
	}
	if f, ok := m.Field(field); !ok || !f.Unique {
		return fmt.Errorf("plugin %q: unique conflict on %s.%s: not a unique field", r.owner, model, field)
	}
	if err == nil || err.Status < 400 || err.Status >= 500 {
		return fmt.Errorf("plugin %q: unique conflict on %s.%s: needs a 4xx error", r.owner, model, field)
	}
	for _, c := range r.reg.conflicts {
		if c.model == model && c.field == field {
			return fmt.Errorf("plugin %q: unique conflict on %s.%s is already declared by %q", r.owner, model, field, c.owner)
		}
	}
	r.reg.conflicts = append(r.reg.conflicts, uniqueConflict{model: model, field: field, err: err, owner: r.owner})
	return nil
}

// UniqueConflictError returns the error declared with [Registrar.UniqueConflict] when err is
// a storage duplicate on that single field, and nil otherwise (including duplicates on core
// fields such as the email, which keep their core answers).
func (e *Engine) UniqueConflictError(err error) *Error {
	var ce *storage.ConstraintError
	if !errors.As(err, &ce) || !errors.Is(ce.Err, storage.ErrDuplicate) || len(ce.Fields) != 1 {
		return nil
	}
	for _, c := range e.reg.conflicts {
		if c.model == ce.Model && c.field == ce.Fields[0] {
			out := *c.err
			out.Err = err
			return &out
		}
	}
	return nil
}
