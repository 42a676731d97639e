package client

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/tinylib/msgp/msgp"

	"github.com/fieldrelay/fieldrelay/proto"
	"github.com/fieldrelay/fieldrelay/proto/codes"
)

// Reply is the relay's answer to a successful command.
type Reply struct {
	// Data is the msgp encoding of the command kind's result (see package
	// event, e.g. DownlinkResult), or empty.
	Data []byte
}

// Command asks the relay to act on a device: target is the channel the
// command is for (the token's command patterns must allow it), kind the
// command kind, body its msgp-encodable body (nil for none). It waits for
// a connection if there is none, then for the relay's reply; the whole
// call is bounded by ctx and Options.CommandTimeout.
//
// A refusal by the relay or the device is a [*ReplyError] with the relay's
// code. The client reports two codes of its own: codes.UnknownOutcome when
// the link dropped after the command was sent and before its reply (it
// may or may not have run; it is not resent), and codes.Timeout when the
// deadline passed first. A cancelled ctx returns ctx.Err(), and a closed
// client [ErrClosed].
func (c *Client) Command(ctx context.Context, target, kind string, body msgp.Marshaler) (Reply, error) {
	raw := msgp.Raw{0xc0} // msgpack nil
	if body != nil {
		b, err := body.MarshalMsg(nil)
		if err != nil {
			return Reply{}, &encodeError{err}
		}
		raw = b
	}
	id := commandID()
	ctx, cancel := context.WithTimeout(ctx, c.opts.CommandTimeout)
	defer cancel()
	for {
		cn, err := c.waitConn(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return Reply{}, waitError(ctx, "not connected to the relay")
			}
			return Reply{}, err
		}
		r, err := c.request(ctx, cn, func(req uint32) proto.Frame {
			return &proto.Command{Req: req, ID: id, Target: target, Kind: kind, Body: raw}
		})
		switch {
		case err == errStaleConn:
			continue // nothing was sent
		case err == errLinkLost:
			return Reply{}, &ReplyError{Code: codes.UnknownOutcome, Message: "link lost before the reply", cause: err}
		case err != nil && ctx.Err() != nil:
			return Reply{}, waitError(ctx, "no reply from the relay in time")
		case err != nil:
			return Reply{}, err
		case r.Code != 0:
			return Reply{Data: r.Data}, &ReplyError{Code: codes.Code(r.Code), Message: r.Message}
		}
		return Reply{Data: r.Data}, nil
	}
}

// commandID returns the command's idempotency key: a UUIDv7 (RFC 9562),
// 48 bits of Unix milliseconds then 74 random bits, so that ids sort by
// time in the relay's logs. The random bits come from math/rand/v2, whose
// generator the runtime seeds from the system's entropy: ids must be
// unique, not secret, and crypto/rand (which github.com/google/uuid uses)
// would add its whole FIPS stack to the wasm build.
func commandID() string {
	ms := uint64(time.Now().UnixMilli())
	hi, lo := rand.Uint64(), rand.Uint64()
	hi = ms<<16 | 0x7000 | hi&0x0fff // time, version 7, 12 random bits
	lo = 0x8000000000000000 | lo>>2  // variant 10, 62 random bits
	const hex = "0123456789abcdef"
	var b [36]byte
	j := 0
	for i := range 32 {
		if i == 8 || i == 12 || i == 16 || i == 20 {
			b[j] = '-'
			j++
		}
		w := hi
		if i >= 16 {
			w = lo
		}
		b[j] = hex[w>>(60-4*(i%16))&0xf]
		j++
	}
	return string(b[:])
}

// encodeError is a command body that failed to encode.
type encodeError struct{ err error }

func (e *encodeError) Error() string {
	return "client: failed to encode command body: " + e.err.Error()
}
func (e *encodeError) Unwrap() error { return e.err }
