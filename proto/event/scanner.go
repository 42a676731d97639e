package event

// Barcode scanner events and commands (ProGlove). The Insight Mobile
// Streams API (proto/proglove) produces every kind below; the types are
// meant to be shared by any scanner source (the Insight cloud feed's scans
// fit Scan, whose Symbology only that feed fills).

//go:generate go tool msgp -io=false -file scanner.go -o scanner_gen.go

//msgp:limit arrays:1024 maps:256

// Scanner event kinds.
const (
	KindScan           = "scanner.scan"    // a barcode was read
	KindScannerState   = "scanner.state"   // a scanner connected or disconnected (retained)
	KindScannerButton  = "scanner.button"  // a trigger gesture that is not a scan
	KindScannerError   = "scanner.error"   // the gateway reported an error, usually about a command
	KindScannerGateway = "scanner.gateway" // the gateway's state and connected scanners (retained)
	KindScannerOther   = "scanner.other"   // a scanner message of a type not normalised
)

// Scanner command kinds. Their target is ScannerChannel(serial, "cmd"),
// except CmdScannerGatewayState's, ScannerGatewayChannel(gateway, "cmd").
// Each is answered ok with a ScannerCommandResult unless the gateway
// reported an error.
const (
	CmdScannerFeedback     = "scanner.feedback"      // body ScannerFeedback
	CmdScannerDisplay      = "scanner.display"       // body ScannerDisplay
	CmdScannerTriggerBlock = "scanner.trigger_block" // body ScannerTriggerBlock
	CmdScannerGatewayState = "scanner.gateway_state" // body ScannerGatewayState (empty)
)

// Scan is one barcode read by a scanner.
type Scan struct {
	Meta   Meta   `msg:"m" json:"meta"`
	Serial string `msg:"dev" json:"serial"` // the scanner's serial, as sent
	// Code is the decoded barcode content, with one trailing carriage
	// return removed (some gateways end it with "\r"; Meta.Raw keeps it).
	Code string `msg:"code" json:"code"`
	// Bytes is the barcode's raw content when the source sent it
	// (scan_bytes, Base64 decoded); nil otherwise.
	Bytes   []byte `msg:"bytes,omitempty,limit=65536" json:"bytes,omitempty"`
	Gateway string `msg:"gw,omitempty" json:"gateway,omitempty"` // the gateway's serial
	Model   string `msg:"model,omitempty" json:"model,omitempty"`
	// Mode is the scan mode as sent: SCAN_MODE_SINGLE, _CONTINUOUS, _MULTISCAN.
	Mode string `msg:"mode,omitempty" json:"mode,omitempty"`
	// Duration of the scan in seconds; 0 when not sent.
	Duration float64 `msg:"dur,omitempty" json:"duration,omitempty"`
	// Temperature of the scanner in °C; nil when not sent.
	Temperature *float64 `msg:"temp,omitempty" json:"temperature,omitempty"`
	// Session is the scan session id; 0 when not sent.
	Session int64 `msg:"sess,omitempty" json:"session,omitempty"`
	// Symbology is the barcode type, when the source reports one (the
	// Insight cloud feed does; the Streams API does not).
	Symbology string `msg:"sym,omitempty" json:"symbology,omitempty"`
}

// Scanner connection states of ScannerState.State.
const (
	ScannerConnected    = "STATE_CONNECTED"
	ScannerDisconnected = "STATE_DISCONNECTED"
)

// ScannerState says whether a scanner is connected to its gateway,
// published on ScannerChannel(serial, "state") and retained.
type ScannerState struct {
	Meta      Meta   `msg:"m" json:"meta"`
	Serial    string `msg:"dev" json:"serial"`
	Gateway   string `msg:"gw,omitempty" json:"gateway,omitempty"`
	State     string `msg:"st" json:"state"` // ScannerConnected or ScannerDisconnected, as sent
	Connected bool   `msg:"up" json:"connected"`
	// Reason is why it disconnected, as sent ("UNKNOWN").
	Reason string `msg:"why,omitempty" json:"reason,omitempty"`
	// Derived names what the state was inferred from when the gateway
	// sent no state event for it: "gateway_state" (the scanner is, or is no
	// longer, in the gateway's list of connected scanners). Empty for a
	// state the gateway reported.
	Derived      string `msg:"der,omitempty" json:"derived,omitempty"`
	Model        string `msg:"model,omitempty" json:"model,omitempty"`
	Firmware     string `msg:"fw,omitempty" json:"firmware,omitempty"`
	Manufacturer string `msg:"mfr,omitempty" json:"manufacturer,omitempty"`
}

