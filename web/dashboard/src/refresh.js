// One refresh control for the whole page: the interval, pause, "refresh now" and "updated N s
// ago". Live updates come from the server-sent events of /api/events (read with fetch, so the
// bearer token is sent, which EventSource cannot do); when that stream fails the page polls every
// interval and tries the stream again later. A refresh never overlaps the previous one, and
// never runs more often than the chosen interval.
import { apiFetch } from './api.js';

const RETRY_MIN_MS = 5_000;
const RETRY_MAX_MS = 60_000;

export class Refresher {
  constructor({ run, intervalS, paused, onStatus }) {
    this.run = run; // async (): refreshes every panel
    this.intervalMs = intervalS * 1000;
    this.paused = paused;
    this.onStatus = onStatus; // ({mode, lastUpdated, running}) -> void
    this.mode = 'connecting'; // 'live' (SSE) | 'polling' | 'connecting'
    this.lastUpdated = null;
    this.lastStart = 0;
    this.running = false;
    this.pending = false;
    this.timer = null;
    this.pollTimer = null;
    this.abort = null;
    this.retryMs = RETRY_MIN_MS;
    this.version = null;
  }

  start() {
    this.refreshNow();
    if (!this.paused) this.connect();
  }

  setInterval(intervalS) {
    this.intervalMs = intervalS * 1000;
    if (this.mode === 'polling') this.startPolling();
  }

  setPaused(paused) {
    if (paused === this.paused) return;
    this.paused = paused;
    if (paused) {
      this.disconnect();
      this.stopPolling();
      clearTimeout(this.timer);
      this.timer = null;
      this.setMode('paused');
    } else {
      this.refreshNow();
      this.connect();
    }
  }

  // Asks for a refresh now, unless one ran less than an interval ago (then at the end of it).
  request() {
    if (this.paused) return;
    const wait = this.lastStart + this.intervalMs - Date.now();
    if (wait > 0) {
      if (!this.timer) this.timer = setTimeout(() => { this.timer = null; this.request(); }, wait);
      return;
    }
    this.refreshNow();
  }

  async refreshNow() {
    if (this.running) {
      this.pending = true;
      return;
    }
    this.running = true;
    this.lastStart = Date.now();
    this.status();
    try {
      await this.run();
      this.lastUpdated = Date.now();
    } finally {
      this.running = false;
      this.status();
      if (this.pending) {
        this.pending = false;
        this.request();
      }
    }
  }

  setMode(mode) {
    this.mode = mode;
    this.status();
  }

  status() {
    this.onStatus({ mode: this.mode, lastUpdated: this.lastUpdated, running: this.running, paused: this.paused });
  }

  startPolling() {
    this.stopPolling();
    this.pollTimer = setInterval(() => this.request(), this.intervalMs);
  }

  stopPolling() {
    clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  disconnect() {
    if (this.abort) this.abort.abort();
    this.abort = null;
  }

  async connect() {
    this.disconnect();
    const abort = new AbortController();
    this.abort = abort;
    try {
      const response = await apiFetch('/api/events', { headers: { Accept: 'text/event-stream' }, signal: abort.signal });
      if (!response.body) throw new Error('no stream');
      this.stopPolling();
      this.setMode('live');
      this.retryMs = RETRY_MIN_MS;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value.replace(/\r\n?/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.onEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (e) {
      if (abort.signal.aborted) return;
    }
    if (abort.signal.aborted || this.paused) return;
    // The stream failed or ended: poll, and try the stream again later.
    this.setMode('polling');
    this.startPolling();
    const retry = this.retryMs;
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
    setTimeout(() => { if (!this.paused && this.abort === abort) this.connect(); }, retry);
  }

  // One SSE event block: "event: refresh\ndata: {...}" (comment lines start with ':').
  onEvent(block) {
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (event !== 'refresh' || data.length === 0) return;
    try {
      const body = JSON.parse(data.join('\n'));
      if (body && body.version !== undefined) {
        if (body.version === this.version) return;
        this.version = body.version;
      }
    } catch {
      // A refresh event without a JSON body still means "new answers".
    }
    this.request();
  }
}
