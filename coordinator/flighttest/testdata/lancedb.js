// Runs queries with @lancedb/arrow-flight-sql-client (TypeScript):
// node lancedb.js HOST:PORT USER PASSWORD 'JSON commands'
// A command is {"query": SQL}; prints a JSON array of results
// ({columns, rows}) or {"error": message}.
const { Client } = require('@lancedb/arrow-flight-sql-client');
const { rowsOf } = require('./common.js');

async function main() {
  const [host, username, password, commands] = process.argv.slice(2);
  const client = await Client.connect({ host, username, password, insecure: true });
  const out = [];
  for (const cmd of JSON.parse(commands)) {
    try {
      const res = await client.query(cmd.query);
      const batches = await res.collectToArrow();
      const schema = batches.length > 0 ? batches[0].schema : res.raw.schema;
      out.push(rowsOf(schema, batches));
    } catch (e) {
      out.push({ error: String(e && e.message || e) });
    }
  }
  process.stdout.write(JSON.stringify(out));
  // grpc-js keeps the channel open; nothing else is pending.
  process.exit(0);
}

main().catch(e => { console.error(e); process.exit(1); });
