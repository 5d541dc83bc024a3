import { truncateAll } from './db';

// Every test file starts from empty tables (the schema is migrated once by the global setup).
beforeAll(async () => {
  await truncateAll();
});
