// test_mcp.mjs: specdex-mcp driven by the reference MCP client, the
// TypeScript SDK's Client over stdio (@modelcontextprotocol/sdk, which
// nobody in this project wrote), on a real daemon; and the same server
// fed raw lines for what a well-behaved client never sends.
// usage: node test_mcp.mjs BIN_DIR ENDPOINT   (run by test_mcp.sh)
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const [bin, endpoint] = process.argv.slice(2);
const server = bin + "/specdex-mcp";
let failures = 0;

async function check(name, fn) {
  try {
    await fn();
    console.log("ok   " + name);
  } catch (e) {
    failures++;
    console.log("FAIL " + name + "\n" + (e.stack || e));
  }
}

async function connect(ep) {
  const client = new Client({ name: "specdex-test", version: "1.0.0" });
  const transport = new StdioClientTransport({
    command: server, args: ["--endpoint", ep, "--timeout", "300"],
    stderr: "inherit" });
  await client.connect(transport);
  return client;
}

// Every clause id a tool's text cites, "[5365/key-resp-06]".
const cited = (r) => [...r.content[0].text.matchAll(/\[([^\]\s]+\/[^\]\s]+)\]/g)]
  .map((m) => m[1]);

const client = await connect(endpoint);

await check("initialize: server info and the tools capability", async () => {
  assert.equal(client.getServerVersion().name, "specdex-mcp");
  assert.ok(client.getServerCapabilities().tools);
  assert.match(client.getInstructions(), /cite/i);
});

await check("tools/list: the eleven tools, each with a JSON Schema", async () => {
  const { tools } = await client.listTools();
  const names = tools.map((t) => t.name).sort();
  assert.deepEqual(names, ["context", "diff", "first", "fit", "gaps", "get",
                           "ladder", "row", "search", "series", "verify"]);
  for (const t of tools) {
    assert.equal(t.inputSchema.type, "object", t.name);
    assert.ok(t.description.length > 40, t.name);
    assert.ok(!("v" in t.inputSchema.properties), t.name);
  }
  const search = tools.find((t) => t.name === "search");
  assert.deepEqual(search.inputSchema.required, ["q"]);
  assert.equal(search.inputSchema.properties.levels.items.maximum, 5);
});

await check("search: text cites the ids of structuredContent's hits", async () => {
  const r = await client.callTool({ name: "search",
    arguments: { q: "root cause analysis", limit: 3 } });
  assert.equal(r.isError, false);
  const ids = r.structuredContent.hits.map((h) => h.id);
  assert.equal(ids[0], "5365/key-resp-06");
  assert.deepEqual(cited(r), ids);
});

await check("ladder: five levels, the row across them", async () => {
  const r = await client.callTool({ name: "ladder",
    arguments: { q: "root cause analysis" } });
  assert.equal(r.isError, false);
  const s = r.structuredContent;
  assert.deepEqual(s.ladder.map((l) => l.level), [1, 2, 3, 4, 5]);
  assert.equal(s.ladder[0].hit.id, "5365/key-resp-06");
  assert.equal(s.row, "Key Resp 06");
  assert.match(r.content[0].text, /^Level 1: \[5365\/key-resp-06\]/);
  for (const c of s.row_cells) assert.ok(cited(r).includes(c.id), c.id);
});

await check("row: every level of the row, cited", async () => {
  const r = await client.callTool({ name: "row",
    arguments: { row: "key resp 06" } });
  const cells = r.structuredContent.cells;
  assert.equal(cells.length, 5);
  assert.deepEqual(cited(r), cells.map((c) => c.id));
});

await check("get: a clause, and an id the index does not hold", async () => {
  const r = await client.callTool({ name: "get",
    arguments: { ids: ["5366/key-resp-06", "nope/nothing"] } });
  assert.equal(r.structuredContent.clauses[0].id, "5366/key-resp-06");
  assert.equal(r.structuredContent.clauses[1], null);
  assert.match(r.content[0].text, /\[nope\/nothing\] is not in the index/);
});

await check("context: passages with their citations", async () => {
  const r = await client.callTool({ name: "context",
    arguments: { q: "who does root cause analysis at level 1?" } });
  const p = r.structuredContent.passages;
  assert.ok(p.length >= 1);
  assert.equal(p[0].id, "5365/key-resp-06");
  assert.ok(r.content[0].text.includes(p[0].cite));
  assert.deepEqual(cited(r), p.map((x) => x.id));
});

await check("fit: the level, its supporting clauses cited", async () => {
  const r = await client.callTool({ name: "fit", arguments: {
    text: "Performs root cause analysis of clinical software issues" } });
  assert.equal(r.isError, false);
  const s = r.structuredContent;
  assert.equal(s.series, "Clinical Applications Professional 1-5 HX");
  const ids = s.levels.flatMap((l) => l.support.map((c) => c.id));
  assert.ok(ids.length > 0);
  assert.deepEqual(cited(r), ids);
});

