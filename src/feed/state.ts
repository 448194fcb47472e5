// How current a feed's snapshot is, as /metrics reports it (src/metrics/collectors.ts); the primary
// of `serve --workers` combines its workers' (cluster/primary.ts).
import type { ChangeFeed } from './change-feed.js';

export interface FeedState { ageSeconds: number; seq: number; lag: number; domains: number }

export function feedState(feed: ChangeFeed, now = Date.now()): FeedState {
  return {
    ageSeconds: feed.caughtUpAt ? (now - feed.caughtUpAt) / 1000 : -1,
    seq: feed.seq, lag: Math.max(0, feed.notifiedSeq - feed.seq), domains: feed.snapshot().domains.size,
  };
}
