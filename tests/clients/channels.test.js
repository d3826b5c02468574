// Phoenix Channels clients against pga's endpoint: the real `phoenix` npm
// client (with `ws` as its transport) and raw `ws` sockets where the test
// needs to see HTTP statuses, close codes or exact frames. Driven by
// tests/interop/500_channels.exs, which starts the gateways and the
// service node and passes, in the environment:
//   PGA_WS_TOKEN_URL  ws://HOST:PORT/socket of the phoenix_token gateway
//   PGA_WS_OPEN_URL   the same for the "auth": "none" gateway
//   PGA_WS_RPC_URL    the same for the "auth": {"rpc": ...} gateway
//   PGA_WSS_URL, PGA_WSS_CA  wss:// of the TLS gateway, its certificate
//   PGA_TOKEN_U1, PGA_TOKEN_EXPIRED, PGA_TOKEN_WRONG_SALT, PGA_TOKEN_MAP
//   PGA_ONLY          optional: run only tests whose name contains it
// Output: "ok - NAME" / "not ok - NAME" per test with "#   " diagnostics,
// and "@stop REQUEST_ID" when the scenario must stop a stream through
// PhoenixGenApi.stop_stream/1 (it answers nothing; the client sees the
// end); "@done N" closes a complete run.
'use strict';

const path = require('path');
const net = require('net');
const {Socket} = require(path.join(__dirname, 'node_modules', 'phoenix'));
const WebSocket = require(path.join(__dirname, 'node_modules', 'ws'));

const env = process.env;
const TOKEN_URL = env.PGA_WS_TOKEN_URL;
const OPEN_URL = env.PGA_WS_OPEN_URL;
const RPC_URL = env.PGA_WS_RPC_URL;
const WSS_URL = env.PGA_WSS_URL;
const U1 = env.PGA_TOKEN_U1;
const EVENT = 'phoenix_gen_api';
const scale = Number(env.PGA_TMO_SCALE || '1');
const ms = (n) => Math.round(n * scale);

// ---- helpers ----------------------------------------------------------------

const sleep = (n) => new Promise((r) => setTimeout(r, n));

function deepEqual(a, b) {
  return JSON.stringify(sortKeys(a)) === JSON.stringify(sortKeys(b));
}

function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    const o = {};
    for (const k of Object.keys(v).sort()) o[k] = sortKeys(v[k]);
    return o;
  }
  return v;
}

function check(cond, what, got) {
  if (!cond) {
    const e = new Error(what);
    e.got = got;
    throw e;
  }
}

function expectEq(got, want, what) {
  check(deepEqual(got, want), `${what}: expected ${JSON.stringify(want)}`, got);
}

function resp(over) {
  return Object.assign({async: false, can_retry: false, error: null,
    has_more: false, request_id: null, result: null, success: false}, over);
}

// A phoenix.js socket that logs every frame it receives.
function phx(url, params, opts = {}) {
  const log = [];
  const socket = new Socket(url, Object.assign({
    transport: WebSocket, params, heartbeatIntervalMs: 500,
    reconnectAfterMs: () => 50, rejoinAfterMs: () => 50,
    logger: () => {},
  }, opts));
  socket.onMessage((m) => log.push(m));
  return {socket, log};
}

function connect(s) {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no open within 5 s')), ms(5000));
    s.socket.onOpen(() => { clearTimeout(t); resolve(); });
    s.socket.connect();
  });
}

function join(ch) {
  return new Promise((resolve, reject) => {
    ch.join(ms(5000))
      .receive('ok', (r) => resolve(r))
      .receive('error', (r) => reject(Object.assign(new Error('join refused'), {got: r})))
      .receive('timeout', () => reject(new Error('join timed out')));
  });
}

// Pushes a request; resolves {status, response} of the reply.
function request(ch, payload, event = EVENT) {
  return new Promise((resolve) => {
    ch.push(event, payload, ms(5000))
      .receive('ok', (r) => resolve({status: 'ok', response: r}))
      .receive('error', (r) => resolve({status: 'error', response: r}))
      .receive('timeout', () => resolve({status: 'timeout'}));
  });
}

// Frames of the socket's log, from index `from`, for topic (pushes and
// replies), as [event, payload] pairs.
function frames(s, topic, from = 0) {
  return s.log.slice(from).filter((m) => m.topic === topic).map((m) => [m.event, m.payload]);
}

