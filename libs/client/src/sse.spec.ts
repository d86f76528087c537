import { SseParser } from './sse';

describe('SseParser', () => {
  it('joins data lines, keeps the last id and names events, across chunk boundaries', () => {
    const parser = new SseParser();
    const text = 'id: 5\ndata: one\ndata: two\n\n: a comment\r\nevent: end\r\nid: 9\r\ndata:\r\n\r\n';
    const events = [];
    for (let index = 0; index < text.length; index += 3) events.push(...parser.push(text.slice(index, index + 3)));
    expect(events).toEqual([
      { event: 'message', data: 'one\ntwo', id: '5' },
      { event: 'end', data: '', id: '9' },
    ]);
    expect(parser.id).toBe('9');
  });

  it('keeps markup in data as plain text', () => {
    expect(new SseParser().push('data: <script>alert(1)</script>\n\n')).toEqual([{ event: 'message', data: '<script>alert(1)</script>', id: undefined }]);
  });

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

  it('keeps the last id for events that send none', () => {
    expect(new SseParser().push('id: 3\ndata: one\n\ndata:three\n\n')).toEqual([
      { event: 'message', id: '3', data: 'one' },
      { event: 'message', id: '3', data: 'three' },
    ]);
  });
});
