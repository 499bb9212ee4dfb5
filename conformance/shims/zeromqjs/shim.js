// The conformance kit's shim (spec/shim.md) for zeromq.js (npm package `zeromq` 6.x,
// which carries its own libzmq). The kit copies this file and package.json into a cache
// directory, runs `npm install` there once, and starts `node shim.js`.
//
// One JSON request per line on stdin, one JSON response per line on stdout, in order;
// logs go to stderr. Requests are handled one at a time, in order. Also answers the kit
// extension `zap` (spec/conform.md): a ZAP handler admitting the given PLAIN users and
// every NULL and CURVE client.
"use strict";

const readline = require("readline");
const zmq = require("zeromq");

const CLASSES = {
  PAIR: zmq.Pair, PUB: zmq.Publisher, SUB: zmq.Subscriber, REQ: zmq.Request,
  REP: zmq.Reply, DEALER: zmq.Dealer, ROUTER: zmq.Router, PULL: zmq.Pull,
  PUSH: zmq.Push, XPUB: zmq.XPublisher, XSUB: zmq.XSubscriber,
};
const NUMBERS = {
  sndhwm: "sendHighWaterMark", rcvhwm: "receiveHighWaterMark", linger: "linger",
  sndbuf: "sendBufferSize", rcvbuf: "receiveBufferSize", reconnect_ivl: "reconnectInterval",
  heartbeat_ivl: "heartbeatInterval", heartbeat_timeout: "heartbeatTimeout",
  heartbeat_ttl: "heartbeatTimeToLive",
};
const FLAGS = {
  immediate: "immediate", router_mandatory: "mandatory", router_handover: "handover",
  req_relaxed: "relaxed", req_correlate: "correlate", plain_server: "plainServer",
  curve_server: "curveServer",
};
const TEXTS = {
  plain_username: "plainUsername", plain_password: "plainPassword", zap_domain: "zapDomain",
  routing_id: "routingId",
};
const KEYS = {
  curve_publickey: "curvePublicKey", curve_secretkey: "curveSecretKey",
  curve_serverkey: "curveServerKey",
};
const Z85 = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";

class Failure extends Error {
  constructor(error, detail) {
    super(detail);
    this.error = error;
  }
}

const sockets = new Map();
let zap = null;
let zapUsers = {};

function z85(buf) {
  let out = "";
  for (let i = 0; i < buf.length; i += 4) {
    let value = buf.readUInt32BE(i);
    let chunk = "";
    for (let j = 0; j < 5; j++) {
      chunk = Z85[value % 85] + chunk;
      value = Math.floor(value / 85);
    }
    out += chunk;
  }
  return out;
}

function binary(value) {
  return Buffer.from(String(value), "base64");
}

function ascii(buf, name) {
  if (buf.some((b) => b < 0x20 || b > 0x7e)) {
    throw new Failure("EINVAL", `zeromq.js takes ${name} as a string; not ${buf.toString("hex")}`);
  }
  return buf.toString("latin1");
}

function sock(req) {
  const s = sockets.get(String(req.id));
  if (!s) throw new Failure("EINVAL", `no socket ${req.id}`);
  return s;
}

function set(s, name, value) {
  if (name === "subscribe" || name === "unsubscribe") {
    if (typeof s[name] !== "function") throw new Failure("ENOTSUP", `${name} on this type`);
    s[name](binary(value));
  } else if (name === "xpub_verbose") {
    if (!("verbosity" in s)) throw new Failure("ENOTSUP", "xpub_verbose on this type");
    s.verbosity = value ? "allSubs" : null;
  } else if (name in NUMBERS && NUMBERS[name] in s) {
    s[NUMBERS[name]] = Number(value);
  } else if (name in FLAGS && FLAGS[name] in s) {
    s[FLAGS[name]] = Boolean(value);
  } else if (name in TEXTS && TEXTS[name] in s) {
    s[TEXTS[name]] = typeof value === "string" && name !== "zap_domain"
      ? ascii(binary(value), name) : String(value);
  } else if (name in KEYS && KEYS[name] in s) {
    s[KEYS[name]] = z85(binary(value));
  } else {
    throw new Failure("ENOTSUP", `no option ${name} on this socket`);
  }
}

