/**
 * One path for every decision: the URL's path is put in a canonical form before routing, so
 * the router, authentication and the audit all see the same thing. Percent-encoded characters
 * are decoded (except those that would change the path's structure: `/`, `?`, `#`, `%` and
 * control characters), duplicate slashes collapse, `.` and `..` segments are resolved. Case is
 * left alone here: the router matches without regard to case (routerOptions.caseSensitive).
 *
 * @example canonicalUrl('//%76%31/./chat//completions?x=1') // '/v1/chat/completions?x=1'
 */
export function canonicalUrl(url: string): string {
  const q = url.indexOf('?');
  const rawPath = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? '' : url.slice(q);
  return canonicalPath(rawPath) + query;
}

/** Characters kept percent-encoded because decoding them would change what the path means. */
const KEEP_ENCODED = /^(?:2[fF]|3[fF]|23|25|[01][0-9a-fA-F]|7[fF])$/;

export function canonicalPath(rawPath: string): string {
  const decoded = rawPath.includes('%') ? decodeSafe(rawPath) : rawPath;
  const out: string[] = [];
  // Linear in the path's length: one split, one pass.
  for (const segment of decoded.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      out.pop();
      continue;
    }
    out.push(segment);
  }
  const trailing = decoded.length > 1 && decoded.endsWith('/') && out.length > 0 ? '/' : '';
  return `/${out.join('/')}${trailing}`;
}

/** Decodes %XX escapes one at a time; a malformed escape or invalid UTF-8 stays as written. */
function decodeSafe(path: string): string {
  return path.replace(/(?:%[0-9a-fA-F]{2})+/g, (run) => {
    // Escapes that would change the structure stay encoded (upper-cased, the RFC 3986 form).
    let result = '';
    let pending: string[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      const seq = `%${pending.join('%')}`;
      try {
        result += decodeURIComponent(seq);
      } catch {
        result += seq;
      }
      pending = [];
    };
    for (const b of run.slice(1).split('%')) {
      if (KEEP_ENCODED.test(b)) {
        flush();
        result += `%${b.toUpperCase()}`;
      } else {
        pending.push(b);
      }
    }
    flush();
    return result;
  });
}
