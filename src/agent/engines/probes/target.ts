/**
 * A probe as the patcher sees it: a PatchTarget whose "place" is a function inside a
 * module's source rather than a property.
 *
 * The patcher keeps one Site per target, with the hooks of every session tracing it,
 * and installs the site's wrapper when the first hook arrives and the original when the
 * last one leaves. For a probe, installing the wrapper means arming the probe (its
 * breakpoints then run that site's hooks through the trampoline) and installing the
 * original means disarming it; the wrapper itself is never called. So sessions use
 * probes through the very same path as wrappers: one probe per function however many
 * sessions trace it, and a session's stop removes only its own hooks.
 */
import type { Engine } from '../../../protocol/events.js';
import { siteOfWrapper, type PatchTarget } from '../../patcher/site.js';
import { probeEngine, type ProbeSubject } from './engine.js';
import type { LocatedKind } from '../../source/locate.js';

export class ProbeTarget implements PatchTarget, ProbeSubject {
  readonly key = 'probe';
  readonly engine: Engine = 'probe';
  readonly url: string;
  readonly path: string;
  readonly kind: LocatedKind;
  /** Stands for the probed function, which the engine never holds. */
  private readonly placeholder: Function;
  private installed: Function;

  constructor(url: string, path: string, kind: LocatedKind) {
    this.url = url;
    this.path = path;
    this.kind = kind;
    this.placeholder = function probed(): void {};
    this.installed = this.placeholder;
  }

  /** The function the patcher sees for this probe (its parameters are declared for redaction). */
  get subject(): Function {
    return this.placeholder;
  }

  get holder(): object {
    return this;
  }

  read(): unknown {
    return this.installed;
  }

  write(value: Function): boolean {
    const site = siteOfWrapper(value);
    if (site !== undefined && site.target === this) {
      if (!probeEngine.arm(this, site)) return false;
    } else {
      probeEngine.disarm(this);
    }
    this.installed = value;
    return true;
  }

  failure(): string | undefined {
    return probeEngine.lastFailure;
  }

  unpatchable(): string | undefined {
    if (this.kind === 'generator') return 'a generator function: its body starts at the first next(), not at the call';
    return undefined;
  }
}
