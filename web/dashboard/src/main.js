// pinpipe dashboard: the page. Builds the layout, wires the URL state, the refresh control and
// the panels; every panel loads its endpoints of the dashboard API on each refresh.
import './style.css';
import { askTokenAgain, buildUrl, getJson, onTokenChange } from './api.js';
import { h } from './dom.js';
import { fmtAgo } from './format.js';
import { filterBar } from './filters.js';
import { Refresher } from './refresh.js';
import * as urlState from './state.js';
import { healthPanel } from './panels/health.js';
import { throughputPanel } from './panels/throughput.js';
import { freshnessPanel } from './panels/freshness.js';
import { kafkaPanel } from './panels/kafka.js';
import { lambdaPanel } from './panels/lambda.js';
import { analyticsPanel } from './panels/analytics.js';
import { qualityPanel } from './panels/quality.js';
import { schedulerPanel } from './panels/scheduler.js';

const WINDOW_LABELS = { '5m': '5 min', '1h': '1 h', '24h': '24 h' };

function windowSwitch() {
  const group = h('div', { class: 'segmented', role: 'radiogroup', 'aria-label': 'Time window of the charts', testid: 'window-switch' });
  const buttons = urlState.WINDOWS.map((w) => h('button', {
    type: 'button', role: 'radio', testid: `window-${w}`,
    onclick: () => urlState.update({ window: w }),
  }, WINDOW_LABELS[w]));
  group.append(...buttons);
  group.addEventListener('keydown', (e) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const i = urlState.WINDOWS.indexOf(urlState.get().window);
    const next = urlState.WINDOWS[(i + (e.key === 'ArrowRight' ? 1 : urlState.WINDOWS.length - 1)) % urlState.WINDOWS.length];
    urlState.update({ window: next });
    buttons[urlState.WINDOWS.indexOf(next)].focus();
    e.preventDefault();
  });
  const sync = (state) => buttons.forEach((b, i) => {
    const on = urlState.WINDOWS[i] === state.window;
    b.setAttribute('aria-checked', String(on));
    b.tabIndex = on ? 0 : -1;
  });
  return { element: h('span', { class: 'control' }, h('span', { class: 'label' }, 'Window'), group), sync };
}

function main() {
  const app = document.getElementById('app');
  const state = urlState.get();
  const panels = [healthPanel(), throughputPanel(), freshnessPanel(), kafkaPanel(), lambdaPanel(), analyticsPanel(),
    qualityPanel(), schedulerPanel()];
  const filters = filterBar();
  const win = windowSwitch();

  const intervalSel = h('select', { id: 'refresh-interval', testid: 'refresh-interval' },
    urlState.INTERVALS.map((s) => h('option', { value: String(s) }, s < 60 ? `${s} s` : `${s / 60} min`)));
  const pause = h('button', { type: 'button', testid: 'refresh-pause', 'aria-pressed': 'false' }, 'Pause');
  const now = h('button', { type: 'button', testid: 'refresh-now' }, 'Refresh now');
  const statusText = h('span', { class: 'refresh-status', role: 'status', 'aria-live': 'off', testid: 'refresh-status' }, 'loading…');
  const tokenButton = h('button', { type: 'button', class: 'small', testid: 'token-button', onclick: () => askTokenAgain().then(() => refresher.refreshNow(), () => {}) }, 'Token');
  let lastStatus = { mode: 'connecting', lastUpdated: null, running: true, paused: false };

  const renderStatus = () => {
    const s = lastStatus;
    const ago = s.lastUpdated ? `updated ${fmtAgo((Date.now() - s.lastUpdated) / 1000)}` : 'not updated yet';
    const mode = s.paused ? 'paused' : s.mode === 'live' ? 'live (server events)' : s.mode === 'polling' ? 'polling' : 'connecting';
    statusText.textContent = `${ago} · ${mode}${s.running ? ' · refreshing…' : ''}`;
    statusText.dataset.mode = s.paused ? 'paused' : s.mode;
    statusText.dataset.updated = s.lastUpdated ? String(s.lastUpdated) : '';
  };

  // One fetch per URL per refresh, shared by the panels that show the same endpoint.
  const refreshAll = async () => {
    const memo = new Map();
    const fetch = (path, params) => {
      const url = buildUrl(path, params);
      if (!memo.has(url)) memo.set(url, getJson(url));
      return memo.get(url);
    };
    const current = urlState.get();
    await Promise.allSettled([
      filters.load(fetch, current).catch(() => {}),
      ...panels.map((p) => p.load(fetch, current)),
    ]);
    document.body.dataset.refreshes = String(Number(document.body.dataset.refreshes || 0) + 1);
  };

  const refresher = new Refresher({
    run: refreshAll, intervalS: Number(state.refresh), paused: state.paused === '1',
    onStatus: (s) => { lastStatus = s; renderStatus(); },
  });

  intervalSel.value = state.refresh;
  intervalSel.addEventListener('change', () => urlState.update({ refresh: intervalSel.value }));
  pause.addEventListener('click', () => urlState.update({ paused: urlState.get().paused === '1' ? '' : '1' }));
  now.addEventListener('click', () => refresher.refreshNow());

  const syncControls = (s) => {
    win.sync(s);
    intervalSel.value = s.refresh;
    pause.setAttribute('aria-pressed', String(s.paused === '1'));
    pause.textContent = s.paused === '1' ? 'Resume' : 'Pause';
    filters.sync(s);
  };
  syncControls(state);

  urlState.subscribe((changed, s) => {
    syncControls(s);
    if (changed.includes('refresh')) refresher.setInterval(Number(s.refresh));
    if (changed.includes('paused')) refresher.setPaused(s.paused === '1');
    if (changed.some((k) => k !== 'refresh' && k !== 'paused')) refresher.refreshNow();
  });
  onTokenChange(() => refresher.connect());

  const nav = h('nav', { 'aria-label': 'Panels' }, h('ul', null, panels.map((p) => {
    const title = p.panel.element.querySelector('h2').textContent;
    return h('li', null, h('a', { href: `#${p.panel.id}` }, title.replace(/:.*$/, '')));
  })));

  app.append(
    h('header', { class: 'top' },
      h('div', { class: 'brand' }, h('h1', null, 'pinpipe'), h('span', { class: 'muted' }, 'lambda pipeline dashboard')),
      h('div', { class: 'refresh', testid: 'refresh-control' },
        win.element,
        h('span', { class: 'control' }, h('label', { for: 'refresh-interval' }, 'Refresh every'), intervalSel),
        pause, now, statusText, tokenButton)),
    filters.element,
    nav,
    h('main', { class: 'panels' }, panels.map((p) => p.panel.element)),
    h('footer', { class: 'muted page-footer' }, 'Read-only. API: ', h('a', { href: '/openapi.json' }, '/openapi.json')));

  // "N s ago" texts keep counting between refreshes.
  setInterval(() => {
    renderStatus();
    const t = Date.now();
    for (const el of document.querySelectorAll('[data-ago-ref]')) {
      el.textContent = fmtAgo((t - Number(el.dataset.agoRef)) / 1000);
    }
  }, 1000);

  refresher.start();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', main);
else main();
