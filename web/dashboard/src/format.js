// Formatting for display. Tables show cells with cellText (the CSV export uses the same strings);
// tiles and captions use the friendlier helpers.

export function cellText(value) {
  if (value === null || value === undefined) return '';
  if (typeof value === 'boolean') return value ? 'yes' : 'no';
  return String(value);
}

const numberFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });
const preciseFormat = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });

export function fmtNumber(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return numberFormat.format(value);
}

export function fmtPrecise(value) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return preciseFormat.format(value);
}

export function fmtMs(value) {
  if (value === null || value === undefined) return '–';
  if (value >= 10_000) return `${fmtNumber(value / 1000)} s`;
  return `${fmtPrecise(value)} ms`;
}

// Seconds ago as "4 s ago", "3 min ago", "2 h ago", "3 d ago".
export function fmtAgo(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return 'never';
  const s = Math.max(0, Math.round(seconds));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} d ago`;
}

export function secondsSince(rfc3339, now = Date.now()) {
  if (!rfc3339) return null;
  const t = Date.parse(rfc3339);
  return Number.isNaN(t) ? null : (now - t) / 1000;
}

export function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 60) return `${fmtPrecise(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}
