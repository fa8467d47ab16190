package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log/slog"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/coordinator"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/status"
)

// selfSigned returns a TLS configuration with a fresh certificate for
// 127.0.0.1.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "quarry test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
}

// TestFlightDoor starts the Flight SQL door as Serve does: TLS and scram
// auth against the catalog's users.
func TestFlightDoor(t *testing.T) {
	data, err := filepath.Abs("../../testdata/tpch/sf0.01")
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	eng, err := coordinator.Open(coordinator.Config{DataDir: t.TempDir(), DefaultSchema: "tpch", Logger: log,
		Sources: []coordinator.SourceSpec{{Name: "tpch", Path: data}}})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	u, err := catalog.NewUser("carol", "pa55", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := eng.Catalog().PutUser(u); err != nil {
		t.Fatal(err)
	}
	d, err := startFlight(eng, Options{FlightAddr: "127.0.0.1:0", Auth: "scram"}, selfSigned(t), log)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(d.howTo, "grpc+tls://"+d.addr) {
		t.Errorf("banner %q", d.howTo)
	}
	served := make(chan error, 1)
	go func() { served <- d.serve() }()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := d.shutdown(ctx); err != nil {
			t.Error(err)
		}
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()

	creds := credentials.NewTLS(&tls.Config{InsecureSkipVerify: true})
	c, err := flightsql.NewClient(d.addr, nil, nil, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.Execute(ctx, "SELECT 1"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("unauthenticated: %v", err)
	}
	if _, err := c.Client.AuthenticateBasicToken(ctx, "carol", "wrong"); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("wrong password: %v", err)
	}
	authed, err := c.Client.AuthenticateBasicToken(ctx, "carol", "pa55")
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Execute(authed, "SELECT count(*) AS n FROM region")
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := c.DoGet(authed, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	if !rdr.Next() || rdr.RecordBatch().Column(0).ValueStr(0) != "5" {
		t.Fatalf("count: %v", rdr.Err())
	}
	// An unknown auth mode is refused.
	if _, err := flightAuth(eng, "ldap"); err == nil {
		t.Error("unknown auth mode accepted")
	}
}

func TestCredentialCache(t *testing.T) {
	c := newCredentialCache(time.Hour, 2)
	if c.ok("alice", "pw") {
		t.Fatal("empty cache verified a password")
	}
	c.add("alice", "pw")
	if !c.ok("alice", "pw") || c.ok("alice", "other") || c.ok("bob", "pw") {
		t.Fatal("cache must match user and password exactly")
	}
	c.add("bob", "x")
	c.add("carol", "y") // over the bound: older entries go
	if len(c.entries) > 2 {
		t.Fatalf("%d entries, bound 2", len(c.entries))
	}
	expired := newCredentialCache(-time.Second, 4)
	expired.add("alice", "pw")
	if expired.ok("alice", "pw") {
		t.Fatal("an expired entry verified a password")
	}
}
