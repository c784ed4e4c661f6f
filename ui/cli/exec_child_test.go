package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// execChild is the test binary run as keyfob exec's CMD. Its modes:
//
//	report  print what it was given (the token file, its content and modes,
//	        $MY_TOKEN, its argv) as JSON and exit with $KEYFOB_TEST_EXIT
//	watch   read the token file every few milliseconds until it changes,
//	        then print every content seen and how many reads failed
//
// and the signal modes of unixChild.
func execChild(mode string) int {
	switch mode {
	case "report":
		return childReport()
	case "watch":
		return childWatch()
	}
	return unixChild(mode)
}

// childReportJSON is what mode report prints.
type childReportJSON struct {
	TokenFile string   `json:"token_file"`
	Content   string   `json:"content"`
	FileMode  string   `json:"file_mode"`
	DirMode   string   `json:"dir_mode"`
	MyToken   string   `json:"my_token"`
	Args      []string `json:"args"`
	Env       []string `json:"env"`
}

func childReport() int {
	path := os.Getenv(EnvTokenFile)
	r := childReportJSON{TokenFile: path, MyToken: os.Getenv("MY_TOKEN"), Args: os.Args, Env: os.Environ()}
	if b, err := os.ReadFile(path); err == nil {
		r.Content = string(b)
	}
	if fi, err := os.Stat(path); err == nil {
		r.FileMode = fmt.Sprintf("%o", fi.Mode().Perm())
	}
	if fi, err := os.Stat(filepath.Dir(path)); err == nil {
		r.DirMode = fmt.Sprintf("%o", fi.Mode().Perm())
	}
	_ = json.NewEncoder(os.Stdout).Encode(r)
	code, _ := strconv.Atoi(os.Getenv("KEYFOB_TEST_EXIT"))
	return code
}

// childWatchJSON is what mode watch prints.
type childWatchJSON struct {
	Seen      []string  `json:"seen"`       // each content seen, in order
	Reads     int       `json:"reads"`      // how many reads there were
	Bad       int       `json:"bad"`        // reads that failed or found an empty file
	ChangedAt time.Time `json:"changed_at"` // when the second content was first seen
}

func childWatch() int {
	path := os.Getenv(EnvTokenFile)
	var out childWatchJSON
	deadline := time.Now().Add(30 * time.Second)
	var changedAt time.Time
	// A little longer after the change, to catch a torn write that follows.
	for time.Now().Before(deadline) && (changedAt.IsZero() || time.Since(changedAt) < 300*time.Millisecond) {
		b, err := os.ReadFile(path)
		out.Reads++
		switch {
		case err != nil || len(b) == 0:
			out.Bad++
		case len(out.Seen) == 0 || !bytes.Equal(b, []byte(out.Seen[len(out.Seen)-1])):
			out.Seen = append(out.Seen, string(b))
			if len(out.Seen) > 1 && changedAt.IsZero() {
				changedAt = time.Now()
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	out.ChangedAt = changedAt
	_ = json.NewEncoder(os.Stdout).Encode(out)
	return 0
}
