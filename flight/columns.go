package flight

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
)

// sqlTypeName is the SQL name of an Arrow type, as GetXdbcTypeInfo lists
// them.
func sqlTypeName(t arrow.DataType) string {
	switch t.ID() {
	case arrow.BOOL:
		return "BOOLEAN"
	case arrow.INT8:
		return "TINYINT"
	case arrow.INT16:
		return "SMALLINT"
	case arrow.INT32:
		return "INTEGER"
	case arrow.INT64:
		return "BIGINT"
	case arrow.FLOAT32:
		return "REAL"
	case arrow.FLOAT64:
		return "DOUBLE"
	case arrow.DECIMAL128, arrow.DECIMAL256:
		return "DECIMAL"
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return "VARCHAR"
	case arrow.BINARY, arrow.LARGE_BINARY:
		return "VARBINARY"
	case arrow.DATE32, arrow.DATE64:
		return "DATE"
	case arrow.TIMESTAMP:
		return "TIMESTAMP"
	case arrow.NULL:
		return "NULL"
	}
	return strings.ToUpper(t.Name())
}

// describeColumns adds the Flight SQL column metadata (type name,
// precision, scale, and the table for table columns) that JDBC's
// ResultSetMetaData and DatabaseMetaData.getColumns read to the fields of
// schema. Metadata already there is kept.
func describeColumns(schema *arrow.Schema, dbSchema, table string) *arrow.Schema {
	fields := make([]arrow.Field, schema.NumFields())
	for i, f := range schema.Fields() {
		b := flightsql.NewColumnMetadataBuilder().TypeName(sqlTypeName(f.Type)).
			IsAutoIncrement(false).IsReadOnly(true).IsSearchable(true).
			IsCaseSensitive(sqlTypeName(f.Type) == "VARCHAR")
		switch t := f.Type.(type) {
		case arrow.DecimalType:
			b.Precision(t.GetPrecision()).Scale(t.GetScale())
		case *arrow.TimestampType:
			b.Precision(26).Scale(6)
		}
		if table != "" {
			b.TableName(table)
			if dbSchema != "" {
				b.SchemaName(dbSchema)
			}
		}
		md := b.Metadata()
		keys, values := md.Keys(), md.Values()
		for j, k := range f.Metadata.Keys() {
			if md.FindKey(k) < 0 {
				keys = append(keys, k)
				values = append(values, f.Metadata.Values()[j])
			}
		}
		f.Metadata = arrow.NewMetadata(keys, values)
		fields[i] = f
	}
	md := schema.Metadata()
	return arrow.NewSchema(fields, &md)
}
