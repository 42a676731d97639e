package loadgen

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SubscriberProc is the share of the subscribers one subscriber process
// runs, and how to reach the target. The parent passes it as flags (Args);
// the subscriber process reads them back (Flags) and calls
// RunSubscriberProc.
type SubscriberProc struct {
	URL      string    // ws://127.0.0.1:port/ of the relay or the bare server
	Token    string    // relay target: the subscribers' token
	Target   string    // "relay" (wasm/client), "json" or "bare" (raw WebSocket)
	From, To int       // subscriber indices [From, To)
	Channels int       // subscriber j subscribes bench/ch<j mod Channels>
	Wildcard bool      // or bench/#
	Sources  int       // loopback source addresses
	Deadline time.Time // the process gives up then
}

// Flags defines p's flags on fs.
func (p *SubscriberProc) Flags(fs *flag.FlagSet) {
	fs.StringVar(&p.URL, "url", "", "WebSocket URL of the relay or the bare server")
	fs.StringVar(&p.Token, "token", "", "relay target: the subscribers' token")
	fs.StringVar(&p.Target, "target", targetRelay, "relay (wasm/client sessions), json (raw WebSocket, JSON frames) or bare (raw WebSocket)")
	fs.IntVar(&p.From, "from", 0, "first subscriber index")
	fs.IntVar(&p.To, "to", 0, "subscriber index after the last")
	fs.IntVar(&p.Channels, "channels", 1, "subscriber j subscribes bench/ch<j mod channels>")
	fs.BoolVar(&p.Wildcard, "wildcard", false, "subscribe bench/# instead")
	fs.IntVar(&p.Sources, "sources", 8, "loopback source addresses to spread connections over")
	fs.Func("deadline", "give up at this time (RFC 3339)", func(s string) (err error) {
		p.Deadline, err = time.Parse(time.RFC3339Nano, s)
		return err
	})
}

// Args returns p as the flags Flags reads.
func (p SubscriberProc) Args() []string {
	args := []string{"--url", p.URL, "--target", p.Target, "--from", strconv.Itoa(p.From), "--to", strconv.Itoa(p.To),
		"--channels", strconv.Itoa(p.Channels), "--sources", strconv.Itoa(p.Sources)}
	if p.Token != "" {
		args = append(args, "--token", p.Token)
	}
	if p.Wildcard {
		args = append(args, "--wildcard")
	}
	if !p.Deadline.IsZero() {
		args = append(args, "--deadline", p.Deadline.Format(time.RFC3339Nano))
	}
	return args
}

// RunSubscriberProc is a subscriber process. It connects p's subscribers,
// writes "ready" to out once every one has subscribed, then reads lines
// from in: "start" when publishing begins (its CPU baseline), "finish N"
// once N events have been published. It then waits until every
// subscriber has the events of its channel (or deliveries stall for
// 15 s), writes its tally as one JSON line (counts, wall clock of the last
// delivery, CPU time since start, the latency histogram bucket by bucket)
// and disconnects. If in ends before "finish", it writes what it has at
// once. p.Deadline bounds it all.
//
// With the relay target it sets http.DefaultClient's transport to one that
// dials from p.Sources loopback addresses in turn (wasm/client takes no
// dialer): it is meant for a process of its own.
func RunSubscriberProc(ctx context.Context, p SubscriberProc, in io.Reader, out io.Writer) error {
	if p.URL == "" || p.To <= p.From || p.From < 0 || p.Channels <= 0 {
		return fmt.Errorf("subscriber process: need --url, --from < --to and --channels > 0")
	}
	p.Sources = min(max(p.Sources, 1), 254)
	if !p.Deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, p.Deadline)
		defer cancel()
	}
	if p.Target == targetRelay {
		http.DefaultClient.Transport = &http.Transport{DialContext: sourceDialer(p.Sources)}
	}
	l, err := connect(ctx, p)
	if err != nil {
		return err
	}
	defer l.close()
	if _, err := fmt.Fprintln(out, "ready"); err != nil {
		return err
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	cpu0 := cpuTime()
	published := -1 // unknown: report at once
wait:
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				break wait
			}
			f := strings.Fields(line)
			switch {
			case len(f) == 1 && f[0] == "start":
				cpu0 = cpuTime()
			case len(f) == 2 && f[0] == "finish":
				if published, err = strconv.Atoi(f[1]); err != nil || published < 0 {
					return fmt.Errorf("subscriber process: %q", line)
				}
				break wait
			default:
				return fmt.Errorf("subscriber process: unknown command %q", line)
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	want := l.want(max(published, 0))
	if published >= 0 {
		waitAll(ctx, l.subs, want)
	}
	t := l.tally(want)
	t.CPUNS = int64(cpuTime() - cpu0)
	b, err := json.Marshal(t)
	if err != nil {
		return err
	}
	_, err = out.Write(append(b, '\n'))
	return err
}

