import fs from 'node:fs';
import path from 'node:path';

/**
 * The project's package.json, found by walking up from this file: from the sources (server/lib)
 * and from a build (dist/server/lib, or any outDir inside the project) alike.
 */
function findPackageJson(from: string = __dirname): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file) && JSON.parse(fs.readFileSync(file, 'utf8')).name === 'aller-vers')
      return file;
    if (path.dirname(dir) === dir) throw new Error(`No aller-vers package.json above ${from}`);
  }
}

/** The version shown in the API documentation, read once at load. */
export const APP_VERSION: string = JSON.parse(fs.readFileSync(findPackageJson(), 'utf8')).version;
