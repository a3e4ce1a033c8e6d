/**
 * Devices as Mautic keeps them (`lead_devices`): an integer id, the tracking id the
 * `mautic_device_id` cookie carries, the contact it counts for, and what the User-Agent said.
 * Reassigning a device is how a browser starts counting for another contact (docs/protocol.md §10.9, §11).
 */
import type { Device } from './types.js';
import { parseUserAgent } from './user-agent.js';

/** What the API may set on a device (`POST /api/devices/new`, `PATCH /api/devices/{id}/edit`). */
export type DeviceDetails = Partial<Pick<Device,
  'device' | 'deviceBrand' | 'deviceModel' | 'deviceOsName' | 'deviceOsShortName' | 'deviceOsVersion' | 'deviceOsPlatform'>>;

export class DeviceStore {
  private readonly byId = new Map<number, Device>();
  private readonly byTracking = new Map<string, Device>();
  private nextId = 1;

  constructor(private readonly now: () => string) {}

  /** A device with client info read from `userAgent` (none when it is empty). */
  create(contactId: number, trackingId: string | null, userAgent?: string, details: DeviceDetails = {}): Device {
    const device: Device = {
      id: this.nextId++,
      trackingId,
      contactId,
      createdAt: this.now(),
      clientInfo: null,
      device: null,
      deviceBrand: null,
      deviceModel: null,
      deviceOsName: null,
      deviceOsShortName: null,
      deviceOsVersion: null,
      deviceOsPlatform: null,
    };
    this.describe(device, userAgent);
    Object.assign(device, definedOnly(details));
    this.byId.set(device.id, device);
    if (trackingId !== null) this.byTracking.set(trackingId, device);
    return device;
  }

  /** Fills client info from a User-Agent once; a device keeps the first one it was seen with. */
  describe(device: Device, userAgent: string | undefined): void {
    if (device.clientInfo !== null) return;
    const parsed = parseUserAgent(userAgent);
    if (parsed) Object.assign(device, parsed);
  }

  get(id: number): Device | undefined {
    return this.byId.get(id);
  }

  byTrackingId(trackingId: string): Device | undefined {
    return this.byTracking.get(trackingId);
  }

  /** In id order. */
  list(): Device[] {
    return [...this.byId.values()];
  }

  forContact(contactId: number): Device[] {
    return this.list().filter((device) => device.contactId === contactId);
  }

  remove(device: Device): void {
    this.byId.delete(device.id);
    if (device.trackingId !== null) this.byTracking.delete(device.trackingId);
  }

  update(device: Device, details: DeviceDetails): void {
    Object.assign(device, definedOnly(details));
  }

  clear(): void {
    this.byId.clear();
    this.byTracking.clear();
    this.nextId = 1;
  }
}

function definedOnly(details: DeviceDetails): DeviceDetails {
  return Object.fromEntries(Object.entries(details).filter(([, value]) => value !== undefined)) as DeviceDetails;
}
