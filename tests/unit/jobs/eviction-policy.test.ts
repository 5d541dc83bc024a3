import {
  checkEvictionPolicy,
  EvictionPolicyError,
  readEvictionPolicy,
} from '../../../jobs/runtime';

// The shared test Redis must keep noeviction, so other policies and a disabled CONFIG are played
// by a stand-in answering like Redis does (CONFIG GET → [name, value], INFO → "key:value" lines).
function redisAnswering(
  policy: string,
  opts: { configDisabled?: boolean; infoDisabled?: boolean } = {},
) {
  const refuse = () => Promise.reject(new Error("ERR unknown command 'CONFIG'"));
  return {
    config: (() =>
      opts.configDisabled ? refuse() : Promise.resolve(['maxmemory-policy', policy])) as never,
    info: (() =>
      opts.infoDisabled
        ? refuse()
        : Promise.resolve(
            `# Memory\r\nused_memory:1000\r\nmaxmemory_policy:${policy}\r\n`,
          )) as never,
  };
}

function recorder() {
  const warnings: string[] = [];
  return { warnings, logger: { warn: (msg: string) => void warnings.push(msg) } as never };
}

describe('Redis eviction policy check at worker start', () => {
  it('when the policy is noeviction, then nothing is said', async () => {
    const { warnings, logger } = recorder();
    await checkEvictionPolicy(redisAnswering('noeviction'), 'production', logger);
    expect(warnings).toEqual([]);
  });

  it('when Redis may evict keys in production, then the worker refuses to start', async () => {
    const { logger } = recorder();
    await expect(
      checkEvictionPolicy(redisAnswering('allkeys-lru'), 'production', logger),
    ).rejects.toThrow(EvictionPolicyError);
  });

  it('when Redis may evict keys in development, then it only warns', async () => {
    const { warnings, logger } = recorder();
    await checkEvictionPolicy(redisAnswering('volatile-lru'), 'development', logger);
    expect(warnings).toEqual([expect.stringContaining('"volatile-lru"')]);
  });

  it('when CONFIG is disabled (managed Redis), then INFO gives the policy', async () => {
    expect(await readEvictionPolicy(redisAnswering('allkeys-lru', { configDisabled: true }))).toBe(
      'allkeys-lru',
    );
  });

  it('when neither CONFIG nor INFO answers, then production starts with a warning', async () => {
    const { warnings, logger } = recorder();
    await checkEvictionPolicy(
      redisAnswering('x', { configDisabled: true, infoDisabled: true }),
      'production',
      logger,
    );
    expect(warnings).toEqual([expect.stringContaining('make sure it is noeviction')]);
  });
});
