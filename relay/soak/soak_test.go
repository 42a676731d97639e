package soak

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/fieldrelay/fieldrelay/internal/leaktest"
)

// The checker must catch what the soak is for, or the soak passes
// vacuously.
func TestCheckCatchesPlantedFaults(t *testing.T) {
	cases := map[string]struct {
		got  []uint32
		want Check
	}{
		"clean":                  {[]uint32{1, 2, 3, 4}, Check{Delivered: 4}},
		"silent gap":             {[]uint32{1, 2, 4}, Check{Delivered: 3, Lost: 1}},
		"tail never arrived":     {[]uint32{1, 2}, Check{Delivered: 2, Lost: 2}},
		"duplicate":              {[]uint32{1, 2, 2, 3, 4}, Check{Delivered: 5, Duplicated: 1}},
		"reorder":                {[]uint32{1, 3, 2, 4}, Check{Delivered: 4, Reordered: 1}},
		"announced gap":          {[]uint32{1, 0, 4}, Check{Delivered: 2, Announced: 2, NotRecovered: 1}},
		"gap after announcement": {[]uint32{1, 0, 2, 4}, Check{Delivered: 3, Lost: 1, NotRecovered: 1}},
		"announced at the end":   {[]uint32{1, 2, 0}, Check{Delivered: 2, Announced: 2, NotRecovered: 1}},
	}
	for name, c := range cases {
		if got := check(c.got, 4); got != c.want {
			t.Errorf("%s: %+v, want %+v", name, got, c.want)
		}
	}
}

// A short soak: every client gets every event once and in order across
// the forced disconnects.
func TestShortSoak(t *testing.T) {
	leaktest.Check(t)
	var log strings.Builder
	res, err := Run(context.Background(), Config{Clients: 4, Events: 1_500, Rate: 3_000, Cuts: 40, Timeout: 2 * time.Minute, Log: &log})
	var out strings.Builder
	res.Print(&out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() || res.NotRecovered != 0 {
		t.Fatalf("delivery contract broken:\n%s", out.String())
	}
	// Ten proxy cuts of four clients: a cut can also hit a connection
	// still being made (a failed attempt, not a reconnect), so the counts
	// need not be equal, but both must show the faults happened.
	if res.Cuts < 10 || res.Reconnects < 4 {
		t.Fatalf("%d connections cut, %d reconnects: the faults did not happen", res.Cuts, res.Reconnects)
	}
	if res.MinDelivered != res.Published {
		t.Fatalf("a client got %d of %d", res.MinDelivered, res.Published)
	}
}

// With a history too short to cover the outages, clients miss events: each
// miss must be announced by recovered=false, never silent.
func TestSmallHistoryAnnouncesEveryGap(t *testing.T) {
	leaktest.Check(t)
	res, err := Run(context.Background(), Config{Clients: 3, Events: 1_200, Rate: 3_000, Cuts: 9, History: 50, Outage: 150, Timeout: 2 * time.Minute})
	var out strings.Builder
	res.Print(&out)
	t.Log("\n" + out.String())
	if err != nil {
		t.Fatal(err)
	}
	if res.Lost != 0 || res.Duplicated != 0 || res.Reordered != 0 {
		t.Fatalf("silent loss, duplicate or reorder:\n%s", out.String())
	}
	if res.NotRecovered == 0 || res.Announced == 0 {
		t.Fatalf("history of 50 and outages of 150 events, yet nothing was announced missed:\n%s", out.String())
	}
}
