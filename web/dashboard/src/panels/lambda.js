// The merged lambda view (issue 12, section 2 item 5): rows per day coloured (and patterned) by
// the layer that serves them, the boundary marked, and the reconciliation of batch vs speed on
// loaded days.
import { h, replace, s, uid } from '../dom.js';
import { fmtNumber } from '../format.js';
import { COLORS } from '../charts.js';
import { Panel } from '../panel.js';
import { dataTable } from '../table.js';
import * as urlState from '../state.js';

function dayChart(days, boundary, kind) {
  const W = 820;
  const H = 240;
  const left = 64;
  const right = 12;
  const top = 16;
  const bottom = 44;
  const plotW = W - left - right;
  const plotH = H - top - bottom;
  const max = days.reduce((m, d) => Math.max(m, (d.merged_batch || 0) + (d.merged_speed || 0)), 0) || 1;
  const step = plotW / Math.max(days.length, 1);
  const barW = Math.max(2, Math.min(48, step * 0.7));
  const y = (v) => top + plotH - (plotH * v) / max;
  const hatchId = uid('hatch');
  const labelEvery = Math.ceil(days.length / 10);
  const bars = days.map((d, i) => {
    const x = left + i * step + (step - barW) / 2;
    const b = d.merged_batch || 0;
    const sp = d.merged_speed || 0;
    return s('g', { class: 'day', 'data-dt': d.dt },
      s('title', null, `${d.dt} (${kind}): ${fmtNumber(b)} rows from batch, ${fmtNumber(sp)} from speed`),
      s('rect', { x, y: y(b), width: barW, height: y(0) - y(b), fill: COLORS.batch }),
      s('rect', { x, y: y(b + sp), width: barW, height: y(b) - y(b + sp), fill: `url(#${hatchId})`, stroke: COLORS.speed }),
      i % labelEvery === 0
        ? s('text', { x: x + barW / 2, y: H - bottom + 16, 'text-anchor': 'middle', class: 'axis-label' }, d.dt.slice(5))
        : null);
  });
  let boundaryMark = null;
  const bi = boundary ? days.findIndex((d) => d.dt > boundary) : -1;
  if (boundary) {
    const xb = bi === -1 ? left + days.length * step : left + bi * step;
    boundaryMark = s('g', { class: 'boundary', testid: 'lambda-boundary-mark' },
      s('line', { x1: xb, x2: xb, y1: top - 6, y2: H - bottom + 4, stroke: '#24292f', 'stroke-width': 2, 'stroke-dasharray': '6 4' }),
      s('text', { x: Math.min(xb + 4, W - 150), y: top + 4, class: 'axis-label strong' }, `boundary ${boundary} ▸ speed`));
  }
  return s('svg', {
    viewBox: `0 0 ${W} ${H}`, class: 'lambda-chart', role: 'img', testid: 'chart-lambda',
    'aria-label': `Rows per day of ${kind} by layer; boundary ${boundary || 'none'}`,
  },
  s('defs', null, s('pattern', { id: hatchId, width: 6, height: 6, patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' },
    s('rect', { width: 6, height: 6, fill: '#fff8c5' }),
    s('line', { x1: 0, y1: 0, x2: 0, y2: 6, stroke: COLORS.speed, 'stroke-width': 3 }))),
  s('line', { x1: left, x2: W - right, y1: y(0), y2: y(0), stroke: '#8c959f' }),
  s('text', { x: left - 6, y: y(max) + 4, 'text-anchor': 'end', class: 'axis-label' }, fmtNumber(max)),
  s('text', { x: left - 6, y: y(0) + 4, 'text-anchor': 'end', class: 'axis-label' }, '0'),
  bars, boundaryMark);
}

export function lambdaPanel() {
  const panel = new Panel({
    id: 'lambda', title: 'Lambda view: batch + speed',
    intro: 'Days up to the boundary are served by the batch layer, later days by the speed layer; each key counts once.',
    wide: true,
  });
  const kindId = uid('lambda-kind');
  const kindSel = h('select', { id: kindId, testid: 'lambda-kind', onchange: () => urlState.update({ kind: kindSel.value }) });
  panel.tools.append(h('label', { for: kindId }, 'Kind '), kindSel);
  return {
    panel,
    async load(fetch, state) {
      await panel.run(async () => {
        const data = await fetch('/api/lambda', urlState.dayRangeParams(state));
        const allDays = data.days || [];
        const kinds = [...new Set(allDays.map((d) => d.kind))];
        const kind = kinds.includes(state.kind) ? state.kind : kinds[0] || '';
        const key = kinds.join(',');
        if (kindSel.dataset.key !== key) {
          kindSel.replaceChildren(...kinds.map((k) => h('option', { value: k }, k)));
          kindSel.dataset.key = key;
        }
        kindSel.value = kind;
        const days = allDays.filter((d) => d.kind === kind).sort((a, b) => (a.dt < b.dt ? -1 : 1));
        const legend = h('p', { class: 'legend' },
          h('span', { class: 'swatch batch', 'aria-hidden': 'true' }), ' batch layer (solid) ',
          h('span', { class: 'swatch speed', 'aria-hidden': 'true' }), ' speed layer (hatched) ',
          h('strong', { testid: 'lambda-boundary' }, `boundary: ${data.boundary || 'none (no day loaded yet)'}`));
        const recon = data.reconciliation || [];
        replace(panel.body,
          legend,
          days.length ? dayChart(days, data.boundary, kind) : h('p', { class: 'muted empty' }, 'No rows in this date range yet.'),
          h('div', { class: 'grid-2' },
            dataTable({
              testid: 'table-lambda-days', caption: 'Rows per day and layer', filename: 'lambda_days.csv', tall: true,
              columns: ['dt', 'kind', 'batch_rows', 'speed_rows', 'merged_batch', 'merged_speed'],
              rows: allDays.map((d) => [d.dt, d.kind, d.batch_rows, d.speed_rows, d.merged_batch, d.merged_speed]),
              empty: 'No days.',
            }),
            dataTable({
              testid: 'table-reconciliation', caption: 'Reconciliation on loaded days', filename: 'reconciliation.csv', tall: true,
              columns: ['dt', 'kind', 'batch_rows', 'speed_rows', 'difference', 'only_batch', 'only_speed'],
              rows: recon.map((r) => [r.dt, r.kind, r.batch_rows, r.speed_rows, r.difference, r.only_batch, r.only_speed]),
              cellClass: (c, v) => (c === 4 && v !== 0 ? 'warn-text' : null),
              extras: [{ header: 'check', render: (row) => (row[4] === 0 ? h('span', { class: 'ok-text' }, '✔ equal') : h('span', { class: 'warn-text' }, '⚠ differs')) }],
              note: 'difference = batch − speed',
              empty: 'No day loaded by the batch layer yet.',
            })));
        return data.generated_at;
      });
    },
  };
}
