// The dashboard's JSON API client (/work/notes/dashboard_api.md is the contract; the server
// documents it at /openapi.json). GET only. An optional bearer token: when an /api call answers
// 401, the page asks for the token once (a dialog), keeps it in sessionStorage and retries;
// every panel shares that one question. Errors become ApiError with the server's "detail".
import { h } from './dom.js';

const TOKEN_KEY = 'pinpipe.dashboard.token';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function token() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

function setToken(value) {
  try {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    // Storage disabled: the token lives until the page is closed.
  }
  memoryToken = value;
}
let memoryToken = '';

export function authHeaders() {
  const t = token() || memoryToken;
  return t ? { Authorization: `Bearer ${t}` } : {};
}

// Only non-empty parameters are sent: the API answers 422 to unknown parameters and treats an
// absent one as "no filter".
export function buildUrl(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== null && value !== undefined && value !== '') query.set(key, String(value));
  }
  const q = query.toString();
  return q ? `${path}?${q}` : path;
}

let tokenPrompt = null; // the pending question, shared by every caller
let declined = false; // the user closed the dialog: do not ask again until they click "Token"
const tokenListeners = new Set();

export function onTokenChange(fn) {
  tokenListeners.add(fn);
}

// Asks for the token (once for all concurrent callers). Resolves when one was entered; rejects
// when the user cancels.
export function askToken(reason) {
  if (tokenPrompt) return tokenPrompt;
  if (declined) return Promise.reject(new ApiError(401, 'this dashboard needs an access token (use the "Token" button)'));
  tokenPrompt = new Promise((resolve, reject) => {
    const input = h('input', {
      type: 'password', id: 'token-input', name: 'token', autocomplete: 'off', required: true,
      testid: 'token-input', spellcheck: 'false',
    });
    const message = h('p', { class: 'muted', testid: 'token-reason' }, reason);
    const dialog = h('dialog', { class: 'token-dialog', testid: 'token-dialog', 'aria-labelledby': 'token-title' },
      h('form', { method: 'dialog' },
        h('h2', { id: 'token-title' }, 'Access token'),
        message,
        h('label', { for: 'token-input' }, 'Bearer token (as given to pinpipe dashboard --auth-token)'),
        input,
        h('div', { class: 'dialog-buttons' },
          h('button', { type: 'submit', value: 'ok', testid: 'token-submit' }, 'Use token'),
          h('button', { type: 'submit', value: 'cancel', formnovalidate: true }, 'Cancel'))));
    document.body.append(dialog);
    dialog.addEventListener('close', () => {
      const value = input.value.trim();
      dialog.remove();
      tokenPrompt = null;
      if (dialog.returnValue === 'ok' && value) {
        declined = false;
        setToken(value);
        for (const fn of tokenListeners) fn();
        resolve();
      } else {
        declined = true;
        reject(new ApiError(401, 'this dashboard needs an access token (use the "Token" button)'));
      }
    });
    dialog.showModal();
    input.focus();
  });
  return tokenPrompt;
}

// The "Token" button: forget the decline and ask again.
export function askTokenAgain() {
  declined = false;
  return askToken('Enter the access token of this dashboard.');
}

async function errorDetail(response) {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text);
    if (body && typeof body.detail === 'string') return body.detail;
  } catch {
    // not JSON
  }
  return text.trim().slice(0, 300) || response.statusText || 'request failed';
}

// fetch with the token; a 401 asks for a token and retries (at most twice).
export async function apiFetch(url, init = {}) {
  for (let attempt = 0; ; attempt++) {
    let response;
    try {
      response = await fetch(url, { ...init, cache: 'no-store', headers: { ...(init.headers || {}), ...authHeaders() } });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, `cannot reach the dashboard server (${e.message})`);
    }
    if (response.status === 401 && attempt < 2) {
      const had = Object.keys(authHeaders()).length > 0;
      await askToken(had ? 'The server refused the token. Enter it again.' : 'The dashboard API needs an access token.');
      continue;
    }
    if (!response.ok) {
      throw new ApiError(response.status, `${response.status}: ${await errorDetail(response)}`);
    }
    return response;
  }
}

export async function getJson(path, params, init) {
  const response = await apiFetch(buildUrl(path, params), init);
  try {
    return await response.json();
  } catch (e) {
    throw new ApiError(response.status, `invalid JSON from ${path}: ${e.message}`);
  }
}

export async function getText(path, params) {
  const response = await apiFetch(buildUrl(path, params));
  return response.text();
}
