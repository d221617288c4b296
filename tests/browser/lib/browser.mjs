// Drives Debian's Chromium with playwright-core (no browser download: executablePath), and
// reads the dashboard the way its tests need: panels, tables (data cells only, as the CSV export
// holds them), CSV downloads, console errors. Shared by the page-only test (fixture server) and
// the pipeline test (the real `pinpipe dashboard`).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.PINPIPE_TEST_CHROMIUM || '/usr/bin/chromium';
const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage',
];

// A fresh user-data dir per launch, removed by close(). newPage() opens a tab that records
// console errors and uncaught page errors in its `problems`.
export async function launch({ viewport = { width: 1440, height: 900 } } = {}) {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run scripts/setup (it installs Debian's chromium)`);
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pinpipe-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM, headless: true, args: FLAGS, viewport, acceptDownloads: true,
  });
  const first = context.pages()[0];
  return {
    context,
    async newPage() {
      const page = await context.newPage();
      const problems = [];
      page.on('console', (msg) => { if (msg.type() === 'error') problems.push(`console: ${msg.text()}`); });
      page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
      page.problems = problems;
      return page;
    },
    async close() {
      if (first) await first.close().catch(() => {});
      await context.close();
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

export const PANELS = ['health', 'throughput', 'freshness', 'kafka', 'lambda', 'analytics', 'quality', 'scheduler'];

// Waits until every panel has rendered at least once (data-version >= 1) and none shows an error.
export async function waitForPanels(page, { timeout = 30_000, panels = PANELS } = {}) {
  await page.waitForFunction((ids) => ids.every((id) => {
    const el = document.querySelector(`[data-testid="panel-${id}"]`);
    return el && Number(el.dataset.version) >= 1;
  }), panels, { timeout });
  const states = await page.evaluate((ids) => Object.fromEntries(ids.map((id) => {
    const el = document.querySelector(`[data-testid="panel-${id}"]`);
    return [id, { state: el.dataset.state, error: el.querySelector('[role=alert]')?.textContent || '' }];
  })), panels);
  return states;
}

// The number of completed page refreshes (body[data-refreshes]).
export async function refreshCount(page) {
  return Number(await page.evaluate(() => document.body.dataset.refreshes || 0));
}

export async function waitForRefreshAfter(page, count, timeout = 30_000) {
  await page.waitForFunction((n) => Number(document.body.dataset.refreshes || 0) > n, count, { timeout });
}

// A table's header and data cells (cells with class "extra" are not data), as strings.
export async function readTable(page, testid) {
  return page.evaluate((id) => {
    const table = document.querySelector(`table[data-testid="${id}"]`);
    if (!table) return null;
    const columns = [...table.querySelectorAll('thead th:not(.extra)')].map((th) => th.textContent);
    const rows = [...table.querySelectorAll('tbody tr')].map((tr) => [...tr.querySelectorAll('td:not(.extra)')].map((td) => td.textContent));
    return { columns, rows };
  }, testid);
}

// Clicks the table's "Export CSV" and returns the downloaded file's text. Chromium drops a
// download when a page starts many in quick succession (observed here: the 11th and the 21st of
// the test's back-to-back exports, every time; with 1.5 s between clicks none is dropped), which
// no reader clicking buttons runs into; so a click that brings no download within 5 s is made
// once more. The file must still come from a click and equal the table.
export async function downloadCsv(page, testid) {
  let lastError;
  for (const timeout of [5_000, 15_000]) {
    try {
      const [download] = await Promise.all([
        page.waitForEvent('download', { timeout }),
        page.click(`[data-testid="${testid}-csv"]`),
      ]);
      const file = await download.path();
      return { name: download.suggestedFilename(), text: fs.readFileSync(file, 'utf8') };
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError;
}

// RFC 4180 parser (for checking the export): returns rows of fields; requires CRLF records.
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let field = '';
  let i = 0;
  let quoted = false;
  while (i < text.length) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') { field += '"'; i += 2; continue; }
      if (c === '"') { quoted = false; i += 1; continue; }
      field += c;
      i += 1;
      continue;
    }
    if (c === '"' && field === '') { quoted = true; i += 1; continue; }
    if (c === ',') { row.push(field); field = ''; i += 1; continue; }
    if (c === '\r' && text[i + 1] === '\n') { row.push(field); rows.push(row); row = []; field = ''; i += 2; continue; }
    if (c === '\n' || c === '\r' || c === '"') throw new Error(`bare ${JSON.stringify(c)} at ${i}: not RFC 4180`);
    field += c;
    i += 1;
  }
  if (field !== '' || row.length) throw new Error('the last record does not end with CRLF');
  return rows;
}

export function artifactsDir() {
  const base = process.env.PINPIPE_TEST_ARTIFACTS ||
    path.join(process.env.PINPIPE_STATE_DIR || path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../.pinpipe'), 'test', 'artifacts');
  fs.mkdirSync(base, { recursive: true });
  return base;
}

// Every data table on the page (their data-testid), in page order.
export async function tableIds(page) {
  return page.evaluate(() => [...document.querySelectorAll('table[data-testid]')].map((t) => t.dataset.testid));
}

// Exports a table as CSV and compares the file with the table's cells; returns the mismatch
// (a string) or null.
export async function csvMismatch(page, testid) {
  const table = await readTable(page, testid);
  if (!table) return `${testid}: no such table`;
  let text;
  try {
    ({ text } = await downloadCsv(page, testid));
  } catch (e) {
    return `${testid}: no download (${e.message.split('\n')[0]})`;
  }
  let parsed;
  try {
    parsed = parseCsv(text);
  } catch (e) {
    return `${testid}: ${e.message}`;
  }
  const expected = [table.columns, ...table.rows];
  const a = JSON.stringify(parsed);
  const b = JSON.stringify(expected);
  return a === b ? null : `${testid}: CSV ${a.slice(0, 400)} != table ${b.slice(0, 400)}`;
}

// A headline number such as kpi-kafka-records ("12,345" -> 12345; NaN when not a number).
export async function kpiNumber(page, testid) {
  const text = await page.textContent(`[data-testid="${testid}-value"]`);
  return Number(String(text).replace(/,/g, ''));
}

export async function screenshot(page, name) {
  const file = path.join(artifactsDir(), name);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
