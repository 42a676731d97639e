// Package leaktest fails a test that leaves goroutines behind.
//
// Check records the goroutines running when it is called; at the end of the
// test (after every cleanup registered later has run) it waits up to a few
// seconds for any newer goroutine to finish and fails the test with their
// stacks if some are still there.
package leaktest
