// Freshness (issue 12, section 2 item 4): API-ack to row-visible latency p50/p99 now and over the
// window, "data as of" per table, the last sealed and the last loaded day.
import { h, replace } from '../dom.js';
import { fmtMs } from '../format.js';
import { COLORS, TimeChart } from '../charts.js';
import { agoSpan, Panel, stat } from '../panel.js';
import { secondsSince } from '../format.js';
import { dataTable } from '../table.js';

export function freshnessPanel() {
  const panel = new Panel({
    id: 'freshness', title: 'Freshness',
    intro: 'How long a record takes from the API\'s acknowledgement to a visible row, and how recent each table is.',
  });
  const chart = new TimeChart({ testid: 'chart-freshness', label: 'Ack to visible latency', yLabel: 'ms', format: fmtMs });
  const head = h('div', { class: 'stats compact' });
  const tables = h('div');
  replace(panel.body, head, chart.element, tables);
  return {
    panel,
    async load(fetch, state) {
      await panel.run(async () => {
        const data = await fetch('/api/freshness', { window: state.window });
        const now = Date.now();
        const ack = data.ack_to_visible_ms || {};
        replace(head,
          stat('Ack → visible p50', fmtMs(ack.p50), 'ack-p50'),
          stat('Ack → visible p99', fmtMs(ack.p99), 'ack-p99'),
          stat('Last sealed day', data.last_sealed_day || 'none', 'last-sealed-day', 'archiver: day complete in the lake'),
          stat('Last loaded day', data.last_loaded_day || 'none', 'last-loaded-day', 'batch layer loaded it'));
        chart.update((data.series || {}).t, [
          { label: 'p50', values: (data.series || {}).p50 || [], color: COLORS.p50 },
          { label: 'p99', values: (data.series || {}).p99 || [], color: COLORS.p99, dash: [8, 4] },
        ]);
        const rows = (data.tables || []).map((t) => [t.table, t.layer, t.rows, t.data_as_of]);
        replace(tables, dataTable({
          testid: 'table-freshness', caption: 'Data as of, per table', filename: 'freshness.csv',
          columns: ['table', 'layer', 'rows', 'data_as_of'], rows,
          extras: [{ header: 'age', render: (row) => agoSpan(secondsSince(row[3], now), now) }],
          empty: 'No tables yet.',
        }));
        return data.generated_at;
      });
    },
  };
}
