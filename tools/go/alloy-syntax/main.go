// Command alloy-syntax checks Alloy configuration files with the parser of Alloy's own syntax module (the
// version Alloy's go.mod requires), so the tests need not trust a reimplementation of the grammar.
//
//	alloy-syntax FILE...       parse every file; print the diagnostics and exit 1 on any syntax error
//	alloy-syntax -fmt FILE     print FILE as Alloy's printer lays it out (the layout `alloy fmt` writes)
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"

	"github.com/grafana/alloy/syntax/diag"
	"github.com/grafana/alloy/syntax/parser"
	"github.com/grafana/alloy/syntax/printer"
)

func main() {
	format := flag.Bool("fmt", false, "print the formatted file to stdout (one file)")
	flag.Parse()
	if flag.NArg() == 0 || (*format && flag.NArg() != 1) {
		fmt.Fprintln(os.Stderr, "usage: alloy-syntax FILE... | alloy-syntax -fmt FILE")
		os.Exit(2)
	}
	failed := false
	for _, name := range flag.Args() {
		data, err := os.ReadFile(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		file, err := parser.ParseFile(name, data)
		if err != nil {
			failed = true
			if diags, ok := err.(diag.Diagnostics); ok {
				_ = diag.Fprint(os.Stderr, map[string][]byte{name: data}, diags)
			} else {
				fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
			}
			continue
		}
		if *format {
			var out bytes.Buffer
			if err := printer.Fprint(&out, file); err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
				os.Exit(1)
			}
			out.WriteByte('\n')
			_, _ = os.Stdout.Write(out.Bytes())
		}
	}
	if failed {
		os.Exit(1)
	}
}
