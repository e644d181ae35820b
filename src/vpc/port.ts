// SPDX-License-Identifier: BSD-2-Clause
/** A switch port opened by its own id (ports are made by Switch.addPort). */
import { type Id } from './ids.ts';
import { openHandle, VpcObject } from './object.ts';

export class Port extends VpcObject {
  readonly type = 'port' as const;

  static open(id: Id): Port {
    return new Port(openHandle(id, 'port', 'open'), id);
  }
}
