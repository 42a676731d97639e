// Package syncbuf is a byte buffer that goroutines and child processes
// may write to while a test reads it: logs, a process's output.
package syncbuf
