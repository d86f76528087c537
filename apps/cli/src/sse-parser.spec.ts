import { SseParser } from './sse-parser';

describe('SseParser', () => {
  it('reads events split anywhere, with \\n, \\r\\n or \\r line ends, comments and named events', () => {
    const stream = ': keep-alive\n\nid: 5\ndata: {"text":"a"}\n\r\nid: 9\r\ndata: {"text":"b"}\r\rid: 12\nevent: end\ndata: {"status":"completed"}\n\n';
    for (const size of [1, 2, 7, stream.length]) {
      const parser = new SseParser();
      const events = [];
      for (let at = 0; at < stream.length; at += size) events.push(...parser.push(stream.slice(at, at + size)));
      expect(events).toEqual([
        { event: 'message', id: '5', data: '{"text":"a"}' },
        { event: 'message', id: '9', data: '{"text":"b"}' },
        { event: 'end', id: '12', data: '{"status":"completed"}' },
      ]);
    }
  });

  it('joins multi-line data and keeps the last id for events that send none', () => {
    const parser = new SseParser();
    expect(parser.push('id: 3\ndata: one\ndata: two\n\ndata:three\n\n')).toEqual([
      { event: 'message', id: '3', data: 'one\ntwo' },
      { event: 'message', id: '3', data: 'three' },
    ]);
  });
});
