package codes

import (
	"bytes"
	"os"
	"testing"
)

func TestTableSortedUniqueAndContract(t *testing.T) {
	for i, in := range Table {
		if i > 0 && Table[i-1].Code >= in.Code {
			t.Errorf("table not in strictly increasing order at %d", in.Code)
		}
		if in.Close != in.Code.IsClose() {
			t.Errorf("%s: Close=%v but code %d", in.Name, in.Close, in.Code)
		}
		if in.Close && in.Reconnect != in.Code.Reconnect() {
			t.Errorf("%s: table says reconnect=%v, range contract says %v", in.Name, in.Reconnect, in.Code.Reconnect())
		}
	}
	if !Code(4321).Reconnect() || Code(4999).Reconnect() || Code(1000).Reconnect() || !Code(1006).Reconnect() {
		t.Error("range contract broken for unlisted codes")
	}
}

// The docs and the JavaScript module must be what the table renders.
func TestGeneratedFilesCurrent(t *testing.T) {
	js, dts := JavaScript()
	for path, want := range map[string][]byte{
		"../../docs/codes.md":             Markdown(),
		"../../jsbindings/src/codes.js":   js,
		"../../jsbindings/src/codes.d.ts": dts,
	} {
		got, err := os.ReadFile(path)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is stale or missing (%v): run go generate ./proto/codes", path, err)
		}
	}
}
