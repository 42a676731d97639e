package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"

	"github.com/fieldrelay/fieldrelay/proto/codes"
)

func main() {
	docs := flag.String("docs", "", "markdown output")
	js := flag.String("js", "", "JavaScript module output (a .d.ts is written beside it)")
	flag.Parse()
	if *docs != "" {
		write(*docs, codes.Markdown())
	}
	if *js != "" {
		jsSrc, dts := codes.JavaScript()
		write(*js, jsSrc)
		write(strings.TrimSuffix(*js, ".js")+".d.ts", dts)
	}
}

func write(path string, b []byte) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Println("wrote", path)
}
