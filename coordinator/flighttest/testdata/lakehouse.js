// Runs commands with @lakehouse-rs/flight-sql-client (Rust arrow-flight):
// node lakehouse.js HOST PORT USER PASSWORD 'JSON commands'
// A command is {"query": SQL} or {"tables": {getTables options}}; prints a
// JSON array of results ({columns, rows}) or {"error": message}.
const { createFlightSqlClient } = require('@lakehouse-rs/flight-sql-client');
const { tableFromIPC } = require('apache-arrow');
const { rowsOf } = require('./common.js');

async function main() {
  const [host, port, username, password, commands] = process.argv.slice(2);
  const client = await createFlightSqlClient({
    host, port: Number(port), username, password, tls: false, headers: [],
  });
  const out = [];
  for (const cmd of JSON.parse(commands)) {
    try {
      let buf;
      if (cmd.query !== undefined) buf = await client.query(cmd.query);
      else if (cmd.tables !== undefined) buf = await client.getTables(cmd.tables);
      else if (cmd.schemas !== undefined) buf = await client.getDbSchemas(cmd.schemas);
      const table = tableFromIPC(buf);
      out.push(rowsOf(table.schema, table.batches));
    } catch (e) {
      out.push({ error: String(e && e.message || e) });
    }
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch(e => { console.error(e); process.exit(1); });
