/** What the runtime remembers of a conversation: enough to number its turns and name the last intent. */
export interface SessionTurn {
  turn: number;
  previousIntent?: string;
}

const SESSION_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Conversations by client-chosen id, bounded in count (the least recently used is forgotten first) and in
 * age, so ids sent by anyone cannot grow the runtime's memory.
 */
export class SessionStore {
  private readonly sessions = new Map<string, { turn: number; intent: string; at: number }>();

  constructor(
    private readonly maxSessions = 10_000,
    private readonly ttlMs = 30 * 60_000,
  ) {}

  static isValidId(id: string): boolean {
    return SESSION_ID.test(id);
  }

  /** Records a turn and returns it with the intent of the turn before (within the time to live). */
  record(id: string, intent: string, now = Date.now()): SessionTurn {
    const last = this.sessions.get(id);
    const live = last && now - last.at <= this.ttlMs ? last : undefined;
    this.sessions.delete(id);
    const turn = (live?.turn ?? 0) + 1;
    this.sessions.set(id, { turn, intent, at: now });
    if (this.sessions.size > this.maxSessions) this.sessions.delete(this.sessions.keys().next().value!);
    return { turn, ...(live ? { previousIntent: live.intent } : {}) };
  }

  get size(): number {
    return this.sessions.size;
  }
}
