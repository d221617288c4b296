// Tables: every table of the page is made here, with a caption, a row count and an "Export CSV"
// button whose file holds exactly the table's cells (header + rows, the same strings shown).
// Stable hooks for tests: the <table> has data-testid=<testid>, the button <testid>-csv. Cells
// that are not data (buttons, ages) carry class "extra" and are left out of the export.
import { downloadCsv, toCsv } from './csv.js';
import { h } from './dom.js';
import { cellText } from './format.js';

// options: testid, caption, columns (names), rows (arrays of raw values), filename,
//   cellClass(columnIndex, value, row) -> class, extras [{header, render(row, rowIndex) -> Node}],
//   empty (text when no rows), note (text under the caption), maxHeight (CSS class "tall").
export function dataTable(options) {
  const { testid, caption, columns, rows } = options;
  const texts = rows.map((row) => row.map(cellText));
  const numeric = columns.map((_, c) => rows.length > 0 && rows.every((r) => r[c] === null || typeof r[c] === 'number'));

  const head = h('tr', null,
    columns.map((name, c) => h('th', { scope: 'col', class: numeric[c] ? 'num' : null }, name)),
    (options.extras || []).map((x) => h('th', { scope: 'col', class: 'extra' }, x.header)));
  const body = h('tbody', null, rows.map((row, r) => h('tr', null,
    texts[r].map((text, c) => h('td', {
      class: [numeric[c] ? 'num' : '', options.cellClass ? options.cellClass(c, row[c], row) || '' : ''].join(' ').trim() || null,
    }, text)),
    (options.extras || []).map((x) => h('td', { class: 'extra' }, x.render(row, r))))));

  const exportButton = h('button', {
    type: 'button', class: 'small', testid: `${testid}-csv`,
    title: `Download this table as CSV (${rows.length} rows)`,
    onclick: () => downloadCsv(options.filename || `${testid}.csv`, toCsv(columns, texts)),
  }, 'Export CSV');

  const table = h('table', { testid, class: 'data' },
    h('caption', null, caption, h('span', { class: 'muted count' }, ` · ${rows.length} row${rows.length === 1 ? '' : 's'}`)),
    h('thead', null, head), body);
  return h('div', { class: 'table-block', testid: `${testid}-block` },
    h('div', { class: 'table-tools' }, options.note ? h('span', { class: 'muted note' }, options.note) : h('span'), exportButton),
    h('div', { class: `table-scroll${options.tall ? ' tall' : ''}` }, table),
    rows.length === 0 ? h('p', { class: 'muted empty' }, options.empty || 'No rows.') : null);
}
