package broker

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

func publishN(t *testing.T, b Broker, tenant, ch string, n int) []Position {
	t.Helper()
	var ps []Position
	for i := range n {
		p, err := b.Publish(context.Background(), tenant, Message{Channel: ch, Kind: "k", Data: []byte{byte(i)}})
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
	return ps
}

func readAll(b Broker, tenant, epoch string, after, upTo uint64) ([]uint64, error) {
	var got []uint64
	err := b.Read(context.Background(), tenant, epoch, after, upTo, func(e *Entry) error {
		got = append(got, e.Offset)
		return nil
	})
	return got, err
}

func TestMemoryOffsetsAndPrev(t *testing.T) {
	b := NewMemory(MemoryConfig{})
	ctx := context.Background()
	p1, _ := b.Publish(ctx, "t", Message{Channel: "a", Kind: "k"})
	p2, _ := b.Publish(ctx, "t", Message{Channel: "b", Kind: "k"})
	p3, _ := b.Publish(ctx, "t", Message{Channel: "a", Kind: "k"})
	if p1.Offset != 1 || p2.Offset != 2 || p3.Offset != 3 || p1.Epoch != p3.Epoch {
		t.Fatalf("positions %v %v %v", p1, p2, p3)
	}
	var prevs []uint64
	b.Read(ctx, "t", p1.Epoch, 0, 3, func(e *Entry) error { prevs = append(prevs, e.Prev); return nil })
	if fmt.Sprint(prevs) != "[0 0 1]" {
		t.Fatalf("prevs = %v, want [0 0 1]", prevs)
	}
	// Another tenant has its own log and epoch.
	q, _ := b.Publish(ctx, "u", Message{Channel: "a"})
	if q.Offset != 1 || q.Epoch == p1.Epoch {
		t.Fatalf("tenant u position %v", q)
	}
}

func TestMemoryTrimByCount(t *testing.T) {
	b := NewMemory(MemoryConfig{MaxEntries: 5})
	ps := publishN(t, b, "t", "c", 12)
	ep := ps[0].Epoch
	got, err := readAll(b, "t", ep, 7, 12)
	if err != nil || fmt.Sprint(got) != "[8 9 10 11 12]" {
		t.Fatalf("read after 7 = %v, %v", got, err)
	}
	if _, err := readAll(b, "t", ep, 6, 12); !errors.Is(err, ErrUnrecoverable) {
		t.Fatalf("read after 6 (entry 7 trimmed) = %v, want ErrUnrecoverable", err)
	}
	if _, err := readAll(b, "t", "other", 10, 12); !errors.Is(err, ErrUnrecoverable) {
		t.Fatalf("read with wrong epoch = %v", err)
	}
	got, err = readAll(b, "t", ep, 12, 12)
	if err != nil || len(got) != 0 {
		t.Fatalf("read at tail = %v, %v", got, err)
	}
}

// The ring must keep order through every mix of growth, wrap and trims.
func TestMemoryRingOrder(t *testing.T) {
	now := time.Unix(0, 0)
	b := NewMemory(MemoryConfig{MaxEntries: 7, MaxAge: 10 * time.Second, Now: func() time.Time { return now }})
	var last uint64
	for i := range 200 {
		now = now.Add(time.Duration(1+i%5) * time.Second)
		p := publishN(t, b, "t", "c", 1+i%3)
		last = p[len(p)-1].Offset
		l, _ := b.log("t")
		l.mu.Lock()
		first := l.oldest()
		l.mu.Unlock()
		got, err := readAll(b, "t", p[0].Epoch, first-1, last)
		if err != nil {
			t.Fatal(err)
		}
		for j, o := range got {
			if o != first+uint64(j) {
				t.Fatalf("step %d: got %v from %d", i, got, first)
			}
		}
		if got[len(got)-1] != last || len(got) > 7 {
			t.Fatalf("step %d: got %v, last %d", i, got, last)
		}
	}
}

func TestMemoryTrimByAge(t *testing.T) {
	now := time.Unix(1000, 0)
	b := NewMemory(MemoryConfig{MaxAge: time.Minute, Now: func() time.Time { return now }})
	ps := publishN(t, b, "t", "c", 3)
	now = now.Add(2 * time.Minute)
	if _, err := readAll(b, "t", ps[0].Epoch, 0, 3); !errors.Is(err, ErrUnrecoverable) {
		t.Fatalf("read of aged-out entries = %v", err)
	}
	// Nothing missed after the tail is still fine.
	if got, err := readAll(b, "t", ps[0].Epoch, 3, 3); err != nil || len(got) != 0 {
		t.Fatalf("read at tail = %v %v", got, err)
	}
}

func TestMemoryLatest(t *testing.T) {
	b := NewMemory(MemoryConfig{})
	ctx := context.Background()
	b.Publish(ctx, "t", Message{Channel: "gw/1", Kind: "g", Data: []byte("a"), Retain: true})
	b.Publish(ctx, "t", Message{Channel: "gw/2", Kind: "g", Data: []byte("b"), Retain: true})
	b.Publish(ctx, "t", Message{Channel: "gw/1", Kind: "g", Data: []byte("c"), Retain: true})
	b.Publish(ctx, "t", Message{Channel: "up/1", Kind: "u", Data: []byte("d")})
	var got []string
	b.Latest(ctx, "t", "#", 10, func(e *Entry) error { got = append(got, e.Channel+"="+string(e.Data)); return nil })
	if fmt.Sprint(got) != "[gw/2=b gw/1=c]" {
		t.Fatalf("latest = %v", got)
	}
	got = nil
	b.Latest(ctx, "t", "gw/+", 2, func(e *Entry) error { got = append(got, e.Channel+"="+string(e.Data)); return nil })
	if fmt.Sprint(got) != "[gw/2=b]" {
		t.Fatalf("latest up to 2 = %v", got)
	}
}

func TestMemoryFollow(t *testing.T) {
	b := NewMemory(MemoryConfig{})
	defer b.Close()
	tail, _ := b.Tail(context.Background(), "t")
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	var got []uint64
	done := make(chan error, 1)
	go func() {
		done <- b.Follow(ctx, "t", tail.Epoch, 0, func(es []*Entry) error {
			mu.Lock()
			defer mu.Unlock()
			for _, e := range es {
				got = append(got, e.Offset)
			}
			if len(got) == 100 {
				cancel()
			}
			return nil
		})
	}()
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); publishN(t, b, "t", "c", 25) }()
	}
	wg.Wait()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow = %v", err)
	}
	for i, o := range got {
		if o != uint64(i+1) {
			t.Fatalf("follow delivered %v", got)
		}
	}
	if len(got) != 100 {
		t.Fatalf("follow delivered %d entries", len(got))
	}
}

func TestMemoryFollowFallsBehind(t *testing.T) {
	b := NewMemory(MemoryConfig{MaxEntries: 3})
	tail, _ := b.Tail(context.Background(), "t")
	publishN(t, b, "t", "c", 10)
	err := b.Follow(context.Background(), "t", tail.Epoch, 0, func([]*Entry) error { return nil })
	if !errors.Is(err, ErrUnrecoverable) {
		t.Fatalf("Follow from a trimmed offset = %v", err)
	}
}

// Publishing must not regrow the ring each time: the backing array grows
// geometrically, so appends are amortised O(1).
func TestMemoryRingGrowsGeometrically(t *testing.T) {
	b := NewMemory(MemoryConfig{MaxEntries: 100000})
	grows := 0
	last := -1
	for range 20000 {
		b.Publish(context.Background(), "t", Message{Channel: "c"})
		l, _ := b.log("t")
		if c := cap(l.entries); c != last {
			grows++
			last = c
		}
	}
	if grows > 20 {
		t.Fatalf("backing array reallocated %d times for 20 000 publishes", grows)
	}
}
