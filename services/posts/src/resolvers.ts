import type { RequestContext, Resolvers } from '@circles/platform';
import type { AttachmentRow, CommentRow, PostRow } from './repo.ts';
import { type CommentView, type PostsService, type PostView, Viewer } from './service.ts';

const lower = <T extends string>(v: string | null | undefined) => v?.toLowerCase() as T | undefined;

export function createPostsResolvers(svc: PostsService): Resolvers {
  const viewers = new WeakMap<RequestContext, Viewer>();
  const viewerOf = (ctx: RequestContext) => {
    let v = viewers.get(ctx);
    if (!v) viewers.set(ctx, (v = svc.viewer(ctx.identity)));
    return v;
  };
  const viewPost = async (row: PostRow, ctx: RequestContext) => {
    const view = await svc.view(row, viewerOf(ctx));
    // The writer just acted on it, so it is visible to them; a null here means access changed mid-request.
    if (!view) throw new Error('post not visible after write');
    return view;
  };
  const viewComment = async ({ comment, post }: { comment: CommentRow; post: PostRow }, ctx: RequestContext) =>
    svc.commentView(comment, await viewPost(post, ctx));
  const full = (v: PostView) => v.mode === 'full';
  const attachment = (view: PostView) => (a: AttachmentRow) => ({
    ...toAttachment(a),
    url: svc.fileUrl(view, a.id, a.kind === 'image' ? 'main' : 'original'),
    thumbUrl: a.has_thumb ? svc.fileUrl(view, a.id, 'thumb') : null,
  });

  return {
    Query: {
      feed: (_, args, ctx) =>
        svc.feed(viewerOf(ctx), {
          communityId: args.communityId,
          spaceId: args.spaceId,
          sort: lower<'new' | 'top' | 'active'>(args.sort) ?? 'new',
          period: lower<'day' | 'week' | 'all'>(args.period) ?? 'week',
          first: args.first,
          after: args.after,
        }),
      post: (_, { id }, ctx) => svc.post(id, viewerOf(ctx)),
      spaceFiles: async (_, args, ctx) => {
        const page = await svc.spaceFiles(viewerOf(ctx), { ...args, kind: lower(args.kind) });
        // Library links are signed like the post's own: public spaces long-lived, circles short-lived.
        const asView = { access: page.access } as PostView;
        return { ...page, files: page.files.map(attachment(asView)) };
      },
    },
    Mutation: {
      createPost: async (_, { input }, ctx) => viewPost(await svc.createPost(ctx.identity, input), ctx),
      updatePost: async (_, { id, input }, ctx) => viewPost(await svc.updatePost(ctx.identity, id, input), ctx),
      deletePost: async (_, { id }, ctx) => viewPost(await svc.deletePost(ctx.identity, id), ctx),
      removePost: async (_, { id, reason }, ctx) => viewPost(await svc.removePost(ctx.identity, id, reason), ctx),
      restorePost: async (_, { id }, ctx) => viewPost(await svc.restorePost(ctx.identity, id), ctx),
      pinPost: async (_, { id, pinned }, ctx) => viewPost(await svc.pinPost(ctx.identity, id, pinned), ctx),
      lockPost: async (_, { id, locked }, ctx) => viewPost(await svc.lockPost(ctx.identity, id, locked), ctx),
      votePoll: async (_, { postId, optionIds }, ctx) => viewPost(await svc.votePoll(ctx.identity, postId, optionIds), ctx),
      setPostReaction: async (_, { postId, emoji, reacted }, ctx) => viewPost(await svc.setPostReaction(ctx.identity, postId, emoji, reacted), ctx),
      createComment: async (_, { postId, parentId, body }, ctx) => {
        const comment = await svc.createComment(ctx.identity, postId, parentId, body);
        return viewComment({ comment, post: (await svc.repo.post(comment.post_id))! }, ctx);
      },
      updateComment: async (_, { id, body }, ctx) => viewComment(await svc.updateComment(ctx.identity, id, body), ctx),
      deleteComment: async (_, { id }, ctx) => viewComment(await svc.deleteComment(ctx.identity, id), ctx),
      removeComment: async (_, { id, reason }, ctx) => viewComment(await svc.removeComment(ctx.identity, id, reason), ctx),
      setCommentReaction: async (_, { commentId, emoji, reacted }, ctx) => viewComment(await svc.setCommentReaction(ctx.identity, commentId, emoji, reacted), ctx),
      markFeedSeen: (_, { communityId }, ctx) => svc.markFeedSeen(ctx.identity, communityId),
    },
    Post: {
      __resolveReference: async ({ id }: { id: string }, ctx: RequestContext) => svc.post(id, viewerOf(ctx)),
      id: (v: PostView) => v.row.id,
      community: (v: PostView) => ({ id: v.row.community_id }),
      communityId: (v: PostView) => v.row.community_id,
      space: (v: PostView) => ({ id: v.row.space_id }),
      spaceId: (v: PostView) => v.row.space_id,
      author: (v: PostView) => (v.mode === 'tombstone' ? null : { id: v.row.author_id }),
      title: (v: PostView) => (v.mode === 'tombstone' ? null : v.row.title),
      body: (v: PostView) => (full(v) ? v.row.body : null),
      bodyHtml: (v: PostView) => (full(v) ? v.row.body_html : null),
      excerpt: (v: PostView) => (v.mode === 'tombstone' ? '' : v.row.excerpt),
      status: (v: PostView) => v.row.status.toUpperCase(),
      removalReason: (v: PostView) => (full(v) ? v.row.removal_reason : null),
      accessible: (v: PostView) => v.mode !== 'teaser',
      public: (v: PostView) => v.access.public,
      mentions: (v: PostView) => (full(v) ? v.row.mentions.map((id) => ({ id })) : []),
      attachments: async (v: PostView) => (full(v) ? (await v.viewer.attachments(v.row.id)).map(attachment(v)) : []),
      poll: async (v: PostView) => {
        if (!full(v)) return null;
        const p = await v.viewer.poll(v.row.id);
        return p ? { ...p, view: v } : null;
      },
      pinned: (v: PostView) => v.row.pinned_at !== null,
      locked: (v: PostView) => v.row.locked,
      commentCount: (v: PostView) => v.row.comment_count,
      reactionCount: (v: PostView) => v.row.reaction_count,
      reactions: (v: PostView) => (v.mode === 'full' ? v.viewer.reactions(v.row.id) : []),
      reactors: async (v: PostView, { emoji, first }: { emoji: string; first?: number }) =>
        v.mode === 'full' ? (await svc.reactors(v.row.id, emoji, first)).map((id) => ({ id })) : [],
      revisions: async (v: PostView) =>
        (await svc.revisions(v)).map((r) => ({ title: r.title, body: r.body, replacedAt: r.replaced_at, editor: { id: r.editor_id } })),
      createdAt: (v: PostView) => v.row.created_at,
      editedAt: (v: PostView) => v.row.edited_at,
      lastActivityAt: (v: PostView) => v.row.last_activity_at,
      isNew: async (v: PostView) => {
        if (!v.viewer.userId || v.row.author_id === v.viewer.userId || v.mode === 'tombstone') return false;
        const seen = await v.viewer.lastVisit(v.row.community_id);
        return seen !== null && v.row.created_at > seen;
      },
      viewerCanEdit: async (v: PostView) =>
        v.row.author_id === v.viewer.userId && v.row.status === 'published' && (await v.viewer.can('post', v.row.community_id, v.row.space_id)),
      viewerCanDelete: (v: PostView) => v.row.author_id === v.viewer.userId && v.row.status !== 'deleted',
      viewerCanModerate: (v: PostView) => (v.viewer.userId ? svc.canModerate(v.row, v.viewer) : false),
      viewerCanComment: (v: PostView) => svc.mayComment(v),
      viewerCanReact: async (v: PostView) =>
        v.mode === 'full' && v.row.status === 'published' && v.viewer.userId !== null && (await v.viewer.can('comment', v.row.community_id, v.row.space_id)),
      comments: (v: PostView, args: { sort?: string; first?: number; after?: string }) =>
        svc.comments(v, { sort: lower<'oldest' | 'newest' | 'top'>(args.sort) ?? 'oldest', first: args.first, after: args.after }),
    },
    Poll: {
      question: (p: PollParent) => p.poll.question,
      multipleChoice: (p: PollParent) => p.poll.multiple_choice,
      closesAt: (p: PollParent) => p.poll.closes_at,
      closed: (p: PollParent) => p.poll.closes_at !== null && p.poll.closes_at <= new Date(),
      options: (p: PollParent) => p.options.map((o) => ({ id: o.id, label: o.label, votes: o.votes })),
      voterCount: (p: PollParent) => p.poll.voter_count,
      viewerVotes: (p: PollParent) => p.view.viewer.votes(p.view.row.id),
      viewerCanVote: async (p: PollParent) =>
        (p.poll.closes_at === null || p.poll.closes_at > new Date()) &&
        p.view.row.status === 'published' &&
        p.view.viewer.userId !== null &&
        (await p.view.viewer.can('comment', p.view.row.community_id, p.view.row.space_id)),
    },
    Comment: {
      id: (c: CommentView) => c.row.id,
      postId: (c: CommentView) => c.row.post_id,
      parentId: (c: CommentView) => c.row.parent_id,
      depth: (c: CommentView) => c.row.depth,
      author: (c: CommentView) => (c.tombstone ? null : { id: c.row.author_id }),
      body: (c: CommentView) => (c.tombstone ? null : c.row.body),
      bodyHtml: (c: CommentView) => (c.tombstone ? null : c.row.body_html),
      status: (c: CommentView) => c.row.status.toUpperCase(),
      removalReason: (c: CommentView) => (c.tombstone ? null : c.row.removal_reason),
      reactions: (c: CommentView) => (c.tombstone ? [] : c.post.viewer.reactions(c.row.id)),
      reactionCount: (c: CommentView) => c.row.reaction_count,
      reactors: async (c: CommentView, { emoji, first }: { emoji: string; first?: number }) =>
        c.tombstone ? [] : (await svc.reactors(c.row.id, emoji, first)).map((id) => ({ id })),
      createdAt: (c: CommentView) => c.row.created_at,
      editedAt: (c: CommentView) => c.row.edited_at,
      viewerCanEdit: (c: CommentView) => c.row.author_id === c.post.viewer.userId && c.row.status === 'published' && c.post.row.status === 'published',
      viewerCanDelete: (c: CommentView) => c.row.author_id === c.post.viewer.userId && c.row.status !== 'deleted',
      viewerCanModerate: (c: CommentView) => (c.post.viewer.userId ? svc.canModerate(c.post.row, c.post.viewer) : false),
      replies: (c: CommentView) => c.replies,
      replyCount: (c: CommentView) => c.row.reply_count,
    },
  } as Resolvers;
}

interface PollParent {
  poll: import('./repo.ts').PollRow;
  options: import('./repo.ts').PollOptionRow[];
  view: PostView;
}

function toAttachment(a: AttachmentRow) {
  return {
    id: a.id,
    name: a.name,
    contentType: a.content_type,
    kind: a.kind.toUpperCase(),
    bytes: Number(a.bytes),
    width: a.width,
    height: a.height,
    uploader: { id: a.uploader_id },
    postId: a.post_id,
    createdAt: a.created_at,
  };
}
