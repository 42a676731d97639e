package hub

import "strings"

// node is a level of the subscription trie.
type node struct {
	children map[string]*node
	plus     *node // '+'
	hash     *node // '#': its subs match the rest
	subs     []*sub
}

func (n *node) insert(pattern string, s *sub) {
	for {
		lvl, rest, more := cut(pattern)
		var next **node
		switch lvl {
		case "+":
			next = &n.plus
		case "#":
			next = &n.hash
		default:
			if n.children == nil {
				n.children = make(map[string]*node)
			}
			c := n.children[lvl]
			if c == nil {
				c = &node{}
				n.children[lvl] = c
			}
			next = &c
		}
		if *next == nil {
			*next = &node{}
		}
		n = *next
		if !more {
			n.subs = append(n.subs, s)
			return
		}
		pattern = rest
	}
}

// remove deletes s, pruning empty nodes; it reports whether n is empty.
func (n *node) remove(pattern string, s *sub) bool {
	lvl, rest, more := cut(pattern)
	var child *node
	switch lvl {
	case "+":
		child = n.plus
	case "#":
		child = n.hash
	default:
		child = n.children[lvl]
	}
	if child != nil {
		var empty bool
		if more {
			empty = child.remove(rest, s)
		} else {
			for i, x := range child.subs {
				if x == s {
					child.subs = append(child.subs[:i], child.subs[i+1:]...)
					break
				}
			}
			empty = child.empty()
		}
		if empty {
			switch lvl {
			case "+":
				n.plus = nil
			case "#":
				n.hash = nil
			default:
				delete(n.children, lvl)
			}
		}
	}
	return n.empty()
}

func (n *node) empty() bool {
	return len(n.subs) == 0 && len(n.children) == 0 && n.plus == nil && n.hash == nil
}

// match calls fn for every sub whose pattern matches the channel name.
func (n *node) match(name string, fn func(*sub)) {
	if n.hash != nil {
		n.hash.emit(fn)
	}
	lvl, rest, more := cut(name)
	if c := n.children[lvl]; c != nil {
		c.step(rest, more, fn)
	}
	if n.plus != nil {
		n.plus.step(rest, more, fn)
	}
}

func (n *node) step(rest string, more bool, fn func(*sub)) {
	if more {
		n.match(rest, fn)
		return
	}
	n.emit(fn)
	if n.hash != nil {
		n.hash.emit(fn) // "a/#" matches "a"
	}
}

func (n *node) emit(fn func(*sub)) {
	for _, s := range n.subs {
		fn(s)
	}
}

func cut(s string) (level, rest string, more bool) {
	if i := strings.IndexByte(s, '/'); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}