// Bounds of the conversation with subscriber processes.
const (
	readyTimeout  = 2 * time.Minute // to connect and subscribe
	reportTimeout = stallAfter + time.Minute
	exitTimeout   = 15 * time.Second
)

// remote is subscribers in other processes.
type remote struct {
	procs []*proc
}

type proc struct {
	p      SubscriberProc
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  chan string // stdout, closed at its end
	stderr *tailBuffer
}

// startRemote starts cfg.Procs subscriber processes, each with its share
// of the subscribers, and returns once all are ready.
func startRemote(ctx context.Context, cfg Config, target, url, token string) (*remote, error) {
	if len(cfg.SubscriberCommand) == 0 {
		return nil, errors.New("loadgen: subscriber processes need Config.SubscriberCommand")
	}
	deadline := time.Now().Add(readyTimeout + cfg.Duration + reportTimeout + exitTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	r := &remote{}
	for k := range cfg.Procs {
		p := shareOf(cfg, target, url, token, k*cfg.Subscribers/cfg.Procs, (k+1)*cfg.Subscribers/cfg.Procs)
		p.Deadline = deadline
		pr, err := startProc(ctx, cfg, p)
		if err != nil {
			r.close()
			return nil, err
		}
		r.procs = append(r.procs, pr)
	}
	for _, pr := range r.procs {
		line, err := pr.next(ctx, readyTimeout)
		if err == nil && line != "ready" {
			err = fmt.Errorf("said %q instead of ready", line)
		}
		if err != nil {
			r.close()
			return nil, pr.fail(err)
		}
	}
	return r, nil
}

func startProc(ctx context.Context, cfg Config, p SubscriberProc) (*proc, error) {
	argv := append(append([]string(nil), cfg.SubscriberCommand...), p.Args()...)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.WaitDelay = exitTimeout
	pr := &proc{p: p, cmd: cmd, lines: make(chan string, 4), stderr: &tailBuffer{max: 4 << 10}}
	cmd.Stderr = pr.stderr
	if cfg.Stderr != nil {
		cmd.Stderr = io.MultiWriter(pr.stderr, cfg.Stderr)
	}
	var err error
	if pr.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("subscriber process: %w", err)
	}
	go func() {
		defer close(pr.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			pr.lines <- sc.Text()
		}
	}()
	return pr, nil
}

// next returns the process's next line of output.
func (pr *proc) next(ctx context.Context, timeout time.Duration) (string, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case line, ok := <-pr.lines:
		if !ok {
			return "", errors.New("exited")
		}
		return line, nil
	case <-ctx.Done():
		return "", ctx.Err()
	case <-t.C:
		return "", fmt.Errorf("no answer in %s", timeout)
	}
}

func (pr *proc) fail(err error) error {
	return fmt.Errorf("subscriber process %d–%d: %w; its stderr: %q", pr.p.From, pr.p.To, err, pr.stderr.String())
}

func (r *remote) start() error {
	for _, pr := range r.procs {
		if _, err := io.WriteString(pr.stdin, "start\n"); err != nil {
			return pr.fail(err)
		}
	}
	return nil
}

// finish tells every process how many events were published and merges
// their reports.
func (r *remote) finish(ctx context.Context, published int) (tally, error) {
	for _, pr := range r.procs {
		if _, err := fmt.Fprintf(pr.stdin, "finish %d\n", published); err != nil {
			return tally{}, pr.fail(err)
		}
	}
	t := tally{Hist: newHist()}
	for _, pr := range r.procs {
		line, err := pr.next(ctx, reportTimeout)
		if err != nil {
			return tally{}, pr.fail(err)
		}
		var pt tally
		if err := json.Unmarshal([]byte(line), &pt); err != nil {
			return tally{}, pr.fail(fmt.Errorf("report: %w", err))
		}
		t.add(pt)
	}
	return t, nil
}

// close ends the processes: stdin closed, their output read to its end,
// killed after a bound.
func (r *remote) close() {
	for _, pr := range r.procs {
		pr.stdin.Close()
	}
	var wg sync.WaitGroup
	for _, pr := range r.procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			drained := make(chan struct{})
			go func() {
				for range pr.lines {
				}
				close(drained)
			}()
			t := time.NewTimer(exitTimeout)
			defer t.Stop()
			select {
			case <-drained:
			case <-t.C:
				pr.cmd.Process.Kill()
			}
			pr.cmd.Wait() // bounded by WaitDelay
		}()
	}
	wg.Wait()
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	b   []byte
	max int
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append(t.b[:0], t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.b))
}
