package event

import (
	"bytes"
	"fmt"
	"reflect"
	"sort"
	"strings"
)

// Reference renders docs/events.md: every event kind and command body with
// each field's msgpack key, JavaScript (json) name and type, read from the
// types themselves so the page cannot drift from the code.
func Reference() []byte {
	var b bytes.Buffer
	b.WriteString("# Event and command reference\n\n")
	b.WriteString("<!-- Generated from proto/event by `go generate ./proto/event`. DO NOT EDIT. -->\n\n")
	b.WriteString("An event frame's `d` is a `bin` holding a msgpack map with the **key** column's keys (a command's\n")
	b.WriteString("`b` holds its body the same way); the browser library\n")
	b.WriteString("exposes the same fields under the **js** names (`bytes` become `Uint8Array`). Times are Unix µs.\n")
	b.WriteString("Every event has `m`, the metadata (see `Meta` below). Unknown keys must be ignored.\n\n")
	kinds := Kinds()
	sort.Strings(kinds)
	b.WriteString("## Events\n\n| kind | Go type | retained |\n|---|---|---|\n")
	for _, k := range kinds {
		ret := ""
		if Retained(k) {
			ret = "yes"
		}
		fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", k, reflect.TypeOf(New(k)).Elem().Name(), ret)
	}
	cmds := make([]string, 0, len(commands))
	for k := range commands {
		cmds = append(cmds, k)
	}
	sort.Strings(cmds)
	b.WriteString("\n## Commands\n\n| kind | body type |\n|---|---|\n")
	for _, k := range cmds {
		fmt.Fprintf(&b, "| `%s` | `%s` |\n", k, reflect.TypeOf(NewCommand(k)).Elem().Name())
	}
	b.WriteString("\n## Types\n")
	seen := map[reflect.Type]bool{}
	var queue []reflect.Type
	queue = append(queue, reflect.TypeOf(Meta{}))
	for _, k := range kinds {
		queue = append(queue, reflect.TypeOf(New(k)).Elem())
	}
	for _, k := range cmds {
		queue = append(queue, reflect.TypeOf(NewCommand(k)).Elem())
	}
	for len(queue) > 0 {
		t := queue[0]
		queue = queue[1:]
		if seen[t] {
			continue
		}
		seen[t] = true
		fmt.Fprintf(&b, "\n### %s\n\n| key | js | type |\n|---|---|---|\n", t.Name())
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			key, _, _ := strings.Cut(f.Tag.Get("msg"), ",")
			js, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if key == "" || key == "-" {
				continue
			}
			fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", key, js, typeName(f.Type))
			for _, inner := range structsIn(f.Type) {
				if !seen[inner] {
					queue = append(queue, inner)
				}
			}
		}
	}
	return b.Bytes()
}

func typeName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "bytes"
		}
		return "[" + typeName(t.Elem()) + "]"
	case reflect.Map:
		return "map " + typeName(t.Key()) + " → " + typeName(t.Elem())
	case reflect.Pointer:
		return typeName(t.Elem()) + " or nil"
	case reflect.Struct:
		return "map (" + t.Name() + ")"
	}
	if t.PkgPath() != "" && t.Name() != t.Kind().String() {
		return t.Kind().String() + " (" + t.Name() + ")"
	}
	return t.Kind().String()
}

func structsIn(t reflect.Type) []reflect.Type {
	for t.Kind() == reflect.Slice || t.Kind() == reflect.Pointer || t.Kind() == reflect.Map {
		t = t.Elem()
	}
	if t.Kind() == reflect.Struct {
		return []reflect.Type{t}
	}
	return nil
}
