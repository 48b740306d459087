/**
 * Live messages' files (apps/web/src/lib/chat.ts): a frame's attachments carry links signed for everyone it reaches,
 * so the UI shows them as they come (kind in the API's spelling) and asks the API only for a file without a link.
 */
import { describe, expect, it } from 'vitest';
import { fromWire, needsLinks } from '../../apps/web/src/lib/chat.ts';
import type { WireMessage } from '../../apps/web/src/lib/chat-socket.ts';

const file = { id: 'f1', name: 'map.png', contentType: 'image/png', kind: 'image', bytes: 10, width: 40, height: 20, url: '/media/f1?sig=a', thumbUrl: '/media/f1/thumb?sig=a' };
const message = (attachments: WireMessage['attachments']): WireMessage => ({ id: 'm1', channelId: 'ch', seq: 1, authorId: 'u1', clientId: 'c1-abcdefgh', body: '', replyToId: null, createdAt: new Date().toISOString(), editedAt: null, deleted: false, attachments });

describe('files on live messages', () => {
  it("uses the frame's signed links, with the kind in the API's spelling", () => {
    const m = fromWire(message([file]), 'u2');
    expect(m.attachments).toEqual([{ ...file, kind: 'IMAGE' }]);
    expect(needsLinks(message([file]))).toBe(false);
  });

  it('asks the API only for a file without a link, keeping the links already shown meanwhile', () => {
    const unsigned = { ...file, url: null, thumbUrl: null };
    expect(needsLinks(message([unsigned]))).toBe(true);
    const shown = fromWire(message([file]), 'u2');
    expect(fromWire(message([unsigned]), 'u2', shown).attachments[0]!.url).toBe('/media/f1?sig=a');
    expect(fromWire(message([{ ...file, kind: 'strange' }]), 'u2').attachments[0]!.kind).toBe('OTHER');
  });
});
