package authcore

import (
	"crypto/hmac"
	"encoding/base64"
	"encoding/json"
	"time"
)

// The session_data cookie cache (spec §2.4, "compact" strategy, D6): off by default, and it
// serves only /get-session — the gateway path and sensitive endpoints always go to storage
// or the in-process cache, so a stale cookie can never grant access after a revoke.
//
// Gatehouse validates only its own cookies, so the payload encoding is its own canonical
// JSON; the MAC covers the payload and the expiry.

type cachePayload struct {
	Session   map[string]any `json:"session"`
	User      map[string]any `json:"user"`
	TokenHash string         `json:"tokenHash"`
	UpdatedAt int64          `json:"updatedAt"`
	Version   string         `json:"version"`
}

type cacheCookie struct {
	Session   json.RawMessage `json:"session"`
	ExpiresAt int64           `json:"expiresAt"`
	Signature string          `json:"signature"`
}

// setSessionData sets the cache cookie for s, unless it would exceed a browser's 4 KB limit
// (then there is simply no cache).
func (c *Call) setSessionData(s *Session) {
	e := c.engine
	now := e.clock.Now()
	sess := e.Public(ModelSession, s.Session)
	delete(sess, "token")
	p, err := json.Marshal(cachePayload{Session: sess, User: e.Public(ModelUser, s.User),
		TokenHash: HashToken(s.Token), UpdatedAt: now.UnixMilli(), Version: "1"})
	if err != nil {
		return
	}
	exp := now.Add(e.cfg.Session.CookieCache).UnixMilli()
	v, err := json.Marshal(cacheCookie{Session: p, ExpiresAt: exp, Signature: e.cacheMAC(p, exp)})
	if err != nil {
		return
	}
	val := base64.RawURLEncoding.EncodeToString(v)
	if len(val) > 3900 {
		c.ExpireCookie(CookieSessionData)
		return
	}
	c.SetCookie(CookieSessionData, val, e.cfg.Session.CookieCache)
}

func (e *Engine) cacheMAC(payload []byte, exp int64) string {
	b := make([]byte, 0, len(payload)+8)
	b = append(b, payload...)
	b = time.UnixMilli(exp).UTC().AppendFormat(b, time.RFC3339Nano)
	return base64.RawURLEncoding.EncodeToString(e.keys.MAC("session-data", b))
}

// sessionFromData answers /get-session from a valid cache cookie that belongs to the
// presented session token, or returns nil (and the caller reads storage).
func (c *Call) sessionFromData() map[string]any {
	e := c.engine
	raw, ok := c.Cookie(CookieSessionData)
	if !ok {
		return nil
	}
	signed, n := readCookie(c.Request.Header, e.cookies.Name(CookieSessionToken))
	token, valid := e.keys.Verify(signed)
	if n == 0 || !valid {
		return nil
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return nil
	}
	var cc cacheCookie
	if json.Unmarshal(b, &cc) != nil {
		return nil
	}
	want := e.cacheMAC(cc.Session, cc.ExpiresAt)
	if !hmac.Equal([]byte(want), []byte(cc.Signature)) || e.clock.Now().UnixMilli() >= cc.ExpiresAt {
		c.ExpireCookie(CookieSessionData)
		return nil
	}
	var p cachePayload
	if json.Unmarshal(cc.Session, &p) != nil || p.Version != "1" || p.TokenHash != HashToken(token) {
		c.ExpireCookie(CookieSessionData)
		return nil
	}
	p.Session["token"] = token
	return map[string]any{"session": p.Session, "user": p.User}
}
