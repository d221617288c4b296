// Page-only browser test: the dashboard page (the built bundle) in Debian's Chromium against the
// fixture server (fixtures/server.mjs: the API contract from JSON files, made live). Runs in
// scripts/test without the pipeline. What it checks: every panel renders without console errors
// and shows API bytes as text; counts move between refreshes; filters and the window change the
// requests and the URL and survive a reload; every table's CSV export equals the table; a failing
// endpoint breaks only its panel; a 401 asks for the token once; pause stops refreshing; the
// scheduler's task log opens; controls are labelled.
//
//   node --test tests/browser/page.test.mjs
// Environment: PINPIPE_DASHBOARD_DIST (default build/ci/web/dashboard/dist), PINPIPE_TEST_CHROMIUM.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startFixtureServer } from './fixtures/server.mjs';
import {
  csvMismatch, kpiNumber, launch, PANELS, readTable, refreshCount, screenshot, tableIds, waitForPanels, waitForRefreshAfter,
} from './lib/browser.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = process.env.PINPIPE_DASHBOARD_DIST || path.join(root, 'build/ci/web/dashboard/dist');

describe('dashboard page against the fixture server', { timeout: 240_000 }, () => {
  let server;
  let browser;
  before(async () => {
    assert.ok(fs.existsSync(path.join(dist, 'index.html')), `${dist}/index.html missing: build first (scripts/build ci)`);
    server = await startFixtureServer({ dist, eventsMs: 1000 });
    browser = await launch();
  });
  after(async () => {
    if (browser) await browser.close();
    if (server) await server.close();
  });

  test('every panel renders, without console errors, API bytes shown as text', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    const states = await waitForPanels(page);
    for (const id of PANELS) assert.equal(states[id].state, 'ok', `${id}: ${states[id].error}`);
    assert.equal(await page.locator('[data-testid^="stage-"][data-testid$="-status"]').count(), 6);
    assert.match(await page.textContent('[data-testid="stage-batch-status"]'), /down/);
    assert.match(await page.textContent('[data-testid="stage-archiver-stale"]'), /stale/);
    const charts = ['chart-throughput', 'chart-latency', 'chart-freshness', 'chart-lag'];
    for (const id of charts) {
      assert.ok(Number(await page.getAttribute(`[data-testid="${id}"]`, 'data-points')) > 10, `${id} has points`);
      assert.equal(await page.locator(`[data-testid="${id}"] canvas`).count(), 1, `${id} draws`);
    }
    assert.equal(await page.locator('[data-testid="lambda-boundary-mark"]').count(), 1);
    const analytics = await page.locator('table[data-testid^="analytics-"]').count();
    assert.equal(analytics, 10, 'the 8 questions make 10 tables');
    // The peek holds markup and a script tag: shown as text, never run.
    const messages = await readTable(page, 'table-kafka-messages');
    assert.ok(messages.rows.some((r) => r[5].startsWith('<img src=x onerror=')), 'markup shown as text');
    assert.equal(await page.evaluate(() => document.body.dataset.pwned), undefined);
    assert.equal(await page.locator('[data-testid="table-kafka-messages"] img').count(), 0);
    const dead = await readTable(page, 'table-dead-letters');
    assert.ok(dead.rows[0][6].includes('<b>bold?</b>'));
    assert.deepEqual(page.problems, []);
    await screenshot(page, 'dashboard-fixtures.png');
    await page.close();
  });

  test('counts increase between two refreshes, SSE drives them', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await waitForPanels(page);
    const records = await kpiNumber(page, 'kpi-kafka-records');
    const rows = await kpiNumber(page, 'kpi-speed-rows');
    assert.ok(records > 0 && rows > 0);
    // A table scrolled by the reader stays scrolled through refreshes, and the focused control
    // keeps the focus although the panel's content is rebuilt.
    const box = '[data-testid="table-kafka-consumers-block"] .table-scroll';
    // (Scrolled, then a frame passes so the scroll event is dispatched; again if a refresh
    // replaced the table meanwhile.)
    for (let attempt = 0; ; attempt++) {
      const kept = await page.$eval(box, async (el) => {
        el.scrollTop = 60;
        await new Promise((resolve) => { requestAnimationFrame(() => setTimeout(resolve, 0)); });
        return el.isConnected && el.scrollTop === 60;
      });
      if (kept) break;
      assert.ok(attempt < 5, 'the consumers table can be scrolled by 60 px');
    }
    await page.focus('[data-testid="table-kafka-topics-csv"]');
    const kafkaVersion = Number(await page.getAttribute('[data-testid="panel-kafka"]', 'data-version'));
    const n = await refreshCount(page);
    await waitForRefreshAfter(page, n + 1);
    assert.ok(Number(await page.getAttribute('[data-testid="panel-kafka"]', 'data-version')) > kafkaVersion);
    assert.equal(await page.$eval(box, (el) => el.scrollTop), 60);
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.testid), 'table-kafka-topics-csv');
    assert.ok(await kpiNumber(page, 'kpi-kafka-records') > records, 'records in Kafka grow');
    assert.ok(await kpiNumber(page, 'kpi-speed-rows') > rows, 'speed rows grow');
    assert.equal(await page.getAttribute('[data-testid="refresh-status"]', 'data-mode'), 'live');
    assert.match(await page.textContent('[data-testid="refresh-status"]'), /updated \d+ s ago/);
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('a filter changes the analytics, the requests and the URL; a reload restores it', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await waitForPanels(page);
    const before = await readTable(page, 'analytics-q1_popular_category_by_country');
    const version = Number(await page.getAttribute('[data-testid="panel-analytics"]', 'data-version'));
    await page.selectOption('[data-testid="filter-country"]', 'Chile');
    await page.fill('[data-testid="filter-from"]', '2026-12-04');
    await page.waitForFunction((v) => Number(document.querySelector('[data-testid="panel-analytics"]').dataset.version) > v, version);
    await page.waitForFunction(() => document.querySelector('[data-testid="analytics-filters"]').textContent.includes('from'));
    const url = new URL(page.url());
    assert.equal(url.searchParams.get('country'), 'Chile');
    assert.equal(url.searchParams.get('from'), '2026-12-04');
    const q1 = await readTable(page, 'analytics-q1_popular_category_by_country');
    assert.notDeepEqual(q1.rows, before.rows);
    assert.ok(q1.rows.length > 0 && q1.rows.every((r) => r[0] === 'Chile'));
    const last = server.requests.filter((r) => r.path === '/api/analytics').at(-1);
    assert.deepEqual(last.query, { from: '2026-12-04', country: 'Chile' });
    const lambda = server.requests.filter((r) => r.path === '/api/lambda').at(-1);
    assert.deepEqual(lambda.query, { from: '2026-12-04' }, 'the lambda view gets the dates only');
    // The window switch.
    await page.click('[data-testid="window-1h"]');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('window') === '1h');
    await page.waitForFunction(() => document.querySelector('[data-testid="window-1h"]').getAttribute('aria-checked') === 'true');
    // Reload: everything comes back from the URL.
    await page.reload();
    await waitForPanels(page);
    assert.equal(await page.inputValue('[data-testid="filter-country"]'), 'Chile');
    assert.equal(await page.inputValue('[data-testid="filter-from"]'), '2026-12-04');
    assert.equal(await page.getAttribute('[data-testid="window-1h"]', 'aria-checked'), 'true');
    const throughput = server.requests.filter((r) => r.path === '/api/throughput').at(-1);
    assert.deepEqual(throughput.query, { window: '1h' });
    assert.deepEqual((await readTable(page, 'analytics-q1_popular_category_by_country')).rows, q1.rows);
    // Clearing the filters empties the URL's filter keys.
    await page.click('[data-testid="filter-clear"]');
    await page.waitForFunction(() => !new URL(location.href).searchParams.has('country'));
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('every table exports as RFC 4180 CSV equal to the table', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/?paused=1`);
    await waitForPanels(page);
    const ids = await tableIds(page);
    assert.ok(ids.length >= 20, `${ids.length} tables`);
    for (const id of ids) assert.equal(await csvMismatch(page, id), null);
    // Quotes, commas and newlines are escaped: one of the fixtures has each.
    const q3 = await readTable(page, 'analytics-q3_top_poster_by_country');
    assert.ok(q3.rows.some((r) => r[1].includes('"')) && q3.rows.some((r) => r[0].includes(',')));
    assert.deepEqual(page.problems, []);
    await page.close();
  });

  test('a failing endpoint shows its error in its panel only', async () => {
    server.fail['/api/quality'] = 500;
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}/`);
      await page.waitForFunction(() => document.querySelector('[data-testid="panel-quality"]').dataset.state === 'error');
      await waitForPanels(page, { panels: PANELS.filter((p) => p !== 'quality') });
      assert.match(await page.textContent('[data-testid="panel-quality-error"]'), /500: injected failure of \/api\/quality/);
      for (const id of PANELS.filter((p) => p !== 'quality')) {
        assert.equal(await page.getAttribute(`[data-testid="panel-${id}"]`, 'data-state'), 'ok', id);
      }
      await page.close();
    } finally {
      delete server.fail['/api/quality'];
    }
  });

  test('pause stops refreshing and is kept in the URL', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await waitForPanels(page);
    await page.click('[data-testid="refresh-pause"]');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('paused') === '1');
    assert.equal(await page.getAttribute('[data-testid="refresh-pause"]', 'aria-pressed'), 'true');
    assert.equal(await page.getAttribute('[data-testid="refresh-status"]', 'data-mode'), 'paused');
    const n = await refreshCount(page);
    await page.waitForTimeout(3000);
    assert.equal(await refreshCount(page), n, 'no refresh while paused');
    await page.click('[data-testid="refresh-pause"]');
    await waitForRefreshAfter(page, n);
    await page.selectOption('[data-testid="refresh-interval"]', '10');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('refresh') === '10');
    await page.close();
  });

  test('the scheduler shows a task log as text; controls are labelled; headings are in order', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await waitForPanels(page);
    await page.locator('[data-testid="task-log-button"]').last().click();
    await page.waitForFunction(() => document.querySelector('[data-testid="task-log"]')?.textContent.includes('done'));
    const log = await page.textContent('[data-testid="task-log"]');
    assert.match(log, /batch_load try 3/);
    assert.match(log, /<b>not bold<\/b>/);
    const unlabelled = await page.evaluate(() => [...document.querySelectorAll('input, select')]
      .filter((el) => el.labels.length === 0 && !el.getAttribute('aria-label')).map((el) => el.outerHTML));
    assert.deepEqual(unlabelled, []);
    assert.equal(await page.locator('h1').count(), 1);
    assert.equal(await page.locator('section[data-testid^="panel-"] > header > h2').count(), PANELS.length);
    // The window switch works from the keyboard.
    await page.focus('[data-testid="window-5m"]');
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => new URL(location.href).searchParams.get('window') === '1h');
    assert.deepEqual(page.problems, []);
    await page.close();
  });
});

