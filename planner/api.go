// Package planner turns SQL text into physical plans: a pre-parse layer for
// PostgreSQL and DuckDB spellings in front of TiDB's parser, binding against
// the catalog, a rule-based optimizer over logical plans, physical planning
// and the cut into fragments, and EXPLAIN rendering. It never touches data.
package planner

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quarrydb/quarry/catalog"
	"github.com/quarrydb/quarry/planner/physical"
)

// Session is the per-connection state planning depends on.
type Session struct {
	// DefaultSchema resolves unqualified table names (a source name, or a
	// source-qualified folder "src.folder"); empty means only in-memory
	// tables resolve unqualified.
	DefaultSchema string
	// Settings are run-time parameters by lower-case name: what SET stored
	// (SHOW and current_setting read them back). The PostgreSQL front
	// door also keeps the startup parameters here, "user" and "database"
	// among them.
	Settings map[string]string
}

// StatementKind classifies a planned statement.
type StatementKind int

const (
	StmtQuery           StatementKind = iota // Plan's rows go to the client
	StmtExplain                              // show Plan (EXPLAIN); with Analyze, run it first
	StmtCreateTable                          // create in-memory table Table with TableSchema
	StmtInsert                               // append Plan's rows to Table
	StmtDropTable                            // drop Table
	StmtRefreshMetadata                      // ALTER TABLE Table REFRESH METADATA
	StmtSet                                  // SET / USE: Session already updated by Plan
	StmtNoop                                 // accepted and ignored (BEGIN, COMMIT, …)
	StmtCreateView                           // store View
	StmtCreateTableAs                        // write Plan's rows as new table Table
	StmtDropView                             // drop view Table
	StmtDelete                               // replace Table's rows by Plan's (none without Plan) at TableVersion
	StmtUpdate                               // replace Table's rows by Plan's, whose last column flags changed rows
	StmtTruncate                             // remove every row of Table
	StmtAlterTable                           // give Table TableSchema (rows from Plan, if any) at TableVersion, or rename it NewName
	StmtPrepare                              // PREPARE: keep Body under Name with PrepareTypes
	StmtExecute                              // EXECUTE: run prepared statement Name (ExecuteArgs)
	StmtDeallocate                           // DEALLOCATE: drop prepared statement Name ("": all)
)

// Params are the values of a statement's $n placeholders (PostgreSQL's
// extended protocol, Flight SQL prepared statements).
type Params struct {
	// Types are declared types of $1, $2, … (nil entries, or fewer
	// entries than placeholders: inferred from the context, as PostgreSQL
	// does; text when the context says nothing).
	Types []arrow.DataType
	// Values supply $1, $2, … in Literal.Value form (nil is NULL). A string
	// is text the client sent: it converts to the declared or inferred
	// type like a quoted literal. Nil Values plans without values, to
	// learn the parameter and result types (Describe).
	Values []any
	// Generic plans with the placeholders left open, for a plan that is
	// kept and bound to each execution's values (Statement.Generic,
	// Planner.BindParams). Every placeholder needs a type in Types;
	// Values are not read. (A describing plan of a statement without
	// placeholders is generic too.)
	Generic bool
}

// Parsed is one statement of a SQL text.
type Parsed struct {
	Text string // the statement's own text
	node ast.StmtNode
	// err is a syntax error, reported when the statement is planned so
	// that the statements before it still run.
	err     error
	derived map[string][][]string
	refresh []string // ALTER TABLE … REFRESH METADATA target
	// createView is CREATE VIEW, handled before TiDB's parser so that the
	// query text is kept as written.
	createView *catalog.View
	orReplace  bool
	// rewritten is the text TiDB parsed; origin maps its offsets back.
	rewritten string
	origin    []int
	nulls     map[int]bool
	marks     *preMarks // LIMIT operands, MATERIALIZED choices
	// pg is a PostgreSQL session or transaction statement (SET, SHOW,
	// DISCARD, BEGIN …), recognised before TiDB's parser.
	pg *pgCommand
	// prep is PREPARE, EXECUTE or DEALLOCATE, also recognised before.
	prep *prepCommand
}

