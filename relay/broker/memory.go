package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/channel"
)

var _ Broker = (*Memory)(nil)

// MemoryConfig bounds the memory broker. Zero fields take the defaults.
type MemoryConfig struct {
	// MaxEntries per tenant log. Default 10 000. An entry that a
	// follower (the hub) has not yet consumed is never trimmed: Publish
	// waits for it instead, so a burst slows publishers rather than
	// losing events.
	MaxEntries int
	// MaxAge of an entry before it is trimmed. Default 1 hour.
	MaxAge time.Duration
	// MaxChannels tracked per tenant for Prev and latest values. Beyond it
	// an arbitrary channel is forgotten (its next entry has Prev 0, which
	// only disables the client's gap check on it). Default 100 000.
	MaxChannels int
	// Now is the clock, for tests. Default time.Now.
	Now func() time.Time
}

// Memory is the in-process Broker.
type Memory struct {
	cfg MemoryConfig

	mu      sync.Mutex
	tenants map[string]*memLog
	closed  bool
	done    chan struct{}
}

type memLog struct {
	mu      sync.Mutex
	epoch   string
	entries []*Entry // ring: entries[head], …, len n
	head, n int
	tail    uint64 // offset of the last entry
	chans   map[string]*chanState
	wake    chan struct{} // closed and replaced on every publish
	// Followers' cursors: entries a follower has not consumed are never
	// trimmed; Publish waits instead (backpressure, not loss).
	cursors map[*uint64]struct{}
	advance chan struct{} // closed and replaced when a cursor moves
}

type chanState struct {
	last   uint64
	latest *Entry // if retained
}

// NewMemory returns a memory broker.
func NewMemory(cfg MemoryConfig) *Memory {
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = 10000
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = time.Hour
	}
	if cfg.MaxChannels <= 0 {
		cfg.MaxChannels = 100000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Memory{cfg: cfg, tenants: make(map[string]*memLog), done: make(chan struct{})}
}

func newEpoch() string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

func (m *Memory) log(tenant string) (*memLog, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	l := m.tenants[tenant]
	if l == nil {
		l = &memLog{
			epoch:   newEpoch(),
			entries: nil,
			chans:   make(map[string]*chanState),
			wake:    make(chan struct{}),
			cursors: make(map[*uint64]struct{}),
			advance: make(chan struct{}),
		}
		m.tenants[tenant] = l
	}
	return l, nil
}

