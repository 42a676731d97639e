package planner

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/fieldrelay/fieldrelay/proto/event"
)

// ResultType returns the type of a successful reply's data for the
// command kind, or nil for kinds whose result this version does not know
// (their raw bytes still reach JavaScript). Package event has no registry
// of results yet: this is the rule its comments state.
func ResultType(kind string) reflect.Type {
	switch {
	case kind == event.CmdLoRaDownlink:
		return reflect.TypeFor[event.DownlinkResult]()
	case strings.HasPrefix(kind, "scanner."):
		return reflect.TypeFor[event.ScannerCommandResult]()
	}
	return nil
}

// CommandKinds lists package event's command kinds, sorted. The package
// exports no list of them, but its Reference (docs/events.md) renders its
// registry as a table, which this reads.
func CommandKinds() ([]string, error) {
	_, cmds, ok := strings.Cut(string(event.Reference()), "\n## Commands\n")
	cmds, _, _ = strings.Cut(cmds, "\n## ")
	if !ok {
		return nil, errors.New("planner: event.Reference has no commands table")
	}
	var out []string
	for _, m := range regexp.MustCompile("(?m)^\\| `([^`]+)` \\| `[^`]+` \\|$").FindAllStringSubmatch(cmds, -1) {
		if event.NewCommand(m[1]) == nil {
			return nil, fmt.Errorf("planner: event.Reference lists command %q, which NewCommand does not know", m[1])
		}
		out = append(out, m[1])
	}
	if len(out) == 0 {
		return nil, errors.New("planner: no command kinds in event.Reference")
	}
	sort.Strings(out)
	return out, nil
}

// Build returns the plans of every type of package event that the bridge
// transcodes or encodes: every event kind's, every command kind's body and
// known result, and the constants naming them. dir is package event's
// source directory (see EventDir), read for the constants' names and for
// the //msgp:limit directives the plans assume.
func Build(dir string) (*Table, error) {
	tb := &Table{Kinds: map[string]int{}}
	kinds := event.Kinds()
	sort.Strings(kinds)
	for _, k := range kinds {
		i, err := tb.Add(reflect.TypeOf(event.New(k)).Elem())
		if err != nil {
			return nil, err
		}
		tb.Kinds[k] = i
	}
	cmds, err := CommandKinds()
	if err != nil {
		return nil, err
	}
	for _, k := range cmds {
		c := Command{Kind: k, Result: -1}
		if c.Body, err = tb.Add(reflect.TypeOf(event.NewCommand(k)).Elem()); err != nil {
			return nil, err
		}
		if rt := ResultType(k); rt != nil {
			if c.Result, err = tb.Add(rt); err != nil {
				return nil, err
			}
		}
		tb.Commands = append(tb.Commands, c)
	}
	if tb.Consts, err = consts(dir); err != nil {
		return nil, err
	}
	return tb, nil
}

// EventDir returns the directory of package event's source.
func EventDir() (string, error) {
	pkg := reflect.TypeFor[event.Meta]().PkgPath()
	out, err := exec.Command("go", "list", "-f", "{{.Dir}}", pkg).Output()
	if err != nil {
		return "", fmt.Errorf("planner: go list %s: %v", pkg, err)
	}
	return strings.TrimSpace(string(out)), nil
}

var limitDirective = regexp.MustCompile(`(?m)^//msgp:limit (.*)$`)

// consts reads the string constants named Kind… or Cmd… of package event
// that name a kind or a command kind, and checks that every file msgp
// generates code for has the limits LimitArrays and LimitMaps.
func consts(dir string) ([]Const, error) {
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		return nil, err
	}
	var out []Const
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, "_gen.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			return nil, err
		}
		if bytes.Contains(src, []byte("\n//go:generate go tool msgp ")) {
			m := limitDirective.FindSubmatch(src)
			want := fmt.Sprintf("arrays:%d maps:%d", LimitArrays, LimitMaps)
			if m == nil || string(m[1]) != want {
				return nil, fmt.Errorf("planner: %s: the plans assume //msgp:limit %s", filepath.Base(name), want)
			}
		}
		f, err := parser.ParseFile(fset, name, src, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok || g.Tok != token.CONST {
				continue
			}
			for _, s := range g.Specs {
				vs := s.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if i >= len(vs.Values) {
						break
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						return nil, err
					}
					n := id.Name
					if strings.HasPrefix(n, "Kind") && event.New(v) != nil ||
						strings.HasPrefix(n, "Cmd") && event.NewCommand(v) != nil {
						out = append(out, Const{n, v})
					}
				}
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
