// The page's state that belongs in the URL (a reload or a shared link restores it): the time
// window, the shared filters, the refresh interval and pause, and the panels' own choices.
// Values are validated on read; an invalid one is dropped (the default applies).

const DAY = /^\d{4}-\d{2}-\d{2}$/;
export const WINDOWS = ['5m', '1h', '24h'];
export const INTERVALS = [1, 2, 5, 10, 30, 60];
export const AGE_GROUPS = ['18-24', '25-35', '36-50', '50+'];

const FIELDS = {
  window: { def: '5m', ok: (v) => WINDOWS.includes(v) },
  from: { def: '', ok: (v) => DAY.test(v) },
  to: { def: '', ok: (v) => DAY.test(v) },
  category: { def: '', ok: (v) => v.length <= 200 },
  country: { def: '', ok: (v) => v.length <= 200 },
  age_group: { def: '', ok: (v) => AGE_GROUPS.includes(v) },
  refresh: { def: '2', ok: (v) => INTERVALS.includes(Number(v)) },
  paused: { def: '', ok: (v) => v === '1' },
  kind: { def: '', ok: (v) => /^[a-z_]{1,40}$/.test(v) },
  topic: { def: '', ok: (v) => v.length <= 249 },
  partition: { def: '', ok: (v) => /^\d{1,6}$/.test(v) },
  limit: { def: '20', ok: (v) => /^\d{1,3}$/.test(v) && Number(v) >= 1 && Number(v) <= 100 },
};

const listeners = new Set();
let current = read();

function read() {
  const params = new URLSearchParams(window.location.search);
  const state = {};
  for (const [key, field] of Object.entries(FIELDS)) {
    const value = params.get(key);
    state[key] = value !== null && value !== '' && field.ok(value) ? value : field.def;
  }
  return state;
}

function write(state) {
  const params = new URLSearchParams();
  for (const [key, field] of Object.entries(FIELDS)) {
    if (state[key] !== field.def) params.set(key, state[key]);
  }
  const q = params.toString();
  const url = `${window.location.pathname}${q ? `?${q}` : ''}${window.location.hash}`;
  window.history.replaceState(null, '', url);
}

export function get() {
  return current;
}

// Merges patch into the state, writes the URL and tells the listeners which keys changed.
export function update(patch) {
  const next = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (!(key in FIELDS)) throw new Error(`unknown state key ${key}`);
    const v = value === null || value === undefined ? '' : String(value);
    next[key] = v === '' ? FIELDS[key].def : v;
  }
  const changed = Object.keys(FIELDS).filter((k) => next[k] !== current[k]);
  if (changed.length === 0) return;
  current = next;
  write(current);
  for (const fn of listeners) fn(changed, current);
}

export function subscribe(fn) {
  listeners.add(fn);
}

// The filters each endpoint accepts (the API answers 422 to others).
export function analyticsParams(state = current) {
  return { from: state.from, to: state.to, category: state.category, country: state.country, age_group: state.age_group };
}

export function dayRangeParams(state = current) {
  return { from: state.from, to: state.to };
}

export const FILTER_KEYS = ['from', 'to', 'category', 'country', 'age_group'];
