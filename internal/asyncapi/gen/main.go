// Command gen writes docs/asyncapi.yaml: go generate ./internal/asyncapi.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/crosstalk-dev/crosstalk/internal/asyncapi"
)

func main() {
	out := flag.String("o", "docs/asyncapi.yaml", "the file to write")
	flag.Parse()
	b, err := asyncapi.Marshal(asyncapi.Document())
	if err == nil {
		err = os.WriteFile(*out, b, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "asyncapi:", err)
		os.Exit(1)
	}
}
