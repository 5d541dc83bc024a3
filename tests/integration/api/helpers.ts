import type { Express } from 'express';
import type request from 'supertest';
import { testKnex } from '../../setup/db';

export type Agent = ReturnType<typeof request.agent>;

/** Creates a person through the API and returns its body; fails loudly otherwise. */
export async function createPerson(
  agent: Agent,
  body: Record<string, unknown> = {},
): Promise<{ id: string; version: number } & Record<string, unknown>> {
  const res = await agent
    .post('/api/persons')
    .send({ alias: 'Personne test', source: 'outreach', ...body });
  if (res.status !== 201)
    throw new Error(`person creation failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** The value of the session cookie set by a response, as a Cookie header. */
export function sessionCookie(res: { headers: Record<string, unknown> }): string {
  const raw = res.headers['set-cookie'] as string[] | string | undefined;
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  const found = list.find((c) => c.startsWith('av.sid='));
  if (!found) throw new Error('no session cookie in the response');
  return found.split(';')[0];
}

/** Audit rows about a subject, oldest first. */
export async function auditRows(where: Record<string, unknown>) {
  return testKnex()('audit_events').where(where).orderBy('id');
}

export type App = Express;
