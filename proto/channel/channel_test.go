package channel

import "testing"

func TestMatch(t *testing.T) {
	cases := []struct {
		p, n string
		want bool
	}{
		{"a/b", "a/b", true},
		{"a/b", "a/c", false},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
		{"a/+", "a", false},
		{"a/#", "a", true},
		{"a/#", "a/b/c", true},
		{"#", "x/y", true},
		{"+/+/up", "lora/x/up", true},
		{"+/+/up", "lora/x/y/up", false},
		{"lora/+/+/up", "lora/app/dev/up", true},
		{"lora/+/+/up", "lora/gateway/gw1", false},
		{"a/b", "a/b/c", false},
		{"a/b/c", "a/b", false},
		{"+", "a", true},
		{"+/#", "a", true},
	}
	for _, c := range cases {
		if got := Match(c.p, c.n); got != c.want {
			t.Errorf("Match(%q, %q) = %v, want %v", c.p, c.n, got, c.want)
		}
	}
}

func TestCovers(t *testing.T) {
	cases := []struct {
		outer, inner string
		want         bool
	}{
		{"#", "a/+/#", true},
		{"lora/#", "lora/+/+/up", true},
		{"lora/#", "#", false},
		{"lora/+/+/up", "lora/#", false},
		{"lora/+/+/up", "lora/a/+/up", true},
		{"lora/a/+/up", "lora/+/+/up", false},
		{"a/+", "a/b", true},
		{"a/+", "a/b/c", false},
		{"a/b", "a/b", true},
		{"a/#", "a", true},
		{"a/b/#", "a", false},
	}
	for _, c := range cases {
		if got := Covers(c.outer, c.inner); got != c.want {
			t.Errorf("Covers(%q, %q) = %v, want %v", c.outer, c.inner, got, c.want)
		}
	}
}

func TestValid(t *testing.T) {
	good := []string{"a", "a/b", "lora/70b3d57ed000ac4a/8639323559379194/up"}
	for _, s := range good {
		if err := Valid(s); err != nil {
			t.Errorf("Valid(%q) = %v", s, err)
		}
	}
	bad := []string{"", "/", "a/", "/a", "a//b", "a/+", "#", "a b", "a/b#", string(make([]byte, MaxLen+1))}
	for _, s := range bad {
		if Valid(s) == nil {
			t.Errorf("Valid(%q) accepted", s)
		}
	}
	goodP := []string{"#", "+", "a/+/c", "a/#", "+/+/#"}
	for _, s := range goodP {
		if err := ValidPattern(s); err != nil {
			t.Errorf("ValidPattern(%q) = %v", s, err)
		}
	}
	badP := []string{"#/a", "a/b+", "a/#/b", "", "a//#"}
	for _, s := range badP {
		if ValidPattern(s) == nil {
			t.Errorf("ValidPattern(%q) accepted", s)
		}
	}
}

// Covers must agree with Match: if outer covers inner, every name inner
// matches is matched by outer.
func FuzzCovers(f *testing.F) {
	f.Add("lora/#", "lora/+/+/up", "lora/a/b/up")
	f.Add("+/x", "a/+", "a/x")
	f.Add("a/#", "a", "a")
	f.Fuzz(func(t *testing.T, outer, inner, name string) {
		if ValidPattern(outer) != nil || ValidPattern(inner) != nil || Valid(name) != nil {
			return
		}
		if Covers(outer, inner) && Match(inner, name) && !Match(outer, name) {
			t.Fatalf("Covers(%q,%q) but %q matches only inner", outer, inner, name)
		}
	})
}
