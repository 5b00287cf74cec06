package guides

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// guideFiles are the documents whose code blocks must carry a marker:
// README.md and every markdown file under docs/.
func guideFiles(t *testing.T) []string {
	t.Helper()
	root := filepath.Join("..", "..")
	files := []string{filepath.Join(root, "README.md")}
	err := filepath.WalkDir(filepath.Join(root, "docs"), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(path, ".md") {
			files = append(files, path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestEveryGuideBlockHasAValidMarker(t *testing.T) {
	counts := map[Kind]int{}
	for _, path := range guideFiles(t) {
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		blocks, err := Parse(strings.TrimPrefix(path, "../../"), src)
		if err != nil {
			t.Error(err)
		}
		for _, b := range blocks {
			counts[b.Kind]++
		}
	}
	t.Logf("blocks by kind: %v", counts)
}

func TestParseReportsAnUnmarkedBlockWithItsLine(t *testing.T) {
	src := "# Guide\n\n<!-- guide: run -->\n```sh\ntrue\n```\n\ntext\n```sh\necho unmarked\n```\n"
	blocks, err := Parse("guide.md", []byte(src))
	if !errors.Is(err, ErrUnmarked) || !strings.Contains(err.Error(), "guide.md:9:") {
		t.Fatalf("Parse = %v, want ErrUnmarked at guide.md:9", err)
	}
	if len(blocks) != 2 || blocks[0].Kind != Run || blocks[0].Text != "true\n" {
		t.Fatalf("blocks = %+v", blocks)
	}
}

func TestParseRefusesBadMarkers(t *testing.T) {
	for name, src := range map[string]string{
		"unknown kind":         "<!-- guide: maybe -->\n```\nx\n```\n",
		"not run without why":  "<!-- guide: not run -->\n```\nx\n```\n",
		"background no ready":  "<!-- guide: background -->\n```\nx\n```\n",
		"run with an argument": "<!-- guide: run: quickly -->\n```\nx\n```\n",
		"transcript with why":  "<!-- guide: transcript: x -->\n```\n$ true\n```\n",
		"output first":         "<!-- guide: output -->\n```\nx\n```\n",
		"marker not adjacent":  "<!-- guide: run -->\n\n```\nx\n```\n",
	} {
		if _, err := Parse("g.md", []byte(src)); err == nil {
			t.Errorf("%s: Parse accepted it", name)
		}
	}
}

func TestParseReadsIndentedBlocksAndArguments(t *testing.T) {
	src := "1. Start it:\n   <!-- guide: background: nc -z 127.0.0.1 4222 -->\n   ```sh\n   nats-server -js\n   ```\n" +
		"<!-- guide: not run: Go code -->\n````go\n```\n````\n"
	blocks, err := Parse("g.md", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 || blocks[0].Arg != "nc -z 127.0.0.1 4222" || blocks[0].Text != "nats-server -js\n" ||
		blocks[1].Kind != NotRun || blocks[1].Arg != "Go code" || blocks[1].Text != "```\n" {
		t.Fatalf("blocks = %+v", blocks)
	}
}

func TestCompareIgnoresWhatChangesAndKeepsTheRest(t *testing.T) {
	got := "id 0b9d3f0e-6a51-4c8e-9d0c-2f1f1d3b7a10 at 2026-12-08T02:18:27Z\nlistening on 127.0.0.1:45123\n  took   35ms\nstatus: open\n"
	if err := Compare("id 11111111-2222-3333-4444-555555555555 at 2023-12-06T10:00:00Z\n…\nlistening on 127.0.0.1:4222\nstatus: open\n", got); err != nil {
		t.Fatal(err)
	}
	if err := Compare("status: closed\n", got); !errors.Is(err, ErrOutputDiffers) {
		t.Fatalf("Compare = %v, want ErrOutputDiffers", err)
	}
	if err := Compare("status: open\nlistening on 127.0.0.1:4222\n", got); !errors.Is(err, ErrOutputDiffers) {
		t.Fatalf("Compare out of order = %v, want ErrOutputDiffers", err)
	}
}
