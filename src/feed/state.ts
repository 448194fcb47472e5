// How current a feed's snapshot is, as /metrics reports it; the primary of `serve --workers`
// combines its workers' (cluster/primary.ts).
import type { ChangeFeed } from './change-feed.js';

export interface FeedState { ageSeconds: number; seq: number; lag: number; domains: number }

export function feedState(feed: ChangeFeed, now = Date.now()): FeedState {
  return {
    ageSeconds: feed.caughtUpAt ? (now - feed.caughtUpAt) / 1000 : -1,
    seq: feed.seq, lag: Math.max(0, feed.notifiedSeq - feed.seq), domains: feed.snapshot().domains.size,
  };
}

export function renderFeedState(f: FeedState): string {
  return [
    '# HELP glidepath_snapshot_age_seconds Seconds since the snapshot last caught up with the journal.',
    '# TYPE glidepath_snapshot_age_seconds gauge',
    `glidepath_snapshot_age_seconds ${f.ageSeconds}`,
    '# HELP glidepath_journal_seq Last journal sequence applied to the snapshot.',
    '# TYPE glidepath_journal_seq gauge',
    `glidepath_journal_seq ${f.seq}`,
    '# HELP glidepath_journal_lag Journal entries announced but not yet applied to the snapshot.',
    '# TYPE glidepath_journal_lag gauge',
    `glidepath_journal_lag ${f.lag}`,
    '# HELP glidepath_domains Domains served.',
    '# TYPE glidepath_domains gauge',
    `glidepath_domains ${f.domains}`,
    '',
  ].join('\n');
}