function hello() {
  const mechanisms = ["NULL", "PLAIN"].concat(zmq.capability.curve ? ["CURVE"] : []);
  let version = "";
  try {
    version = require("zeromq/package.json").version;
  } catch (e) {
    version = "?";
  }
  return {
    name: "zeromqjs", version: `${version} (libzmq ${zmq.version})`, protocol: 1,
    capabilities: {
      socket_types: Object.keys(CLASSES), transports: ["tcp", "ipc", "inproc"],
      mechanisms, zmtp: ["3.1", "3.0", "2.0"],
    },
  };
}

async function startZap() {
  zap = new zmq.Reply({ linger: 0 });
  await zap.bind("inproc://zeromq.zap.01");
  (async () => {
    for await (const frames of zap) {
      const [version, requestId] = frames;
      const mechanism = frames[5].toString("latin1");
      const creds = frames.slice(6).map((f) => f.toString("latin1"));
      const ok = mechanism !== "PLAIN" || (creds.length === 2 && zapUsers[creds[0]] === creds[1]);
      const status = ok ? ["200", "OK"] : ["400", "unknown user or wrong password"];
      await zap.send([version, requestId, ...status, "", ""]);
    }
  })().catch((e) => process.stderr.write(`zap handler: ${e}\n`));
}

const OPS = {
  hello: async () => hello(),
  socket: async (req) => {
    const Class = CLASSES[String(req.type)];
    if (!Class) throw new Failure("EINVAL", `no socket type ${req.type}`);
    const s = new Class({ linger: 0 });
    sockets.set(String(req.id), s);
    for (const [name, value] of Object.entries(req.options || {})) set(s, name, value);
    return {};
  },
  setsockopt: async (req) => { set(sock(req), String(req.name), req.value); return {}; },
  bind: async (req) => {
    const s = sock(req);
    await s.bind(String(req.endpoint).replace(/^(tcp:\/\/.*):0$/, "$1:*"));
    return { endpoint: s.lastEndpoint };
  },
  connect: async (req) => { sock(req).connect(String(req.endpoint)); return {}; },
  unbind: async (req) => { await sock(req).unbind(String(req.endpoint)); return {}; },
  disconnect: async (req) => { sock(req).disconnect(String(req.endpoint)); return {}; },
  send: async (req) => {
    const s = sock(req);
    if (typeof s.send !== "function") throw new Failure("ENOTSUP", "this type does not send");
    s.sendTimeout = Number(req.timeout_ms ?? 1000);
    const frames = (req.frames || []).map(binary);
    await s.send(frames.length === 1 ? frames[0] : frames);
    return {};
  },
  recv: async (req) => {
    const s = sock(req);
    if (typeof s.receive !== "function") throw new Failure("ENOTSUP", "this type does not receive");
    s.receiveTimeout = Number(req.timeout_ms ?? 1000);
    const frames = await s.receive();
    return { frames: frames.map((f) => Buffer.from(f).toString("base64")) };
  },
  close: async (req) => { sock(req).close(); sockets.delete(String(req.id)); return {}; },
  zap: async (req) => {
    if (!zap) await startZap();
    zapUsers = Object.assign({}, req.users || {});
    return {};
  },
};

async function answer(req) {
  const op = OPS[req.op];
  if (!op) return { ok: false, error: "ENOTSUP", detail: `unknown op ${req.op}` };
  try {
    return Object.assign({ ok: true }, await op(req));
  } catch (e) {
    if (e instanceof Failure) return { ok: false, error: e.error, detail: e.message };
    const code = typeof e.code === "string" && /^E[A-Z]+$/.test(e.code) ? e.code : "EINVAL";
    return { ok: false, error: code, detail: String(e.message || e) };
  }
}

function write(obj) {
  return new Promise((resolve) => process.stdout.write(JSON.stringify(obj) + "\n", resolve));
}

async function main() {
  const lines = readline.createInterface({ input: process.stdin, terminal: false });
  for await (const line of lines) {
    let req;
    try {
      req = JSON.parse(line);
      if (typeof req !== "object" || req === null || Array.isArray(req)) throw new Error("not an object");
    } catch (e) {
      await write({ ok: false, error: "EINVAL", detail: `bad JSON: ${e.message}` });
      continue;
    }
    const quit = req.op === "quit";
    const response = quit ? { ok: true } : await answer(req);
    if ("seq" in req) response.seq = req.seq;
    await write(response);
    if (quit) break;
  }
  for (const s of sockets.values()) s.close();
  if (zap) zap.close();
  process.exit(0);
}

main().catch((e) => {
  process.stderr.write(`shim: ${e.stack || e}\n`);
  process.exit(1);
});
