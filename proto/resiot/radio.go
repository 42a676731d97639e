package resiot

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Radio is the LoRa radio metadata ResIOT puts in the Extra of a comm_rx.
// Each field names the Extra key it comes from.
type Radio struct {
	RSSI         float64 // "rssi", dBm
	SNR          float64 // "snr", dB
	SF           uint8   // "sf", spreading factor
	FrequencyMHz float64 // "frequency"
	BandwidthKHz float64 // "modBW"
	Channel      int     // "channel"
	FCnt         uint32  // "seqno", uplink frame counter
	ADR          bool    // "adr"
	Duplicate    bool    // "duplicate"
}

// Radio parses the radio metadata from Extra. Keys that are missing or ""
// leave the zero value. A present value that does not parse gives a
// *FieldError naming the key ("Extra.rssi") and wrapping ErrBadValue; all
// such errors are joined, and the fields that did parse are still returned.
func (m *Message) Radio() (Radio, error) {
	var r Radio
	var errs []error
	field := func(key string, parse func(string) error) {
		v, ok := m.Extra[key]
		if !ok || v == "" {
			return
		}
		if err := parse(v); err != nil {
			errs = append(errs, &FieldError{Field: "Extra." + key, Err: ErrBadValue, Cause: err})
		}
	}
	float := func(dst *float64) func(string) error {
		return func(s string) error {
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return err
			}
			if math.IsNaN(f) || math.IsInf(f, 0) {
				return fmt.Errorf("%q is not a finite number", s)
			}
			*dst = f
			return nil
		}
	}
	boolean := func(dst *bool) func(string) error {
		return func(s string) error {
			v, err := strconv.ParseBool(s)
			if err == nil {
				*dst = v
			}
			return err
		}
	}
	field("rssi", float(&r.RSSI))
	field("snr", float(&r.SNR))
	field("sf", func(s string) error {
		n, err := strconv.ParseUint(s, 10, 8)
		if err == nil {
			r.SF = uint8(n)
		}
		return err
	})
	field("frequency", float(&r.FrequencyMHz))
	field("modBW", float(&r.BandwidthKHz))
	field("channel", func(s string) error {
		n, err := strconv.ParseInt(s, 10, 0)
		if err == nil {
			r.Channel = int(n)
		}
		return err
	})
	field("seqno", func(s string) error {
		n, err := strconv.ParseUint(s, 10, 32)
		if err == nil {
			r.FCnt = uint32(n)
		}
		return err
	})
	field("adr", boolean(&r.ADR))
	field("duplicate", boolean(&r.Duplicate))
	return r, errors.Join(errs...)
}
