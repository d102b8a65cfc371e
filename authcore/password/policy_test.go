package password

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckLength(t *testing.T) {
	const emoji = "😀" // U+1F600: 4 bytes of UTF-8, 2 UTF-16 code units
	tests := []struct {
		name string
		pw   string
		want error
	}{
		{"7 ASCII", strings.Repeat("a", 7), ErrTooShort},
		{"8 ASCII", strings.Repeat("a", 8), nil},
		{"15 ASCII", strings.Repeat("a", 15), nil},
		{"64 ASCII", strings.Repeat("a", 64), nil},
		{"128 ASCII", strings.Repeat("a", 128), nil},
		{"129 ASCII", strings.Repeat("a", 129), ErrTooLong},
		{"empty", "", ErrTooShort},
		{"3 emoji + 1 = 7 units", strings.Repeat(emoji, 3) + "a", ErrTooShort},
		{"4 emoji = 8 units", strings.Repeat(emoji, 4), nil},
		{"64 emoji = 128 units", strings.Repeat(emoji, 64), nil},
		{"64 emoji + 1 = 129 units", strings.Repeat(emoji, 64) + "a", ErrTooLong},
		{"7 CJK (21 bytes) = 7 units", strings.Repeat("漢", 7), ErrTooShort},
		{"8 CJK = 8 units", strings.Repeat("漢", 8), nil},
		{"128 CJK (384 bytes) = 128 units", strings.Repeat("漢", 128), nil},
		{"129 CJK = 129 units", strings.Repeat("漢", 129), ErrTooLong},
		{"8 spaces: not trimmed", strings.Repeat(" ", 8), nil},
		{"7 chars + spaces around", " abcdefg ", nil},
		{"1 MB", strings.Repeat("a", 1<<20), ErrTooLong},
		{"10 MB of emoji", strings.Repeat(emoji, 10<<20/4), ErrTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckLength(tt.pw, 8, 128)
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("CheckLength = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestIsCommon(t *testing.T) {
	tests := []struct {
		pw   string
		want bool
	}{
		{"password123", true}, // PWD-01's example: "password" + digits
		{"123456789", true},
		{"12345678", true},
		{"password", true},
		{"iloveyou", true},
		{"Password123", true}, // case does not make it less common
		{"PASSWORD", true},
		{"QwErTy", true},
		{"dragon2024", true},     // listed word + year
		{"monkey12", true},       // itself on the list
		{"baseball1", true},      // listed word + 1 digit
		{"password12345", true},  // "password1" + "2345"
		{"iloveyou98765", false}, // five digits appended: not derived
		{"password!", false},
		{"123password", false},
		{"xK9#mQ2$vL7@nR4&pT8!", false}, // random 20 characters
		{"correct horse battery staple", false},
		{"", false},
		{"1234", true},
		{"0", false},
		{strings.Repeat("a", 1<<20), false},
		{"\u212aatie123", true}, // Kelvin sign K lower-cases to k: "katie" + 123
	}
	for _, tt := range tests {
		if got := IsCommon(tt.pw); got != tt.want {
			t.Errorf("IsCommon(%q) = %v, want %v", tt.pw, got, tt.want)
		}
	}
}

func TestCommonListIsClean(t *testing.T) {
	// 3545 lines, 3410 distinct once lower-cased ("Password", "PASSWORD", ...).
	if got, want := len(commonSet().set), 3410; got != want {
		t.Fatalf("common set has %d entries, want %d", got, want)
	}
	for i, line := range strings.Split(strings.TrimSuffix(commonList, "\n"), "\n") {
		if line == "" || strings.HasPrefix(line, "#!") || strings.TrimSpace(line) != line {
			t.Fatalf("common.txt line %d = %q: comments, blanks and stray spaces must be stripped", i+1, line)
		}
	}
}

func BenchmarkIsCommon(b *testing.B) {
	commonSet()
	for b.Loop() {
		IsCommon("Tr0ub4dor&3-not-common")
	}
}
