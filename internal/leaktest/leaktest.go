package leaktest

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

// Check arms the leak check for t. Call it first, before starting anything.
func Check(t testing.TB) {
	t.Helper()
	before := ids()
	t.Cleanup(func() {
		var left []string
		deadline := time.Now().Add(10 * time.Second)
		for {
			left = left[:0]
			for id, stack := range stacks() {
				if _, ok := before[id]; !ok && !ignored(stack) {
					left = append(left, stack)
				}
			}
			if len(left) == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(left) > 0 {
			t.Errorf("leaked %d goroutine(s):\n\n%s", len(left), strings.Join(left, "\n\n"))
		}
	})
}

func ignored(stack string) bool {
	for _, s := range []string{
		"testing.(*T).Run", "testing.tRunner", "testing.runTests", "testing.(*M).",
		"runtime.goexit0", "os/signal.signal_recv", "created by runtime.gc",
		"runtime.ensureSigM", "internal/poll.runtime_pollWait\n", // idle net poller helpers of the runtime
	} {
		if strings.Contains(stack, s) && !strings.Contains(stack, "fieldrelay") {
			return true
		}
	}
	return false
}

func ids() map[string]struct{} {
	m := make(map[string]struct{})
	for id := range stacks() {
		m[id] = struct{}{}
	}
	return m
}

func stacks() map[string]string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	out := make(map[string]string)
	for _, g := range strings.Split(string(buf), "\n\n") {
		// "goroutine 12 [running]:"
		head, _, _ := strings.Cut(g, "\n")
		f := strings.Fields(head)
		if len(f) >= 2 && f[0] == "goroutine" {
			out[f[1]] = g
		}
	}
	return out
}
