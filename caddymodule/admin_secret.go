package caddymodule

import (
	"net/http"
	"strconv"

	"github.com/gatehouse-auth/gatehouse/authcore"
)

// reencrypt answers POST /gatehouse/secret/reencrypt (`gatehouse secret reencrypt`): every
// stored ciphertext made with a secret now in previous_secrets is re-encrypted with the
// current one (authcore.Engine.Reencrypt), after which that previous secret can be dropped
// from the configuration without losing two-factor secrets, OAuth tokens, JWT keys or SSO
// client secrets. It runs while the server serves, and may be run again: a second run finds
// nothing to do. The answer counts per model what was read, rewritten and could not be
// opened; with several nodes, run it once, after every node has the new secret.
func (q *adminRequest) reencrypt() error {
	rep, err := q.e.Reencrypt(q.ctx())
	if err != nil {
		return engineError("re-encrypting", err)
	}
	q.audit(authcore.AuditAdminSecretReencrypt, "", "resealed", strconv.Itoa(rep.Resealed),
		"undecryptable", strconv.Itoa(rep.Undecryptable))
	return q.reply(http.StatusOK, rep)
}
