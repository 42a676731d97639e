package planner

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Limits of package event's //msgp:limit directive.
const (
	LimitArrays = 1024
	LimitMaps   = 256
)

// Kinds of plans, named as batch's kindNames has them (the generated code
// writes kind "int32" as kInt32).
var Kinds = []string{
	"invalid", "bool",
	"int", "int8", "int16", "int32", "int64",
	"uint", "uint8", "uint16", "uint32", "uint64",
	"float32", "float64", "string", "bytes",
	"slice", "array", "map", "pointer", "struct", "interface",
}

// Plan is how to transcode one Go type (see package batch's plan).
type Plan struct {
	Type   string // the Go type, for the generated code's comments
	Kind   string // one of Kinds
	Elem   int    // slice, array, map value, pointer: the element's plan
	N      int    // array: its length
	Limit  uint32 // bytes (0: none), slice, map and struct: the most elements msgp accepts
	Fields []Field
}

// Field is a struct field that is a JSON property, a msgpack key, or both.
type Field struct {
	Name     string // the JSON property, "" for none
	Key      string // the msgpack key, "" for none
	Omit     bool   // json omitempty
	OmitWire bool   // msg omitempty
	Plan     int
}

// Command is a command kind's body and result plans (Result -1 for a
// result this version does not know).
type Command struct {
	Kind         string
	Body, Result int
}

// Const is a Go constant of package event naming a kind.
type Const struct{ Name, Value string }

// Table is a set of plans, which refer to each other by index, and the
// roots of package event's kinds.
type Table struct {
	Plans    []Plan
	Kinds    map[string]int // event kind → plan
	Commands []Command      // sorted by kind
	Consts   []Const        // sorted by name

	index map[planKey]int
}

type planKey struct {
	t     reflect.Type
	limit uint32
}

// Add returns the index of t's plan, building it (and those of the types
// it holds) if the table has none yet.
func (tb *Table) Add(t reflect.Type) (int, error) { return tb.add(t, 0) }

// add builds the plan of t as a field whose msg tag has limit=limit (0
// for none).
func (tb *Table) add(t reflect.Type, limit uint32) (int, error) {
	if t.Kind() == reflect.Struct {
		limit = 0 // a struct decodes itself, with the file's limits
	}
	key := planKey{t, limit}
	if i, ok := tb.index[key]; ok {
		return i, nil
	}
	if tb.index == nil {
		tb.index = map[planKey]int{}
	}
	i := len(tb.Plans)
	tb.index[key] = i // before the elements: a recursive type finds it
	tb.Plans = append(tb.Plans, Plan{Type: t.String(), Kind: "invalid"})
	if limit != 0 {
		tb.Plans[i].Type += " (limit " + strconv.FormatUint(uint64(limit), 10) + ")"
	}
	p := Plan{Type: tb.Plans[i].Type}
	var err error
	or := func(v, def uint32) uint32 {
		if v != 0 {
			return v
		}
		return def
	}
	switch t.Kind() {
	case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64,
		reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		p.Kind = t.Kind().String()
	case reflect.Interface:
		p.Kind = "interface"
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			p.Kind, p.Limit = "bytes", limit
			break
		}
		p.Kind, p.Limit = "slice", or(limit, LimitArrays)
		p.Elem, err = tb.add(t.Elem(), limit)
	case reflect.Array:
		p.Kind, p.N = "array", t.Len()
		p.Elem, err = tb.add(t.Elem(), limit)
	case reflect.Map:
		if t.Key().Kind() != reflect.String {
			return 0, fmt.Errorf("planner: %s: map keys must be strings", t)
		}
		p.Kind, p.Limit = "map", or(limit, LimitMaps)
		p.Elem, err = tb.add(t.Elem(), limit)
	case reflect.Pointer:
		p.Kind = "pointer"
		p.Elem, err = tb.add(t.Elem(), limit)
	case reflect.Struct:
		p.Kind, p.Limit = "struct", LimitMaps
		p.Fields, err = tb.fields(t)
	default:
		return 0, fmt.Errorf("planner: %s: a %s cannot be encoded", t, t.Kind())
	}
	if err != nil {
		return 0, err
	}
	tb.Plans[i] = p
	return i, nil
}

func (tb *Table) fields(t reflect.Type) ([]Field, error) {
	var out []Field
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if !sf.IsExported() {
			continue
		}
		where := t.String() + "." + sf.Name
		if sf.Anonymous {
			return nil, errors.New("planner: " + where + ": embedded fields are not supported")
		}
		name, jopts, _ := strings.Cut(sf.Tag.Get("json"), ",")
		key, mopts, _ := strings.Cut(sf.Tag.Get("msg"), ",")
		switch name {
		case "-":
			name = "" // not a property; still read past on the wire
		case "":
			name = sf.Name
		}
		switch key {
		case "-":
			key = ""
		case "":
			key = sf.Name
		}
		f := Field{Name: name, Key: key}
		for _, o := range split(jopts) {
			if o != "omitempty" {
				return nil, fmt.Errorf("planner: %s: json option %q is not supported", where, o)
			}
			f.Omit = true
		}
		var limit uint32
		for _, o := range split(mopts) {
			switch {
			case o == "omitempty":
				f.OmitWire = true
			case strings.HasPrefix(o, "limit="):
				n, err := strconv.ParseUint(strings.TrimPrefix(o, "limit="), 10, 32)
				if err != nil {
					return nil, fmt.Errorf("planner: %s: %q: %v", where, o, err)
				}
				limit = uint32(n)
			default:
				return nil, fmt.Errorf("planner: %s: msg option %q is not supported", where, o)
			}
		}
		if f.Name == "" && f.Key == "" {
			continue
		}
		var err error
		if f.Plan, err = tb.add(sf.Type, limit); err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func split(opts string) []string {
	if opts == "" {
		return nil
	}
	return strings.Split(opts, ",")
}
