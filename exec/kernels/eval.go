// Package kernels evaluates physical scalar expressions over Arrow record
// batches, column at a time.
package kernels

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quarrydb/quarry/catalog/sqlerr"
	"github.com/quarrydb/quarry/planner/physical"
)

// Eval evaluates e over rec and returns an array of rec.NumRows() values of
// type e.Type(). The caller releases the result.
func Eval(mem memory.Allocator, e physical.Expr, rec arrow.Record) (arrow.Array, error) {
	return nil, sqlerr.New(sqlerr.FeatureNotSupported, "expression evaluation not implemented: %s", e)
}
