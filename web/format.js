// Numbers as people read them.
const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function bytes(n) {
  if (!Number.isFinite(n) || n < 0) return '–';
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; ++i; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export const rate = (n) => `${bytes(n)}/s`;

export function ratio(r) {
  if (r === -1) return '–';
  if (r === -2) return '∞';
  return Number.isFinite(r) ? r.toFixed(2) : '–';
}

export const percent = (f) => `${(Math.max(0, Math.min(1, f || 0)) * 100).toFixed(1)}%`;

// Transmission's status numbers.
const states = ['stopped', 'check queued', 'checking', 'download queued', 'downloading',
  'seed queued', 'seeding'];
export const status = (s, error) => (error ? 'error' : states[s] || `status ${s}`);

// An amount as the daemon sends it: a decimal string or a number, kept as text.
export const amount = (a) => (a === undefined || a === null || a === '' ? '–' : String(a));
