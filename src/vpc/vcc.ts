/** The vcc: this compute node's VXLAN underlay endpoint. */
import { newId, type Id } from './ids.ts';
import { openHandle, VpcObject, type OpenMode } from './object.ts';

export class Vcc extends VpcObject {
  readonly type = 'vcc' as const;

  static create(id: Id = newId()): Vcc {
    return new Vcc(openHandle(id, 'vcc', 'create'), id);
  }

  static open(id: Id, mode: OpenMode = 'open'): Vcc {
    return new Vcc(openHandle(id, 'vcc', mode), id);
  }
}
