package loadgen

import (
	"runtime"
	rtmetrics "runtime/metrics"
	"sync/atomic"
	"time"
)

// memNames are what heapAndStacks adds up: the heap in use (objects and
// the free space of spans in use: MemStats.HeapInuse, the relay's
// heap_inuse_bytes gauge) and goroutine stacks (stack_inuse_bytes).
// runtime/metrics reads them without stopping the world, so sampling
// does not add to the latency it runs beside.
var memNames = []string{
	"/memory/classes/heap/objects:bytes",
	"/memory/classes/heap/unused:bytes",
	"/memory/classes/heap/stacks:bytes",
}

// heapAndStacks is this process's heap in use plus stacks, in bytes.
func heapAndStacks() uint64 {
	s := make([]rtmetrics.Sample, len(memNames))
	for i, n := range memNames {
		s[i].Name = n
	}
	rtmetrics.Read(s)
	var b uint64
	for _, v := range s {
		if v.Value.Kind() == rtmetrics.KindUint64 {
			b += v.Value.Uint64()
		}
	}
	return b
}

// memWatch follows this process's memory through a run: after a GC
// before the subscribers connect and once they have subscribed, and the
// peak of samples every 100 ms while publishing.
type memWatch struct {
	before, subscribed uint64
	peak               atomic.Uint64
	stop, done         chan struct{}
}

func memBefore() *memWatch {
	runtime.GC()
	return &memWatch{before: heapAndStacks()}
}

func (m *memWatch) markSubscribed() {
	runtime.GC()
	m.subscribed = heapAndStacks()
}

// watch starts sampling; end stops it (within one period) and returns
// the peak.
func (m *memWatch) watch() {
	m.stop, m.done = make(chan struct{}), make(chan struct{})
	m.sample()
	go func() {
		defer close(m.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-m.stop:
				return
			case <-t.C:
				m.sample()
			}
		}
	}()
}

func (m *memWatch) sample() {
	b := heapAndStacks()
	for {
		p := m.peak.Load()
		if b <= p || m.peak.CompareAndSwap(p, b) {
			return
		}
	}
}

func (m *memWatch) end() uint64 {
	if m.stop != nil {
		close(m.stop)
		<-m.done
		m.stop = nil
		m.sample()
	}
	return m.peak.Load()
}
