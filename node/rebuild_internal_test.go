package node

import (
	"os"
	"path/filepath"
	"testing"
)

// settleViews leaves one read model in Views from every state a crash can
// leave an online rebuild in.
func TestSettleViewsAfterACrashAnywhere(t *testing.T) {
	const live, rebuilt = "live", "rebuilt"
	cases := []struct {
		name    string
		views   string // what Views holds, "" for nothing
		rebuild string // what RebuildViews holds
		marker  string // the marker's content, "" for none
		want    string // what Views holds after
	}{
		{"no rebuild", live, "", "", live},
		{"killed mid-rebuild", live, "partial", "", live},
		{"killed after the mark", live, rebuilt, "views.rebuild", rebuilt},
		{"killed while removing the old views", "", rebuilt, "views.rebuild", rebuilt},
		{"killed after the rename", rebuilt, "", "views.rebuild", rebuilt},
		{"killed mid-rebuild back into views", "partial", live, "views.rebuild", live},
		{"killed after marking views", rebuilt, live, "views", rebuilt},
		{"killed after removing the old rebuild dir", rebuilt, "", "views", rebuilt},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := Layout{Dir: t.TempDir()}
			put := func(dir, content string) {
				if content == "" {
					return
				}
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, "content"), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			put(l.Views(), c.views)
			put(l.RebuildViews(), c.rebuild)
			if c.marker != "" {
				if err := os.WriteFile(l.RebuiltMarker(), []byte(c.marker+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			did, err := l.settleViews()
			if err != nil {
				t.Fatal(err)
			}
			if (did == "") != (c.rebuild == "" && c.marker == "") {
				t.Errorf("settleViews says %q: it must say what it did, and only when it did something", did)
			}
			if again, err := l.settleViews(); err != nil || again != "" { // settling twice changes nothing more
				t.Fatalf("settling again: %q, %v", again, err)
			}
			got, err := os.ReadFile(filepath.Join(l.Views(), "content"))
			if err != nil || string(got) != c.want {
				t.Fatalf("views hold %q (%v), want %q", got, err, c.want)
			}
			for _, gone := range []string{l.RebuildViews(), l.RebuiltMarker()} {
				if _, err := os.Stat(gone); !os.IsNotExist(err) {
					t.Fatalf("%s is left: %v", gone, err)
				}
			}
		})
	}
}

// A marker naming anything but a directory of the views is an error, not
// a guess.
func TestSettleViewsRefusesAStrangeMarker(t *testing.T) {
	l := Layout{Dir: t.TempDir()}
	if err := os.WriteFile(l.RebuiltMarker(), []byte("../elsewhere\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := l.settleViews(); err == nil {
		t.Fatal("a strange marker was accepted")
	}
}