// Statement is a planned statement.
type Statement struct {
	Kind StatementKind
	Text string
	Plan *physical.Plan
	// Analyze is set for EXPLAIN ANALYZE.
	Analyze bool
	// Table is the target of DDL / INSERT as a qualified name.
	Table       []string
	TableSchema *arrow.Schema
	// TableVersion is the version of memory table Table that a DELETE or
	// UPDATE read (catalog.MemTable.Replace).
	TableVersion uint64
	// NewName is the new name of ALTER TABLE … RENAME TO.
	NewName     []string
	IfExists    bool
	IfNotExists bool
	// Tag is the command tag a client sees (SELECT, CREATE TABLE, INSERT…).
	Tag string
	// View is the view CREATE VIEW stores (OrReplace: replace one).
	View      *catalog.View
	OrReplace bool
	// Rules counts the optimizer rules that fired while planning.
	Rules map[string]int
	// Logical is the optimized logical plan as text (for tests and EXPLAIN).
	Logical string
	// ParamTypes are the types of $1, $2, … (declared or inferred).
	ParamTypes []arrow.DataType
	// generic is set on a plan made with Params.Generic that can be kept
	// (see Generic).
	generic *genericPlan
	// Name is the prepared statement of PREPARE, EXECUTE and DEALLOCATE
	// ("" for DEALLOCATE ALL).
	Name string
	// Body is PREPARE's statement and PrepareTypes its declared
	// parameter types.
	Body         *Parsed
	PrepareTypes []arrow.DataType
	prep         *prepCommand // PREPARE's body offset, EXECUTE's arguments
}

// ConstEvaluator evaluates an expression that has no column references and
// returns its value (Literal.Value form). The planner uses it for constant
// folding; the coordinator provides it (backed by exec's kernels) so the
// planner needs no kernels of its own.
type ConstEvaluator func(e physical.Expr) (any, error)

// Planner plans statements against a catalog.
type Planner struct {
	Catalog *catalog.Catalog
	Eval    ConstEvaluator
	// Disabled names optimizer rules to skip.
	Disabled map[string]bool
	// Parallelism is the number of instances scan fragments run with per
	// executor (0: GOMAXPROCS).
	Parallelism int
	// Instances, if set, returns the number of instances a parallel
	// fragment runs with over the whole cluster at planning time; it
	// overrides Parallelism in costing (a broadcast is sent to each).
	Instances func() int
	// PartitionGroups is the estimated number of groups from which the
	// final phase of a grouped aggregate runs partitioned over the
	// instances (0: DefaultPartitionGroups; negative: always).
	PartitionGroups int
}

// ParseAll splits sql into statements and parses each. A syntax error names
// the position in sql.
func ParseAll(sql string) ([]*Parsed, error) { return parseAll(sql) }

// Plan binds, optimizes and physically plans one parsed statement. Statements
// that change the session (SET, USE) update sess.
func (p *Planner) Plan(ctx context.Context, sess *Session, stmt *Parsed) (*Statement, error) {
	return p.plan(ctx, sess, stmt)
}

// PlanParams is Plan for a statement with $n placeholders. With
// params.Values nil the plan is for describing only: its parameters are
// NULL, so it must not be run.
func (p *Planner) PlanParams(ctx context.Context, sess *Session, stmt *Parsed, params *Params) (*Statement, error) {
	if params == nil {
		params = &Params{}
	}
	return p.planWith(ctx, sess, stmt, params)
}

// Explain renders stmt's plan as text, one operator per line, with the
// figures from stats (nil for plain EXPLAIN).
func Explain(stmt *Statement, stats map[int]physical.OperatorStats) string {
	return explain(stmt, stats)
}
