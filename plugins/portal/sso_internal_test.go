package portal

import (
	"bytes"
	"html/template"
	"strings"
	"testing"
)

// TestMetaRefreshOnlyHTTP: the interstitial's refresh and link accept absolute http(s) URLs
// only, and the template HTML-escapes what they let through.
func TestMetaRefreshOnlyHTTP(t *testing.T) {
	for _, bad := range []string{"javascript:alert(1)", "data:text/html,x", "/relative", "//evil.example/", "https://u:p@idp.example/",
		"https://idp.example/\"><script>", "https://idp.example/a b", "https://idp.example/\r\nx", "", "https://"} {
		if got := metaRefresh(bad); got != "" {
			t.Errorf("metaRefresh(%q) = %q", bad, got)
		}
		if got := continueHref(bad); got != "#" {
			t.Errorf("continueHref(%q) = %q", bad, got)
		}
	}
	u := "https://idp.example/authorize?a=1&state=x%3Cy"
	if got := metaRefresh(u); got != "0;url="+u {
		t.Fatalf("metaRefresh = %q", got)
	}
	tt := template.Must(template.New("x").Funcs(template.FuncMap{"metaRefresh": metaRefresh, "continueHref": continueHref}).
		Parse(`<meta http-equiv="refresh" content="{{metaRefresh .}}"><a href="{{continueHref .}}">`))
	var buf bytes.Buffer
	if err := tt.Execute(&buf, u); err != nil {
		t.Fatal(err)
	}
	if want := `content="0;url=https://idp.example/authorize?a=1&amp;state=x%3Cy"`; !strings.Contains(buf.String(), want) {
		t.Fatalf("rendered %s", buf.String())
	}
}
