/**
 * `npm run audit:verify [-- <community-slug>]`: checks the hash-chained audit trail of one community (or all) in
 * the configured database (DATA_DIR's embedded database by default, or DATABASE_URL) and names the first record
 * that was altered or deleted. Exit code 0 when every chain is intact, 1 otherwise.
 */
import { createLogger, loadConfig, openDatabase } from '@circles/platform';
import { verifyChain } from '../audit.ts';
import { CommunityRepository, type CommunityDb } from '../repo.ts';

const slug = process.argv[2];
const config = loadConfig();
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log: createLogger('warn') });
const repo = new CommunityRepository(database.db as CommunityDb);
let broken = 0;
try {
  const communities = slug
    ? [await repo.bySlug(slug)].filter((c) => c !== undefined)
    : await database.db.selectFrom('community.communities').select(['id', 'slug']).orderBy('created_at').execute();
  if (slug && communities.length === 0) {
    console.error(`No community with the address "${slug}".`);
    process.exitCode = 2;
  }
  for (const c of communities) {
    const verdict = verifyChain(await repo.auditRecords(c.id, { order: 'asc' }), await repo.auditHead(c.id));
    if (verdict.valid) console.log(`ok       ${c.slug}: ${verdict.checked} records`);
    else {
      broken++;
      console.log(`TAMPERED ${c.slug}: ${verdict.reason} (first invalid record: ${verdict.firstInvalidSequence})`);
    }
  }
} finally {
  await database.close();
}
if (broken) process.exitCode = 1;
