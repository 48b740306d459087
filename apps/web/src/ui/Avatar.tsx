import { locale } from '@/i18n';
import { IMAGE_SIZES, thumbUrl } from '@/lib/images';

/** The first letter of a name as people see it (an accented letter or an emoji stays whole). */
function initial(name: string): string {
  const first = new Intl.Segmenter(locale, { granularity: 'grapheme' }).segment(name.trim())[Symbol.iterator]().next().value?.segment;
  return first ? first.toLocaleUpperCase(locale) : '?';
}

/**
 * A community's picture at a small size, or its initial on a tinted square when it has none. Always shown beside
 * the community's name, so it is decorative (empty alt, hidden initial): the name already says whose it is. Width
 * and height are set so the page does not shift when the image arrives.
 */
export function CommunityAvatar({ name, url, size = 40, lazy = true }: { name: string; url: string | null | undefined; size?: number; lazy?: boolean }) {
  if (url) {
    // The 96x96 stored size is sharp enough for every place this is used; the 512 one is for link previews.
    return <img className="c-avatar" src={size <= 96 ? thumbUrl(url) : url} alt="" width={size} height={size} loading={lazy ? 'lazy' : undefined} decoding="async" />;
  }
  return (
    <span className="c-avatar c-avatar--initial" aria-hidden="true" style={{ width: size, height: size, fontSize: Math.round(size * 0.45) }}>
      {initial(name)}
    </span>
  );
}

/** A circle's picture in a list, beside its name: decorative (the name is the link). */
export function CircleThumb({ url }: { url: string }) {
  const { width, height } = IMAGE_SIZES.CIRCLE_IMAGE.thumb;
  return <img className="c-circle-thumb" src={thumbUrl(url)} alt="" width={width} height={height} loading="lazy" decoding="async" />;
}
