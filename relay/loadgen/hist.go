package loadgen

import (
	"math"
	"time"
)

// hist is a log-bucket latency histogram: 1 % wide buckets from 1 µs, so
// percentiles are within 1 % without keeping every sample. One per
// subscriber (no sharing), merged at the end.
type hist struct {
	counts []uint64
	n      uint64
	max    time.Duration
}

const histBase = 1.01

func newHist() *hist { return &hist{counts: make([]uint64, 2400)} } // up to ~23 min

func (h *hist) add(d time.Duration) {
	if d > h.max {
		h.max = d
	}
	us := float64(d) / float64(time.Microsecond)
	i := 0
	if us > 1 {
		i = int(math.Log(us) / math.Log(histBase))
	}
	if i >= len(h.counts) {
		i = len(h.counts) - 1
	}
	h.counts[i]++
	h.n++
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the upper bound of the bucket holding quantile q.
func (h *hist) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(time.Duration(math.Pow(histBase, float64(i+1))*float64(time.Microsecond)), h.max)
		}
	}
	return h.max
}
