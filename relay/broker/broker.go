package broker

import (
	"context"
	"errors"
)

// Errors.
var (
	// ErrUnrecoverable means the requested range is no longer (or never
	// was) in the log: trimmed by count or age, or another epoch.
	ErrUnrecoverable = errors.New("broker: position not recoverable")
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("broker: closed")
)

// Position is a place in a tenant's log.
type Position struct {
	Epoch  string
	Offset uint64
}

// Message is what a publisher hands the broker.
type Message struct {
	Channel string
	Kind    string
	Data    []byte // the msgp-encoded event; the broker keeps it, the caller must not reuse it
	// Retain keeps the message as its channel's latest value.
	Retain bool
}

// Entry is a message in the log. Entries are immutable once published and
// may be shared between goroutines.
type Entry struct {
	Offset  uint64
	Prev    uint64 // offset of the previous entry on Channel, 0 if none
	Channel string
	Kind    string
	Data    []byte
	Time    int64 // publish time, Unix ns
}

// Broker is an ordered, bounded log per tenant.
type Broker interface {
	// Publish appends m to the tenant's log.
	Publish(ctx context.Context, tenant string, m Message) (Position, error)
	// Tail returns the position of the tenant's last entry (offset 0 if
	// the log is empty).
	Tail(ctx context.Context, tenant string) (Position, error)
	// Read calls fn for every entry with after < offset <= upTo, in order.
	// It returns ErrUnrecoverable, before calling fn, if epoch is not the
	// log's or any entry of the range is no longer held.
	Read(ctx context.Context, tenant, epoch string, after, upTo uint64, fn func(*Entry) error) error
	// Latest calls fn with the retained entry of every channel that
	// matches pattern, among entries with offset <= upTo.
	Latest(ctx context.Context, tenant, pattern string, upTo uint64, fn func(*Entry) error) error
	// Follow calls fn, in order and in batches, with every entry published
	// after offset `after` of epoch, until ctx ends or fn fails. It
	// returns ErrUnrecoverable if it cannot continue without a gap (the
	// epoch changed, or entries were trimmed before being delivered).
	Follow(ctx context.Context, tenant, epoch string, after uint64, fn func([]*Entry) error) error
	// Close releases resources; Follow calls return ErrClosed.
	Close() error
}
