/** Paging the community directory, shared by its server page and the list's "Load more" in the browser. */
import type { CommunityDirectoryQuery } from '@circles/client';

export type DirectoryEntry = CommunityDirectoryQuery['communities'][number];

/** Communities per page; the API gives up to 1000, people read far fewer at a time. */
export const DIRECTORY_PAGE = 24;

/** A page is asked for one longer than shown: the extra one only says whether there is more. */
export function splitPage(communities: DirectoryEntry[]): { shown: DirectoryEntry[]; nextAfter: string | null } {
  const shown = communities.slice(0, DIRECTORY_PAGE);
  return { shown, nextAfter: communities.length > DIRECTORY_PAGE ? (shown[shown.length - 1]?.id ?? null) : null };
}
