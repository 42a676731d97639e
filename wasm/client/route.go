package client

import (
	"github.com/fieldrelay/fieldrelay/proto/channel"
	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/wire"
)

// incoming is one decoded frame of a message, with its event value decoded
// (outside Client.mu).
type incoming struct {
	f wire.Frame
	v Value
}

// batch is what handling one message produces, delivered after Client.mu
// is released: confirmations and events per subscription in order, the
// Subscribes that recover from gaps, and the subscriptions that ended.
type batch struct {
	outs  []output
	open  map[*Subscription]int // index in outs of a subscription's open events output
	resub []wire.Frame
	ended []*Subscription
}

type output struct {
	s      *Subscription
	info   *SubscribedInfo // a confirmation, or
	events []Event         // events
}

func (b *batch) addEvent(s *Subscription, ev Event) {
	if i, ok := b.open[s]; ok {
		b.outs[i].events = append(b.outs[i].events, ev)
		return
	}
	if b.open == nil {
		b.open = make(map[*Subscription]int)
	}
	b.open[s] = len(b.outs)
	b.outs = append(b.outs, output{s: s, events: []Event{ev}})
}

func (b *batch) addSubscribed(s *Subscription, info SubscribedInfo) {
	delete(b.open, s) // events after the confirmation go in a new output
	b.outs = append(b.outs, output{s: s, info: &info})
}

func (b *batch) reset() {
	clear(b.outs)
	b.outs = b.outs[:0]
	clear(b.open)
	clear(b.resub)
	b.resub = b.resub[:0]
	clear(b.ended)
	b.ended = b.ended[:0]
}

// handle processes one message from the relay. It returns an error, having
// closed the link, if the relay broke the protocol.
func (c *Client) handle(cn *conn, msg []byte) error {
	in := cn.in[:0]
	// The frames alias msg, which the transport gave us to keep.
	var derr error
	for rest := msg; len(rest) > 0; {
		var f wire.Frame
		f, rest, derr = wire.DecodeFrame(rest)
		if derr != nil {
			break
		}
		it := incoming{f: f}
		if ev, ok := f.(*wire.Event); ok && !c.opts.RawEvents {
			// Unknown kinds keep their raw bytes, with a nil Value; so do
			// events whose Data does not decode, counted: the event is
			// delivered all the same, and the others of the message are
			// not affected.
			var good bool
			if it.v, good = decodeValue(ev.Kind, ev.Data); !good {
				c.stats.undecodable.Add(1)
				c.log.Warn("fieldrelay: event data does not decode as its kind", "channel", ev.Channel,
					"kind", ev.Kind, "offset", ev.Offset, "bytes", len(ev.Data))
			}
		}
		in = append(in, it)
	}
	out := &cn.out
	var perr string
	c.mu.Lock()
	for _, it := range in {
		switch f := it.f.(type) {
		case *wire.Event:
			c.routeLocked(cn, f, it.v, out)
		case *wire.Subscribed:
			c.subscribedLocked(cn, f, out)
		case *wire.Reply:
			c.replyLocked(cn, f, out)
		case *wire.Pong:
			// Reading it was the point (see keepalive).
		case *wire.Disconnect:
			cn.disconnect = f
		default:
			perr = "unexpected " + f.FrameType().String() + " frame"
		}
		if perr != "" {
			break
		}
	}
	c.mu.Unlock()
	clear(in)
	cn.in = in[:0]

	c.deliver(out)
	if len(out.resub) > 0 {
		cn.writeFrames(out.resub, c.opts.CommandTimeout)
	}
	out.reset()

	switch {
	case derr != nil:
		return protocolError(cn.t, derr.Error())
	case perr != "":
		return protocolError(cn.t, perr)
	}
	return nil
}

