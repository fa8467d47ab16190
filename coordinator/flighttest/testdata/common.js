// Shared by the npm client scripts: render Arrow values as the Go test
// compares them (decimals at their scale, dates as YYYY-MM-DD, NULL as
// null), whatever apache-arrow version the client bundles.

// Arrow type ids (stable across apache-arrow versions).
const TYPE_INT = 2, TYPE_FLOAT = 3, TYPE_DECIMAL = 7, TYPE_DATE = 8, TYPE_TIMESTAMP = 10;

function decimalText(v, scale) {
  // apache-arrow gives the unscaled integer (a BN / Uint32Array or bigint).
  let s = (typeof v === 'bigint') ? v.toString() : String(v);
  let neg = s.startsWith('-');
  if (neg) s = s.slice(1);
  if (scale > 0) {
    s = s.padStart(scale + 1, '0');
    s = s.slice(0, s.length - scale) + '.' + s.slice(s.length - scale);
  }
  return (neg ? '-' : '') + s;
}

function cell(v, type) {
  if (v === null || v === undefined) return null;
  switch (type.typeId) {
    case TYPE_DECIMAL:
      return decimalText(v, type.scale);
    case TYPE_DATE: {
      const d = (v instanceof Date) ? v : new Date(Number(v));
      return d.toISOString().slice(0, 10);
    }
    case TYPE_FLOAT:
      return String(v);
    case TYPE_INT:
      return v.toString();
  }
  return String(v);
}

// rowsOf renders record batches (or a table) as string cells.
function rowsOf(schema, batches) {
  const fields = schema.fields;
  const rows = [];
  for (const b of batches) {
    for (let i = 0; i < b.numRows; i++) {
      const row = [];
      for (let j = 0; j < fields.length; j++) {
        row.push(cell(b.getChildAt(j).get(i), fields[j].type));
      }
      rows.push(row);
    }
  }
  return {
    columns: fields.map(f => ({ name: f.name, typeId: f.type.typeId })),
    rows,
  };
}

module.exports = { rowsOf };
