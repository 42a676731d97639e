// Command benchratio reads `go test -bench` output and prints, for every
// benchmark pair that differs only in its last name element (…/msgp vs
// …/json, …/hub vs …/bare), the median ns/op, allocs/op and their ratio,
// measured side by side in the same run.
//
//	go test ./proto -bench . -benchmem -count 5 | go run ./internal/benchratio
package main
