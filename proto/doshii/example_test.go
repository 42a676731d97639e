package doshii_test

import (
	"fmt"

	"github.com/fieldrelay/fieldrelay/proto/doshii"
)

func ExampleDecode() {
	for _, msg := range []string{
		`{"emit":["order_updated",{"id":"3","locationId":"aH43yx2","status":"accepted","uri":"https://sandbox.doshii.co/partner/v3/orders/3"}]}`,
		`{"type":"message","data":{"doshii":{"pong":1539153237588,"version":"3.2.0"}}}`,
		`{"event":"health_check","data":{"ping":1539153237588}}`,
	} {
		frame, err := doshii.Decode([]byte(msg))
		if err != nil {
			fmt.Println(doshii.ErrorKind(err), err)
			continue
		}
		switch f := frame.(type) {
		case *doshii.Event:
			fmt.Printf("%s (%s) at %s: %s %s\n", doshii.Canonical(f.Name), doshii.Category(f.Name), f.Payload.LocationID, f.Payload.Status, f.Payload.URI)
		case *doshii.Pong:
			fmt.Println("pong", f.Time, "from", f.Envelope)
		case *doshii.Ping:
			answer, _ := doshii.EncodePong(doshii.EnvelopeBare, doshii.Pong{Time: f.Time, Version: "1.2.3"})
			fmt.Println("answer", string(answer))
		}
	}
	// Output:
	// order_updated (order) at aH43yx2: accepted https://sandbox.doshii.co/partner/v3/orders/3
	// pong 1539153237588 from type
	// answer {"doshii":{"pong":1539153237588,"version":"1.2.3"}}
}

func ExampleSocketURL() {
	u, err := doshii.SocketURL(doshii.SandboxURL, "my-client-id", "device-1")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(u)
	// Output: wss://socket.sandbox.doshii.co/app/socket/v3?auth=bXktY2xpZW50LWlk&deviceId=device-1
}
