package executor

import (
	"context"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/exec"
	"github.com/quarrydb/quarry/flight/exchange"
)

// Transport connects one node's part of a query to the outputs of the
// other nodes over Arrow Flight. It remembers the nodes it could not reach,
// so whoever runs the query can tell a lost executor from a failed query.
type Transport struct {
	client    *exchange.Client
	query     string
	addresses map[string]string

	mu   sync.Mutex
	lost map[string]bool
}

// NewTransport returns the transport of query, reaching each node at its
// address in addresses.
func NewTransport(client *exchange.Client, query string, addresses map[string]string) *Transport {
	return &Transport{client: client, query: query, addresses: addresses, lost: map[string]bool{}}
}

// Open implements exec.Transport.
func (t *Transport) Open(ctx context.Context, node string, fragment, partition int, alloc memory.Allocator) (exec.Receiver, error) {
	addr, ok := t.addresses[node]
	if !ok {
		return nil, sqlerr.New(sqlerr.InternalError, "no address for node %q", node)
	}
	s, err := t.client.Open(ctx, addr, exchange.Ticket{Query: t.query, Fragment: fragment, Partition: partition}, alloc)
	if err != nil {
		return nil, t.classify(node, err)
	}
	return &remoteReceiver{s: s, t: t, node: node}, nil
}

// Lost returns the nodes whose streams broke.
func (t *Transport) Lost() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []string
	for n := range t.lost {
		out = append(out, n)
	}
	return out
}

func (t *Transport) classify(node string, err error) error {
	if exchange.IsUnavailable(err) {
		t.mu.Lock()
		t.lost[node] = true
		t.mu.Unlock()
		return sqlerr.New(exchange.ConnectionFailure, "executor %s is unreachable: %v", node, err)
	}
	return err
}

type remoteReceiver struct {
	s    *exchange.RemoteStream
	t    *Transport
	node string
}

func (r *remoteReceiver) Next(ctx context.Context) (arrow.Record, error) {
	b, err := r.s.Next(ctx)
	if err != nil {
		return nil, r.t.classify(r.node, err)
	}
	return b, nil
}

func (r *remoteReceiver) Close() error {
	return r.s.Close()
}