// Publish implements Broker.
func (m *Memory) Publish(ctx context.Context, tenant string, msg Message) (Position, error) {
	l, err := m.log(tenant)
	if err != nil {
		return Position{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for l.n == m.cfg.MaxEntries && l.at(0).Offset > l.minCursor() {
		adv := l.advance
		l.mu.Unlock()
		select {
		case <-adv:
		case <-ctx.Done():
			l.mu.Lock()
			return Position{}, ctx.Err()
		case <-m.done:
			l.mu.Lock()
			return Position{}, ErrClosed
		}
		l.mu.Lock()
	}
	now := m.cfg.Now()
	cs := l.chans[msg.Channel]
	if cs == nil {
		if len(l.chans) >= m.cfg.MaxChannels {
			for k := range l.chans {
				delete(l.chans, k)
				break
			}
		}
		cs = &chanState{}
		l.chans[msg.Channel] = cs
	}
	l.tail++
	e := &Entry{Offset: l.tail, Prev: cs.last, Channel: msg.Channel, Kind: msg.Kind, Data: msg.Data, Time: now.UnixNano()}
	cs.last = e.Offset
	if msg.Retain {
		cs.latest = e
	}
	l.push(e, m.cfg.MaxEntries)
	l.trimAge(now.Add(-m.cfg.MaxAge).UnixNano())
	close(l.wake)
	l.wake = make(chan struct{})
	return Position{Epoch: l.epoch, Offset: e.Offset}, nil
}

func (l *memLog) push(e *Entry, limit int) {
	switch {
	case l.n == limit:
		l.entries[l.head] = e // overwrite the oldest
		l.head = (l.head + 1) % len(l.entries)
		return
	case l.n < len(l.entries):
		l.entries[(l.head+l.n)%len(l.entries)] = e
	case l.head == 0 && len(l.entries) < cap(l.entries):
		l.entries = append(l.entries, e)
	default:
		// The ring is full below max: linearise into a larger one.
		grown := make([]*Entry, l.n, min(limit, max(2*l.n, 64)))
		for i := range l.n {
			grown[i] = l.at(i)
		}
		l.entries, l.head = append(grown, e), 0
	}
	l.n++
}

func (l *memLog) at(i int) *Entry { return l.entries[(l.head+i)%len(l.entries)] }

// minCursor is the lowest offset every follower has consumed.
func (l *memLog) minCursor() uint64 {
	min := l.tail
	for c := range l.cursors {
		if *c < min {
			min = *c
		}
	}
	return min
}

func (l *memLog) trimAge(cutoff int64) {
	keep := l.minCursor()
	for l.n > 0 && l.at(0).Time < cutoff && l.at(0).Offset <= keep {
		l.entries[l.head] = nil
		l.head = (l.head + 1) % len(l.entries)
		l.n--
	}
}

// oldest returns the offset of the oldest held entry; tail+1 if none.
func (l *memLog) oldest() uint64 {
	if l.n == 0 {
		return l.tail + 1
	}
	return l.at(0).Offset
}

// slice returns the held entries with after < offset <= upTo, or false if
// some of them are no longer held.
func (l *memLog) slice(after, upTo uint64, dst []*Entry) ([]*Entry, bool) {
	if upTo > l.tail {
		upTo = l.tail
	}
	if after >= upTo {
		return dst, true
	}
	first := l.oldest()
	if after+1 < first {
		return dst, false
	}
	start := int(after + 1 - first)
	for i := start; i < l.n; i++ {
		e := l.at(i)
		if e.Offset > upTo {
			break
		}
		dst = append(dst, e)
	}
	return dst, true
}

// Tail implements Broker.
func (m *Memory) Tail(ctx context.Context, tenant string) (Position, error) {
	l, err := m.log(tenant)
	if err != nil {
		return Position{}, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return Position{Epoch: l.epoch, Offset: l.tail}, nil
}

// Read implements Broker.
func (m *Memory) Read(ctx context.Context, tenant, epoch string, after, upTo uint64, fn func(*Entry) error) error {
	l, err := m.log(tenant)
	if err != nil {
		return err
	}
	l.mu.Lock()
	if epoch != l.epoch || after > l.tail {
		l.mu.Unlock()
		return ErrUnrecoverable
	}
	l.trimAge(m.cfg.Now().Add(-m.cfg.MaxAge).UnixNano())
	batch, ok := l.slice(after, upTo, nil)
	l.mu.Unlock()
	if !ok {
		return ErrUnrecoverable
	}
	for _, e := range batch {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

// Latest implements Broker.
func (m *Memory) Latest(ctx context.Context, tenant, pattern string, upTo uint64, fn func(*Entry) error) error {
	l, err := m.log(tenant)
	if err != nil {
		return err
	}
	var found []*Entry
	l.mu.Lock()
	for name, cs := range l.chans {
		if cs.latest != nil && cs.latest.Offset <= upTo && channel.Match(pattern, name) {
			found = append(found, cs.latest)
		}
	}
	l.mu.Unlock()
	// Offset order, so latest values arrive as they were published.
	sortEntries(found)
	for _, e := range found {
		if err := fn(e); err != nil {
			return err
		}
	}
	return nil
}

func sortEntries(es []*Entry) {
	// insertion sort: latest-value sets are small
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j-1].Offset > es[j].Offset; j-- {
			es[j-1], es[j] = es[j], es[j-1]
		}
	}
}

// Follow implements Broker.
func (m *Memory) Follow(ctx context.Context, tenant, epoch string, after uint64, fn func([]*Entry) error) error {
	l, err := m.log(tenant)
	if err != nil {
		return err
	}
	cursor := new(uint64)
	*cursor = after
	l.mu.Lock()
	l.cursors[cursor] = struct{}{}
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.cursors, cursor)
		l.signalAdvance()
		l.mu.Unlock()
	}()
	var batch []*Entry
	for {
		l.mu.Lock()
		*cursor = after
		l.signalAdvance()
		if l.epoch != epoch {
			l.mu.Unlock()
			return ErrUnrecoverable
		}
		wake := l.wake
		var ok bool
		batch, ok = l.slice(after, l.tail, batch[:0])
		l.mu.Unlock()
		if !ok {
			return ErrUnrecoverable
		}
		if len(batch) > 0 {
			if err := fn(batch); err != nil {
				return err
			}
			after = batch[len(batch)-1].Offset
			clear(batch)
			continue
		}
		select {
		case <-wake:
		case <-ctx.Done():
			return ctx.Err()
		case <-m.done:
			return ErrClosed
		}
	}
}

func (l *memLog) signalAdvance() {
	close(l.advance)
	l.advance = make(chan struct{})
}

// Close implements Broker.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.done)
	}
	return nil
}
