// Package pgtest gives tests databases of their own on the local PostgreSQL
// (127.0.0.1:5432, user postgres, trust auth), which .ci/run starts. Each URL is
// a new database named for the test package, dropped when the test ends, so
// packages and tests never see each other's rows.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is the maintenance URL of the local server; PGTEST_URL overrides it.
func Server() string {
	if u := os.Getenv("PGTEST_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// URL creates an empty database spass_test_<package>_<random> and returns its
// URL; the database is dropped when tb ends (after the cleanups registered later,
// so close the store in one of those). Without a server the test fails in CI
// (CI=true) and is skipped elsewhere.
func URL(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, Server())
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("postgresql at %s: %v", Server(), err)
		}
		tb.Skipf("postgresql is not reachable (%v); start it or set PGTEST_URL", err)
	}
	defer admin.Close(context.Background())
	name := "spass_test_" + pkg() + "_" + random()
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatalf("create database %s: %v", name, err)
	}
	tb.Cleanup(func() { drop(tb, name) })
	cfg, err := pgx.ParseConfig(Server())
	if err != nil {
		tb.Fatal(err)
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
}

func drop(tb testing.TB, name string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, Server())
	if err != nil {
		tb.Errorf("drop database %s: %v", name, err)
		return
	}
	defer admin.Close(context.Background())
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
		tb.Errorf("drop database %s: %v", name, err)
	}
}

var unsafe = regexp.MustCompile(`[^a-z0-9]+`)

// pkg names the test binary's package ("store" for store.test).
func pkg() string {
	p := strings.TrimSuffix(filepath.Base(os.Args[0]), ".test")
	p = unsafe.ReplaceAllString(strings.ToLower(p), "_")
	return p[:min(len(p), 20)]
}

func random() string {
	var b [5]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
