package event

import "strconv"

//go:generate go tool msgp -io=false -file gps.go -o gps_gen.go

//msgp:limit arrays:1024 maps:256

// GPS tracker event kinds (connector relay/connector/navixy).
const (
	// KindTrackerState is a tracker's position and state; retained, on
	// gps/<trackerId>/state.
	KindTrackerState = "gps.state"
	// KindTrackerSubscription is a tracker's status in the upstream
	// subscription (normal, blocked, unknown, disallowed); retained, on
	// gps/<trackerId>/subscription.
	KindTrackerSubscription = "gps.subscription"
	// KindTrackerLifecycle is a tracker being blocked, unblocked or
	// corrupted upstream; on gps/<trackerId>/lifecycle.
	KindTrackerLifecycle = "gps.lifecycle"
	// KindGPSOther passes through an upstream event the relay does not
	// normalise; on gps/other/<event>.
	KindGPSOther = "gps.other"
)

// TrackerState is a GPS tracker's last known position and state.
//
// TrackerID is the platform's tracker id; when the upstream names a device
// the relay cannot map to a tracker, TrackerID is 0 and the channel names
// the source instead (see GPSSourceChannel). Times are Unix µs, 0 when
// unknown.
type TrackerState struct {
	Meta      Meta   `msg:"m" json:"meta"`
	TrackerID int64  `msg:"tr" json:"trackerId"`
	SourceID  int64  `msg:"sid" json:"sourceId"` // the upstream's device id
	Label     string `msg:"lbl,omitempty" json:"label,omitempty"`
	// HasPosition is false when the tracker has no fix: Lat and Lng are
	// then meaningless.
	HasPosition bool    `msg:"pos" json:"hasPosition"`
	Lat         float64 `msg:"lat" json:"lat"`
	Lng         float64 `msg:"lng" json:"lng"`
	Speed       float64 `msg:"spd" json:"speed"`   // km/h
	Heading     float64 `msg:"hdg" json:"heading"` // degrees, 0–360
	Alt         float64 `msg:"alt" json:"alt"`     // metres
	GPSTime     int64   `msg:"gt" json:"gpsTime"`  // when the fix was taken
	GPSSignal   int32   `msg:"gsl" json:"gpsSignal"`
	// Connection is signal_lost, just_registered, just_replaced, offline,
	// idle or active.
	Connection string `msg:"cs" json:"connection"`
	// Movement is moving, stopped or parked.
	Movement     string `msg:"mv" json:"movement"`
	MovementTime int64  `msg:"mvt,omitempty" json:"movementTime,omitempty"`
	// Ignition, Battery and GSM are nil when unknown.
	Ignition     *bool       `msg:"ign,omitempty" json:"ignition,omitempty"`
	IgnitionTime int64       `msg:"ignt,omitempty" json:"ignitionTime,omitempty"`
	Battery      *int32      `msg:"bat,omitempty" json:"battery,omitempty"` // percent
	BatteryTime  int64       `msg:"batt,omitempty" json:"batteryTime,omitempty"`
	GSM          *TrackerGSM `msg:"gsm,omitempty" json:"gsm,omitempty"`
	Inputs       []bool      `msg:"in,omitempty" json:"inputs,omitempty"`
	InputsTime   int64       `msg:"int,omitempty" json:"inputsTime,omitempty"`
	Outputs      []bool      `msg:"out,omitempty" json:"outputs,omitempty"`
	OutputsTime  int64       `msg:"outt,omitempty" json:"outputsTime,omitempty"`
	// LastUpdate is when the tracker last reported anything.
	LastUpdate int64 `msg:"lu" json:"lastUpdate"`
	// TrackTime is the upstream's actual_track_update.
	TrackTime int64 `msg:"trt,omitempty" json:"trackTime,omitempty"`
}

// TrackerGSM is a tracker's cellular state.
type TrackerGSM struct {
	Time    int64  `msg:"t" json:"time"`
	Signal  *int32 `msg:"sl,omitempty" json:"signal,omitempty"` // percent
	Network string `msg:"net,omitempty" json:"network,omitempty"`
	Roaming *bool  `msg:"roam,omitempty" json:"roaming,omitempty"`
}

// TrackerSubscription is a tracker's status in the upstream subscription.
type TrackerSubscription struct {
	Meta      Meta   `msg:"m" json:"meta"`
	TrackerID int64  `msg:"tr" json:"trackerId"`
	Label     string `msg:"lbl,omitempty" json:"label,omitempty"`
	// Event is the upstream event type subscribed to ("state").
	Event string `msg:"ev" json:"event"`
	// Status is normal (events flow), blocked, unknown or disallowed.
	Status string `msg:"st" json:"status"`
}

// TrackerLifecycle reports a tracker blocked, unblocked or corrupted.
type TrackerLifecycle struct {
	Meta      Meta   `msg:"m" json:"meta"`
	TrackerID int64  `msg:"tr" json:"trackerId"` // 0 when the source is not mapped
	SourceID  int64  `msg:"sid" json:"sourceId"`
	Event     string `msg:"ev" json:"event"` // block, unblock, corrupt, …
}

// GPSOther passes through an upstream event of a type the relay does not
// normalise (readings_batch, iot_monitor, …); Meta.Raw has it whole.
type GPSOther struct {
	Meta  Meta   `msg:"m" json:"meta"`
	Event string `msg:"ev" json:"event"`
}

func (*TrackerState) Kind() string        { return KindTrackerState }
func (*TrackerSubscription) Kind() string { return KindTrackerSubscription }
func (*TrackerLifecycle) Kind() string    { return KindTrackerLifecycle }
func (*GPSOther) Kind() string            { return KindGPSOther }

func (e *TrackerState) Header() *Meta        { return &e.Meta }
func (e *TrackerSubscription) Header() *Meta { return &e.Meta }
func (e *TrackerLifecycle) Header() *Meta    { return &e.Meta }
func (e *GPSOther) Header() *Meta            { return &e.Meta }

func init() {
	register(KindTrackerState, true, func() Event { return new(TrackerState) })
	register(KindTrackerSubscription, true, func() Event { return new(TrackerSubscription) })
	register(KindTrackerLifecycle, false, func() Event { return new(TrackerLifecycle) })
	register(KindGPSOther, false, func() Event { return new(GPSOther) })
}

// GPSChannel is gps/<tracker>/<leaf>, leaf being "state", "subscription"
// or "lifecycle".
func GPSChannel(tracker int64, leaf string) string {
	return "gps/" + strconv.FormatInt(tracker, 10) + "/" + level(leaf)
}

// GPSSourceChannel is gps/src-<source>/<leaf>: where events of a device
// the relay cannot map to a tracker go. It matches gps/+/<leaf> like the
// tracker channels.
func GPSSourceChannel(source int64, leaf string) string {
	return "gps/src-" + strconv.FormatInt(source, 10) + "/" + level(leaf)
}

// GPSOtherChannel is gps/other/<event>.
func GPSOtherChannel(ev string) string { return "gps/other/" + level(ev) }
