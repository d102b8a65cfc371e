package password

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/scrypt"
	"golang.org/x/text/unicode/norm"
)

// testParams are cheap argon2id parameters for everything but the OWASP tests.
var testParams = Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

const testPassword = "correct horse battery staple"

// betterAuthHash builds a Better Auth password hash exactly as spec §4.1 describes.
func betterAuthHash(t testing.TB, password, saltHex string) string {
	t.Helper()
	key, err := scrypt.Key([]byte(norm.NFKC.String(password)), []byte(saltHex), 16384, 16, 1, 64)
	if err != nil {
		t.Fatal(err)
	}
	return saltHex + ":" + hex.EncodeToString(key)
}

func TestOWASP(t *testing.T) {
	want := Argon2Params{Memory: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}
	if got := OWASP(); got != want {
		t.Fatalf("OWASP() = %+v, want %+v", got, want)
	}
	if err := OWASP().Validate(); err != nil {
		t.Fatalf("OWASP().Validate() = %v", err)
	}
}

func TestOWASPHashAndVerify(t *testing.T) {
	h := NewArgon2id(OWASP(), 0, nil)
	enc, err := h.Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash %q does not carry the OWASP parameters", enc)
	}
	ok, rehash, err := h.Verify(testPassword, enc)
	if !ok || rehash || err != nil {
		t.Fatalf("Verify = %v, %v, %v; want true, false, nil", ok, rehash, err)
	}
}