async function waitFor(fn, what, timeout = 5000) {
  const end = Date.now() + ms(timeout);
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

function pushesFor(s, topic, rid) {
  return s.log.filter((m) => m.topic === topic && m.event === EVENT &&
    m.payload && m.payload.request_id === rid).map((m) => m.payload);
}

// A raw ws connection: {ws, msgs, status, closed}.
function raw(url, opts = {}) {
  return new Promise((resolve) => {
    const r = {msgs: [], status: null, closed: null};
    const ws = new WebSocket(url, opts);
    r.ws = ws;
    ws.on('message', (d) => r.msgs.push(JSON.parse(d.toString())));
    ws.on('unexpected-response', (req, res) => { r.status = res.statusCode; resolve(r); });
    ws.on('open', () => { r.status = 101; resolve(r); });
    ws.on('error', () => { if (r.status === null) { r.status = 'error'; resolve(r); } });
    ws.on('close', (code) => { r.closed = code; });
  });
}

function wsUrl(base, params) {
  const q = new URLSearchParams(Object.assign({vsn: '2.0.0'}, params));
  return `${base}/websocket?${q}`;
}

// ---- tests ------------------------------------------------------------------

const tests = [];
const test = (name, fn) => tests.push({name, fn});

test('connect with a Phoenix.Token and join gen_api:u1 -> {} (phoenix.js)', async () => {
  const s = phx(TOKEN_URL, {token: U1});
  await connect(s);
  const r = await join(s.socket.channel('gen_api:u1'));
  expectEq(r, {}, 'join response');
  s.socket.disconnect();
});

test('sync request: the Response is pushed before the reply {ok, request_type}', async () => {
  const s = phx(TOKEN_URL, {token: U1});
  await connect(s);
  const ch = s.socket.channel('gen_api:u1');
  await join(ch);
  const from = s.log.length;
  const r = await request(ch, {request_id: 'r1', request_type: 'echo', service: 'svc', args: {msg: 'x'}});
  expectEq(r, {status: 'ok', response: 'echo'}, 'reply');
  expectEq(frames(s, 'gen_api:u1', from), [
    [EVENT, resp({request_id: 'r1', result: 'x', success: true})],
    ['phx_reply', {status: 'ok', response: 'echo'}]], 'frames in order');
  // pushes carry ref null and the join_ref
  const push = s.log.slice(from).find((m) => m.event === EVENT);
  check(push.ref === null && push.join_ref === ch.joinRef(), 'push refs', push);
  s.socket.disconnect();
});

test('async request: ack push, reply, then the result push', async () => {
  const s = phx(TOKEN_URL, {token: U1});
  await connect(s);
  const ch = s.socket.channel('gen_api:u1');
  await join(ch);
  const from = s.log.length;
  const r = await request(ch, {request_id: 'a1', request_type: 'slow', service: 'svc', args: {ms: 100}});
  expectEq(r, {status: 'ok', response: 'slow'}, 'reply');
  await waitFor(() => pushesFor(s, 'gen_api:u1', 'a1').length >= 2, 'the async result');
  expectEq(frames(s, 'gen_api:u1', from), [
    [EVENT, resp({request_id: 'a1', async: true, success: true})],
    ['phx_reply', {status: 'ok', response: 'slow'}],
    [EVENT, resp({request_id: 'a1', result: 'done 100', success: true})]], 'frames');
  s.socket.disconnect();
});

test('none request: no push, reply {ok, request_type}', async () => {
  const s = phx(TOKEN_URL, {token: U1});
  await connect(s);
  const ch = s.socket.channel('gen_api:u1');
  await join(ch);
  const from = s.log.length;
  const r = await request(ch, {request_id: 'n1', request_type: 'fire', service: 'svc', args: {msg: 'y'}});
  expectEq(r, {status: 'ok', response: 'fire'}, 'reply');
  await sleep(ms(300));
  expectEq(frames(s, 'gen_api:u1', from), [['phx_reply', {status: 'ok', response: 'fire'}]], 'frames');
  s.socket.disconnect();
});

test('stream request: init, reply, nested first chunk, chunks, last chunk', async () => {
  const s = phx(TOKEN_URL, {token: U1});
  await connect(s);
  const ch = s.socket.channel('gen_api:u1');
  await join(ch);
  const from = s.log.length;
  const r = await request(ch, {request_id: 's1', request_type: 'stream', service: 'svc', args: {n: 3}});
  expectEq(r, {status: 'ok', response: 'stream'}, 'reply');
  await waitFor(() => pushesFor(s, 'gen_api:u1', 's1').some((p) => !p.has_more), 'the last chunk');
  const chunk = (result, more = true) => [EVENT, resp({request_id: 's1', async: true, has_more: more, result, success: true})];
  expectEq(frames(s, 'gen_api:u1', from), [
    chunk('init'),
    ['phx_reply', {status: 'ok', response: 'stream'}],
    chunk(resp({request_id: 's1', result: 'started', success: true})),
    chunk({i: 1}), chunk({i: 2}), chunk({i: 3}), chunk('end', false)], 'frames');
  s.socket.disconnect();
});

test('errors: unsupported function (pushed), Invalid request (DecodeError), Request processing failed', async () => {
  const s = phx(TOKEN_URL, {token: U1});
  await connect(s);
  const ch = s.socket.channel('gen_api:u1');
  await join(ch);
  let from = s.log.length;
  let r = await request(ch, {request_id: 'e1', request_type: 'nope', service: 'svc'});
  expectEq(r, {status: 'ok', response: 'nope'}, 'unsupported: reply');
  expectEq(pushesFor(s, 'gen_api:u1', 'e1'), [resp({request_id: 'e1', error: 'unsupported function: nope version latest'})], 'unsupported: push');
  r = await request(ch, {request_id: 'e2', request_type: 'echo'});
  expectEq(r, {status: 'error', response: 'Missing required fields: service'}, 'decode: reply');
  expectEq(pushesFor(s, 'gen_api:u1', 'e2'), [resp({request_id: 'e2', error: 'Invalid request: Missing required fields: service'})], 'decode: push');
  r = await request(ch, {request_type: 'echo'});
  expectEq(pushesFor(s, 'gen_api:u1', 'unknown'), [resp({request_id: 'unknown', error: 'Invalid request: Missing required fields: request_id, service'})], 'no request_id: "unknown"');
  r = await request(ch, {request_id: 'e3', request_type: 'double', service: 'svc', args: {n: 'A'}});
  expectEq(r, {status: 'error', response: 'invalid argument type for "n", expected :num, got "A"'}, 'args: reply');
  expectEq(pushesFor(s, 'gen_api:u1', 'e3'), [resp({request_id: 'e3', error: 'Request processing failed'})], 'args: push');
  s.socket.disconnect();
});

test('user_id: the token\'s user overrides the client\'s (override_user_id)', async () => {
  const s = phx(TOKEN_URL, {token: U1});
  await connect(s);
  const ch = s.socket.channel('gen_api:u1');
  await join(ch);
  await request(ch, {request_id: 'w1', request_type: 'whoami', service: 'svc', user_id: 'evil'});
  expectEq(pushesFor(s, 'gen_api:u1', 'w1').map((p) => p.result), ['u1'], 'user_id seen by the service');
  s.socket.disconnect();
});

test('a token in the older map form %{data:, signed:} is accepted', async () => {
  const r = await raw(wsUrl(TOKEN_URL, {token: env.PGA_TOKEN_MAP}));
  expectEq(r.status, 101, 'status');
  r.ws.close();
});

test('refused connects get HTTP 403: no token, expired, wrong salt, garbage', async () => {
  for (const [what, token] of [['no token', undefined], ['expired', env.PGA_TOKEN_EXPIRED],
    ['wrong salt', env.PGA_TOKEN_WRONG_SALT], ['garbage', 'SFMyNTY.x.y'],
    ['tampered', U1.slice(0, -2) + (U1.endsWith('AA') ? 'BB' : 'AA')]]) {
    const r = await raw(wsUrl(TOKEN_URL, token === undefined ? {} : {token}));
    expectEq(r.status, 403, what);
  }
});

test('phoenix.js with a refused token: error callbacks, never opens', async () => {
  const s = phx(TOKEN_URL, {token: env.PGA_TOKEN_EXPIRED}, {reconnectAfterMs: () => 60000});
  let opened = false;
  let errors = 0;
  s.socket.onOpen(() => { opened = true; });
  s.socket.onError(() => { errors++; });
  s.socket.connect();
  await waitFor(() => errors > 0, 'the error callback');
  await sleep(ms(200));
  check(!opened, 'never opened', opened);
  s.socket.disconnect();
});

test('check_origin: a listed origin and no origin pass, another origin gets 403', async () => {
  const url = wsUrl(TOKEN_URL, {token: U1});
  let r = await raw(url, {origin: 'https://evil.example.com'});
  expectEq(r.status, 403, 'evil origin');
  r = await raw(url, {origin: 'https://app.example.com'});
  expectEq(r.status, 101, 'listed origin');
  r.ws.close();
  r = await raw(url);
  expectEq(r.status, 101, 'no origin');
  r.ws.close();
});

test('unmatched topic: join error {reason: "unmatched topic"}', async () => {
  const s = phx(TOKEN_URL, {token: U1});
  await connect(s);
  let got = null;
  await new Promise((resolve) => {
    s.socket.channel('other:1').join().receive('error', (r) => { got = r; resolve(); })
      .receive('ok', resolve).receive('timeout', resolve);
  });
  expectEq(got, {reason: 'unmatched topic'}, 'join reply');
  s.socket.disconnect();
});

test('raw frames: heartbeat reply, exact topic join, leave -> reply then phx_close, message after leave -> unmatched', async () => {
  const r = await raw(wsUrl(TOKEN_URL, {token: U1}));
  const send = (m) => r.ws.send(JSON.stringify(m));
  send([null, '1', 'phoenix', 'heartbeat', {}]);
  send(['2', '2', 'gen_api:exact', 'phx_join', {}]);
  send(['2', '3', 'gen_api:exact', 'phx_leave', {}]);
  send(['2', '4', 'gen_api:exact', EVENT, {request_id: 'x'}]);
  await waitFor(() => r.msgs.length >= 5, 'five frames');
  expectEq(r.msgs, [
    [null, '1', 'phoenix', 'phx_reply', {response: {}, status: 'ok'}],
    ['2', '2', 'gen_api:exact', 'phx_reply', {response: {}, status: 'ok'}],
    ['2', '3', 'gen_api:exact', 'phx_reply', {response: {}, status: 'ok'}],
    ['2', '2', 'gen_api:exact', 'phx_close', {}],
    [null, '4', 'gen_api:exact', 'phx_reply', {response: {reason: 'unmatched topic'}, status: 'error'}]], 'frames');
  r.ws.close();
});

test('raw frames: duplicate join closes the first; an unknown event crashes the channel (phx_error)', async () => {
  const r = await raw(wsUrl(TOKEN_URL, {token: U1}));
  const send = (m) => r.ws.send(JSON.stringify(m));
  send(['1', '1', 'gen_api:d', 'phx_join', {}]);
  send(['5', '5', 'gen_api:d', 'phx_join', {}]);
  send(['5', '6', 'gen_api:d', 'bogus', {}]);
  await waitFor(() => r.msgs.length >= 4, 'four frames');
  expectEq(r.msgs, [
    ['1', '1', 'gen_api:d', 'phx_reply', {response: {}, status: 'ok'}],
    ['1', '1', 'gen_api:d', 'phx_close', {}],
    ['5', '5', 'gen_api:d', 'phx_reply', {response: {}, status: 'ok'}],
    ['5', '5', 'gen_api:d', 'phx_error', {}]], 'frames');
  r.ws.close();
});

test('vsn 1.0.0: object messages', async () => {
  const r = await raw(`${TOKEN_URL}/websocket?vsn=1.0.0&token=${encodeURIComponent(U1)}`);
  r.ws.send(JSON.stringify({topic: 'gen_api:v1', event: 'phx_join', payload: {}, ref: '1', join_ref: '1'}));
  r.ws.send(JSON.stringify({topic: 'gen_api:v1', event: EVENT, ref: '2', join_ref: '1',
    payload: {request_id: 'v1', request_type: 'echo', service: 'svc', args: {msg: 'v'}}}));
  await waitFor(() => r.msgs.length >= 3, 'three frames');
  expectEq(r.msgs, [
    {topic: 'gen_api:v1', event: 'phx_reply', ref: '1', payload: {response: {}, status: 'ok'}},
    {topic: 'gen_api:v1', event: EVENT, ref: null, payload: resp({request_id: 'v1', result: 'v', success: true})},
    {topic: 'gen_api:v1', event: 'phx_reply', ref: '2', payload: {response: 'echo', status: 'ok'}}], 'frames');
  r.ws.close();
});

test('heartbeats keep a connection open past heartbeat_timeout_ms (phoenix.js)', async () => {
  const s = phx(TOKEN_URL, {token: U1});
  await connect(s);
  let closed = false;
  s.socket.onClose(() => { closed = true; });
  await sleep(ms(3000)); // the gateway's timeout is 1500 ms
  check(!closed, 'still open', closed);
  s.socket.disconnect();
});

test('a silent client is closed after heartbeat_timeout_ms (close 1001)', async () => {
  const r = await raw(wsUrl(TOKEN_URL, {token: U1}));
  const t0 = Date.now();
  await waitFor(() => r.closed !== null, 'the close', 6000);
  expectEq(r.closed, 1001, 'close code');
  check(Date.now() - t0 >= 1000, 'not before the timeout', Date.now() - t0);
});

test('stop of a stream (PhoenixGenApi.stop_stream/1): the client gets the end', async () => {
  const s = phx(TOKEN_URL, {token: U1});
  await connect(s);
  const ch = s.socket.channel('gen_api:u1');
  await join(ch);
  await request(ch, {request_id: 'stop1', request_type: 'endless', service: 'svc'});
  await waitFor(() => pushesFor(s, 'gen_api:u1', 'stop1').some((p) => p.result && p.result.i), 'a chunk');
  console.log('@stop stop1');
  await waitFor(() => pushesFor(s, 'gen_api:u1', 'stop1').some((p) => !p.has_more), 'the end');
  const last = pushesFor(s, 'gen_api:u1', 'stop1').pop();
  expectEq(last, resp({request_id: 'stop1', async: true, success: true}), 'end Response');
  s.socket.disconnect();
});

test('leave stops a stream; so does a disconnect (relays checked by the scenario)', async () => {
  const s = phx(TOKEN_URL, {token: U1});
  await connect(s);
  const ch = s.socket.channel('gen_api:u1');
  await join(ch);
  await request(ch, {request_id: 'leave1', request_type: 'endless', service: 'svc'});
  await waitFor(() => pushesFor(s, 'gen_api:u1', 'leave1').some((p) => p.result && p.result.i), 'a chunk');
  await new Promise((resolve) => ch.leave().receive('ok', resolve).receive('timeout', resolve));
  const t = s.socket.channel('gen_api:t2');
  await join(t);
  await request(t, {request_id: 'disc1', request_type: 'endless', service: 'svc'});
  await waitFor(() => pushesFor(s, 'gen_api:t2', 'disc1').some((p) => p.result && p.result.i), 'a chunk');
  s.socket.disconnect();
  await sleep(ms(300));
});

test('reconnect and rejoin: after the transport drops, phoenix.js rejoins and requests work', async () => {
  const s = phx(TOKEN_URL, {token: U1});
  await connect(s);
  const ch = s.socket.channel('gen_api:u1');
  await join(ch);
  let r = await request(ch, {request_id: 'rc1', request_type: 'echo', service: 'svc', args: {msg: 'a'}});
  expectEq(r, {status: 'ok', response: 'echo'}, 'before');
  const joins = () => s.log.filter((m) => m.topic === 'gen_api:u1' && m.event === 'phx_reply' &&
    m.payload.status === 'ok' && deepEqual(m.payload.response, {})).length;
  const before = joins();
  s.socket.conn.close(3000, 'test drop');
  await waitFor(() => joins() > before && ch.isJoined(), 'the rejoin');
  r = await request(ch, {request_id: 'rc2', request_type: 'echo', service: 'svc', args: {msg: 'b'}});
  expectEq(r, {status: 'ok', response: 'echo'}, 'after');
  s.socket.disconnect();
});

test('auth none + require_verified_user_id: "Authentication required" pushed and replied', async () => {
  const s = phx(OPEN_URL, {});
  await connect(s);
  const ch = s.socket.channel('room:lobby');
  await join(ch);
  const r = await request(ch, {request_id: 'p1', request_type: 'echo', service: 'svc', args: {msg: 'x'}});
  expectEq(r, {status: 'error', response: 'Authentication required'}, 'reply');
  expectEq(pushesFor(s, 'room:lobby', 'p1'), [resp({request_id: 'p1', error: 'Authentication required'})], 'push');
  s.socket.disconnect();
});

test('1,000 clients at once: each joins and runs one request', async () => {
  const n = 1000;
  const sockets = [];
  const one = async (i) => {
    const s = phx(TOKEN_URL, {token: U1}, {heartbeatIntervalMs: 500});
    sockets.push(s);
    await connect(s);
    const ch = s.socket.channel(`gen_api:c${i}`);
    await join(ch);
    return request(ch, {request_id: `m${i}`, request_type: 'echo', service: 'svc', args: {msg: `m${i}`}});
  };
  const t0 = Date.now();
  const rs = await Promise.all(Array.from({length: n}, (_, i) => one(i)));
  const good = rs.filter((r) => r.status === 'ok').length;
  console.log(`#   1,000 clients connected, joined and answered in ${Date.now() - t0} ms`);
  const pushed = sockets.filter((s, i) => s.log.some((m) => m.event === EVENT)).length;
  sockets.forEach((s) => s.socket.disconnect());
  expectEq([good, pushed], [n, n], 'replies and pushes');
});


// ---- rpc auth ------------------------------------------------------------------

test('rpc auth: Auth.connect(params, connect_info) on the service node decides; its user_id is the socket\'s', async () => {
  class TenantWS extends WebSocket {
    constructor(url, protocols) { super(url, protocols, {headers: {'X-Tenant': 't1'}}); }
  }
  const s = phx(RPC_URL, {user: 'ann', pass: 'secret'}, {transport: TenantWS});
  await connect(s);
  const ch = s.socket.channel('gen_api:ann');
  await join(ch);
  await request(ch, {request_id: 'ra1', request_type: 'whoami', service: 'svc'});
  expectEq(pushesFor(s, 'gen_api:ann', 'ra1').map((p) => p.result), ['ann/t1'], 'user_id');
  s.socket.disconnect();
  const r = await raw(wsUrl(RPC_URL, {user: 'ann', pass: 'wrong'}));
  expectEq(r.status, 403, 'refused by Auth.connect');
});

// ---- wss ---------------------------------------------------------------------------

test('wss: phoenix.js over TLS (the gateway\'s certificate trusted): join, a sync request, a stream', async () => {
  const fs = require('fs');
  const ca = fs.readFileSync(env.PGA_WSS_CA);
  class CaWS extends WebSocket {
    constructor(url, protocols) { super(url, protocols, {ca}); }
  }
  check(WSS_URL && WSS_URL.startsWith('wss://'), 'a wss URL', WSS_URL);
  const s = phx(WSS_URL, {}, {transport: CaWS});
  await connect(s);
  const ch = s.socket.channel('gen_api:tls');
  await join(ch);
  let r = await request(ch, {request_id: 'w1', request_type: 'echo', service: 'svc', args: {msg: 'secure'}});
  expectEq(r, {status: 'ok', response: 'echo'}, 'reply');
  expectEq(pushesFor(s, 'gen_api:tls', 'w1').map((p) => p.result), ['secure'], 'push');
  r = await request(ch, {request_id: 'w2', request_type: 'stream', service: 'svc', args: {n: 50}});
  await waitFor(() => pushesFor(s, 'gen_api:tls', 'w2').some((p) => !p.has_more), 'the last chunk');
  expectEq(pushesFor(s, 'gen_api:tls', 'w2').length, 53, 'init, first chunk, 50 chunks, end');
  s.socket.disconnect();
});

test('wss: a plain HTTP upgrade or junk on the TLS port is dropped; TLS clients still served', async () => {
  const plain = WSS_URL.replace('wss://', 'ws://');
  let r = await raw(wsUrl(plain, {}));
  check(r.status !== 101, 'no upgrade without TLS', r.status);
  const u = new URL(WSS_URL);
  const sock = net.connect(Number(u.port), u.hostname);
  let closed = false;
  sock.on('error', () => {});
  sock.on('close', () => { closed = true; });
  sock.on('connect', () => sock.write(Buffer.alloc(600, 0x16)));
  await waitFor(() => closed, 'the junk connection closed');
  const fs = require('fs');
  r = await raw(wsUrl(WSS_URL, {}), {ca: fs.readFileSync(env.PGA_WSS_CA)});
  expectEq(r.status, 101, 'TLS upgrade');
  r.ws.close();
});

// ---- MessagePack ---------------------------------------------------------------

const msgpack = require(path.join(__dirname, 'node_modules', '@msgpack', 'msgpack'));
// phoenix.js with @msgpack/msgpack: the V2 array, one binary frame each.
const mpCodec = {
  encode: (m, cb) => cb(msgpack.encode([m.join_ref, m.ref, m.topic, m.event, m.payload])),
  decode: (raw, cb) => {
    const [join_ref, ref, topic, event, payload] = msgpack.decode(new Uint8Array(raw));
    cb({join_ref, ref, topic, event, payload});
  },
};

test('msgpack serializer (serializer=msgpack): join, a sync request and a stream, as with JSON', async () => {
  const s = phx(TOKEN_URL, {token: U1, serializer: 'msgpack'}, mpCodec);
  await connect(s);
  const ch = s.socket.channel('gen_api:mp');
  expectEq(await join(ch), {}, 'join');
  const from = s.log.length;
  let r = await request(ch, {request_id: 'mp1', request_type: 'echo', service: 'svc', args: {msg: 'ü'}});
  expectEq(r, {status: 'ok', response: 'echo'}, 'reply');
  r = await request(ch, {request_id: 'mp2', request_type: 'stream', service: 'svc', args: {n: 2}});
  await waitFor(() => pushesFor(s, 'gen_api:mp', 'mp2').some((p) => !p.has_more), 'the last chunk');
  const chunk = (result, more = true) => [EVENT, resp({request_id: 'mp2', async: true, has_more: more, result, success: true})];
  expectEq(frames(s, 'gen_api:mp', from), [
    [EVENT, resp({request_id: 'mp1', result: 'ü', success: true})],
    ['phx_reply', {status: 'ok', response: 'echo'}],
    chunk('init'), ['phx_reply', {status: 'ok', response: 'stream'}],
    chunk(resp({request_id: 'mp2', result: 'started', success: true})),
    chunk({i: 1}), chunk({i: 2}), chunk('end', false)], 'frames');
  s.socket.disconnect();
});

test('msgpack: an unknown serializer, or msgpack with vsn 1.0.0, is a refused connect (403)', async () => {
  let r = await raw(wsUrl(TOKEN_URL, {token: U1, serializer: 'bert'}));
  expectEq(r.status, 403, 'unknown serializer');
  r = await raw(wsUrl(TOKEN_URL, {token: U1, serializer: 'msgpack', vsn: '1.0.0'}));
  expectEq(r.status, 403, 'msgpack with vsn 1.0.0');
});

// ---- hostile input: raw TCP ---------------------------------------------------

const crypto = require('crypto');

// One WebSocket frame as a client writes it (masked unless told).
function frame(opcode, payload, {mask = true, fin = true, rsv = 0} = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = data.length;
  const head = [((fin ? 0x80 : 0) | (rsv << 4) | opcode)];
  const m = mask ? 0x80 : 0;
  if (len < 126) head.push(m | len);
  else if (len < 65536) head.push(m | 126, len >> 8, len & 255);
  else {
    head.push(m | 127, 0, 0, 0, 0);
    head.push((len >>> 24) & 255, (len >>> 16) & 255, (len >>> 8) & 255, len & 255);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), data]);
  const key = crypto.randomBytes(4);
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = data[i] ^ key[i & 3];
  return Buffer.concat([Buffer.from(head), key, body]);
}

