// Command fieldrelay is the relay and its tools in one binary:
//
//	fieldrelay serve   run the relay (flags, environment, a JSON config file)
//	fieldrelay sim     run upstream device simulators alone
//	fieldrelay tail    subscribe to a pattern and print events as JSON lines
//	fieldrelay token   mint a development token
//	fieldrelay soak    check the delivery contract under forced disconnects
//	fieldrelay loadgen measure fan-out and latency against a bare broadcast
//
// `fieldrelay <command> --help` explains each.
package main
