package navixy

import (
	"time"

	"github.com/fieldrelay/fieldrelay/proto/event"
	nx "github.com/fieldrelay/fieldrelay/proto/navixy"
)

// Protocol is the value of Meta.Protocol on this connector's events.
const Protocol = "navixy"

// Out is one normalised event and the channel it is published on.
type Out struct {
	Channel string
	Event   event.Event
}

// Normalize turns a decoded event message into fieldrelay events.
// trackers maps source ids to the trackers of tracker/list; the source ids
// it does not know are returned in unmapped (their events are still in
// outs, on gps/src-<sourceId>/…). zone is the account's time zone.
// Responses, errors and logout give nothing: the connector acts on them.
func Normalize(f nx.Frame, link string, trackers map[int64]nx.Tracker, zone *time.Location, received time.Time) (outs []Out, unmapped []int64) {
	meta := func(raw []byte, upstream int64) event.Meta {
		return event.Meta{Link: link, Protocol: Protocol, Time: upstream, Received: received.UnixMicro(), Raw: raw}
	}
	lookup := func(source int64) (nx.Tracker, bool) {
		t, ok := trackers[source]
		if !ok {
			unmapped = append(unmapped, source)
		}
		return t, ok
	}
	switch f := f.(type) {
	case *nx.StateEvent:
		t, ok := lookup(f.State.SourceID)
		outs = append(outs, stateOut(&f.State, f.UserTime, t, ok, meta(f.Raw, 0), zone))
	case *nx.StateBatchEvent:
		for i := range f.States {
			s := &f.States[i]
			t, ok := lookup(s.SourceID)
			outs = append(outs, stateOut(s, f.UserTime, t, ok, meta(s.Raw, 0), zone))
		}
	case *nx.LifecycleEvent:
		t, ok := lookup(f.SourceID)
		m := meta(f.Raw, micros(f.UserTime, zone))
		ev := &event.TrackerLifecycle{Meta: m, SourceID: f.SourceID, Event: f.Lifecycle}
		ch := event.GPSSourceChannel(f.SourceID, "lifecycle")
		if ok {
			ev.TrackerID, ch = t.ID, event.GPSChannel(t.ID, "lifecycle")
		}
		outs = append(outs, Out{ch, ev})
	case *nx.OtherEvent:
		outs = append(outs, Out{event.GPSOtherChannel(f.Event), &event.GPSOther{Meta: meta(f.Raw, micros(f.UserTime, zone)), Event: f.Event}})
	}
	return outs, unmapped
}

// stateOut normalises one state.
func stateOut(s *nx.State, userTime nx.LocalTime, t nx.Tracker, mapped bool, m event.Meta, zone *time.Location) Out {
	ev := &event.TrackerState{
		Meta: m, SourceID: s.SourceID,
		Connection: s.ConnectionStatus, Movement: s.MovementStatus,
		MovementTime: micros(s.MovementStatusUpdate, zone),
		Ignition:     s.Ignition, IgnitionTime: micros(s.IgnitionUpdate, zone),
		BatteryTime: micros(s.BatteryUpdate, zone),
		Inputs:      s.Inputs, InputsTime: micros(s.InputsUpdate, zone),
		Outputs: s.Outputs, OutputsTime: micros(s.OutputsUpdate, zone),
		LastUpdate: micros(s.LastUpdate, zone), TrackTime: micros(s.ActualTrackUpdate, zone),
	}
	if g := s.GPS; g != nil {
		ev.Speed, ev.Heading, ev.Alt = g.Speed, g.Heading, g.Alt
		ev.GPSTime, ev.GPSSignal = micros(g.Updated, zone), int32(g.SignalLevel)
		if g.Location != nil {
			ev.HasPosition, ev.Lat, ev.Lng = true, g.Location.Lat, g.Location.Lng
		}
	}
	if s.BatteryLevel != nil {
		b := int32(*s.BatteryLevel)
		ev.Battery = &b
	}
	if g := s.GSM; g != nil {
		ev.GSM = &event.TrackerGSM{Time: micros(g.Updated, zone), Network: g.NetworkName, Roaming: g.Roaming}
		if g.SignalLevel != nil {
			sl := int32(*g.SignalLevel)
			ev.GSM.Signal = &sl
		}
	}
	switch {
	case ev.LastUpdate != 0:
		ev.Meta.Time = ev.LastUpdate
	case ev.GPSTime != 0:
		ev.Meta.Time = ev.GPSTime
	default:
		ev.Meta.Time = micros(userTime, zone)
	}
	if mapped {
		ev.TrackerID, ev.Label = t.ID, t.Label
		return Out{event.GPSChannel(t.ID, "state"), ev}
	}
	return Out{event.GPSSourceChannel(s.SourceID, "state"), ev}
}

// micros is t in Unix µs in zone, 0 for "" (times were checked when the
// message was decoded, so an error cannot happen; it gives 0 too).
func micros(t nx.LocalTime, zone *time.Location) int64 {
	v, err := t.In(zone)
	if err != nil || v.IsZero() {
		return 0
	}
	return v.UnixMicro()
}
