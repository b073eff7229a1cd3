// What `cargo xtask ci` needs to do to PostgreSQL around the interop test, with the same
// driver as the app: create and drop the test's schema, and look at rows.
//
//   node admin.js create-schema NAME | drop-schema NAME | get SCHEMA SID
//
// Prints the answer on stdout (`get`: the live row's `sess` text, or nothing).

import pg from "pg";

const [command, schema, sid] = process.argv.slice(2);
const quote = (name) => `"${String(name).replaceAll('"', '""')}"`;
const table = process.env.PG_TABLE || "session";
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
try {
  if (command === "create-schema") {
    await client.query(`CREATE SCHEMA ${quote(schema)}`);
  } else if (command === "drop-schema") {
    await client.query(`DROP SCHEMA IF EXISTS ${quote(schema)} CASCADE`);
  } else if (command === "get") {
    const { rows } = await client.query(
      `SELECT sess::text AS sess FROM ${quote(schema)}.${quote(table)} WHERE sid = $1 AND expire >= to_timestamp($2)`,
      [sid, Math.ceil(Date.now() / 1000)],
    );
    process.stdout.write(rows[0]?.sess ?? "");
  } else {
    throw new Error(`unknown command ${JSON.stringify(command)}`);
  }
} finally {
  await client.end();
}
