// Full browser test (issue 12, section 4): the real `pinpipe dashboard` with the pipeline running
// and the emulator posting. In Debian's Chromium: every panel renders without console errors;
// the ingest and row counts increase between two refreshes; each of the analytics tables (the 8
// questions) equals a direct SQL query over the merged views (psql); a filter changes the
// analytics and the URL (and still equals SQL); every table's CSV export equals the table; a
// screenshot goes to the artifacts.
//
// Only three things differ from the page-only test: the base URL, the PostgreSQL DSN and the
// readiness wait.
//   PINPIPE_DASHBOARD_URL        the dashboard, e.g. http://127.0.0.1:8080 (required)
//   PINPIPE_DASHBOARD_PG_DSN     libpq DSN of the database with schema serving
//                                (pinterest_streaming), for psql (required)
//   PINPIPE_DASHBOARD_READY_S    readiness wait: seconds until /healthz answers and the API shows
//                                records in Kafka and analytics rows (default 180)
// Optional:
//   PINPIPE_DASHBOARD_TOKEN      the bearer token (put in sessionStorage before the page loads)
//   PINPIPE_TEST_EMULATOR_CTL    a command taking `stop` / `start`: with it, the unfiltered
//                                answers are compared too, with posting paused and the speed
//                                layer caught up (live data cannot equal a later SQL snapshot)
//   PINPIPE_STREAM_GROUP         the speed layer's consumer group (default pinpipe-stream), as
//                                the pipeline was given it
//   PINPIPE_DASHBOARD_BOUNDARY=1 readiness also waits for the batch layer's boundary (a run
//                                that loaded a history), and the lambda panel must show it
//   PINPIPE_TEST_ARTIFACTS       where the screenshot goes ($PINPIPE_STATE_DIR/test/artifacts)
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import {
  csvMismatch, kpiNumber, launch, PANELS, readTable, refreshCount, screenshot, tableIds, waitForPanels, waitForRefreshAfter,
} from './lib/browser.mjs';
import { analyticsQuery, tableDiff } from './lib/sql.mjs';

const BASE = (process.env.PINPIPE_DASHBOARD_URL || '').replace(/\/$/, '');
const DSN = process.env.PINPIPE_DASHBOARD_PG_DSN || '';
const READY_S = Number(process.env.PINPIPE_DASHBOARD_READY_S || 180);
const TOKEN = process.env.PINPIPE_DASHBOARD_TOKEN || '';
const EMULATOR_CTL = process.env.PINPIPE_TEST_EMULATOR_CTL || '';
const STREAM_GROUP = process.env.PINPIPE_STREAM_GROUP || 'pinpipe-stream';
const WANT_BOUNDARY = process.env.PINPIPE_DASHBOARD_BOUNDARY === '1';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const headers = TOKEN ? { Authorization: `Bearer ${TOKEN}` } : {};

async function api(path) {
  const response = await fetch(`${BASE}${path}`, { headers });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

// Readiness: the dashboard answers, Kafka holds records and the merged view has posts.
async function waitReady() {
  const deadline = Date.now() + READY_S * 1000;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const health = await fetch(`${BASE}/healthz`);
      if (health.ok) {
        const kafka = await api('/api/kafka');
        const records = kafka.topics.reduce((a, t) => a + t.high_watermark, 0);
        const analytics = await api('/api/analytics');
        const q1 = analytics.tables.find((t) => t.id === 'q1_popular_category_by_country');
        const boundary = WANT_BOUNDARY ? (await api('/api/lambda')).boundary : 'not asked';
        if (records > 0 && q1 && q1.rows.length > 0 && boundary) return;
        last = `records in Kafka ${records}, q1 rows ${q1 ? q1.rows.length : 'none'}, boundary ${boundary}`;
      } else {
        last = `/healthz ${health.status}`;
      }
    } catch (e) {
      last = e.message;
    }
    await sleep(1000);
  }
  throw new Error(`the dashboard at ${BASE} was not ready within ${READY_S}s (${last})`);
}

