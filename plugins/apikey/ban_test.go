package apikey

import (
	"testing"
	"time"

	"github.com/gatehouse-auth/gatehouse/storage"
)

// An owner's ban bars their keys only while it lasts: an expired banExpires no longer counts,
// even before the admin plugin lifts it in storage at the owner's next sign-in.
func TestBannedAt(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for name, tc := range map[string]struct {
		user storage.Record
		want bool
	}{
		"no user":          {nil, false},
		"not banned":       {storage.Record{"banned": false}, false},
		"banned for ever":  {storage.Record{"banned": true}, true},
		"ban still on":     {storage.Record{"banned": true, "banExpires": now.Add(time.Minute)}, true},
		"ban expired":      {storage.Record{"banned": true, "banExpires": now.Add(-time.Minute)}, false},
		"ban ends exactly": {storage.Record{"banned": true, "banExpires": now}, false},
	} {
		if got := bannedAt(tc.user, now); got != tc.want {
			t.Errorf("%s: bannedAt = %v, want %v", name, got, tc.want)
		}
	}
}