// A TCP connection that sends the upgrade request; resolves once the 101
// (or another status) is in. r.data collects what follows; r.closed is
// set at the end.
function tcp(base, {params = {}, head = null} = {}) {
  return new Promise((resolve) => {
    const u = new URL(wsUrl(base, params));
    const r = {data: Buffer.alloc(0), status: null, closed: false};
    const sock = net.connect(Number(u.port), u.hostname);
    r.sock = sock;
    sock.on('connect', () => sock.write(head !== null ? head :
      `GET ${u.pathname}${u.search} HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n` +
      'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n' +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n'));
    sock.on('data', (d) => {
      r.data = Buffer.concat([r.data, d]);
      if (r.status === null) {
        const end = r.data.indexOf('\r\n\r\n');
        if (end >= 0) {
          r.status = Number(r.data.slice(9, 12).toString());
          r.data = r.data.slice(end + 4);
          resolve(r);
        }
      }
    });
    sock.on('error', () => {});
    sock.on('close', () => { r.closed = true; if (r.status === null) { r.status = 'closed'; resolve(r); } });
  });
}

// The close code of the server's close frame in r.data, or null.
function closeCode(r) {
  const d = r.data;
  for (let i = 0; i + 1 < d.length;) {
    const op = d[i] & 15;
    let len = d[i + 1] & 127;
    let off = i + 2;
    if (len === 126) { len = d.readUInt16BE(off); off += 2; }
    else if (len === 127) { len = Number(d.readBigUInt64BE(off)); off += 8; }
    if (op === 8) return len >= 2 ? d.readUInt16BE(off) : 1005;
    i = off + len;
  }
  return null;
}

async function stillServes() {
  const s = phx(OPEN_URL, {});
  await connect(s);
  const ch = s.socket.channel('room:lobby');
  await join(ch);
  s.socket.disconnect();
}

const closes = [
  ['an unmasked client frame', () => frame(1, '[null,"1","phoenix","heartbeat",{}]', {mask: false}), 1002],
  ['reserved bits set', () => frame(1, '[null,"1","phoenix","heartbeat",{}]', {rsv: 4}), 1002],
  ['an unknown opcode', () => frame(3, 'x'), 1002],
  ['invalid UTF-8 in a text frame', () => frame(1, Buffer.from([0x5b, 0xff, 0xfe, 0x5d])), 1007],
  ['junk JSON', () => frame(1, '{"not json'), 1003],
  ['a JSON array of the wrong arity', () => frame(1, '["1","2","t"]'), 1003],
  ['a message over max_frame_bytes', () => frame(2, Buffer.alloc(1048577, 0x20)), 1009],
  ['a binary message', () => frame(2, Buffer.from([0, 1, 2])), 1003],
];
const mpCloses = [
  ['msgpack: junk bytes', () => frame(2, Buffer.from([0xc1, 0x00])), 1003],
  ['msgpack: a map with an integer key', () => frame(2, Buffer.from([0x95, 0xa1, 0x31, 0xa1, 0x31, 0xa1, 0x74, 0xa1, 0x65, 0x81, 0x01, 0x02])), 1003],
  ['msgpack: trailing bytes', () => frame(2, Buffer.concat([Buffer.from(msgpack.encode(['1', '1', 't', 'e', {}])), Buffer.from([0])])), 1003],
  ['msgpack: a string that is not UTF-8', () => frame(2, Buffer.from([0x95, 0xc0, 0xc0, 0xa1, 0x74, 0xa1, 0x65, 0x81, 0xa1, 0x6b, 0xa2, 0xff, 0xfe])), 1003],
];
for (const [what, make, code] of mpCloses) {
  test(`hostile: ${what} -> close ${code}`, async () => {
    const r = await tcp(OPEN_URL, {params: {serializer: 'msgpack'}});
    expectEq(r.status, 101, 'upgrade');
    r.sock.write(make());
    await waitFor(() => closeCode(r) !== null || r.closed, 'the close');
    expectEq(closeCode(r), code, 'close code');
  });
}
for (const [what, make, code] of closes) {
  test(`hostile: ${what} -> close ${code}, other clients unaffected`, async () => {
    const r = await tcp(OPEN_URL);
    expectEq(r.status, 101, 'upgrade');
    r.sock.write(make());
    await waitFor(() => closeCode(r) !== null || r.closed, 'the close');
    expectEq(closeCode(r), code, 'close code');
    await waitFor(() => r.closed, 'the socket closed');
    await stillServes();
  });
}

test('hostile: a fragmented message is reassembled', async () => {
  const r = await tcp(OPEN_URL);
  const text = '[null,"7","phoenix","heartbeat",{}]';
  r.sock.write(Buffer.concat([frame(1, text.slice(0, 10), {fin: false}),
    frame(0, text.slice(10, 20), {fin: false}), frame(9, 'ping'), frame(0, text.slice(20))]));
  await waitFor(() => r.data.toString().includes('"7"'), 'the heartbeat reply');
  check(r.data.toString().includes('[null,"7","phoenix","phx_reply",{"response":{},"status":"ok"}]'), 'reply', r.data.toString());
  r.sock.destroy();
});

const refusals = [
  ['a head over 8 KiB', `GET /socket/websocket HTTP/1.1\r\nX: ${'a'.repeat(9000)}\r\n\r\n`, 431],
  ['not an upgrade', 'GET /socket/websocket HTTP/1.1\r\nHost: x\r\n\r\n', 400],
  ['another path', 'GET /elsewhere HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
    'Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n', 404],
  ['an old WebSocket version', 'GET /socket/websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n' +
    'Connection: Upgrade\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n', 426],
  ['an unknown vsn', 'GET /socket/websocket?vsn=3.0.0 HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n' +
    'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n', 403],
  ['binary junk', '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\r\n\r\n', 400],
];
for (const [what, head, status] of refusals) {
  test(`hostile: ${what} -> HTTP ${status} and close`, async () => {
    const r = await tcp(OPEN_URL, {head});
    expectEq(r.status, status, 'status');
    await waitFor(() => r.closed, 'the close');
  });
}

test('hostile: slowloris upgrades are dropped after 10 s; 10,000 idle connects never joining leave others served', async () => {
  const slow = [];
  for (let i = 0; i < 20; i++) {
    const u = new URL(OPEN_URL);
    const sock = net.connect(Number(u.port), u.hostname);
    const r = {closed: false};
    sock.on('error', () => {});
    sock.on('close', () => { r.closed = true; });
    sock.on('connect', () => sock.write('GET /socket/websocket HTTP/1.1\r\n'));
    r.timer = setInterval(() => { if (!r.closed) sock.write('X: y\r\n'); }, 500);
    slow.push(r);
  }
  const idle = [];
  const t0 = Date.now();
  for (let i = 0; i < 10000; i += 500) {
    const batch = await Promise.all(Array.from({length: 500}, () => tcp(OPEN_URL)));
    idle.push(...batch);
  }
  const up = idle.filter((r) => r.status === 101).length;
  console.log(`#   10,000 idle WebSocket connections opened in ${Date.now() - t0} ms`);
  const t1 = Date.now();
  await stillServes();
  console.log(`#   a client joined beside them in ${Date.now() - t1} ms`);
  await waitFor(() => slow.every((r) => r.closed), 'the slowloris closes', 15000);
  slow.forEach((r) => clearInterval(r.timer));
  idle.forEach((r) => r.sock.destroy());
  expectEq(up, 10000, 'upgraded');
});

// ---- runner -----------------------------------------------------------------

async function main() {
  let failed = 0;
  let ran = 0;
  for (const t of tests) {
    if (env.PGA_ONLY && !t.name.includes(env.PGA_ONLY)) continue;
    ran++;
    try {
      await Promise.race([t.fn(), sleep(ms(30000)).then(() => { throw new Error('test timed out'); })]);
      console.log(`ok - ${t.name}`);
    } catch (e) {
      failed++;
      console.log(`not ok - ${t.name}`);
      console.log(`#   ${e.message}`);
      if (e.got !== undefined) console.log(`#   got: ${JSON.stringify(e.got)}`.slice(0, 2000));
    }
  }
  console.log(`@done ${ran}`);
  process.exit(failed ? 1 : 0);
}

main();
