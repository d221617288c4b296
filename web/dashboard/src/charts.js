// Charts: time series with uPlot (small and fast); categorical bars as plain HTML (a bar, its
// label and its value as text, so colour is never the only signal).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { h, replace } from './dom.js';
import { fmtNumber } from './format.js';

export const COLORS = {
  accepted: '#1a7f37', rejected: '#bc4c00', unavailable: '#cf222e', rows: '#0969da',
  p50: '#0969da', p99: '#8250df', batch: '#0969da', speed: '#d4a72c',
};
const PALETTE = ['#0969da', '#bc4c00', '#1a7f37', '#8250df', '#cf222e', '#1b7c83', '#9a6700', '#57606a'];
const DASHES = [undefined, [8, 4], [2, 3], [10, 3, 2, 3]];

export function paletteColor(i) {
  return PALETTE[i % PALETTE.length];
}

// A time-series chart that keeps one uPlot instance while the set of series stays the same.
// series: [{label, color, dash?}]; update(t, [values per series]).
export class TimeChart {
  constructor({ testid, label, yLabel, height = 200, format = fmtNumber }) {
    this.testid = testid;
    this.yLabel = yLabel;
    this.height = height;
    this.format = format;
    this.plot = null;
    this.key = '';
    this.element = h('figure', { class: 'chart', testid, 'aria-label': label, role: 'img' });
    this.caption = h('figcaption', { class: 'muted' }, label);
    this.area = h('div', { class: 'chart-area' });
    this.element.append(this.caption, this.area);
    this.resize = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize({ width: this.width(), height: this.height });
    });
    this.resize.observe(this.element);
  }

  width() {
    return Math.max(240, this.element.clientWidth - 4);
  }

  update(t, series) {
    const points = t ? t.length : 0;
    const withData = series.filter((s) => s.values && s.values.some((v) => v !== null && v !== undefined));
    this.element.dataset.points = String(points);
    if (points === 0) {
      this.destroy();
      replace(this.area, h('p', { class: 'muted empty' }, 'No data in this window yet.'));
      return;
    }
    const key = series.map((s) => s.label).join('\u0000');
    const data = [t, ...series.map((s) => s.values.map((v) => (v === undefined ? null : v)))];
    if (this.plot && key === this.key) {
      this.plot.setData(data);
    } else {
      this.destroy();
      this.key = key;
      this.area.replaceChildren();
      const format = this.format;
      this.plot = new uPlot({
        width: this.width(),
        height: this.height,
        cursor: { drag: { x: false, y: false } },
        scales: { x: { time: true } },
        legend: { live: true },
        axes: [
          { stroke: '#57606a', grid: { stroke: '#eaeef2' } },
          { label: this.yLabel, stroke: '#57606a', grid: { stroke: '#eaeef2' }, size: 60,
            values: (u, splits) => splits.map((v) => format(v)) },
        ],
        series: [
          { label: 'time' },
          ...series.map((s, i) => ({
            label: s.label, stroke: s.color || paletteColor(i), width: 2, dash: s.dash || DASHES[i % DASHES.length],
            spanGaps: false, points: { show: points < 3 }, value: (u, v) => (v === null ? '–' : format(v)),
          })),
        ],
      }, data, this.area);
    }
    this.element.dataset.series = String(withData.length);
  }

  destroy() {
    if (this.plot) this.plot.destroy();
    this.plot = null;
    this.key = '';
  }
}

// Horizontal bars: items [{label, value}] (value >= 0), the first `limit` by value.
export function barList({ testid, items, limit = 12, format = fmtNumber, label, color = COLORS.batch }) {
  const sorted = [...items].filter((i) => typeof i.value === 'number').sort((a, b) => b.value - a.value);
  const shown = sorted.slice(0, limit);
  const max = shown.reduce((m, i) => Math.max(m, i.value), 0) || 1;
  return h('figure', { class: 'bars', testid, 'aria-label': label },
    h('figcaption', { class: 'muted' }, label,
      sorted.length > shown.length ? ` (top ${shown.length} of ${sorted.length})` : ''),
    shown.length === 0 ? h('p', { class: 'muted empty' }, 'Nothing to chart.') : null,
    h('ol', { class: 'bar-list' }, shown.map((item) => {
      const bar = h('span', { class: 'bar', 'aria-hidden': 'true' });
      bar.style.width = `${Math.max(0.5, (100 * item.value) / max)}%`;
      bar.style.background = item.color || color;
      return h('li', null,
        h('span', { class: 'bar-label', title: item.label }, item.label),
        h('span', { class: 'bar-track' }, bar),
        h('span', { class: 'bar-value num' }, format(item.value)));
    })));
}
