// Package serving is the work of 'crosstalk serve' past its flags: the
// node's options from them, the runtime's GC target and memory budget
// (also taken by bench and soak), the log format, and the node run with its
// HTTP probe beside it.
package serving
