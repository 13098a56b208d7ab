import type { Pool } from 'pg';

/** SQL of the narrow-row baseline that the layout benchmark compares against. */

export async function createNarrowTable(pool: Pool, table: string): Promise<void> {
  await pool.query(`CREATE TABLE ${table} (series_id int4 NOT NULL, time timestamptz NOT NULL, value float8 NOT NULL)`);
  await pool.query(`CREATE INDEX ON ${table} (series_id, time)`);
}

export async function narrowBytes(pool: Pool, table: string): Promise<number> {
  return Number((await pool.query<{ b: string }>(`SELECT pg_total_relation_size($1) AS b`, [table])).rows[0]!.b);
}

export async function narrowRead(
  pool: Pool,
  table: string,
  ids: number[],
  startMs: number,
  endMs: number,
): Promise<number> {
  const { rows } = await pool.query(
    `SELECT series_id, (extract(epoch FROM time) * 1000)::int8 AS t, value FROM ${table}
      WHERE series_id = ANY($1) AND time BETWEEN to_timestamp($2 / 1000.0) AND to_timestamp($3 / 1000.0)
      ORDER BY series_id, time`,
    [ids, startMs, endMs],
  );
  return rows.length;
}

/** avg by (Hostname) at every step, done by PostgreSQL (series i+1 belongs to hostOf[i]). */
export async function narrowHostAvg(
  pool: Pool,
  table: string,
  hostOf: string[],
  startMs: number,
  endMs: number,
): Promise<number> {
  const { rows } = await pool.query(
    `SELECT h.host, date_bin('15 seconds', n.time, to_timestamp(0)) AS t, avg(n.value)
       FROM ${table} n JOIN unnest($1::text[]) WITH ORDINALITY AS h(host, id) ON h.id = n.series_id
      WHERE n.time BETWEEN to_timestamp($2 / 1000.0) AND to_timestamp($3 / 1000.0)
      GROUP BY 1, 2`,
    [hostOf, startMs, endMs],
  );
  return rows.length;
}
