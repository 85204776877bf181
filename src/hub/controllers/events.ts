// Events a decision function asks the shell to record on the object it reconciled (core/v1 Event type + reason).
export const EventType = {
  Normal: 'Normal',
  Warning: 'Warning',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];

export interface ControllerEvent {
  type: EventType;
  /** CamelCase; see ScheduleReason. */
  reason: string;
  message: string;
}
