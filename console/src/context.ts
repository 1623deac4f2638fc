import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ApiClient, EnvironmentView } from './api/client.ts';
import type { Credentials } from './session.ts';

/** What every page of one environment is given (console/src/pages/index.ts). */
export interface PageProps {
  /** The environment the page is about, as the API shows it. */
  readonly environment: EnvironmentView;
  /** The API client for the signed-in credentials, acting in this environment. */
  readonly client: ApiClient;
  /** Puts a short message in the console's status region (aria-live), e.g. "Saved.". */
  readonly announce: (message: string) => void;
}

/** The signed-in session, for the few places that change it (sign out, a new API key). */
export interface Session {
  readonly credentials: Credentials;
  /** Replaces the credentials the console uses (after "Generate a new API key"). */
  readonly replaceCredentials: (credentials: Credentials) => void;
  readonly signOut: () => void;
  readonly announce: (message: string) => void;
}

export const SessionContext = createContext<Session | undefined>(undefined);

export function useSession(): Session {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in console');
  return session;
}
