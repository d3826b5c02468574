// The README's example: a request and a stream through pga's endpoint
// with the phoenix npm package (run from tests/clients after npm ci):
//   node demo.js [ws://127.0.0.1:4000/socket]
const {Socket} = require("phoenix"), WebSocket = require("ws");

const socket = new Socket(process.argv[2] || "ws://127.0.0.1:4000/socket", {transport: WebSocket});
socket.connect();
const ch = socket.channel("gen_api:demo");
ch.on("phoenix_gen_api", (r) => {
  console.log(r.request_id, JSON.stringify(r.result), r.has_more ? "..." : "end");
  if (r.request_id === "t1" && !r.has_more) process.exit(0);
});
ch.join().receive("ok", () => {
  ch.push("phoenix_gen_api", {request_id: "a1", service: "pga_example", request_type: "add", args: {a: 1, b: 2}});
  ch.push("phoenix_gen_api", {request_id: "t1", service: "pga_example", request_type: "ticks", args: {count: 3}});
});
setTimeout(() => process.exit(1), 5000);
