// Command burstrelay is a relay for the browser tests' throughput figure:
// a real relay (relay/node, development endpoints on, serving build/web)
// that publishes a burst of LoRa uplinks on command, faster than a browser
// can take them, so that what the page measures is the client's decoding
// and delivery. No simulator is fast enough for that.
//
//	go run ./jsbindings/test/burstrelay [-static build/web]
//
// It prints "burstrelay listening on http://ADDR" and then reads commands
// on stdin, one per line:
//
//	burst N    publish N uplinks to tenant "demo" on lora/<app>/<dev>/up
//	           (16 devices), then print "published N in D"
//
// It exits when stdin closes. Not part of the product: the per-connection
// queue is raised so that a burst is not cut as slow.
package main
