package batch

//go:generate go run ./gen

// A plan says how to transcode (and, for command bodies, encode) one Go
// type of package event. The plans are data, generated from the types
// with reflect by ./gen (package internal/planner states the rules) into
// plans_gen.go, so that the browser build links neither reflect nor
// package event and its msgp runtime; TestPlansCurrent checks that the
// file matches the types.
type plan struct {
	kind kind
	// elem is the index in plans of a slice's, an array's, a map's values'
	// or a pointer's element.
	elem int
	// n is an array's length.
	n int
	// limit bounds a bin's bytes (0: no bound), a slice's elements, or a
	// map's or a struct's pairs, as msgp's generated decoder does.
	limit uint32
	// fields are a struct's exported fields, in their order (which is the
	// order msgp writes their keys in).
	fields []field
}

// field is a struct field that is a JSON property, a msgpack key, or both.
type field struct {
	name     string // the JSON property, "" if none (json:"-")
	json     string // name as a JSON key: `"name":`
	key      string // the msgpack key, "" if none (msg:"-")
	omit     bool   // json omitempty
	omitWire bool   // msg omitempty
	plan     int

	// keyWord is the key as msgp writes it, a fixstr (its header, then
	// its bytes), read as a little-endian word, when that is at most
	// eight bytes long (keyLen, 0 otherwise); keyMask covers its bytes.
	// prepare sets them, from key: the structure loop then recognises
	// the key it expects next with one load and one comparison.
	keyWord, keyMask uint64
	keyLen           int
	// jsonWords are json's bytes as two little-endian words, when it is
	// at most sixteen bytes long (jsonLen, 0 otherwise): two stores write
	// it.
	jsonWords [2]uint64
	jsonLen   int
}

func init() { prepare(plans) }

// prepare sets the fields' keyWord, keyMask, keyLen, jsonWords and
// jsonLen from their key and json.
func prepare(ps []plan) {
	for i := range ps {
		for j := range ps[i].fields {
			f := &ps[i].fields[j]
			f.keyWord, f.keyMask, f.keyLen = 0, 0, 0
			if n := len(f.key); n > 0 && n < 8 {
				f.keyWord = 0xa0 | uint64(n)
				for k := 0; k < n; k++ {
					f.keyWord |= uint64(f.key[k]) << (8 * (k + 1))
				}
				f.keyMask = 1<<(8*(n+1)) - 1
				f.keyLen = n + 1
			}
			f.jsonWords, f.jsonLen = [2]uint64{}, 0
			if n := len(f.json); n > 0 && n <= 16 {
				for k := 0; k < n; k++ {
					f.jsonWords[k/8] |= uint64(f.json[k]) << (8 * (k % 8))
				}
				f.jsonLen = n
			}
		}
	}
}

// commandPlan is a command kind's body and result plans, -1 for none.
type commandPlan struct {
	body, result int
}

// kind is the kind of a plan: a Go kind, with []byte apart.
type kind uint8

const (
	kInvalid kind = iota
	kBool
	kInt
	kInt8
	kInt16
	kInt32
	kInt64
	kUint
	kUint8
	kUint16
	kUint32
	kUint64
	kFloat32
	kFloat64
	kString
	kBytes
	kSlice
	kArray
	kMap // with string keys
	kPointer
	kStruct
	kInterface
)

// kindNames are the kinds as the planner and error messages name them.
var kindNames = [...]string{
	kInvalid: "invalid", kBool: "bool",
	kInt: "int", kInt8: "int8", kInt16: "int16", kInt32: "int32", kInt64: "int64",
	kUint: "uint", kUint8: "uint8", kUint16: "uint16", kUint32: "uint32", kUint64: "uint64",
	kFloat32: "float32", kFloat64: "float64", kString: "string", kBytes: "bytes",
	kSlice: "slice", kArray: "array", kMap: "map", kPointer: "pointer", kStruct: "struct", kInterface: "interface",
}

func (k kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "invalid"
}

// planOfKind returns the plan of an event kind's type, or nil if the kind
// is unknown.
func planOfKind(kind string) *plan {
	if i, ok := kindPlans[kind]; ok {
		return &plans[i]
	}
	return nil
}

// IsCommand reports whether kind is a command kind this version knows.
func IsCommand(kind string) bool {
	_, ok := commandPlans[kind]
	return ok
}

// resultPlan returns the plan of a command kind's result, or nil if it
// is not known.
func resultPlan(kind string) *plan {
	if c, ok := commandPlans[kind]; ok && c.result >= 0 {
		return &plans[c.result]
	}
	return nil
}

// ResultPaths returns the paths of the []byte properties of a command
// kind's result (see Paths), or nil.
func ResultPaths(kind string) [][]string {
	if p := resultPlan(kind); p != nil {
		return bytesPaths(p)
	}
	return nil
}

// Paths returns, for every known event kind that has []byte properties,
// the JSON paths of those properties: each a list of property names,
// where "*" stands for every element of an array or every value of an
// object.
func Paths() map[string][][]string {
	out := make(map[string][][]string)
	for kind, i := range kindPlans {
		if paths := bytesPaths(&plans[i]); len(paths) > 0 {
			out[kind] = paths
		}
	}
	return out
}

// bytesPaths returns the JSON paths of the []byte properties of p's
// values.
func bytesPaths(p *plan) [][]string {
	var paths [][]string
	walkBytes(p, nil, map[*plan]bool{}, &paths)
	return paths
}

func walkBytes(p *plan, path []string, seen map[*plan]bool, out *[][]string) {
	for p.kind == kPointer {
		p = &plans[p.elem]
	}
	if p.kind == kBytes {
		*out = append(*out, append([]string(nil), path...))
		return
	}
	if seen[p] {
		return // a recursive type: its paths would be endless
	}
	seen[p] = true
	defer delete(seen, p)
	switch p.kind {
	case kStruct:
		for i := range p.fields {
			if f := &p.fields[i]; f.name != "" {
				walkBytes(&plans[f.plan], append(path, f.name), seen, out)
			}
		}
	case kSlice, kArray, kMap:
		walkBytes(&plans[p.elem], append(path, "*"), seen, out)
	}
}
