// Command sluice-ferretdb runs FerretDB v1 (a MongoDB wire-protocol server)
// on its SQLite backend, for sluice's tests and benchmarks.
//
// Why a main of our own: the published FerretDB command reads a version file
// that `go install` builds do not have, and panics without it; the
// embeddable package github.com/FerretDB/FerretDB/ferretdb does not. This
// program is built from the Go module proxy by test/servers/ferretdb-install.ts
// and cached outside git.
//
// Usage: sluice-ferretdb -listen 127.0.0.1:27017 -data DIR
//
// It prints one line `listening <mongodb uri>` on stdout once the listener
// is up, and stops on SIGTERM/SIGINT (closing connections and the SQLite
// databases).
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:27017", "TCP address to listen on")
	data := flag.String("data", "", "directory for the SQLite databases (one file per database)")
	level := flag.String("log-level", "warn", "debug, info, warn or error")
	// FerretDB runs every write in its own SQLite transaction; with the default
	// synchronous=FULL each one waits for an fsync (about 100 writes/s on CI
	// disks). In WAL mode, NORMAL keeps the databases consistent across a
	// process crash and only loses the last commits on power loss, which is
	// what a test and benchmark server needs.
	sync := flag.String("sync", "normal", "SQLite synchronous pragma: off, normal or full")
	flag.Parse()

	if *data == "" {
		fmt.Fprintln(os.Stderr, "sluice-ferretdb: -data DIR is required")
		os.Exit(2)
	}
	abs, err := filepath.Abs(*data)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice-ferretdb: %v\n", err)
		os.Exit(2)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		fmt.Fprintf(os.Stderr, "sluice-ferretdb: %v\n", err)
		os.Exit(2)
	}

	var lvl slog.Level
	switch *sync {
	case "off", "normal", "full":
	default:
		fmt.Fprintf(os.Stderr, "sluice-ferretdb: bad -sync %q (off, normal or full)\n", *sync)
		os.Exit(2)
	}
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintf(os.Stderr, "sluice-ferretdb: bad -log-level: %v\n", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))

	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: *listen},
		Logger:   logger,
		Handler:  "sqlite",
		// The SQLite backend wants a directory URI ending in a slash.
		SQLiteURL: "file:" + abs + "/?_pragma=synchronous(" + *sync + ")",
	})
	if err != nil {
		fmt.Fprintf(os.Stderr, "sluice-ferretdb: %v\n", err)
		os.Exit(1)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = f.Run(ctx)
	}()

	// Run binds the listener; report readiness once the port accepts.
	go func() {
		for ctx.Err() == nil {
			c, err := net.DialTimeout("tcp", *listen, 200*time.Millisecond)
			if err == nil {
				c.Close()
				fmt.Printf("listening mongodb://%s/\n", *listen)
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	<-done
}
