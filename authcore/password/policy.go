package password

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode/utf16"
)

// commonList is common.txt: Openwall's password.lst as shipped in Debian's john-data 1.9.0
// (/usr/share/john/password.lst), most common first, with its "#!comment" header lines and
// one empty line removed. Its header reads: "This list has been compiled by Solar Designer
// of Openwall Project in 1996 through 2011. It is assumed to be in the public domain."
// (last update 2011/11/20, 3546 entries; more at https://www.openwall.com/wordlists/).
//
//go:embed common.txt
var commonList string

// commonWords is the lower-cased common list as a set, plus its longest entry's length.
type commonWords struct {
	set     map[string]struct{}
	longest int // bytes
}

// commonSet builds commonWords once, on first use; it is never written afterwards (the
// package's only package-level state besides the list itself).
var commonSet = sync.OnceValue(func() commonWords {
	w := commonWords{set: make(map[string]struct{}, 4096)}
	for line := range strings.Lines(commonList) {
		if e := strings.ToLower(strings.TrimRight(line, "\r\n")); e != "" {
			w.set[e] = struct{}{}
			w.longest = max(w.longest, len(e))
		}
	}
	return w
})

// maxCommonSuffixDigits is how many appended digits IsCommon strips to find a listed word.
const maxCommonSuffixDigits = 4

// IsCommon reports whether pw is a common password (D18): it is on the embedded list, in
// any letter case ("Password" counts as "password"), or it is a listed password followed
// by one to four digits ("password123", "Dragon2024"), the first thing a cracker's wordlist
// rules try. Apply it at sign-up, password change and reset.
func IsCommon(pw string) bool {
	common := commonSet()
	// Lower-casing can shrink text (K, the Kelvin sign, is 3 bytes; k is 1), but never more
	// than 4 times: a rune takes at most 4 bytes and its lower case at least 1. Longer input
	// cannot match, and is not copied.
	if len(pw) > 4*(common.longest+maxCommonSuffixDigits) {
		return false
	}
	set := common.set
	lower := strings.ToLower(pw)
	if _, ok := set[lower]; ok {
		return true
	}
	for n := 1; n <= maxCommonSuffixDigits && n < len(lower); n++ {
		c := lower[len(lower)-n]
		if c < '0' || c > '9' {
			break
		}
		if _, ok := set[lower[:len(lower)-n]]; ok {
			return true
		}
	}
	return false
}

// CheckLength returns an error wrapping [ErrTooShort] or [ErrTooLong] when pw has fewer than
// minLen or more than maxLen UTF-16 code units, the unit JavaScript's String.length (and so
// Better Auth's minPasswordLength/maxPasswordLength, spec §4.1) counts: an emoji outside the
// Basic Multilingual Plane counts 2. The password is not trimmed or otherwise changed.
//
// Its cost is bounded by maxLen, not by len(pw), so it can run on a 10 MB input before any
// hashing (PWD-04).
func CheckLength(pw string, minLen, maxLen int) error {
	// A UTF-16 code unit takes at most 3 bytes of UTF-8, so this input is too long whatever
	// it holds; no need to count it.
	if len(pw)/3 > maxLen {
		return fmt.Errorf("%w: more than %d characters", ErrTooLong, maxLen)
	}
	n := 0
	for _, r := range pw {
		n += utf16.RuneLen(r) // 1 or 2; invalid UTF-8 decodes to U+FFFD, 1 unit
	}
	switch {
	case n < minLen:
		return fmt.Errorf("%w: %d characters, at least %d required", ErrTooShort, n, minLen)
	case n > maxLen:
		return fmt.Errorf("%w: %d characters, at most %d allowed", ErrTooLong, n, maxLen)
	}
	return nil
}
