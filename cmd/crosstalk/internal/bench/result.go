package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is everything a run measured.
type Result struct {
	Environment Environment
	// Figures in the order they were measured.
	Figures []Figure
	// Ratios of a figure to its yardstick.
	Ratios []Ratio
	// Targets with the figure each was checked against.
	Targets []Target
}

// Figure is one measured quantity.
type Figure struct {
	Name  string  `json:"-"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// P50 and P99 are latencies of single requests; zero for figures that
	// are not made of requests.
	P50 time.Duration `json:"-"`
	P99 time.Duration `json:"-"`
	// Count is how many operations (messages, events, requests,
	// conversations) the figure is made of.
	Count int64 `json:"count"`
	// Elapsed is the wall time they took.
	Elapsed time.Duration `json:"-"`
	// CPU is the CPU time (user and system) of the whole process while the
	// figure was measured: broker, service, projector and clients.
	CPU time.Duration `json:"-"`
	// Note says what exactly was measured, in a few words.
	Note string `json:"note,omitempty"`
}

// Ratio is Figure / Base, of their values or of their CPU time per
// operation.
type Ratio struct {
	Name   string `json:"-"`
	Figure string `json:"figure"`
	Base   string `json:"base"`
	// Measure is what is divided: MeasureValue or MeasureCPUPerOp.
	Measure string  `json:"measure"`
	Value   float64 `json:"value"`
}

// What a Ratio divides.
const (
	MeasureValue    = "value"
	MeasureCPUPerOp = "cpu_per_op"
)

// Target is one goal and whether the run met it.
type Target struct {
	Name string  `json:"name"`
	Want string  `json:"want"`
	Got  float64 `json:"got"`
	Unit string  `json:"unit"`
	Pass bool    `json:"pass"`
}

// Environment says where and how the figures were taken: they mean little
// without it.
type Environment struct {
	CPUs          int     `json:"cpus"`
	GOMAXPROCS    int     `json:"gomaxprocs"`
	GoVersion     string  `json:"go_version"`
	OS            string  `json:"os"`
	NATS          string  `json:"nats"`
	Identity      string  `json:"identity"`
	Durable       string  `json:"durable"`
	LoadAvgStart  string  `json:"load_avg_start,omitempty"`
	LoadAvgEnd    string  `json:"load_avg_end,omitempty"`
	Duration      string  `json:"duration"`
	Conversations int     `json:"conversations"`
	Clients       int     `json:"clients"`
	InFlight      int     `json:"in_flight"`
	Backlog       int     `json:"backlog"`
	IntakeBacklog int     `json:"intake_backlog"`
	InboxStore    int     `json:"inbox_store"`
	InboxSmall    int     `json:"inbox_small"`
	Close         int     `json:"close"`
	Started       string  `json:"started"`
	Seconds       float64 `json:"seconds"`
}

func newEnvironment(o Options, nats string) Environment {
	return Environment{
		CPUs: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
		OS: runtime.GOOS + "/" + runtime.GOARCH, NATS: nats, LoadAvgStart: loadAvg(),
		Duration: o.Duration.String(), Conversations: o.Conversations, Clients: o.Clients, InFlight: o.InFlight,
		Backlog: o.Backlog, IntakeBacklog: o.IntakeBacklog, InboxStore: o.InboxStore, InboxSmall: o.InboxSmall, Close: o.Close,
		Started: time.Now().UTC().Format(time.RFC3339),
	}
}

// loadAvg is the 1, 5 and 15 minute load averages where the system tells
// them (Linux), "" elsewhere: other work on the machine skews the figures.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// Figure returns the figure named name.
func (r Result) Figure(name string) (Figure, bool) {
	for _, f := range r.Figures {
		if f.Name == name {
			return f, true
		}
	}
	return Figure{}, false
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// WriteTable prints the figures, the ratios and the targets for people.
func (r Result) WriteTable(w io.Writer) error {
	env := r.Environment
	fmt.Fprintf(w, "crosstalk bench: %d CPUs (GOMAXPROCS %d), %s, %s\n", env.CPUs, env.GOMAXPROCS, env.GoVersion, env.OS)
	fmt.Fprintf(w, "NATS: %s; load average %s at start, %s at end; %.0fs in all\n",
		env.NATS, orDash(env.LoadAvgStart), orDash(env.LoadAvgEnd), env.Seconds)
	fmt.Fprintf(w, "identities: %s\n", orDash(env.Identity))
	fmt.Fprintf(w, "durable: %s\n\n", orDash(env.Durable))
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "figure\tvalue\tunit\tp50\tp99\tcpu/op\tmeasured")
	for _, f := range r.Figures {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Name, number(f.Value), f.Unit, latency(f.P50), latency(f.P99), cpuPerOp(f), f.Note)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "ratio\tvalue")
	for _, q := range r.Ratios {
		of := ""
		if q.Measure == MeasureCPUPerOp {
			of = " (cpu/op)"
		}
		fmt.Fprintf(tw, "%s / %s%s\t%.3f\n", q.Figure, q.Base, of, q.Value)
	}
	fmt.Fprintln(tw, "\t")
	fmt.Fprintln(tw, "target\twant\tgot\tresult")
	for _, t := range r.Targets {
		result := "MISS"
		if t.Pass {
			result = "PASS"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Want, strings.TrimSpace(number(t.Got)+" "+t.Unit), result)
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// number prints a figure with as many digits as it deserves.
func number(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.3f", v)
}

// cpuPerOp is the process's CPU time per operation of f, in microseconds.
func cpuPerOp(f Figure) string {
	if v := cpuPerOpValue(f); v > 0 {
		return fmt.Sprintf("%.0fµs", v)
	}
	return "-"
}

func latency(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fms", ms(d))
}

// jsonFigure is a Figure as --json prints it.
type jsonFigure struct {
	Figure
	P50ms      float64 `json:"p50_ms,omitempty"`
	P99ms      float64 `json:"p99_ms,omitempty"`
	Seconds    float64 `json:"seconds"`
	CPUSeconds float64 `json:"cpu_seconds"`
	CPUusPerOp float64 `json:"cpu_us_per_op"`
}

// MarshalJSON prints one object: the environment, the figures and ratios
// keyed by name, and the targets.
func (r Result) MarshalJSON() ([]byte, error) {
	figures := make(map[string]jsonFigure, len(r.Figures))
	for _, f := range r.Figures {
		jf := jsonFigure{Figure: f, P50ms: ms(f.P50), P99ms: ms(f.P99), Seconds: f.Elapsed.Seconds(), CPUSeconds: f.CPU.Seconds()}
		jf.CPUusPerOp = cpuPerOpValue(f)
		figures[f.Name] = jf
	}
	ratios := make(map[string]Ratio, len(r.Ratios))
	for _, q := range r.Ratios {
		ratios[q.Name] = q
	}
	return json.Marshal(struct {
		Environment Environment           `json:"environment"`
		Figures     map[string]jsonFigure `json:"figures"`
		Ratios      map[string]Ratio      `json:"ratios"`
		Targets     []Target              `json:"targets"`
	}{r.Environment, figures, ratios, r.Targets})
}

// plural is "1 client" or "n clients".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
