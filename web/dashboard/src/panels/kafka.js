// Kafka (issue 12, section 2 item 3): per topic and partition the high watermark and production
// rate; per consumer group the lag now and over time; a read-only peek at the latest messages,
// filterable by partition. Message values are shown as text (the server already replaced
// invalid UTF-8 and capped the length).
import { h, replace, uid } from '../dom.js';
import { paletteColor, TimeChart } from '../charts.js';
import { Panel } from '../panel.js';
import { dataTable } from '../table.js';
import * as urlState from '../state.js';

function select(id, label, testid, onchange) {
  const el = h('select', { id, testid, onchange: () => onchange(el.value) });
  return { el, label: h('label', { for: id }, label) };
}

function setOptions(selectEl, options, value) {
  const key = options.map((o) => `${o.value}\u0000${o.label}`).join('\u0001');
  if (selectEl.dataset.key !== key) {
    selectEl.replaceChildren(...options.map((o) => h('option', { value: o.value }, o.label)));
    selectEl.dataset.key = key;
  }
  selectEl.value = value;
}

export function kafkaPanel() {
  const panel = new Panel({ id: 'kafka', title: 'Kafka', wide: true });
  const lagChart = new TimeChart({ testid: 'chart-lag', label: 'Consumer lag (messages behind, all partitions)', yLabel: 'messages' });
  const topicsBox = h('div');
  const consumersBox = h('div');
  const topicSel = select(uid('peek-topic'), 'Topic', 'peek-topic', (v) => urlState.update({ topic: v, partition: '' }));
  const partSel = select(uid('peek-partition'), 'Partition', 'peek-partition', (v) => urlState.update({ partition: v }));
  const limitId = uid('peek-limit');
  const limit = h('input', {
    id: limitId, type: 'number', min: '1', max: '100', step: '1', testid: 'peek-limit', class: 'narrow',
    onchange: () => {
      const n = Math.min(100, Math.max(1, Math.round(Number(limit.value) || 20)));
      limit.value = String(n);
      urlState.update({ limit: String(n) });
    },
  });
  const messagesBox = h('div');
  const peek = h('div', { class: 'peek', testid: 'kafka-peek' },
    h('h3', null, 'Latest messages (read-only peek)'),
    h('div', { class: 'controls' },
      h('span', { class: 'control' }, topicSel.label, topicSel.el),
      h('span', { class: 'control' }, partSel.label, partSel.el),
      h('span', { class: 'control' }, h('label', { for: limitId }, 'Messages'), limit)),
    messagesBox);
  replace(panel.body,
    h('div', { class: 'grid-2' }, topicsBox, h('div', null, consumersBox, lagChart.element)),
    peek);
  return {
    panel,
    async load(fetch, state) {
      await panel.run(async () => {
        const data = await fetch('/api/kafka', { window: state.window });
        const topics = data.topics || [];
        replace(topicsBox, dataTable({
          testid: 'table-kafka-topics', caption: 'Topics and partitions', filename: 'kafka_topics.csv',
          columns: ['topic', 'partition', 'high_watermark', 'rate'],
          rows: topics.map((t) => [t.topic, t.partition, t.high_watermark, t.rate]),
          note: 'rate: messages per second', empty: 'No topics found.',
        }));
        replace(consumersBox, dataTable({
          testid: 'table-kafka-consumers', caption: 'Consumer groups', filename: 'kafka_consumers.csv',
          columns: ['group', 'topic', 'partition', 'committed', 'lag'],
          rows: (data.consumers || []).map((c) => [c.group, c.topic, c.partition, c.committed, c.lag]),
          cellClass: (c, v) => (c === 4 && typeof v === 'number' && v > 0 ? 'warn-text' : null),
          empty: 'No committed offsets yet.',
        }));
        const lag = data.lag_series || { t: [], series: {} };
        lagChart.update(lag.t, Object.entries(lag.series || {}).map(([group, values], i) => (
          { label: group, values, color: paletteColor(i) })));

        const topicNames = [...new Set(topics.map((t) => t.topic))];
        const topic = topicNames.includes(state.topic) ? state.topic : topicNames[0] || '';
        setOptions(topicSel.el, topicNames.map((t) => ({ value: t, label: t })), topic);
        const partitions = topics.filter((t) => t.topic === topic).map((t) => String(t.partition));
        const partition = partitions.includes(state.partition) ? state.partition : '';
        setOptions(partSel.el, [{ value: '', label: 'all' }, ...partitions.map((p) => ({ value: p, label: p }))], partition);
        if (document.activeElement !== limit) limit.value = state.limit;
        if (!topic) {
          replace(messagesBox, h('p', { class: 'muted' }, 'No topic to peek at.'));
        } else {
          try {
            const peekData = await fetch('/api/kafka/messages', { topic, partition, limit: state.limit });
            replace(messagesBox, dataTable({
              testid: 'table-kafka-messages', caption: `Latest messages of ${topic}${partition ? `, partition ${partition}` : ''}`,
              filename: 'kafka_messages.csv', tall: true,
              columns: ['topic', 'partition', 'offset', 'key', 'timestamp', 'value', 'value_bytes', 'truncated'],
              rows: (peekData.messages || []).map((m) => [m.topic, m.partition, m.offset, m.key, m.timestamp, m.value, m.value_bytes, m.truncated]),
              cellClass: (c) => (c === 5 ? 'value' : null),
              note: 'newest first; values are shown as text, cut at 4096 bytes',
              empty: 'No messages.',
            }));
          } catch (e) {
            replace(messagesBox, h('p', { class: 'panel-error', role: 'alert', testid: 'peek-error' }, `Could not peek: ${e.message}`));
          }
        }
        return data.generated_at;
      });
    },
  };
}
