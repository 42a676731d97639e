package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/fieldrelay/fieldrelay/relay/node"
	"github.com/fieldrelay/fieldrelay/relay/sim/doshiisim"
	"github.com/fieldrelay/fieldrelay/relay/sim/navixysim"
	"github.com/fieldrelay/fieldrelay/relay/sim/proglovecloudsim"
	"github.com/fieldrelay/fieldrelay/relay/sim/proglovesim"
	"github.com/fieldrelay/fieldrelay/relay/sim/resiotsim"
)

// simulator is one upstream simulator the CLI can start.
type simulator struct {
	name, defaultAddr, about string
	start                    func(ctx context.Context, addr string, o simOptions) (url string, stop func() error, err error)
	// link is the relay link that talks to the simulator at url (serve --dev).
	link func(url string) node.LinkConfig
}

type simOptions struct {
	Every time.Duration // event interval; 0 = the simulator's default
}

var simulators = []simulator{
	{"resiot", "127.0.0.1:9101", "ResIOT LoRaWAN WebSocket Server (comm_rx, comm_join, comm_gwalive, TX)", startResiot,
		func(url string) node.LinkConfig {
			return node.LinkConfig{Name: "sim-resiot", Protocol: "resiot", URL: url}
		}},
	{"proglove", "127.0.0.1:9998", "ProGlove Insight Mobile Streams API (scan, scanner_state, feedback!, display!…)", startProglove,
		func(url string) node.LinkConfig {
			return node.LinkConfig{Name: "sim-proglove", Protocol: "proglove", URL: url}
		}},
	{"proglovecloud", "127.0.0.1:9102", "ProGlove Insight live data (cloud scans; auth-information and InitiateAuth login)", startProgloveCloud,
		func(base string) node.LinkConfig {
			opts, _ := json.Marshal(map[string]string{
				"auth_url": base, "cognito_url": base + "/",
				"customer_id": proglovecloudsim.DefaultCustomerID, "username": proglovecloudsim.DefaultUsername, "password": proglovecloudsim.DefaultPassword,
			})
			return node.LinkConfig{Name: "sim-proglovecloud", Protocol: "proglovecloud", URL: proglovecloudsim.SocketURL(base), Options: opts}
		}},
	{"navixy", "127.0.0.1:9103", "iTrack/Navixy GPS trackers over Atmosphere (user/auth, tracker/list, event/subscription)", startNavixy,
		func(url string) node.LinkConfig {
			opts, _ := json.Marshal(map[string]string{"login": "demo", "password": "demo", "time_zone": "UTC", "min_backoff": "500ms", "max_backoff": "5s"})
			return node.LinkConfig{Name: "sim-navixy", Protocol: "navixy", URL: url, Options: opts}
		}},
	{"doshii", "127.0.0.1:9104", "Doshii App WebSocket v3 (order, transaction… events; JSON heartbeat)", startDoshii,
		func(url string) node.LinkConfig {
			opts, _ := json.Marshal(map[string]string{"client_id": doshiisim.DefaultClientID, "device_id": doshiisim.DefaultDeviceID})
			return node.LinkConfig{Name: "sim-doshii", Protocol: "doshii", URL: url, Options: opts}
		}},
}

func startProglove(ctx context.Context, addr string, o simOptions) (string, func() error, error) {
	s := proglovesim.New(&proglovesim.Config{ScanEvery: o.Every})
	url, err := s.Start(ctx, addr)
	if err != nil {
		return "", nil, err
	}
	return url, s.Close, nil
}

func startProgloveCloud(ctx context.Context, addr string, o simOptions) (string, func() error, error) {
	s := proglovecloudsim.New(&proglovecloudsim.Config{ScanEvery: o.Every})
	url, err := s.Start(ctx, addr)
	if err != nil {
		return "", nil, err
	}
	return url, s.Close, nil
}

func startNavixy(ctx context.Context, addr string, o simOptions) (string, func() error, error) {
	s := navixysim.New(&navixysim.Config{MoveEvery: o.Every})
	url, err := s.Start(ctx, addr)
	if err != nil {
		return "", nil, err
	}
	return url, s.Close, nil
}

func startDoshii(ctx context.Context, addr string, o simOptions) (string, func() error, error) {
	every := o.Every
	if every > 0 {
		every *= 5 // orders come less often than sensor readings
	}
	s := doshiisim.New(&doshiisim.Config{EventEvery: every})
	url, err := s.Start(ctx, addr)
	if err != nil {
		return "", nil, err
	}
	return url, s.Close, nil
}

func startResiot(ctx context.Context, addr string, o simOptions) (string, func() error, error) {
	s := resiotsim.New(&resiotsim.Config{UplinkEvery: o.Every, GatewayAliveEvery: 10 * time.Second, JoinOnStart: true})
	url, err := s.Start(ctx, addr)
	if err != nil {
		return "", nil, err
	}
	return url, s.Close, nil
}

func runSim(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var names []string
	for _, s := range simulators {
		names = append(names, fmt.Sprintf("  %-8s %s (default %s)", s.name, s.about, s.defaultAddr))
	}
	fs := newFlags("sim", "[flags] [name[=addr] ...]", `
Run upstream device simulators on their own, so an app or a relay can be
developed without the hardware. With no names, every simulator starts.
Simulators:
`+strings.Join(names, "\n"), stderr)
	every := fs.Duration("every", 0, "interval between simulated device events (0 = each simulator's default)")
	if err := parse(fs, args); err != nil {
		return err
	}
	want := fs.Args()
	if len(want) == 0 {
		for _, s := range simulators {
			want = append(want, s.name)
		}
	}
	var stops []func() error
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	for _, w := range want {
		name, addr, _ := strings.Cut(w, "=")
		var sim *simulator
		for i := range simulators {
			if simulators[i].name == name {
				sim = &simulators[i]
			}
		}
		if sim == nil {
			return fmt.Errorf("unknown simulator %q", name)
		}
		if addr == "" {
			addr = sim.defaultAddr
		}
		url, stop, err := sim.start(ctx, addr, simOptions{Every: *every})
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		stops = append(stops, stop)
		fmt.Fprintf(stdout, "%-15s %s\n", name, url)
	}
	<-ctx.Done()
	return nil
}