await check("diff: each step between levels, both clauses cited", async () => {
  const r = await client.callTool({ name: "diff", arguments: { row: "key resp 06" } });
  const steps = r.structuredContent.steps;
  assert.equal(steps.length, 4);
  assert.deepEqual(cited(r), steps.flatMap((x) => [x.from_id, x.to_id]));
  assert.match(r.content[0].text, /^  \+ moderately-complex$/m);
});

await check("first: the lowest level, cited", async () => {
  const r = await client.callTool({ name: "first",
    arguments: { q: "root cause analysis" } });
  const rows = r.structuredContent.rows;
  assert.equal(rows[0].first, 1);
  assert.deepEqual(cited(r), rows.map((x) => x.first_id));
  assert.match(r.content[0].text, /first at level 1; every level above has it: no/);
});

await check("verify: verbatim or the closest, cited", async () => {
  let r = await client.callTool({ name: "verify", arguments: {
    text: "Performs root cause analysis", clause: "5366/key-resp-06" } });
  assert.equal(r.structuredContent.verbatim, true);
  assert.deepEqual(cited(r), r.structuredContent.matches.map((m) => m.id));
  r = await client.callTool({ name: "verify",
    arguments: { text: "Performs root causes analysis" } });
  assert.equal(r.structuredContent.verbatim, false);
  assert.match(r.content[0].text, /^Closest: \[5366\/key-resp-06\]/m);
});

await check("gaps: the rows the draft misses, cited", async () => {
  const r = await client.callTool({ name: "gaps", arguments: {
    text: "Troubleshoots clinical software. Writes reports.", level: 2,
    series: "Clinical Applications Professional 1-5 HX" } });
  const s = r.structuredContent;
  assert.ok(s.gaps.length > 0);
  assert.deepEqual(cited(r), [...s.gaps, ...s.covered].map((g) => g.id));
});

async function rejects(call, code, pattern) {
  await assert.rejects(call, (e) => {
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

await check("bad arguments: JSON-RPC invalid params, the daemon's words", async () => {
  await rejects(client.callTool({ name: "search", arguments: { q: 5 } }),
                -32602, /search: q: /);
  await rejects(client.callTool({ name: "search",
    arguments: { q: "x", levels: [7] } }), -32602, /levels\[0\]: 7 is out of range/);
  await rejects(client.callTool({ name: "search", arguments: {} }),
                -32602, /missing key "q"/);
  await rejects(client.callTool({ name: "nope", arguments: {} }),
                -32602, /unknown tool "nope"/);
});

await client.close();

await check("daemon down: a tool error, and the server lives on", async () => {
  const down = await connect("ipc:///nonexistent/specdex-test.sock");
  const r = await down.callTool({ name: "search", arguments: { q: "x" } });
  assert.equal(r.isError, true);
  assert.match(r.content[0].text, /could not answer \(timeout\)/);
  const again = await down.callTool({ name: "get", arguments: { ids: ["a/b"] } });
  assert.equal(again.isError, true);
  await down.close();
});

// Raw lines: what the SDK would never send.
await check("raw: not JSON, a batch, an unknown method, no jsonrpc", async () => {
  const p = spawn(server, ["--endpoint", endpoint], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = createInterface({ input: p.stdout });
  const replies = [];
  lines.on("line", (l) => replies.push(JSON.parse(l)));
  p.stdin.write("this is not json\n");
  p.stdin.write('[{"jsonrpc":"2.0","id":1,"method":"ping"}]\n');
  p.stdin.write('{"jsonrpc":"2.0","id":2,"method":"resources/list"}\n');
  p.stdin.write('{"id":3,"method":"ping"}\n');
  p.stdin.write('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
  p.stdin.write('{"jsonrpc":"2.0","id":"four","method":"ping"}\n');
  p.stdin.write("x".repeat(1024 * 1024 + 1) + "\n"); // past the line limit
  // A call of each kind, so that a sanitizer build's exit checks the
  // call path for leaks too.
  p.stdin.write('{"jsonrpc":"2.0","id":5,"method":"tools/call","params":' +
                '{"name":"ladder","arguments":{"q":"root cause"}}}\n');
  p.stdin.write('{"jsonrpc":"2.0","id":6,"method":"tools/call","params":' +
                '{"name":"get","arguments":{"ids":[]}}}\n');
  p.stdin.end();
  const code = await new Promise((res) => p.on("close", res));
  assert.equal(code, 0);
  assert.equal(replies.length, 8); // the notification gets no answer
  assert.deepEqual(replies.map((r) => r.error ? r.error.code : "ok"),
                   [-32700, -32600, -32601, -32600, "ok", -32600, "ok",
                    -32602]);
  assert.match(replies[5].error.message, /at most 1 MiB/);
  assert.match(replies[6].result.content[0].text, /^Level 1: \[5365\/key-resp-06\]/);
  assert.match(replies[7].error.message, /^get: ids: /);
  assert.equal(replies[0].id, null);
  assert.equal(replies[2].id, 2);
  assert.match(replies[2].error.message, /no method "resources\/list"/);
  assert.equal(replies[4].id, "four");
});

if (failures) {
  console.log(failures + " failed");
  process.exit(1);
}
console.log("test_mcp: all passed");
