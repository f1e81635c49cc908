import { describe, expect, test } from '@jest/globals';
import { contentDisposition, guessContentType } from './download-headers.js';

describe('download content type (MLflow _guess_mime_type)', () => {
  test.each([
    ['a.txt', 'text/plain'],
    ['dir/b.pkl', 'application/octet-stream'],
    ['c.png', 'image/png'],
    ['d.pdf', 'application/pdf'],
    ['model/MLmodel', 'text/plain'],
    ['mlproject', 'text/plain'],
    ['MLproject', 'application/octet-stream'],
    ['conda.yaml', 'text/plain'],
    ['metrics.json', 'text/plain'],
    ['script.js', 'text/plain'],
    ['requirements.txt', 'text/plain'],
    ['page.html', 'text/html'],
    ['noext', 'application/octet-stream'],
    ['.txt', 'application/octet-stream'],
    ['archive.tar.gz', 'application/x-tar'],
    ['weights.gz', 'application/octet-stream'],
    ['IMAGE.PNG', 'image/png'],
  ])('%s → %s', (path, type) => expect(guessContentType(path)).toBe(type));
});

describe('download disposition (Werkzeug send_file as attachment)', () => {
  test.each([
    ['model/MLmodel', 'attachment; filename=MLmodel'],
    ['images/dog+step+20+timestamp+100+ab12.png', 'attachment; filename=dog+step+20+timestamp+100+ab12.png'],
    ['loss%step%0.png', 'attachment; filename=loss%step%0.png'],
    ['report data.json', 'attachment; filename="report data.json"'],
    ['say "hi".txt', 'attachment; filename="say \\"hi\\".txt"'],
    [
      'report data ü.json',
      `attachment; filename="report data u.json"; filename*=UTF-8''report%20data%20u%CC%88.json`.replace(
        'u%CC%88',
        '%C3%BC',
      ),
    ],
    ['模型.onnx', `attachment; filename=.onnx; filename*=UTF-8''%E6%A8%A1%E5%9E%8B.onnx`],
  ])('%s', (path, header) => expect(contentDisposition(path)).toBe(header));
});
