package delay

import "testing"

func TestFileKeyFromFrame(t *testing.T) {
	t.Parallel()
	tests := []struct {
		function, file, want string
	}{
		// Package main: just the file name, wherever it was built.
		{"main.init", "/tmp/staging1234/srv/main.go", "main.go"},
		{"main.glob..func1", "/home/u/proj/cmd/app/jobs.go", "jobs.go"},
		{"main.init.0", "example.com/app/cmd/app/main.go", "main.go"}, // -trimpath
		// A package: its import path and the file name, never the checkout folder.
		{"example.com/app/jobs.init", "/home/u/src/app/jobs/mail.go", "example.com/app/jobs/mail.go"},
		{"example.com/app/jobs.init", "example.com/app/jobs/mail.go", "example.com/app/jobs/mail.go"},
		{"example.com/app/jobs.init", `C:\src\app\jobs\mail.go`, "example.com/app/jobs/mail.go"},
		// A versioned dependency: no module version, no module cache path or escaping.
		{"github.com/foo/bar.init", "/go/pkg/mod/github.com/foo/bar@v0.0.0-20181026220418-f595d03440dc/baz.go", "github.com/foo/bar/baz.go"},
		{"github.com/foo/bar/v2.init", "/go/pkg/mod/github.com/foo/bar/v2@v2.3.4/baz.go", "github.com/foo/bar/v2/baz.go"},
		{"github.com/BurntSushi/toml.init", "/go/pkg/mod/github.com/!burnt!sushi/toml@v1.2.0/decode.go", "github.com/BurntSushi/toml/decode.go"},
		{"github.com/foo/bar.init", "github.com/foo/bar@v1.0.0/baz.go", "github.com/foo/bar/baz.go"}, // -trimpath
		// GOPATH layouts, and folders named srv or mod, do not matter.
		{"example.com/bar.init", "/tmp/staging3234/srv/gopath/src/example.com/bar/main.go", "example.com/bar/main.go"},
		{"example.com/x.init", "/home/u/mod/x.go", "example.com/x/x.go"},
		// Methods, closures, generic functions and dots escaped in the last path element.
		{"example.com/app/jobs.(*Mailer).Register", "/a/mail.go", "example.com/app/jobs/mail.go"},
		{"example.com/app/jobs.Register[...]", "/a/mail.go", "example.com/app/jobs/mail.go"},
		{"example.com/app/jobs.Register[go.shape.struct { X example.com/other.T }]", "/a/mail.go", "example.com/app/jobs/mail.go"},
		{"gopkg.in/yaml%2ev2.init", "/go/pkg/mod/gopkg.in/yaml.v2@v2.4.0/decode.go", "gopkg.in/yaml.v2/decode.go"},
		{"example.com/a%2eb.c/d%2ee.init", "/x/f.go", "example.com/a.b.c/d.e/f.go"},
		// No symbol information: the file name alone.
		{"", "/a/b/c.go", "c.go"},
	}
	for _, tt := range tests {
		if got := fileKey(tt.function, tt.file); got != tt.want {
			t.Errorf("fileKey(%q, %q) = %q, want %q", tt.function, tt.file, got, tt.want)
		}
	}
}
