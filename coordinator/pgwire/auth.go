package pgwire

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/catalog/sqlerr"
)

const scramMechanism = "SCRAM-SHA-256"

// mockSecret salts the made-up verifier of unknown users, so that the
// exchange for a user who does not exist looks like one for a user who does.
var mockSecret = func() []byte {
	b := make([]byte, 32)
	rand.Read(b)
	return b
}()

// authenticate runs the password exchange the configuration asks for. On
// failure the client gets one FATAL 28P01 and the connection ends.
func (c *conn) authenticate() error {
	if c.srv.cfg.Auth == AuthTrust {
		return nil
	}
	u, err := c.srv.cfg.Users.User(c.user)
	if err != nil {
		c.fatal(err)
		return errClose
	}
	var ok bool
	if u != nil && u.Method == catalog.MethodPassword {
		ok, err = c.cleartext(u)
	} else {
		ok, err = c.scram(u)
	}
	if err != nil {
		if e, isSQL := err.(*sqlerr.Error); isSQL {
			c.fatal(e)
			return errClose
		}
		return err
	}
	if !ok {
		c.fatal(sqlerr.New("28P01", "password authentication failed for user %q", c.user))
		c.log.Info("pgwire: password authentication failed", "user", c.user)
		return errClose
	}
	return nil
}

// cleartext asks for the password itself (old drivers; use TLS).
func (c *conn) cleartext(u *catalog.User) (bool, error) {
	c.send(&pgproto3.AuthenticationCleartextPassword{})
	if err := c.flush(); err != nil {
		return false, err
	}
	c.be.SetAuthType(pgproto3.AuthTypeCleartextPassword)
	msg, err := c.be.Receive()
	if err != nil {
		return false, err
	}
	pm, isPw := msg.(*pgproto3.PasswordMessage)
	if !isPw {
		return false, sqlerr.New(sqlerr.ProtocolViolation, "expected password response, got %T", msg)
	}
	return u.CheckPassword(pm.Password), nil
}

// scram runs SCRAM-SHA-256 (RFC 5802, RFC 7677) without channel binding.
// u may be nil (no such user): the exchange then runs on a made-up
// verifier and fails at the end.
func (c *conn) scram(u *catalog.User) (bool, error) {
	c.send(&pgproto3.AuthenticationSASL{AuthMechanisms: []string{scramMechanism}})
	if err := c.flush(); err != nil {
		return false, err
	}
	c.be.SetAuthType(pgproto3.AuthTypeSASL)
	msg, err := c.be.Receive()
	if err != nil {
		return false, err
	}
	first, isFirst := msg.(*pgproto3.SASLInitialResponse)
	if !isFirst {
		return false, sqlerr.New(sqlerr.ProtocolViolation, "expected SASL response, got %T", msg)
	}
	if first.AuthMechanism != scramMechanism {
		return false, sqlerr.New(sqlerr.ProtocolViolation, "client selected an invalid SASL authentication mechanism")
	}
	gs2, bare, clientNonce, err := parseClientFirst(string(first.Data))
	if err != nil {
		return false, err
	}
	salt, iterations := mockVerifier(c.user)
	if u != nil {
		salt, iterations = u.Salt, u.Iterations
	}
	nonce := make([]byte, 18)
	rand.Read(nonce)
	fullNonce := clientNonce + base64.StdEncoding.EncodeToString(nonce)
	serverFirst := "r=" + fullNonce + ",s=" + base64.StdEncoding.EncodeToString(salt) + ",i=" + strconv.Itoa(iterations)
	c.send(&pgproto3.AuthenticationSASLContinue{Data: []byte(serverFirst)})
	if err := c.flush(); err != nil {
		return false, err
	}
	c.be.SetAuthType(pgproto3.AuthTypeSASLContinue)
	msg, err = c.be.Receive()
	if err != nil {
		return false, err
	}
	final, isFinal := msg.(*pgproto3.SASLResponse)
	if !isFinal {
		return false, sqlerr.New(sqlerr.ProtocolViolation, "expected SASL response, got %T", msg)
	}
	clientFinal := string(final.Data)
	withoutProof, proofB64, found := strings.Cut(clientFinal, ",p=")
	if !found {
		return false, sqlerr.New(sqlerr.ProtocolViolation, "malformed SCRAM message (proof expected)")
	}
	attrs := scramAttrs(withoutProof)
	if attrs["c"] != base64.StdEncoding.EncodeToString([]byte(gs2)) {
		return false, sqlerr.New(sqlerr.ProtocolViolation, "SCRAM channel binding check failed")
	}
	if attrs["r"] != fullNonce {
		return false, sqlerr.New(sqlerr.ProtocolViolation, "SCRAM nonce mismatch")
	}
	proof, err := base64.StdEncoding.DecodeString(proofB64)
	if err != nil || len(proof) != sha256.Size {
		return false, sqlerr.New(sqlerr.ProtocolViolation, "malformed SCRAM message (invalid proof)")
	}
	if u == nil {
		return false, nil
	}
	authMessage := []byte(bare + "," + serverFirst + "," + withoutProof)
	clientSig := catalog.HMACSHA256(u.StoredKey, authMessage)
	clientKey := make([]byte, len(proof))
	for i := range proof {
		clientKey[i] = proof[i] ^ clientSig[i]
	}
	sum := sha256.Sum256(clientKey)
	if subtle.ConstantTimeCompare(sum[:], u.StoredKey) != 1 {
		return false, nil
	}
	serverSig := catalog.HMACSHA256(u.ServerKey, authMessage)
	c.send(&pgproto3.AuthenticationSASLFinal{Data: []byte("v=" + base64.StdEncoding.EncodeToString(serverSig))})
	return true, nil
}

