package catalog

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/quarrydb/quarry/catalog/sqlerr"
)

// bucketUsers holds lower(name) → JSON User. It is created by the first
// PutUser, so catalogs without users need no layout change.
var bucketUsers = []byte("users")

// SCRAMIterations is the PBKDF2 iteration count of new verifiers
// (PostgreSQL's default scram_iterations).
const SCRAMIterations = 4096

// Password methods a user may authenticate with over the PostgreSQL wire.
const (
	MethodSCRAM    = "scram-sha-256" // SASL SCRAM-SHA-256 (the default)
	MethodPassword = "password"      // cleartext password, for old drivers
)

// User is a login role. Only a SCRAM-SHA-256 verifier is kept (RFC 5802):
// the password itself is never stored, and a cleartext password is checked
// by deriving the same verifier from it.
type User struct {
	Name       string `json:"name"`
	Method     string `json:"method"`
	Salt       []byte `json:"salt"`
	Iterations int    `json:"iterations"`
	StoredKey  []byte `json:"storedKey"`
	ServerKey  []byte `json:"serverKey"`
}

// NewUser derives a SCRAM-SHA-256 verifier for password with a fresh random
// salt. method is MethodSCRAM (or empty) or MethodPassword.
func NewUser(name, password, method string) (*User, error) {
	if strings.TrimSpace(name) == "" {
		return nil, sqlerr.New(sqlerr.InvalidName, "user name must not be empty")
	}
	if password == "" {
		return nil, sqlerr.New(sqlerr.InvalidParameterValue, "password must not be empty")
	}
	switch method {
	case "":
		method = MethodSCRAM
	case MethodSCRAM, MethodPassword:
	default:
		return nil, sqlerr.New(sqlerr.InvalidParameterValue, "unknown password method %q (want %s or %s)", method, MethodSCRAM, MethodPassword)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, sqlerr.Wrap(sqlerr.InternalError, err, "random salt")
	}
	u := &User{Name: name, Method: method, Salt: salt, Iterations: SCRAMIterations}
	salted, err := SaltedPassword(password, salt, u.Iterations)
	if err != nil {
		return nil, err
	}
	u.StoredKey, u.ServerKey = SCRAMKeys(salted)
	return u, nil
}

// SaltedPassword is SCRAM's Hi(password, salt, iterations) with HMAC-SHA-256.
func SaltedPassword(password string, salt []byte, iterations int) ([]byte, error) {
	k, err := pbkdf2.Key(sha256.New, password, salt, iterations, sha256.Size)
	if err != nil {
		return nil, sqlerr.Wrap(sqlerr.InternalError, err, "derive password key")
	}
	return k, nil
}

// SCRAMKeys returns StoredKey = H(HMAC(salted, "Client Key")) and
// ServerKey = HMAC(salted, "Server Key").
func SCRAMKeys(salted []byte) (storedKey, serverKey []byte) {
	clientKey := HMACSHA256(salted, []byte("Client Key"))
	sum := sha256.Sum256(clientKey)
	return sum[:], HMACSHA256(salted, []byte("Server Key"))
}

// HMACSHA256 is HMAC-SHA-256(key, msg).
func HMACSHA256(key, msg []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(msg)
	return m.Sum(nil)
}

// CheckPassword reports whether password matches u's verifier.
func (u *User) CheckPassword(password string) bool {
	salted, err := SaltedPassword(password, u.Salt, u.Iterations)
	if err != nil {
		return false
	}
	stored, _ := SCRAMKeys(salted)
	return subtle.ConstantTimeCompare(stored, u.StoredKey) == 1
}

// PutUser creates u, or replaces the user of that name (names match
// case-insensitively).
func (c *Catalog) PutUser(u *User) error {
	if err := c.checkOpen(); err != nil {
		return err
	}
	v, err := json.Marshal(u)
	if err != nil {
		return sqlerr.Wrap(sqlerr.InternalError, err, "encode user")
	}
	err = c.db.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketUsers)
		if err != nil {
			return err
		}
		return b.Put([]byte(strings.ToLower(u.Name)), v)
	})
	if err != nil {
		return sqlerr.Wrap(sqlerr.IOError, err, "cannot save user %q", u.Name)
	}
	return nil
}

// User returns the user called name, or nil when there is none.
func (c *Catalog) User(name string) (*User, error) {
	if err := c.checkOpen(); err != nil {
		return nil, err
	}
	var u *User
	err := c.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(strings.ToLower(name)))
		if v == nil {
			return nil
		}
		u = &User{}
		return json.Unmarshal(v, u)
	})
	if err != nil {
		return nil, sqlerr.Wrap(sqlerr.DataCorrupted, err, "cannot read user %q", name)
	}
	return u, nil
}

// DropUser removes the user called name; it reports whether there was one.
func (c *Catalog) DropUser(name string) (bool, error) {
	if err := c.checkOpen(); err != nil {
		return false, err
	}
	found := false
	err := c.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketUsers)
		if b == nil {
			return nil
		}
		k := []byte(strings.ToLower(name))
		found = b.Get(k) != nil
		return b.Delete(k)
	})
	if err != nil {
		return false, sqlerr.Wrap(sqlerr.IOError, err, "cannot drop user %q", name)
	}
	return found, nil
}
