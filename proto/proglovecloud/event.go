package proglovecloud

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
)

// TypeScan is the only event_type the vendor documents. Other values decode
// the same way and are passed through in Event.EventType.
const TypeScan = "scan"

// Event is one message of the live-data feed. The vendor's page shows a
// scan; every key of that example has a field here, named after the key.
// Times stay in Unix milliseconds as sent.
type Event struct {
	APIVersion             string // "api_version", "0.5" in the example
	TimeCreated            int64  // "time_created", Unix ms
	CustomerGatewayName    string // "customer_gateway_name"
	CustomerGatewayUsecase string // "customer_gateway_usecase"
	CustomerGatewayStation string // "customer_gateway_station"
	DeviceSerial           string // "device_serial"
	DeviceModel            string // "device_model"
	DeviceManufacturer     string // "device_manufacturer"
	DeviceFirmware         string // "device_firmware"
	DeviceBattery          float64
	EventType              string // "event_type", never empty after Decode
	ScanCode               string // "scan_code"
	ScanDecodeSymbology    string // "scan_decode_symbology"
	EventID                string // "event_id", a UUID; "" when absent
	TimeReceived           int64  // "time_received", Unix ms
	GatewayID              string // "gateway_id"
	ConfigurationID        string // "configuration_id"
	// ConfigurationProfileID and ConfigurationProfileRevision name the
	// scanner configuration profile that was active.
	ConfigurationProfileID       string
	ConfigurationProfileRevision int64
	ConfigurationTag             string // "configuration_tag"
	GatewayFirmware              string // "gateway_firmware"
	GatewayManufacturer          string // "gateway_manufacturer"
	GatewayModel                 string // "gateway_model"
	GatewayType                  string // "gateway_type", "mobile" in the example
	Metrics                      []Metric
	MetricsWorkerSteps           int64   // "metrics_worker_steps"
	ScanDuration                 float64 // "scan_duration", seconds (0.27 for a 270 ms bce_duration)
	// Extra holds every key this package does not know: strings as they
	// are, other values as compact JSON, null as "".
	Extra map[string]string
	// Raw is a copy of the input exactly as it was passed to Decode.
	Raw []byte
}

// Metric is one item of "metrics":
// {"metric_name","metric_type","metric_unit","values":[…]}.
type Metric struct {
	Name string // "metric_name", e.g. "bce_duration"
	Type string // "metric_type", e.g. "scalars"
	Unit string // "metric_unit", e.g. "ms"
	// Values are the item's numbers. When "values" is not an array of
	// numbers (or numeric strings), Values is nil and Extra["values"] keeps
	// it as compact JSON.
	Values []float64
	// Extra holds the item's other keys, as Event.Extra does.
	Extra map[string]string
}

// IsScan reports whether the event is a scan.
func (e *Event) IsScan() bool { return e.EventType == TypeScan }

// keys lists the event's known keys in the order of the vendor's example;
// Encode writes them in this order.
var keys = []string{
	"api_version", "time_created", "customer_gateway_name", "customer_gateway_usecase",
	"customer_gateway_station", "device_serial", "device_model", "device_manufacturer",
	"device_firmware", "device_battery", "event_type", "scan_code", "scan_decode_symbology",
	"event_id", "time_received", "gateway_id", "configuration_id", "configuration_profile_id",
	"configuration_profile_revision", "configuration_tag", "gateway_firmware",
	"gateway_manufacturer", "gateway_model", "gateway_type", "metrics",
	"metrics_worker_steps", "scan_duration",
}

var metricKeys = []string{"metric_name", "metric_type", "metric_unit", "values"}

// field is one known key and where its value goes.
type field struct {
	key string
	str *string
	i   *int64
	ms  *int64
	f   *float64
}

