package catalog

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"testing"
)

func TestUsers(t *testing.T) {
	dir := t.TempDir()
	c, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	if u, err := c.User("alice"); err != nil || u != nil {
		t.Fatalf("no users yet: got %v, %v", u, err)
	}
	u, err := NewUser("Alice", "s3cret", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.PutUser(u); err != nil {
		t.Fatal(err)
	}
	c.Close()

	// The verifier survives a reopen; the password is nowhere in the file.
	raw, err := os.ReadFile(filepath.Join(dir, "catalog.db"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("s3cret")) {
		t.Fatal("catalog file holds the plaintext password")
	}
	c, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.User("ALICE")
	if err != nil || got == nil {
		t.Fatalf("user after reopen: %v, %v", got, err)
	}
	if got.Method != MethodSCRAM || got.Iterations != SCRAMIterations || len(got.Salt) != 16 {
		t.Fatalf("user = %+v", got)
	}
	if !got.CheckPassword("s3cret") || got.CheckPassword("s3cret ") || got.CheckPassword("") {
		t.Fatal("CheckPassword")
	}
	if _, err := NewUser("bob", "x", "md5"); err == nil {
		t.Fatal("unknown method accepted")
	}
	if _, err := NewUser("bob", "", ""); err == nil {
		t.Fatal("empty password accepted")
	}
	if ok, err := c.DropUser("alice"); err != nil || !ok {
		t.Fatalf("drop: %v %v", ok, err)
	}
	if u, _ := c.User("alice"); u != nil {
		t.Fatal("user still there after drop")
	}
}

// TestSCRAMVector checks the key derivation against RFC 7677's example
// (user "user", password "pencil").
func TestSCRAMVector(t *testing.T) {
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	salted, err := SaltedPassword("pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	_, serverKey := SCRAMKeys(salted)
	authMsg := "n=user,r=rOprNGfwEbeRWgbNEkqO," +
		"r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096," +
		"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	sig := base64.StdEncoding.EncodeToString(HMACSHA256(serverKey, []byte(authMsg)))
	if sig != "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=" {
		t.Fatalf("server signature = %s", sig)
	}
}
