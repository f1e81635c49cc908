// The HTTP floor of the model server benchmark: a bare Fastify server whose POST /invocations parses
// the JSON body and answers MAST_BENCH_FLOOR_RESPONSE (the model server's answer to the same body),
// so that the difference to the model server is scoring itself. Listens on 127.0.0.1:MAST_PORT.
// With MAST_BENCH_FLOOR_MODEL (an .onnx file with one float input of shape [batch, n]) it also runs
// the model once per request on a fixed one-row input, through the model server's own onnxruntime
// session (synchronous, same options): the floor plus onnxruntime's cost per call, without MLflow's
// scoring path around it.
import Fastify from 'fastify';
import * as ort from 'onnxruntime-node';
import { loadOnnxruntimeSession } from '../dist/flavors/onnxruntime-session.js';

const response = process.env.MAST_BENCH_FLOOR_RESPONSE ?? '{}';
const modelPath = process.env.MAST_BENCH_FLOOR_MODEL;
const session = modelPath
  ? loadOnnxruntimeSession(modelPath, {
      executionProviders: ['cpu'],
      extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
    })
  : undefined;
const input = session?.inputs[0];
const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
app.get('/ping', async () => '\n');
app.post('/invocations', async (request, reply) => {
  JSON.parse(request.body);
  if (session) {
    const width = input.shape[1];
    session.run({
      [input.name]: new ort.Tensor('float32', new Float32Array(width).fill(1), [1, width]),
    });
  }
  return reply.type('application/json').send(response);
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.MAST_PORT) });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