function utcDay(offsetDays = 0) {
  return new Date(Date.now() + offsetDays * 86400_000).toISOString().slice(0, 10);
}

async function openDashboard(browser, query = '') {
  const page = await browser.newPage();
  if (TOKEN) await page.addInitScript((t) => sessionStorage.setItem('pinpipe.dashboard.token', t), TOKEN);
  await page.goto(`${BASE}/${query}`);
  return page;
}

// Every analytics table of the page equals SQL for the page's filters.
async function compareAnalyticsWithSql(page, filters) {
  const ids = (await tableIds(page)).filter((id) => id.startsWith('analytics-')).map((id) => id.slice('analytics-'.length));
  assert.equal(ids.length, 10, `the 8 questions are 10 tables (${ids.join(', ')})`);
  let rows = 0;
  for (const id of ids) {
    const shown = await readTable(page, `analytics-${id}`);
    const diff = tableDiff(shown, analyticsQuery(DSN, id, filters));
    assert.equal(diff, null, `${id} with ${JSON.stringify(filters)}: ${diff}`);
    rows += shown.rows.length;
  }
  return rows;
}

// Applies filters through the filter bar (undefined = leave as is, '' = clear), waits until the
// analytics panel shows answers for exactly the URL's filters, then pauses the page so its tables
// stay as they are while SQL runs.
async function setFilters(page, filters) {
  const version = Number(await page.getAttribute('[data-testid="panel-analytics"]', 'data-version'));
  if ((await page.getAttribute('[data-testid="refresh-pause"]', 'aria-pressed')) === 'true') {
    await page.click('[data-testid="refresh-pause"]');
  }
  if (filters.clear) await page.click('[data-testid="filter-clear"]');
  if (filters.from !== undefined) await page.fill('[data-testid="filter-from"]', filters.from);
  if (filters.to !== undefined) await page.fill('[data-testid="filter-to"]', filters.to);
  if (filters.country !== undefined) await page.selectOption('[data-testid="filter-country"]', filters.country);
  await page.waitForFunction((v) => {
    const q = new URL(location.href).searchParams;
    const expected = ['from', 'to', 'category', 'country', 'age_group'].filter((k) => q.get(k)).map((k) => `${k} = ${q.get(k)}`).join(', ') || 'none';
    const panel = document.querySelector('[data-testid="panel-analytics"]');
    const shown = document.querySelector('[data-testid="analytics-filters"]');
    return Number(panel.dataset.version) > v && panel.dataset.state === 'ok' && shown && shown.textContent === expected;
  }, version, { timeout: 60_000 });
  await page.click('[data-testid="refresh-pause"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="refresh-status"]').dataset.mode === 'paused');
}

