// Direct SQL over the merged views, for comparing the dashboard with PostgreSQL: psql through
// child_process (no driver dependency). Rows come back as strings ('' for NULL), as the page's
// table cells and CSV export show them.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';

export const PSQL = process.env.PINPIPE_TEST_PSQL ||
  (fs.existsSync('/usr/lib/postgresql/15/bin/psql') ? '/usr/lib/postgresql/15/bin/psql' : 'psql');

export function literal(value) {
  if (value === null || value === undefined || value === '') return 'NULL';
  return `'${String(value).replaceAll("'", "''")}'`;
}

// Runs one statement; returns {columns, rows} (header from the result, values as text).
export function query(dsn, sql) {
  const out = execFileSync(PSQL, [
    '-X', '-q', '-v', 'ON_ERROR_STOP=1', '--no-psqlrc', '-A', '-F', '\u001f', '-R', '\u001e', '-P', 'null=', '-P', 'footer=off',
    '-c', 'SET enable_nestloop = off', '-c', sql, dsn,
  ], { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, timeout: 300_000 });
  // Records end with the record separator, except the last, which psql ends with one newline.
  const [header, ...rows] = (out.endsWith('\n') ? out.slice(0, -1) : out).split('\u001e');
  return { columns: header.split('\u001f'), rows: rows.map((r) => r.split('\u001f')) };
}

// The answer of one analytics question, as the SQL function serving.<id>(from, to, category,
// country, age_group) gives it (the view serving.<id> when no filter is set).
export function analyticsQuery(dsn, id, filters = {}) {
  if (!/^q[1-8]_[a-z0-9_]+$/.test(id)) throw new Error(`not a question id: ${id}`);
  const f = ['from', 'to', 'category', 'country', 'age_group'];
  const none = f.every((k) => !filters[k]);
  const sql = none ? `SELECT * FROM serving.${id}`
    : `SELECT * FROM serving.${id}(${literal(filters.from)}::date, ${literal(filters.to)}::date, ${literal(filters.category)}, ${literal(filters.country)}, ${literal(filters.age_group)})`;
  return query(dsn, sql);
}

// Cell equality: numbers by value (psql prints 1e+06 where JSON has 1000000), the rest as text.
export function sameCell(a, b) {
  if (a === b) return true;
  if (a === '' || b === '') return false;
  const x = Number(a);
  const y = Number(b);
  return Number.isFinite(x) && Number.isFinite(y) && x === y;
}

// null when the page's table equals the SQL answer (columns, row order, cells), else a message.
export function tableDiff(page, sql) {
  if (JSON.stringify(page.columns) !== JSON.stringify(sql.columns)) {
    return `columns ${JSON.stringify(page.columns)} != SQL ${JSON.stringify(sql.columns)}`;
  }
  if (page.rows.length !== sql.rows.length) {
    return `${page.rows.length} rows != SQL ${sql.rows.length} rows; page ${JSON.stringify(page.rows.slice(0, 5))} SQL ${JSON.stringify(sql.rows.slice(0, 5))}`;
  }
  for (let i = 0; i < page.rows.length; i++) {
    const p = page.rows[i];
    const s = sql.rows[i];
    if (p.length !== s.length || p.some((cell, c) => !sameCell(cell, s[c]))) {
      return `row ${i}: page ${JSON.stringify(p)} != SQL ${JSON.stringify(s)}`;
    }
  }
  return null;
}