// routeLocked routes one event. An event naming a subscription (replayed
// or latest value) goes to it alone; a live event goes to every active
// subscription whose pattern matches. No subscription is given an offset
// twice or out of order, and one that finds a gap recovers instead.
func (c *Client) routeLocked(cn *conn, f *wire.Event, v Value, out *batch) {
	seen := c.lastSeen[f.Channel]
	if f.Offset > seen {
		c.lastSeen[f.Channel] = f.Offset
	}
	ev := Event{
		Channel: f.Channel,
		Prev:    f.Prev,
		Kind:    f.Kind,
		Data:    f.Data,
		Value:   v,
		Latest:  f.Latest,
	}

	if f.Sub != 0 {
		s := c.subs[f.Sub]
		if s == nil || s.state != subActive || s.reqConn != cn {
			return // ended, or a leftover of an earlier Subscribe
		}
		ev.Position = Position{Epoch: s.epoch, Offset: f.Offset}
		if f.Latest {
			out.addEvent(s, ev)
			return
		}
		if f.Offset <= s.pos {
			c.stats.duplicates.Add(1)
			return
		}
		ev.Replayed = true
		s.pos = f.Offset
		out.addEvent(s, ev)
		return
	}

	for _, s := range c.subs {
		if s.state != subActive || !channel.Match(s.pattern, f.Channel) {
			continue
		}
		if f.Offset <= s.pos {
			c.stats.duplicates.Add(1)
			continue
		}
		if f.Prev > s.from && seen < f.Prev {
			// The previous event of this channel came after s went live
			// and never arrived.
			c.stats.gaps.Add(1)
			if f.Prev > s.pos {
				// Recover from the last event s got: the replay holds the
				// missing event, this one and every later one, so live
				// events are held back until it comes.
				c.log.Warn("fieldrelay: gap, recovering", "pattern", s.pattern, "channel", f.Channel,
					"missing", f.Prev, "offset", f.Offset, "from", s.pos)
				s.state = subRecovering
				out.resub = append(out.resub, c.subscribeFrameLocked(cn, s))
				continue
			}
			// s was already given a later event of another channel: the
			// missing one cannot be delivered in offset order any more.
			c.stats.lost.Add(1)
			c.log.Error("fieldrelay: event lost", "pattern", s.pattern, "channel", f.Channel,
				"missing", f.Prev, "position", s.pos)
		}
		s.pos = f.Offset
		ev.Position = Position{Epoch: s.epoch, Offset: f.Offset}
		out.addEvent(s, ev)
	}
}

// subscribedLocked applies a Subscribed to its subscription.
func (c *Client) subscribedLocked(cn *conn, f *wire.Subscribed, out *batch) {
	delete(cn.pending, f.Req)
	s := c.subs[f.Sub]
	if s == nil || s.reqConn != cn || s.req != f.Req {
		return // ended, or answers an earlier Subscribe
	}
	if f.Epoch != c.epoch {
		if c.epoch != "" {
			c.log.Warn("fieldrelay: the relay's log changed epoch", "from", c.epoch, "to", f.Epoch)
		}
		c.epoch = f.Epoch
		clear(c.lastSeen) // offsets of another epoch say nothing of this one
	}
	resumed := s.epoch != ""
	switch {
	case f.Recovered:
		// The replay advances pos.
	case s.epoch != f.Epoch || f.Offset > s.pos:
		if resumed {
			c.log.Warn("fieldrelay: subscription not recovered, events lost", "pattern", s.pattern,
				"from", s.pos, "to", f.Offset, "epoch", f.Epoch)
		}
		s.pos = f.Offset
	}
	s.from = s.pos
	s.epoch = f.Epoch
	s.state = subActive
	info := SubscribedInfo{
		Position:  Position{Epoch: s.epoch, Offset: s.pos},
		Recovered: f.Recovered,
		Replayed:  int(f.Replayed),
		Resumed:   s.confirmed,
	}
	if !s.confirmed {
		s.confirmed = true
		close(s.ready)
	}
	out.addSubscribed(s, info)
}

// replyLocked answers the request a Reply is for.
func (c *Client) replyLocked(cn *conn, f *wire.Reply, out *batch) {
	p, ok := cn.pending[f.Req]
	if !ok {
		return // its caller gave up
	}
	delete(cn.pending, f.Req)
	switch {
	case p.reply != nil:
		p.reply <- replyResult{reply: f}
	case p.sub != nil:
		s := p.sub
		if f.Code == 0 || s.reqConn != cn || s.req != f.Req || c.subs[s.id] != s {
			return
		}
		err := &ReplyError{Code: codes.Code(f.Code), Message: f.Message}
		c.log.Warn("fieldrelay: subscription refused", "pattern", s.pattern, "err", err)
		delete(c.subs, s.id)
		s.endLocked(err)
		out.ended = append(out.ended, s)
	case f.Code != 0:
		c.log.Warn("fieldrelay: request refused", "request", p.what,
			"code", codes.Code(f.Code).String(), "message", f.Message)
	}
}

// deliver hands a message's confirmations and events to their
// subscriptions, in order, outside Client.mu.
func (c *Client) deliver(out *batch) {
	for _, o := range out.outs {
		s := o.s
		if o.info != nil {
			s.hmu.Lock()
			s.handed = o.info.Position
			s.hmu.Unlock()
			if s.onSubscribed != nil {
				select {
				case <-s.done:
				default:
					info := *o.info
					c.callback(func() { s.onSubscribed(info) })
				}
			}
			continue
		}
		s.deliver(c, o.events)
	}
	for _, s := range out.ended {
		s.closeEvents()
	}
}