describe('dashboard page with a bearer token', { timeout: 120_000 }, () => {
  let server;
  let browser;
  before(async () => {
    server = await startFixtureServer({ dist, token: 'fixture-secret' });
    browser = await launch();
  });
  after(async () => {
    if (browser) await browser.close();
    if (server) await server.close();
  });

  test('a 401 asks for the token once, keeps it for the session, and everything loads', async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/`);
    await page.waitForSelector('[data-testid="token-dialog"]');
    assert.equal(await page.locator('[data-testid="token-dialog"]').count(), 1, 'one question for all panels');
    await page.fill('[data-testid="token-input"]', 'fixture-secret');
    await page.click('[data-testid="token-submit"]');
    const states = await waitForPanels(page);
    for (const id of PANELS) assert.equal(states[id].state, 'ok', `${id}: ${states[id].error}`);
    assert.equal(await page.evaluate(() => sessionStorage.getItem('pinpipe.dashboard.token')), 'fixture-secret');
    await page.waitForFunction(() => document.querySelector('[data-testid="refresh-status"]').dataset.mode === 'live');
    await page.reload();
    await waitForPanels(page);
    assert.equal(await page.locator('[data-testid="token-dialog"]').count(), 0, 'not asked again');
    // The 401s of the first load are the only console errors (Chromium logs failed requests).
    assert.ok(page.problems.every((p) => /401/.test(p)), page.problems.join('\n'));
    await page.close();
  });
});
