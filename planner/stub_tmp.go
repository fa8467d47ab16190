package planner

import (
	"context"

	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

func parseAll(sql string) ([]*Parsed, error) {
	return []*Parsed{{Text: sql}}, nil
}

func (p *Planner) plan(ctx context.Context, sess *Session, stmt *Parsed) (*Statement, error) {
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "planner not implemented")
}

func explain(stmt *Statement, stats map[int]physical.OperatorStats) string { return "" }
