// Command gen writes docs/events.md from the event types.
package main
