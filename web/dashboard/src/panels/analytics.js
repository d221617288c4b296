// The 8 analytics questions over the merged view (issue 12, section 2 item 6): one card per
// answer table (/api/analytics: ids and columns as the SQL views serving.<id>), a bar chart and
// the full table. The shared filters (date range, category, country, age group) apply to all.
// Ties are rows: the caption says which rows tie.
import { h, replace } from '../dom.js';
import { barList, COLORS } from '../charts.js';
import { Panel } from '../panel.js';
import { dataTable } from '../table.js';
import * as urlState from '../state.js';

// The column whose rows tie on a "top" question (rank() = 1 per group); '' = all rows tie.
const TIE_GROUP = {
  q1_popular_category_by_country: 'country',
  q2_top_category_by_year: 'post_year',
  q3_top_poster_by_country: 'country',
  q3_top_country: '',
  q4_popular_category_by_age_group: 'age_group',
};

function valueColumn(columns) {
  const i = columns.findIndex((c) => /_count$|^median_|^number_/.test(c));
  return i >= 0 ? i : columns.length - 1;
}

function tieNote(table) {
  if (!(table.id in TIE_GROUP)) return null;
  const group = TIE_GROUP[table.id];
  if (group === '') {
    return table.rows.length > 1 ? `${table.rows.length} rows tie for first place` : null;
  }
  const gi = table.columns.indexOf(group);
  if (gi < 0) return null;
  const counts = new Map();
  for (const row of table.rows) counts.set(row[gi], (counts.get(row[gi]) || 0) + 1);
  const tied = [...counts.values()].filter((n) => n > 1).length;
  return tied > 0 ? `ties: ${tied} ${group} value${tied === 1 ? ' has' : 's have'} several rows (each tied answer is a row)` : null;
}

function card(table) {
  const vi = valueColumn(table.columns);
  const labelCols = table.columns.map((c, i) => i).filter((i) => i !== vi && table.columns[i] !== 'posts');
  const items = table.rows.map((row) => ({ label: labelCols.map((i) => String(row[i])).join(' · '), value: row[vi] }));
  return h('article', { class: 'card', testid: `analytics-card-${table.id}` },
    h('h3', null, table.title || table.id),
    h('p', { class: 'muted mono' }, `serving.${table.id}`),
    barList({ testid: `chart-${table.id}`, items, label: table.columns[vi], color: COLORS.batch }),
    dataTable({
      testid: `analytics-${table.id}`, caption: table.title || table.id, filename: `${table.id}.csv`,
      columns: table.columns, rows: table.rows, note: tieNote(table), empty: 'No rows for these filters.',
    }));
}

export function analyticsPanel() {
  const panel = new Panel({
    id: 'analytics', title: 'Analytics: the 8 questions over batch + speed', wide: true,
    intro: 'Each answer is computed over the merged view. The filters at the top apply to every answer.',
  });
  return {
    panel,
    async load(fetch, state) {
      await panel.run(async () => {
        const data = await fetch('/api/analytics', urlState.analyticsParams(state));
        const filters = urlState.FILTER_KEYS.filter((k) => state[k]).map((k) => `${k} = ${state[k]}`);
        const asOf = data.as_of && typeof data.as_of === 'object'
          ? Object.entries(data.as_of).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join(', ') : '';
        replace(panel.body,
          h('p', { class: 'muted', testid: 'analytics-context' },
            `Boundary ${data.boundary || 'none'}`, asOf ? ` · as of ${asOf}` : '',
            ' · filters: ', h('strong', { testid: 'analytics-filters' }, filters.length ? filters.join(', ') : 'none')),
          h('div', { class: 'cards' }, (data.tables || []).map(card)));
        return data.generated_at;
      });
    },
  };
}
