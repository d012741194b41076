/** What the page needs: where the service is, and the session token it was handed. */
export interface PageSettings {
  readonly serviceUrl: string;
  readonly token: string | undefined;
}

/**
 * loadPageSettings reads the service URL from this site's config.json and the
 * session token from the URL fragment (#token=…). A fragment never reaches a
 * server or a Referer; it is cleared from the address bar once read, so the
 * token is not left in history or bookmarks.
 */
export async function loadPageSettings(): Promise<PageSettings> {
  const config = (await (await fetch("./config.json")).json()) as { serviceUrl: string };
  const token = new URLSearchParams(location.hash.slice(1)).get("token") ?? undefined;
  if (location.hash) history.replaceState(null, "", location.pathname + location.search);
  return { serviceUrl: config.serviceUrl, token };
}
