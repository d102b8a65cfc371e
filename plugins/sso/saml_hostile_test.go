package sso

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/gatehouse-auth/gatehouse/storage"
	"github.com/gatehouse-auth/gatehouse/storage/bolt"
	"github.com/gatehouse-auth/gatehouse/storage/memory"
)

const samlEvilNameID = "mallory@evil.example"

// samlTestMint has the test IdP answer a fresh signed AuthnRequest of sp, without HTTP, so
// that mutate can change how the IdP builds the response (after the assertion is made, before
// the response is signed). It returns the response XML, still unencoded.
func samlTestMint(t testing.TB, ti *samlTestIdP, sp *saml.ServiceProvider, mutate func(req *saml.IdpAuthnRequest)) (raw []byte, requestID string) {
	t.Helper()
	u, reqID, err := samlAuthnRedirect(sp, "")
	if err != nil {
		t.Fatal(err)
	}
	r, _ := http.NewRequest("GET", u, nil)
	req, err := saml.NewIdpAuthnRequest(ti.idp, r)
	if err != nil {
		t.Fatal(err)
	}
	if err := req.Validate(); err != nil {
		t.Fatalf("IdP refused the AuthnRequest: %v", err)
	}
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, ti.GetSession(nil, r, req)); err != nil {
		t.Fatal(err)
	}
	if mutate != nil {
		mutate(req)
	}
	if err := req.MakeResponse(); err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.ResponseEl)
	raw, err = doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return raw, reqID
}

func samlB64(raw []byte) string { return base64.StdEncoding.EncodeToString(raw) }

// samlTestSigner signs like crewjam's IdP does, with the given IdP key.
func samlTestSigner(t *testing.T, ti *samlTestIdP) *dsig.SigningContext {
	t.Helper()
	ctx := dsig.NewDefaultSigningContext(dsig.TLSCertKeyStore(tls.Certificate{Certificate: [][]byte{ti.cert.Raw}, PrivateKey: ti.key}))
	ctx.Canonicalizer = dsig.MakeC14N10ExclusiveCanonicalizerWithPrefixList("")
	if err := ctx.SetSignatureMethod(dsig.RSASHA256SignatureMethod); err != nil {
		t.Fatal(err)
	}
	return ctx
}

func samlChild(e *etree.Element, tag string) *etree.Element {
	for _, c := range e.ChildElements() {
		if c.Tag == tag {
			return c
		}
	}
	return nil
}

func samlChildIndex(e *etree.Element, c *etree.Element) int {
	for i, tok := range e.Child {
		if tok == c {
			return i
		}
	}
	return -1
}

// samlEvilCopy is an unsigned copy of assertion a speaking for Mallory.
func samlEvilCopy(a *etree.Element, id string) *etree.Element {
	ev := a.Copy()
	if sig := samlChild(ev, "Signature"); sig != nil {
		ev.RemoveChild(sig)
	}
	ev.CreateAttr("ID", id)
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if strings.EqualFold(e.Text(), "alice@example.com") {
			e.SetText(samlEvilNameID)
		}
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(ev)
	return ev
}

// samlRefused asserts samlVerify refuses raw, and that crewjam on its own (no shape check,
// no wantAssertionsSigned) never yields Mallory from it.
func samlRefused(t *testing.T, sp *saml.ServiceProvider, cfg *SAMLConfig, raw []byte, reqID, code string) {
	t.Helper()
	id, verr := samlVerify(sp, cfg, samlB64(raw), []string{reqID})
	if verr == nil {
		t.Fatalf("accepted: %+v", id)
	}
	samlWantCode(t, verr, code)
	if a, err := sp.ParseXMLResponse(raw, []string{reqID}, sp.AcsURL); err == nil {
		if a.Subject != nil && a.Subject.NameID != nil && strings.EqualFold(a.Subject.NameID.Value, samlEvilNameID) {
			t.Fatal("crewjam alone accepted the evil assertion")
		}
		t.Logf("crewjam alone accepted it (NameID %q); refused by samlVerify's own check: %v", a.Subject.NameID.Value, errors.Unwrap(verr))
	}
}

