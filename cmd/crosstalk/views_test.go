package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/crosstalk-dev/crosstalk/natsconf"
)

// 'crosstalk views rebuild' rebuilds a serving node's views as the admin,
// shows the progress and says when the rebuilt views answer; an app's
// credentials may not ask for it.
func TestViewsRebuildEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	url, c, stop := serveUnderIdentities(t, "--data", t.TempDir())
	defer stop()
	as := func(principal string) []string {
		return append([]string{"--nats-url", url}, credFlags(t, c, principal)...)
	}
	v1 := filepath.Join("..", "..", "docs", "policies", "v1-2020-cross-app.json")
	if out, errOut, err := runCLI(ctx, append([]string{"policy", "publish", v1}, as(natsconf.PrincipalAdmin)...)...); err != nil {
		t.Fatalf("publish v1: %v\n%s%s", err, out, errOut)
	}
	out, errOut, err := runCLI(ctx, append([]string{"views", "rebuild", "--interval", "20ms"}, as(natsconf.PrincipalAdmin)...)...)
	if err != nil {
		t.Fatalf("views rebuild: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(out, "rebuilt the read model: 1 events applied") || !strings.Contains(errOut, "started rebuild") ||
		!strings.Contains(errOut, "rebuilt 1/1 events") {
		t.Fatalf("views rebuild says:\n%s\n%s", out, errOut)
	}
	_, _, err = runCLI(ctx, append([]string{"views", "rebuild"}, as("instagram")...)...)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "permissions violation") {
		t.Fatalf("an app asked for a rebuild: %v", err)
	}
}
