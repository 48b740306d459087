/** Server-side gatekeeping for /c/[slug]/settings: who may open which section. */
import { cache } from 'react';
import { notFound, redirect } from 'next/navigation';
import { ClientError, MyPermissionsDocument } from '@circles/client';
import { loadCommunity, type CommunityView } from '@/lib/community';
import { allowedSections, type SettingsSection } from '@/lib/permissions';
import { getViewer, serverClient, type Viewer } from '@/lib/server-api';

/** The viewer's permissions in a community (or one of its spaces); empty for outsiders. */
export const loadPermissions = cache(async (communityId: string, spaceId?: string): Promise<string[]> => {
  try {
    return (await (await serverClient()).request(MyPermissionsDocument, { communityId, spaceId: spaceId ?? null })).myPermissions;
  } catch (err) {
    if (err instanceof ClientError && (err.code === 'UNAUTHENTICATED' || err.code === 'NOT_FOUND' || err.code === 'FORBIDDEN')) return [];
    throw err;
  }
});

export interface SettingsContext {
  community: CommunityView;
  viewer: Viewer;
  permissions: string[];
  sections: SettingsSection[];
}

/**
 * Settings are for managers: signed-out visitors are sent to log in and come back; anyone else who may not open
 * the section gets the same 404 as an address that does not exist (as with private communities and hidden
 * circles, the page never confirms what it will not show). Like Discord, a member sees only the sections their
 * permissions open.
 */
export async function requireSettings(slug: string, section: SettingsSection | null): Promise<SettingsContext> {
  const [community, viewer] = await Promise.all([loadCommunity(slug), getViewer()]);
  if (!viewer) redirect(`/login?next=${encodeURIComponent(`/c/${slug}/settings${section ? `/${section}` : ''}`)}`);
  if (!community || !community.viewerRole) notFound();
  const permissions = await loadPermissions(community.id);
  const sections = allowedSections(permissions);
  if (sections.length === 0 || (section && !sections.includes(section))) notFound();
  return { community, viewer, permissions, sections };
}

/** For a page's metadata: the section title with the community's name, or the generic 404 title. */
export async function settingsTitle(slug: string, section: string): Promise<string> {
  const community = await loadCommunity(slug);
  return community ? `${section} · ${community.name}` : section;
}
