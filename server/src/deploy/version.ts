/**
 * The server package's version, for image tags and the gateway's metadata. Read here rather than
 * from serving/service, whose imports (preprocessing, data frames) a gateway has no use for.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export const SERVER_VERSION: string = (() => {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'unknown';
  }
})();
