package batch

import (
	"bytes"
	"os"
	"reflect"
	"runtime"
	"slices"
	"sort"
	"testing"

	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/wasm/bridge/internal/batch/internal/planner"
)

// buildTable builds the plans of package event's types with reflect, as
// ./gen does.
func buildTable(t *testing.T) *planner.Table {
	t.Helper()
	if runtime.GOOS == "js" {
		t.Skip("needs the go command")
	}
	dir, err := planner.EventDir()
	if err != nil {
		t.Fatal(err)
	}
	tb, err := planner.Build(dir)
	if err != nil {
		t.Fatal(err)
	}
	return tb
}

// convert turns the planner's plans into batch's, their indices shifted
// by offset.
func convert(t *testing.T, ps []planner.Plan, offset int) []plan {
	t.Helper()
	out := make([]plan, len(ps))
	for i, p := range ps {
		k := slices.Index(kindNames[:], p.Kind)
		if k < 0 {
			t.Fatalf("plan %d (%s): kind %q", i, p.Type, p.Kind)
		}
		q := plan{kind: kind(k), n: p.N, limit: p.Limit}
		switch q.kind {
		case kSlice, kArray, kMap, kPointer:
			q.elem = p.Elem + offset
		}
		if q.kind == kStruct {
			q.fields = []field{}
			for _, f := range p.Fields {
				g := field{name: f.Name, key: f.Key, omit: f.Omit, omitWire: f.OmitWire, plan: f.Plan + offset}
				if f.Name != "" {
					g.json = string(appendString(nil, f.Name)) + ":"
				}
				q.fields = append(q.fields, g)
			}
		}
		out[i] = q
	}
	prepare(out)
	return out
}

// testPlan returns the plan of t, a type of a test, added to plans until
// the test ends.
func testPlan(t *testing.T, typ reflect.Type) *plan {
	t.Helper()
	var tb planner.Table
	i, err := tb.Add(typ)
	if err != nil {
		t.Fatal(err)
	}
	saved := plans
	plans = append(plans[:len(plans):len(plans)], convert(t, tb.Plans, len(plans))...)
	t.Cleanup(func() { plans = saved })
	return &plans[len(saved)+i]
}

// TestPlansCurrent fails when plans_gen.go is not what ./gen writes from
// today's types: run go generate.
func TestPlansCurrent(t *testing.T) {
	src, err := planner.Render(buildTable(t), "batch", `"go run ./gen"`)
	if err != nil {
		t.Fatal(err)
	}
	old, err := os.ReadFile("plans_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(old, src) {
		t.Fatal("plans_gen.go is out of date with package event: run go generate ./wasm/bridge/internal/batch")
	}
}

// TestPlansMatchReflect compares the compiled plans with those reflect
// builds from package event's types today.
func TestPlansMatchReflect(t *testing.T) {
	tb := buildTable(t)
	if want := convert(t, tb.Plans, 0); !reflect.DeepEqual(plans, want) {
		for i := range min(len(plans), len(want)) {
			if !reflect.DeepEqual(plans[i], want[i]) {
				t.Fatalf("plan %d (%s) is\n%+v\nreflect builds\n%+v\nrun go generate ./wasm/bridge/internal/batch", i, tb.Plans[i].Type, plans[i], want[i])
			}
		}
		t.Fatalf("%d plans, reflect builds %d: run go generate ./wasm/bridge/internal/batch", len(plans), len(want))
	}
	if !reflect.DeepEqual(kindPlans, tb.Kinds) {
		t.Errorf("kindPlans %v, reflect builds %v", kindPlans, tb.Kinds)
	}
	want := map[string]commandPlan{}
	for _, c := range tb.Commands {
		want[c.Kind] = commandPlan{c.Body, c.Result}
	}
	if !reflect.DeepEqual(commandPlans, want) {
		t.Errorf("commandPlans %v, reflect builds %v", commandPlans, want)
	}

	// Every kind of package event has a plan of its own type, every
	// command kind a body plan.
	kinds := event.Kinds()
	sort.Strings(kinds)
	for _, k := range kinds {
		if planOfKind(k) == nil {
			t.Errorf("event kind %s has no plan", k)
		}
	}
	cmds, err := planner.CommandKinds()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range cmds {
		if !IsCommand(k) {
			t.Errorf("command kind %s has no plan", k)
		}
		if (planner.ResultType(k) != nil) != (resultPlan(k) != nil) {
			t.Errorf("command kind %s: result plan %v", k, resultPlan(k))
		}
	}
}

// TestPlanRules checks the planner on the cases package event does not
// have yet.
func TestPlanRules(t *testing.T) {
	type rec struct {
		Next *rec              `msg:"n" json:"next"`
		Kids []rec             `msg:"k,limit=3" json:"kids"`
		Skip string            `msg:"-" json:"skip"`
		Wire string            `msg:"w" json:"-"`
		M    map[string][]byte `msg:"m,limit=7" json:"m,omitempty"`
		A    [2]int8           `json:"a"`
		I    any               `msg:"i"`
		priv int
	}
	var tb planner.Table
	i, err := tb.Add(reflect.TypeFor[rec]())
	if err != nil {
		t.Fatal(err)
	}
	ps := convert(t, tb.Plans, 0)
	p := ps[i]
	if p.kind != kStruct || len(p.fields) != 7 {
		t.Fatalf("plan %+v", p)
	}
	if f := p.fields[0]; f.name != "next" || f.key != "n" || ps[f.plan].kind != kPointer || ps[f.plan].elem != i {
		t.Errorf("recursive pointer %+v → %+v", f, ps[f.plan])
	}
	if f := p.fields[1]; ps[f.plan].kind != kSlice || ps[f.plan].limit != 3 || ps[f.plan].elem != i {
		t.Errorf("limited slice of itself %+v", ps[f.plan])
	}
	if f := p.fields[2]; f.name != "skip" || f.key != "" {
		t.Errorf("msg:\"-\" %+v", f)
	}
	if f := p.fields[3]; f.name != "" || f.key != "w" || f.json != "" {
		t.Errorf("json:\"-\" %+v", f)
	}
	if f := p.fields[4]; !f.omit || f.omitWire || ps[f.plan].limit != 7 || ps[ps[f.plan].elem].kind != kBytes || ps[ps[f.plan].elem].limit != 7 {
		t.Errorf("limited map %+v %+v", f, ps[f.plan])
	}
	if f := p.fields[5]; f.key != "A" || ps[f.plan].kind != kArray || ps[f.plan].n != 2 || ps[ps[f.plan].elem].kind != kInt8 {
		t.Errorf("array %+v", ps[f.plan])
	}
	if f := p.fields[6]; f.name != "I" || ps[f.plan].kind != kInterface {
		t.Errorf("interface %+v", f)
	}
	for _, bad := range []reflect.Type{
		reflect.TypeFor[map[int]string](),
		reflect.TypeFor[chan int](),
		reflect.TypeFor[complex128](),
		reflect.TypeFor[struct {
			X int `json:"x,string"`
		}](),
		reflect.TypeFor[struct {
			X int `msg:"x,allownil"`
		}](),
		reflect.TypeFor[struct{ event.Meta }](),
	} {
		var tb planner.Table
		if _, err := tb.Add(bad); err == nil {
			t.Errorf("planner accepted %s", bad)
		}
	}
}
