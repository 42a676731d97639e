package proglovecloud

// recent remembers the last n event ids, in a ring, so that a duplicate
// costs a map lookup and memory stays bounded whatever the upstream sends.
type recent struct {
	ring []string
	next int
	set  map[string]struct{}
}

func newRecent(n int) *recent {
	return &recent{ring: make([]string, n), set: make(map[string]struct{}, n)}
}

// seen reports whether id is among the remembered ids.
func (r *recent) seen(id string) bool {
	_, ok := r.set[id]
	return ok
}

// add remembers id, forgetting the oldest id when full.
func (r *recent) add(id string) {
	if _, ok := r.set[id]; ok {
		return
	}
	if old := r.ring[r.next]; old != "" {
		delete(r.set, old)
	}
	r.ring[r.next] = id
	r.set[id] = struct{}{}
	r.next = (r.next + 1) % len(r.ring)
}

func (r *recent) len() int { return len(r.set) }
