package sso

import (
	"bytes"
	"encoding/base64"
	"errors"
	"testing"
)

// FuzzSAMLVerify feeds arbitrary base64 text (and arbitrary XML, base64-encoded here) to
// samlVerify. It never panics; every refusal is a *SAMLError with a code; and the only
// thing ever accepted carries an XML signature and names exactly the identity of the one
// genuine response the test IdP minted, so no unsigned or altered assertion gets through.
func FuzzSAMLVerify(f *testing.F) {
	ti, sp, cfg := samlHostileSetup(f)
	raw, reqID := samlTestMint(f, ti, sp, nil)
	good, err := samlVerify(sp, cfg, samlB64(raw), []string{reqID})
	if err != nil {
		f.Fatalf("genuine response refused: %v (%v)", err, errors.Unwrap(err))
	}
	unsigned := raw
	if i, j := bytes.Index(raw, []byte("<ds:Signature")), bytes.Index(raw, []byte("</ds:Signature>")); i >= 0 && j > i {
		unsigned = append(append([]byte{}, raw[:i]...), raw[j+len("</ds:Signature>"):]...)
	}
	for _, s := range []struct {
		text  string
		asXML bool
	}{
		{samlB64(raw), false}, {string(raw), true}, {string(unsigned), true}, {samlB64(raw)[:40], false},
		{"", false}, {"!!!", false}, {"PHg+PC94Pg==", false}, {"<Response/>", true},
		{`<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>`, true},
		{string(bytes.ReplaceAll(raw, []byte("alice@example.com"), []byte("mallory@example.com"))), true},
		{" " + samlB64(raw)[:10] + "\n" + samlB64(raw)[10:], false},
	} {
		f.Add(s.text, s.asXML)
	}
	f.Fuzz(func(t *testing.T, s string, asXML bool) {
		in := s
		if asXML {
			in = base64.StdEncoding.EncodeToString([]byte(s))
		}
		id, err := samlVerify(sp, cfg, in, []string{reqID})
		if err != nil {
			var se *SAMLError
			if !errors.As(err, &se) || se.Code == "" {
				t.Fatalf("refusal is not a coded SAMLError: %v", err)
			}
			return
		}
		dec, _ := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields([]byte(in)), nil)))
		if !bytes.Contains(dec, []byte("SignatureValue")) {
			t.Fatalf("accepted input without a signature: %q", dec)
		}
		if id == nil || id.ID != good.ID || id.NameID != good.NameID || id.Email != good.Email {
			t.Fatalf("accepted identity %+v, genuine %+v", id, good)
		}
	})
}