// ScannerButton is a trigger gesture reported as a button press
// (TRIGGER_DOUBLE_CLICK), not a scan.
type ScannerButton struct {
	Meta    Meta   `msg:"m" json:"meta"`
	Serial  string `msg:"dev" json:"serial"`
	Gateway string `msg:"gw,omitempty" json:"gateway,omitempty"`
	Gesture string `msg:"gest" json:"gesture"`
}

// ScannerError is an error the gateway reported, usually the failure of a
// command (Reference is that command's event id).
type ScannerError struct {
	Meta      Meta   `msg:"m" json:"meta"`
	Serial    string `msg:"dev,omitempty" json:"serial,omitempty"`
	Gateway   string `msg:"gw,omitempty" json:"gateway,omitempty"`
	Code      string `msg:"code" json:"code"`               // ERROR_UNKNOWN, ERROR_INVALID_COMMAND, ERROR_TIMEOUT, ERROR_DEVICE_NOT_FOUND, …
	Severity  string `msg:"sev,omitempty" json:"severity"`  // WARNING, ERROR, CRITICAL
	Message   string `msg:"msg,omitempty" json:"message"`   // the gateway's text
	Reference string `msg:"ref,omitempty" json:"reference"` // the failed command's event id
}

// ScannerDevice is one scanner in a gateway's list.
type ScannerDevice struct {
	Serial       string `msg:"dev" json:"serial"`
	Firmware     string `msg:"fw,omitempty" json:"firmware,omitempty"`
	Model        string `msg:"model,omitempty" json:"model,omitempty"`
	Manufacturer string `msg:"mfr,omitempty" json:"manufacturer,omitempty"`
}

// ScannerGateway is a gateway's state: its version and the scanners
// connected to it. Published on ScannerGatewayChannel(gateway, "state"),
// retained.
type ScannerGateway struct {
	Meta       Meta            `msg:"m" json:"meta"`
	Gateway    string          `msg:"gw" json:"gateway"`
	AppVersion string          `msg:"ver,omitempty" json:"appVersion,omitempty"`
	Reference  string          `msg:"ref,omitempty" json:"reference,omitempty"` // the gateway_state request answered, if any
	Devices    []ScannerDevice `msg:"devs" json:"devices"`
}

// ScannerOther passes through a scanner message of a type fieldrelay does
// not normalise (Meta.Raw has it whole).
type ScannerOther struct {
	Meta    Meta   `msg:"m" json:"meta"`
	Type    string `msg:"type" json:"type"`
	Serial  string `msg:"dev,omitempty" json:"serial,omitempty"`
	Gateway string `msg:"gw,omitempty" json:"gateway,omitempty"`
}

// ScannerFeedback is the body of CmdScannerFeedback: play a feedback
// sequence (light, sound, vibration) on the scanner.
type ScannerFeedback struct {
	// Action is FEEDBACK_POSITIVE, FEEDBACK_NEGATIVE, FEEDBACK_SPECIAL_YELLOW,
	// FEEDBACK_SPECIAL_PURPLE or FEEDBACK_SPECIAL_CYAN.
	Action string `msg:"act" json:"action"`
	// TimeToLiveMS, if not 0, drops the feedback when it cannot be played
	// within that many milliseconds (Streams API 1.1).
	TimeToLiveMS int64 `msg:"ttl,omitempty" json:"timeToLiveMs,omitempty"`
}

// ScannerDisplayField is one field of a display template.
type ScannerDisplayField struct {
	ID     int32  `msg:"id" json:"id"`    // ≥ 1
	Header string `msg:"h" json:"header"` // ≤ 40 characters
	Text   string `msg:"t" json:"text"`   // ≤ 80 characters
}

// ScannerDisplay is the body of CmdScannerDisplay: show a template on a
// display scanner.
type ScannerDisplay struct {
	Template string `msg:"tpl" json:"template"` // "PG1", "PG3", "PG2A", … (1..15 characters)
	// Refresh is DEFAULT (when empty), FULL_REFRESH or PARTIAL_REFRESH.
	Refresh string `msg:"rf,omitempty" json:"refresh,omitempty"`
	// DurationMS is 0 for a permanent screen, else how long a notification
	// shows, in milliseconds.
	DurationMS int64                 `msg:"dur,omitempty" json:"durationMs,omitempty"`
	Fields     []ScannerDisplayField `msg:"f" json:"fields"` // at most 12
}