func (e *Event) fields() []field {
	return []field{
		{key: "api_version", str: &e.APIVersion},
		{key: "time_created", ms: &e.TimeCreated},
		{key: "customer_gateway_name", str: &e.CustomerGatewayName},
		{key: "customer_gateway_usecase", str: &e.CustomerGatewayUsecase},
		{key: "customer_gateway_station", str: &e.CustomerGatewayStation},
		{key: "device_serial", str: &e.DeviceSerial},
		{key: "device_model", str: &e.DeviceModel},
		{key: "device_manufacturer", str: &e.DeviceManufacturer},
		{key: "device_firmware", str: &e.DeviceFirmware},
		{key: "device_battery", f: &e.DeviceBattery},
		{key: "event_type", str: &e.EventType},
		{key: "scan_code", str: &e.ScanCode},
		{key: "scan_decode_symbology", str: &e.ScanDecodeSymbology},
		{key: "event_id", str: &e.EventID},
		{key: "time_received", ms: &e.TimeReceived},
		{key: "gateway_id", str: &e.GatewayID},
		{key: "configuration_id", str: &e.ConfigurationID},
		{key: "configuration_profile_id", str: &e.ConfigurationProfileID},
		{key: "configuration_profile_revision", i: &e.ConfigurationProfileRevision},
		{key: "configuration_tag", str: &e.ConfigurationTag},
		{key: "gateway_firmware", str: &e.GatewayFirmware},
		{key: "gateway_manufacturer", str: &e.GatewayManufacturer},
		{key: "gateway_model", str: &e.GatewayModel},
		{key: "gateway_type", str: &e.GatewayType},
		{key: "metrics_worker_steps", i: &e.MetricsWorkerSteps},
		{key: "scan_duration", f: &e.ScanDuration},
	}
}

// Decode decodes one live-data message. Leading and trailing white space
// is ignored. It never panics and imposes no size limit (the connector
// bounds frames before they reach it).
//
// Errors wrap one of the package's sentinels (see ErrorKind); errors about
// one field are *FieldError values naming it.
func Decode(b []byte) (*Event, error) {
	m, err := parseObject(b)
	if err != nil {
		return nil, err
	}
	e := &Event{}
	for _, f := range e.fields() {
		raw := m[f.key]
		switch {
		case f.str != nil:
			*f.str, err = decodeString(f.key, raw)
		case f.i != nil:
			*f.i, err = decodeInt(f.key, raw)
		case f.ms != nil:
			*f.ms, err = decodeMillis(f.key, raw)
		case f.f != nil:
			*f.f, err = decodeFloat(f.key, raw)
		}
		if err != nil {
			return nil, err
		}
	}
	if e.EventType == "" {
		return nil, ErrNoType
	}
	if e.Metrics, err = decodeMetrics(m["metrics"]); err != nil {
		return nil, err
	}
	e.Extra = extra(m, keys)
	e.Raw = append([]byte(nil), b...)
	return e, nil
}

// extra collects the members of m whose keys are not in known.
func extra(m map[string]json.RawMessage, known []string) map[string]string {
	var out map[string]string
	for k, v := range m {
		if slices.Contains(known, k) {
			continue
		}
		if out == nil {
			out = make(map[string]string)
		}
		if absent(v) {
			out[k] = ""
		} else {
			out[k] = compactText(v)
		}
	}
	return out
}

func decodeMetrics(raw json.RawMessage) ([]Metric, error) {
	if absent(raw) {
		return nil, nil
	}
	if raw[0] != '[' {
		return nil, wrongType("metrics", raw, "array")
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, &FieldError{Field: "metrics", Err: ErrMalformedJSON, Cause: err}
	}
	out := make([]Metric, 0, len(items))
	for i, item := range items {
		name := "metrics[" + strconv.Itoa(i) + "]"
		if absent(item) || item[0] != '{' {
			return nil, wrongType(name, item, "object")
		}
		m, err := parseObject(item)
		if err != nil {
			return nil, &FieldError{Field: name, Err: ErrMalformedJSON, Cause: err}
		}
		var mt Metric
		for _, f := range []struct {
			key string
			dst *string
		}{{"metric_name", &mt.Name}, {"metric_type", &mt.Type}, {"metric_unit", &mt.Unit}} {
			if *f.dst, err = decodeString(name+"."+f.key, m[f.key]); err != nil {
				return nil, err
			}
		}
		mt.Extra = extra(m, metricKeys)
		if vals, ok := decodeValues(name, m["values"]); ok {
			mt.Values = vals
		} else {
			if mt.Extra == nil {
				mt.Extra = make(map[string]string)
			}
			mt.Extra["values"] = compactText(m["values"])
		}
		out = append(out, mt)
	}
	return out, nil
}

