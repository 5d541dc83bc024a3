import request from 'supertest';
import { createTestContext, type TestContext } from '../../setup/context';

describe('OpenAPI document', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestContext();
  });
  afterAll(async () => ctx.close());

  it('is served at /api/docs and lists every endpoint of the contract with its body schema', async () => {
    const res = await request(ctx.app).get('/api/docs');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toBe('3.1.0');
    const paths = res.body.paths as Record<string, Record<string, unknown>>;
    for (const [path, method] of [
      ['/api/session', 'post'],
      ['/api/session', 'delete'],
      ['/api/me', 'get'],
      ['/api/persons', 'get'],
      ['/api/persons', 'post'],
      ['/api/persons/{id}', 'get'],
      ['/api/persons/{id}', 'patch'],
      ['/api/persons/{id}/timeline', 'get'],
      ['/api/persons/{id}/contacts', 'post'],
      ['/api/persons/{id}/follow-ups', 'post'],
      ['/api/follow-ups', 'get'],
      ['/api/follow-ups/{id}', 'patch'],
      ['/api/notifications', 'get'],
      ['/api/notifications/{id}/read', 'post'],
    ]) {
      expect(paths[path]?.[method]).toBeDefined();
    }
    const createPerson = paths['/api/persons'].post as {
      requestBody: {
        content: { 'application/json': { schema: { properties: Record<string, unknown> } } };
      };
    };
    expect(
      Object.keys(createPerson.requestBody.content['application/json'].schema.properties),
    ).toEqual(expect.arrayContaining(['alias', 'firstName', 'source', 'situation', 'referentId']));
  });
});