// ScannerTriggerBlock is the body of CmdScannerTriggerBlock: block (or,
// with Block false, unblock) the scanner's trigger.
type ScannerTriggerBlock struct {
	Block bool `msg:"block" json:"block"`
	// BlockGestures lists the gestures to block (TRIGGER_SINGLE_CLICK,
	// TRIGGER_DOUBLE_CLICK, TRIGGER_TRIPLE_CLICK); empty blocks all.
	BlockGestures []string `msg:"bg,omitempty" json:"blockGestures,omitempty"`
	// UnblockGestures lists gestures that lift the block.
	UnblockGestures []string `msg:"ug,omitempty" json:"unblockGestures,omitempty"`
	// DurationMS is how long the block lasts; 0 until unblocked.
	DurationMS int64 `msg:"dur,omitempty" json:"durationMs,omitempty"`
}

// ScannerGatewayState is the (empty) body of CmdScannerGatewayState: ask
// the gateway for its state, which it publishes as a ScannerGateway.
type ScannerGatewayState struct{}

// ScannerCommandResult is the Data of a successful scanner command.
type ScannerCommandResult struct {
	// EventID is the event_id the command was sent with; the gateway names
	// it as the reference of anything it answers.
	EventID string `msg:"id" json:"eventId"`
	// Answered is true when the gateway answered positively (a
	// gateway_state for CmdScannerGatewayState). False means success was
	// inferred from the gateway's silence: the Streams API has no positive
	// acknowledgement.
	Answered bool `msg:"ans,omitempty" json:"answered,omitempty"`
}

func (*Scan) Kind() string           { return KindScan }
func (*ScannerState) Kind() string   { return KindScannerState }
func (*ScannerButton) Kind() string  { return KindScannerButton }
func (*ScannerError) Kind() string   { return KindScannerError }
func (*ScannerGateway) Kind() string { return KindScannerGateway }
func (*ScannerOther) Kind() string   { return KindScannerOther }

func (e *Scan) Header() *Meta           { return &e.Meta }
func (e *ScannerState) Header() *Meta   { return &e.Meta }
func (e *ScannerButton) Header() *Meta  { return &e.Meta }
func (e *ScannerError) Header() *Meta   { return &e.Meta }
func (e *ScannerGateway) Header() *Meta { return &e.Meta }
func (e *ScannerOther) Header() *Meta   { return &e.Meta }

// CommandKind implements Command.
func (*ScannerFeedback) CommandKind() string { return CmdScannerFeedback }

// CommandKind implements Command.
func (*ScannerDisplay) CommandKind() string { return CmdScannerDisplay }

// CommandKind implements Command.
func (*ScannerTriggerBlock) CommandKind() string { return CmdScannerTriggerBlock }

// CommandKind implements Command.
func (*ScannerGatewayState) CommandKind() string { return CmdScannerGatewayState }

func init() {
	register(KindScan, false, func() Event { return new(Scan) })
	register(KindScannerState, true, func() Event { return new(ScannerState) })
	register(KindScannerButton, false, func() Event { return new(ScannerButton) })
	register(KindScannerError, false, func() Event { return new(ScannerError) })
	register(KindScannerGateway, true, func() Event { return new(ScannerGateway) })
	register(KindScannerOther, false, func() Event { return new(ScannerOther) })
	registerCommand(CmdScannerFeedback, func() Command { return new(ScannerFeedback) })
	registerCommand(CmdScannerDisplay, func() Command { return new(ScannerDisplay) })
	registerCommand(CmdScannerTriggerBlock, func() Command { return new(ScannerTriggerBlock) })
	registerCommand(CmdScannerGatewayState, func() Command { return new(ScannerGatewayState) })
}

// ScannerChannel is scanner/<serial>/<leaf>, leaf being "scan", "state",
// "button", "error", "other" or "cmd" (the target of scanner commands).
// Serials are lower-cased like every level.
func ScannerChannel(serial, leaf string) string {
	return "scanner/" + level(serial) + "/" + leaf
}

// ScannerGatewayChannel is scanner/gateway/<gatewaySerial>/<leaf>, leaf
// being "state" or "cmd". Its four levels keep it apart from the
// three-level scanner channels.
func ScannerGatewayChannel(gateway, leaf string) string {
	return "scanner/gateway/" + level(gateway) + "/" + leaf
}
