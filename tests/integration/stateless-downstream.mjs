// A downstream MCP server of the stateless era (2026-07-28) over Streamable HTTP, built on
// the official server SDK v2 (@modelcontextprotocol/server): createMcpHandler serving
// modern traffic only (legacy: 'reject', so that an initialize is refused), behind
// node:http. Tools: echo, add (with progress), and secret. Every POST it receives is
// appended, with its headers, as one JSON line to the file named by its first argument;
// it listens on 127.0.0.1 at the port given second (0 picks one) and prints
// "listening on PORT" once it does.
import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');
const { McpServer, createMcpHandler } = await import(
  join(ROOT, 'tools/node_modules/@modelcontextprotocol/server/dist/index.mjs'));
const { z } = await import(join(ROOT, 'tools/node_modules/zod/index.js'));

const [log, port = '0'] = process.argv.slice(2);

function factory() {
  const server = new McpServer({ name: 'stateless-test-downstream', version: '1.0.0' });
  server.registerTool('echo', {
    description: 'Echoes the message back.',
    inputSchema: z.object({ message: z.string() }),
  }, async ({ message }) => ({ content: [{ type: 'text', text: `stateless echo: ${message}` }] }));
  server.registerTool('add', {
    description: 'Adds two numbers, reporting progress once per addend.',
    inputSchema: z.object({ a: z.number(), b: z.number() }),
  }, async ({ a, b }, ctx) => {
    const token = ctx.mcpReq?._meta?.progressToken;
    for (let i = 1; token !== undefined && i <= 2; i++) {
      await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: 2 } });
      // Apart from the result, so that a client handles each before the result ends the call.
      await new Promise((r) => setTimeout(r, 100));
    }
    return { content: [{ type: 'text', text: String(a + b) }] };
  });
  server.registerTool('secret', {
    description: 'Returns a secret.',
    inputSchema: z.object({}),
  }, async () => ({ content: [{ type: 'text', text: 'the secret' }] }));
  return server;
}

const handler = createMcpHandler(factory, { legacy: 'reject', onerror: () => {} });

const http = createServer(async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  if (log) appendFileSync(log, JSON.stringify({ method: req.method, headers: req.headers,
    body: body.length ? JSON.parse(body.toString('utf8')) : null }) + '\n');
  const request = new Request(`http://${req.headers.host}${req.url}`, {
    method: req.method, headers: req.headers, body: ['GET', 'HEAD'].includes(req.method) ? undefined : body,
  });
  const response = await handler.fetch(request);
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (response.body) {
    const reader = response.body.getReader();
    res.on('close', () => reader.cancel().catch(() => {}));
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true }));
      if (done) break;
      res.write(value);
    }
  }
  res.end();
});
http.listen(Number(port), '127.0.0.1', () => console.log(`listening on ${http.address().port}`));
process.on('SIGTERM', () => { handler.close().finally(() => process.exit(0)); });
