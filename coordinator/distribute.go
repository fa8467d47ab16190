package coordinator

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/coordinator/cluster"
	"github.com/quarrydb/quarry/planner"
	"github.com/quarrydb/quarry/planner/physical"
)

// Distribute starts a query whose result clients read directly from the
// executors, in parallel (Flight SQL endpoints). ok is false when the
// engine has no cluster or the statement does not qualify (not a query,
// or its result needs a final merge: an order, a limit, an aggregate);
// the caller then runs it the ordinary way. The statement's job is
// recorded when its result has been read.
func (s *Session) Distribute(ctx context.Context, sql string) (schema *arrow.Schema, eps []cluster.Endpoint, ok bool, err error) {
	cl := s.eng.cfg.Cluster
	if cl == nil {
		return nil, nil, false, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	parsed, err := planner.ParseAll(sql)
	if err != nil || len(parsed) != 1 {
		return nil, nil, false, nil // the ordinary path reports it
	}
	start := time.Now()
	stmt, err := s.eng.planner.Plan(ctx, &s.sess, parsed[0])
	if err != nil {
		return nil, nil, false, nil
	}
	if stmt.Kind != planner.StmtQuery || stmt.Plan == nil {
		if stmt.Plan != nil {
			stmt.Plan.Release()
		}
		return nil, nil, false, nil
	}
	plan := stmt.Plan
	defer plan.Release()
	schema = plan.Schema()
	user := s.sess.Settings["user"]
	eps, ok, err = cl.RunForClients(plan, s.eng.cfg.MemoryLimit, func(stats map[int]physical.OperatorStats, err error) {
		rows := int64(0)
		if src, isSource := plan.Root().Root.(*physical.ExchangeSource); isSource {
			for _, f := range plan.Fragments {
				if f.ID == src.Fragment {
					rows = stats[f.Root.NodeID()].Rows
				}
			}
		}
		job := jobRecord(sql, user, start, err)
		job.Rows = rows
		_, job.Exchanged = planner.Exchanged(plan, stats)
		s.eng.jobs.record(job)
	})
	if err != nil {
		return nil, nil, true, sqlerr.As(err)
	}
	return schema, eps, ok, nil
}
