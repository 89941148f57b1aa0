/**
 * Sign-in: an admin token (POST /console/auth/token sets the http-only session cookie), or the
 * configured OpenID Connect provider (a plain link: the browser goes through the provider and
 * comes back to /console/ with the cookie set). The token never stays in the page.
 */
import { useEffect, useId, useState, type FormEvent } from 'react';
import { call, type AuthConfig, type Session } from '../api';
import { useSearch, usePageTitle } from '../router';

export function SignIn({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  usePageTitle('Sign in');
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [config, setConfig] = useState<AuthConfig | null>(null);
  const search = useSearch();
  const oidcError = search.get('error');
  const tokenId = useId();
  const errorId = useId();

  useEffect(() => {
    call<AuthConfig>('/console/auth/config', { quietUnauthenticated: true }).then(setConfig, () => setConfig({ oidc: { enabled: false } }));
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!token.trim()) {
      setError('Enter an admin token.');
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const session = await call<Session>('/console/auth/token', { method: 'POST', body: { token: token.trim() }, quietUnauthenticated: true });
      setToken('');
      onSignedIn(session);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" className="sign-in">
      <div className="card sign-in-card">
        <h1 id="page-title" tabIndex={-1}>
          Sign in to OmegaEngine
        </h1>
        {oidcError && (
          <p className="notice notice-error" role="alert">
            Sign-in with your identity provider failed: {search.get('error_description') ?? oidcError}
          </p>
        )}
        {config?.oidc.enabled && (
          <>
            <a className="button primary block" href="/console/auth/oidc/login">
              Sign in with {config.oidc.name ?? 'your identity provider'}
            </a>
            <p className="divider">
              <span>or use an admin token</span>
            </p>
          </>
        )}
        <form onSubmit={submit} noValidate>
          <label htmlFor={tokenId}>Admin token</label>
          <input
            id={tokenId}
            name="token"
            type="password"
            autoComplete="current-password"
            spellCheck={false}
            value={token}
            onChange={(e) => setToken(e.target.value)}
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? errorId : undefined}
          />
          {error && (
            <p id={errorId} className="field-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className={config?.oidc.enabled ? 'secondary block' : 'primary block'} disabled={busy}>
            {busy ? 'Signing in…' : 'Sign in with token'}
          </button>
        </form>
      </div>
    </main>
  );
}
