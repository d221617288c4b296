// The shared filter bar: date range (on the post's event day), category, country, age group.
// They apply to every panel that takes them (analytics: all five; lambda view and scheduler: the
// date range) and live in the URL. Options come from /api/filters.
import { h, uid } from './dom.js';
import * as urlState from './state.js';

function labelled(label, control) {
  return h('span', { class: 'control' }, h('label', { for: control.id }, label), control);
}

function fillSelect(select, values, current, anyLabel) {
  const all = current && !values.includes(current) ? [...values, current] : values;
  const key = all.join('\u0000');
  if (select.dataset.key !== key) {
    select.replaceChildren(h('option', { value: '' }, anyLabel), ...all.map((v) => h('option', { value: v }, v)));
    select.dataset.key = key;
  }
  select.value = current;
}

export function filterBar() {
  const from = h('input', { type: 'date', id: uid('filter-from'), testid: 'filter-from' });
  const to = h('input', { type: 'date', id: uid('filter-to'), testid: 'filter-to' });
  const category = h('select', { id: uid('filter-category'), testid: 'filter-category' });
  const country = h('select', { id: uid('filter-country'), testid: 'filter-country' });
  const ageGroup = h('select', { id: uid('filter-age-group'), testid: 'filter-age_group' });
  const message = h('span', { class: 'error-text', role: 'status', testid: 'filter-message' });
  fillSelect(ageGroup, urlState.AGE_GROUPS, urlState.get().age_group, 'all ages');

  const applyDates = () => {
    message.textContent = '';
    if (from.value && to.value && from.value > to.value) {
      message.textContent = '"From" is after "To": the date range is not applied.';
      return;
    }
    urlState.update({ from: from.value, to: to.value });
  };
  from.addEventListener('change', applyDates);
  to.addEventListener('change', applyDates);
  category.addEventListener('change', () => urlState.update({ category: category.value }));
  country.addEventListener('change', () => urlState.update({ country: country.value }));
  ageGroup.addEventListener('change', () => urlState.update({ age_group: ageGroup.value }));

  const form = h('form', {
    class: 'filters', testid: 'filters', role: 'search', 'aria-label': 'Filters for every panel',
    onsubmit: (e) => e.preventDefault(),
  },
  h('strong', null, 'Filters'),
  labelled('From', from), labelled('To', to), labelled('Category', category), labelled('Country', country),
  labelled('Age group', ageGroup),
  h('button', {
    type: 'button', class: 'small', testid: 'filter-clear',
    onclick: () => urlState.update({ from: '', to: '', category: '', country: '', age_group: '' }),
  }, 'Clear filters'),
  h('span', { class: 'muted hint' }, 'event day of the post; the lambda view and the scheduler use the dates'),
  message);

  function sync(state) {
    if (document.activeElement !== from) from.value = state.from;
    if (document.activeElement !== to) to.value = state.to;
    category.value = state.category;
    country.value = state.country;
    ageGroup.value = state.age_group;
  }

  return {
    element: form,
    sync,
    async load(fetch, state) {
      const data = await fetch('/api/filters', {});
      fillSelect(category, data.categories || [], state.category, 'all categories');
      fillSelect(country, data.countries || [], state.country, 'all countries');
      fillSelect(ageGroup, data.age_groups && data.age_groups.length ? data.age_groups : urlState.AGE_GROUPS, state.age_group, 'all ages');
      const days = data.days || {};
      for (const input of [from, to]) {
        if (days.min) input.min = days.min; else input.removeAttribute('min');
        if (days.max) input.max = days.max; else input.removeAttribute('max');
      }
      sync(state);
      form.dataset.loaded = 'true';
    },
  };
}
