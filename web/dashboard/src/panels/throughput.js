// Throughput and latency (issue 12, section 2 item 2): records accepted / rejected (422) /
// unavailable (503) per second and the speed layer's rows per second; the API's latency p50/p99.
import { h, replace } from '../dom.js';
import { fmtMs, fmtNumber } from '../format.js';
import { COLORS, TimeChart } from '../charts.js';
import { Panel, stat } from '../panel.js';

function last(values) {
  for (let i = (values || []).length - 1; i >= 0; i--) if (values[i] !== null && values[i] !== undefined) return values[i];
  return null;
}

export function throughputPanel() {
  const panel = new Panel({ id: 'throughput', title: 'Throughput and API latency' });
  const rates = new TimeChart({ testid: 'chart-throughput', label: 'Records per second', yLabel: 'per second' });
  const latency = new TimeChart({ testid: 'chart-latency', label: 'Ingest API latency', yLabel: 'ms', format: fmtMs });
  const current = h('div', { class: 'stats compact' });
  replace(panel.body, current, rates.element, latency.element);
  return {
    panel,
    async load(fetch, state) {
      await panel.run(async () => {
        const data = await fetch('/api/throughput', { window: state.window });
        const s = data.series || {};
        replace(current,
          stat('Accepted /s', fmtNumber(last(s.accepted)), 'rate-accepted'),
          stat('Rejected (422) /s', fmtNumber(last(s.rejected)), 'rate-rejected'),
          stat('Unavailable (503) /s', fmtNumber(last(s.unavailable)), 'rate-unavailable'),
          stat('Speed rows /s', fmtNumber(last(s.rows_per_s)), 'rate-rows'),
          stat('Latency p50 / p99', `${fmtMs(last(s.latency_p50_ms))} / ${fmtMs(last(s.latency_p99_ms))}`, 'latency-now'));
        rates.update(data.t, [
          { label: 'accepted (2xx)', values: s.accepted || [], color: COLORS.accepted },
          { label: 'rejected (422)', values: s.rejected || [], color: COLORS.rejected, dash: [8, 4] },
          { label: 'unavailable (503)', values: s.unavailable || [], color: COLORS.unavailable, dash: [2, 3] },
          { label: 'speed rows', values: s.rows_per_s || [], color: COLORS.rows, dash: [10, 3, 2, 3] },
        ]);
        latency.update(data.t, [
          { label: 'p50', values: s.latency_p50_ms || [], color: COLORS.p50 },
          { label: 'p99', values: s.latency_p99_ms || [], color: COLORS.p99, dash: [8, 4] },
        ]);
        return data.generated_at;
      });
    },
  };
}
