// Health strip (issue 12, section 2 item 1) and the headline counts: one tile per stage with
// up/down, current rate, last activity, a stale badge with its reason, restarts.
import { h, replace } from '../dom.js';
import { fmtNumber } from '../format.js';
import { agoSpan, Panel, stat } from '../panel.js';

const STAGE_NAMES = {
  api: 'Ingest API', kafka: 'Kafka', speed: 'Speed layer', archiver: 'Archiver', scheduler: 'Scheduler', batch: 'Batch layer',
};

function tile(stage, receivedAt) {
  const up = stage.up === true;
  return h('article', {
    class: `tile ${up ? 'up' : 'down'}${stage.stale ? ' is-stale' : ''}`, testid: `stage-${stage.stage}`,
    'aria-label': `${STAGE_NAMES[stage.stage] || stage.stage}: ${up ? 'up' : 'down'}${stage.stale ? ', stale' : ''}`,
  },
  h('header', null,
    h('h3', null, STAGE_NAMES[stage.stage] || stage.stage),
    h('span', { class: `badge ${up ? 'ok' : 'bad'}`, testid: `stage-${stage.stage}-status` }, up ? '✔ up' : '✖ down'),
    stage.stale ? h('span', { class: 'badge warn', testid: `stage-${stage.stage}-stale` }, '⚠ stale') : null),
  h('p', { class: 'tile-rate' },
    h('strong', { testid: `stage-${stage.stage}-rate` }, stage.rate === null || stage.rate === undefined ? '–' : fmtNumber(stage.rate)),
    ' ', h('span', { class: 'muted' }, stage.rate_unit || '')),
  h('p', { class: 'muted' }, 'last activity ', agoSpan(stage.last_activity_s, receivedAt, { testid: `stage-${stage.stage}-activity` })),
  stage.stale && stage.stale_reason ? h('p', { class: 'stale-reason' }, stage.stale_reason) : null,
  stage.restarts !== null && stage.restarts !== undefined
    ? h('p', { class: stage.restarts > 0 ? 'warn-text' : 'muted' }, `restarts: ${stage.restarts}`) : null,
  stage.detail ? h('p', { class: 'muted detail', title: stage.detail }, stage.detail) : null);
}

function sum(values) {
  return values.reduce((a, v) => a + (typeof v === 'number' ? v : 0), 0);
}

export function healthPanel() {
  const panel = new Panel({ id: 'health', title: 'Pipeline health', wide: true });
  return {
    panel,
    async load(fetch, state) {
      await panel.run(async () => {
        const [overview, kafka, freshness, lambda] = await Promise.all([
          fetch('/api/overview', { window: state.window }),
          fetch('/api/kafka', { window: state.window }).catch(() => null),
          fetch('/api/freshness', { window: state.window }).catch(() => null),
          fetch('/api/lambda', { from: state.from, to: state.to }).catch(() => null),
        ]);
        const receivedAt = Date.now();
        const tables = freshness ? freshness.tables || [] : [];
        const stats = h('div', { class: 'stats', testid: 'kpis' },
          stat('Records in Kafka', kafka ? fmtNumber(sum((kafka.topics || []).map((t) => t.high_watermark))) : '–',
            'kpi-kafka-records', 'sum of high watermarks'),
          stat('Speed-layer rows', freshness ? fmtNumber(sum(tables.filter((t) => t.layer === 'speed').map((t) => t.rows))) : '–',
            'kpi-speed-rows', 'rows in the speed tables'),
          stat('Batch rows', freshness ? fmtNumber(sum(tables.filter((t) => t.layer === 'batch').map((t) => t.rows))) : '–',
            'kpi-batch-rows', 'rows in the batch tables'),
          stat('Boundary', lambda ? lambda.boundary || 'none yet' : '–', 'kpi-boundary', 'last day the batch layer loaded'),
          stat('Ack → visible p99', freshness && freshness.ack_to_visible_ms && freshness.ack_to_visible_ms.p99 !== null
            ? `${fmtNumber(freshness.ack_to_visible_ms.p99)} ms` : '–', 'kpi-ack-visible', 'API ack to row visible'));
        replace(panel.body,
          h('div', { class: 'tiles', testid: 'health-strip' }, (overview.stages || []).map((s) => tile(s, receivedAt))),
          stats);
        return overview.generated_at;
      });
    },
  };
}
