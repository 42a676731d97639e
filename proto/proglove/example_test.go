package proglove_test

import (
	"fmt"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/proto/proglove"
)

// A browser in direct mode hands every text frame from ws://localhost:9998
// to NormalizeFrame and gets fieldrelay's typed events.
func ExampleNormalizeFrame() {
	frame := []byte(`{"api_version":"1.0","event_type":"scan","event_id":"02114da8-feae-46e3-8b00-a3f7ea8672df","time_created":1546300800000,
 "scan_code":"Hello, World!","scan_bytes":"SGVsbG8sIFdvcmxkIQ==","device_serial":"MDMR000000064","device_model":"Mark Display",
 "gateway_serial":"PGGW000000058","scan_mode":"SCAN_MODE_SINGLE","scan_duration":"1.23","device_temperature":"22.30","scan_session_id":1}`)
	outs, err := proglove.NormalizeFrame(frame, "mobile", time.Now())
	if err != nil {
		fmt.Println(proglove.ErrorKind(err), err)
		return
	}
	for _, o := range outs {
		s := o.Event.(*event.Scan)
		fmt.Printf("%s %s: %q in %.2fs at %.1f°C\n", o.Event.Kind(), o.Channel, s.Code, s.Duration, *s.Temperature)
	}
	// Output: scanner.scan scanner/mdmr000000064/scan: "Hello, World!" in 1.23s at 22.3°C
}

// CommandFrame gives the text frame to send for a command body; an errors
// event whose event_reference_id is id means it failed.
func ExampleCommandFrame() {
	frame, id, err := proglove.CommandFrame("M2MR111100928", &event.ScannerFeedback{Action: proglove.FeedbackPositive},
		"02114da8-feae-46e3-8b00-a3f7ea8672df", time.UnixMilli(1546300800000))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(id)
	fmt.Println(string(frame))
	// Output:
	// 02114da8-feae-46e3-8b00-a3f7ea8672df
	// {"api_version":"1.0","event_type":"feedback!","event_id":"02114da8-feae-46e3-8b00-a3f7ea8672df","time_created":1546300800000,"device_serial":"M2MR111100928","feedback_action_id":"FEEDBACK_POSITIVE"}
}

func ExampleValidateURL() {
	fmt.Println(proglove.ValidateURL("ws://localhost:9998"))
	fmt.Println(proglove.ValidateURL("ws://localhost:80"))
	// Output:
	// <nil>
	// proglove: field port: bad port: must be in [1024, 65536) (ports below 1024 need root on the device; TCP has no port 65536 or above), got 80
}
