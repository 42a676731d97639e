package client_test

import (
	"context"
	"errors"
	"log"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/codes"
	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/wasm/client"
)

// Connect, follow every LoRa uplink of one application, and send a
// downlink to a device.
func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := client.Dial(ctx, "wss://relay.example.com/v1/ws", &client.Options{
		GetToken: func(ctx context.Context) (string, error) { return "a JWT from your backend", nil },
		Name:     "example/1.0",
		OnState: func(s client.State, err error) {
			log.Printf("relay link %s (%v)", s, err)
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	sub, err := c.Subscribe(ctx, "lora/70b3d57ed000ac4a/+/up", &client.SubscribeOptions{
		OnSubscribed: func(i client.SubscribedInfo) {
			if i.Resumed && !i.Recovered {
				log.Printf("some uplinks were lost; resuming at %d", i.Position.Offset)
			}
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	go func() {
		for ev := range sub.Events() {
			if up, ok := ev.Value.(*event.Uplink); ok {
				log.Printf("%s fcnt %d: % x", up.DevEUI, up.FCnt, up.Payload)
			}
		}
	}()

	_, err = c.Command(ctx, "lora/70b3d57ed000ac4a/8639323559379194/down", event.CmdLoRaDownlink,
		&event.LoRaDownlink{Port: 2, Payload: []byte{0x01}})
	var re *client.ReplyError
	switch {
	case errors.As(err, &re) && re.Code == codes.UnknownOutcome:
		log.Print("the link dropped: the downlink may or may not have been sent")
	case err != nil:
		log.Print(err)
	}
}
