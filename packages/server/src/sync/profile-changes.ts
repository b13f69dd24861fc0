import { EventEmitter } from 'node:events';

/** A stored profile change: the event that live streams to Studio and apps publish. */
export interface ProfileChanged {
  network: string;
  userId: string;
  version: number;
  changed: string[];
  at: number;
}

/** In-process publication of profile changes, emitted after they are committed. */
export class ProfileChanges extends EventEmitter<{ changed: [ProfileChanged] }> {}
