package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyfob/keyfob/accounts"
	"github.com/keyfob/keyfob/oauth/sandbox"
	"github.com/keyfob/keyfob/ui/keyfobtest"
)

func TestServeConsumers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", time.Hour), e.minted("a0000002", "truck", time.Hour))
	r := e.mustRun("", "serve", "add", "teslamate", "--account", "car")
	cred := strings.TrimSpace(r.stdout)
	if !strings.HasPrefix(cred, accounts.CredentialPrefix) || strings.Count(r.stdout, "\n") != 1 ||
		!strings.Contains(r.stderr, "Consumer teslamate gets the tokens of car") || strings.Contains(r.stderr, cred) {
		t.Fatalf("stdout %q stderr %q", r.stdout, r.stderr)
	}
	if strings.Contains(fmt.Sprint(e.storeFiles()), cred) {
		t.Fatal("the credential is in the store")
	}
	e.mustRun("", "serve", "add", "ha", "--account", "truck")
	r = e.mustRun("", "serve", "list")
	if !regexp.MustCompile(`(?m)^teslamate\s+car\s+just now\s+never\s+-$`).MatchString(r.stdout) {
		t.Fatalf("list:\n%s", r.stdout)
	}
	r = e.mustRun("", "serve", "list", "--json")
	var list []map[string]any
	if json.Unmarshal([]byte(r.stdout), &list) != nil || len(list) != 2 || list[1]["name"] != "ha" ||
		list[1]["account"] != "truck" || list[1]["account_id"] != "a0000002" || list[1]["last_used_at"] != nil || len(list[1]) != 6 {
		t.Fatalf("list --json:\n%s", r.stdout)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"serve", "add", "TeslaMate", "--account", "truck"}, 1, "already exists"},
		{[]string{"serve", "add", "x", "--account", "boat"}, 3, "no account matches"},
		{[]string{"serve", "add", "x"}, 3, "none was named"},
		{[]string{"serve", "add", "a\tb", "--account", "car"}, 2, "control character"},
		{[]string{"serve", "add"}, 2, "exactly one consumer"},
		{[]string{"serve", "remove", "nobody"}, 3, "no consumer is named"},
		{[]string{"serve", "--min-valid", "-1s"}, 2, "negative"},
		{[]string{"serve", "--addr", "0.0.0.0:0"}, 1, "--tls-cert"},
		{[]string{"serve", "--addr", "127.0.0.1:0", "--allow-host", "http://teslamate.lan"}, 1, "--allow-host \"http://teslamate.lan\" is not a host name"},
	} {
		if r := e.run("", tc.args...); r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%v: exit %d %s", tc.args, r.code, r.stderr)
		}
	}
	r = e.mustRun("", "serve", "remove", "TESLAMATE", "--yes")
	if !strings.Contains(r.stderr, "Removed consumer teslamate.") {
		t.Fatalf("remove: %s", r.stderr)
	}
	// Removing an account removes its consumers.
	e.mustRun("", "remove", "truck", "--yes")
	if r := e.mustRun("", "serve", "list", "--json"); strings.TrimSpace(r.stdout) != "[]" {
		t.Fatalf("consumers left: %s", r.stdout)
	}
}

