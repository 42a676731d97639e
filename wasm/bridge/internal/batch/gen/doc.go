// Command gen writes package batch's plans_gen.go: the plan of every type
// of package event the bridge transcodes (events, command results) or
// encodes (command bodies), as Go data, so that the browser build needs
// neither reflect nor package event (see package planner for the rules).
// Run it with go generate in package batch; batch's TestPlansCurrent fails
// when the file is out of date.
package main