func samlHostileSetup(t testing.TB) (*samlTestIdP, *saml.ServiceProvider, *SAMLConfig) {
	t.Helper()
	ti := samlNewTestIdP(t, samlNewTestClock())
	sp, cfg := samlTestSP(t, ti, samlTestDefaultCfg, samlTestEntity, samlTestACS)
	return ti, sp, cfg
}

func TestSAMLHostileSignatureWrapping(t *testing.T) {
	ti, sp, cfg := samlHostileSetup(t)
	// The untouched response is accepted: the variants below differ only by the wrapping.
	raw, reqID := samlTestMint(t, ti, sp, nil)
	if _, err := samlVerify(sp, cfg, samlB64(raw), []string{reqID}); err != nil {
		t.Fatalf("genuine response refused: %v (%v)", err, errors.Unwrap(err))
	}
	parse := func(raw []byte) (*etree.Document, *etree.Element, *etree.Element) {
		doc := etree.NewDocument()
		if err := doc.ReadFromBytes(raw); err != nil {
			t.Fatal(err)
		}
		root := doc.Root()
		a := samlChild(root, "Assertion")
		if a == nil || samlChild(a, "Signature") == nil || samlChild(root, "Signature") == nil {
			t.Fatal("test IdP should sign both Response and Assertion")
		}
		return doc, root, a
	}
	write := func(doc *etree.Document) []byte {
		b, err := doc.WriteToBytes()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	variants := map[string]func(doc *etree.Document, root, a *etree.Element){
		// XSW3: Response signature dropped, an evil unsigned assertion placed before the
		// signed one.
		"evil assertion before the signed one": func(_ *etree.Document, root, a *etree.Element) {
			root.RemoveChild(samlChild(root, "Signature"))
			root.InsertChildAt(samlChildIndex(root, a), samlEvilCopy(a, "id-evil"))
		},
		// XSW3 after: the evil assertion after the signed one.
		"evil assertion after the signed one": func(_ *etree.Document, root, a *etree.Element) {
			root.RemoveChild(samlChild(root, "Signature"))
			root.AddChild(samlEvilCopy(a, "id-evil"))
		},
		// XSW7/8: the evil assertion takes the original's ID and Signature; the signed
		// original hides in the Signature's ds:Object.
		"signed assertion moved into the evil one's Signature Object": func(_ *etree.Document, root, a *etree.Element) {
			root.RemoveChild(samlChild(root, "Signature"))
			evil := samlEvilCopy(a, a.SelectAttrValue("ID", ""))
			sig := samlChild(a, "Signature").Copy()
			obj := etree.NewElement("ds:Object")
			obj.AddChild(a.Copy())
			sig.AddChild(obj)
			evil.AddChild(sig)
			i := samlChildIndex(root, a)
			root.RemoveChildAt(i)
			root.InsertChildAt(i, evil)
		},
		// XSW1: a new root Response for Mallory carries the original Signature, whose
		// ds:Object holds the original signed Response.
		"signed response moved into the evil response's Signature Object": func(doc *etree.Document, root, a *etree.Element) {
			orig := root.Copy()
			root.CreateAttr("ID", "id-evil-response")
			i := samlChildIndex(root, a)
			root.RemoveChildAt(i)
			root.InsertChildAt(i, samlEvilCopy(a, "id-evil"))
			obj := etree.NewElement("ds:Object")
			obj.AddChild(orig)
			samlChild(root, "Signature").AddChild(obj)
		},
		// XSW2: the original signed Response as a child of the evil one, before its
		// Signature (detached-signature style).
		"signed response nested before the evil response's Signature": func(doc *etree.Document, root, a *etree.Element) {
			orig := root.Copy()
			root.CreateAttr("ID", "id-evil-response")
			i := samlChildIndex(root, a)
			root.RemoveChildAt(i)
			root.InsertChildAt(i, samlEvilCopy(a, "id-evil"))
			root.InsertChildAt(samlChildIndex(root, samlChild(root, "Signature")), orig)
		},
		// An evil assertion smuggled into samlp:Extensions of an unsigned response.
		"evil assertion in Extensions": func(_ *etree.Document, root, a *etree.Element) {
			root.RemoveChild(samlChild(root, "Signature"))
			ext := etree.NewElement("samlp:Extensions")
			ext.AddChild(samlEvilCopy(a, "id-evil"))
			root.InsertChildAt(samlChildIndex(root, samlChild(root, "Status")), ext)
		},
		// Mallory's NameID edited into the signed assertion: the digest must break.
		"NameID edited in place": func(_ *etree.Document, root, a *etree.Element) {
			root.RemoveChild(samlChild(root, "Signature"))
			ev := samlEvilCopy(a, a.SelectAttrValue("ID", ""))
			ev.AddChild(samlChild(a, "Signature").Copy())
			i := samlChildIndex(root, a)
			root.RemoveChildAt(i)
			root.InsertChildAt(i, ev)
		},
	}
	for name, edit := range variants {
		t.Run(name, func(t *testing.T) {
			raw, reqID := samlTestMint(t, ti, sp, nil)
			doc, root, a := parse(raw)
			edit(doc, root, a)
			samlRefused(t, sp, cfg, write(doc), reqID, SAMLCodeInvalidResponse)
		})
	}
}

func TestSAMLHostileSeveralAssertions(t *testing.T) {
	ti, sp, cfg := samlHostileSetup(t)
	signer := samlTestSigner(t, ti)
	// A Response correctly signed by the IdP holding two correctly signed assertions, the
	// second for Mallory: crewjam returns the first; samlVerify refuses the response.
	raw, reqID := samlTestMint(t, ti, sp, func(req *saml.IdpAuthnRequest) {
		if err := req.MakeAssertionEl(); err != nil {
			t.Fatal(err)
		}
		second := *req.Assertion
		second.ID = "id-second-assertion"
		second.Signature = nil
		subj := *second.Subject
		nid := *subj.NameID
		nid.Value = samlEvilNameID
		subj.NameID = &nid
		second.Subject = &subj
		signed, err := signer.SignEnveloped(second.Element())
		if err != nil {
			t.Fatal(err)
		}
		// Put both into one element that MakeResponse appends; unwrap it afterwards.
		holder := etree.NewElement("holder")
		holder.AddChild(req.AssertionEl)
		holder.AddChild(signed)
		req.AssertionEl = holder
	})
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	holder := samlChild(root, "holder")
	i := samlChildIndex(root, holder)
	root.RemoveChildAt(i)
	for j, c := range holder.ChildElements() {
		root.InsertChildAt(i+j, c)
	}
	root.RemoveChild(samlChild(root, "Signature"))
	resigned, err := signer.SignEnveloped(root)
	if err != nil {
		t.Fatal(err)
	}
	doc.SetRoot(resigned)
	raw, _ = doc.WriteToBytes()
	if a, err := sp.ParseXMLResponse(raw, []string{reqID}, sp.AcsURL); err != nil {
		t.Logf("crewjam alone refused it too: %v", err)
	} else {
		t.Logf("crewjam alone accepted a two-assertion response (returned NameID %q)", a.Subject.NameID.Value)
	}
	samlRefused(t, sp, cfg, raw, reqID, SAMLCodeInvalidResponse)
}

func TestSAMLHostileUnsignedAssertionInSignedResponse(t *testing.T) {
	ti, sp, cfg := samlHostileSetup(t)
	unsigned := func(req *saml.IdpAuthnRequest) { req.AssertionEl = req.Assertion.Element() }
	raw, reqID := samlTestMint(t, ti, sp, unsigned)
	_, err := samlVerify(sp, cfg, samlB64(raw), []string{reqID})
	samlWantCode(t, err, SAMLCodeInvalidResponse)

	// Control: the same shape is accepted when the config does not want signed assertions
	// (the Response signature then vouches for it).
	off, err := samlParseConfig([]byte(`{"idpMetadata":{"metadata":` + samlMustJSON(t, ti.metadataXML(t)) + `},"wantAssertionsSigned":false}`))
	if err != nil {
		t.Fatal(err)
	}
	raw, reqID = samlTestMint(t, ti, sp, unsigned)
	id, err := samlVerify(sp, off, samlB64(raw), []string{reqID})
	if err != nil || id.AssertionSigned {
		t.Fatalf("response-signed only, wantAssertionsSigned false: %v, %+v", err, id)
	}
}

func samlMustJSON(t *testing.T, s string) string {
	t.Helper()
	j, err := samlJSONString(s)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestSAMLHostileExpired(t *testing.T) {
	ti, sp, cfg := samlHostileSetup(t)
	raw, reqID := samlTestMint(t, ti, sp, nil)
	ti.clock.Advance(saml.MaxIssueDelay + saml.MaxClockSkew + time.Minute)
	_, err := samlVerify(sp, cfg, samlB64(raw), []string{reqID})
	samlWantCode(t, err, SAMLCodeExpired)

	// Not yet valid: the SP's clock well behind the IdP's.
	raw, reqID = samlTestMint(t, ti, sp, nil)
	behind := samlTestBuildSP(t, ti, cfg, samlTestEntity, samlTestACS)
	behind.Clock = dsig.NewFakeClockAt(ti.clock.Now().Add(-time.Hour))
	_, err = samlVerify(behind, cfg, samlB64(raw), []string{reqID})
	samlWantCode(t, err, SAMLCodeExpired)
}

func TestSAMLHostileAudienceAndDestination(t *testing.T) {
	ti, sp, cfg := samlHostileSetup(t)

	raw, reqID := samlTestMint(t, ti, sp, nil)
	other := samlTestBuildSP(t, ti, cfg, "https://other.example/sp", samlTestACS)
	_, err := samlVerify(other, cfg, samlB64(raw), []string{reqID})
	samlWantCode(t, err, SAMLCodeInvalidResponse)
	if !errors.Is(err, saml.ErrAudienceMismatch) {
		t.Errorf("want an audience mismatch, got %v", errors.Unwrap(err))
	}

	// A configured audience that the IdP does not put in the assertion.
	audCfg, err := samlParseConfig([]byte(`{"idpMetadata":{"metadata":` + samlMustJSON(t, ti.metadataXML(t)) + `},"audience":"urn:gatehouse:expected"}`))
	if err != nil {
		t.Fatal(err)
	}
	audSP := samlTestBuildSP(t, ti, audCfg, samlTestEntity, samlTestACS)
	raw, reqID = samlTestMint(t, ti, sp, nil)
	_, err = samlVerify(audSP, audCfg, samlB64(raw), []string{reqID})
	if !errors.Is(err, saml.ErrAudienceMismatch) {
		t.Errorf("configured audience: want an audience mismatch, got %v", err)
	}

	raw, reqID = samlTestMint(t, ti, sp, nil)
	moved := samlTestBuildSP(t, ti, cfg, samlTestEntity, "https://app.example/api/auth/sso/saml2/sp/acs/other")
	_, err = samlVerify(moved, cfg, samlB64(raw), []string{reqID})
	samlWantCode(t, err, SAMLCodeInvalidResponse)
	if !errors.Is(err, saml.ErrDestinationMismatch) {
		t.Errorf("want a destination mismatch, got %v", errors.Unwrap(err))
	}
}

func TestSAMLHostileRequestIDs(t *testing.T) {
	ti, sp, cfg := samlHostileSetup(t)
	raw, _ := samlTestMint(t, ti, sp, nil)
	for _, ids := range [][]string{{"id-never-issued"}, nil, {""}} {
		_, err := samlVerify(sp, cfg, samlB64(raw), ids)
		samlWantCode(t, err, SAMLCodeUnsolicited)
	}
}

func TestSAMLHostileIdPInitiated(t *testing.T) {
	ti, sp, cfg := samlHostileSetup(t)
	resp, err := http.Get(ti.srv.URL + "/idp-initiated?sp=" + url.QueryEscape(samlTestEntity))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	b64 := samlFormValues(t, string(body))["SAMLResponse"]
	if resp.StatusCode != 200 || b64 == "" {
		t.Fatalf("IdP-initiated: %d %s", resp.StatusCode, body)
	}
	// Refused with no pending request, and with one pending (it answers none).
	_, pending, err := samlAuthnRedirect(sp, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, ids := range [][]string{nil, {pending}} {
		_, err := samlVerify(sp, cfg, b64, ids)
		samlWantCode(t, err, SAMLCodeUnsolicited)
	}
}

func TestSAMLHostileOtherSigningKey(t *testing.T) {
	ti, sp, cfg := samlHostileSetup(t)
	evilKey, evilCert, _ := samlTestKeyPair(t, ti.clock.Now(), "evil")
	raw, reqID := samlTestMint(t, ti, sp, func(req *saml.IdpAuthnRequest) {
		evil := *ti.idp
		evil.Key, evil.Certificate = evilKey, evilCert
		req.IDP = &evil // same entity ID and URLs, another key (its cert is in KeyInfo)
	})
	_, err := samlVerify(sp, cfg, samlB64(raw), []string{reqID})
	samlWantCode(t, err, SAMLCodeInvalidResponse)
	if !errors.Is(err, saml.ErrInvalidSignature) {
		t.Errorf("want an invalid signature, got %v", errors.Unwrap(err))
	}
}

func TestSAMLHostileGarbage(t *testing.T) {
	ti, sp, cfg := samlHostileSetup(t)
	genuine, reqID := samlTestMint(t, ti, sp, nil)
	deep := strings.Repeat("<a>", 60000) + strings.Repeat("</a>", 60000)
	laughs := `<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]><samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">&c;</samlp:Response>`
	inputs := map[string]string{
		"empty":          "",
		"not base64":     "!!!*not base64*!!!",
		"not xml":        samlB64([]byte("hello, world")),
		"other root":     samlB64([]byte(`<x/>`)),
		"empty response": samlB64([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol"/>`)),
		"truncated":      samlB64(genuine[:len(genuine)/2]),
		"oversized":      strings.Repeat("A", samlMaxResponseB64+4),
		"deep nesting":   samlB64([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">` + deep + `</samlp:Response>`)),
		"entities":       samlB64([]byte(laughs)),
		"binary":         samlB64([]byte{0, 1, 2, 0xff, 0xfe, '<', 0}),
		"nul in b64":     samlB64(genuine)[:100] + "\x00" + samlB64(genuine)[100:],
	}
	for name, in := range inputs {
		t.Run(name, func(t *testing.T) {
			_, err := samlVerify(sp, cfg, in, []string{reqID})
			samlWantCode(t, err, SAMLCodeInvalidResponse)
		})
	}
	// Line-wrapped base64, as some IdPs post it, is accepted.
	b := samlB64(genuine)
	if _, err := samlVerify(sp, cfg, b[:76]+"\r\n"+b[76:], []string{reqID}); err != nil {
		t.Fatalf("wrapped base64 refused: %v (%v)", err, errors.Unwrap(err))
	}
}

// samlTestStores returns the replay model bound on the memory store and on bbolt.
func samlTestStores(t *testing.T) map[string]storage.Adapter {
	t.Helper()
	schema := storage.NewSchema()
	if err := schema.AddModel("sso", samlAssertionModel()); err != nil {
		t.Fatal(err)
	}
	mem, err := memory.New(schema)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := bolt.Open(filepath.Join(t.TempDir(), "saml.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bs.Close() })
	ba, err := bs.Bind(context.Background(), schema)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]storage.Adapter{"memory": mem, "bolt": ba}
}

func TestSAMLReplayGuard(t *testing.T) {
	ctx := context.Background()
	for name, store := range samlTestStores(t) {
		t.Run(name, func(t *testing.T) {
			now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
			exp := now.Add(5 * time.Minute)
			if err := samlClaimAssertion(ctx, store, "acme", "id-a", exp, now); err != nil {
				t.Fatal(err)
			}
			samlWantCode(t, samlClaimAssertion(ctx, store, "acme", "id-a", exp, now), SAMLCodeReplay)
			// Another provider cannot reuse the ID either (IDs are unique across providers).
			samlWantCode(t, samlClaimAssertion(ctx, store, "other", "id-a", exp, now), SAMLCodeReplay)
			if err := samlClaimAssertion(ctx, store, "acme", "id-b", exp, now); err != nil {
				t.Fatal(err)
			}
			samlWantCode(t, samlClaimAssertion(ctx, store, "acme", "", exp, now), SAMLCodeInvalidResponse)
			samlWantCode(t, samlClaimAssertion(ctx, store, "acme", strings.Repeat("x", 300), exp, now), SAMLCodeInvalidResponse)
			samlWantCode(t, samlClaimAssertion(ctx, store, "acme", "id-late", now.Add(-saml.MaxClockSkew-time.Second), now), SAMLCodeExpired)

			// 20 concurrent claims of one ID: exactly one wins.
			var wg sync.WaitGroup
			errs := make([]error, 20)
			for i := range errs {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = samlClaimAssertion(ctx, store, "acme", "id-race", exp, now)
				}()
			}
			wg.Wait()
			wins := 0
			for _, err := range errs {
				if err == nil {
					wins++
				} else {
					samlWantCode(t, err, SAMLCodeReplay)
				}
			}
			if wins != 1 {
				t.Fatalf("%d concurrent claims succeeded, want 1", wins)
			}

			// Rows are kept until the assertion could no longer be accepted, then swept.
			row, err := store.FindOne(ctx, samlAssertionModelName, storage.Eq("assertionId", "id-a"))
			if err != nil {
				t.Fatal(err)
			}
			if got := row["expiresAt"].(time.Time); !got.Equal(exp.Add(saml.MaxClockSkew)) {
				t.Errorf("expiresAt %v, want %v", got, exp.Add(saml.MaxClockSkew))
			}
			later := exp.Add(saml.MaxClockSkew + time.Minute)
			if err := samlClaimAssertion(ctx, store, "acme", "id-c", later.Add(time.Minute), later); err != nil {
				t.Fatal(err)
			}
			n, err := store.Count(ctx, samlAssertionModelName, storage.Where{})
			if err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("%d rows after the sweep, want 1 (id-c)", n)
			}
		})
	}
}

// The whole path: a real response verified twice (crewjam keeps no replay cache here), the
// claim refusing the second.
func TestSAMLReplayedResponse(t *testing.T) {
	ti, sp, cfg := samlHostileSetup(t)
	store := samlTestStores(t)["bolt"]
	b64, reqID := samlTestLogin(t, sp)
	for i, want := range []string{"", SAMLCodeReplay} {
		id, err := samlVerify(sp, cfg, b64, []string{reqID})
		if err != nil {
			t.Fatalf("verify #%d: %v", i+1, err)
		}
		err = samlClaimAssertion(context.Background(), store, "acme", id.AssertionID, id.NotOnOrAfter, ti.clock.Now())
		if want == "" && err != nil {
			t.Fatal(err)
		}
		if want != "" {
			samlWantCode(t, err, want)
		}
	}
}

func TestSAMLHostileIssuerAndStatus(t *testing.T) {
	ti, sp, cfg := samlHostileSetup(t)
	// Same trusted certificate, but the provider is configured for another IdP entity: the
	// issuer check refuses what this IdP signs.
	otherCfg, err := samlParseConfig([]byte(`{"entryPoint":"` + ti.srv.URL + `/sso","cert":` + samlMustJSON(t, ti.certPEM) + `,"idpMetadata":{"entityID":"urn:another-idp"}}`))
	if err != nil {
		t.Fatal(err)
	}
	otherSP := samlTestBuildSP(t, ti, otherCfg, samlTestEntity, samlTestACS)
	raw, reqID := samlTestMint(t, ti, sp, nil)
	_, err = samlVerify(otherSP, otherCfg, samlB64(raw), []string{reqID})
	samlWantCode(t, err, SAMLCodeInvalidResponse)
	if !errors.Is(err, saml.ErrIssuerMismatch) {
		t.Errorf("want an issuer mismatch, got %v", errors.Unwrap(err))
	}

	// A correctly signed Response whose status is not Success.
	raw, reqID = samlTestMint(t, ti, sp, nil)
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	root := doc.Root()
	samlChild(samlChild(root, "Status"), "StatusCode").CreateAttr("Value", "urn:oasis:names:tc:SAML:2.0:status:Responder")
	root.RemoveChild(samlChild(root, "Signature"))
	signed, err := samlTestSigner(t, ti).SignEnveloped(root)
	if err != nil {
		t.Fatal(err)
	}
	doc.SetRoot(signed)
	raw, _ = doc.WriteToBytes()
	_, err = samlVerify(sp, cfg, samlB64(raw), []string{reqID})
	samlWantCode(t, err, SAMLCodeIdPError)
}

func TestSAMLServiceProviderErrors(t *testing.T) {
	ti := samlNewTestIdP(t, samlNewTestClock())
	cfg, err := samlParseConfig([]byte(`{"idpMetadata":{"metadata":` + samlMustJSON(t, ti.metadataXML(t)) + `}}`))
	if err != nil {
		t.Fatal(err)
	}
	k1, c1, _ := samlNewSPKey(rand.Reader, ti.clock.Now(), "a")
	_, c2, _ := samlNewSPKey(rand.Reader, ti.clock.Now(), "b")
	cases := map[string]func() error{
		"unparsed config": func() error {
			_, err := samlServiceProvider(&SAMLConfig{}, string(k1), string(c1), samlTestEntity, samlTestACS, samlTestMDURL, nil)
			return err
		},
		"key not PEM": func() error {
			_, err := samlServiceProvider(cfg, "nope", string(c1), samlTestEntity, samlTestACS, samlTestMDURL, nil)
			return err
		},
		"cert of another key": func() error {
			_, err := samlServiceProvider(cfg, string(k1), string(c2), samlTestEntity, samlTestACS, samlTestMDURL, nil)
			return err
		},
		"relative ACS": func() error {
			_, err := samlServiceProvider(cfg, string(k1), string(c1), samlTestEntity, "/acs", samlTestMDURL, nil)
			return err
		},
		"relative metadata URL": func() error {
			_, err := samlServiceProvider(cfg, string(k1), string(c1), samlTestEntity, samlTestACS, "metadata", nil)
			return err
		},
	}
	for name, f := range cases {
		if f() == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	sp, err := samlServiceProvider(cfg, string(k1), string(c1), "", samlTestACS, samlTestMDURL, nil)
	if err != nil || sp.EntityID != samlTestMDURL || sp.AllowIDPInitiated || sp.SignatureMethod != dsig.RSASHA256SignatureMethod {
		t.Fatalf("defaults: %v %+v", err, sp)
	}
}
