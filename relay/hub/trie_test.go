package hub

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/fieldrelay/fieldrelay/proto/channel"
)

// The trie must agree with channel.Match on random patterns and names,
// including after removals.
func TestTrieAgreesWithMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	levels := []string{"a", "b", "c"}
	randName := func() string {
		n := 1 + r.IntN(4)
		var s []string
		for range n {
			s = append(s, levels[r.IntN(len(levels))])
		}
		return fmt.Sprint(joinSlash(s))
	}
	randPattern := func() string {
		n := 1 + r.IntN(4)
		var s []string
		for i := range n {
			switch x := r.IntN(6); {
			case x == 0:
				s = append(s, "+")
			case x == 1 && i == n-1:
				s = append(s, "#")
			default:
				s = append(s, levels[r.IntN(len(levels))])
			}
		}
		return joinSlash(s)
	}
	for round := range 200 {
		root := &node{}
		var subs []*sub
		for i := range 12 {
			s := &sub{id: uint32(i), pattern: randPattern()}
			subs = append(subs, s)
			root.insert(s.pattern, s)
		}
		for _, s := range subs[:4] {
			root.remove(s.pattern, s)
		}
		live := subs[4:]
		for range 20 {
			name := randName()
			var got, want []uint32
			root.match(name, func(s *sub) { got = append(got, s.id) })
			for _, s := range live {
				if channel.Match(s.pattern, name) {
					want = append(want, s.id)
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("round %d: match(%q) = %v, want %v", round, name, got, want)
			}
		}
		for _, s := range live {
			root.remove(s.pattern, s)
		}
		if !root.empty() {
			t.Fatalf("round %d: trie not empty after removing everything", round)
		}
	}
}

func joinSlash(s []string) string {
	out := s[0]
	for _, x := range s[1:] {
		out += "/" + x
	}
	return out
}
