package proglove_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/proglove"
)

func addFiles(f *testing.F) {
	names, err := filepath.Glob(filepath.Join("testdata", "*.*"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range names {
		if strings.HasSuffix(name, ".md") {
			continue
		}
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func classified(t *testing.T, err error) {
	t.Helper()
	if k := proglove.ErrorKind(err); k == "" || k == "other" {
		t.Fatalf("unclassified error %v (kind %q)", err, k)
	}
}

// sameMessage compares two messages ignoring Raw, with nil and empty
// device lists equal and an empty api_version read as "1.0".
func sameMessage(a, b proglove.Message) bool {
	norm := func(m proglove.Message) proglove.Message {
		v := reflect.New(reflect.TypeOf(m).Elem())
		v.Elem().Set(reflect.ValueOf(m).Elem())
		c := v.Interface().(proglove.Message)
		if c.Header().APIVersion == "" {
			c.Header().APIVersion = proglove.APIVersion10
		}
		v.Elem().FieldByName("Raw").SetBytes(nil)
		if g, ok := c.(*proglove.GatewayState); ok && len(g.Devices) == 0 {
			g.Devices = nil
		}
		return c
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func FuzzDecode(f *testing.F) {
	addFiles(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := proglove.Decode(b)
		if err != nil {
			if m != nil {
				t.Fatalf("Decode returned a message with error %v", err)
			}
			classified(t, err)
			return
		}
		if !bytes.Equal(m.Bytes(), b) {
			t.Fatalf("Raw = %q, want the input", m.Bytes())
		}
		outs, err := proglove.Normalize(m, "l", time.Unix(0, 0))
		if err != nil || len(outs) != 1 {
			t.Fatalf("a decoded message does not normalise: %v %+v", err, outs)
		}
		if _, err := outs[0].Event.MarshalMsg(nil); err != nil {
			t.Fatalf("MarshalMsg: %v", err)
		}
		var r proglove.Roster
		for _, d := range r.Observe(outs[0]) {
			if d.Event.Kind() != event.KindScannerState {
				t.Fatalf("derived %s", d.Event.Kind())
			}
		}
		if _, ok := m.(*proglove.Other); ok {
			return // only its envelope and serials are re-encoded
		}
		enc, err := proglove.EncodeMessage(m)
		if err != nil {
			t.Fatalf("EncodeMessage: %v", err)
		}
		again, err := proglove.Decode(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if !sameMessage(m, again) {
			t.Fatalf("round trip changed the message:\n in  %#v\n out %#v\n via %s", m, again, enc)
		}
	})
}

// sameCommand compares commands with nil and empty lists equal and an
// empty refresh type read as DEFAULT.
func sameCommand(a, b proglove.Command) bool {
	norm := func(c proglove.Command) proglove.Command {
		switch c := c.(type) {
		case *proglove.Display:
			cp := *c
			if cp.RefreshType == "" {
				cp.RefreshType = proglove.RefreshDefault
			}
			if len(cp.Fields) == 0 {
				cp.Fields = nil
			}
			return &cp
		case *proglove.TriggerBlock:
			cp := *c
			if len(cp.BlockGestures) == 0 {
				cp.BlockGestures = nil
			}
			if len(cp.UnblockGestures) == 0 {
				cp.UnblockGestures = nil
			}
			return &cp
		}
		return c
	}
	return reflect.DeepEqual(norm(a), norm(b))
}

func FuzzDecodeCommand(f *testing.F) {
	addFiles(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := proglove.DecodeCommand(b)
		if err != nil {
			classified(t, err)
			if c == nil && proglove.ErrorKind(err) != "json" {
				t.Fatalf("no command returned with %v", err)
			}
			return
		}
		enc, err := proglove.EncodeCommand(c)
		if err != nil {
			t.Fatalf("EncodeCommand of a valid command: %v", err)
		}
		for _, ch := range enc {
			if ch >= 0x80 {
				t.Fatalf("non-ASCII in %q", enc)
			}
		}
		again, err := proglove.DecodeCommand(enc)
		if err != nil {
			t.Fatalf("re-decoding %s: %v", enc, err)
		}
		if !sameCommand(c, again) {
			t.Fatalf("round trip changed the command:\n in  %#v\n out %#v", c, again)
		}
	})
}

func FuzzSplit(f *testing.F) {
	addFiles(f)
	f.Fuzz(func(t *testing.T, b []byte) {
		msgs := proglove.Split(b)
		for _, m := range msgs {
			if len(bytes.TrimSpace(m)) == 0 {
				t.Fatalf("blank message from %q", b)
			}
			if !bytes.Contains(b, m) {
				t.Fatalf("message %q is not part of the frame", m)
			}
		}
		outs, err := proglove.NormalizeFrame(b, "l", time.Unix(0, 0))
		if err != nil {
			classified(t, err)
		}
		if len(outs) > len(msgs) {
			t.Fatalf("%d events from %d messages", len(outs), len(msgs))
		}
	})
}
