package proglovecloud_test

import (
	"fmt"

	"github.com/fieldrelay/fieldrelay/proto/proglovecloud"
)

func ExampleDecode() {
	e, err := proglovecloud.Decode([]byte(`{"api_version":"0.5","time_created":1598259269761,
		"device_serial":"M2SR121103132","event_type":"scan","scan_code":"PGAS10603924",
		"scan_decode_symbology":"CODE 128","event_id":"5a2eb866-f037-4b19-8122-82692ff64f93",
		"metrics":[{"metric_name":"bce_duration","metric_type":"scalars","metric_unit":"ms","values":[270]}],
		"scan_duration":0.27}`))
	if err != nil {
		fmt.Println(proglovecloud.ErrorKind(err), err)
		return
	}
	m := e.Metrics[0]
	fmt.Printf("%s %s read %s (%s) in %vs; %s %v %s\n", e.EventType, e.DeviceSerial, e.ScanCode, e.ScanDecodeSymbology, e.ScanDuration, m.Name, m.Values, m.Unit)
	// Output: scan M2SR121103132 read PGAS10603924 (CODE 128) in 0.27s; bce_duration [270] ms
}

func ExampleLiveURL() {
	older, _ := proglovecloud.LiveURL("wss://dob66y4nv0.execute-api.eu-west-1.amazonaws.com", "prod", "my-customer", "ID.TOKEN.JWT")
	newer, _ := proglovecloud.LiveURL("wss://dob66y4nv0.execute-api.eu-west-1.amazonaws.com", "latest", "", "ACCESS.TOKEN.JWT")
	fmt.Println(older)
	fmt.Println(newer)
	// Output:
	// wss://dob66y4nv0.execute-api.eu-west-1.amazonaws.com/prod/?customer=my-customer&token=ID.TOKEN.JWT
	// wss://dob66y4nv0.execute-api.eu-west-1.amazonaws.com/latest/?token=ACCESS.TOKEN.JWT
}

func ExampleEncodeInitiateAuth() {
	b, _ := proglovecloud.EncodeInitiateAuth(proglovecloud.InitiateAuth{
		AuthFlow: proglovecloud.FlowRefreshToken, ClientID: "5u7o1b2c3d4e5f6g7h8i9j0k1l", RefreshToken: "eyJj…",
	})
	fmt.Println(string(b))
	// Output: {"AuthFlow":"REFRESH_TOKEN_AUTH","ClientId":"5u7o1b2c3d4e5f6g7h8i9j0k1l","AuthParameters":{"REFRESH_TOKEN":"eyJj…"}}
}
