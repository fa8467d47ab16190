package cluster

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/executor/clusterpb"
	"github.com/quarrydb/quarry/flight/exchange"
	"github.com/quarrydb/quarry/planner/physical"
)

// Endpoint is where a client reads one part of a result: an executor's
// address and a ticket the coordinator signed for it.
type Endpoint struct {
	Address string
	Ticket  []byte
}

// ClientResultTimeout bounds how long a result served to clients from the
// executors waits to be read.
const ClientResultTimeout = 10 * time.Minute

// RunForClients starts plan so that clients read its result directly from
// the executors, in parallel, one endpoint per executor. Only a plan whose
// root fragment merely gathers a parallel fragment qualifies (no order, no
// final merge); ok is false otherwise and nothing is started. The query
// ends when every endpoint was read to its end, when a part fails, or
// after ClientResultTimeout; done is then called with its figures.
func (c *Cluster) RunForClients(plan *physical.Plan, memLimit int64, done func(stats map[int]physical.OperatorStats, err error)) (eps []Endpoint, ok bool, err error) {
	src, isSource := plan.Root().Root.(*physical.ExchangeSource)
	if !isSource {
		return nil, false, nil
	}
	var frag *physical.Fragment
	for _, f := range plan.Fragments {
		if f.ID == src.Fragment {
			frag = f
		}
	}
	if frag == nil || frag.Output != physical.Gather || len(frag.Ports) > 1 {
		return nil, false, nil
	}
	// The executors' output must carry the result's client-facing names.
	renameOutput(plan, frag)
	encoded, err := marshalForExecutors(plan)
	if err != nil {
		return nil, true, sqlerr.Wrap(sqlerr.InternalError, err, "encoding the plan")
	}
	ctx, cancel := context.WithTimeout(context.Background(), ClientResultTimeout)
	a, placement, err := c.launch(ctx, plan, encoded, memLimit, true)
	if err != nil {
		cancel()
		return nil, true, err
	}
	key := clusterpb.TicketKey(c.cfg.Secret)
	for _, n := range placement.Nodes(frag.ID) {
		t := exchange.Ticket{Query: a.query, Fragment: frag.ID, Partition: 0}
		eps = append(eps, Endpoint{Address: a.addrs[n], Ticket: t.Sign(key)})
	}
	go func() {
		defer cancel()
		for _, t := range a.tasks {
			select {
			case <-t.finished:
			case <-a.ctx.Done():
			}
		}
		stats := map[int]physical.OperatorStats{}
		for _, t := range a.tasks {
			t.addStats(stats)
		}
		a.mu.Lock()
		err := a.failure
		a.mu.Unlock()
		if err == nil && ctx.Err() != nil {
			err = sqlerr.New(sqlerr.QueryCanceled, "the result was not read within %s", ClientResultTimeout)
		}
		a.end()
		c.splits.remove(a.query)
		if done != nil {
			done(stats, err)
		}
	}()
	return eps, true, nil
}

// renameOutput puts a projection on top of frag that gives its rows the
// plan's result schema (client names and column origins).
func renameOutput(plan *physical.Plan, frag *physical.Fragment) {
	schema := plan.Schema()
	maxID := 0
	for _, f := range plan.Fragments {
		physical.Walk(f.Root, func(n physical.Node) { maxID = max(maxID, n.NodeID()) })
	}
	in := frag.Root.Schema()
	exprs := make([]physical.Expr, in.NumFields())
	for i := range exprs {
		exprs[i] = &physical.ColRef{Index: i, T: in.Field(i).Type, Name: in.Field(i).Name}
	}
	frag.Root = &physical.Project{Base: physical.Base{ID: maxID + 1, Out: arrow.NewSchema(schema.Fields(), nil)}, Input: frag.Root, Exprs: exprs}
}
