package connector

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/relay/hub"
)

// countingLink serves every command, counts what reaches "the device",
// and holds each command until released.
type countingLink struct {
	sent    atomic.Int32
	release chan struct{}
}

func (l *countingLink) Name() string                    { return "dev" }
func (l *countingLink) Run(ctx context.Context) error   { <-ctx.Done(); return ctx.Err() }
func (l *countingLink) Serves(target, kind string) bool { return true }
func (l *countingLink) Command(ctx context.Context, req hub.CommandRequest) hub.CommandResult {
	n := l.sent.Add(1)
	<-l.release
	return hub.CommandResult{Code: codes.OK, Data: []byte{byte(n)}}
}

// A command resubmitted with the same id (a client retrying after a lost
// reply) reaches the device once; the retry gets the first one's outcome,
// waiting for it if it is still in flight. Ids are per tenant.
func TestRegistrySendsACommandIDOnce(t *testing.T) {
	l := &countingLink{release: make(chan struct{})}
	var r Registry
	r.Add("acme", l)
	r.Add("globex", l)
	req := hub.CommandRequest{Tenant: "acme", ID: "c-1", Target: "x", Kind: "k"}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	var wg sync.WaitGroup
	results := make([]hub.CommandResult, 3)
	for i := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = r.Command(ctx, req)
		}()
	}
	// Wait until the first is at the device, then let it answer.
	for l.sent.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	close(l.release)
	wg.Wait()
	if n := l.sent.Load(); n != 1 {
		t.Fatalf("the device got the command %d times", n)
	}
	for i, res := range results {
		if res.Code != codes.OK || len(res.Data) != 1 || res.Data[0] != 1 {
			t.Fatalf("submission %d: %+v, want the first one's outcome", i, res)
		}
	}
	// Later, the same id again: remembered, not sent.
	if res := r.Command(ctx, req); res.Code != codes.OK || l.sent.Load() != 1 {
		t.Fatalf("resubmitted later: %+v, sent %d", res, l.sent.Load())
	}
	// The same id in another tenant is another command.
	other := req
	other.Tenant = "globex"
	if res := r.Command(ctx, other); res.Code != codes.OK || l.sent.Load() != 2 {
		t.Fatalf("another tenant's c-1: %+v, sent %d", res, l.sent.Load())
	}
}
