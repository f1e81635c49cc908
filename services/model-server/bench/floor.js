// The HTTP floor of the model server benchmark: a bare Fastify server whose POST /invocations parses
// the JSON body and answers MAST_BENCH_FLOOR_RESPONSE (the model server's answer to the same body),
// so that the difference to the model server is scoring itself. Listens on 127.0.0.1:MAST_PORT.
import Fastify from 'fastify';

const response = process.env.MAST_BENCH_FLOOR_RESPONSE ?? '{}';
const app = Fastify({ logger: false });
app.removeAllContentTypeParsers();
app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));
app.get('/ping', async () => '\n');
app.post('/invocations', async (request, reply) => {
  JSON.parse(request.body);
  return reply.type('application/json').send(response);
});
await app.listen({ host: '127.0.0.1', port: Number(process.env.MAST_PORT) });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
