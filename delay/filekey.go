package delay

import (
	"runtime"
	"strings"
)

// callerFileKey returns the <file> part of Func's keys for the function skip frames above
// its caller: "<import path>/<file base name>", or "<file base name>" in package main.
//
// It uses the frame's function name for the package, not the file's directory: the
// function name is the import path whatever the build machine's folders, GOPATH or module
// cache layout, and with or without -trimpath; it never holds a module version.
func callerFileKey(skip int) string {
	var pcs [1]uintptr
	if runtime.Callers(skip+2, pcs[:]) == 0 {
		return "unknown"
	}
	frame, _ := runtime.CallersFrames(pcs[:]).Next()
	return fileKey(frame.Function, frame.File)
}

// fileKey builds the <file> part of a key from a frame's function name and file.
func fileKey(function, file string) string {
	base := file
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	pkg := funcPackage(function)
	if pkg == "" || pkg == "main" {
		return base
	}
	return pkg + "/" + base
}

// funcPackage returns the import path of the package of a function named as the runtime
// names it ("example.com/app/jobs.init", "example.com/app/jobs.(*T).M",
// "gopkg.in/yaml%2ev2.glob..func1", "main.F[...]"), or "" when the name has none.
func funcPackage(name string) string {
	if i := strings.IndexByte(name, '['); i >= 0 { // type arguments may hold slashes and dots
		name = name[:i]
	}
	slash := strings.LastIndexByte(name, '/')
	dot := strings.IndexByte(name[slash+1:], '.')
	if dot < 0 {
		return ""
	}
	return unescapePath(name[:slash+1+dot])
}

// unescapePath undoes the linker's escaping of an import path in symbol names ('.' in the
// last element, '%', '"', spaces and non-ASCII bytes become %xx).
func unescapePath(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if hi, lo := unhex(s[i+1]), unhex(s[i+2]); hi >= 0 && lo >= 0 {
				b.WriteByte(byte(hi<<4 | lo))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}