// parseClientFirst splits client-first-message into its GS2 header, the
// bare message and the client nonce.
func parseClientFirst(msg string) (gs2, bare, nonce string, err error) {
	bad := func(why string) (string, string, string, error) {
		return "", "", "", sqlerr.New(sqlerr.ProtocolViolation, "malformed SCRAM message (%s)", why)
	}
	if msg == "" {
		return bad("empty")
	}
	switch msg[0] {
	case 'n', 'y':
	case 'p':
		return "", "", "", sqlerr.New(sqlerr.ProtocolViolation, "SCRAM channel binding is not supported by this server")
	default:
		return bad("unexpected channel-binding flag")
	}
	// gs2-header = cbind-flag "," [authzid] ","
	first := strings.IndexByte(msg, ',')
	if first < 0 {
		return bad("no GS2 header")
	}
	second := strings.IndexByte(msg[first+1:], ',')
	if second < 0 {
		return bad("no GS2 header")
	}
	end := first + 1 + second + 1
	gs2, bare = msg[:end], msg[end:]
	attrs := scramAttrs(bare)
	if _, hasUser := attrs["n"]; !hasUser {
		return bad("no user name")
	}
	nonce = attrs["r"]
	if nonce == "" || strings.ContainsAny(nonce, ",") {
		return bad("no nonce")
	}
	return gs2, bare, nonce, nil
}

// scramAttrs reads "k=v,k=v" attributes.
func scramAttrs(s string) map[string]string {
	out := map[string]string{}
	for _, kv := range strings.Split(s, ",") {
		if len(kv) >= 2 && kv[1] == '=' {
			out[kv[:1]] = kv[2:]
		}
	}
	return out
}

// mockVerifier is the salt and iteration count shown for a user that does
// not exist: stable per name, so probing does not tell users apart.
func mockVerifier(user string) ([]byte, int) {
	h := sha256.Sum256(fmt.Appendf(append([]byte(nil), mockSecret...), "mock:%s", user))
	return h[:16], catalog.SCRAMIterations
}