// TestServeProcess runs the real keyfob serve: a consumer gets its
// account's token (refreshed first), a consumer removed by another keyfob
// process is refused at once, and SIGTERM stops the service cleanly with
// the last use written to the store.
func TestServeProcess(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the real binary")
	}
	e := newEnv(t, sandbox.Options{})
	e.seed(e.minted("a0000001", "car", -time.Minute))
	cred := strings.TrimSpace(e.mustRun("", "serve", "add", "teslamate", "--account", "car").stdout)
	script := strings.TrimSpace(e.mustRun("", "serve", "add", "script", "--account", "car").stdout)
	cmd := exec.Command(keyfobtest.Binary(t), "serve", "--addr", "127.0.0.1:0", "--allow-host", "teslamate.lan")
	cmd.Env = e.environ()
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	var log keyfobtest.Buffer
	started, scanned := make(chan string, 1), make(chan struct{})
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			log.Write([]byte(sc.Text() + "\n"))
			if m := regexp.MustCompile(`listening on (http://\S+)`).FindStringSubmatch(sc.Text()); m != nil {
				started <- m[1]
			}
		}
	}()
	var base string
	select {
	case base = <-started:
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not start: %s", log.String())
	}
	token := func() (int, string) {
		resp, err := http.PostForm(base+"/oauth2/v3/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {cred}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	status, body := token()
	a := e.account("car")
	if status != 200 || !strings.Contains(body, a.AccessToken) || e.srv.Stats().Refreshes != 1 {
		t.Fatalf("%d %s", status, body)
	}
	req, _ := http.NewRequest("GET", base+"/v1/token/car", nil)
	req.Header.Set("Authorization", "Bearer "+script)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("by name: %v %v", resp, err)
	}
	// Host names: its own and --allow-host's are answered, no other.
	for host, want := range map[string]int{"teslamate.lan:7531": 200, "rebind.attacker.example": 421} {
		req.Host = host
		if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != want {
			t.Fatalf("Host %s: %v %v, want %d", host, resp, err, want)
		}
	}
	e.mustRun("", "serve", "remove", "teslamate", "--yes")
	if status, body = token(); status != 401 || !strings.Contains(body, "invalid_client") {
		t.Fatalf("a removed consumer got %d %s", status, body)
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	// Wait closes the pipe: the log is read to its end first.
	select {
	case <-scanned:
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop after SIGTERM:\n%s", log.String())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("serve after SIGTERM: %v\n%s", err, log.String())
	}
	var list []map[string]any
	_ = json.Unmarshal([]byte(e.mustRun("", "serve", "list", "--json").stdout), &list)
	if len(list) != 1 || list[0]["last_used_at"] == nil || !strings.HasPrefix(list[0]["last_address"].(string), "127.0.0.1:") {
		t.Fatalf("the last use was not written at the stop: %v", list)
	}
	out := log.String()
	if !strings.Contains(out, "consumer=teslamate account=car status=200 outcome=refreshed") ||
		!strings.Contains(out, "status=401 outcome=invalid_client") || !strings.Contains(out, "keyfob serve: stopped") ||
		!strings.Contains(out, "answering requests for 127.0.0.1, localhost, teslamate.lan") {
		t.Fatalf("log:\n%s", out)
	}
	for _, secret := range []string{cred, script, a.RefreshToken, a.AccessToken} {
		if strings.Contains(out, secret) {
			t.Fatal("a secret is in serve's log")
		}
	}
}

// TestRevokeAndLoginNameTheConsumers: revoke says which consumers of
// keyfob serve keep their credentials, a new login says which get the
// account's tokens again, and --remove-consumers (or --remove) removes
// them.
func TestRevokeAndLoginNameTheConsumers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, sandbox.Options{})
	login := []string{"login", "--kind", "fleet", "--issuer", e.srv.URL(), "--client-id", sandbox.FleetClientID,
		"--redirect-uri", e.fleetRedirect(), "--name", "car"}
	e.mustRun("", login...)
	e.mustRun("", "serve", "add", "tm", "--account", "car")
	e.mustRun("", "serve", "add", "ha", "--account", "car")
	consumers := func() string {
		var list []struct{ Name string }
		_ = json.Unmarshal([]byte(e.mustRun("", "serve", "list", "--json").stdout), &list)
		var names []string
		for _, c := range list {
			names = append(names, c.Name)
		}
		return strings.Join(names, ",")
	}
	r := e.mustRun("", "revoke", "car", "--yes")
	if !strings.Contains(r.stdout, "Consumers: tm, ha keep their credentials, and a new login of car gives them its tokens again") ||
		!strings.Contains(r.stdout, "keyfob revoke car --remove-consumers") || consumers() != "tm,ha" {
		t.Fatalf("revoke: %s", r.stdout)
	}
	r = e.mustRun("", login...)
	if !strings.Contains(r.stderr, "Consumers of keyfob serve that get car's tokens again: tm, ha") {
		t.Fatalf("login again: %s", r.stderr)
	}
	r = e.mustRun("", "revoke", "car", "--remove-consumers", "--yes")
	if !strings.Contains(r.stdout, "Consumers: removed tm, ha; their credentials no longer work.") || consumers() != "" ||
		e.account("car").State != accounts.StateRevoked {
		t.Fatalf("revoke --remove-consumers: %s; consumers %q", r.stdout, consumers())
	}
	e.mustRun("", "serve", "add", "script", "--account", "car")
	r = e.mustRun("", "revoke", "car", "--remove", "--yes")
	if !strings.Contains(r.stdout, "Consumers: script removed with the account") || consumers() != "" {
		t.Fatalf("revoke --remove: %s", r.stdout)
	}
	// Without consumers, nothing is said of them.
	e.mustRun("", login...)
	if r := e.mustRun("", "revoke", "car", "--yes"); strings.Contains(r.stdout, "Consumers") {
		t.Fatalf("revoke of an account without consumers: %s", r.stdout)
	}
}
