package exchange

import (
	"fmt"
	"net"
	"strings"

	"github.com/apache/arrow-go/v18/arrow/ipc"
)

// Compression is the IPC body compression the server applies to the
// batches it sends. Readers decompress whatever they receive, so it is a
// server-side choice only.
type Compression int

const (
	NoCompression Compression = iota
	LZ4
	ZSTD
	// Auto sends uncompressed to a consumer on the same machine (loopback:
	// compressing costs more CPU than the copy it saves) and LZ4 to others.
	Auto
)

// ParseCompression reads a --exchange-compression value: "auto", "none"
// (or ""), "lz4" or "zstd", in any case.
func ParseCompression(s string) (Compression, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "none":
		return NoCompression, nil
	case "lz4":
		return LZ4, nil
	case "zstd":
		return ZSTD, nil
	case "auto":
		return Auto, nil
	}
	return NoCompression, fmt.Errorf("exchange: unknown compression %q (want auto, none, lz4 or zstd)", s)
}

func (c Compression) String() string {
	switch c {
	case NoCompression:
		return "none"
	case LZ4:
		return "lz4"
	case ZSTD:
		return "zstd"
	case Auto:
		return "auto"
	}
	return fmt.Sprintf("Compression(%d)", int(c))
}

// Set implements flag.Value, so that a *Compression can be a flag.
func (c *Compression) Set(s string) error {
	v, err := ParseCompression(s)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// forPeer resolves Auto for a consumer at addr.
func (c Compression) forPeer(addr net.Addr) Compression {
	if c != Auto {
		return c
	}
	if tcp, ok := addr.(*net.TCPAddr); ok && tcp.IP.IsLoopback() {
		return NoCompression
	}
	return LZ4
}

func (c Compression) ipcOption() (ipc.Option, bool) {
	switch c {
	case LZ4:
		return ipc.WithLZ4(), true
	case ZSTD:
		return ipc.WithZstd(), true
	}
	return nil, false
}
