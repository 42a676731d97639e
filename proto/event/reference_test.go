package event

import (
	"bytes"
	"os"
	"testing"
)

func TestReferenceCurrent(t *testing.T) {
	got, err := os.ReadFile("../../docs/events.md")
	if err != nil || !bytes.Equal(got, Reference()) {
		t.Fatalf("docs/events.md is stale or missing (%v): run go generate ./proto/event", err)
	}
}
