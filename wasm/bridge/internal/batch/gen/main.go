package main

import (
	"bytes"
	"flag"
	"log"
	"os"

	"github.com/fieldrelay/fieldrelay/wasm/bridge/internal/batch/internal/planner"
)

func main() {
	log.SetFlags(0)
	log.SetPrefix("batch/gen: ")
	out := flag.String("o", "plans_gen.go", "the file to write")
	flag.Parse()
	dir, err := planner.EventDir()
	if err != nil {
		log.Fatal(err)
	}
	tb, err := planner.Build(dir)
	if err != nil {
		log.Fatal(err)
	}
	src, err := planner.Render(tb, "batch", `"go run ./gen"`)
	if err != nil {
		log.Fatal(err)
	}
	if old, err := os.ReadFile(*out); err == nil && bytes.Equal(old, src) {
		return
	}
	if err := os.WriteFile(*out, src, 0o644); err != nil {
		log.Fatal(err)
	}
}
