// Data quality (issue 12, section 2 item 7): validation failures by field and error type, dead
// letters (count, latest reasons and their raw bytes, shown as text), rows dropped by rule, late
// records.
import { h, replace } from '../dom.js';
import { barList, COLORS } from '../charts.js';
import { fmtNumber } from '../format.js';
import { Panel, stat } from '../panel.js';
import { dataTable } from '../table.js';

export function qualityPanel() {
  const panel = new Panel({ id: 'quality', title: 'Data quality', wide: true });
  return {
    panel,
    async load(fetch, state) {
      await panel.run(async () => {
        const data = await fetch('/api/quality', { window: state.window });
        const failures = data.validation_failures || [];
        const dead = data.dead_letters || { count: 0, latest: [] };
        const dropped = data.dropped || [];
        const late = data.late_records || [];
        const sum = (rows) => rows.reduce((a, r) => a + (r.count || 0), 0);
        replace(panel.body,
          h('div', { class: 'stats compact' },
            stat('Validation failures', fmtNumber(sum(failures)), 'quality-failures'),
            stat('Dead letters', fmtNumber(dead.count), 'quality-dead-letters'),
            stat('Dropped by rules', fmtNumber(sum(dropped)), 'quality-dropped'),
            stat('Late records', fmtNumber(sum(late)), 'quality-late')),
          h('div', { class: 'grid-2' },
            h('div', null,
              barList({
                testid: 'chart-validation-failures', label: 'Validation failures by field and type', color: COLORS.rejected,
                items: failures.map((f) => ({ label: `${f.kind} · ${f.field} · ${f.type}`, value: f.count })),
              }),
              dataTable({
                testid: 'table-validation-failures', caption: 'Validation failures (422)', filename: 'validation_failures.csv',
                columns: ['kind', 'field', 'type', 'count'], rows: failures.map((f) => [f.kind, f.field, f.type, f.count]),
                empty: 'No validation failures.',
              })),
            h('div', null,
              dataTable({
                testid: 'table-dropped', caption: 'Rows dropped by rule', filename: 'dropped.csv',
                columns: ['layer', 'rule', 'count'], rows: dropped.map((d) => [d.layer, d.rule, d.count]),
                empty: 'No rows dropped.',
              }),
              dataTable({
                testid: 'table-late', caption: 'Late records', filename: 'late_records.csv',
                columns: ['topic', 'count'], rows: late.map((l) => [l.topic, l.count]),
                empty: 'No late records.',
              }))),
          dataTable({
            testid: 'table-dead-letters', caption: `Dead letters: the latest ${(dead.latest || []).length} of ${fmtNumber(dead.count)}`,
            filename: 'dead_letters.csv', tall: true,
            columns: ['at', 'stage', 'topic', 'partition', 'offset', 'reason', 'raw', 'raw_bytes'],
            rows: (dead.latest || []).map((d) => [d.at, d.stage, d.topic, d.partition, d.offset, d.reason, d.raw, d.raw_bytes]),
            cellClass: (c) => (c === 6 ? 'value' : null),
            note: 'raw: the record\'s bytes as text (invalid UTF-8 replaced, cut at 2048 bytes)',
            empty: 'No dead letters.',
          }));
        return data.generated_at;
      });
    },
  };
}
