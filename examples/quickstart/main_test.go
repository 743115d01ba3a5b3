package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestQuickstart runs the program and checks the story it tells.
func TestQuickstart(t *testing.T) {
	t.Setenv("REDIS_URL", "") // the embedded Redis, as a newcomer runs it
	var buf bytes.Buffer
	out = &buf
	if err := run(); err != nil {
		t.Fatalf("run: %v\n%s", err, buf.String())
	}
	for _, want := range []string{
		`POST /signup -> 200 welcome, ada`,
		`sendWelcome("ada"): sent`,
		`chargeCard("ada", 999): attempt 1 failed, will be retried`,
		`chargeCard("ada", 999): attempt 2 failed, will be retried`,
		`chargeCard("ada", 999): charged on attempt 3`,
		`remind("ada"): ran`,
		`Invoke(totalCents, 999, 450, 1) = 1450`,
		`done: 0 tasks left, 4 executed in the last minute, 0 dead`,
	} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, buf.String())
		}
	}
}
