import { redirect } from 'next/navigation';
import { requireSettings } from '@/lib/settings';

/** /c/[slug]/settings opens the first section the viewer may use. */
export default async function SettingsIndex({ params }: { params: Promise<{ slug: string }> }) {
  const { slug } = await params;
  const { community, sections } = await requireSettings(slug, null);
  redirect(`/c/${community.slug}/settings/${sections[0]}`);
}
