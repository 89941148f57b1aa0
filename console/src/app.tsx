/**
 * The app shell: who is signed in (GET /admin/v1/session), the navigation their role allows,
 * and the page for the current path. Reviewers see only the review queue; auditors see read-only
 * pages; a page a role may not use is not linked and answers "not available for your role".
 */
import { createContext, useContext, useEffect, useRef, useState, type ReactNode } from 'react';
import { admin, ApiError, call, onUnauthenticated, setCsrfToken, type AdminRole, type Session } from './api';
import { Loading, ErrorState } from './components/states';
import { Link, navigate, usePath } from './router';
import { SignIn } from './pages/sign-in';
import { OverviewPage } from './pages/overview';
import { ReviewsPage } from './pages/reviews';
import { AuditPage } from './pages/audit';
import { SpendPage } from './pages/spend';
import { TenantsPage } from './pages/tenants';
import { PoliciesPage } from './pages/policies';
import { ProvidersPage } from './pages/providers';

interface PageDef {
  path: string;
  label: string;
  roles: AdminRole[];
  render: (rest: string) => ReactNode;
}

export const PAGES: PageDef[] = [
  { path: '/overview', label: 'Overview', roles: ['admin', 'auditor'], render: () => <OverviewPage /> },
  { path: '/reviews', label: 'Review queue', roles: ['admin', 'reviewer'], render: (rest) => <ReviewsPage selected={rest || null} /> },
  { path: '/audit', label: 'Audit', roles: ['admin', 'auditor'], render: (rest) => <AuditPage selected={rest || null} /> },
  { path: '/spend', label: 'Spend', roles: ['admin', 'auditor'], render: () => <SpendPage /> },
  { path: '/tenants', label: 'Tenants & keys', roles: ['admin'], render: () => <TenantsPage /> },
  { path: '/policies', label: 'Policies', roles: ['admin', 'auditor'], render: () => <PoliciesPage /> },
  { path: '/providers', label: 'Providers', roles: ['admin', 'auditor'], render: () => <ProvidersPage /> },
];

const SessionContext = createContext<Session | null>(null);

/** The signed-in principal; pages use it for read-only rendering and scope. */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a session');
  return s;
}

export function canWrite(session: Session): boolean {
  return session.principal.role === 'admin';
}

function home(role: AdminRole): string {
  return PAGES.find((p) => p.roles.includes(role))!.path;
}

export function App() {
  const path = usePath();
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [error, setError] = useState<Error | null>(null);

  const load = () => {
    setError(null);
    admin<Session>('/session', { quietUnauthenticated: true }).then(
      (s) => {
        setCsrfToken(s.csrf_token);
        setSession(s);
      },
      (err: Error) => {
        if (err instanceof ApiError && err.status === 401) setSession(null);
        else setError(err);
      },
    );
  };
  useEffect(load, []);
  useEffect(() => onUnauthenticated(() => setSession(null)), []);

  if (error) return <main className="centered"><ErrorState error={error} retry={load} /></main>;
  if (session === undefined) return <main className="centered"><Loading label="Opening the console…" /></main>;
  if (session === null || path === '/sign-in') {
    return (
      <SignIn
        onSignedIn={(s) => {
          setCsrfToken(s.csrf_token);
          setSession(s);
          // Back where the user was (a deep link, or the page whose session expired), if their role may see it.
          const here = PAGES.find((p) => path === p.path || path.startsWith(`${p.path}/`));
          if (!here || !here.roles.includes(s.principal.role)) navigate(home(s.principal.role), { replace: true });
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <Shell
        session={session}
        path={path}
        onSignOut={async () => {
          try {
            await call('/console/auth/logout', { method: 'POST' });
          } finally {
            setCsrfToken(null);
            setSession(null);
            navigate('/sign-in', { replace: true });
          }
        }}
      />
    </SessionContext.Provider>
  );
}

function Shell({ session, path, onSignOut }: { session: Session; path: string; onSignOut: () => void }) {
  const role = session.principal.role;
  const allowed = PAGES.filter((p) => p.roles.includes(role));
  const page = PAGES.find((p) => path === p.path || path.startsWith(`${p.path}/`));
  const [menuOpen, setMenuOpen] = useState(false);
  const first = useRef(true);

  useEffect(() => {
    if (path === '/' || !page) navigate(home(role), { replace: true });
  }, [path, page, role]);
  // After a navigation (not the first render), focus the new page's heading for screen readers.
  useEffect(() => {
    setMenuOpen(false);
    if (first.current) {
      first.current = false;
      return;
    }
    document.getElementById('page-title')?.focus({ preventScroll: false });
  }, [page?.path]);

  const who = session.principal.name ?? session.principal.id;
  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">OmegaEngine</span>
        <button type="button" className="menu-toggle" aria-expanded={menuOpen} aria-controls="primary-nav" onClick={() => setMenuOpen((o) => !o)}>
          Menu
        </button>
        <div className="whoami">
          <span>
            {who} <span className={`role role-${role}`}>{role}</span>
            {session.principal.tenant ? <span className="scope"> · tenant {session.principal.tenant}</span> : null}
          </span>
          <button type="button" className="secondary" onClick={onSignOut}>
            Sign out
          </button>
        </div>
      </header>
      <nav id="primary-nav" aria-label="Main" className={menuOpen ? 'open' : ''}>
        <ul>
          {allowed.map((p) => (
            <li key={p.path}>
              <Link to={p.path} aria-current={page?.path === p.path ? 'page' : undefined}>
                {p.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {page && page.roles.includes(role) ? (
          page.render(path.slice(page.path.length + 1))
        ) : page ? (
          <>
            <h1 id="page-title" tabIndex={-1}>
              {page.label}
            </h1>
            <ErrorState error={new ApiError(`The ${page.label} page is not available to the ${role} role.`, 403, 'admin_forbidden')} />
          </>
        ) : (
          <Loading />
        )}
      </main>
    </div>
  );
}
