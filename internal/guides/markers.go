package guides

import (
	"errors"
	"fmt"
	"strings"
)

// Kind is what the runner does with a code block.
type Kind string

// The markers' kinds (docs/guides.md says when to use each).
const (
	// Run blocks run in the document's session; any command that fails
	// fails the guide.
	Run Kind = "run"
	// Fails blocks run in the session and must end with a non-zero status:
	// a step the guide shows being refused.
	Fails Kind = "fails"
	// Background blocks start what a reader runs "in another terminal";
	// the runner waits until the marker's ready command succeeds.
	Background Kind = "background"
	// Output blocks show what the nearest run or fails block above printed;
	// their lines are compared with it (see Compare).
	Output Kind = "output"
	// Transcript blocks are a terminal session: each line beginning with
	// "$ " is a command, run in the session, and the lines up to the next
	// one are its output, compared as an Output block's.
	Transcript Kind = "transcript"
	// NotRun blocks are not run; the marker says why.
	NotRun Kind = "not run"
)

var (
	// ErrUnmarked is a code block without a marker on the line before it.
	ErrUnmarked = errors.New("code block has no <!-- guide: … --> marker on the line before its fence")
	// ErrBadMarker is a marker the vocabulary does not know, or one
	// missing the argument its kind needs.
	ErrBadMarker = errors.New("invalid guide marker")
	// ErrUnclosed is a fence that is never closed.
	ErrUnclosed = errors.New("code block is never closed")
)

// Block is one fenced code block of a document.
type Block struct {
	Line int    // the line of the opening fence, counted from 1
	Info string // what follows the opening fence, such as "sh"
	Kind Kind
	Arg  string // background: the ready command; not run: the reason
	Text string // the block's lines, without the fences and their indent
}

const markerPrefix = "<!-- guide:"

// Parse returns the code blocks of a markdown document with their markers.
// Its error joins one error per unmarked or badly marked block, each
// naming the document and the block's line.
func Parse(doc string, src []byte) ([]Block, error) {
	lines := strings.Split(string(src), "\n")
	var blocks []Block
	var errs []error
	for i := 0; i < len(lines); i++ {
		fence, indent, info, ok := openFence(lines[i])
		if !ok {
			continue
		}
		b := Block{Line: i + 1, Info: info}
		end := closeFence(lines, i+1, fence)
		if end < 0 {
			errs = append(errs, fmt.Errorf("%s:%d: %w", doc, b.Line, ErrUnclosed))
			break
		}
		b.Text = dedent(lines[i+1:end], indent)
		if err := b.mark(lines, i); err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: %w", doc, b.Line, err))
		}
		if b.Kind == Output && !followsRunnable(blocks) {
			errs = append(errs, fmt.Errorf("%s:%d: %w: an output block must follow a run or fails block", doc, b.Line, ErrBadMarker))
		}
		blocks = append(blocks, b)
		i = end
	}
	return blocks, errors.Join(errs...)
}

// openFence reports whether line opens a fenced block, with its fence
// ("```" or "~~~", possibly longer), its indent and its info string.
func openFence(line string) (fence string, indent int, info string, ok bool) {
	trimmed := strings.TrimLeft(line, " ")
	indent = len(line) - len(trimmed)
	if indent > 3 && !strings.HasPrefix(strings.TrimSpace(line), "```") {
		return "", 0, "", false
	}
	for _, c := range []string{"`", "~"} {
		n := len(trimmed) - len(strings.TrimLeft(trimmed, c))
		if n >= 3 {
			return strings.Repeat(c, n), indent, strings.TrimSpace(trimmed[n:]), true
		}
	}
	return "", 0, "", false
}

// closeFence returns the index of the line closing fence, or -1.
func closeFence(lines []string, from int, fence string) int {
	for j := from; j < len(lines); j++ {
		t := strings.TrimSpace(lines[j])
		if strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]) == "" {
			return j
		}
	}
	return -1
}

func dedent(lines []string, indent int) string {
	out := make([]string, len(lines))
	for i, l := range lines {
		n := len(l) - len(strings.TrimLeft(l, " "))
		out[i] = l[min(n, indent):]
	}
	return strings.Join(out, "\n") + "\n"
}

// mark reads the marker on the line before the fence at index i.
func (b *Block) mark(lines []string, i int) error {
	if i == 0 {
		return ErrUnmarked
	}
	m := strings.TrimSpace(lines[i-1])
	if !strings.HasPrefix(m, markerPrefix) || !strings.HasSuffix(m, "-->") {
		return ErrUnmarked
	}
	body := strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(m, markerPrefix), "-->"))
	kind, arg, _ := strings.Cut(body, ":")
	b.Kind, b.Arg = Kind(strings.TrimSpace(kind)), strings.TrimSpace(arg)
	switch b.Kind {
	case Run, Fails, Output, Transcript:
		if b.Arg != "" {
			return fmt.Errorf("%w: %q takes no argument", ErrBadMarker, b.Kind)
		}
	case Background, NotRun:
		if b.Arg == "" {
			return fmt.Errorf("%w: %q needs its argument after a colon (%s)", ErrBadMarker, b.Kind, argNeed[b.Kind])
		}
	default:
		return fmt.Errorf("%w: unknown kind %q", ErrBadMarker, b.Kind)
	}
	return nil
}

var argNeed = map[Kind]string{
	Background: "the command that succeeds once it is ready",
	NotRun:     "why not",
}

// followsRunnable reports whether the nearest block before has a printed
// output to compare with.
func followsRunnable(before []Block) bool {
	for i := len(before) - 1; i >= 0; i-- {
		switch before[i].Kind {
		case Run, Fails:
			return true
		case Output:
			continue
		default:
			return false
		}
	}
	return false
}
