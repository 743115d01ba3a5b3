package delay_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestFileKeysAcrossBuilds builds a small program whose packages declare delayed functions
// and checks the keys it prints: the same for a build with and without -trimpath, for a
// build in another checkout folder, and for a dependency whose files lie in a folder named
// with its version, as in the module cache.
func TestFileKeysAcrossBuilds(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("skipped in -short mode: builds a program three times")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("skipped: no go command in PATH to build the test program")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	sum, err := os.ReadFile(filepath.Join(repo, "go.sum"))
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()

	// A dependency at a version, in a folder named as the module cache names it
	// (<module>@<version>), so its file paths hold the version.
	depDir := filepath.Join(root, "pkg", "mod", "example.com", "dep@v1.0.0")
	writeFile(t, filepath.Join(depDir, "go.mod"), "module example.com/dep\n\ngo 1.26\n\nrequire github.com/redelay/redelay v0.0.0\n")
	writeFile(t, filepath.Join(depDir, "baz.go"), `package dep

import (
	"context"

	"github.com/redelay/redelay/delay"
)

var Baz = delay.Func("baz", func(context.Context) {})
`)

	app := map[string]string{
		"go.mod": `module example.com/keyapp

go 1.26

require (
	example.com/dep v1.0.0
	github.com/redelay/redelay v0.0.0
)

replace (
	example.com/dep v1.0.0 => ` + strconv.Quote(depDir) + `
	github.com/redelay/redelay => ` + strconv.Quote(repo) + `
)
`,
		"go.sum": string(sum),
		"main.go": `package main

import (
	"context"
	"fmt"

	"example.com/dep"
	"example.com/keyapp/internal/mail.v2"
	"github.com/redelay/redelay/delay"
)

var m = delay.Func("m", func(context.Context) {})

func main() {
	fmt.Println(m.Key())
	fmt.Println(mail.Send.Key())
	fmt.Println(mail.Later().Key())
	fmt.Println(dep.Baz.Key())
}
`,
		"internal/mail.v2/mail.go": `package mail

import (
	"context"

	"github.com/redelay/redelay/delay"
)

var Send = delay.Func("send", func(context.Context, string) {})
`,
		"internal/mail.v2/later.go": `package mail

import (
	"context"

	"github.com/redelay/redelay/delay"
)

func Later() *delay.Function { return register[int]("later") }

func register[T any](key string) *delay.Function {
	return delay.Func(key, func(context.Context, T) {})
}
`,
	}
	want := strings.Join([]string{
		"main.go:m",
		"example.com/keyapp/internal/mail.v2/mail.go:send",
		"example.com/keyapp/internal/mail.v2/later.go:later",
		"example.com/dep/baz.go:baz",
	}, "\n") + "\n"

	env := append(os.Environ(), "GOFLAGS=-mod=mod -buildvcs=false", "GOPROXY=off", "GOWORK=off", "GOTOOLCHAIN=local")
	builds := []struct {
		name  string
		dir   string
		flags []string
	}{
		{"plain", "checkout-a", nil},
		{"trimpath", "checkout-a", []string{"-trimpath"}},
		{"other folder", filepath.Join("elsewhere", "checkout-b"), nil},
	}
	for i, b := range builds {
		dir := filepath.Join(root, b.dir)
		for name, text := range app {
			writeFile(t, filepath.Join(dir, name), text)
		}
		bin := filepath.Join(root, "bin", strings.Repeat("x", i+1))
		args := append(append([]string{"build"}, b.flags...), "-o", bin, ".")
		cmd := exec.Command(goBin, args...)
		cmd.Dir, cmd.Env = dir, env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: go %s: %v\n%s", b.name, strings.Join(args, " "), err, out)
		}
		got, err := exec.Command(bin).Output()
		if err != nil {
			t.Fatalf("%s: running the program: %v", b.name, err)
		}
		if string(got) != want {
			t.Errorf("%s build printed keys\n%s\nwant\n%s", b.name, got, want)
		}
	}
}

func writeFile(t *testing.T, path, text string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}
