package connector

import (
	"context"
	"sync"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/relay/hub"
)

// Registry runs every tenant's links and routes commands to them. It is
// the hub's Commander.
type Registry struct {
	// Dedupe is how long a command id is remembered. Default 10 min.
	Dedupe time.Duration
	// MaxRemembered bounds the remembered ids per tenant. Default 10 000.
	MaxRemembered int

	mu    sync.Mutex
	links map[string][]Link // tenant → links
	calls map[string]*tenantCalls
}

var _ hub.Commander = (*Registry)(nil)

type call struct {
	id   string
	done chan struct{}
	res  hub.CommandResult
	at   time.Time
}

type tenantCalls struct {
	byID  map[string]*call
	order []*call // insertion order, for eviction
}

// Add registers a link of a tenant. Call before Run.
func (r *Registry) Add(tenant string, l Link) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.links == nil {
		r.links = make(map[string][]Link)
	}
	r.links[tenant] = append(r.links[tenant], l)
}

// Links returns a tenant's links.
func (r *Registry) Links(tenant string) []Link {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Link(nil), r.links[tenant]...)
}

// Run runs every link until ctx ends and all have returned.
func (r *Registry) Run(ctx context.Context) {
	r.mu.Lock()
	var all []Link
	for _, ls := range r.links {
		all = append(all, ls...)
	}
	r.mu.Unlock()
	var wg sync.WaitGroup
	for _, l := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = l.Run(ctx)
		}()
	}
	wg.Wait()
}

// Command implements hub.Commander. A command whose id the tenant already
// used is not sent again: the caller gets the first one's outcome.
func (r *Registry) Command(ctx context.Context, req hub.CommandRequest) hub.CommandResult {
	var target Link
	for _, l := range r.Links(req.Tenant) {
		if l.Serves(req.Target, req.Kind) {
			target = l
			break
		}
	}
	if target == nil {
		return hub.CommandResult{Code: codes.NotFound, Message: "no link serves " + req.Kind + " on " + req.Target}
	}
	c, first := r.remember(req.Tenant, req.ID)
	if !first {
		select {
		case <-c.done:
			return c.res
		case <-ctx.Done():
			return hub.CommandResult{Code: codes.Conflict, Message: "a command with this id is still in flight"}
		}
	}
	c.res = target.Command(ctx, req)
	close(c.done)
	return c.res
}

func (r *Registry) remember(tenant, id string) (*call, bool) {
	ttl, max := r.Dedupe, r.MaxRemembered
	if ttl <= 0 {
		ttl = 10 * time.Minute
	}
	if max <= 0 {
		max = 10000
	}
	now := time.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.calls == nil {
		r.calls = make(map[string]*tenantCalls)
	}
	tc := r.calls[tenant]
	if tc == nil {
		tc = &tenantCalls{byID: make(map[string]*call)}
		r.calls[tenant] = tc
	}
	if c := tc.byID[id]; c != nil && now.Sub(c.at) < ttl {
		return c, false
	}
	// Evict expired and excess ids, oldest first.
	for len(tc.order) > 0 {
		old := tc.order[0]
		if now.Sub(old.at) < ttl && len(tc.order) < max {
			break
		}
		if tc.byID[old.id] == old {
			delete(tc.byID, old.id)
		}
		tc.order[0] = nil
		tc.order = tc.order[1:]
	}
	c := &call{id: id, done: make(chan struct{}), at: now}
	tc.byID[id] = c
	tc.order = append(tc.order, c)
	return c, true
}
