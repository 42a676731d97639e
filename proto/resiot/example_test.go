package resiot_test

import (
	"fmt"

	"github.com/fieldrelay/fieldrelay/proto/resiot"
)

func ExampleDecode() {
	frame, err := resiot.Decode([]byte(`{"CommType":"comm_rx","Connector":"636f6e313332",
		"AppEui":"006c3b194374ac7f","DevEui":"0732227a557d8679","Port":"128",
		"GatewayEUIs":["218000AC0000a05f"],"Payload":"9b690291",
		"Extra":{"rssi":"-18","snr":"9.5","sf":"7","seqno":"1953"},
		"DT":"2017-06-15T09:36:46.5295312+02:00"}`))
	if err != nil {
		fmt.Println(resiot.ErrorKind(err), err)
		return
	}
	switch f := frame.(type) {
	case *resiot.Message:
		payload, _ := f.PayloadBytes()
		port, _ := f.PortNumber()
		radio, _ := f.Radio()
		fmt.Printf("%s from %s port %d: % x (rssi %v, fcnt %d)\n", f.Type, f.DevEUI, port, payload, radio.RSSI, radio.FCnt)
	case *resiot.Reply:
		fmt.Println("reply", f.Result, f.Reference)
	}
	// Output: comm_rx from 0732227a557d8679 port 128: 9b 69 02 91 (rssi -18, fcnt 1953)
}

func ExampleEncodeTX() {
	b, err := resiot.EncodeTX(resiot.TX{
		Payload:   "484921",
		AppEUI:    "ABCDEF1234567890",
		DevEUI:    "0987654321ABCDEF",
		Port:      50,
		Reference: "abcdefgh",
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(string(b))
	// Output: {"function":"TX","Payload":"484921","AppEui":"ABCDEF1234567890","DevEUI":"0987654321ABCDEF","Connector":"","Port":50,"WSCommand":"","Reference":"abcdefgh","Raw":false,"Confirm":false}
}
