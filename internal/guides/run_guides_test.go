//go:build guides

package guides

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestGuidesRunAsWritten runs every guide's run, fails and background
// blocks, in order, one bash session per document, with the crosstalk,
// nats and nats-server found on PATH (.ci/run builds and installs them).
// GUIDES=README.md,docs/operations.md runs only those.
func TestGuidesRunAsWritten(t *testing.T) {
	for _, tool := range []string{"crosstalk", "nats", "nats-server", "bash"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not on PATH: the guides need it (.ci/run installs it)", tool)
		}
	}
	policies, err := filepath.Glob(filepath.Join("..", "..", "docs", "policies", "*.json"))
	if err != nil || len(policies) == 0 {
		t.Fatalf("no policies in docs/policies: %v", err)
	}
	copies := map[string]string{}
	for _, p := range policies {
		copies[filepath.Join("docs", "policies", filepath.Base(p))] = p
	}
	only := os.Getenv("GUIDES")
	for _, path := range guideFiles(t) {
		doc := strings.TrimPrefix(path, "../../")
		if only != "" && !strings.Contains(","+only+",", ","+doc+",") {
			continue
		}
		t.Run(doc, func(t *testing.T) {
			src, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := RunDocument(context.Background(), doc, src, Options{Copy: copies}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
