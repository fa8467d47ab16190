package pgwire

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"sync"

	"github.com/jackc/pgx/v5/pgproto3"
)

// keyRegistry maps the BackendKeyData handed to each connection back to it,
// so that a CancelRequest arriving on another connection finds its target.
type keyRegistry struct {
	mu    sync.Mutex
	next  uint32
	conns map[uint32]*conn
}

func (k *keyRegistry) init() {
	k.conns = map[uint32]*conn{}
	var b [4]byte
	rand.Read(b[:])
	k.next = binary.BigEndian.Uint32(b[:])%1_000_000 + 1000
}

// register gives c a process id and a random secret key.
func (k *keyRegistry) register(c *conn) {
	rand.Read(c.secret[:])
	k.mu.Lock()
	defer k.mu.Unlock()
	for {
		k.next++
		if k.next == 0 {
			continue
		}
		if _, taken := k.conns[k.next]; !taken {
			break
		}
	}
	c.pid = k.next
	k.conns[c.pid] = c
}

func (k *keyRegistry) unregister(c *conn) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.conns[c.pid] == c {
		delete(k.conns, c.pid)
	}
}

// cancel cancels the running query of the connection the request names,
// when its secret matches. As in PostgreSQL nothing is answered either way.
func (k *keyRegistry) cancel(req *pgproto3.CancelRequest) bool {
	k.mu.Lock()
	c := k.conns[req.ProcessID]
	k.mu.Unlock()
	if c == nil || subtle.ConstantTimeCompare(req.SecretKey, c.secret[:]) != 1 {
		return false
	}
	c.cancelRunning()
	return true
}

// activity is what a connection is running: its cancel function is what a
// CancelRequest calls.
type activity struct {
	mu     sync.Mutex
	cancel context.CancelFunc
}

func (a *activity) set(cancel context.CancelFunc) {
	a.mu.Lock()
	a.cancel = cancel
	a.mu.Unlock()
}

func (a *activity) fire() {
	a.mu.Lock()
	if a.cancel != nil {
		a.cancel()
	}
	a.mu.Unlock()
}
