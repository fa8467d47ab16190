package pgwire

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/quarrydb/quarry/catalog"
)

func TestSCRAMAuth(t *testing.T) {
	srv := startServer(t, withAuth(AuthSCRAM))
	srv.addUser(t, "alice", "s3cret pass", catalog.MethodSCRAM)
	srv.addUser(t, "bob", "hunter2", catalog.MethodPassword)
	ctx := context.Background()
	login := func(user, password string) error {
		cfg, err := pgx.ParseConfig(srv.connString(""))
		if err != nil {
			t.Fatal(err)
		}
		cfg.User, cfg.Password = user, password
		conn, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		var one int64
		return conn.QueryRow(ctx, "SELECT 1").Scan(&one)
	}
	if err := login("alice", "s3cret pass"); err != nil {
		t.Fatalf("alice with SCRAM: %v", err)
	}
	if err := login("bob", "hunter2"); err != nil {
		t.Fatalf("bob with a cleartext password: %v", err)
	}
	for _, c := range [][2]string{{"alice", "wrong"}, {"bob", "wrong"}, {"nobody", "s3cret pass"}, {"alice", ""}} {
		err := login(c[0], c[1])
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "28P01" || pe.Severity != "FATAL" {
			t.Errorf("%s with %q: want FATAL 28P01, got %v", c[0], c[1], err)
		}
	}
	if n := srv.srv.NumConns(); n > 1 {
		t.Errorf("%d connections still open after failed logins", n)
	}
}

// TestSCRAMWrongProofAnswersNothingElse runs the exchange by hand: a bad
// proof gets one ErrorResponse 28P01 and the connection closes.
func TestSCRAMWrongProofAnswersNothingElse(t *testing.T) {
	srv := startServer(t, withAuth(AuthSCRAM))
	srv.addUser(t, "alice", "right", "")
	for _, password := range []string{"right", "wrong"} {
		c := srv.dial(t)
		c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "alice"}})
		sasl, ok := c.recv().(*pgproto3.AuthenticationSASL)
		if !ok || len(sasl.AuthMechanisms) != 1 || sasl.AuthMechanisms[0] != "SCRAM-SHA-256" {
			t.Fatalf("want AuthenticationSASL, got %+v", sasl)
		}
		clientFirstBare := "n=,r=clientnonce123"
		c.send(&pgproto3.SASLInitialResponse{AuthMechanism: "SCRAM-SHA-256", Data: []byte("n,," + clientFirstBare)})
		cont, ok := c.recv().(*pgproto3.AuthenticationSASLContinue)
		if !ok {
			t.Fatalf("want SASLContinue, got %T", cont)
		}
		attrs := scramAttrs(string(cont.Data))
		salt, _ := base64.StdEncoding.DecodeString(attrs["s"])
		iter, _ := strconv.Atoi(attrs["i"])
		if !strings.HasPrefix(attrs["r"], "clientnonce123") || len(salt) == 0 || iter != catalog.SCRAMIterations {
			t.Fatalf("server-first-message %q", cont.Data)
		}
		salted, _ := catalog.SaltedPassword(password, salt, iter)
		clientKey := catalog.HMACSHA256(salted, []byte("Client Key"))
		stored := sha256.Sum256(clientKey)
		withoutProof := "c=biws,r=" + attrs["r"]
		authMsg := clientFirstBare + "," + string(cont.Data) + "," + withoutProof
		sig := catalog.HMACSHA256(stored[:], []byte(authMsg))
		for i := range clientKey {
			clientKey[i] ^= sig[i]
		}
		c.send(&pgproto3.SASLResponse{Data: []byte(withoutProof + ",p=" + base64.StdEncoding.EncodeToString(clientKey))})
		if password == "right" {
			final, ok := c.recv().(*pgproto3.AuthenticationSASLFinal)
			if !ok || !strings.HasPrefix(string(final.Data), "v=") {
				t.Fatalf("want SASLFinal, got %+v", final)
			}
			if got := c.until('Z'); !strings.HasPrefix(got, "R S") {
				t.Fatalf("after SASLFinal: %s", got)
			}
			continue
		}
		e, ok := c.recv().(*pgproto3.ErrorResponse)
		if !ok || e.Code != "28P01" || e.Severity != "FATAL" {
			t.Fatalf("want FATAL 28P01, got %+v", e)
		}
		if m, err := c.fe.Receive(); err == nil {
			t.Fatalf("server said more after 28P01: %T", m)
		}
	}
}

func TestTLS(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	conf := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}, MinVersion: tls.VersionTLS12}
	srv := startServer(t, withAuth(AuthSCRAM), func(c *Config) { c.TLS = conf })
	srv.addUser(t, "alice", "pw", "")
	cfg, err := pgx.ParseConfig(strings.Replace(srv.connString("password=pw"), "sslmode=disable", "sslmode=require", 1))
	if err != nil {
		t.Fatal(err)
	}
	cfg.User = "alice"
	conn := srv.connectConfig(t, cfg)
	if _, isTLS := conn.PgConn().Conn().(*tls.Conn); !isTLS {
		t.Fatalf("connection is %T, not TLS", conn.PgConn().Conn())
	}
	var n int64
	if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM lineitem").Scan(&n); err != nil || n != 60175 {
		t.Fatalf("query over TLS: %d %v", n, err)
	}
	// Plain connections still work when the client does not ask for TLS.
	cfg, _ = pgx.ParseConfig(srv.connString("password=pw"))
	cfg.User = "alice"
	plain := srv.connectConfig(t, cfg)
	if _, isTLS := plain.PgConn().Conn().(*tls.Conn); isTLS {
		t.Fatal("sslmode=disable got TLS")
	}
}
