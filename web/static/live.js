// The live event stream (GET /api/v1/events, Server-Sent Events) and its
// indicator: live / reconnecting / paused. EventSource retries by itself
// while the stream breaks; when it gives up (the server answered with an
// error status) this reconnects with a backoff. Views subscribe to event
// types and are told to refetch on (re)connect and on `reset`.

const TYPES = ['route', 'peer', 'alert', 'site', 'reset', 'hello'];

export class Live {
  constructor(url = '/api/v1/events') {
    this.url = url;
    this.state = 'connecting';   // connecting | live | reconnecting | paused
    this.es = null;
    this.handlers = new Map();   // type -> Set(fn)
    this.stateFns = new Set();
    this.backoff = 1000;
    this.timer = null;
    this.lastEvent = null;
    this.connects = 0;
  }

  /** fn(data, type); returns an unsubscribe function. Type '*' gets all,
   *  'open' is called on every (re)connection and on reset. */
  on(type, fn) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(fn);
    return () => this.handlers.get(type).delete(fn);
  }

  onState(fn) { this.stateFns.add(fn); fn(this.state); return () => this.stateFns.delete(fn); }

  emit(type, data) {
    for (const t of [type, '*']) for (const fn of this.handlers.get(t) || []) {
      try { fn(data, type); } catch (e) { console.error('live handler', type, e); }
    }
  }

  setState(s) {
    if (this.state === s) return;
    this.state = s;
    for (const fn of this.stateFns) fn(s);
  }

  start() {
    if (this.state === 'paused') return;
    clearTimeout(this.timer);
    if (this.es) this.es.close();
    const es = new EventSource(this.url);
    this.es = es;
    es.onopen = () => {
      if (this.es !== es) return;
      this.backoff = 1000;
      this.connects++;
      this.setState('live');
      this.emit('open', { reconnect: this.connects > 1 });
    };
    es.onerror = () => {
      if (this.es !== es) return;
      this.setState('reconnecting');
      if (es.readyState === EventSource.CLOSED) {   // the browser gave up: retry ourselves
        es.close();
        this.es = null;
        this.timer = setTimeout(() => this.start(), this.backoff);
        this.backoff = Math.min(this.backoff * 2, 15000);
      }
    };
    for (const t of TYPES) {
      es.addEventListener(t, (e) => {
        if (this.es !== es) return;
        this.lastEvent = Date.now();
        let data = null;
        try { data = e.data ? JSON.parse(e.data) : null; } catch { data = e.data; }
        if (t === 'reset') this.emit('open', { reset: true, reason: data && data.reason });
        else if (t !== 'hello') this.emit(t, data);
      });
    }
  }

  pause() {
    clearTimeout(this.timer);
    if (this.es) { this.es.close(); this.es = null; }
    this.setState('paused');
  }

  resume() {
    this.state = 'connecting';
    this.setState('reconnecting');
    this.start();
  }

  toggle() { if (this.state === 'paused') this.resume(); else this.pause(); }
}
