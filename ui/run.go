package ui

import (
	"context"
	"errors"
	"os"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
)

// frameRate caps how often the screen is redrawn.
const frameRate = 30

// Run opens the TUI and returns when the user quits or ctx ends. A login
// in progress is cancelled and its listener closed before Run returns.
func Run(ctx context.Context, o Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	m, err := New(ctx, o)
	if err != nil {
		return err
	}
	defer m.Close()
	// The renderer wakes up at its frame rate even on an idle screen; 30
	// frames a second keep typing smooth at half the idle cost of the
	// default 60.
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithFPS(frameRate)}
	if o.Input != nil {
		opts = append(opts, tea.WithInput(o.Input))
	}
	if o.Output != nil {
		opts = append(opts, tea.WithOutput(o.Output))
	}
	// no-color.org: any non-empty value turns colour off (Bubble Tea only
	// honours values that parse as true).
	if os.Getenv("NO_COLOR") != "" {
		m.SetNoColor(true)
		opts = append(opts, tea.WithColorProfile(colorprofile.ASCII))
	}
	_, err = tea.NewProgram(m, opts...).Run()
	if err != nil && errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		// Interrupted from outside (a signal through ctx): not a failure.
		return nil
	}
	return err
}
