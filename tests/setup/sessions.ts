import type { loginAs } from './context';
import { testKnex } from './db';

type Agent = Awaited<ReturnType<typeof loginAs>>;

/** The session id a signed `av.sid` cookie value carries (`s:<id>.<signature>`). */
export const sessionIdOf = (cookieValue: string) =>
  decodeURIComponent(cookieValue).replace(/^s:/, '').split('.')[0];

/** The id of the server session an agent's cookie names. */
export function agentSessionId(agent: Agent): string {
  const cookie = agent.jar.getCookie('av.sid', {
    path: '/',
    domain: '127.0.0.1',
    secure: false,
    script: false,
  });
  return sessionIdOf(cookie!.value);
}

/** Ends a session as the idle timeout would: the server forgets it. Returns the rows removed. */
export async function endSession(sid: string): Promise<number> {
  return testKnex()('sessions').where({ sid }).del();
}

/** What the server keeps in an agent's session. */
export async function storedSession(agent: Agent) {
  const row = await testKnex()('sessions')
    .where({ sid: agentSessionId(agent) })
    .first('sess');
  return (typeof row.sess === 'string' ? JSON.parse(row.sess) : row.sess) as {
    keptForm?: { values: Record<string, string> };
    passport?: unknown;
    csrfToken?: string;
  };
}
