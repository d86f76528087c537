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
});