func TestArgon2idRoundTrip(t *testing.T) {
	h := NewArgon2id(testParams, 0, nil)
	phc := regexp.MustCompile(`^\$argon2id\$v=19\$m=64,t=1,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

	tests := []struct {
		name, password, attempt string
		wantOK                  bool
	}{
		{"same password", testPassword, testPassword, true},
		{"wrong password", testPassword, testPassword + "x", false},
		{"prefix of password", testPassword, testPassword[:len(testPassword)-1], false},
		{"case differs", "Secret-Passw0rd", "secret-passw0rd", false},
		{"not trimmed", " padded password ", "padded password", false},
		{"empty attempt", testPassword, "", false},
		{"unicode", "пароль-密码-🔑🔑", "пароль-密码-🔑🔑", true},
		{"NFKC: fullwidth equals ASCII", "Ｐａｓｓ１２３ｗｏｒｄ", "Pass123word", true},
		{"NFKC: composed equals decomposed", "caf\u00e9-password", "cafe\u0301-password", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			enc, err := h.Hash(tt.password)
			if err != nil {
				t.Fatal(err)
			}
			if !phc.MatchString(enc) {
				t.Fatalf("hash %q is not a PHC argon2id string with the hasher's parameters", enc)
			}
			ok, rehash, err := h.Verify(tt.attempt, enc)
			if err != nil || ok != tt.wantOK || rehash {
				t.Fatalf("Verify = %v, %v, %v; want %v, false, nil", ok, rehash, err, tt.wantOK)
			}
		})
	}
}

func TestHashUsesFreshSalts(t *testing.T) {
	// PWD-02: two users with the same password get different hashes.
	h := NewArgon2id(testParams, 0, nil)
	a, _ := h.Hash(testPassword)
	b, _ := h.Hash(testPassword)
	if a == b {
		t.Fatalf("two hashes of one password are equal: %q", a)
	}
}

func TestHashReadsSaltFromRand(t *testing.T) {
	salt := bytes.Repeat([]byte{0xAB}, 16)
	h := NewArgon2id(testParams, 0, bytes.NewReader(salt))
	enc, err := h.Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if want := "$" + b64().EncodeToString(salt) + "$"; !strings.Contains(enc, want) {
		t.Fatalf("hash %q does not use the salt from rand (%s)", enc, want)
	}
	// The reader is now empty: a failed salt read is an error, never a weak hash.
	if enc, err := h.Hash(testPassword); err == nil {
		t.Fatalf("Hash with an exhausted rand = %q, nil; want an error", enc)
	}
}

func TestVerifyReferenceArgon2id(t *testing.T) {
	// Made by the reference implementation (Debian's argon2 CLI, 20190702):
	// echo -n 'correct horse battery staple' | argon2 gatehouse-salt-16 -id -t 2 -m 10 -p 2 -l 32 -e
	const ref = "$argon2id$v=19$m=1024,t=2,p=2$Z2F0ZWhvdXNlLXNhbHQtMTY$axUU3JoScAfdhRXM/wuvMeQcgd+wR6N1bIyYpfsMQB0"
	h := NewArgon2id(testParams, 0, nil)
	tests := []struct {
		password           string
		wantOK, wantRehash bool
	}{
		{testPassword, true, true}, // other parameters than the hasher's: upgrade
		{"correct horse battery stapl", false, false},
	}
	for _, tt := range tests {
		ok, rehash, err := h.Verify(tt.password, ref)
		if err != nil || ok != tt.wantOK || rehash != tt.wantRehash {
			t.Errorf("Verify(%q) = %v, %v, %v; want %v, %v, nil", tt.password, ok, rehash, err, tt.wantOK, tt.wantRehash)
		}
	}
}

func TestVerifyBetterAuthScrypt(t *testing.T) {
	h := NewArgon2id(testParams, 0, nil)
	computed := betterAuthHash(t, testPassword, "00112233445566778899aabbccddeeff")
	tests := []struct {
		name, encoded, password string
		wantOK                  bool
	}{
		{"computed from §4.1", computed, testPassword, true},
		{"computed, wrong password", computed, "Correct horse battery staple", false},
		// Made by better-auth 1.7.25: hashPassword("correct horse battery staple").
		{"better-auth 1.7.25", "4762fee78bfc5bcc914827f870ee56d6:a4ab1eb200fa58145914a79bb1b61865756d73fae8daeb3f46987c4675c21cfa09b0c9cf97ab757bcd0a03decb09c81f5c5380c7af85358df6322079673abc1d", testPassword, true},
		{"better-auth 1.7.25, wrong password", "4762fee78bfc5bcc914827f870ee56d6:a4ab1eb200fa58145914a79bb1b61865756d73fae8daeb3f46987c4675c21cfa09b0c9cf97ab757bcd0a03decb09c81f5c5380c7af85358df6322079673abc1d", testPassword + " ", false},
		// Made by better-auth 1.7.25: hashPassword("Ｐａｓｓ１２３") — NFKC makes it "Pass123".
		{"better-auth 1.7.25, NFKC", "2e5365ae34f9595de1a42a9851355ffe:e7691cbdd0af33242568cbfbfdae2a863ca2b8c5d5f3afc44637f0f7c8d24c6c919a46204d9955e6a94cd084bd0f9ca139102059215f73fe655a3b4811b696c7", "Pass123", true},
		{"better-auth 1.7.25, NFKC, typed fullwidth", "2e5365ae34f9595de1a42a9851355ffe:e7691cbdd0af33242568cbfbfdae2a863ca2b8c5d5f3afc44637f0f7c8d24c6c919a46204d9955e6a94cd084bd0f9ca139102059215f73fe655a3b4811b696c7", "Ｐａｓｓ１２３", true},
		{"upper-case key hex", computed[:33] + strings.ToUpper(computed[33:]), testPassword, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(tt.password, tt.encoded)
			if err != nil || ok != tt.wantOK || rehash != tt.wantOK {
				t.Fatalf("Verify = %v, %v, %v; want %v, %v, nil", ok, rehash, err, tt.wantOK, tt.wantOK)
			}
		})
	}
}

func TestVerifyRefusesBadHashes(t *testing.T) {
	good, err := NewArgon2id(testParams, 0, nil).Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	scryptHash := betterAuthHash(t, testPassword, "00112233445566778899aabbccddeeff")
	const salt, key = "Z2F0ZWhvdXNlLXNhbHQtMTY", "axUU3JoScAfdhRXM/wuvMeQcgd+wR6N1bIyYpfsMQB0"

	tests := []struct {
		name, encoded string
		want          error
	}{
		{"empty", "", ErrUnknownHash},
		{"bcrypt", "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", ErrUnknownHash},
		{"argon2i", "$argon2i$v=19$m=64,t=1,p=1$" + salt + "$" + key, ErrUnknownHash},
		{"truncated after params", good[:strings.LastIndex(good, "$")], ErrMalformedHash},
		{"truncated key", good[:len(good)-30], ErrInvalidParams},
		{"extra field", good + "$x", ErrMalformedHash},
		{"missing version", "$argon2id$m=64,t=1,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"wrong version", "$argon2id$v=16$m=1024,t=2,p=2$Z2F0ZWhvdXNlLXNhbHQtMTY$2OlS+Z+WEXzrc7o3j+aaorLVsFL6I/2DXfvlvY65YtQ", ErrMalformedHash},
		{"bad version", "$argon2id$v=x$m=64,t=1,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"params out of order", "$argon2id$v=19$t=1,m=64,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"extra param", "$argon2id$v=19$m=64,t=1,p=1,keyid=abc$" + salt + "$" + key, ErrMalformedHash},
		{"non-numeric param", "$argon2id$v=19$m=64k,t=1,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"negative param", "$argon2id$v=19$m=-64,t=1,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"threads overflow uint8", "$argon2id$v=19$m=4096,t=1,p=256$" + salt + "$" + key, ErrMalformedHash},
		{"memory overflow uint32", "$argon2id$v=19$m=4294967296,t=1,p=1$" + salt + "$" + key, ErrMalformedHash},
		{"absurd memory (2 GiB)", "$argon2id$v=19$m=2097152,t=1,p=1$" + salt + "$" + key, ErrInvalidParams},
		{"absurd time", "$argon2id$v=19$m=64,t=1000000,p=1$" + salt + "$" + key, ErrInvalidParams},
		{"absurd work (1 GiB x 32)", "$argon2id$v=19$m=1048576,t=32,p=1$" + salt + "$" + key, ErrInvalidParams},
		{"zero time", "$argon2id$v=19$m=64,t=0,p=1$" + salt + "$" + key, ErrInvalidParams},
		{"zero threads", "$argon2id$v=19$m=64,t=1,p=0$" + salt + "$" + key, ErrInvalidParams},
		{"memory below 8 KiB per thread", "$argon2id$v=19$m=16,t=1,p=4$" + salt + "$" + key, ErrInvalidParams},
		{"salt too short", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$" + key, ErrInvalidParams},
		{"huge key", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$" + strings.Repeat("A", 1<<20), ErrInvalidParams},
		{"salt not base64", "$argon2id$v=19$m=64,t=1,p=1$Z2F0ZWhvdXNlLXNhbHQtM!Y$" + key, ErrMalformedHash},
		{"key not base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "$axUU3JoScAfdhRXM/wuvMeQcgd+wR6N1bIyYpfsMQB*", ErrMalformedHash},
		{"padded base64", "$argon2id$v=19$m=64,t=1,p=1$" + salt + "=$" + key, ErrMalformedHash},
		{"non-canonical base64 tail", "$argon2id$v=19$m=64,t=1,p=1$Z2F0ZWhvdXNlLXNhbHQtMT$" + key, ErrMalformedHash},
		{"scrypt: salt not hex", "g" + scryptHash[1:], ErrMalformedHash},
		{"scrypt: key not hex", scryptHash[:len(scryptHash)-1] + "z", ErrMalformedHash},
		{"scrypt: short key", scryptHash[:len(scryptHash)-2], ErrUnknownHash},
		{"scrypt: no separator", strings.Replace(scryptHash, ":", "0", 1), ErrUnknownHash},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := NewArgon2id(testParams, 0, nil)
			var computed atomic.Int32
			h.argon2Key = func(_, _ []byte, _, _ uint32, _ uint8, _ uint32) []byte {
				computed.Add(1)
				return make([]byte, 32)
			}
			h.scryptKey = func(_, _ []byte, _, _, _, _ int) ([]byte, error) {
				computed.Add(1)
				return make([]byte, 64), nil
			}
			ok, rehash, err := h.Verify(testPassword, tt.encoded)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Verify error = %v, want %v", err, tt.want)
			}
			if ok || rehash {
				t.Fatalf("Verify = %v, %v with an error", ok, rehash)
			}
			// Refused before computing, so nothing was allocated for it.
			if n := computed.Load(); n != 0 {
				t.Fatalf("%d hash computations for a refused hash", n)
			}
		})
	}
}

func TestRehashWhenParamsDiffer(t *testing.T) {
	current := NewArgon2id(testParams, 0, nil)
	tests := []struct {
		name   string
		change func(*Argon2Params)
		want   bool
	}{
		{"same params", func(*Argon2Params) {}, false},
		{"memory", func(p *Argon2Params) { p.Memory = 32 }, true},
		{"time", func(p *Argon2Params) { p.Time = 2 }, true},
		{"threads", func(p *Argon2Params) { p.Threads = 2 }, true},
		{"salt length", func(p *Argon2Params) { p.SaltLen = 32 }, true},
		{"key length", func(p *Argon2Params) { p.KeyLen = 16 }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testParams
			tt.change(&p)
			enc, err := NewArgon2id(p, 0, nil).Hash(testPassword)
			if err != nil {
				t.Fatal(err)
			}
			ok, rehash, err := current.Verify(testPassword, enc)
			if !ok || rehash != tt.want || err != nil {
				t.Fatalf("Verify = %v, %v, %v; want true, %v, nil", ok, rehash, err, tt.want)
			}
			// Never ask to replace a hash on a wrong password.
			if _, rehash, _ := current.Verify("wrong password", enc); rehash {
				t.Fatal("rehash = true for a wrong password")
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Argon2Params)
		ok     bool
	}{
		{"test params", func(*Argon2Params) {}, true},
		{"1 GiB", func(p *Argon2Params) { p.Memory = 1 << 20 }, true},
		{"over 1 GiB", func(p *Argon2Params) { p.Memory = 1<<20 + 1 }, false},
		{"zero time", func(p *Argon2Params) { p.Time = 0 }, false},
		{"zero threads", func(p *Argon2Params) { p.Threads = 0 }, false},
		{"memory below 8 KiB per thread", func(p *Argon2Params) { p.Threads = 9 }, false},
		{"salt 8 bytes", func(p *Argon2Params) { p.SaltLen = 8 }, false}, // PWD-02: ≥ 16 for new hashes
		{"salt 65 bytes", func(p *Argon2Params) { p.SaltLen = 65 }, false},
		{"key 15 bytes", func(p *Argon2Params) { p.KeyLen = 15 }, false},
		{"key 65 bytes", func(p *Argon2Params) { p.KeyLen = 65 }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testParams
			tt.change(&p)
			err := p.Validate()
			if (err == nil) != tt.ok || (err != nil && !errors.Is(err, ErrInvalidParams)) {
				t.Fatalf("Validate(%+v) = %v, want ok=%v", p, err, tt.ok)
			}
		})
	}
}

func TestNewArgon2idPanicsOnInvalidParams(t *testing.T) {
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "time") {
			t.Fatalf("recover() = %v, want a panic naming the time rule", r)
		}
	}()
	NewArgon2id(Argon2Params{Memory: 64, Threads: 1, SaltLen: 16, KeyLen: 32}, 0, nil)
}

// TestConcurrencyCap checks that no more than maxConcurrent computations run at once
// (PWD-04), with no timing: the fake KDF blocks until released, and the semaphore's wait
// hook tells when every other caller is queued.
func TestConcurrencyCap(t *testing.T) {
	const limit, callers = 3, 12
	h := NewArgon2id(testParams, limit, nil)
	enc, err := h.Hash(testPassword) // real hash to verify against, before the fakes
	if err != nil {
		t.Fatal(err)
	}
	scryptHash := betterAuthHash(t, testPassword, "00112233445566778899aabbccddeeff")
	h.FakeVerify(testPassword) // build the dummy hash now, so each caller computes once

	var inFlight, maxInFlight atomic.Int32
	entered, waiting := make(chan struct{}, callers), make(chan struct{}, callers)
	release := make(chan struct{})
	enter := func() {
		n := inFlight.Add(1)
		for m := maxInFlight.Load(); n > m && !maxInFlight.CompareAndSwap(m, n); m = maxInFlight.Load() {
		}
		entered <- struct{}{}
		<-release
		inFlight.Add(-1)
	}
	h.argon2Key = func(_, _ []byte, _, _ uint32, _ uint8, keyLen uint32) []byte {
		enter()
		return make([]byte, keyLen)
	}
	h.scryptKey = func(_, _ []byte, _, _, _, keyLen int) ([]byte, error) {
		enter()
		return make([]byte, keyLen), nil
	}
	h.onWait = func() { waiting <- struct{}{} }

	var wg sync.WaitGroup
	for i := range callers {
		wg.Go(func() {
			switch i % 4 { // every entry point shares the one cap
			case 0:
				_, _ = h.Hash(testPassword)
			case 1:
				_, _, _ = h.Verify(testPassword, enc)
			case 2:
				_, _, _ = h.Verify(testPassword, scryptHash)
			case 3:
				h.FakeVerify(testPassword)
			}
		})
	}
	// limit callers get in; all the others must queue. A broken cap lets more in, or never
	// makes anyone wait: the deadline only turns that hang into a failure.
	deadline := time.After(30 * time.Second)
	for got, queued := 0, 0; got < limit || queued < callers-limit; {
		select {
		case <-entered:
			got++
			if got > limit {
				t.Fatalf("%d computations running at once, limit %d", got, limit)
			}
		case <-waiting:
			queued++
		case <-deadline:
			t.Fatalf("stuck: %d running, %d queued (limit %d, callers %d)", got, queued, limit, callers)
		}
	}
	close(release) // let everyone finish; each later one is let in as another leaves
	wg.Wait()
	if m := maxInFlight.Load(); m != limit {
		t.Fatalf("max in flight = %d, want %d", m, limit)
	}
}

func TestDefaultConcurrencyCap(t *testing.T) {
	h := NewArgon2id(testParams, 0, nil)
	if got, want := cap(h.sem), 2*runtime.GOMAXPROCS(0); got != want {
		t.Fatalf("default cap = %d, want 2×GOMAXPROCS = %d", got, want)
	}
}

// TestFakeVerifyDoesTheSameWork checks D17-style (equal work, not timing) that FakeVerify
// runs one argon2id computation with the hasher's own parameters, like a real Verify.
func TestFakeVerifyDoesTheSameWork(t *testing.T) {
	h := NewArgon2id(testParams, 0, nil)
	type call struct {
		time, memory  uint32
		threads       uint8
		keyLen, salts uint32
	}
	var mu sync.Mutex
	var calls []call
	realKey := h.argon2Key
	h.argon2Key = func(pw, salt []byte, time, memory uint32, threads uint8, keyLen uint32) []byte {
		mu.Lock()
		calls = append(calls, call{time, memory, threads, keyLen, uint32(len(salt))})
		mu.Unlock()
		return realKey(pw, salt, time, memory, threads, keyLen)
	}
	enc, err := h.Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	h.FakeVerify(testPassword) // builds the dummy hash: 2 computations, once
	calls = nil
	_, _, _ = h.Verify("wrong", enc)
	h.FakeVerify("wrong")
	if len(calls) != 2 || calls[0] != calls[1] {
		t.Fatalf("computations for Verify and FakeVerify = %+v, want two identical", calls)
	}
	want := call{testParams.Time, testParams.Memory, testParams.Threads, testParams.KeyLen, testParams.SaltLen}
	if calls[1] != want {
		t.Fatalf("FakeVerify computed %+v, want %+v", calls[1], want)
	}
}

// TestConcurrentVerify runs 100 Verify calls (and FakeVerify, which builds its dummy hash
// once) at the same time; run with -race.
func TestConcurrentVerify(t *testing.T) {
	h := NewArgon2id(testParams, 4, nil)
	enc, err := h.Hash(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failures atomic.Int32
	for i := range 100 {
		wg.Go(func() {
			pw, want := testPassword, true
			if i%2 == 1 {
				pw, want = fmt.Sprintf("wrong %d", i), false
			}
			if ok, _, err := h.Verify(pw, enc); ok != want || err != nil {
				failures.Add(1)
			}
			if i%10 == 0 {
				h.FakeVerify(pw)
			}
		})
	}
	wg.Wait()
	if n := failures.Load(); n != 0 {
		t.Fatalf("%d of 100 concurrent Verify calls gave a wrong answer", n)
	}
}

func BenchmarkHashOWASP(b *testing.B) {
	h := NewArgon2id(OWASP(), 0, nil)
	for b.Loop() {
		if _, err := h.Hash(testPassword); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyOWASP(b *testing.B) {
	h := NewArgon2id(OWASP(), 0, nil)
	enc, err := h.Hash(testPassword)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, _, err := h.Verify(testPassword, enc); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

func BenchmarkVerifyBetterAuthScrypt(b *testing.B) {
	h := NewArgon2id(OWASP(), 0, nil)
	enc := betterAuthHash(b, testPassword, "00112233445566778899aabbccddeeff")
	for b.Loop() {
		if ok, _, err := h.Verify(testPassword, enc); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}
