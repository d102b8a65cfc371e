package storage

import (
	"strings"
	"testing"
)

// TestSetDefault: a plugin may change an existing field's default once; a second plugin
// changing it too is refused with both names, and a value of the wrong type is refused.
func TestSetDefault(t *testing.T) {
	s := NewSchema()
	if err := s.AddModel("core", Model{Name: "user", Fields: []Field{{Name: "role", Type: TypeString, Default: "user"}}}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetDefault("admin", "user", "role", "member"); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Normalize("user", Record{"id": "u1"})
	if err != nil || rec["role"] != "member" {
		t.Fatalf("created record = %v, %v; want role member", rec, err)
	}
	if err := s.SetDefault("other", "user", "role", "x"); err == nil || !strings.Contains(err.Error(), `"admin"`) {
		t.Fatalf("second owner: %v", err)
	}
	if err := s.SetDefault("admin", "user", "missing", "x"); err == nil {
		t.Fatal("unknown field accepted")
	}
	if err := s.SetDefault("admin", "user", "role", 12); err == nil {
		t.Fatal("number default accepted for a string field")
	}
}
