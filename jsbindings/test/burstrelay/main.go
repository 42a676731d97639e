package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/fieldrelay/fieldrelay/proto/event"
	"github.com/fieldrelay/fieldrelay/relay/broker"
	"github.com/fieldrelay/fieldrelay/relay/node"
)

func main() {
	static := flag.String("static", "build/web", "directory served at /")
	flag.Parse()
	var secret [16]byte
	rand.Read(secret[:])
	n, err := node.Start(node.Config{
		Listen:     "127.0.0.1:0",
		Secret:     hex.EncodeToString(secret[:]),
		Static:     *static,
		Dev:        true,
		QueueBytes: 1 << 30,
		// A short history: publishing waits for the log's follower instead
		// of trimming what it has not dispatched, and a full ring is the
		// memory broker's fast path.
		History: node.History{MaxEntries: 4096},
	}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "burstrelay:", err)
		os.Exit(1)
	}
	defer n.Shutdown()
	fmt.Printf("burstrelay listening on http://%s\n", n.Addr())

	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		cmd, arg, _ := strings.Cut(strings.TrimSpace(in.Text()), " ")
		switch cmd {
		case "burst":
			count, err := strconv.Atoi(arg)
			if err != nil || count <= 0 {
				fmt.Println("error: burst N")
				continue
			}
			start := time.Now()
			if err := burst(n, count); err != nil {
				fmt.Println("error:", err)
				continue
			}
			fmt.Printf("published %d in %v\n", count, time.Since(start).Round(time.Millisecond))
		case "":
		default:
			fmt.Println("error: unknown command", cmd)
		}
	}
}

// burst publishes count uplinks shaped like the ResIOT simulator's: a
// 5-byte payload, two gateways and the upstream message kept as Meta.Raw.
func burst(n *node.Node, count int) error {
	ctx := context.Background()
	raw := []byte(`{"type":"comm_rx","appEUI":"70b3d57ed000ac4a","devEUI":"0004a30b001c0530","port":2,` +
		`"payload":"0102030405","fcnt":1,"rssi":-71,"snr":7.5,"sf":7,"freq":868.1,"bw":125,` +
		`"gateways":["b827ebfffe6c3b7a","b827ebfffe6c3b7b"],"adr":true,"connector":"sim-resiot"}`)
	now := time.Now().UnixMicro()
	for i := 0; i < count; i++ {
		dev := fmt.Sprintf("0004a30b001c05%02x", i%16)
		up := event.Uplink{
			Meta:      event.Meta{Link: "burst", Protocol: "resiot", Time: now, Received: now, Raw: raw},
			AppEUI:    "70b3d57ed000ac4a",
			DevEUI:    dev,
			Port:      2,
			Payload:   []byte{1, 2, 3, 4, byte(i)},
			FCnt:      uint32(i),
			RSSI:      -71,
			SNR:       7.5,
			SF:        7,
			Frequency: 868.1,
			Bandwidth: 125,
			Gateways:  []string{"b827ebfffe6c3b7a", "b827ebfffe6c3b7b"},
			ADR:       true,
			Connector: "sim-resiot",
		}
		data, err := up.MarshalMsg(nil)
		if err != nil {
			return err
		}
		msg := broker.Message{Channel: event.LoRaChannel(up.AppEUI, dev, "up"), Kind: event.KindUplink, Data: data}
		if _, err := n.Broker.Publish(ctx, "demo", msg); err != nil {
			return err
		}
	}
	return nil
}
