package main

import (
	"bytes"
	"log"
	"os"

	"github.com/fieldrelay/fieldrelay/proto/event"
)

func main() {
	const path = "../../docs/events.md"
	b := event.Reference()
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, b) {
		return
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		log.Fatal(err)
	}
}
