// A Transmission RPC client: JSON over POST, with the session-id handshake (a 409 answer
// carries the id to send back). The browser adds the page's basic-auth credentials.
export class Rpc {
  constructor(url = '/transmission/rpc') {
    this.url = url;
    this.sessionId = '';
  }

  async call(method, args = {}) {
    for (let attempt = 0; attempt < 2; ++attempt) {
      const res = await fetch(this.url, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', 'X-Transmission-Session-Id': this.sessionId },
        body: JSON.stringify({ method, arguments: args }),
      });
      if (res.status === 409) {
        this.sessionId = res.headers.get('X-Transmission-Session-Id') || '';
        await res.text();  // read to its end: a dropped body counts as an aborted load
        continue;
      }
      if (!res.ok) throw new Error(`${method}: HTTP ${res.status}`);
      const body = await res.json();
      if (body.result !== 'success') throw new Error(`${method}: ${body.result}`);
      return body.arguments || {};
    }
    throw new Error(`${method}: no session id`);
  }
}
