package cli

import (
	"strings"

	"github.com/spf13/cobra"
)

// unwrapHelp joins the lines of every command's Long text into
// paragraphs: the source wraps them at 100 columns for reading, but the
// help page wraps them again at the terminal's width, and the man page
// makes every line a paragraph of its own (cutting sentences in two). A
// blank line still ends a paragraph, and an indented line (a request, a
// command) stays a line of its own.
func unwrapHelp(cmd *cobra.Command) {
	cmd.Long = unwrap(cmd.Long)
	for _, sub := range cmd.Commands() {
		unwrapHelp(sub)
	}
}

// unwrap joins each run of plain lines of s with spaces.
func unwrap(s string) string {
	var b strings.Builder
	joinable := false // the last line written is plain text
	for i, line := range strings.Split(s, "\n") {
		plain := line != "" && !strings.HasPrefix(line, " ")
		switch {
		case i == 0:
		case plain && joinable:
			b.WriteByte(' ')
		default:
			b.WriteByte('\n')
		}
		b.WriteString(line)
		joinable = plain
	}
	return b.String()
}
