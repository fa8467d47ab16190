package coordinator

import (
	"context"
	"runtime"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/coordinator/cluster"
)

// sysNodesSchema is the schema of sys.nodes: the coordinator and its
// executors (in embedded mode, the one process that is both).
var sysNodesSchema = arrow.NewSchema([]arrow.Field{
	{Name: "node_id", Type: arrow.BinaryTypes.String},
	{Name: "role", Type: arrow.BinaryTypes.String},
	{Name: "address", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "state", Type: arrow.BinaryTypes.String},
	{Name: "threads", Type: arrow.PrimitiveTypes.Int32},
	{Name: "memory_limit", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "memory_used", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "running_fragments", Type: arrow.PrimitiveTypes.Int32, Nullable: true},
	{Name: "last_heartbeat", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
	{Name: "registered_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
	{Name: "lost_at", Type: &arrow.TimestampType{Unit: arrow.Microsecond}, Nullable: true},
}, nil)

// sysNodes generates sys.nodes.
func (e *Engine) sysNodes(context.Context) (*arrow.Schema, []arrow.Record, error) {
	b := array.NewRecordBuilder(memory.DefaultAllocator, sysNodesSchema)
	defer b.Release()
	ts := func(i int, t time.Time) {
		tb := b.Field(i).(*array.TimestampBuilder)
		if t.IsZero() {
			tb.AppendNull()
			return
		}
		tb.Append(arrow.Timestamp(t.UTC().UnixMicro()))
	}
	row := func(n cluster.Node, role string) {
		b.Field(0).(*array.StringBuilder).Append(n.ID)
		b.Field(1).(*array.StringBuilder).Append(role)
		if n.Address == "" {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.StringBuilder).Append(n.Address)
		}
		b.Field(3).(*array.StringBuilder).Append(n.State)
		b.Field(4).(*array.Int32Builder).Append(int32(n.Threads))
		b.Field(5).(*array.Int64Builder).Append(n.MemoryLimit)
		b.Field(6).(*array.Int64Builder).Append(n.MemoryUsed)
		b.Field(7).(*array.Int32Builder).Append(int32(n.Running))
		ts(8, n.LastHeartbeat)
		ts(9, n.Registered)
		ts(10, n.Lost)
	}
	now := time.Now()
	threads := e.cfg.Parallelism
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	self := cluster.Node{
		State: cluster.StateActive, Threads: threads, MemoryLimit: e.cfg.MemoryLimit,
		MemoryUsed: e.running.memory(), Running: e.running.count(), LastHeartbeat: now, Registered: e.started,
	}
	if cl := e.cfg.Cluster; cl != nil {
		self.ID, self.Address, self.Threads = cluster.CoordinatorNode, cl.Addr(), 1
		row(self, "coordinator")
		for _, n := range cl.Membership().Nodes() {
			row(n, "executor")
		}
	} else {
		self.ID = "local"
		row(self, "coordinator,executor")
	}
	return sysNodesSchema, []arrow.Record{b.NewRecord()}, nil
}
