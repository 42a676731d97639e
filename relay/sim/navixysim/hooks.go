package navixysim

import (
	"fmt"
	"math"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/navixy"
)

// Move is a new position for a tracker.
type Move struct {
	TrackerID int64
	Lat, Lng  float64
	Speed     float64 // km/h; 0 means stopped
	Heading   float64 // degrees
}

// Move updates the trackers' positions and times (now, in Config.Location)
// and pushes the new states of the normal ones to every socket subscribed
// to them: a state event each, or one state_batch. Nothing moves if one of
// the trackers is unknown.
func (s *Simulator) Move(moves ...Move) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range moves {
		if _, ok := s.trackers[m.TrackerID]; !ok {
			return fmt.Errorf("%w: %s", ErrUnknownTracker, describe(m.TrackerID))
		}
		if math.IsNaN(m.Lat+m.Lng+m.Speed+m.Heading) || math.IsInf(m.Lat+m.Lng+m.Speed+m.Heading, 0) {
			return fmt.Errorf("navixysim: move of %s is not finite", describe(m.TrackerID))
		}
	}
	now := s.localNow()
	ids := make([]int64, 0, len(moves))
	for _, m := range moves {
		t := s.trackers[m.TrackerID]
		st := t.state // copy; share nothing with frames already queued
		gps := *st.GPS
		gps.Location = &navixy.Location{Lat: m.Lat, Lng: m.Lng}
		gps.Speed, gps.Heading, gps.Updated = m.Speed, m.Heading, now
		st.GPS = &gps
		movement := navixy.MovingStopped
		if m.Speed > 0 {
			movement = navixy.MovingMoving
		}
		if movement != st.MovementStatus {
			st.MovementStatus, st.MovementStatusUpdate = movement, now
		}
		if ign := m.Speed > 0; st.Ignition == nil || *st.Ignition != ign {
			st.Ignition, st.IgnitionUpdate = &ign, now
		}
		st.ConnectionStatus = navixy.ConnActive
		st.LastUpdate, st.ActualTrackUpdate = now, now
		t.state = st
		t.Lat, t.Lng = m.Lat, m.Lng
		ids = append(ids, m.TrackerID)
	}
	s.pushChangedLocked(ids)
	return nil
}

// Lifecycle sends {"type":"event","event":"lifecycle","data":{"source_id":…,
// "lifecycle_event":ev}} to every socket that has subscribed. ev
// navixy.LifecycleBlock makes the tracker blocked (no more states);
// navixy.LifecycleUnblock makes it normal again and pushes its state, as
// the vendor does after an unblock.
func (s *Simulator) Lifecycle(trackerID int64, ev string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.trackers[trackerID]
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownTracker, describe(trackerID))
	}
	switch ev {
	case navixy.LifecycleBlock:
		t.Status = navixy.TrackerBlocked
	case navixy.LifecycleUnblock:
		t.Status = navixy.TrackerNormal
	}
	f := &navixy.LifecycleEvent{SourceID: t.SourceID, Lifecycle: ev}
	for c := range s.clients {
		if c.live {
			s.queueFrameLocked(c, f, navixy.FormatFull)
		}
	}
	if ev == navixy.LifecycleUnblock {
		s.pushChangedLocked([]int64{trackerID})
	}
	return nil
}

// Logout ends the session of every socket that subscribed with a hash
// still valid: it sends {"type":"event","event":"logout","data":"session
// closed"}, drops the socket's subscriptions, and expires the hash (a
// later subscribe or tracker/list with it gets error 4) unless it is an
// API key (IssueHash). It returns how many sockets were told.
func (s *Simulator) Logout() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for c := range s.clients {
		if c.hash == "" || s.checkHashLocked(c.hash) != 0 {
			continue
		}
		s.queueFrameLocked(c, &navixy.LogoutEvent{Reason: "session closed"}, navixy.FormatFull)
		c.subs = make(map[string]*subscription)
		c.live = false
		n++
	}
	for c := range s.clients {
		if sess := s.hashes[c.hash]; sess != nil && !sess.key {
			sess.expired = true
		}
	}
	return n
}

// Emit sends b verbatim (no length prefix) as a text frame to every
// socket. Tests use it to inject malformed or unusual frames.
func (s *Simulator) Emit(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		c.queueRaw(append([]byte(nil), b...))
	}
}

// EmitMessage sends msg to every socket framed like the simulator's own
// messages (with a length prefix where the socket tracks sizes).
func (s *Simulator) EmitMessage(msg []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.clients {
		c.queue(append([]byte(nil), msg...))
	}
}

// DropClients cuts every socket abruptly, without a close handshake, and
// returns how many it cut. Stats().Clients reflects it at once.
func (s *Simulator) DropClients() int {
	s.mu.Lock()
	dropped := make([]*client, 0, len(s.clients))
	for c := range s.clients {
		dropped = append(dropped, c)
		delete(s.clients, c)
	}
	if len(dropped) > 0 {
		s.notifyLocked()
	}
	s.mu.Unlock()
	for _, c := range dropped {
		c.cancel()
		_ = c.conn.CloseNow()
	}
	return len(dropped)
}

// generate moves one normal tracker every Config.MoveEvery, round-robin,
// from the first socket until Close.
func (s *Simulator) generate() {
	defer s.wg.Done()
	t := time.NewTicker(s.cfg.moveEvery)
	defer t.Stop()
	for {
		select {
		case <-s.life.Done():
			return
		case <-t.C:
		}
		if m, ok := s.nextMove(); ok {
			_ = s.Move(m)
		}
	}
}

// nextMove picks the next normal tracker and a small random step.
func (s *Simulator) nextMove() (Move, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range s.order {
		id := s.order[s.nextMoveIdx%len(s.order)]
		s.nextMoveIdx++
		t := s.trackers[id]
		if t.Status != navixy.TrackerNormal {
			continue
		}
		speed := float64(s.rng.IntN(90))
		heading := float64(s.rng.IntN(360))
		step := speed / 3600 / 111 * s.cfg.moveEvery.Seconds() // km/h over the period, in degrees
		rad := heading * math.Pi / 180
		return Move{TrackerID: id, Lat: t.Lat + step*math.Cos(rad), Lng: t.Lng + step*math.Sin(rad), Speed: speed, Heading: heading}, true
	}
	return Move{}, false
}
