import type { Request } from 'express';
import { routeOf } from './route-label';
import { requestIdFrom } from './request-id';

const request = (route?: string) => ({ route: route === undefined ? undefined : { path: route } }) as unknown as Request;

describe('route labels and request ids', () => {
  it('labels a request by its route template, a mount by its prefix, and anything else as unmatched', () => {
    expect(routeOf(request('/jobs/:id/status'), '/jobs/abc/status')).toBe('/jobs/:id/status');
    expect(routeOf(request('/api/queues'), '/admin/queues/api/queues')).toBe('/admin/queues/*');
    expect(routeOf(request(), '/assets/index-123.js')).toBe('/assets/*');
    expect(routeOf(request(), '/docs/swagger-ui.css')).toBe('/docs/*');
    expect(routeOf(request(), '/')).toBe('/');
    expect(routeOf(request(), '/wp-login.php')).toBe('unmatched');
    expect(routeOf(request(), '/docsx')).toBe('unmatched');
  });

  it('reuses a short id of safe characters and makes a UUID otherwise', () => {
    expect(requestIdFrom('abc-123_x.y:z')).toBe('abc-123_x.y:z');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    for (const bad of [undefined, '', 'a b', 'x'.repeat(65), 'line\nbreak', '"quoted"', ['one', 'two']]) expect(requestIdFrom(bad)).toMatch(uuid);
  });
});