describe('dashboard on the running pipeline', { timeout: 900_000 }, () => {
  let browser;
  before(async () => {
    assert.ok(BASE, 'PINPIPE_DASHBOARD_URL is not set');
    assert.ok(DSN, 'PINPIPE_DASHBOARD_PG_DSN is not set');
    await waitReady();
    browser = await launch();
  });
  after(async () => {
    if (browser) await browser.close();
  });

  test('every panel renders without console errors; counts increase between two refreshes', async () => {
    const page = await openDashboard(browser);
    const states = await waitForPanels(page, { timeout: 60_000 });
    for (const id of PANELS) assert.equal(states[id].state, 'ok', `${id}: ${states[id].error}`);
    const records = await kpiNumber(page, 'kpi-kafka-records');
    const rows = await kpiNumber(page, 'kpi-speed-rows');
    assert.ok(records > 0, `records in Kafka: ${records}`);
    assert.ok(rows > 0, `speed-layer rows: ${rows}`);
    // The emulator keeps posting: within a few refreshes both counts move.
    const deadline = Date.now() + 60_000;
    let moved = false;
    while (!moved && Date.now() < deadline) {
      await waitForRefreshAfter(page, await refreshCount(page), 30_000);
      moved = (await kpiNumber(page, 'kpi-kafka-records')) > records && (await kpiNumber(page, 'kpi-speed-rows')) > rows;
    }
    assert.ok(moved, `counts did not increase within 60 s (Kafka ${records} -> ${await kpiNumber(page, 'kpi-kafka-records')}, ` +
      `speed rows ${rows} -> ${await kpiNumber(page, 'kpi-speed-rows')})`);
    if (WANT_BOUNDARY) {
      // Batch days and live speed rows side by side: the rows per day (whole-table views, read
      // again once a day was loaded) come with the boundary marked where batch ends.
      await page.waitForSelector('[data-testid="lambda-boundary-mark"]', { timeout: 90_000 });
    }
    assert.deepEqual(page.problems, []);
    await screenshot(page, 'dashboard-pipeline.png');
    await page.close();
  });

  test('the analytics tables equal SQL over the merged views; a filter changes them and the URL', async () => {
    const page = await openDashboard(browser);
    await waitForPanels(page, { timeout: 60_000 });
    // Days before today do not change while the emulator posts (it posts today's records), so
    // their answers can be compared with SQL while the pipeline runs.
    const filters = await api('/api/filters');
    const yesterday = utcDay(-1);
    const stable = filters.days && filters.days.min && filters.days.min <= yesterday;
    if (stable) {
      await setFilters(page, { from: filters.days.min, to: yesterday });
      const url = new URL(page.url());
      assert.equal(url.searchParams.get('to'), yesterday);
      const rows = await compareAnalyticsWithSql(page, { from: filters.days.min, to: yesterday });
      assert.ok(rows > 0, 'the days before today have answers (the run loads a history)');
      // A country filter on top: the URL and the answers change, and still equal SQL.
      const q1 = await readTable(page, 'analytics-q1_popular_category_by_country');
      const country = q1.rows[0][0];
      await setFilters(page, { country });
      assert.equal(new URL(page.url()).searchParams.get('country'), country);
      const filtered = await readTable(page, 'analytics-q1_popular_category_by_country');
      assert.ok(filtered.rows.every((r) => r[0] === country), 'q1 shows only the filtered country');
      assert.notDeepEqual(filtered.rows, q1.rows);
      await compareAnalyticsWithSql(page, { from: filters.days.min, to: yesterday, country });
    }
    if (EMULATOR_CTL) {
      // Unfiltered: pause posting, wait until the speed layer has caught up and the dashboard
      // has refreshed after that, then compare.
      execFileSync(EMULATOR_CTL, ['stop'], { stdio: 'inherit' });
      try {
        const deadline = Date.now() + 120_000;
        let lag = null;
        while (Date.now() < deadline) {
          const kafka = await api('/api/kafka');
          const partitions = kafka.consumers.filter((c) => c.group === STREAM_GROUP);
          lag = partitions.length > 0 ? partitions.reduce((a, c) => a + c.lag, 0) : null;
          if (lag === 0) break;
          await sleep(1000);
        }
        assert.equal(lag, 0, `the speed layer (group ${STREAM_GROUP}) caught up after posting stopped`);
        await sleep(5000); // > one refresh interval of the dashboard after the last row
        await setFilters(page, { clear: true });
        assert.ok(await compareAnalyticsWithSql(page, {}) > 0);
      } finally {
        execFileSync(EMULATOR_CTL, ['start'], { stdio: 'inherit' });
      }
    } else if (!stable) {
      assert.fail('nothing to compare: no day before today in the data and no PINPIPE_TEST_EMULATOR_CTL to pause posting');
    }
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('every table exports as CSV equal to the table', async () => {
    const page = await openDashboard(browser, '?paused=1');
    await waitForPanels(page, { timeout: 60_000 });
    const ids = await tableIds(page);
    assert.ok(ids.length >= 20, `${ids.length} tables`);
    for (const id of ids) assert.equal(await csvMismatch(page, id), null);
    assert.deepEqual(page.problems, []);
    await page.close();
  });
});
