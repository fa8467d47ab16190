// Drives Quarry's PostgreSQL front door with node-postgres (pg). Prints
// "PASS name" or "FAIL name: why" per check, then DONE.
const { Client } = require('pg');

async function main() {
  const client = new Client({
    host: process.argv[2], port: Number(process.argv[3]), user: 'node', database: 'quarry',
  });
  await client.connect();
  const checks = [
    ['simple', async () => {
      const r = await client.query('SELECT n_nationkey, n_name FROM nation ORDER BY n_nationkey LIMIT 3');
      if (r.rows.length !== 3 || r.rows[1].n_name !== 'ARGENTINA') throw new Error(JSON.stringify(r.rows));
      if (r.command !== 'SELECT' || r.rowCount !== 3) throw new Error(r.command + ' ' + r.rowCount);
    }],
    ['parameters', async () => {
      const r = await client.query('SELECT count(*) AS n FROM lineitem WHERE l_orderkey = $1 AND l_returnflag = $2', [1, 'N']);
      if (String(r.rows[0].n) !== '6') throw new Error(JSON.stringify(r.rows));
    }],
    ['named prepared x3', async () => {
      for (let i = 0; i < 3; i++) {
        const r = await client.query({ name: 'nat', text: 'SELECT n_name FROM nation WHERE n_nationkey = $1', values: [i] });
        const want = ['ALGERIA', 'ARGENTINA', 'BRAZIL'][i];
        if (r.rows[0].n_name !== want) throw new Error(JSON.stringify(r.rows));
      }
    }],
    ['types', async () => {
      const r = await client.query("SELECT CAST(1.50 AS DECIMAL(10,2)) AS d, CAST('2024-02-29' AS DATE) AS dt, 1 = 1 AS b, CAST(0.25 AS DOUBLE) AS f");
      const row = r.rows[0];
      if (row.d !== '1.50' || row.b !== true || row.f !== 0.25 || !(row.dt instanceof Date)) throw new Error(JSON.stringify(row));
    }],
    ['error', async () => {
      try {
        await client.query('SELECT * FROM no_such_table');
        throw new Error('no error');
      } catch (e) {
        if (e.code !== '42P01') throw e;
      }
      const r = await client.query('SELECT 1 AS one');
      if (r.rows[0].one != 1) throw new Error('after error');
    }],
  ];
  for (const [name, f] of checks) {
    try {
      await f();
      console.log('PASS ' + name);
    } catch (e) {
      console.log('FAIL ' + name + ': ' + String(e).replace(/\n/g, ' '));
    }
  }
  await client.end();
  console.log('DONE');
}

main().catch((e) => { console.log('FATAL ' + e); process.exit(1); });
