package soak

// Check is what one client's received sequence says about delivery.
type Check struct {
	Delivered    int // events received, duplicates included
	Lost         int // events never received and never announced
	Announced    int // events missed right after a recovered=false
	Duplicated   int // events received more than once
	Reordered    int // events received after a later one
	NotRecovered int // recovered=false confirmations
}

func (c *Check) add(o Check) {
	c.Delivered += o.Delivered
	c.Lost += o.Lost
	c.Announced += o.Announced
	c.Duplicated += o.Duplicated
	c.Reordered += o.Reordered
	c.NotRecovered += o.NotRecovered
}

// check reads got, the sequence numbers 1..published in the order a client
// received them, with 0 wherever the relay answered a resubscription with
// recovered=false. An event never received is announced if the first
// event after a 0 jumped over it (or, for a 0 at the very end, if it came
// after the last one received), and lost otherwise; a number seen before
// is a duplicate; one lower than the highest so far and not seen before
// is reordered.
func check(got []uint32, published int) Check {
	var c Check
	seen := make(map[uint32]bool, len(got))
	announced := make(map[uint32]bool)
	var high uint32
	marker := false
	for _, seq := range got {
		if seq == 0 {
			c.NotRecovered++
			marker = true
			continue
		}
		c.Delivered++
		switch {
		case seen[seq]:
			c.Duplicated++
			continue
		case seq < high:
			c.Reordered++
		case marker:
			for s := high + 1; s < seq; s++ {
				announced[s] = true
			}
		}
		seen[seq] = true
		high = max(high, seq)
		marker = false
	}
	if marker { // told last that what followed would not come
		for s := high + 1; s <= uint32(published); s++ {
			announced[s] = true
		}
	}
	for s := uint32(1); s <= uint32(published); s++ {
		switch {
		case seen[s]:
		case announced[s]:
			c.Announced++
		default:
			c.Lost++
		}
	}
	return c
}