// decodeValues reads "values" as numbers. ok is false when it is present
// but not an array of numbers (or numeric strings): the item's shape is
// the notes' open question, so such values are kept as text rather than
// costing the whole scan.
func decodeValues(name string, raw json.RawMessage) ([]float64, bool) {
	if absent(raw) {
		return nil, true
	}
	if raw[0] != '[' {
		return nil, false
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, false
	}
	out := make([]float64, 0, len(items))
	for j, item := range items {
		text, ok, err := numberText(name+".values["+strconv.Itoa(j)+"]", item, "number")
		if err != nil || !ok {
			return nil, false
		}
		f, err := parseFloat("", text)
		if err != nil {
			return nil, false
		}
		out = append(out, f)
	}
	return out, true
}

// Encode writes e in the vendor's shape: every known key, in the order of
// the example, with its JSON type (numbers as numbers, "metrics" as an
// array, [] when empty), then Extra's keys in sorted order as strings.
// Metric items are written likewise. Raw is ignored. Decode(Encode(e))
// gives e back, except that Extra values become strings (so 5 comes back
// as "5", which Extra already held) and nil and empty slices are the same.
func Encode(e *Event) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	first := true
	member := func(k string, v any) error {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		kb, _ := marshal(k)
		buf.Write(kb)
		buf.WriteByte(':')
		vb, err := marshal(v)
		if err != nil {
			return err
		}
		buf.Write(vb)
		return nil
	}
	byKey := make(map[string]field)
	for _, f := range e.fields() {
		byKey[f.key] = f
	}
	for _, k := range keys {
		var v any
		if k == "metrics" {
			v = metricsWire(e.Metrics)
		} else {
			switch f := byKey[k]; {
			case f.str != nil:
				v = *f.str
			case f.i != nil:
				v = *f.i
			case f.ms != nil:
				v = *f.ms
			case f.f != nil:
				v = *f.f
			}
		}
		if err := member(k, v); err != nil {
			return nil, err
		}
	}
	for _, k := range sortedExtra(e.Extra, keys) {
		if err := member(k, e.Extra[k]); err != nil {
			return nil, err
		}
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func sortedExtra(x map[string]string, known []string) []string {
	var out []string
	for k := range x {
		if !slices.Contains(known, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// orderedObject marshals as a JSON object with its keys in order.
type orderedObject []struct {
	k string
	v any
}

func (o orderedObject) MarshalJSON() ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	for i, m := range o {
		if i > 0 {
			buf.WriteByte(',')
		}
		kb, _ := marshal(m.k)
		buf.Write(kb)
		buf.WriteByte(':')
		vb, err := marshal(m.v)
		if err != nil {
			return nil, err
		}
		buf.Write(vb)
	}
	buf.WriteByte('}')
	return buf.Bytes(), nil
}

func (o *orderedObject) add(k string, v any) {
	*o = append(*o, struct {
		k string
		v any
	}{k, v})
}

func metricsWire(ms []Metric) []orderedObject {
	out := make([]orderedObject, 0, len(ms))
	for _, m := range ms {
		var o orderedObject
		o.add("metric_name", m.Name)
		o.add("metric_type", m.Type)
		o.add("metric_unit", m.Unit)
		switch raw, ok := m.Extra["values"]; {
		case m.Values == nil && ok:
			o.add("values", raw) // values that were not numbers, as text
		case m.Values == nil:
			o.add("values", []float64{})
		default:
			o.add("values", m.Values)
		}
		for _, k := range sortedExtra(m.Extra, metricKeys) {
			o.add(k, m.Extra[k])
		}
		out = append(out, o)
	}
	return out
}
