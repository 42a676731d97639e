package codes

import (
	"bytes"
	"fmt"
)

const header = "Generated from proto/codes.Table by `go generate ./proto/codes`. DO NOT EDIT."

// Markdown renders the table for docs/codes.md.
func Markdown() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# Close and error codes\n\n<!-- %s -->\n\n", header)
	b.WriteString("Reply codes (0–999) answer one request in a `reply` frame; the connection stays open.\n")
	b.WriteString("Close codes (1000–4999) end a connection: they are the WebSocket close status and the `disconnect` frame's code.\n\n")
	b.WriteString("Range contract for close codes, which holds for codes not listed here too:\n\n")
	b.WriteString("| range | meaning |\n|---|---|\n")
	b.WriteString("| 1000 | normal closure by the client: terminal |\n")
	b.WriteString("| 1001–3999 | WebSocket and transport codes: reconnect, except 1002, 1003, 1007, 1008, 1009, 1010: terminal |\n")
	b.WriteString("| 4000–4499 | fieldrelay: reconnect with backoff and resume subscriptions |\n")
	b.WriteString("| 4500–4999 | fieldrelay: terminal, do not reconnect without a change (new token, new version) |\n\n")
	b.WriteString("| code | name | kind | reconnect | meaning |\n|---:|---|---|---|---|\n")
	for _, in := range Table {
		kind, rc := "reply", ""
		if in.Close {
			kind, rc = "close", "no"
			if in.Reconnect {
				rc = "yes"
			}
		}
		fmt.Fprintf(&b, "| %d | `%s` | %s | %s | %s |\n", in.Code, in.Name, kind, rc, in.Doc)
	}
	return b.Bytes()
}

// JavaScript renders the ES module and its declarations for jsbindings.
func JavaScript() (js, dts []byte) {
	var j, d bytes.Buffer
	fmt.Fprintf(&j, "// %s\n\n", header)
	fmt.Fprintf(&d, "// %s\n\n", header)
	j.WriteString("/** Close and error codes, as in proto/codes. */\nexport const Codes = Object.freeze({\n")
	d.WriteString("/** Close and error codes, as in proto/codes. */\nexport declare const Codes: {\n")
	for _, in := range Table {
		fmt.Fprintf(&j, "  %s: %d,\n", in.Name, in.Code)
		fmt.Fprintf(&d, "  /** %s */\n  readonly %s: %d;\n", in.Doc, in.Name, in.Code)
	}
	j.WriteString("});\n\n")
	d.WriteString("};\n\n")
	j.WriteString(`/**
 * Whether a client closed with this code should reconnect (the range
 * contract of docs/codes.md).
 * @param {number} code
 * @returns {boolean}
 */
export function shouldReconnect(code) {
  if (code === 1000) return false;
  if ([1002, 1003, 1007, 1008, 1009, 1010].includes(code)) return false;
  if (code >= 1001 && code < 4000) return true;
  return code >= 4000 && code < 4500;
}
`)
	d.WriteString("/** Whether a client closed with this code should reconnect. */\nexport declare function shouldReconnect(code: number): boolean;\n")
	return j.Bytes(), d.Bytes()
}
