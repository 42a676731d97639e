package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+([\d.]+) ns/op(.*)$`)
var allocs = regexp.MustCompile(`([\d.]+) allocs/op`)

type sample struct{ ns, allocs []float64 }

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	sort.Float64s(s)
	return s[len(s)/2]
}

func main() {
	samples := map[string]*sample{}
	var order []string
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		m := line.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		s := samples[m[1]]
		if s == nil {
			s = &sample{}
			samples[m[1]] = s
			order = append(order, m[1])
		}
		ns, _ := strconv.ParseFloat(m[2], 64)
		s.ns = append(s.ns, ns)
		if a := allocs.FindStringSubmatch(m[3]); a != nil {
			v, _ := strconv.ParseFloat(a[1], 64)
			s.allocs = append(s.allocs, v)
		}
	}
	// Pair names by their prefix: the first variant seen is "ours".
	groups := map[string][]string{}
	var prefixes []string
	for _, name := range order {
		i := strings.LastIndexByte(name, '/')
		if i < 0 {
			continue
		}
		p := name[:i]
		if _, ok := groups[p]; !ok {
			prefixes = append(prefixes, p)
		}
		groups[p] = append(groups[p], name)
	}
	fmt.Printf("| benchmark | ours | ns/op | allocs/op | baseline | ns/op | allocs/op | baseline ÷ ours |\n")
	fmt.Printf("|---|---|---:|---:|---|---:|---:|---:|\n")
	for _, p := range prefixes {
		g := groups[p]
		if len(g) < 2 {
			continue
		}
		a, b := samples[g[0]], samples[g[1]]
		an, bn := median(a.ns), median(b.ns)
		fmt.Printf("| %s | %s | %.1f | %.0f | %s | %.1f | %.0f | %.1f× |\n",
			strings.TrimPrefix(p, "Benchmark"), g[0][len(p)+1:], an, median(a.allocs), g[1][len(p)+1:], bn, median(b.allocs), bn/an)
	}
}
