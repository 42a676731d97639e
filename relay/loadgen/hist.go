package loadgen

import (
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// hist is a log-bucket latency histogram: 1 % wide buckets from 1 µs, so
// percentiles are within 1 % without keeping every sample. One per
// subscriber (no sharing), merged at the end. It travels from a
// subscriber process to the parent as JSON (see MarshalJSON), bucket by
// bucket, so merging there loses nothing.
type hist struct {
	counts []uint64
	n      uint64
	max    time.Duration
}

const (
	histBase    = 1.01
	histBuckets = 2400 // up to ~23 min
)

func newHist() *hist { return &hist{counts: make([]uint64, histBuckets)} }

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

// histJSON is hist on the wire: the non-empty buckets as [index, count]
// pairs, the count and the exact maximum in nanoseconds.
type histJSON struct {
	N       uint64      `json:"n"`
	MaxNS   int64       `json:"max_ns"`
	Buckets [][2]uint64 `json:"buckets"`
}

// MarshalJSON implements json.Marshaler.
func (h *hist) MarshalJSON() ([]byte, error) {
	j := histJSON{N: h.n, MaxNS: int64(h.max), Buckets: [][2]uint64{}}
	for i, c := range h.counts {
		if c > 0 {
			j.Buckets = append(j.Buckets, [2]uint64{uint64(i), c})
		}
	}
	return json.Marshal(j)
}

// UnmarshalJSON implements json.Unmarshaler. It checks that the buckets
// add up to the count.
func (h *hist) UnmarshalJSON(b []byte) error {
	var j histJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*h = hist{counts: make([]uint64, histBuckets), n: j.N, max: time.Duration(j.MaxNS)}
	var sum uint64
	for _, bc := range j.Buckets {
		if bc[0] >= histBuckets {
			return fmt.Errorf("histogram bucket %d out of range", bc[0])
		}
		h.counts[bc[0]] += bc[1]
		sum += bc[1]
	}
	if sum != h.n {
		return fmt.Errorf("histogram buckets hold %d samples, count says %d", sum, h.n)
	}
	return nil
}
