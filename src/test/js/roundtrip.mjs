// The official openai npm client (v4) against a running gateway whose tier is a simulated vLLM
// server (src/test/java/.../sim/SimulatedBackend): chat whole and streamed, a tool-call round
// trip whole and streamed, embeddings. Run by OpenAiNodeClientIT (the Maven build), which sets
//   GATEWAY_URL  e.g. http://127.0.0.1:18451
//   GATEWAY_KEY  a device key
// Prints one line per check and exits non-zero at the first failure.
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const client = new OpenAI({
  baseURL: `${process.env.GATEWAY_URL}/v1`,
  apiKey: process.env.GATEWAY_KEY,
  maxRetries: 0,
  timeout: 30_000,
});

const tools = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather now at a place',
    parameters: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] },
  },
}];

async function check(name, fn) {
  await fn();
  console.log(`ok ${name}`);
}

await check('chat', async () => {
  const r = await client.chat.completions.create({
    model: 'edge', max_tokens: 4, messages: [{ role: 'user', content: 'hello there' }],
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.role, 'assistant');
  assert.equal(r.choices[0].message.content, 'hello0 hello1 hello2 hello3');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.ok(r.usage.total_tokens > 0);
});

await check('chat stream', async () => {
  const stream = await client.chat.completions.create({
    model: 'edge', max_tokens: 3, stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'stream please' }],
  });
  let text = '';
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    if (chunk.usage) usage = chunk.usage;
    const c = chunk.choices[0];
    if (!c) continue;
    text += c.delta?.content ?? '';
    finish = c.finish_reason ?? finish;
  }
  assert.equal(text, 'stream0 stream1 stream2');
  assert.equal(finish, 'length');
  assert.ok(usage && usage.completion_tokens === 3, JSON.stringify(usage));
});

// The whole round trip: the model calls the tool, the client runs it and sends the result back.
async function secondTurn(messages, assistant) {
  const call = assistant.tool_calls[0];
  const next = [...messages, assistant, { role: 'tool', tool_call_id: call.id, content: '-3 C, snow' }];
  const r = await client.chat.completions.create({ model: 'edge', max_tokens: 2, tools, messages: next });
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.choices[0].message.content, 'weather0 weather1', 'the answer after the tool result is text');
}

await check('tool call round trip', async () => {
  const messages = [{ role: 'user', content: 'weather in Oslo' }];
  const r = await client.chat.completions.create({ model: 'edge', max_tokens: 16, tools, tool_choice: 'auto', messages });
  const choice = r.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.equal(choice.message.content, null);
  const call = choice.message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { text: 'weather in Oslo' });
  await secondTurn(messages, choice.message);
});

await check('tool call round trip, streamed', async () => {
  const messages = [{ role: 'user', content: 'weather in Bergen' }];
  // The SDK's own stream helper assembles the tool-call deltas (index, id, name, argument pieces).
  const runner = client.beta.chat.completions.stream({ model: 'edge', max_tokens: 16, tools, messages });
  let fragments = 0;
  runner.on('chunk', (chunk) => { fragments += chunk.choices[0]?.delta?.tool_calls?.length ?? 0; });
  const done = await runner.finalChatCompletion();
  const choice = done.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  assert.ok(fragments > 2, `the call came in pieces (${fragments})`);
  const call = choice.message.tool_calls[0];
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { text: 'weather in Bergen' });
  await secondTurn(messages, { role: 'assistant', content: choice.message.content ?? null, tool_calls: choice.message.tool_calls });
});

await check('embeddings', async () => {
  // The SDK asks for base64 and decodes it itself when no encoding_format is given.
  const r = await client.embeddings.create({ input: ['pump maintenance', 'oil change'] });
  assert.equal(r.object, 'list');
  assert.equal(r.data.length, 2);
  assert.equal(r.data[1].index, 1);
  assert.equal(r.data[0].embedding.length, 384);
  const norm = Math.sqrt(r.data[0].embedding.reduce((s, x) => s + x * x, 0));
  assert.ok(Math.abs(norm - 1) < 1e-3, `unit vectors (${norm})`);
  const f = await client.embeddings.create({ input: 'oil change', encoding_format: 'float' });
  assert.ok(Math.abs(f.data[0].embedding[0] - r.data[1].embedding[0]) < 1e-6, 'float and base64 agree');
});

await check('errors', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'edge', messages: [{ role: 'user', content: 'x' }], functions: [{ name: 'f' }] }),
    (e) => e instanceof OpenAI.BadRequestError && e.param === 'functions',
  );
});

console.log('all ok');
