/**
 * What the stand-in received, plus the change bus that `subscribe` and `waitFor` listen to.
 * Records are kept internally and handed out as copies, so callers can never corrupt them.
 */
import type { RecordedApiCall, RecordedHit, RecordedRequest, StandinChange } from './types.js';

type Listener = (change: StandinChange) => void;

export class ChangeBus {
  private readonly listeners = new Set<Listener>();

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(change: StandinChange): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change);
      } catch {
        // A faulty dashboard listener must not break request handling.
      }
    }
  }
}

export class Recorder {
  private hitList: RecordedHit[] = [];
  private requestList: RecordedRequest[] = [];
  private apiCallList: RecordedApiCall[] = [];
  private hitSeq = 0;
  private requestSeq = 0;
  private apiSeq = 0;

  constructor(
    private readonly bus: ChangeBus,
    private readonly limit: number,
  ) {}

  nextHitSeq(): number {
    this.hitSeq += 1;
    return this.hitSeq;
  }

  addRequest(request: Omit<RecordedRequest, 'seq'>): RecordedRequest {
    this.requestSeq += 1;
    const recorded: RecordedRequest = { seq: this.requestSeq, ...request };
    this.requestList.push(recorded);
    trim(this.requestList, this.limit);
    this.bus.emit({ type: 'request', request: structuredClone(recorded) });
    return recorded;
  }

  addHit(hit: RecordedHit): void {
    this.hitList.push(hit);
    trim(this.hitList, this.limit);
    this.bus.emit({ type: 'hit', hit: structuredClone(hit) });
  }

  addApiCall(call: Omit<RecordedApiCall, 'seq'>): void {
    this.apiSeq += 1;
    const recorded: RecordedApiCall = { seq: this.apiSeq, ...call };
    this.apiCallList.push(recorded);
    trim(this.apiCallList, this.limit);
    this.bus.emit({ type: 'api', call: structuredClone(recorded) });
  }

  /** A merge moves the loser's hits to the winner (Mautic re-points them). */
  reassignHits(fromContactId: number, toContactId: number): void {
    for (const hit of this.hitList) {
      if (hit.contactId === fromContactId) hit.contactId = toContactId;
    }
  }

  /** A browser switched contacts: the hits made with its old device now count for the new one. */
  reassignDeviceHits(deviceId: string, toContactId: number): void {
    for (const hit of this.hitList) {
      if (hit.deviceId === deviceId) hit.contactId = toContactId;
    }
  }

  hitCountFor(contactId: number): number {
    return this.hitList.filter((hit) => hit.contactId === contactId).length;
  }

  get hits(): RecordedHit[] {
    return structuredClone(this.hitList);
  }

  get requests(): RecordedRequest[] {
    return structuredClone(this.requestList);
  }

  get apiCalls(): RecordedApiCall[] {
    return structuredClone(this.apiCallList);
  }

  clear(): void {
    this.hitList = [];
    this.requestList = [];
    this.apiCallList = [];
    this.hitSeq = 0;
    this.requestSeq = 0;
    this.apiSeq = 0;
  }
}

function trim<T>(list: T[], limit: number): void {
  if (list.length > limit) list.splice(0, list.length - limit);
}
