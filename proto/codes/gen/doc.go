// Command gen writes docs/codes.md and jsbindings' codes module from
// codes.Table, so Go, TypeScript and the docs read one table.
package main
