package proglove

import "bytes"

// Split returns the messages of one received frame. The WebSocket server
// sends one JSON object per text frame, but the Streams API ends messages
// with a line feed on its serial and TCP paths, so a frame may carry
// several, LF-separated, each possibly ending in "\r".
//
//   - A frame that is one JSON value (pretty-printed or not, with any
//     white space around it) is one message: the frame itself, verbatim.
//   - Otherwise, if the frame is a sequence of complete JSON values, each is
//     a message, trimmed of white space.
//   - Otherwise every non-blank line is a message, trimmed of white space
//     (including "\r"), so that one malformed line does not hide the others.
//
// A blank frame gives no message. The messages share b's memory.
func Split(b []byte) [][]byte {
	trimmed := bytes.TrimSpace(b)
	if len(trimmed) == 0 {
		return nil
	}
	if validJSON(trimmed) {
		return [][]byte{b}
	}
	if msgs, ok := splitValues(trimmed); ok {
		return msgs
	}
	var out [][]byte
	for line := range bytes.SplitSeq(trimmed, []byte{'\n'}) {
		if line = bytes.TrimSpace(line); len(line) > 0 {
			out = append(out, line)
		}
	}
	return out
}

// splitValues splits a concatenation of JSON values.
func splitValues(b []byte) ([][]byte, bool) {
	var out [][]byte
	for rest := b; len(bytes.TrimSpace(rest)) > 0; {
		val, next, err := nextValue(rest)
		if err != nil {
			return nil, false
		}
		out = append(out, val)
		rest = next
	}
	return out, len(out) > 1
}
