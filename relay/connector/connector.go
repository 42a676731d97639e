package connector

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/hub"
)

// Link is one upstream connection of a tenant.
type Link interface {
	// Name is unique within the tenant; it appears in events' Meta.Link
	// and in the status channel link/<name>/status.
	Name() string
	// Run keeps the link up until ctx ends; it returns ctx.Err() then.
	Run(ctx context.Context) error
	// Serves reports whether the link carries commands of kind to target.
	Serves(target, kind string) bool
	// Command sends one command and waits for its outcome.
	Command(ctx context.Context, req hub.CommandRequest) hub.CommandResult
}

// Publisher publishes a tenant's normalised events into the broker.
type Publisher struct {
	Broker broker.Broker
	Tenant string
}

// Publish marshals ev and appends it to the tenant's log on ch. State-like
// kinds (event.Retained) are kept as the channel's latest value.
func (p *Publisher) Publish(ctx context.Context, ch string, ev event.Event) error {
	data, err := ev.MarshalMsg(nil)
	if err != nil {
		return err
	}
	_, err = p.Broker.Publish(ctx, p.Tenant, broker.Message{Channel: ch, Kind: ev.Kind(), Data: data, Retain: event.Retained(ev.Kind())})
	return err
}

// Backoff computes reconnect delays: capped exponential with full jitter,
// delay = rand[0, min(Max, Min·2^attempt)).
type Backoff struct {
	Min, Max time.Duration // defaults 500 ms and 30 s
	attempt  uint32
}

// Next returns the delay before the next attempt and counts it.
func (b *Backoff) Next() time.Duration {
	lo, hi := b.Min, b.Max
	if lo <= 0 {
		lo = 500 * time.Millisecond
	}
	if hi <= 0 {
		hi = 30 * time.Second
	}
	ceil := hi
	if b.attempt < 30 {
		if c := lo << b.attempt; c > 0 && c < hi {
			ceil = c
		}
	}
	b.attempt++
	return time.Duration(rand.Int64N(int64(ceil)) + 1)
}

// Attempt is the number of delays handed out since the last Reset.
func (b *Backoff) Attempt() uint32 { return b.attempt }

// Reset starts over after a connection that worked.
func (b *Backoff) Reset() { b.attempt = 0 }

// Sleep waits d or until ctx ends.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// BadInput counts malformed upstream messages per kind and logs the first
// of each kind, so a vendor flooding garbage costs a counter, not a log.
type BadInput struct {
	Link   string
	Logger *slog.Logger

	mu     sync.Mutex
	counts map[string]uint64
}

// Note counts one bad message of kind.
func (b *BadInput) Note(kind string, err error) {
	b.mu.Lock()
	if b.counts == nil {
		b.counts = make(map[string]uint64)
	}
	b.counts[kind]++
	first := b.counts[kind] == 1
	b.mu.Unlock()
	if first && b.Logger != nil {
		b.Logger.Warn("dropping malformed upstream message (logged once per kind)", "link", b.Link, "kind", kind, "err", err)
	}
}

// Counts returns a copy of the counters.
func (b *BadInput) Counts() map[string]uint64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make(map[string]uint64, len(b.counts))
	for k, v := range b.counts {
		out[k] = v
	}
	return out
}

// Status publishes a link's state changes on link/<name>/status.
type Status struct {
	Pub      *Publisher
	Link     string
	Protocol string
	Logger   *slog.Logger

	mu   sync.Mutex
	last event.LinkStatus
}

// Set publishes the state if it changed (or its reason did).
func (s *Status) Set(ctx context.Context, state, reason string, attempt uint32, retry time.Duration) {
	s.mu.Lock()
	if s.last.State == state && s.last.Reason == reason && s.last.Attempt == attempt {
		s.mu.Unlock()
		return
	}
	now := time.Now().UnixMicro()
	st := event.LinkStatus{
		Meta:    event.Meta{Link: s.Link, Protocol: s.Protocol, Time: now, Received: now},
		State:   state,
		Reason:  reason,
		Attempt: attempt,
		RetryMS: retry.Milliseconds(),
	}
	s.last = st
	s.mu.Unlock()
	if s.Logger != nil {
		s.Logger.Info("link state", "link", s.Link, "state", state, "reason", reason, "attempt", attempt, "retry", retry)
	}
	if err := s.Pub.Publish(ctx, event.LinkStatusChannel(s.Link), &st); err != nil && s.Logger != nil {
		s.Logger.Warn("publish link status", "link", s.Link, "err", err)
	}
}

// Current returns the last state set.
func (s *Status) Current() event.LinkStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}
